//! A tiny hand-written scanner for what pest cannot do for us: skipping
//! trivia between items, bounding bracket nesting before parsing, finding
//! the next point to resume after an error, and naming the offending token.
//! It knows just enough (strings, comments, brackets) to stay in step.

/// Whitespace or a comment at some position; holds its end offset.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Trivia {
    Space(usize),
    Comment(usize),
}

impl Trivia {
    pub fn end(self) -> usize {
        match self {
            Trivia::Space(e) | Trivia::Comment(e) => e,
        }
    }
}

pub fn trivia_at(text: &str, pos: usize) -> Option<Trivia> {
    let rest = text.get(pos..)?;
    let first = rest.chars().next()?;
    if first.is_whitespace() || first == '\u{FEFF}' {
        let len: usize = rest
            .chars()
            .take_while(|c| c.is_whitespace() || *c == '\u{FEFF}')
            .map(char::len_utf8)
            .sum();
        return Some(Trivia::Space(pos + len));
    }
    if rest.starts_with('#') || rest.starts_with("//") {
        let len = rest.find('\n').unwrap_or(rest.len());
        return Some(Trivia::Comment(pos + len));
    }
    None
}

/// The end of a `"""` string opening at `i` (past its closing quotes), or
/// `None` if it is not closed.
fn long_string_end(bytes: &[u8], i: usize) -> Option<usize> {
    let body = i + 3;
    bytes
        .get(body..)?
        .windows(3)
        .position(|w| w == b"\"\"\"")
        .map(|n| body + n + 3)
}

fn opens_long_string(bytes: &[u8], i: usize) -> bool {
    bytes.get(i..i + 3) == Some(&b"\"\"\""[..])
}

/// Walks code, calling `f(offset, byte)` for bytes outside strings and comments.
fn walk_code(text: &str, from: usize, mut f: impl FnMut(usize, u8) -> bool) {
    let bytes = text.as_bytes();
    let mut i = from;
    let mut in_string = false;
    while i < bytes.len() {
        let b = bytes[i];
        if !in_string && opens_long_string(bytes, i) {
            i = long_string_end(bytes, i).unwrap_or(bytes.len());
            continue;
        }
        if in_string {
            match b {
                b'\\' => i += 1,
                b'"' | b'\n' => in_string = false,
                _ => {}
            }
        } else if b == b'"' {
            in_string = true;
        } else if b == b'#' || (b == b'/' && bytes.get(i + 1) == Some(&b'/')) {
            while i < bytes.len() && bytes[i] != b'\n' {
                i += 1;
            }
            continue;
        } else if !f(i, b) {
            return;
        }
        i += 1;
    }
}

/// Offsets of every bracket that opens deeper than `max` (the first of each run).
pub fn too_deep_positions(text: &str, max: usize) -> Vec<usize> {
    let mut out = Vec::new();
    let mut depth = 0usize;
    let mut reported_run = false;
    walk_code(text, 0, |i, b| {
        match b {
            b'(' | b'[' | b'{' => {
                depth += 1;
                if depth > max && !reported_run {
                    out.push(i);
                    reported_run = true;
                }
            }
            b')' | b']' | b'}' => {
                depth = depth.saturating_sub(1);
                if depth <= max {
                    reported_run = false;
                }
            }
            _ => {}
        }
        true
    });
    out
}

/// Offsets of the brackets opened in `text[from..]` and not closed by its
/// end, outermost first (strings and comments skipped).
pub fn open_brackets(text: &str, from: usize) -> Vec<usize> {
    let mut open = Vec::new();
    walk_code(text, from, |i, b| {
        match b {
            b'(' | b'[' | b'{' => open.push(i),
            b')' | b']' | b'}' => {
                open.pop();
            }
            _ => {}
        }
        true
    });
    open
}

