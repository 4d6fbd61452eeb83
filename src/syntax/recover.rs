//! Recovery from the two slips a newcomer makes most: a missing `;` and a
//! `{` that is never closed. Both are read with the rule the error recovery
//! already uses (see [`super::scan::next_sync_point`]): a line that starts
//! with a name in column 0 starts a new top-level declaration.
//!
//! - A declaration whose arguments run on into such a line, with a bare
//!   name there (what a kind looks like), parses (the grammar lets
//!   arguments span lines), but it is two declarations with the `;` between
//!   them missing. [`split_merged`] cuts it before that
//!   line and reports the missing `;`, so the second declaration is read
//!   on its own and the first keeps its name (no follow-on errors).
//! - A body left open swallows the rest of the file and fails at its end.
//!   [`unclosed_brace`] reports the `{` that is not closed and the driver
//!   reads the declaration again as if its body ended before the next such
//!   line, so it still declares its name.

use super::ast::{Arg, Decl, ExprKind, Item};
use super::scan;
use crate::diag::{Code, Diagnostic};
use crate::span::{FileId, Span};

/// Whether `at` starts a line with a name in column 0.
fn starts_unindented_line(text: &str, at: usize) -> bool {
    at > 0
        && text.as_bytes().get(at - 1) == Some(&b'\n')
        && text
            .as_bytes()
            .get(at)
            .is_some_and(|b| b.is_ascii_alphabetic() || *b == b'_')
}

/// If the top-level declaration `item` runs on into an unindented line,
/// cuts it before that line and returns where the line starts (the next
/// item begins there) and the diagnostic for the missing `;`.
pub(crate) fn split_merged(
    file: FileId,
    text: &str,
    item: &mut Item,
) -> Option<(usize, Diagnostic)> {
    let Item::Decl(d) = item else { return None };
    let cut = d
        .args
        .iter()
        .filter_map(|a| match a {
            Arg::Positional(e) if matches!(e.kind, ExprKind::Name(_)) => {
                Some(e.span.start as usize)
            }
            _ => None,
        })
        .find(|&s| starts_unindented_line(text, s))?;
    truncate_head(d, cut);
    let end = d.span.end as usize;
    let found = scan::describe_token(text, cut);
    let diag = Diagnostic::new(
        Code::Syntax,
        format!("expected `;` at the end of the declaration, found {found} on the next line"),
        Span::new(file, end, end),
        "`;` missing here",
    )
    .with_label(
        Span::new(file, cut, scan::token_end(text, cut)),
        "a new declaration starts here",
    )
    .with_help("end every declaration with `;` (or a `{ }` body); a line that starts in column 0 starts a new declaration");
    Some((cut, diag))
}

/// Drops every part of the head at or after `cut`, and the body.
fn truncate_head(d: &mut Decl, cut: usize) {
    let before = |span: Span| (span.start as usize) < cut;
    d.subjects.retain(|s| before(s.span));
    if let Some(params) = &mut d.params {
        params.retain(|p| before(p.span));
    }
    if d.value.as_ref().is_some_and(|v| !before(v.span)) {
        d.value = None;
    }
    d.args.retain(|a| before(a.span()));
    d.body = None;
    let mut end = d.kind.span.end;
    let ends = d
        .subjects
        .iter()
        .map(|s| s.span.end)
        .chain(d.params.iter().flatten().map(|p| p.span.end))
        .chain(d.value.iter().map(|v| v.span.end))
        .chain(d.args.iter().map(|a: &Arg| a.span().end));
    for e in ends {
        end = end.max(e);
    }
    d.span = Span::new(d.span.file, d.span.start as usize, end as usize);
}

