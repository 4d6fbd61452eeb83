//! The pest parser and the driver that recovers from syntax errors.
//!
//! pest stops at the first error, so the driver parses one top-level item at
//! a time. When an item fails, the error is turned into a diagnostic that
//! says in words what was expected, and parsing resumes at the next line
//! that starts a declaration in column 0. Bracket nesting is bounded before
//! pest sees the text, so no input can overflow the stack.

use pest::Parser as _;
use pest::error::{ErrorVariant, InputLocation};

use super::ast::{Comment, Item, SourceAst};
use super::lower::Lowerer;
use super::recover;
use super::scan::{self, Trivia};
use crate::diag::{Code, Diagnostic};
use crate::span::{FileId, Span};

#[derive(pest_derive::Parser)]
#[grammar = "../grammar/sdb.pest"]
pub(crate) struct SdbParser;

/// Deepest bracket nesting accepted: far beyond any real program, far below
/// what would threaten the stack.
pub const MAX_NESTING: usize = 32;

/// Parse a whole file: every item that parses, every comment, and one
/// diagnostic per syntax error. A large file is parsed on several threads
/// (see [`super::chunks`]); the result is the same.
pub fn parse(file: FileId, text: &str) -> (SourceAst, Vec<Diagnostic>) {
    assemble(super::chunks::parse_steps(file, text, None))
}

/// [`parse`] on `chunks` threads whatever the file's size (for tests).
pub fn parse_in_chunks(file: FileId, text: &str, chunks: usize) -> (SourceAst, Vec<Diagnostic>) {
    assemble(super::chunks::parse_steps(file, text, Some(chunks)))
}

/// What parsing from one position produced: the trivia there, then one
/// item or one syntax error. Its outcome depends only on the text from
/// `start` on (and, for an item, only on `start..reads_to`) and on the
/// nesting limits, which is what lets [`super::reparse`] reuse it.
#[derive(Debug, Clone)]
pub(crate) struct Step {
    /// Where the step began (before its leading trivia).
    pub start: usize,
    /// Where the next step begins.
    pub end: usize,
    /// Past the last byte the outcome can depend on (see [`reads_to`]).
    /// May lie past the end of the text: the end being there matters too.
    pub reads_to: usize,
    pub item: Option<Item>,
    pub comments: Vec<Comment>,
    pub diags: Vec<Diagnostic>,
}

/// A margin past the last byte a step is known to read.
const PEEK: usize = 4;

/// Past the last byte the outcome of parsing `item` (ending at `end`) can
/// depend on. A declaration ends with `;` or `}`, after which the grammar
/// tries nothing, and no alternative tried inside it can read past that
/// final token: only strings and comments contain a `;` or `}`, and they
/// are the same tokens in every alternative. An attribute line (an error
/// at the top level) ends with an expression that the text after it may
/// extend (`x = a` then `\n.b`, or `< "..."` read and rejected), so it
/// depends on the rest of the text, as an error does.
fn reads_to(item: Option<&Item>, end: usize, text: &str) -> usize {
    match item {
        Some(Item::Decl(_)) => end + PEEK,
        _ => text.len() + PEEK,
    }
}

/// The parse position and the bracket nesting limits ahead of it.
pub(crate) struct Cursor {
    pub pos: usize,
    too_deep: Vec<usize>,
}

impl Cursor {
    pub fn new(text: &str) -> Cursor {
        init_pest();
        Cursor {
            pos: 0,
            too_deep: scan::too_deep_positions(text, MAX_NESTING),
        }
    }

    /// A cursor at `pos` of a text in which no bracket nests past the
    /// limit (one whose [`Cursor::new`] says not [`Cursor::nests_too_deep`]).
    pub fn at_shallow(pos: usize) -> Cursor {
        init_pest();
        Cursor {
            pos,
            too_deep: Vec::new(),
        }
    }

    /// Whether some bracket in the text opens deeper than [`MAX_NESTING`].
    pub fn nests_too_deep(&self) -> bool {
        !self.too_deep.is_empty()
    }

    /// Parses the next item (or error) from `pos`; `None` at the end.
    pub fn step(&mut self, file: FileId, text: &str) -> Option<Step> {
        let start = self.pos;
        let mut comments = Vec::new();
        let pos = skip_trivia(file, text, start, &mut comments);
        if pos >= text.len() {
            self.pos = text.len();
            if comments.is_empty() {
                return None;
            }
            return Some(Step {
                start,
                end: text.len(),
                reads_to: text.len() + PEEK,
                item: None,
                comments,
                diags: Vec::new(),
            });
        }
        let limit = self.too_deep.iter().copied().find(|&d| d >= pos);
        let input = &text[pos..limit.unwrap_or(text.len())];
        let mut step = match SdbParser::parse(Rule::top_item, input) {
            Ok(mut pairs) => {
                let top = pairs.next().expect("top_item always yields its own pair");
                let item_end = pos + top.as_span().end();
                let mut lowerer = Lowerer::new(file, pos);
                let mut item = lowerer.top_item(top);
                let (inner_comments, mut diags) = lowerer.finish();
                comments.extend(inner_comments);
                let reads = reads_to(item.as_ref(), item_end, text);
                let mut end = item_end.max(pos + 1);
                if let Some((cut, diag)) = item
                    .as_mut()
                    .and_then(|i| recover::split_merged(file, text, i))
                {
                    end = cut;
                    diags.retain(|d| (d.primary.span.start as usize) < cut);
                    diags.push(diag);
                }
                Step {
                    start,
                    end,
                    reads_to: reads,
                    item,
                    comments,
                    diags,
                }
            }
            Err(plain) => {
                let (diag, resume, unclosed) = self.error(file, text, pos, limit, input, plain);
                let mut diags = vec![diag];
                let item = unclosed
                    .then(|| salvage(file, text, pos, resume, &mut comments, &mut diags))
                    .flatten();
                Step {
                    start,
                    end: resume,
                    reads_to: text.len() + PEEK,
                    item,
                    comments,
                    diags,
                }
            }
        };
        step.end = step.end.min(text.len());
        self.pos = step.end;
        Some(step)
    }

