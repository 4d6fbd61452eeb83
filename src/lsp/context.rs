//! Where the cursor stands, found lexically so that it works on the
//! half-typed, unparsable text an editor sends while completing: the
//! enclosing blocks, the tokens of the current statement before the cursor,
//! the partial word being typed, and whether the cursor is in a string or
//! a comment.

/// A token of the current statement.
#[derive(Debug, Clone, PartialEq)]
pub enum Tok {
    Ident(String),
    Str,
    /// A number, size, duration, address or port literal.
    Lit,
    Punct(char),
}

/// The cursor's lexical surroundings.
#[derive(Debug, Default)]
pub struct Context {
    /// Start of the partial word (or string content) before the cursor.
    pub prefix_start: usize,
    /// Kinds of the enclosing declaration blocks, outermost first.
    pub blocks: Vec<String>,
    /// Tokens of the current statement before the partial word.
    pub stmt: Vec<Tok>,
    /// Brackets, parentheses and map braces open in the statement.
    pub nesting: usize,
    /// The cursor is inside a string literal.
    pub in_string: bool,
    pub in_comment: bool,
}

impl Context {
    /// The kind of the innermost block, if any.
    pub fn block(&self) -> Option<&str> {
        self.blocks.last().map(String::as_str)
    }

    /// The statement's leading word (its kind, or an attribute key).
    pub fn head(&self) -> Option<&str> {
        match self.stmt.first() {
            Some(Tok::Ident(s)) => Some(s),
            _ => None,
        }
    }
}

fn is_ident_start(b: u8) -> bool {
    b.is_ascii_alphabetic() || b == b'_'
}

fn is_ident_char(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_'
}

/// Scans `text` up to `cursor` (a byte offset, clamped).
pub fn at(text: &str, cursor: usize) -> Context {
    let mut cursor = cursor.min(text.len());
    while !text.is_char_boundary(cursor) {
        cursor -= 1;
    }
    let bytes = text.as_bytes();
    let mut word = cursor;
    while word > 0 && (is_ident_char(bytes[word - 1]) || bytes[word - 1] == b'-') {
        word -= 1;
    }
    let mut s = Scanner {
        bytes,
        end: word,
        i: 0,
        ctx: Context {
            prefix_start: word,
            ..Context::default()
        },
    };
    s.run();
    s.ctx
}

struct Scanner<'a> {
    bytes: &'a [u8],
    end: usize,
    i: usize,
    ctx: Context,
}

