//! Lowering pest pairs into the typed AST: the only place that sees pest
//! pairs and the only place that makes spans from pest positions.
//!
//! The grammar guarantees the shape of each pair, so a missing child is a
//! bug in the grammar, not in the input; such places say why with
//! `expect`. Literal values (numbers, ports, sizes) are checked here and
//! reported as diagnostics rather than trusted.

use pest::iterators::Pair;

use super::ast::*;
use super::parser::Rule;
use crate::diag::{Code, Diagnostic};
use crate::span::{FileId, Span};

/// The units of a size and their factors: the one list of them (the
/// grammar's `size_unit` must accept exactly these; a test checks it).
pub const SIZE_UNITS: &[(&str, u64)] = &[
    ("B", 1),
    ("K", 1 << 10),
    ("KiB", 1 << 10),
    ("M", 1 << 20),
    ("MiB", 1 << 20),
    ("G", 1 << 30),
    ("GiB", 1 << 30),
    ("T", 1 << 40),
    ("TiB", 1 << 40),
    ("KB", 1_000),
    ("MB", 1_000_000),
    ("GB", 1_000_000_000),
    ("TB", 1_000_000_000_000),
];

/// The units of a duration, in milliseconds (the grammar's `duration`
/// must accept exactly these).
pub const DURATION_UNITS: &[(&str, u64)] = &[
    ("ms", 1),
    ("s", 1_000),
    ("m", 60_000),
    ("h", 3_600_000),
    ("d", 86_400_000),
];

/// `20GB` -> (`20`, `GB`).
fn split_unit(text: &str) -> (&str, &str) {
    let digits = text.len() - text.trim_start_matches(|c: char| c.is_ascii_digit()).len();
    text.split_at(digits)
}

/// The factor of a unit the grammar accepted (so it is in the table).
fn unit_factor(units: &[(&str, u64)], unit: &str) -> u64 {
    units
        .iter()
        .find(|(u, _)| *u == unit)
        .map(|(_, f)| *f)
        .expect("the grammar accepts only the units of the table")
}

pub(crate) struct Lowerer {
    pub(super) file: FileId,
    offset: usize,
    comments: Vec<Comment>,
    diags: Vec<Diagnostic>,
}

type P<'i> = Pair<'i, Rule>;

impl Lowerer {
    pub fn new(file: FileId, offset: usize) -> Self {
        Lowerer {
            file,
            offset,
            comments: Vec::new(),
            diags: Vec::new(),
        }
    }

    pub fn finish(self) -> (Vec<Comment>, Vec<Diagnostic>) {
        (self.comments, self.diags)
    }

    fn span(&self, pair: &P) -> Span {
        let s = pair.as_span();
        Span::new(self.file, self.offset + s.start(), self.offset + s.end())
    }