/// The start of the next line at or after `from` whose first character (in
/// column 0) can start a declaration; the end of the text if none.
pub fn next_sync_point(text: &str, from: usize) -> usize {
    let from = floor_char_boundary(text, from.min(text.len()));
    let mut line_start = match text[..from].rfind('\n') {
        Some(n) => n + 1,
        None => 0,
    };
    if line_start < from {
        line_start = match text[from..].find('\n') {
            Some(n) => from + n + 1,
            None => return text.len(),
        };
    }
    loop {
        let rest = &text[line_start..];
        if rest.is_empty() {
            return text.len();
        }
        let first = rest.as_bytes()[0];
        if first.is_ascii_alphabetic() || first == b'_' || first == b'#' || rest.starts_with("//") {
            return line_start;
        }
        match rest.find('\n') {
            Some(n) => line_start += n + 1,
            None => return text.len(),
        }
    }
}

fn floor_char_boundary(text: &str, mut i: usize) -> usize {
    while i > 0 && !text.is_char_boundary(i) {
        i -= 1;
    }
    i
}

/// If a string opened between `from` and `at` is never closed on its line,
/// the offset of its opening quote.
pub fn unterminated_string(text: &str, from: usize, at: usize) -> Option<usize> {
    let bytes = text.as_bytes();
    let mut i = from;
    let mut open: Option<usize> = None;
    while i < bytes.len() && i <= at {
        let b = bytes[i];
        if open.is_none() && opens_long_string(bytes, i) {
            match long_string_end(bytes, i) {
                Some(end) if end <= at => {
                    i = end;
                    continue;
                }
                Some(_) => return None,
                None => return Some(i),
            }
        }
        match open {
            Some(_) => match b {
                b'\\' => i += 1,
                b'"' => open = None,
                b'\n' => return open,
                _ => {}
            },
            None => {
                if b == b'"' {
                    open = Some(i);
                } else if b == b'#' || (b == b'/' && bytes.get(i + 1) == Some(&b'/')) {
                    while i < bytes.len() && bytes[i] != b'\n' {
                        i += 1;
                    }
                    continue;
                }
            }
        }
        i += 1;
    }
    if i >= bytes.len() { open } else { None }
}

/// End offset of the token starting at `at` (at least one character).
pub fn token_end(text: &str, at: usize) -> usize {
    let at = floor_char_boundary(text, at.min(text.len()));
    let rest = &text[at..];
    let word: usize = rest
        .chars()
        .take_while(|c| c.is_alphanumeric() || *c == '_' || *c == '-' || *c == '.')
        .map(char::len_utf8)
        .sum();
    if word > 0 {
        return at + word;
    }
    at + rest.chars().next().map_or(0, char::len_utf8)
}

/// "`foo`", "`;`", "end of file", "a line break" for the token at `at`.
pub fn describe_token(text: &str, at: usize) -> String {
    let at = floor_char_boundary(text, at.min(text.len()));
    let end = token_end(text, at);
    match &text[at..end] {
        "" => String::from("end of file"),
        "\n" | "\r" => String::from("a line break"),
        tok if tok.chars().count() > 24 => {
            format!("`{}…`", tok.chars().take(24).collect::<String>())
        }
        tok => format!("`{tok}`"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sync_point_skips_indented_lines() {
        let t = "vm a {\n  x = \n}\nvm b e2;\n";
        assert_eq!(next_sync_point(t, 12), t.find("vm b").unwrap());
    }

    #[test]
    fn nesting_is_bounded() {
        let deep = "[".repeat(40);
        assert_eq!(too_deep_positions(&deep, 32), vec![32]);
        assert!(too_deep_positions("\"[[[[\" # [[[[", 1).is_empty());
    }

    #[test]
    fn long_strings_are_skipped() {
        let t = "config c \"\"\"\n[[[[\n\"\"\";";
        assert!(too_deep_positions(t, 1).is_empty());
        assert_eq!(unterminated_string("x = \"\"\"\nabc", 0, 9), Some(4));
        assert_eq!(
            unterminated_string("let y = \"\"\"\n a\n \"\"\" 1 = ;", 0, 20),
            None
        );
    }

    #[test]
    fn unterminated_string_found() {
        let t = "x = \"abc\ny = 1;";
        assert_eq!(unterminated_string(t, 0, 8), Some(4));
        assert_eq!(unterminated_string("x = \"a\";", 0, 7), None);
    }
}
