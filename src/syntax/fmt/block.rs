//! Items and the comments around them: which comment goes where (before an
//! item, after it on its line, after a `{`, or lifted out of an expression to
//! a line of its own), blank lines between items, and the alignment of `=`
//! across runs of attribute lines.

use std::ops::Range;

use super::doc::{self, Doc};
use super::trivia::{blank_between, code_end, newline_between};
use super::{Ctx, WIDTH};
use crate::syntax::ast::{Arg, Comment, Decl, Item, Param};

/// Where the comments of one block go.
struct Placed<'a> {
    /// Comments inside an item that the printer cannot place there.
    lifted: Vec<Vec<&'a Comment>>,
    /// The comment after an item on its last line.
    trailing: Vec<Option<&'a Comment>>,
    /// Own-line comments before item `k` (`k == items.len()`: before the `}`).
    before: Vec<Vec<&'a Comment>>,
    /// A comment on the line of the opening `{`, before any item.
    open: Option<&'a Comment>,
    /// Where each item's code ends.
    ends: Vec<usize>,
}

/// One line-starting thing in a block, with the source range it covers.
struct Entry<'a> {
    what: What<'a>,
    start: usize,
    end: usize,
}

enum What<'a> {
    Comment(&'a Comment),
    Item(usize),
}

impl<'a> Ctx<'a> {
    /// The lines of a block's items at `depth`, and the comment that goes on
    /// the line of its `{`. `range` is the text between the braces.
    pub fn block(
        &self,
        items: &[Item],
        range: Range<usize>,
        depth: usize,
        in_braces: bool,
    ) -> (Option<&'a Comment>, Vec<String>) {
        let placed = self.place(items, range, in_braces);
        let entries = entries(items, &placed);
        let pads = self.pads(items, &placed, &entries);
        let indent = "  ".repeat(depth);
        let mut lines = Vec::new();
        for (i, entry) in entries.iter().enumerate() {
            if i > 0 && blank_between(self.source, entries[i - 1].end, entry.start) {
                lines.push(String::new());
            }
            match entry.what {
                What::Comment(c) => lines.push(format!("{indent}{}", c.text)),
                What::Item(k) => {
                    for c in &placed.lifted[k] {
                        lines.push(format!("{indent}{}", c.text));
                    }
                    self.item(&items[k], depth, pads[k], &mut lines);
                    if let Some(c) = placed.trailing[k] {
                        append(&mut lines, &c.text);
                    }
                }
            }
        }
        (placed.open, lines)
    }

