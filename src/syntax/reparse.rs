//! Incremental parsing for the editor: after an edit, only the items the
//! edit can have changed are parsed again; the rest are taken from the
//! previous parse of the same file, moved to their new offsets.
//!
//! The parser works in steps (trivia, then one item or one error; see
//! [`Step`]). A step's outcome depends only on the text from its start on,
//! so a step that began in the unchanged tail of the file is reproduced
//! exactly, shifted by the edit's change in length, once parsing reaches
//! its (shifted) start. A declaration's step also depends on nothing past
//! its `reads_to`, so a step of the unchanged head whose `reads_to` lies
//! before the first changed byte is kept as it was whenever parsing
//! reaches its start (also after an error earlier in the file). Other
//! steps are never kept from the head (where pest stopped reading is not
//! known), and a file with brackets nested past the limit is parsed whole.
//!
//! The result is exactly [`super::parse`]'s; `tests/reparse.rs` holds the
//! two to that over thousands of random edits.

use std::collections::HashMap;
use std::sync::Mutex;

use super::ast::SourceAst;
use super::parser::{Cursor, Step, assemble};
use super::relocate::{Move, Relocate};
use crate::diag::Diagnostic;
use crate::span::FileId;

/// The previous parse of one file: its text and its steps.
#[derive(Debug, Clone)]
pub struct ParseMemo {
    file: FileId,
    text: String,
    steps: Vec<Step>,
    /// Whether the steps may be reused (no bracket nested past the limit).
    reusable: bool,
}

/// How much of a reparse was reused (for tests and benchmarks).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Reuse {
    pub kept: usize,
    pub parsed: usize,
}

/// Parses `text`, reusing what it can of `memo`; returns the tree, the
/// diagnostics, what was reused and the memo for the next edit.
pub fn reparse(
    file: FileId,
    text: &str,
    memo: Option<ParseMemo>,
) -> (SourceAst, Vec<Diagnostic>, Reuse, ParseMemo) {
    let mut cursor = Cursor::new(text);
    let reusable = !cursor.nests_too_deep();
    let old = memo.filter(|m| m.reusable && reusable);
    let mut reuse = Reuse::default();
    let steps = match old {
        Some(old) => reuse_steps(file, text, old, &mut cursor, &mut reuse),
        None => {
            let steps = super::chunks::parse_steps(file, text, None);
            reuse.parsed = steps.len();
            steps
        }
    };
    let (ast, diags) = assemble(steps.iter().cloned());
    let memo = ParseMemo {
        file,
        text: text.to_string(),
        steps,
        reusable,
    };
    (ast, diags, reuse, memo)
}

fn reuse_steps(
    file: FileId,
    text: &str,
    old: ParseMemo,
    cursor: &mut Cursor,
    reuse: &mut Reuse,
) -> Vec<Step> {
    let head = common_prefix(old.text.as_bytes(), text.as_bytes());
    let room = old.text.len().min(text.len()) - head;
    let tail = common_suffix(old.text.as_bytes(), text.as_bytes()).min(room);
    let tail_start_old = old.text.len() - tail;
    let delta = text.len() as i64 - old.text.len() as i64;
    let starts: Vec<usize> = old.steps.iter().map(|s| s.start).collect();
    let mut old_steps: Vec<Option<Step>> = old.steps.into_iter().map(Some).collect();
    let find = |at: i64| {
        usize::try_from(at)
            .ok()
            .and_then(|at| starts.binary_search(&at).ok())
    };
    let mut steps = Vec::new();
    loop {
        // A step of the unchanged head that reads nothing edited.
        let same_head = find(cursor.pos as i64)
            .filter(|&i| old_steps[i].as_ref().is_some_and(|s| s.reads_to <= head));
        if let Some(step) = same_head.and_then(|i| old_steps[i].take()) {
            cursor.pos = step.end;
            steps.push(relocated(step, Move { file, delta: 0 }, old.file));
            reuse.kept += 1;
            continue;
        }
        // A step of the unchanged tail: it and all after it are as before.
        let same_tail = find(cursor.pos as i64 - delta).filter(|&i| starts[i] >= tail_start_old);
        if let Some(i) = same_tail {
            for step in old_steps.drain(i..).flatten() {
                steps.push(relocated(step, Move { file, delta }, old.file));
                reuse.kept += 1;
            }
            break;
        }
        match cursor.step(file, text) {
            Some(step) => {
                steps.push(step);
                reuse.parsed += 1;
            }
            None => break,
        }
    }
    steps
}

fn relocated(mut step: Step, to: Move, from_file: FileId) -> Step {
    if to.is_identity(from_file) {
        return step;
    }
    let at = |o: usize| usize::try_from(o as i64 + to.delta).unwrap_or(0);
    step.start = at(step.start);
    step.end = at(step.end);
    step.reads_to = at(step.reads_to);
    step.item.relocate(to);
    step.comments.relocate(to);
    step.diags.relocate(to);
    step
}

fn common_prefix(a: &[u8], b: &[u8]) -> usize {
    a.iter().zip(b).take_while(|(x, y)| x == y).count()
}

fn common_suffix(a: &[u8], b: &[u8]) -> usize {
    a.iter()
        .rev()
        .zip(b.iter().rev())
        .take_while(|(x, y)| x == y)
        .count()
}

/// The memos of recently parsed files, by file name, shared by the
/// analyses of an editor session.
#[derive(Debug, Default)]
pub struct ParseCache {
    memos: Mutex<HashMap<String, ParseMemo>>,
}

/// Files remembered at most; beyond that the cache starts again.
const MAX_FILES: usize = 64;

impl ParseCache {
    /// Parses the file called `name`, reusing its last parse.
    pub fn parse(&self, name: &str, file: FileId, text: &str) -> (SourceAst, Vec<Diagnostic>) {
        let memo = self.lock().remove(name);
        let (ast, diags, _, memo) = reparse(file, text, memo);
        let mut memos = self.lock();
        if memos.len() >= MAX_FILES {
            memos.clear();
        }
        memos.insert(name.to_string(), memo);
        (ast, diags)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, ParseMemo>> {
        // A panic while holding the lock leaves at worst a stale memo,
        // which reparse checks against the text anyway.
        self.memos.lock().unwrap_or_else(|p| p.into_inner())
    }
}
