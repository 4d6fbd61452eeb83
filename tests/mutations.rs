//! Property test: random damage to real programs never breaks the checker.
//!
//! Every fixture, example and standard-library `.sdb` file is mutated up to
//! [`MUTATIONS_PER_FILE`] times by a small seeded xorshift generator (no
//! extra crates). Each mutant depends only on the seed, the file and its
//! number, so a failure reproduces; set `SDBC_MUTATION_SEED` to explore
//! other inputs. A mutant is one to three of: truncate at a random byte,
//! flip a byte, delete a line, duplicate a line, insert random brackets and
//! quotes, insert 500 nested `[`, swap two lines, delete a random range.
//! Each goes through `sema::analyze_bytes` and `pipeline::check`, and must:
//!
//! - not panic (each case runs under `catch_unwind`; a stack overflow aborts
//!   the whole test, which fails it too; workers have a 2 MiB stack, the
//!   size of a test thread and smaller than the CLI's main thread);
//! - finish: no single case may take [`CASE_LIMIT`];
//! - report an error whenever `syntax::parse` finds a syntax error in the
//!   mutant (parsing is only repeated when the analysis reports no error:
//!   otherwise the property holds already).
//!
//! Debug builds are slow (the example program and its standard-library
//! imports take ~0.1 s per check), so mutants run on up to [`WORKERS`]
//! threads, round-robin over the files, within [`TIME_BUDGET`]; the count
//! that ran is printed, and fewer than [`MIN_MUTATIONS_PER_FILE`] per file
//! fails the test.
//!
//! Mutants without syntax errors are also formatted: the formatter must not
//! panic, its output must parse to the same program (the syntax trees equal
//! once spans are erased) and formatting it again must change nothing (see
//! `format_is_stable`, called from [`check_one`]).
//!
//! The other tests cover the "bad input" that is generated rather than
//! committed: 100,000 nested brackets of each kind, and brackets inside
//! comments and strings, which are not nesting.

use std::collections::BTreeMap;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

mod support;

use sdbc::diag::Code;
use sdbc::sema::{DiskReader, Env, analyze_bytes};
use sdbc::span::FileId;
use support::rng::Rng;

const MUTATIONS_PER_FILE: usize = 200;
/// Wall-clock budget of the whole property test (debug builds are slow).
const TIME_BUDGET: Duration = Duration::from_secs(40);
/// Fewer than this many mutants per file within the budget fails the test.
const MIN_MUTATIONS_PER_FILE: usize = 25;
const WORKERS: usize = 2;
const CASE_LIMIT: Duration = Duration::from_secs(5);
const DEFAULT_SEED: u64 = 0x5DB0_C0DE_2024_0001;

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn sdb_files() -> Vec<PathBuf> {
    let mut out: Vec<PathBuf> = ["tests/fixtures", "examples", "stdlib"]
        .iter()
        .flat_map(|dir| support::sdb_files(&root().join(dir)))
        .collect();
    out.sort();
    out
}

/// Byte ranges of the lines of `text`, each with its `\n`.
fn lines(text: &[u8]) -> Vec<(usize, usize)> {
    let mut out = Vec::new();
    let mut start = 0;
    for (i, b) in text.iter().enumerate() {
        if *b == b'\n' {
            out.push((start, i + 1));
            start = i + 1;
        }
    }
    if start < text.len() {
        out.push((start, text.len()));
    }
    out
}

const NOISE: &[&str] = &[
    "[", "]", "{", "}", "(", ")", "\"", "\"\"\"", "${", "$${", "}", ";", "=", ",", ".", ":", "#",
    "//", "\\", "\n", "index", "0", "-", "/", "!", "&&", "==",
];

/// Applies one random mutation; returns its name (for failure reports).
fn mutate(rng: &mut Rng, text: &mut Vec<u8>) -> &'static str {
    let at = rng.below(text.len() + 1);
    match rng.below(8) {
        0 => {
            text.truncate(at);
            "truncate"
        }
        1 => {
            if let Some(b) = text.get_mut(at) {
                *b = if rng.below(2) == 0 {
                    *b ^ (1 << rng.below(8))
                } else {
                    rng.next() as u8
                };
            }
            "flip a byte"
        }
        2 => {
            let ls = lines(text);
            if !ls.is_empty() {
                let (s, e) = ls[rng.below(ls.len())];
                text.drain(s..e);
            }
            "delete a line"
        }
        3 => {
            let ls = lines(text);
            if !ls.is_empty() {
                let (s, e) = ls[rng.below(ls.len())];
                let line = text[s..e].to_vec();
                text.splice(e..e, line);
            }
            "duplicate a line"
        }
        4 => {
            let mut noise = String::new();
            for _ in 0..1 + rng.below(4) {
                noise.push_str(NOISE[rng.below(NOISE.len())]);
            }
            text.splice(at..at, noise.into_bytes());
            "insert brackets and quotes"
        }
        5 => {
            text.splice(at..at, std::iter::repeat_n(b'[', 500));
            "insert 500 nested `[`"
        }
        6 => {
            let ls = lines(text);
            if ls.len() >= 2 {
                let (a, b) = (rng.below(ls.len()), rng.below(ls.len()));
                let (a, b) = (a.min(b), a.max(b));
                if a != b {
                    let (la, lb) = (ls[a], ls[b]);
                    let first = text[la.0..la.1].to_vec();
                    let second = text[lb.0..lb.1].to_vec();
                    text.splice(lb.0..lb.1, first);
                    text.splice(la.0..la.1, second);
                }
            }
            "swap two lines"
        }
        _ => {
            let end = (at + 1 + rng.below(40)).min(text.len());
            if at < end {
                text.drain(at..end);
            }
            "delete a range"
        }
    }
}

