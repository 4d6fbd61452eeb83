//! The command line's corners a newcomer meets first: `--var` names that
//! match no `param`, help texts, counts in words, empty listings, and the
//! outputs of a program.

use std::process::Output;

mod support;

use support::TempFile;

fn sdbc(args: &[&str]) -> Output {
    support::run(env!("CARGO_BIN_EXE_sdbc"), args, None, "")
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

/// Every argument of every subcommand says what it is in `--help`.
#[test]
fn every_argument_has_help_text() {
    use clap::CommandFactory;
    let mut missing = Vec::new();
    let mut stack = vec![(String::from("sdbc"), sdbc::cli::Cli::command())];
    while let Some((path, cmd)) = stack.pop() {
        for arg in cmd.get_arguments() {
            let id = arg.get_id().as_str();
            if matches!(id, "help" | "version") {
                continue;
            }
            if arg.get_help().is_none() && arg.get_long_help().is_none() {
                missing.push(format!("{path} {id}"));
            }
        }
        for sub in cmd.get_subcommands() {
            stack.push((format!("{path} {}", sub.get_name()), sub.clone()));
        }
    }
    assert!(missing.is_empty(), "arguments without help: {missing:?}");
    let out = sdbc(&["state", "list", "--help"]);
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("The program whose state to read"),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
}

#[test]
fn counts_are_in_words() {
    let file = TempFile::new("one.sdb", "vm web e2-small swarm=manager;\n");
    let out = sdbc(&["check", &file.0.to_string_lossy()]);
    assert!(
        stderr(&out).contains("no problems (1 VM, 0 services)"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn an_empty_state_list_says_so() {
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("empty.sdb");
    std::fs::write(&file, "vm web e2-small;\n").expect("write program");
    let out = sdbc(&["state", "list", &file.to_string_lossy()]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(out.stdout.is_empty());
    assert!(
        stderr(&out).contains("holds no resources: nothing is applied"),
        "{}",
        stderr(&out)
    );
}
