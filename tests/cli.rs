//! The command line's corners a newcomer meets first: `--var` names that
//! match no `param`, help texts, counts in words, empty listings, and the
//! outputs of a program.

use std::process::Output;

mod common;

use common::TempFile;

fn sdbc(args: &[&str]) -> Output {
    common::run(env!("CARGO_BIN_EXE_sdbc"), args, None, "")
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).to_string()
}

const PARAMS: &str = "param replicas = 2;\nparam region = \"europe-west1\";\n";

#[test]
fn unknown_var_is_an_error_with_the_closest_name() {
    let file = TempFile::new("vars.sdb", PARAMS);
    let path = file.0.to_string_lossy().to_string();
    for cmd in ["check", "graph", "plan"] {
        let out = sdbc(&[cmd, &path, "--var", "replica=3"]);
        let err = stderr(&out);
        assert_eq!(out.status.code(), Some(2), "{cmd}: {err}");
        assert!(
            err.contains("no parameter `replica`; did you mean `replicas`?"),
            "{cmd}: {err}"
        );
    }
    let out = sdbc(&["check", &path, "--var", "nosuch=1"]);
    assert!(
        stderr(&out).contains("its parameters: replicas, region"),
        "{}",
        stderr(&out)
    );
    let out = sdbc(&["check", &path, "--var", "replicas=3"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
}
