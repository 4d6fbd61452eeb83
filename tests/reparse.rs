//! Incremental and multi-threaded parsing give exactly what a whole parse
//! on one thread gives.
//!
//! Every fixture, example and standard-library file goes through a chain of
//! seeded random edits (insert a token, delete a range, replace a line);
//! after each, `syntax::reparse` with the previous memo, and a parse cut
//! into 2 to 7 chunks parsed on as many threads, must return the same tree
//! and diagnostics as a one-thread parse of the new text. Some steps
//! also move the file to another id, as an import's id moves when imports
//! change. Set `SDBC_REPARSE_SEED` to explore other edits.
//!
//! Other tests pin the cases the random ones might rarely hit, and that the
//! reuse happens at all: an edit in the middle of a large file parses one
//! item again and keeps the rest.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

mod support;

use sdbc::span::FileId;
use sdbc::syntax::{ParseMemo, parse, parse_in_chunks, reparse};
use support::rng::Rng;

const EDITS_PER_FILE: usize = 40;
/// Stop early past this (debug builds are slow); at least this many files must finish.
const TIME_BUDGET: Duration = Duration::from_secs(25);
const DEFAULT_SEED: u64 = 0x5DB0_2E9A_25E0_0001;

/// Snippets an edit inserts: tokens that end, open, extend or join items.
const SNIPPETS: &[&str] = &[
    ";",
    "{",
    "}",
    "(",
    ")",
    "[",
    "]",
    "=",
    ",",
    ".",
    "\"",
    "\"\"\"",
    "\n",
    "\n\n",
    " ",
    "#",
    "// c\n",
    "# note\n",
    ".b",
    "[0]",
    " || x",
    " == 1",
    "-",
    "a",
    "x = 1",
    "x = a\n",
    "vm a e2;\n",
    "service s image=\"x\" {\n  env A = \"b\";\n}\n",
    "${",
    "$${",
    "\\",
    "é",
    "10.0.0.1",
    "tcp:80",
    "20GB",
    "at",
    "\t",
];

fn corpus() -> Vec<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut out: Vec<PathBuf> = ["tests/fixtures", "examples", "stdlib"]
        .iter()
        .flat_map(|dir| support::sdb_files(&root.join(dir)))
        .collect();
    out.sort();
    out
}

fn char_floor(text: &str, mut i: usize) -> usize {
    while !text.is_char_boundary(i) {
        i -= 1;
    }
    i
}

/// One random edit of `text`.
fn edit(text: &str, rng: &mut Rng) -> String {
    let at = char_floor(text, rng.below(text.len() + 1));
    let mut out = String::with_capacity(text.len() + 64);
    match rng.below(4) {
        0 | 1 => {
            out.push_str(&text[..at]);
            out.push_str(SNIPPETS[rng.below(SNIPPETS.len())]);
            out.push_str(&text[at..]);
        }
        2 => {
            let end = char_floor(text, (at + 1 + rng.below(12)).min(text.len()));
            out.push_str(&text[..at]);
            out.push_str(&text[end..]);
        }
        _ => {
            let line_start = text[..at].rfind('\n').map_or(0, |n| n + 1);
            let line_end = text[at..].find('\n').map_or(text.len(), |n| at + n);
            out.push_str(&text[..line_start]);
            out.push_str(SNIPPETS[rng.below(SNIPPETS.len())]);
            out.push_str(&text[line_end..]);
        }
    }
    out
}

/// Reparses `text` after `memo`, and parses it in `chunks` pieces; both
/// must equal a whole parse on one thread.
fn same_as_whole(
    file: FileId,
    text: &str,
    memo: Option<ParseMemo>,
    chunks: usize,
    what: &str,
) -> ParseMemo {
    let (ast, diags, _, memo) = reparse(file, text, memo);
    let whole = parse_in_chunks(file, text, 1);
    assert!(
        (&ast, &diags) == (&whole.0, &whole.1),
        "{what}: reparse differs from a whole parse of:\n----\n{text}\n----\n\
         reparse: {ast:#?}\n{diags:#?}\nwhole: {whole:#?}"
    );
    let chunked = parse_in_chunks(file, text, chunks);
    assert!(
        chunked == whole,
        "{what}: a parse in {chunks} chunks differs from a whole parse of:\n----\n{text}\n----\n\
         chunked: {chunked:#?}\nwhole: {whole:#?}"
    );
    memo
}

