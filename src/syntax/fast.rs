//! A fast path in front of pest for the common declaration.
//!
//! pest spends most of a parse in its per-call bookkeeping (a stack probe
//! on every rule, sequence and repetition) and in the pairs the lowerer
//! then walks. Most declarations are plain: names, strings, numbers,
//! lists, maps, operators, blocks, no comments. This module reads such a
//! declaration straight into the AST, deciding at each point the way the
//! grammar's ordered choices do, and gives up (`None`) at anything else:
//! a comment, parameters, `at`, a `"""` string, a top-level attribute, any
//! text that does not parse. The caller then parses the item with pest,
//! so `grammar/sdb.pest` stays the definition of the syntax and of every
//! error; a test checks that both ways give the same tree and diagnostics
//! on every fixture and on mutations of them. Literal values are lowered
//! by [`Lowerer::literal`], as for pest pairs.

use super::ast::*;
use super::lower::{DURATION_UNITS, Lowerer, SIZE_UNITS, unescape};
use super::parser::Rule;
use crate::diag::Diagnostic;
use crate::span::{FileId, Span};

/// Deepest expression recursion the fast path follows (brackets inside
/// strings are not bounded before parsing); deeper items go to pest.
const MAX_DEPTH: usize = 64;

/// The protocols of a port spec (the grammar's `proto`).
const PROTOCOLS: [&str; 4] = ["tcp", "udp", "icmp", "sctp"];

/// The declaration at `pos` (which starts a token), where it ends, and the
/// diagnostics of its literals; `None` when pest should parse it.
pub(super) fn decl(file: FileId, text: &str, pos: usize) -> Option<(Item, usize, Vec<Diagnostic>)> {
    let mut f = Fast {
        text,
        b: text.as_bytes(),
        pos,
        file,
        low: Lowerer::new(file, 0),
        depth: 0,
    };
    let key_end = f.ident_end(pos)?;
    if f.assigns_after(key_end) {
        return None; // an attribute line at the top level: an error pest reports
    }
    let decl = f.decl()?;
    let (_, diags) = f.low.finish();
    Some((Item::Decl(decl), f.pos, diags))
}

struct Fast<'t> {
    text: &'t str,
    b: &'t [u8],
    pos: usize,
    file: FileId,
    low: Lowerer,
    depth: usize,
}

fn is_ident_start(c: u8) -> bool {
    c.is_ascii_alphabetic() || c == b'_'
}

fn is_alnum_(c: u8) -> bool {
    c.is_ascii_alphanumeric() || c == b'_'
}