/// For an item that failed at the end of its input (`at`) with a `{` still
/// open, the diagnostic at that `{`, and where the body most likely ended:
/// the next unindented line after the brace (the end of the text if none).
pub(crate) fn unclosed_brace(
    file: FileId,
    text: &str,
    item_start: usize,
    at: usize,
) -> Option<(Diagnostic, usize)> {
    let rest = text.get(at..)?;
    if !rest.trim().is_empty() || scan::unterminated_string(text, item_start, at).is_some() {
        return None;
    }
    // The outermost: the declaration's own body, which the next unindented
    // line shows to have ended (an inner one is as likely as not the one).
    let open = scan::open_brackets(&text[..at], item_start);
    let &brace = open.iter().find(|&&o| text.as_bytes()[o] == b'{')?;
    let resume = scan::next_sync_point(text, brace + 1);
    let mut diag = Diagnostic::new(
        Code::Syntax,
        "this `{` is never closed",
        Span::new(file, brace, brace + 1),
        "opened here, not closed",
    )
    .with_help("add the matching `}` at the end of the body");
    if resume < text.len() {
        diag = diag.with_label(
            Span::new(file, resume, scan::token_end(text, resume)),
            "the next declaration starts here",
        );
    }
    Some((diag, resume))
}

/// The texts to read again, in turn, as the declaration at `start` whose
/// body is cut at `end`: with the missing `}` added, else its head alone
/// ended with `;` (when the body has errors of its own). Each text is
/// `text[start..]` up to some point, then added closing characters.
pub(crate) fn patched(text: &str, start: usize, end: usize) -> Vec<String> {
    let open = scan::open_brackets(&text[..end], start);
    let mut out = Vec::new();
    if !open.is_empty() && open.iter().all(|&o| text.as_bytes()[o] == b'{') {
        out.push(format!("{}{}", &text[start..end], "}".repeat(open.len())));
    }
    if let Some(&brace) = open.first() {
        out.push(format!("{};", &text[start..brace]));
    }
    out
}

/// Moves every span that reaches past `end` (a body's closing `}` that was
/// added, not written) back to `end`.
pub(crate) fn clamp(item: &mut Item, end: u32) {
    let fix = |s: &mut Span| {
        s.end = s.end.min(end);
        s.start = s.start.min(s.end);
    };
    match item {
        Item::Attr(a) => fix(&mut a.span),
        Item::Decl(d) => {
            fix(&mut d.span);
            if let Some(body) = &mut d.body {
                fix(&mut body.span);
                for inner in &mut body.items {
                    clamp(inner, end);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unindented_line_start() {
        let t = "vm a e2\nservice b;\n  x";
        assert!(starts_unindented_line(t, 8));
        assert!(!starts_unindented_line(t, 0));
        assert!(!starts_unindented_line(t, 21));
    }

    #[test]
    fn only_a_bare_name_in_column_0_starts_a_declaration() {
        let parse = |t: &str| crate::syntax::parse(FileId(0), t);
        let (ast, diags) = parse("vm web e2-small\nservice app image=\"x\";\n");
        assert_eq!((ast.items.len(), diags.len()), (2, 1));
        for t in [
            "vm web e2-small\nswarm=manager;\n",
            "vm web e2-small\n  service;\n",
            "vm web\n\"e2-small\";\n",
        ] {
            let (ast, diags) = parse(t);
            assert_eq!((ast.items.len(), diags.len()), (1, 0), "{t:?}");
        }
    }

    #[test]
    fn an_unterminated_string_is_not_taken_for_an_open_brace() {
        let (_, diags) = crate::syntax::parse(FileId(0), "vm a e2 {\n  env X = \"\"\"abc\n");
        assert_eq!(diags.len(), 1);
        assert_eq!(diags[0].code, Code::UnterminatedString);
        let (_, diags) = crate::syntax::parse(FileId(0), "vm a e2 {\n  env X = \"abc\";\n");
        assert_eq!(diags[0].message, "this `{` is never closed");
    }

    #[test]
    fn patched_closes_braces_or_ends_the_head() {
        let t = "vm a {\n  volume v {\n";
        assert_eq!(
            patched(t, 0, t.len()),
            vec![format!("{t}}}}}"), "vm a ;".into()]
        );
        assert_eq!(patched("let x = [1,", 0, 11), vec!["let x = ;".to_string()]);
    }
}
