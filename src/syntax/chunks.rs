//! Parsing a large file on several threads.
//!
//! A parse is a chain of steps (see [`Step`]), and a step's outcome depends
//! only on the text from its start on. So the file is cut at lines that
//! look like the start of a declaration, each chunk after the first is
//! parsed on its own thread from its cut, and the chains are joined: when
//! the parse coming from the left lands exactly on the start of a step of
//! the next chunk's chain, the rest of that chain is what a single thread
//! would have produced. If it does not land on one (a declaration spans
//! the cut, say an unindented body line), the left parse simply goes on
//! until it does, or past that chain. The result is always that of one
//! thread; `tests/reparse.rs` compares the two.
//!
//! A file with brackets nested past the limit is parsed on one thread: its
//! nesting limits move as errors are recovered from.

use super::parser::{Cursor, Step};
use crate::span::FileId;

/// Below this many bytes per chunk, threads cost more than they save.
const MIN_CHUNK: usize = 64 * 1024;
const MAX_THREADS: usize = 8;
/// A parsing thread's stack: as much as the main thread's.
const STACK: usize = 8 * 1024 * 1024;

/// The steps of `text`, parsed in `chunks` pieces (by default as many as
/// the machine has cores, for files large enough to gain from it).
pub(crate) fn parse_steps(file: FileId, text: &str, chunks: Option<usize>) -> Vec<Step> {
    let mut cursor = Cursor::new(text);
    let chunks = match chunks {
        _ if cursor.nests_too_deep() => 1,
        Some(n) => n,
        None => default_chunks(text.len()),
    };
    let cuts = cut_points(text, chunks.max(1));
    if cuts.is_empty() {
        let mut steps = Vec::new();
        while let Some(step) = cursor.step(file, text) {
            steps.push(step);
        }
        return steps;
    }
    std::thread::scope(|scope| {
        let chains: Vec<_> = cuts
            .iter()
            .enumerate()
            .map(|(k, &from)| {
                let until = cuts.get(k + 1).copied().unwrap_or(text.len());
                std::thread::Builder::new()
                    .stack_size(STACK)
                    .spawn_scoped(scope, move || chain(file, text, from, until))
            })
            .collect();
        let mut steps = Vec::new();
        for (handle, &cut) in chains.into_iter().zip(&cuts) {
            // This thread's own share first, while the others parse theirs.
            while cursor.pos < cut {
                match cursor.step(file, text) {
                    Some(step) => steps.push(step),
                    None => break,
                }
            }
            // A thread that could not start leaves its chunk to this one.
            let chain = match handle.map(|h| h.join()) {
                Ok(Ok(chain)) => chain,
                Ok(Err(panic)) => std::panic::resume_unwind(panic),
                Err(_) => Vec::new(),
            };
            join(&mut cursor, &mut steps, chain, file, text);
        }
        while let Some(step) = cursor.step(file, text) {
            steps.push(step);
        }
        steps
    })
}

fn default_chunks(len: usize) -> usize {
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    cores.min(MAX_THREADS).min(len / MIN_CHUNK).max(1)
}

/// Where chunks after the first begin: line starts that can begin a
/// declaration, near equal shares of the text, increasing.
fn cut_points(text: &str, chunks: usize) -> Vec<usize> {
    let mut cuts: Vec<usize> = (1..chunks)
        .map(|k| super::scan::next_sync_point(text, k * text.len() / chunks))
        .filter(|&at| at > 0 && at < text.len())
        .collect();
    cuts.dedup();
    cuts
}

/// The steps from `from` until one ends at or past `until`.
fn chain(file: FileId, text: &str, from: usize, until: usize) -> Vec<Step> {
    let mut cursor = Cursor::at_shallow(from);
    let mut steps = Vec::new();
    while cursor.pos < until {
        match cursor.step(file, text) {
            Some(step) => steps.push(step),
            None => break,
        }
    }
    steps
}

/// Continues the parse at `cursor` until it lands on a step of `chain`
/// (then takes the rest of the chain) or passes the chain's end.
fn join(cursor: &mut Cursor, steps: &mut Vec<Step>, chain: Vec<Step>, file: FileId, text: &str) {
    let Some(chain_end) = chain.last().map(|s| s.end) else {
        return;
    };
    let starts: Vec<usize> = chain.iter().map(|s| s.start).collect();
    loop {
        if let Ok(i) = starts.binary_search(&cursor.pos) {
            steps.extend(chain.into_iter().skip(i));
            cursor.pos = chain_end;
            return;
        }
        if cursor.pos >= chain_end {
            return;
        }
        match cursor.step(file, text) {
            Some(step) => steps.push(step),
            None => return,
        }
    }
}