    /// Children of a pair with comments moved aside.
    fn kids<'i>(&mut self, pair: P<'i>) -> Vec<P<'i>> {
        let mut out = Vec::new();
        for p in pair.into_inner() {
            if p.as_rule() == Rule::COMMENT {
                let span = self.span(&p);
                self.comments.push(Comment {
                    text: p.as_str().trim_end().to_string(),
                    span,
                });
            } else {
                out.push(p);
            }
        }
        out
    }

    fn first<'i>(&mut self, pair: P<'i>, why: &str) -> P<'i> {
        self.kids(pair).into_iter().next().expect(why)
    }

    fn bad_literal(&mut self, span: Span, message: String, help: &str) {
        self.diags.push(
            Diagnostic::new(Code::BadLiteral, message, span, "this literal")
                .with_help(help.to_string()),
        );
    }

    pub fn top_item(&mut self, top: P) -> Option<Item> {
        let item = self.kids(top).into_iter().next()?;
        Some(self.item(item))
    }

    fn item(&mut self, pair: P) -> Item {
        match pair.as_rule() {
            Rule::attr => Item::Attr(self.attr(pair)),
            _ => Item::Decl(self.decl(pair)),
        }
    }

    fn ident(&mut self, pair: P) -> Ident {
        Ident {
            name: pair.as_str().to_string(),
            span: self.span(&pair),
        }
    }

    fn attr(&mut self, pair: P) -> Attr {
        let full = self.span(&pair);
        let text = pair.as_str();
        let mut kids = self.kids(pair).into_iter();
        let key = self.ident(kids.next().expect("attr starts with a key"));
        let value = self.expr(kids.next().expect("attr has a value"));
        // pest lets an attribute without `;` run over the trivia after it:
        // end the span at the value, or at the `;` that follows it.
        let after_value = (value.span.end - full.start) as usize;
        let rest = text.get(after_value..).unwrap_or("");
        let mut end = value.span.end as usize;
        let mut pos = 0;
        while let Some(t) = super::scan::trivia_at(rest, pos) {
            pos = t.end();
        }
        if rest[pos..].starts_with(';') {
            end = full.start as usize + after_value + pos + 1;
        }
        let span = Span::new(self.file, key.span.start as usize, end);
        Attr { key, value, span }
    }

    fn decl(&mut self, pair: P) -> Decl {
        let span = self.span(&pair);
        let mut kids = self.kids(pair).into_iter();
        let kind_pair = kids.next().expect("decl starts with a kind");
        let kind = self.first(kind_pair, "kind wraps an ident");
        let kind = self.ident(kind);
        let mut decl = Decl {
            kind,
            subjects: Vec::new(),
            params: None,
            value: None,
            args: Vec::new(),
            body: None,
            span,
        };
        for p in kids {
            match p.as_rule() {
                Rule::subjects => {
                    for s in self.kids(p) {
                        decl.subjects.push(self.subject(s));
                    }
                }
                Rule::params => {
                    let params = self.kids(p).into_iter().map(|q| self.param(q)).collect();
                    decl.params = Some(params);
                }
                Rule::decl_value => {
                    let e = self.first(p, "decl_value holds an expr");
                    decl.value = Some(self.expr(e));
                }
                Rule::named_arg => {
                    let mut k = self.kids(p).into_iter();
                    let key = self.ident(k.next().expect("named_arg has a key"));
                    let value = self.expr(k.next().expect("named_arg has a value"));
                    decl.args.push(Arg::Named { key, value });
                }
                Rule::at_arg => {
                    let span = self.span(&p);
                    let key = Ident {
                        name: String::from("at"),
                        span: Span::new(self.file, span.start as usize, span.start as usize + 2),
                    };
                    let e = self.first(p, "at_arg holds an expr");
                    let value = self.expr(e);
                    decl.args.push(Arg::Named { key, value });
                }
                Rule::positional_arg => {
                    let e = self.first(p, "positional_arg holds an expr");
                    decl.args.push(Arg::Positional(self.expr(e)));
                }
                Rule::block => {
                    let span = self.span(&p);
                    let items = self.kids(p).into_iter().map(|i| self.item(i)).collect();
                    decl.body = Some(Block { items, span });
                }
                _ => {} // `semi`
            }
        }
        decl
    }

    fn subject(&mut self, pair: P) -> Expr {
        let mut kids = self.kids(pair).into_iter();
        let head = kids.next().expect("subject starts with an ident");
        let ident = self.ident(head);
        let mut expr = Expr {
            span: ident.span,
            kind: ExprKind::Name(ident),
        };
        for p in kids {
            expr = self.postfix_step(expr, p);
        }
        expr
    }

    fn param(&mut self, pair: P) -> Param {
        let span = self.span(&pair);
        let mut kids = self.kids(pair).into_iter();
        let name = self.ident(kids.next().expect("param has a name"));
        let default = kids.next().map(|e| self.expr(e));
        Param {
            name,
            default,
            span,
        }
    }

    fn expr(&mut self, pair: P) -> Expr {
        let span = self.span(&pair);
        match pair.as_rule() {
            Rule::expr => {
                let inner = self.first(pair, "expr wraps or_expr");
                self.expr(inner)
            }
            Rule::or_expr | Rule::and_expr | Rule::cmp_expr => self.binary_chain(pair),
            Rule::unary => {
                let kids = self.kids(pair);
                let mut iter = kids.into_iter().rev();
                let operand = iter.next().expect("unary ends with a postfix");
                let mut expr = self.expr(operand);
                for _not in iter {
                    expr = Expr {
                        kind: ExprKind::Not(Box::new(expr)),
                        span,
                    };
                }
                expr
            }
            Rule::postfix => {
                let mut kids = self.kids(pair).into_iter();
                let head = kids.next().expect("postfix starts with a primary");
                let mut expr = self.expr(head);
                for p in kids {
                    expr = self.postfix_step(expr, p);
                }
                expr
            }
            _ => self.primary(pair, span),
        }
    }

    fn postfix_step(&mut self, base: Expr, p: P) -> Expr {
        let span = base.span.to(self.span(&p));
        match p.as_rule() {
            Rule::field => {
                let f = self.first(p, "field holds an ident");
                let field = self.ident(f);
                Expr {
                    kind: ExprKind::Field {
                        base: Box::new(base),
                        field,
                    },
                    span,
                }
            }
            _ => {
                let e = self.first(p, "index holds an expr");
                let index = self.expr(e);
                Expr {
                    kind: ExprKind::Index {
                        base: Box::new(base),
                        index: Box::new(index),
                    },
                    span,
                }
            }
        }
    }

    fn binary_chain(&mut self, pair: P) -> Expr {
        let mut kids = self.kids(pair).into_iter();
        let first = kids.next().expect("binary chain has an operand");
        let mut lhs = self.expr(first);
        while let Some(op) = kids.next() {
            let op = match op.as_str() {
                "||" => BinaryOp::Or,
                "&&" => BinaryOp::And,
                "==" => BinaryOp::Eq,
                "!=" => BinaryOp::Ne,
                "<" => BinaryOp::Lt,
                "<=" => BinaryOp::Le,
                ">" => BinaryOp::Gt,
                _ => BinaryOp::Ge,
            };
            let rhs_pair = kids.next().expect("an operator is followed by an operand");
            let rhs = self.expr(rhs_pair);
            let span = lhs.span.to(rhs.span);
            lhs = Expr {
                kind: ExprKind::Binary {
                    op,
                    lhs: Box::new(lhs),
                    rhs: Box::new(rhs),
                },
                span,
            };
        }
        lhs
    }

    fn primary(&mut self, pair: P, span: Span) -> Expr {
        let text = pair.as_str().to_string();
        let kind = match pair.as_rule() {
            Rule::paren => {
                let e = self.first(pair, "paren holds an expr");
                ExprKind::Paren(Box::new(self.expr(e)))
            }
            Rule::list => {
                ExprKind::List(self.kids(pair).into_iter().map(|e| self.expr(e)).collect())
            }
            Rule::map => {
                let mut entries = Vec::new();
                for entry in self.kids(pair) {
                    let mut k = self.kids(entry).into_iter();
                    let key = k.next().expect("map entry has a key");
                    let key = self.map_key(key);
                    let value = self.expr(k.next().expect("map entry has a value"));
                    entries.push((key, value));
                }
                ExprKind::Map(entries)
            }
            Rule::call => {
                let mut k = self.kids(pair).into_iter();
                let func = self.ident(k.next().expect("call has a name"));
                let args = k.map(|e| self.expr(e)).collect();
                ExprKind::Call { func, args }
            }
            Rule::name => {
                let i = self.first(pair, "name wraps an ident");
                ExprKind::Name(self.ident(i))
            }
            Rule::string => ExprKind::Str(self.string_parts(pair)),
            rule => self.literal(rule, text, span),
        };
        Expr { kind, span }
    }

    /// An atomic literal the grammar matched as `rule`, checked: the one
    /// lowering of literals, for pest pairs and for [`super::fast`].
    pub(super) fn literal(&mut self, rule: Rule, text: String, span: Span) -> ExprKind {
        match rule {
            Rule::boolean => ExprKind::Bool(text == "true"),
            Rule::int => ExprKind::Int(self.int(&text, span)),
            Rule::float => ExprKind::Float(text.parse().unwrap_or(0.0)),
            Rule::size => self.size(&text, span),
            Rule::duration => self.duration(&text, span),
            Rule::bad_unit => self.bad_unit(&text, span),
            Rule::cidr => self.cidr(&text, span),
            Rule::ip => {
                self.check_ip(&text, span);
                ExprKind::Ip(text)
            }
            Rule::port_map => self.port_map(&text, span),
            Rule::port_spec => self.port_spec(&text, span),
            other => unreachable!("grammar produced {other:?} in expression position"),
        }
    }

    fn map_key(&mut self, pair: P) -> MapKey {
        let span = self.span(&pair);
        if pair.as_rule() == Rule::string {
            let parts = self.string_parts(pair);
            MapKey::quoted(&parts, span)
        } else {
            MapKey {
                name: pair.as_str().to_string(),
                quoted: false,
                span,
            }
        }
    }

    fn string_parts(&mut self, pair: P) -> Vec<StrPart> {
        let long = pair.as_str().starts_with("\"\"\"");
        let parts = self.raw_string_parts(pair);
        if long { dedent(parts) } else { parts }
    }

    fn raw_string_parts(&mut self, pair: P) -> Vec<StrPart> {
        let mut parts: Vec<StrPart> = Vec::new();
        for p in self.kids(pair) {
            match p.as_rule() {
                Rule::interp => {
                    let e = self.first(p, "interp holds an expr");
                    parts.push(StrPart::Interp(self.expr(e)));
                }
                rule => {
                    let text = match rule {
                        Rule::escape => unescape(p.as_str()),
                        Rule::dollar_escape => String::from("${"),
                        _ => p.as_str().to_string(),
                    };
                    match parts.last_mut() {
                        Some(StrPart::Text(t)) => t.push_str(&text),
                        _ => parts.push(StrPart::Text(text)),
                    }
                }
            }
        }
        parts
    }

    fn int(&mut self, text: &str, span: Span) -> u64 {
        text.parse().unwrap_or_else(|_| {
            self.bad_literal(
                span,
                format!("integer `{text}` is too large"),
                "integers go up to 18446744073709551615",
            );
            0
        })
    }

    fn size(&mut self, text: &str, span: Span) -> ExprKind {
        let (digits, unit) = split_unit(text);
        let factor = unit_factor(SIZE_UNITS, unit);
        let n = self.int(digits, span);
        let bytes = n.checked_mul(factor).unwrap_or_else(|| {
            self.bad_literal(
                span,
                format!("size `{text}` is too large"),
                "sizes go up to about 18 EB",
            );
            0
        });
        ExprKind::Size {
            bytes,
            text: text.to_string(),
        }
    }

    fn duration(&mut self, text: &str, span: Span) -> ExprKind {
        let (digits, unit) = split_unit(text);
        let factor = unit_factor(DURATION_UNITS, unit);
        let n = self.int(digits, span);
        let millis = n.checked_mul(factor).unwrap_or_else(|| {
            self.bad_literal(
                span,
                format!("duration `{text}` is too long"),
                "use a smaller number",
            );
            0
        });
        ExprKind::Duration {
            millis,
            text: text.to_string(),
        }
    }

    /// `20XB`: a number whose suffix is no unit. Lowered as a size (the
    /// usual intent) of zero bytes, with the error naming every unit.
    fn bad_unit(&mut self, text: &str, span: Span) -> ExprKind {
        let (_, unit) = split_unit(text);
        let names = |units: &[(&str, u64)]| {
            units
                .iter()
                .map(|(u, _)| format!("`{u}`"))
                .collect::<Vec<_>>()
                .join(", ")
        };
        self.bad_literal(
            span,
            format!("`{unit}` is not a unit"),
            &format!(
                "sizes take {}; durations take {}",
                names(SIZE_UNITS),
                names(DURATION_UNITS)
            ),
        );
        ExprKind::Size {
            bytes: 0,
            text: text.to_string(),
        }
    }

    fn check_ip(&mut self, ip: &str, span: Span) {
        if ip.split('.').any(|o| o.parse::<u8>().is_err()) {
            self.bad_literal(
                span,
                format!("`{ip}` is not an IPv4 address"),
                "each part of an address is 0 to 255",
            );
        }
    }

    fn cidr(&mut self, text: &str, span: Span) -> ExprKind {
        let (ip, prefix) = text
            .split_once('/')
            .expect("the grammar puts a `/` in a CIDR");
        self.check_ip(ip, span);
        if prefix.parse::<u8>().map_or(true, |p| p > 32) {
            self.bad_literal(
                span,
                format!("`/{prefix}` is not a valid prefix length"),
                "a prefix length is 0 to 32",
            );
        }
        ExprKind::Cidr(text.to_string())
    }

    fn port(&mut self, text: &str, span: Span) -> u16 {
        match text.parse::<u16>() {
            Ok(p) if p > 0 => p,
            _ => {
                self.bad_literal(
                    span,
                    format!("`{text}` is not a port number"),
                    "ports are 1 to 65535",
                );
                0
            }
        }
    }

    fn port_map(&mut self, text: &str, span: Span) -> ExprKind {
        let (ports, protocol) = match text.split_once('/') {
            Some((p, proto)) => (p, proto.to_string()),
            None => (text, String::from("tcp")),
        };
        let (published, target) = ports
            .split_once(':')
            .expect("the grammar puts a `:` in a port map");
        ExprKind::PortMap {
            published: self.port(published, span),
            target: self.port(target, span),
            protocol,
        }
    }

    fn port_spec(&mut self, text: &str, span: Span) -> ExprKind {
        let (protocol, list) = text
            .split_once(':')
            .expect("the grammar puts a `:` in a port spec");
        let mut ports = Vec::new();
        for range in list.split(',') {
            let (lo, hi) = range.split_once('-').unwrap_or((range, range));
            let (lo_n, hi_n) = (self.port(lo, span), self.port(hi, span));
            if lo_n > hi_n {
                self.bad_literal(
                    span,
                    format!("port range `{range}` is backwards"),
                    "write the lower port first",
                );
            }
            ports.push(range.to_string());
        }
        ExprKind::PortSpec {
            protocol: protocol.to_string(),
            ports,
        }
    }
}