    /// Decide where each comment in `range` goes.
    fn place(&self, items: &[Item], range: Range<usize>, in_braces: bool) -> Placed<'a> {
        let ends: Vec<usize> = items
            .iter()
            .map(|i| code_end(self.source, i.span()))
            .collect();
        let mut placed = Placed {
            lifted: vec![Vec::new(); items.len()],
            trailing: vec![None; items.len()],
            before: vec![Vec::new(); items.len() + 1],
            open: None,
            ends,
        };
        for c in self.comments_in(range.clone()) {
            let at = c.span.start as usize;
            let k = items.partition_point(|i| (i.span().start as usize) <= at);
            if k > 0 && at < placed.ends[k - 1] {
                if !in_body(&items[k - 1], at) {
                    placed.lifted[k - 1].push(c);
                }
                continue;
            }
            let k = placed.ends.partition_point(|&e| e <= at);
            if k > 0
                && placed.trailing[k - 1].is_none()
                && !newline_between(self.source, placed.ends[k - 1], at)
            {
                placed.trailing[k - 1] = Some(c);
            } else if k == 0
                && in_braces
                && placed.open.is_none()
                && !newline_between(self.source, range.start, at)
            {
                placed.open = Some(c);
            } else {
                placed.before[k].push(c);
            }
        }
        placed
    }

    /// The width each attribute key is padded to so that `=` lines up within
    /// a run of attribute lines; runs break at blank lines, comment lines and
    /// declarations.
    fn pads(&self, items: &[Item], placed: &Placed, entries: &[Entry]) -> Vec<usize> {
        let mut pads = vec![0; items.len()];
        let mut run: Vec<usize> = Vec::new();
        for (i, entry) in entries.iter().enumerate() {
            let blank = i > 0 && blank_between(self.source, entries[i - 1].end, entry.start);
            let attr = match entry.what {
                What::Item(k) => match &items[k] {
                    Item::Attr(a) => Some((k, a.key.name.chars().count())),
                    Item::Decl(_) => None,
                },
                What::Comment(_) => None,
            };
            let starts_run = attr.is_none_or(|(k, _)| blank || !placed.lifted[k].is_empty());
            if starts_run {
                flush(&mut run, &mut pads);
            }
            if let Some((k, width)) = attr {
                pads[k] = width;
                run.push(k);
            }
        }
        flush(&mut run, &mut pads);
        pads
    }

    fn item(&self, item: &Item, depth: usize, pad: usize, lines: &mut Vec<String>) {
        match item {
            Item::Attr(a) => {
                let key = format!("{:<pad$} = ", a.key.name);
                let head = Doc::Concat(vec![Doc::text(key), self.expr(&a.value)]);
                push_rendered(lines, depth, &head);
            }
            Item::Decl(d) => self.decl(d, depth, lines),
        }
    }

    fn decl(&self, d: &Decl, depth: usize, lines: &mut Vec<String>) {
        let Some(body) = &d.body else {
            self.push_head(d, depth, ";", lines);
            return;
        };
        let interior = body.span.start as usize + 1..(body.span.end as usize).saturating_sub(1);
        let (open, body_lines) = self.block(&body.items, interior, depth + 1, true);
        if open.is_none() && body_lines.is_empty() {
            self.push_head(d, depth, " {}", lines);
            return;
        }
        self.push_head(d, depth, " {", lines);
        if let Some(c) = open {
            append(lines, &c.text);
        }
        lines.extend(body_lines);
        lines.push(format!("{}}}", "  ".repeat(depth)));
    }

    /// The head of a declaration followed by `tail`. A head too wide for one
    /// line keeps what fits and packs the other arguments onto continuation
    /// lines indented four more spaces; module parameters wrap under `(`.
    fn push_head(&self, d: &Decl, depth: usize, tail: &str, lines: &mut Vec<String>) {
        let mut head = self.decl_head(d);
        head.push(Doc::text(tail));
        let indent = depth * 2;
        if indent + first_line_width(&doc::flat(&Doc::Concat(head.clone()))) <= WIDTH
            || (d.args.is_empty() && d.params.is_none())
        {
            push_rendered(lines, depth, &Doc::Concat(head));
            return;
        }
        let first = lines.len();
        let mut line = format!("{}{}", " ".repeat(indent), self.head_start(d, indent));
        if let Some(params) = &d.params {
            let align = line.chars().count() + 1;
            let texts: Vec<String> = params.iter().map(|p| self.param(p)).collect();
            line.push('(');
            for (i, t) in texts.iter().enumerate() {
                let sep = if i + 1 < texts.len() { "," } else { ")" };
                let piece = format!("{t}{sep}");
                if i > 0 && line.chars().count() + 1 + piece.chars().count() > WIDTH {
                    lines.push(line);
                    line = format!("{}{piece}", " ".repeat(align));
                } else {
                    line.push_str(if i > 0 { " " } else { "" });
                    line.push_str(&piece);
                }
            }
            if texts.is_empty() {
                line.push(')');
            }
        }
        if let Some(value) = &d.value {
            line.push_str(" = ");
            line.push_str(&doc::flat(&self.expr(value)));
        }
        let cont = indent + 4;
        for arg in &d.args {
            let piece = Doc::Concat(self.arg(arg));
            let text = doc::flat(&piece);
            if line.chars().count() + 1 + first_line_width(&text) <= WIDTH {
                line.push(' ');
                line.push_str(&text);
                continue;
            }
            lines.push(line);
            line = format!("{}{}", " ".repeat(cont), doc::render(&piece, cont, WIDTH));
        }
        line.push_str(tail);
        lines.push(line);
        debug_assert!(lines.len() > first);
    }

    /// `kind subjects`, the part of a head that never wraps.
    fn head_start(&self, d: &Decl, indent: usize) -> String {
        let mut start = vec![Doc::text(d.kind.name.clone())];
        if !d.subjects.is_empty() {
            start.push(Doc::text(" "));
            start.extend(self.comma_separated(&d.subjects));
        }
        doc::render(&Doc::Concat(start), indent, WIDTH)
    }

    fn arg(&self, arg: &Arg) -> Vec<Doc> {
        match arg {
            Arg::Positional(e) => vec![self.expr(e)],
            Arg::Named { key, value } if key.name == "at" => {
                vec![Doc::text("at "), self.expr(value)]
            }
            Arg::Named { key, value } => {
                vec![Doc::text(format!("{}=", key.name)), self.expr(value)]
            }
        }
    }

    /// `kind subjects(params) = value args`, without the `;` or `{`.
    fn decl_head(&self, d: &Decl) -> Vec<Doc> {
        let mut head = vec![Doc::text(d.kind.name.clone())];
        if !d.subjects.is_empty() {
            head.push(Doc::text(" "));
            head.extend(self.comma_separated(&d.subjects));
        }
        if let Some(params) = &d.params {
            let params: Vec<String> = params.iter().map(|p| self.param(p)).collect();
            head.push(Doc::text(format!("({})", params.join(", "))));
        }
        if let Some(value) = &d.value {
            head.push(Doc::text(" = "));
            head.push(self.expr(value));
        }
        for arg in &d.args {
            head.push(Doc::text(" "));
            head.extend(self.arg(arg));
        }
        head
    }

    fn param(&self, p: &Param) -> String {
        match &p.default {
            Some(e) => format!("{} = {}", p.name.name, self.flat(e)),
            None => p.name.name.clone(),
        }
    }
}

