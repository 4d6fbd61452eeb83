//! Facts about the source text between and around AST nodes that the tree
//! does not record: where an item's code really ends (pest may let a span run
//! over trailing whitespace and comments), and where blank lines are.

use crate::span::Span;

#[derive(Clone, Copy, PartialEq, Eq)]
enum Mode {
    /// Code, with the depth of `{` opened inside the current interpolation.
    Code(u32),
    Str,
}

/// The offset just past the last byte of code (not whitespace, not a
/// comment) in `span`; `span.start` if there is none.
pub fn code_end(source: &str, span: Span) -> usize {
    let bytes = source.as_bytes();
    let end = (span.end as usize).min(bytes.len());
    let mut i = (span.start as usize).min(end);
    let mut last = i;
    let mut stack = vec![Mode::Code(0)];
    while i < end {
        let b = bytes[i];
        let top = stack.last().copied().unwrap_or(Mode::Code(0));
        let mut step = 1;
        match top {
            Mode::Str => match b {
                b'\\' => step = 2,
                b'"' | b'\n' => {
                    stack.pop();
                }
                b'$' if bytes.get(i + 1) == Some(&b'{') => {
                    stack.push(Mode::Code(0));
                    step = 2;
                }
                _ => {}
            },
            Mode::Code(depth) => {
                if b.is_ascii_whitespace() {
                    i += 1;
                    continue;
                }
                if b == b'#' || (b == b'/' && bytes.get(i + 1) == Some(&b'/')) {
                    i += bytes[i..end]
                        .iter()
                        .position(|&c| c == b'\n')
                        .unwrap_or(end - i);
                    continue;
                }
                code_byte(&mut stack, b, depth);
            }
        }
        i = (i + step).min(end);
        last = i;
    }
    last
}

fn code_byte(stack: &mut Vec<Mode>, b: u8, depth: u32) {
    let nested = stack.len() > 1;
    match b {
        b'"' => stack.push(Mode::Str),
        b'{' => set_top(stack, Mode::Code(depth + 1)),
        b'}' if depth == 0 && nested => {
            stack.pop();
        }
        b'}' => set_top(stack, Mode::Code(depth.saturating_sub(1))),
        _ => {}
    }
}

fn set_top(stack: &mut [Mode], mode: Mode) {
    if let Some(top) = stack.last_mut() {
        *top = mode;
    }
}

/// Whether the source between two offsets holds a blank line.
pub fn blank_between(source: &str, from: usize, to: usize) -> bool {
    source
        .get(from..to)
        .is_some_and(|s| s.matches('\n').count() >= 2)
}

/// Whether the source between two offsets holds a line break.
pub fn newline_between(source: &str, from: usize, to: usize) -> bool {
    source.get(from..to).is_none_or(|s| s.contains('\n'))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::span::FileId;

    fn end_of(s: &str) -> usize {
        code_end(s, Span::new(FileId(0), 0, s.len()))
    }

    #[test]
    fn trailing_trivia_is_not_code() {
        assert_eq!(end_of("a = 1  # c\n  // d\n"), 5);
        assert_eq!(end_of("x = \"a # b\" "), 11);
        assert_eq!(end_of("x = \"${f(\"#\")}\" # c"), 15);
        assert_eq!(end_of("  # only\n"), 0);
    }

    #[test]
    fn blank_lines() {
        assert!(blank_between("a\n\n  b", 1, 5));
        assert!(!blank_between("a\n  b", 1, 4));
    }
}