/// A mutant that parses without errors formats without panicking, and
/// formatting its formatted text changes nothing.
fn format_is_stable(bytes: &[u8]) -> Result<(), String> {
    let Ok(text) = std::str::from_utf8(bytes) else {
        return Ok(());
    };
    let (ast, diags) = sdbc::syntax::parse(FileId(0), text);
    if diags.iter().any(|d| d.is_error()) {
        return Ok(());
    }
    let once = sdbc::syntax::fmt::format(&ast, text);
    let (again_ast, again_diags) = sdbc::syntax::parse(FileId(0), &once);
    if again_diags.iter().any(|d| d.is_error()) {
        return Err(format!("the formatted text does not parse:\n{once}"));
    }
    if support::erase::erased_items(&again_ast) != support::erase::erased_items(&ast) {
        return Err(format!("formatting changed the parsed program:\n{once}"));
    }
    let twice = sdbc::syntax::fmt::format(&again_ast, &once);
    if twice != once {
        return Err(format!(
            "formatting is not idempotent:\n--- once\n{once}\n--- twice\n{twice}"
        ));
    }
    Ok(())
}

/// What went wrong with one mutant, if anything.
fn check_one(name: &str, path: &Path, bytes: &[u8]) -> Result<Duration, String> {
    let started = Instant::now();
    let outcome = catch_unwind(AssertUnwindSafe(|| {
        let env = Env {
            vars: BTreeMap::new(),
            getenv: Box::new(|_| None),
            reader: &DiskReader,
        };
        let analysis = sdbc::pipeline::check(analyze_bytes(
            name,
            Some(path.to_path_buf()),
            bytes.to_vec(),
            &env,
        ));
        // Parsing again costs as much as the whole analysis, and only a
        // mutant the analysis calls error-free can break the property.
        let syntax = if analysis.has_errors() {
            Vec::new()
        } else {
            let text = String::from_utf8_lossy(bytes);
            sdbc::syntax::parse(FileId(0), &text).1
        };
        (analysis, syntax, format_is_stable(bytes))
    }));
    let elapsed = started.elapsed();
    let (analysis, syntax, formatting) = outcome.map_err(|e| {
        let msg = e
            .downcast_ref::<String>()
            .cloned()
            .or_else(|| e.downcast_ref::<&str>().map(|s| s.to_string()))
            .unwrap_or_default();
        format!("panicked: {msg}")
    })?;
    if elapsed > CASE_LIMIT {
        return Err(format!("took {elapsed:?}"));
    }
    formatting?;
    if let Some(d) = syntax.first() {
        return Err(format!(
            "syntax::parse reports {} `{}` but the analysis reports no error (diagnostics: {:?})",
            d.code,
            d.message,
            analysis
                .diagnostics
                .iter()
                .map(|d| d.code)
                .collect::<Vec<_>>()
        ));
    }
    Ok(elapsed)
}

/// Shows a failing input so that it can be pasted into a file.
fn show(bytes: &[u8]) -> String {
    let text = String::from_utf8_lossy(bytes);
    let mut shown: String = text.chars().take(600).collect();
    if text.chars().count() > 600 {
        shown.push_str("\n… (truncated)");
    }
    shown
}

/// The RNG of one mutant: depends only on the seed, the file and the
/// mutant's number, so any failure reproduces on its own.
fn mutant_rng(seed: u64, file: usize, mutant: usize) -> Rng {
    let mut rng = Rng::new(
        seed ^ (file as u64 + 1).wrapping_mul(0x9E37_79B9_7F4A_7C15)
            ^ (mutant as u64 + 1).wrapping_mul(0xD1B5_4A32_D192_ED03),
    );
    rng.next();
    rng
}

