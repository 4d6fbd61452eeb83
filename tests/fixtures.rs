//! Fixture tests: every `tests/fixtures/**/*.sdb` is a test case.
//!
//! - Files under `tests/fixtures/valid/` must check with no error (warnings
//!   allowed) and format stably.
//! - Every other file must produce at least one diagnostic; its rendered
//!   diagnostics (no colour, 80 columns) are snapshotted next to it in
//!   `snapshots/`.
//!
//! Dropping a file into a fixture folder adds a test. The environment is
//! fixed (no variables, no `--var`) so snapshots do not depend on the machine.

use std::collections::BTreeMap;
use std::path::Path;

mod support;

use sdbc::diag::{ColorChoice, render_human};
use sdbc::sema::{DiskReader, Env, analyze_bytes};
use support::sdb_files;

fn analyze(path: &Path) -> sdbc::sema::Analysis {
    let bytes = std::fs::read(path).expect("fixture is readable");
    let env = Env {
        vars: BTreeMap::new(),
        getenv: Box::new(|_| None),
        reader: &DiskReader,
    };
    // Relative to the crate (cargo runs tests there), so that imported and
    // read files are named the same on every machine in the snapshots.
    let rel = path
        .strip_prefix(env!("CARGO_MANIFEST_DIR"))
        .unwrap_or(path);
    let name = rel.display().to_string();
    sdbc::pipeline::check(analyze_bytes(&name, Some(rel.to_path_buf()), bytes, &env))
}

fn check_fixture(path: &Path) {
    let analysis = analyze(path);
    let rendered = render_human(
        &analysis.sources,
        &analysis.diagnostics,
        ColorChoice::Never,
        80,
    );
    if path.components().any(|c| c.as_os_str() == "valid") {
        assert!(
            !analysis.has_errors(),
            "{} should check clean:\n{rendered}",
            path.display()
        );
        return;
    }
    assert!(
        !analysis.diagnostics.is_empty(),
        "{} should produce a diagnostic",
        path.display()
    );
    let dir = path
        .parent()
        .expect("a fixture is in a folder")
        .join("snapshots");
    let name = path
        .file_stem()
        .expect("a fixture has a name")
        .to_string_lossy()
        .to_string();
    insta::with_settings!({ snapshot_path => dir, prepend_module_to_snapshot => false, input_file => path }, {
        insta::assert_snapshot!(name, rendered);
    });
}

#[test]
fn fixtures() {
    let files = sdb_files(&Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures"));
    assert!(!files.is_empty(), "no fixtures found");
    let failed: Vec<String> = files
        .iter()
        .filter(|path| std::panic::catch_unwind(|| check_fixture(path)).is_err())
        .map(|p| p.display().to_string())
        .collect();
    assert!(
        failed.is_empty(),
        "{} of {} fixtures failed:\n{}",
        failed.len(),
        files.len(),
        failed.join("\n")
    );
}

/// The example programs and the standard library check clean.
#[test]
fn examples_check_clean() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples");
    let mut seen = 0;
    for entry in std::fs::read_dir(&dir).expect("examples/ exists") {
        let path = entry.expect("readable dir entry").path();
        if path.extension().is_some_and(|e| e == "sdb") {
            let analysis = analyze(&path);
            let rendered = render_human(
                &analysis.sources,
                &analysis.diagnostics,
                ColorChoice::Never,
                80,
            );
            assert!(
                !analysis.has_errors(),
                "{} should check clean:\n{rendered}",
                path.display()
            );
            seen += 1;
        }
    }
    assert!(seen > 0, "no example found");
}