    /// The diagnostic for an item that failed to parse, where to resume, and
    /// whether it failed for a `{` left open (see [`salvage`]).
    fn error(
        &mut self,
        file: FileId,
        text: &str,
        pos: usize,
        limit: Option<usize>,
        input: &str,
        plain: pest::error::Error<Rule>,
    ) -> (Diagnostic, usize, bool) {
        let err = detailed_error(input, plain);
        let err_pos = pos + error_offset(&err);
        let diag = match limit {
            Some(deep) if err_pos >= deep.saturating_sub(1) => nesting_diag(file, deep),
            None => match recover::unclosed_brace(file, text, pos, err_pos) {
                Some((diag, resume)) => return (diag, resume.max(pos + 1), true),
                None => syntax_diag(file, text, pos, err_pos, &err),
            },
            _ => syntax_diag(file, text, pos, err_pos, &err),
        };
        let too_deep_here = limit.filter(|&d| err_pos >= d.saturating_sub(1));
        let resume_from = too_deep_here.unwrap_or(err_pos);
        let resume = scan::next_sync_point(text, resume_from.max(pos + 1));
        if too_deep_here.is_some() {
            // Brackets left open by the skipped text do not count
            // against what follows: measure again from here.
            self.too_deep = scan::too_deep_positions(&text[resume..], MAX_NESTING)
                .into_iter()
                .map(|d| d + resume)
                .collect();
        }
        (diag, resume, false)
    }
}

/// After an unclosed `{` (see [`recover::unclosed_brace`]), the
/// declaration read again as if its bodies closed at `resume`, so that it
/// still declares its name; `None` if that does not parse either.
fn salvage(
    file: FileId,
    text: &str,
    pos: usize,
    resume: usize,
    comments: &mut Vec<Comment>,
    diags: &mut Vec<Diagnostic>,
) -> Option<Item> {
    let parses = |patched: &String| {
        SdbParser::parse(Rule::top_item, patched)
            .ok()
            .and_then(|mut pairs| pairs.next())
            .is_some_and(|top| top.as_span().end() == patched.len())
    };
    let patched = recover::patched(text, pos, resume)
        .into_iter()
        .find(parses)?;
    let top = SdbParser::parse(Rule::top_item, &patched).ok()?.next()?;
    let mut lowerer = Lowerer::new(file, pos);
    let mut item = lowerer.top_item(top)?;
    let (inner_comments, inner_diags) = lowerer.finish();
    recover::clamp(&mut item, u32::try_from(resume).unwrap_or(u32::MAX));
    comments.extend(inner_comments);
    diags.extend(inner_diags);
    Some(item)
}

/// The syntax tree and diagnostics of a file parsed as `steps`.
pub(crate) fn assemble(steps: impl IntoIterator<Item = Step>) -> (SourceAst, Vec<Diagnostic>) {
    let mut ast = SourceAst::default();
    let mut diags = Vec::new();
    for step in steps {
        ast.items.extend(step.item);
        ast.comments.extend(step.comments);
        diags.extend(step.diags);
    }
    ast.comments.sort_by_key(|c| c.span.start);
    ast.comments.dedup_by_key(|c| c.span.start);
    (ast, diags)
}

fn init_pest() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        // A bound on work per item: no input can make the parser hang.
        pest::set_call_limit(std::num::NonZeroUsize::new(50_000_000));
    });
}

/// Parses a failing item again with pest's error detail on, which records
/// every token tried (the words of our messages) but makes parsing several
/// times slower, so it is on only here. The switch is process-wide: the
/// lock keeps concurrent re-parses from turning it off under each other.
fn detailed_error(input: &str, plain: pest::error::Error<Rule>) -> pest::error::Error<Rule> {
    static DETAIL: std::sync::Mutex<()> = std::sync::Mutex::new(());
    let _guard = DETAIL.lock().unwrap_or_else(|p| p.into_inner());
    pest::set_error_detail(true);
    let result = SdbParser::parse(Rule::top_item, input);
    pest::set_error_detail(false);
    // Parsing is deterministic, so it fails again; keep the plain error if not.
    result.err().unwrap_or(plain)
}