#[test]
fn random_edit_chains_reparse_as_a_whole_parse_does() {
    let seed = std::env::var("SDBC_REPARSE_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(DEFAULT_SEED);
    let started = Instant::now();
    let files = corpus();
    let mut done = 0;
    for (n, path) in files.iter().enumerate() {
        if started.elapsed() > TIME_BUDGET {
            break;
        }
        let Ok(mut text) = std::fs::read_to_string(path) else {
            continue;
        };
        let mut rng = Rng::new(seed ^ (n as u64 + 1).wrapping_mul(0x9E37_79B9_7F4A_7C15));
        let mut file = FileId(0);
        let mut memo = Some(same_as_whole(file, &text, None, 2, "first parse"));
        for k in 0..EDITS_PER_FILE {
            text = edit(&text, &mut rng);
            if rng.below(8) == 0 {
                file = FileId(file.0 + 1);
            }
            let what = format!("{} (seed {seed}, edit {k})", path.display());
            let chunks = 2 + rng.below(6);
            memo = Some(same_as_whole(file, &text, memo, chunks, &what));
        }
        done += 1;
    }
    eprintln!(
        "{done} of {} files, {EDITS_PER_FILE} edits each, in {:.1?}",
        files.len(),
        started.elapsed()
    );
    assert!(
        done * 2 >= files.len(),
        "only {done} of {} files finished within {TIME_BUDGET:?}",
        files.len()
    );
}

/// Text after an item that pest read past (an attribute line's trailing
/// trivia and what follows, the end of the file) changes that item.
#[test]
fn an_edit_just_past_an_item_reparses_it() {
    let cases = [
        ("x = a\n", "x = a\n.b"),
        ("x = a\n\n# c\n", "x = a\n\n# c\n.b;"),
        ("x = a", "x = a || b"),
        ("x = 10.0.0.1", "x = 10.0.0.1/24"),
        ("vm a e2;\n# tail\n", "vm a e2;\n# tail\nvm b e2;"),
        ("let x = \"a\";\n", "let x = \"a\";\n\"unterminated"),
        ("vm a e2 {\n", "vm a e2 {\n}"),
        ("x = a\n< \"abc\n", "x = a\n< b\n"),
        ("x = 10.0.0.1/24x\n", "x = 10.0.0.1/24 \n"),
        ("x = tcp:80,443,8x", "x = tcp:80,443,8 "),
        ("x = [a,\n", "x = [a,\n b]"),
        ("vm a e2;", "vm a e2;;"),
        ("vm a e2;\n", "vm a e2;\n{"),
    ];
    for (before, after) in cases {
        let memo = same_as_whole(FileId(0), before, None, 2, before);
        same_as_whole(FileId(0), after, Some(memo), 3, after);
    }
}

/// A generated program of `blocks` ten-line groups.
fn big_program(blocks: usize) -> String {
    let mut s = String::from("gce {\n  project = \"p\"\n  zone = \"europe-west1-b\"\n}\n");
    for i in 0..blocks {
        s.push_str(&format!(
            "# group {i}\nvm v{i}[2] e2-standard-4;\nlet img{i} = \"nginx:1.27\";\n\
             service svc{i} image=img{i} on=v{i} {{\n  env A = \"x\";\n}}\n"
        ));
    }
    s
}

#[test]
fn an_edit_in_the_middle_of_a_large_file_parses_one_item_again() {
    let text = big_program(300);
    let (_, _, first, memo) = reparse(FileId(0), &text, None);
    assert_eq!(first.kept, 0);
    let at = text.find("vm v150[2] e2-standard-4").expect("generated") + "vm v150[2] e2-".len();
    let edited = format!("{}highmem{}", &text[..at], &text[at + "standard".len()..]);
    let (ast, diags, reuse, _) = reparse(FileId(0), &edited, Some(memo));
    assert_eq!((ast, diags), parse(FileId(0), &edited));
    assert!(
        reuse.parsed <= 2 && reuse.kept + reuse.parsed == first.parsed,
        "{reuse:?} of {first:?}"
    );
}

/// A large file is cut where declarations seem to start; a body written
/// without indentation makes a cut fall inside a declaration.
#[test]
fn chunks_cut_inside_a_declaration_join_up() {
    let text = big_program(200).replace("\n  env A", "\nenv A");
    for chunks in [1, 2, 3, 5, 16, 200] {
        same_as_whole(FileId(0), &text, None, chunks, "unindented bodies");
    }
    assert_eq!(
        parse(FileId(0), &text),
        parse_in_chunks(FileId(0), &text, 1)
    );
}

#[test]
fn an_error_early_in_the_file_does_not_make_later_edits_parse_everything() {
    let text = big_program(300).replacen("vm v2[2]", "vm v2[2", 1);
    let (_, first_diags, first, memo) = reparse(FileId(0), &text, None);
    assert_eq!(first_diags.len(), 1, "{first_diags:?}");
    let at = text.find("vm v250[2] e2-standard-4").expect("generated") + 3;
    let edited = format!("{}w{}", &text[..at], &text[at + 1..]);
    let (ast, diags, reuse, _) = reparse(FileId(0), &edited, Some(memo));
    assert_eq!((ast, diags), parse(FileId(0), &edited));
    assert!(
        reuse.parsed <= 3 && reuse.kept + reuse.parsed == first.parsed,
        "{reuse:?} of {first:?}"
    );
}

#[test]
fn brackets_nested_past_the_limit_are_parsed_whole() {
    let deep = format!("x = {}1", "[".repeat(40));
    let memo = same_as_whole(FileId(0), &deep, None, 2, "deep");
    let edited = format!("vm a e2;\n{deep}");
    let (_, _, reuse, _) = reparse(FileId(0), &edited, Some(memo));
    assert_eq!(reuse.kept, 0);
    same_as_whole(FileId(0), &edited, None, 2, "deep, edited");
}