#[test]
fn mutated_programs_never_break_the_checker() {
    let seed = std::env::var("SDBC_MUTATION_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(DEFAULT_SEED);
    let files: Vec<(String, PathBuf, Vec<u8>)> = sdb_files()
        .into_iter()
        .map(|path| {
            let shown = path
                .strip_prefix(root())
                .unwrap_or(&path)
                .display()
                .to_string();
            let bytes = std::fs::read(&path).expect("readable");
            (shown, path, bytes)
        })
        .collect();
    assert!(files.len() >= 20, "only {} .sdb files found", files.len());
    // Mutant `i` of every file before mutant `i + 1` of any: when the time
    // budget runs out, every file has had the same share.
    let total = files.len() * MUTATIONS_PER_FILE;
    let next = AtomicUsize::new(0);
    let done = AtomicUsize::new(0);
    let failures = Mutex::new(Vec::new());
    let slowest = Mutex::new((Duration::ZERO, String::new()));
    let started = Instant::now();
    let workers = std::thread::available_parallelism().map_or(1, |n| n.get().min(WORKERS));
    std::thread::scope(|scope| {
        for _ in 0..workers {
            std::thread::Builder::new()
                // The default size of a test thread: smaller than the CLI's.
                .stack_size(2 << 20)
                .spawn_scoped(scope, || {
                    loop {
                        let k = next.fetch_add(1, Ordering::Relaxed);
                        if k >= total || started.elapsed() > TIME_BUDGET {
                            break;
                        }
                        let (i, n) = (k / files.len(), k % files.len());
                        let (shown, path, original) = &files[n];
                        let mut rng = mutant_rng(seed, n, i);
                        let mut bytes = original.clone();
                        // One to three mutations on top of each other.
                        let mut applied = Vec::new();
                        for _ in 0..1 + rng.below(3) {
                            applied.push(mutate(&mut rng, &mut bytes));
                        }
                        match check_one(shown, path, &bytes) {
                            Ok(t) => {
                                let mut s = slowest.lock().expect("not poisoned");
                                if t > s.0 {
                                    *s = (t, format!("{shown} #{i}"));
                                }
                            }
                            Err(why) => failures.lock().expect("not poisoned").push(format!(
                                "{shown} mutant #{i} ({}), seed {seed:#x}: {why}\n---\n{}\n---",
                                applied.join(", "),
                                show(&bytes)
                            )),
                        }
                        done.fetch_add(1, Ordering::Relaxed);
                    }
                })
                .expect("worker starts");
        }
    });
    let done = done.into_inner();
    let (slow_t, slow_case) = slowest.into_inner().expect("not poisoned");
    eprintln!(
        "{done} of {total} mutants of {} files in {:.1?} on {workers} threads (slowest {slow_t:.1?}: {slow_case})",
        files.len(),
        started.elapsed(),
    );
    let mut failures = failures.into_inner().expect("not poisoned");
    let count = failures.len();
    failures.sort();
    failures.truncate(10);
    assert!(
        count == 0,
        "{count} of {done} mutants broke the checker (first {}):\n\n{}",
        failures.len(),
        failures.join("\n\n")
    );
    // A machine so slow that the budget allows only a few mutants per file
    // tests too little to pass.
    assert!(
        done >= files.len() * MIN_MUTATIONS_PER_FILE,
        "only {done} mutants ran within {TIME_BUDGET:?}"
    );
}

/// Checks generated text and returns the codes reported.
fn codes_of(text: &str) -> Vec<Code> {
    let env = Env {
        vars: BTreeMap::new(),
        getenv: Box::new(|_| None),
        reader: &DiskReader,
    };
    let analysis = sdbc::pipeline::check(analyze_bytes(
        "generated.sdb",
        None,
        text.as_bytes().to_vec(),
        &env,
    ));
    analysis.diagnostics.iter().map(|d| d.code).collect()
}

#[test]
fn a_hundred_thousand_nested_brackets_are_one_diagnostic() {
    const DEPTH: usize = 100_000;
    // A map needs a key before a nested map: `{a: {a: {a: 1}}}`.
    for (open, close) in [("[", "]"), ("(", ")"), ("{a: ", "}")] {
        for closed in [false, true] {
            let mut text = format!("let deep = {}", open.repeat(DEPTH));
            if closed {
                text.push_str(&close.repeat(DEPTH));
                text.push(';');
            }
            text.push_str("\ndisk after 10GB;\n");
            let started = Instant::now();
            let codes = codes_of(&text);
            let took = started.elapsed();
            assert!(
                codes.contains(&Code::NestingTooDeep),
                "{DEPTH} × `{open}` (closed: {closed}): no E0003 in {codes:?}"
            );
            assert!(
                took < Duration::from_secs(10),
                "{DEPTH} × `{open}` took {took:?}"
            );
        }
    }
}

#[test]
fn brackets_in_strings_and_comments_are_not_nesting() {
    let deep = "[".repeat(200);
    let text = format!("# {deep}\n// {deep}\nlet s = \"{deep}\";\noutput o = s;\n");
    let codes = codes_of(&text);
    assert!(codes.is_empty(), "expected no diagnostic, got {codes:?}");
}

#[test]
fn nesting_at_the_limit_is_fine_and_one_more_is_not() {
    let at = |depth: usize| {
        format!(
            "let v = {}1{};\noutput o = v;\n",
            "(".repeat(depth),
            ")".repeat(depth)
        )
    };
    let limit = sdbc::syntax::MAX_NESTING;
    assert!(
        codes_of(&at(limit)).is_empty(),
        "{limit} deep should check clean"
    );
    // The declaration is dropped, so `output o = v` reports `v` undefined too.
    assert_eq!(
        codes_of(&at(limit + 1)).first(),
        Some(&Code::NestingTooDeep)
    );
}
