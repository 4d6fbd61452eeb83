//! The table of diagnostic codes, its documentation and its fixtures stay in step:
//! every code has a page `docs/errors/<CODE>.md` and appears in at least
//! one fixture snapshot; every page belongs to a code.

use std::path::Path;

use sdbc::diag::CODES;

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn snapshots() -> String {
    let mut all = String::new();
    let mut stack = vec![root().join("tests/fixtures")];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).expect("fixture dir readable") {
            let path = entry.expect("entry").path();
            if path.is_dir() {
                stack.push(path);
            } else if path.extension().is_some_and(|e| e == "snap") {
                all.push_str(&std::fs::read_to_string(&path).expect("snapshot readable"));
            }
        }
    }
    all
}

#[test]
fn every_code_has_a_page_and_a_fixture() {
    let snaps = snapshots();
    let mut missing = Vec::new();
    for info in CODES {
        let page = root().join("docs/errors").join(format!("{}.md", info.code));
        match std::fs::read_to_string(&page) {
            Ok(text) if text.contains(info.code) => {}
            Ok(_) => missing.push(format!("{}: page does not name the code", info.code)),
            Err(_) => missing.push(format!("{}: no page {}", info.code, page.display())),
        }
        if !snaps.contains(info.code) {
            missing.push(format!("{}: no fixture snapshot shows it", info.code));
        }
    }
    assert!(
        missing.is_empty(),
        "codes out of step:\n{}",
        missing.join("\n")
    );
}

#[test]
fn every_page_has_a_code() {
    for entry in std::fs::read_dir(root().join("docs/errors")).expect("docs/errors exists") {
        let name = entry
            .expect("entry")
            .file_name()
            .to_string_lossy()
            .to_string();
        if name == "README.md" {
            continue;
        }
        let code = name.trim_end_matches(".md");
        assert!(
            CODES.iter().any(|c| c.code == code),
            "docs/errors/{name} has no code in src/diag/codes.rs"
        );
    }
}

#[test]
fn codes_are_unique_and_well_formed() {
    let mut codes: Vec<&str> = CODES.iter().map(|c| c.code).collect();
    let n = codes.len();
    codes.sort_unstable();
    codes.dedup();
    assert_eq!(codes.len(), n, "a code is listed twice");
    assert!(
        codes.iter().all(|c| c.len() == 5
            && c.starts_with('E')
            && c[1..].chars().all(|d| d.is_ascii_digit()))
    );
}
