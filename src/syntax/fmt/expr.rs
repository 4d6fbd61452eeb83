//! Expressions as layout documents: lists and maps are groups that break one
//! element per line when the line would be too long; everything else is
//! printed on one line with canonical spacing.

use super::Ctx;
use super::doc::{self, Doc};
use crate::span::Span;
use crate::syntax::ast::{Expr, ExprKind, MapKey, StrPart};

impl Ctx<'_> {
    /// The layout of one expression.
    pub fn expr(&self, e: &Expr) -> Doc {
        match &e.kind {
            ExprKind::Int(n) => Doc::text(self.int(*n, e.span)),
            ExprKind::Float(f) => Doc::text(self.float(*f, e.span)),
            ExprKind::Bool(b) => Doc::text(b.to_string()),
            ExprKind::Str(parts) => Doc::text(self.string(parts, e.span)),
            ExprKind::Size { text, .. } | ExprKind::Duration { text, .. } => {
                Doc::text(text.clone())
            }
            ExprKind::Cidr(text) | ExprKind::Ip(text) => Doc::text(text.clone()),
            ExprKind::PortMap { .. } | ExprKind::PortSpec { .. } => Doc::text(self.port(e)),
            ExprKind::List(items) => self.list(items),
            ExprKind::Map(entries) => self.map(entries),
            ExprKind::Name(n) => Doc::text(n.name.clone()),
            ExprKind::Field { base, field } => {
                Doc::Concat(vec![self.expr(base), Doc::text(format!(".{}", field.name))])
            }
            ExprKind::Index { base, index } => Doc::Concat(vec![
                self.expr(base),
                Doc::text("["),
                self.expr(index),
                Doc::text("]"),
            ]),
            ExprKind::Call { func, args } => {
                let mut out = vec![Doc::text(format!("{}(", func.name))];
                out.extend(self.comma_separated(args));
                out.push(Doc::text(")"));
                Doc::Concat(out)
            }
            ExprKind::Not(inner) => Doc::Concat(vec![Doc::text("!"), self.expr(inner)]),
            ExprKind::Binary { op, lhs, rhs } => Doc::Concat(vec![
                self.expr(lhs),
                Doc::text(format!(" {} ", op.as_str())),
                self.expr(rhs),
            ]),
            ExprKind::Paren(inner) => {
                Doc::Concat(vec![Doc::text("("), self.expr(inner), Doc::text(")")])
            }
        }
    }

    /// An expression printed on one line.
    pub fn flat(&self, e: &Expr) -> String {
        doc::flat(&self.expr(e))
    }

    /// `a, b, c` with no line breaks between the elements.
    pub fn comma_separated(&self, items: &[Expr]) -> Vec<Doc> {
        let mut out = Vec::new();
        for (i, e) in items.iter().enumerate() {
            if i > 0 {
                out.push(Doc::text(", "));
            }
            out.push(self.expr(e));
        }
        out
    }

    fn list(&self, items: &[Expr]) -> Doc {
        if items.is_empty() {
            return Doc::text("[]");
        }
        let docs = items.iter().map(|e| self.expr(e)).collect();
        bracketed("[", "]", Doc::SoftLine, docs)
    }

    fn map(&self, entries: &[(MapKey, Expr)]) -> Doc {
        if entries.is_empty() {
            return Doc::text("{}");
        }
        let docs = entries
            .iter()
            .map(|(k, v)| {
                Doc::Concat(vec![
                    Doc::text(format!("{}: ", self.map_key(k))),
                    self.expr(v),
                ])
            })
            .collect();
        bracketed("{", "}", Doc::Line, docs)
    }

    fn map_key(&self, key: &MapKey) -> String {
        if !key.quoted {
            return key.name.clone();
        }
        // The AST drops interpolation from quoted keys; keep what was written.
        let written = self.source.get(key.span.range()).unwrap_or("");
        if written.contains("${") && !self.has_comment_in(key.span) {
            return written.to_string();
        }
        let mut out = String::from("\"");
        escape_into(&key.name, &mut out);
        out.push('"');
        out
    }

    fn has_comment_in(&self, span: Span) -> bool {
        !self.comments_in(span.range()).is_empty()
    }

    fn string(&self, parts: &[StrPart], span: Span) -> String {
        // A `"""` string (in grammars that have them) is kept as written.
        let written = self.source.get(span.range()).unwrap_or("");
        if written.starts_with("\"\"\"") && !self.has_comment_in(span) {
            return written.to_string();
        }
        let mut out = String::from("\"");
        for (i, part) in parts.iter().enumerate() {
            match part {
                StrPart::Text(t) => {
                    let before_interp = matches!(parts.get(i + 1), Some(StrPart::Interp(_)));
                    match t.strip_suffix('$').filter(|_| before_interp) {
                        // `$${` could read as an escaped `${`: escape the `$`.
                        Some(head) => {
                            escape_into(head, &mut out);
                            out.push_str("\\$");
                        }
                        None => escape_into(t, &mut out),
                    }
                }
                StrPart::Interp(e) => {
                    out.push_str("${");
                    out.push_str(&self.flat(e));
                    out.push('}');
                }
            }
        }
        out.push('"');
        out
    }

    fn int(&self, n: u64, span: Span) -> String {
        // An out-of-range literal lowers to 0 with a diagnostic: keep its text.
        match self.source.get(span.range()) {
            Some(t) if is_digits(t) && t.parse::<u64>().is_err() => t.to_string(),
            _ => n.to_string(),
        }
    }

    fn float(&self, f: f64, span: Span) -> String {
        if !f.is_finite() {
            return self.source.get(span.range()).unwrap_or("0.0").to_string();
        }
        let s = f.to_string();
        if s.contains('.') { s } else { format!("{s}.0") }
    }

    /// Ports are printed as written (the AST normalises the protocol).
    fn port(&self, e: &Expr) -> String {
        if let Some(t) = self.source.get(e.span.range()).filter(|t| !t.is_empty()) {
            return t.to_string();
        }
        match &e.kind {
            ExprKind::PortMap {
                published,
                target,
                protocol,
            } if protocol == "tcp" => {
                format!("{published}:{target}")
            }
            ExprKind::PortMap {
                published,
                target,
                protocol,
            } => format!("{published}:{target}/{protocol}"),
            ExprKind::PortSpec { protocol, ports } => format!("{protocol}:{}", ports.join(",")),
            _ => String::new(),
        }
    }
}