impl Fast<'_> {
    fn span(&self, start: usize, end: usize) -> Span {
        Span::new(self.file, start, end)
    }

    fn byte(&self, i: usize) -> Option<u8> {
        self.b.get(i).copied()
    }

    fn peek(&self) -> Option<u8> {
        self.byte(self.pos)
    }

    fn at(&self, s: &str) -> bool {
        self.b[self.pos..].starts_with(s.as_bytes())
    }

    fn eat(&mut self, c: u8) -> bool {
        let hit = self.peek() == Some(c);
        self.pos += usize::from(hit);
        hit
    }

    fn expect(&mut self, c: u8) -> Option<()> {
        self.eat(c).then_some(())
    }

    /// Past the whitespace at `i` (the grammar's `WHITESPACE`).
    fn blank_end(&self, mut i: usize) -> usize {
        loop {
            match self.byte(i) {
                Some(b' ' | b'\t' | b'\r' | b'\n') => i += 1,
                Some(0xEF) if self.b[i..].starts_with("\u{FEFF}".as_bytes()) => i += 3,
                _ => return i,
            }
        }
    }

    /// Skips whitespace; gives up before a comment.
    fn ws(&mut self) -> Option<()> {
        self.pos = self.blank_end(self.pos);
        let rest = &self.b[self.pos..];
        (!(rest.starts_with(b"#") || rest.starts_with(b"//"))).then_some(())
    }

    /// The grammar's `ident_char` at `i`.
    fn ident_char_at(&self, i: usize) -> bool {
        match self.byte(i) {
            Some(b'-') => self.byte(i + 1).is_some_and(is_alnum_),
            Some(c) => is_alnum_(c),
            None => false,
        }
    }

    fn ident_end(&self, i: usize) -> Option<usize> {
        if !self.byte(i).is_some_and(is_ident_start) {
            return None;
        }
        let mut e = i + 1;
        while self.ident_char_at(e) {
            e += 1;
        }
        Some(e)
    }

    fn ident(&mut self) -> Option<Ident> {
        let start = self.pos;
        let end = self.ident_end(start)?;
        self.pos = end;
        Some(Ident {
            name: self.text[start..end].to_string(),
            span: self.span(start, end),
        })
    }

    /// Whether a single `=` follows `i` after whitespace (an attribute or a
    /// named argument); `==` there is left to pest.
    fn assigns_after(&self, i: usize) -> bool {
        let q = self.blank_end(i);
        self.byte(q) == Some(b'=')
    }

    fn decl(&mut self) -> Option<Decl> {
        let start = self.pos;
        let kind = self.ident()?;
        let mut decl = Decl {
            kind,
            subjects: Vec::new(),
            params: None,
            value: None,
            args: Vec::new(),
            body: None,
            span: self.span(start, start),
        };
        self.ws()?;
        if self.peek().is_some_and(is_ident_start) {
            decl.subjects.push(self.subject()?);
            self.ws()?;
            while self.eat(b',') {
                self.ws()?;
                decl.subjects.push(self.subject()?);
                self.ws()?;
            }
        }
        if self.peek() == Some(b'(') {
            return None; // parameters
        }
        if self.eat(b'=') {
            if self.peek() == Some(b'=') {
                return None;
            }
            self.ws()?;
            decl.value = Some(self.expr()?);
        }
        self.args(&mut decl.args)?;
        if self.eat(b'{') {
            decl.body = Some(self.block(self.pos - 1)?);
        } else {
            self.expect(b';')?;
        }
        decl.span = self.span(start, self.pos);
        // The tree lives as long as the analysis: keep no growth room.
        decl.subjects.shrink_to_fit();
        decl.args.shrink_to_fit();
        Some(decl)
    }

    fn args(&mut self, args: &mut Vec<Arg>) -> Option<()> {
        loop {
            self.ws()?;
            match self.peek() {
                Some(b';' | b'{') => return Some(()),
                None => return None,
                _ => {}
            }
            if let Some(end) = self.ident_end(self.pos) {
                if self.assigns_after(end) {
                    let key = self.ident()?;
                    self.pos = self.blank_end(self.pos) + 1;
                    if self.peek() == Some(b'=') {
                        return None;
                    }
                    self.ws()?;
                    let value = self.expr()?;
                    args.push(Arg::Named { key, value });
                    continue;
                }
                if &self.text[self.pos..end] == "at" {
                    return None; // `at PATH`
                }
            }
            args.push(Arg::Positional(self.expr()?));
        }
    }

    /// A block whose `{` is at `open` (already read).
    fn block(&mut self, open: usize) -> Option<Block> {
        let mut items = Vec::new();
        loop {
            self.ws()?;
            if self.eat(b'}') {
                items.shrink_to_fit();
                return Some(Block {
                    items,
                    span: self.span(open, self.pos),
                });
            }
            let key_end = self.ident_end(self.pos)?;
            if self.assigns_after(key_end) {
                items.push(Item::Attr(self.attr()?));
            } else {
                items.push(Item::Decl(self.decl()?));
            }
        }
    }

    fn attr(&mut self) -> Option<Attr> {
        let key = self.ident()?;
        self.ws()?;
        self.expect(b'=')?;
        if self.peek() == Some(b'=') {
            return None;
        }
        self.ws()?;
        let value = self.expr()?;
        let after = self.pos;
        self.ws()?;
        let end = if self.eat(b';') {
            self.pos
        } else {
            self.pos = after;
            value.span.end as usize
        };
        let span = self.span(key.span.start as usize, end);
        Some(Attr { key, value, span })
    }

    fn subject(&mut self) -> Option<Expr> {
        let ident = self.ident()?;
        let head = Expr {
            span: ident.span,
            kind: ExprKind::Name(ident),
        };
        self.postfix_steps(head)
    }

    fn expr(&mut self) -> Option<Expr> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return None;
        }
        let e = self.or_expr();
        self.depth -= 1;
        e
    }

    fn or_expr(&mut self) -> Option<Expr> {
        let mut lhs = self.and_expr()?;
        loop {
            self.ws()?;
            if !self.at("||") {
                return Some(lhs);
            }
            self.pos += 2;
            self.ws()?;
            let rhs = self.and_expr()?;
            lhs = binary(BinaryOp::Or, lhs, rhs);
        }
    }

    fn and_expr(&mut self) -> Option<Expr> {
        let mut lhs = self.cmp_expr()?;
        loop {
            self.ws()?;
            if !self.at("&&") {
                return Some(lhs);
            }
            self.pos += 2;
            self.ws()?;
            let rhs = self.cmp_expr()?;
            lhs = binary(BinaryOp::And, lhs, rhs);
        }
    }

    fn cmp_expr(&mut self) -> Option<Expr> {
        let lhs = self.unary()?;
        self.ws()?;
        // The grammar's `cmp_op`, longer operators first.
        const OPS: [(&str, BinaryOp); 6] = [
            ("==", BinaryOp::Eq),
            ("!=", BinaryOp::Ne),
            ("<=", BinaryOp::Le),
            (">=", BinaryOp::Ge),
            ("<", BinaryOp::Lt),
            (">", BinaryOp::Gt),
        ];
        let Some((text, op)) = OPS.iter().find(|(t, _)| self.at(t)) else {
            return Some(lhs);
        };
        self.pos += text.len();
        self.ws()?;
        let rhs = self.unary()?;
        Some(binary(*op, lhs, rhs))
    }

    fn unary(&mut self) -> Option<Expr> {
        let start = self.pos;
        let mut nots = 0;
        while self.peek() == Some(b'!') && self.byte(self.pos + 1) != Some(b'=') {
            self.pos += 1;
            nots += 1;
            self.ws()?;
        }
        let primary = self.primary()?;
        let primary_end = primary.span.end as usize;
        let expr = self.postfix_steps(primary)?;
        // pest's `unary` pair, the span of a `!`, runs over the whitespace
        // after an operand that has no `.field` or `[index]`.
        let end = match expr.span.end as usize {
            e if e == primary_end => self.blank_end(e),
            e => e,
        };
        let span = self.span(start, end);
        let mut expr = expr;
        for _ in 0..nots {
            expr = Expr {
                kind: ExprKind::Not(Box::new(expr)),
                span,
            };
        }
        Some(expr)
    }

    /// `.field` and `[index]` after `base`.
    fn postfix_steps(&mut self, mut base: Expr) -> Option<Expr> {
        loop {
            self.ws()?;
            let start = self.pos;
            if self.eat(b'.') {
                self.ws()?;
                let field = self.ident()?;
                let span = base.span.to(self.span(start, self.pos));
                base = Expr {
                    kind: ExprKind::Field {
                        base: Box::new(base),
                        field,
                    },
                    span,
                };
            } else if self.eat(b'[') {
                self.ws()?;
                let index = self.expr()?;
                self.ws()?;
                self.expect(b']')?;
                let span = base.span.to(self.span(start, self.pos));
                base = Expr {
                    kind: ExprKind::Index {
                        base: Box::new(base),
                        index: Box::new(index),
                    },
                    span,
                };
            } else {
                return Some(base);
            }
        }
    }

    /// The grammar's `primary`, its alternatives in its order.
    fn primary(&mut self) -> Option<Expr> {
        let start = self.pos;
        let kind = match self.peek()? {
            b'(' => {
                self.pos += 1;
                self.ws()?;
                let inner = self.expr()?;
                self.ws()?;
                self.expect(b')')?;
                ExprKind::Paren(Box::new(inner))
            }
            b'[' => {
                self.pos += 1;
                ExprKind::List(self.items(b']', Self::expr)?)
            }
            b'{' => {
                self.pos += 1;
                ExprKind::Map(self.items(b'}', Self::map_entry)?)
            }
            b'"' => ExprKind::Str(self.string()?),
            _ => {
                if let Some((rule, end)) = self.literal_at(start) {
                    self.pos = end;
                    let text = self.text[start..end].to_string();
                    let kind = self.low.literal(rule, text, self.span(start, end));
                    return Some(Expr {
                        kind,
                        span: self.span(start, end),
                    });
                }
                let ident = self.ident()?;
                let after = self.pos;
                self.ws()?;
                if self.eat(b'(') {
                    let args = self.items(b')', Self::expr)?;
                    ExprKind::Call { func: ident, args }
                } else {
                    self.pos = after;
                    ExprKind::Name(ident)
                }
            }
        };
        Some(Expr {
            kind,
            span: self.span(start, self.pos),
        })
    }

    /// `(item ("," item)* ","?)? close`, the opening bracket already read.
    fn items<T>(
        &mut self,
        close: u8,
        mut item: impl FnMut(&mut Self) -> Option<T>,
    ) -> Option<Vec<T>> {
        let mut out = Vec::new();
        loop {
            self.ws()?;
            if self.eat(close) {
                return Some(out);
            }
            out.push(item(self)?);
            self.ws()?;
            if !self.eat(b',') {
                self.expect(close)?;
                out.shrink_to_fit();
                return Some(out);
            }
        }
    }

    fn map_entry(&mut self) -> Option<(MapKey, Expr)> {
        let start = self.pos;
        let key = if self.peek() == Some(b'"') {
            let parts = self.string()?;
            MapKey::quoted(&parts, self.span(start, self.pos))
        } else {
            let ident = self.ident()?;
            MapKey {
                name: ident.name,
                quoted: false,
                span: ident.span,
            }
        };
        self.ws()?;
        self.expect(b':')?;
        self.ws()?;
        Some((key, self.expr()?))
    }

    /// A one-line string (`"""` strings go to pest).
    fn string(&mut self) -> Option<Vec<StrPart>> {
        if self.at("\"\"\"") {
            return None;
        }
        self.pos += 1;
        let mut parts: Vec<StrPart> = Vec::new();
        let push = |parts: &mut Vec<StrPart>, text: &str| match parts.last_mut() {
            Some(StrPart::Text(t)) => t.push_str(text),
            _ => parts.push(StrPart::Text(text.to_string())),
        };
        loop {
            match self.peek()? {
                b'"' => {
                    self.pos += 1;
                    parts.shrink_to_fit();
                    return Some(parts);
                }
                b'\n' => return None,
                b'\\' => {
                    let c = self.text[self.pos + 1..].chars().next()?;
                    let end = self.pos + 1 + c.len_utf8();
                    push(&mut parts, &unescape(&self.text[self.pos..end]));
                    self.pos = end;
                }
                b'$' if self.at("$${") => {
                    push(&mut parts, "${");
                    self.pos += 3;
                }
                b'$' if self.at("${") => {
                    self.pos += 2;
                    self.ws()?;
                    let e = self.expr()?;
                    self.ws()?;
                    self.expect(b'}')?;
                    parts.push(StrPart::Interp(e));
                }
                _ => {
                    let start = self.pos;
                    self.pos += 1;
                    while let Some(c) = self.peek() {
                        if matches!(c, b'"' | b'\\' | b'\n' | b'$') {
                            break;
                        }
                        self.pos += 1;
                    }
                    push(&mut parts, &self.text[start..self.pos]);
                }
            }
        }
    }

    fn digits_end(&self, mut i: usize, max: usize) -> usize {
        let start = i;
        while i - start < max && self.byte(i).is_some_and(|c| c.is_ascii_digit()) {
            i += 1;
        }
        i
    }

    /// `octet ("." octet){3}`.
    fn quad_end(&self, i: usize) -> Option<usize> {
        let mut e = self.digits_end(i, 3);
        if e == i {
            return None;
        }
        for _ in 0..3 {
            if self.byte(e) != Some(b'.') {
                return None;
            }
            let o = self.digits_end(e + 1, 3);
            if o == e + 1 {
                return None;
            }
            e = o;
        }
        Some(e)
    }

    fn proto_end(&self, i: usize) -> Option<usize> {
        PROTOCOLS
            .iter()
            .find(|p| self.b[i..].starts_with(p.as_bytes()))
            .map(|p| i + p.len())
    }

    /// `ASCII_DIGIT+ ("-" ASCII_DIGIT+)?`.
    fn port_range_end(&self, i: usize) -> Option<usize> {
        let e = self.digits_end(i, usize::MAX);
        if e == i {
            return None;
        }
        let r = self.digits_end(e + 1, usize::MAX);
        Some(if self.byte(e) == Some(b'-') && r > e + 1 {
            r
        } else {
            e
        })
    }

    /// The longest of `units` at `i` (the grammar lists longer units first).
    fn unit_end(&self, i: usize, units: &[(&str, u64)]) -> Option<usize> {
        units
            .iter()
            .filter(|(u, _)| self.b[i..].starts_with(u.as_bytes()))
            .map(|(u, _)| i + u.len())
            .max()
    }

    /// The grammar's `literal` at `i`: which rule matches and where it ends.
    fn literal_at(&self, i: usize) -> Option<(Rule, usize)> {
        let free = |e: usize| !self.ident_char_at(e);
        let digits = self.digits_end(i, usize::MAX);
        let number = digits > i;
        if let Some(q) = self.quad_end(i) {
            let p = self.digits_end(q + 1, 2);
            if self.byte(q) == Some(b'/') && p > q + 1 && free(p) {
                return Some((Rule::cidr, p));
            }
            if free(q) && !matches!(self.byte(q), Some(b'.' | b'/' | b':')) {
                return Some((Rule::ip, q));
            }
        }
        if number && self.byte(digits) == Some(b':') {
            let t = self.digits_end(digits + 1, usize::MAX);
            if t > digits + 1 {
                let e = match self.byte(t) {
                    Some(b'/') => self.proto_end(t + 1).unwrap_or(t),
                    _ => t,
                };
                if free(e) {
                    return Some((Rule::port_map, e));
                }
            }
        }
        if let Some(p) = self.proto_end(i)
            && self.byte(p) == Some(b':')
            && let Some(mut e) = self.port_range_end(p + 1)
        {
            while self.byte(e) == Some(b',') {
                match self.port_range_end(e + 1) {
                    Some(r) => e = r,
                    None => break,
                }
            }
            if free(e) {
                return Some((Rule::port_spec, e));
            }
        }
        if number {
            for (rule, units) in [(Rule::size, SIZE_UNITS), (Rule::duration, DURATION_UNITS)] {
                if let Some(e) = self.unit_end(digits, units)
                    && free(e)
                {
                    return Some((rule, e));
                }
            }
            let frac = self.digits_end(digits + 1, usize::MAX);
            if self.byte(digits) == Some(b'.')
                && frac > digits + 1
                && free(frac)
                && self.byte(frac) != Some(b'.')
            {
                return Some((Rule::float, frac));
            }
            if free(digits) {
                return Some((Rule::int, digits));
            }
        }
        for word in ["true", "false"] {
            if self.b[i..].starts_with(word.as_bytes()) && free(i + word.len()) {
                return Some((Rule::boolean, i + word.len()));
            }
        }
        None // `bad_unit` (an error) and everything else: not a literal here
    }
}