impl Scanner<'_> {
    fn peek(&self, k: usize) -> u8 {
        self.bytes.get(self.i + k).copied().unwrap_or(0)
    }

    fn run(&mut self) {
        while self.i < self.end {
            let c = self.peek(0);
            match c {
                b'#' => self.comment(),
                b'/' if self.peek(1) == b'/' => self.comment(),
                b'"' => self.string(),
                b'\n' => {
                    self.newline();
                    self.i += 1;
                }
                _ if c.is_ascii_whitespace() => self.i += 1,
                _ if is_ident_start(c) => self.ident(),
                _ if c.is_ascii_digit() => self.literal(),
                _ => self.punct(c),
            }
        }
    }

    fn comment(&mut self) {
        match self.bytes[self.i..].iter().position(|b| *b == b'\n') {
            Some(n) if self.i + n < self.end => self.i += n,
            _ => {
                self.ctx.in_comment = true;
                self.i = self.end;
            }
        }
    }

    fn string(&mut self) {
        let start = self.i;
        let close = if self.bytes[start..].starts_with(b"\"\"\"") {
            find(self.bytes, start + 3, b"\"\"\"").map(|e| e + 3)
        } else {
            short_string_end(self.bytes, start + 1)
        };
        match close {
            Some(e) if e <= self.end => {
                self.ctx.stmt.push(Tok::Str);
                self.i = e;
            }
            _ => {
                // The cursor is in this string: the "word" is its content so far.
                let content = if self.bytes[start..].starts_with(b"\"\"\"") {
                    start + 3
                } else {
                    start + 1
                };
                self.ctx.in_string = true;
                self.ctx.prefix_start = content.min(self.end.max(content));
                self.i = self.end;
            }
        }
    }

    fn ident(&mut self) {
        let start = self.i;
        while self.i < self.end {
            let b = self.peek(0);
            if is_ident_char(b) || (b == b'-' && is_ident_char(self.peek(1))) {
                self.i += 1;
            } else {
                break;
            }
        }
        let word = String::from_utf8_lossy(&self.bytes[start..self.i]).into_owned();
        let proto = matches!(word.as_str(), "tcp" | "udp" | "icmp" | "sctp");
        if proto && self.peek(0) == b':' && self.peek(1).is_ascii_digit() {
            self.i += 1;
            while self.i < self.end
                && (self.peek(0).is_ascii_digit() || b",-".contains(&self.peek(0)))
            {
                self.i += 1;
            }
            self.ctx.stmt.push(Tok::Lit);
        } else {
            self.ctx.stmt.push(Tok::Ident(word));
        }
    }

    fn literal(&mut self) {
        while self.i < self.end
            && (self.peek(0).is_ascii_alphanumeric() || b"._:/".contains(&self.peek(0)))
        {
            self.i += 1;
        }
        self.ctx.stmt.push(Tok::Lit);
    }

    fn punct(&mut self, c: u8) {
        self.i += 1;
        match c {
            b';' => self.end_statement(),
            b'{' if self.opens_map() => self.open(c),
            b'{' => {
                let kind = self.ctx.head().unwrap_or("").to_string();
                self.ctx.blocks.push(kind);
                self.end_statement();
            }
            b'}' if self.ctx.nesting == 0 => {
                self.ctx.blocks.pop();
                self.end_statement();
            }
            b'(' | b'[' => self.open(c),
            b')' | b']' | b'}' => {
                self.ctx.nesting = self.ctx.nesting.saturating_sub(1);
                self.ctx.stmt.push(Tok::Punct(char::from(c)));
            }
            _ if c.is_ascii() => self.ctx.stmt.push(Tok::Punct(char::from(c))),
            // Skip the rest of a multi-byte character.
            _ => {
                while self.i < self.end && (self.peek(0) & 0xC0) == 0x80 {
                    self.i += 1;
                }
            }
        }
    }

    fn open(&mut self, c: u8) {
        self.ctx.nesting += 1;
        self.ctx.stmt.push(Tok::Punct(char::from(c)));
    }

    /// A `{` opens a map (not a body) after `=`, `:`, `,`, `(` or `[`, or inside brackets.
    fn opens_map(&self) -> bool {
        self.ctx.nesting > 0
            || matches!(
                self.ctx.stmt.last(),
                Some(Tok::Punct('=' | ':' | ',' | '(' | '['))
            )
    }

    /// An attribute line (`key = value`) in a body may end at a newline without `;`.
    fn newline(&mut self) {
        let s = &self.ctx.stmt;
        if self.ctx.nesting == 0
            && s.len() >= 3
            && matches!(s[0], Tok::Ident(_))
            && s[1] == Tok::Punct('=')
            && !matches!(s.last(), Some(Tok::Punct(_)))
        {
            self.end_statement();
        }
    }

    fn end_statement(&mut self) {
        self.ctx.stmt.clear();
        self.ctx.nesting = 0;
    }
}

fn find(hay: &[u8], from: usize, needle: &[u8]) -> Option<usize> {
    hay.get(from..)?
        .windows(needle.len())
        .position(|w| w == needle)
        .map(|p| p + from)
}

/// The offset just past the closing quote of a one-line string.
fn short_string_end(bytes: &[u8], mut i: usize) -> Option<usize> {
    while i < bytes.len() {
        match bytes[i] {
            b'\\' => i += 2,
            b'"' => return Some(i + 1),
            b'\n' => return None,
            _ => i += 1,
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ctx(text: &str) -> Context {
        at(text, text.len())
    }

    #[test]
    fn blocks_and_statements() {
        let c = ctx("gce {\n  region = \"x\"\n  zo");
        assert_eq!(c.blocks, ["gce"]);
        assert!(c.stmt.is_empty());
        let c = ctx("vm a e2-standard-2 { }\nservice s image=\"x\" labels={a: 1} {\n env A = ");
        assert_eq!(c.blocks, ["service"]);
        assert_eq!(c.head(), Some("env"));
        let c = ctx("vm a e2-sta");
        assert_eq!(c.stmt, [Tok::Ident("vm".into()), Tok::Ident("a".into())]);
        assert_eq!(c.prefix_start, 5);
    }

    #[test]
    fn strings_and_comments() {
        let c = ctx("gce { image = \"ubuntu-os");
        assert!(c.in_string);
        assert_eq!(c.prefix_start, 15);
        assert!(ctx("# vm a").in_comment);
        let c = ctx("firewall f tcp:80,443 from=\"a;b\" to=");
        assert_eq!(c.stmt.last(), Some(&Tok::Punct('=')));
        assert_eq!(c.stmt.len(), 8);
    }
}