fn skip_trivia(file: FileId, text: &str, pos: usize, comments: &mut Vec<Comment>) -> usize {
    let mut pos = pos;
    while let Some(t) = scan::trivia_at(text, pos) {
        if let Trivia::Comment(end) = t {
            comments.push(Comment {
                text: text[pos..end].trim_end().to_string(),
                span: Span::new(file, pos, end),
            });
        }
        pos = t.end();
    }
    pos
}

fn error_offset(err: &pest::error::Error<Rule>) -> usize {
    match err.location {
        InputLocation::Pos(p) => p,
        InputLocation::Span((s, _)) => s,
    }
}

fn nesting_diag(file: FileId, at: usize) -> Diagnostic {
    Diagnostic::new(
        Code::NestingTooDeep,
        format!("brackets nested more than {MAX_NESTING} deep"),
        Span::new(file, at, at + 1),
        "too deep here",
    )
    .with_help("flatten the value: no declaration needs this much nesting")
}

fn syntax_diag(
    file: FileId,
    text: &str,
    item_start: usize,
    at: usize,
    err: &pest::error::Error<Rule>,
) -> Diagnostic {
    if let Some(open) = scan::unterminated_string(text, item_start, at) {
        let end = text[open..].find('\n').map_or(text.len(), |n| open + n);
        return Diagnostic::new(
            Code::UnterminatedString,
            "unterminated string",
            Span::new(file, open, end),
            "this string has no closing `\"`",
        )
        .with_help(
            "close the string with `\"` on the same line; use `\\\"` for a quote inside it",
        );
    }
    let expected = expected_words(err);
    let found = scan::describe_token(text, at);
    let (message, help) = phrase(&expected, &found);
    let end = scan::token_end(text, at);
    Diagnostic::new(
        Code::Syntax,
        message,
        Span::new(file, at, end),
        format!("unexpected {found}"),
    )
    .with_help(help)
}

/// What the parser wanted, in words, deduplicated and sorted.
fn expected_words(err: &pest::error::Error<Rule>) -> Vec<&'static str> {
    let mut words = Vec::new();
    if let Some(attempts) = err.parse_attempts() {
        for token in attempts.expected_tokens() {
            words.push(token_word(&token.to_string()));
        }
        for stack in attempts.call_stacks() {
            if let Some(r) = stack.deepest.get_rule() {
                words.push(rule_word(*r));
            }
        }
    }
    if let ErrorVariant::ParsingError { positives, .. } = &err.variant {
        words.extend(positives.iter().map(|r| rule_word(*r)));
    }
    words.retain(|w| !w.is_empty());
    words.sort_unstable();
    words.dedup();
    words
}

fn token_word(token: &str) -> &'static str {
    match token {
        ";" => "`;`",
        "{" => "`{`",
        "}" => "`}`",
        "(" => "`(`",
        ")" => "`)`",
        "[" => "`[`",
        "]" => "`]`",
        "=" => "`=`",
        "," => "`,`",
        ":" => "`:`",
        "\"" => "a string",
        "${" => "",
        _ => "",
    }
}

fn rule_word(rule: Rule) -> &'static str {
    match rule {
        Rule::semi => "`;`",
        Rule::block => "`{`",
        Rule::ident | Rule::key | Rule::kind | Rule::name | Rule::subject | Rule::subjects => {
            "a name"
        }
        Rule::param | Rule::params => "a parameter",
        Rule::expr
        | Rule::or_expr
        | Rule::and_expr
        | Rule::cmp_expr
        | Rule::unary
        | Rule::postfix
        | Rule::paren
        | Rule::list
        | Rule::map
        | Rule::call
        | Rule::string
        | Rule::int
        | Rule::float
        | Rule::size
        | Rule::duration
        | Rule::bad_unit
        | Rule::cidr
        | Rule::ip
        | Rule::port_map
        | Rule::port_spec
        | Rule::boolean
        | Rule::positional_arg
        | Rule::decl_value => "a value",
        Rule::map_entry => "a map entry",
        Rule::decl | Rule::attr | Rule::top_item => "a declaration",
        Rule::cmp_op | Rule::and_op | Rule::or_op | Rule::not_op => "an operator",
        _ => "",
    }
}

fn phrase(expected: &[&str], found: &str) -> (String, String) {
    let has = |w: &str| expected.contains(&w);
    if has("`;`") && has("`{`") {
        return (
            format!("expected `;` or `{{` after the declaration, found {found}"),
            String::from("end the declaration with `;`, or open its body with `{`"),
        );
    }
    let list = match expected {
        [] => String::from("something else"),
        [one] => (*one).to_string(),
        [init @ .., last] => format!("{} or {last}", init.join(", ")),
    };
    let help = if has("a declaration") {
        "a declaration looks like `KIND NAME ARGS;`, e.g. `vm web[2] e2-standard-2;`"
    } else if has("`}`") {
        "every `{` needs a matching `}`"
    } else if has("a value") {
        "a value is a number, string, size (`20GB`), list, map, name or call"
    } else {
        "see docs/language.md for the syntax"
    };
    (format!("expected {list}, found {found}"), help.to_string())
}