fn binary(op: BinaryOp, lhs: Expr, rhs: Expr) -> Expr {
    let span = lhs.span.to(rhs.span);
    Expr {
        kind: ExprKind::Binary {
            op,
            lhs: Box::new(lhs),
            rhs: Box::new(rhs),
        },
        span,
    }
}

#[cfg(test)]
mod tests {
    use crate::span::FileId;
    use crate::syntax::parse_in_chunks;
    use crate::syntax::parser::parse_pest_only;

    /// Every `.sdb` file of the repository: fixtures, examples, stdlib.
    fn sources() -> Vec<(String, String)> {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
        let mut out = Vec::new();
        let mut dirs = vec![
            root.join("tests"),
            root.join("examples"),
            root.join("stdlib"),
        ];
        while let Some(dir) = dirs.pop() {
            for entry in std::fs::read_dir(&dir).expect("the directory is readable") {
                let path = entry.expect("a directory entry").path();
                if path.is_dir() {
                    dirs.push(path);
                } else if path.extension().is_some_and(|e| e == "sdb") {
                    let bytes = std::fs::read(&path).expect("the file is readable");
                    if let Ok(text) = String::from_utf8(bytes) {
                        out.push((path.display().to_string(), text));
                    }
                }
            }
        }
        out.sort();
        assert!(out.len() > 50, "found only {} .sdb files", out.len());
        out
    }

