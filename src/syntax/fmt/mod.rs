//! The canonical formatter behind `sdbc fmt`.
//!
//! [`format`] prints a [`SourceAst`] that parsed without syntax errors:
//! two-space indentation, one item per line, single spaces inside a
//! declaration, `=` aligned across runs of attribute lines, lists and maps
//! on one line when they fit in [`WIDTH`] columns and one element per line
//! otherwise, at most one blank line kept between items, and every comment
//! kept. The printer reads the source text only for what the tree does not
//! keep: comment placement, blank lines and literals printed as written.
//!
//! Submodules: [`doc`] (the width-aware layout engine), `expr` (expressions
//! as layouts), `block` (items, comments, blank lines and alignment) and
//! `trivia` (facts about the text between nodes).

mod block;
pub mod doc;
mod expr;
mod trivia;

use super::ast::{Comment, SourceAst};

/// The line width that lists and maps are broken to fit.
pub const WIDTH: usize = 100;

/// The canonical text of a file that parsed without syntax errors.
///
/// `source` must be the text `ast` was parsed from. The result ends with
/// exactly one newline (or is empty for a file with neither items nor
/// comments); formatting it again gives the same text.
pub fn format(ast: &SourceAst, source: &str) -> String {
    let sorted;
    let comments = if ast.comments.is_sorted_by_key(|c| c.span.start) {
        &ast.comments
    } else {
        let mut copy = ast.comments.clone();
        copy.sort_by_key(|c| c.span.start);
        sorted = copy;
        &sorted
    };
    let ctx = Ctx { source, comments };
    let (_, lines) = ctx.block(&ast.items, 0..source.len(), 0, false);
    if lines.is_empty() {
        return String::new();
    }
    let mut out = lines.join("\n");
    out.push('\n');
    out
}

/// What every printing function needs: the source and its comments.
pub(crate) struct Ctx<'a> {
    source: &'a str,
    /// Sorted by start offset.
    comments: &'a [Comment],
}

impl<'a> Ctx<'a> {
    /// The comments that start in `range`.
    fn comments_in(&self, range: std::ops::Range<usize>) -> &'a [Comment] {
        let start = |c: &Comment| c.span.start as usize;
        let lo = self.comments.partition_point(|c| start(c) < range.start);
        let hi = self.comments.partition_point(|c| start(c) < range.end);
        self.comments.get(lo..hi.max(lo)).unwrap_or(&[])
    }
}
