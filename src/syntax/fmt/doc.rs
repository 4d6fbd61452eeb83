//! A small width-aware document printer (in the style of Wadler and
//! Prettier) used to lay out lists and maps: a [`Doc::Group`] prints on one
//! line when everything up to the next possible line break fits in the
//! width, and otherwise breaks every [`Doc::Line`] that belongs to it.

/// A layout document.
///
/// Text normally holds no line breaks; text that does (a string written
/// over several lines) is printed as it is.
#[derive(Debug, Clone)]
pub enum Doc {
    /// Literal text without line breaks.
    Text(String),
    /// A space when the enclosing group is flat, a line break when broken.
    Line,
    /// Nothing when the enclosing group is flat, a line break when broken.
    SoftLine,
    /// Text printed only when the enclosing group is broken.
    IfBreak(&'static str),
    /// Contents indented one level (two spaces) deeper after a line break.
    Nest(Vec<Doc>),
    /// Contents printed flat if they fit, else broken.
    Group(Vec<Doc>),
    /// Contents in sequence.
    Concat(Vec<Doc>),
}

impl Doc {
    pub fn text(s: impl Into<String>) -> Doc {
        Doc::Text(s.into())
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    Flat,
    Break,
}

type Cmd<'d> = (usize, Mode, &'d Doc);

/// Print `doc` as if it started at column `indent` on a line indented by
/// `indent` spaces; lines broken inside it are indented from there. The
/// returned text does not include the first line's indentation.
pub fn render(doc: &Doc, indent: usize, width: usize) -> String {
    let mut out = String::new();
    let mut col = indent;
    let mut stack: Vec<Cmd> = vec![(indent, Mode::Break, doc)];
    while let Some((ind, mode, d)) = stack.pop() {
        match d {
            Doc::Text(s) => {
                out.push_str(s);
                col = match s.rfind('\n') {
                    Some(n) => s[n + 1..].chars().count(),
                    None => col + s.chars().count(),
                };
            }
            Doc::Line | Doc::SoftLine if mode == Mode::Break => {
                out.push('\n');
                out.extend(std::iter::repeat_n(' ', ind));
                col = ind;
            }
            Doc::Line => {
                out.push(' ');
                col += 1;
            }
            Doc::SoftLine => {}
            Doc::IfBreak(s) => {
                if mode == Mode::Break {
                    out.push_str(s);
                    col += s.chars().count();
                }
            }
            Doc::Nest(ds) => push_all(&mut stack, ind + 2, mode, ds),
            Doc::Concat(ds) => push_all(&mut stack, ind, mode, ds),
            Doc::Group(ds) => {
                let fits = mode == Mode::Flat || fits(ds, &stack, width.saturating_sub(col));
                let mode = if fits { Mode::Flat } else { Mode::Break };
                push_all(&mut stack, ind, mode, ds);
            }
        }
    }
    out
}

/// The text of a document printed on one line.
pub fn flat(doc: &Doc) -> String {
    let mut out = String::new();
    let mut stack: Vec<&Doc> = vec![doc];
    while let Some(d) = stack.pop() {
        match d {
            Doc::Text(s) => out.push_str(s),
            Doc::Line => out.push(' '),
            Doc::SoftLine | Doc::IfBreak(_) => {}
            Doc::Nest(ds) | Doc::Group(ds) | Doc::Concat(ds) => stack.extend(ds.iter().rev()),
        }
    }
    out
}

fn push_all<'d>(stack: &mut Vec<Cmd<'d>>, ind: usize, mode: Mode, ds: &'d [Doc]) {
    stack.extend(ds.iter().rev().map(|d| (ind, mode, d)));
}

/// Whether `next` printed flat, followed by the rest of the line (what is
/// still on `rest` up to its first forced line break, with any groups in it
/// flat), fits in `remaining` columns.
fn fits(next: &[Doc], rest: &[Cmd], remaining: usize) -> bool {
    let mut remaining = remaining;
    let mut work: Vec<(Mode, &Doc)> = next.iter().rev().map(|d| (Mode::Flat, d)).collect();
    let mut rest_idx = rest.len();
    loop {
        let (mode, d) = match work.pop() {
            Some(w) => w,
            None if rest_idx == 0 => return true,
            None => {
                rest_idx -= 1;
                let (_, mode, d) = rest[rest_idx];
                (mode, d)
            }
        };
        let used = match d {
            // Text written over several lines (a `"""` string) ends the line.
            Doc::Text(s) if s.contains('\n') => {
                let first = s.split('\n').next().unwrap_or("");
                return first.chars().count() <= remaining;
            }
            Doc::Text(s) => s.chars().count(),
            Doc::Line | Doc::SoftLine if mode == Mode::Break => return true,
            Doc::Line => 1,
            Doc::SoftLine => 0,
            Doc::IfBreak(s) if mode == Mode::Break => s.chars().count(),
            Doc::IfBreak(_) => 0,
            // A later group on the same line counts as flat: a group breaks
            // when the whole line it starts would not fit.
            Doc::Group(ds) => {
                work.extend(ds.iter().rev().map(|d| (Mode::Flat, d)));
                0
            }
            Doc::Nest(ds) | Doc::Concat(ds) => {
                work.extend(ds.iter().rev().map(|d| (mode, d)));
                0
            }
        };
        if used > remaining {
            return false;
        }
        remaining -= used;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn list(items: &[&str]) -> Doc {
        let mut inner = vec![Doc::SoftLine];
        for (i, it) in items.iter().enumerate() {
            if i > 0 {
                inner.push(Doc::text(","));
                inner.push(Doc::Line);
            }
            inner.push(Doc::text(*it));
        }
        inner.push(Doc::IfBreak(","));
        Doc::Group(vec![
            Doc::text("["),
            Doc::Nest(inner),
            Doc::SoftLine,
            Doc::text("]"),
        ])
    }

    #[test]
    fn group_stays_flat_when_it_fits() {
        let d = list(&["a", "b"]);
        assert_eq!(render(&d, 0, 10), "[a, b]");
        assert_eq!(flat(&d), "[a, b]");
    }

    #[test]
    fn group_breaks_with_trailing_comma() {
        let d = Doc::Concat(vec![list(&["aaaa", "bbbb"]), Doc::text(";")]);
        assert_eq!(render(&d, 2, 12), "[\n    aaaa,\n    bbbb,\n  ];");
    }

    #[test]
    fn a_later_group_on_the_line_counts_as_flat() {
        let d = Doc::Concat(vec![list(&["aaaa"]), Doc::text(" "), list(&["b"])]);
        assert_eq!(render(&d, 0, 9), "[\n  aaaa,\n] [b]");
    }

    #[test]
    fn text_after_group_counts_towards_the_line() {
        let d = Doc::Concat(vec![list(&["a"]), Doc::text(" long tail")]);
        assert_eq!(render(&d, 0, 8), "[\n  a,\n] long tail");
    }
}