/// Stands for an interpolation while a long string is dedented.
const HOLE: char = '\u{E000}';

/// A `"""` string loses the line break after its opening quotes, the
/// indentation common to its lines, and the spaces before its closing quotes.
fn dedent(parts: Vec<StrPart>) -> Vec<StrPart> {
    let mut flat = String::new();
    let mut holes = Vec::new();
    for p in parts {
        match p {
            StrPart::Text(t) => flat.push_str(&t.replace(HOLE, "")),
            StrPart::Interp(e) => {
                flat.push(HOLE);
                holes.push(e);
            }
        }
    }
    let body = flat
        .strip_prefix("\r\n")
        .or_else(|| flat.strip_prefix('\n'))
        .unwrap_or(&flat);
    let body = match body.rfind('\n') {
        Some(n) if body[n + 1..].chars().all(|c| c == ' ' || c == '\t') => &body[..=n],
        _ => body,
    };
    let indent = body
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| l.len() - l.trim_start_matches([' ', '\t']).len())
        .min()
        .unwrap_or(0);
    let mut text = String::new();
    for line in body.split_inclusive('\n') {
        let cut = line.len() - line.trim_start_matches([' ', '\t']).len();
        text.push_str(&line[cut.min(indent)..]);
    }
    let mut out = Vec::new();
    let mut holes = holes.into_iter();
    for (i, piece) in text.split(HOLE).enumerate() {
        if i > 0
            && let Some(e) = holes.next()
        {
            out.push(StrPart::Interp(e));
        }
        if !piece.is_empty() {
            out.push(StrPart::Text(piece.to_string()));
        }
    }
    out
}