/// The block's comments and items in source order.
fn entries<'a>(items: &[Item], placed: &Placed<'a>) -> Vec<Entry<'a>> {
    let mut out = Vec::new();
    for (k, before) in placed.before.iter().enumerate() {
        out.extend(before.iter().map(|c| Entry {
            what: What::Comment(c),
            start: c.span.start as usize,
            end: c.span.end as usize,
        }));
        if let Some(item) = items.get(k) {
            let end = placed.trailing[k].map_or(placed.ends[k], |c| c.span.end as usize);
            out.push(Entry {
                what: What::Item(k),
                start: item.span().start as usize,
                end,
            });
        }
    }
    out
}

/// Whether `at` is inside the braces of a declaration's body.
fn in_body(item: &Item, at: usize) -> bool {
    match item {
        Item::Decl(Decl { body: Some(b), .. }) => {
            (b.span.start as usize) < at && at < (b.span.end as usize)
        }
        _ => false,
    }
}

fn flush(run: &mut Vec<usize>, pads: &mut [usize]) {
    let width = run.iter().map(|&k| pads[k]).max().unwrap_or(0);
    for &k in run.iter() {
        pads[k] = width;
    }
    run.clear();
}

/// Render a layout at `depth` and add its lines.
fn push_rendered(lines: &mut Vec<String>, depth: usize, d: &Doc) {
    let text = doc::render(d, depth * 2, WIDTH);
    let indent = "  ".repeat(depth);
    for (i, line) in text.split('\n').enumerate() {
        if i == 0 {
            lines.push(format!("{indent}{line}"));
        } else {
            lines.push(line.to_string());
        }
    }
}

/// Columns up to the first line break (a `"""` string runs over several lines).
fn first_line_width(s: &str) -> usize {
    s.split('\n').next().unwrap_or("").chars().count()
}

/// Put a trailing comment at the end of the last line.
fn append(lines: &mut [String], comment: &str) {
    if let Some(last) = lines.last_mut() {
        last.push(' ');
        last.push_str(comment);
    }
}
