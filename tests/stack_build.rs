//! The stack file of a seed-like model: golden snapshot and byte stability.

mod support;

use support::stack_fixture;

use sdbc::targets::stack::stack_file;

fn build() -> String {
    let model = stack_fixture::seed_model();
    let names = stack_fixture::seed_names(&model);
    stack_file(&model, &names).unwrap_or_else(|e| panic!("stack_file failed: {e}"))
}

#[test]
fn seed_stack_snapshot() {
    insta::assert_snapshot!("seed_stack", build());
}

#[test]
fn stack_is_byte_stable() {
    let first = build();
    for _ in 0..5 {
        assert_eq!(first.as_bytes(), build().as_bytes());
    }
}

#[test]
fn secret_values_never_appear() {
    // Only the names and digests reach the writer; make sure the digests are
    // cut to 12 hex digits and nothing else of them leaks.
    let text = build();
    assert!(text.contains("db_password_9f86d081884c"), "{text}");
    assert!(!text.contains("9f86d081884c7"), "{text}");
}