/// `open elem, elem close` on one line, or one element per line with a
/// trailing comma; `pad` is what separates the brackets from the elements
/// on one line (nothing for lists, a space for maps).
fn bracketed(open: &str, close: &str, pad: Doc, elems: Vec<Doc>) -> Doc {
    let mut inner = vec![pad.clone()];
    for (i, d) in elems.into_iter().enumerate() {
        if i > 0 {
            inner.push(Doc::text(","));
            inner.push(Doc::Line);
        }
        inner.push(d);
    }
    inner.push(Doc::IfBreak(","));
    Doc::Group(vec![
        Doc::text(open),
        Doc::Nest(inner),
        pad,
        Doc::text(close),
    ])
}

fn is_digits(t: &str) -> bool {
    !t.is_empty() && t.bytes().all(|b| b.is_ascii_digit())
}

/// Escape string text so that it reads back as the same text.
pub fn escape_into(text: &str, out: &mut String) {
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            '$' if chars.peek() == Some(&'{') => out.push_str("\\$"),
            c => out.push(c),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::escape_into;

    #[test]
    fn escapes_round_trip_characters() {
        let mut out = String::new();
        escape_into("a\"b\\c\nd\te\rf${g}$h", &mut out);
        assert_eq!(out, "a\\\"b\\\\c\\nd\\te\\rf\\${g}$h");
    }
}