pub(super) fn unescape(escape: &str) -> String {
    match escape.chars().nth(1) {
        Some('n') => String::from("\n"),
        Some('t') => String::from("\t"),
        Some('r') => String::from("\r"),
        Some('$') => String::from("$"),
        Some(c) => c.to_string(),
        None => String::new(),
    }
}

/// Milliseconds in a duration unit of the language (`ms`, `s`, `m`, `h`, `d`),
/// read from [`DURATION_UNITS`].
pub fn duration_unit_millis(unit: &str) -> Option<u64> {
    DURATION_UNITS
        .iter()
        .find(|(u, _)| *u == unit)
        .map(|(_, f)| *f)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::syntax::parse;

    fn first_arg(text: &str) -> (ExprKind, Vec<Diagnostic>) {
        let (ast, diags) = parse(FileId(0), text);
        let Some(Item::Decl(d)) = ast.items.first() else {
            panic!("no declaration in {text:?}: {diags:?}");
        };
        let arg = d.positional_args().next().expect("one argument");
        (arg.kind.clone(), diags)
    }

    /// The grammar's units are exactly the table's, each with its factor.
    #[test]
    fn grammar_units_are_the_tables() {
        let grammar = include_str!("../../grammar/sdb.pest");
        let line = grammar
            .lines()
            .find(|l| l.starts_with("size_unit"))
            .expect("the grammar has size_unit");
        let mut in_grammar: Vec<&str> = line.split('"').skip(1).step_by(2).collect();
        let mut in_table: Vec<&str> = SIZE_UNITS.iter().map(|(u, _)| *u).collect();
        in_grammar.sort_unstable();
        in_table.sort_unstable();
        assert_eq!(in_grammar, in_table);
        for (unit, factor) in SIZE_UNITS {
            let (kind, diags) = first_arg(&format!("x y 3{unit};"));
            assert!(diags.is_empty(), "{unit}: {diags:?}");
            assert!(matches!(kind, ExprKind::Size { bytes, .. } if bytes == 3 * factor));
        }
        for (unit, factor) in DURATION_UNITS {
            let (kind, diags) = first_arg(&format!("x y 3{unit};"));
            assert!(diags.is_empty(), "{unit}: {diags:?}");
            assert!(matches!(kind, ExprKind::Duration { millis, .. } if millis == 3 * factor));
        }
    }

    #[test]
    fn a_suffix_that_is_no_unit_names_the_units() {
        let (_, diags) = first_arg("disk data 20XB;");
        assert_eq!(diags.len(), 1);
        assert_eq!(diags[0].message, "`XB` is not a unit");
        assert!(
            diags[0]
                .help
                .as_deref()
                .is_some_and(|h| h.contains("`GiB`"))
        );
    }
}