    fn same(name: &str, text: &str) {
        let fast = parse_in_chunks(FileId(0), text, 1);
        let pest = parse_pest_only(FileId(0), text);
        assert_eq!(format!("{fast:?}"), format!("{pest:?}"), "{name}:\n{text}");
    }

    /// Tokens worth splicing in: every construct the fast path handles and
    /// several it leaves to pest.
    const TOKENS: &[&str] = &[
        " ",
        "\n",
        ";",
        "{",
        "}",
        "(",
        ")",
        "[",
        "]",
        ",",
        "=",
        "==",
        "!",
        "!=",
        "<",
        ">=",
        "&&",
        "||",
        ".",
        ":",
        "\"",
        "\\",
        "${",
        "$${",
        "#",
        "//",
        "\"\"\"",
        "at ",
        "x",
        "a-b",
        "1",
        "20GB",
        "5m",
        "1.5",
        "1.2.3.4",
        "10.0.0.0/8",
        "80:8080/udp",
        "tcp:80,443-450",
        "true",
        "3XB",
        "\u{FEFF}",
        "é",
    ];

    #[test]
    fn the_fast_path_reads_what_pest_reads() {
        let mut rng = fastrand::Rng::with_seed(15);
        for (name, text) in sources() {
            same(&name, &text);
            for _ in 0..60 {
                let mut t = text.clone();
                let at = |rng: &mut fastrand::Rng, t: &str| {
                    let mut i = rng.usize(0..=t.len());
                    while !t.is_char_boundary(i) {
                        i -= 1;
                    }
                    i
                };
                let i = at(&mut rng, &t);
                match rng.u8(0..3) {
                    0 => t.insert_str(i, TOKENS[rng.usize(0..TOKENS.len())]),
                    1 => {
                        let j = at(&mut rng, &t).max(i);
                        let j = (i..=j.min(i + 8)).rev().find(|&k| t.is_char_boundary(k));
                        t.replace_range(i..j.unwrap_or(i), "");
                    }
                    _ => {
                        let j = at(&mut rng, &t);
                        let (a, b) = (i.min(j), i.max(j));
                        let piece = t[a..b.min(a + 40)].to_string();
                        let piece = if t.is_char_boundary(a + piece.len()) {
                            piece
                        } else {
                            String::new()
                        };
                        let k = at(&mut rng, &t);
                        t.insert_str(k, &piece);
                    }
                }
                same(&name, &t);
            }
        }
    }

    #[test]
    fn the_benchmark_programs_take_the_fast_path_and_read_the_same() {
        let text = "gce {\n  region = \"europe-west1\"\n}\nnetwork net 10.0.0.0/8;\n\
            vm group-1[10] e2-standard-2 swarm=worker;\n\
            service app-1 image=\"registry.example/app:1\" on=group-1 { env UPSTREAM = app-0.host; }\n\
            firewall fw-2 tcp:1000 from=\"10.0.0.0/8\" to=manager;\n\
            config conf_3 \"listen 1003\\nserver_name host-3;\";\n\
            disk data-0 20GB type=pd-balanced;\n\
            x y \"s\" (a == !b) && (c < 2 || [1, 2,][0] != {k: \"v\", \"q ${z.w}\": 3}.k) port=80:8080/udp t=5m f=1.5;\n";
        same("bench", text);
        let mut pos = 0;
        while pos < text.len() {
            let (_, end, _) = super::decl(FileId(0), text, pos)
                .unwrap_or_else(|| panic!("the fast path reads {:?}", &text[pos..]));
            pos = end + 1;
        }
    }
}
