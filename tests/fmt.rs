//! Data-driven tests of `sdbc fmt`.
//!
//! Every `tests/fmt/NAME.sdb` with a `NAME.expected.sdb` beside it must
//! format to exactly that text. Every input, and every `.sdb` file under
//! `examples/`, `stdlib/` and `tests/fixtures/` that parses without errors,
//! must format idempotently, keep its meaning (the same AST once spans are
//! erased) and keep every comment. `SDB_FMT_BLESS=1` rewrites the expected
//! files from the current output.

use std::path::{Path, PathBuf};

mod support;

use sdbc::span::FileId;
use sdbc::syntax::ast::SourceAst;
use sdbc::syntax::{fmt, parse};
use support::erase::erased_items;
use support::sdb_files;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn is_expected(path: &Path) -> bool {
    path.to_string_lossy().ends_with(".expected.sdb")
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("reading {}: {e}", path.display()))
}

/// The AST, or `None` if the text has errors.
fn parse_clean(text: &str) -> Option<SourceAst> {
    let (ast, diags) = parse(FileId(0), text);
    diags.iter().all(|d| !d.is_error()).then_some(ast)
}

fn format_text(text: &str) -> String {
    let (ast, _) = parse(FileId(0), text);
    fmt::format(&ast, text)
}

fn comment_texts(ast: &SourceAst) -> Vec<String> {
    let mut texts: Vec<String> = ast.comments.iter().map(|c| c.text.clone()).collect();
    texts.sort();
    texts
}

// ---- the properties ----------------------------------------------------------

/// Idempotence, meaning and comments for one input; an error message on failure.
fn check_properties(name: &str, text: &str, ast: &SourceAst) -> Result<(), String> {
    let once = fmt::format(ast, text);
    let Some(again) = parse_clean(&once) else {
        return Err(format!(
            "{name}: the formatted text does not parse:\n{once}"
        ));
    };
    let twice = fmt::format(&again, &once);
    if twice != once {
        return Err(format!(
            "{name}: not idempotent\n--- once\n{once}\n--- twice\n{twice}"
        ));
    }
    if erased_items(&again) != erased_items(ast) {
        return Err(format!("{name}: formatting changed the meaning:\n{once}"));
    }
    if comment_texts(&again) != comment_texts(ast) {
        return Err(format!(
            "{name}: comments changed\nbefore: {:?}\nafter:  {:?}",
            comment_texts(ast),
            comment_texts(&again)
        ));
    }
    Ok(())
}

fn fmt_inputs() -> Vec<PathBuf> {
    sdb_files(&root().join("tests/fmt"))
        .into_iter()
        .filter(|p| !is_expected(p))
        .collect()
}

#[test]
fn formats_to_expected_text() {
    let bless = std::env::var_os("SDB_FMT_BLESS").is_some();
    let mut failures = Vec::new();
    let mut compared = 0;
    for input in fmt_inputs() {
        let expected_path = input.with_extension("expected.sdb");
        let actual = format_text(&read(&input));
        if bless {
            std::fs::write(&expected_path, &actual).unwrap_or_else(|e| panic!("writing: {e}"));
        }
        let Ok(expected) = std::fs::read_to_string(&expected_path) else {
            continue;
        };
        compared += 1;
        if actual != expected {
            failures.push(format!(
                "{}\n--- expected\n{expected}--- actual\n{actual}",
                input.display()
            ));
        }
    }
    assert!(
        compared >= 12,
        "only {compared} input/expected pairs in tests/fmt"
    );
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

#[test]
fn fmt_inputs_keep_meaning_comments_and_are_idempotent() {
    let mut failures = Vec::new();
    for input in fmt_inputs() {
        let text = read(&input);
        let name = input.display().to_string();
        match parse_clean(&text) {
            Some(ast) => failures.extend(check_properties(&name, &text, &ast).err()),
            None => {
                let (_, diags) = parse(FileId(0), &text);
                failures.push(format!("{name}: the input has errors: {diags:?}"));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

#[test]
fn examples_stdlib_and_fixtures_format_stably() {
    let mut failures = Vec::new();
    for dir in ["examples", "stdlib", "tests/fixtures"] {
        for path in sdb_files(&root().join(dir)) {
            // Fixtures of bad input may not even be UTF-8: nothing to format.
            let Ok(text) = std::fs::read_to_string(&path) else {
                continue;
            };
            if let Some(ast) = parse_clean(&text) {
                let name = path.display().to_string();
                failures.extend(check_properties(&name, &text, &ast).err());
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

/// Variants of an input: each line deleted, each line doubled, and the
/// whole text on one line (comments end their lines, so those are dropped).
fn variants(text: &str) -> Vec<String> {
    let lines: Vec<&str> = text.lines().collect();
    let mut out = Vec::new();
    for i in 0..lines.len() {
        let mut deleted = lines.clone();
        deleted.remove(i);
        out.push(deleted.join("\n"));
        let mut doubled = lines.clone();
        doubled.insert(i, lines[i]);
        out.push(doubled.join("\n"));
    }
    let code_only: Vec<&str> = lines
        .iter()
        .map(|l| l.trim())
        .filter(|l| !l.starts_with('#') && !l.starts_with("//"))
        .collect();
    out.push(code_only.join(" "));
    out
}

#[test]
fn variants_of_inputs_that_parse_keep_the_properties() {
    let mut failures = Vec::new();
    let mut checked = 0;
    for input in fmt_inputs() {
        for (i, text) in variants(&read(&input)).iter().enumerate() {
            if let Some(ast) = parse_clean(text) {
                checked += 1;
                let name = format!("{} (variant {i})", input.display());
                failures.extend(check_properties(&name, text, &ast).err());
            }
        }
    }
    assert!(checked > 100, "only {checked} variants parsed");
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

/// `sdbc fmt` refuses every syntax fixture: it exits 1 with the diagnostics
/// and leaves the file as it was (a missing `;` is not merged away).
#[test]
fn files_with_syntax_errors_are_refused() {
    let fixtures = sdb_files(&root().join("tests/fixtures/syntax"));
    assert!(fixtures.len() >= 10, "syntax fixtures not found");
    for path in fixtures {
        let text = read(&path);
        let copy = support::TempFile::new("refused.sdb", &text);
        let file = copy.0.to_string_lossy().to_string();
        let out = support::run(env!("CARGO_BIN_EXE_sdbc"), &["fmt", &file], None, "");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{}: {stderr}", path.display());
        assert!(
            stderr.contains("E0"),
            "{}: no diagnostic: {stderr}",
            path.display()
        );
        assert!(
            stderr.contains("not formatted"),
            "{}: {stderr}",
            path.display()
        );
        assert_eq!(read(&copy.0), text, "{} was changed", path.display());
    }
}
