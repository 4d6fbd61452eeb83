//! Generated stack files are accepted by Docker's own Compose loader:
//! `docker stack config -c FILE` (offline; no daemon or swarm needed).
//! A missing `docker` binary fails the test; it is never skipped.

mod support;

use support::stack_fixture;

use std::path::PathBuf;
use std::process::{Command, Output};

use sdbc::model::ServiceMode;
use sdbc::targets::stack::{ObjectNames, stack_file};

/// A file under the target directory's tmp dir, removed on drop.
struct TempFile(PathBuf);

impl TempFile {
    fn new(name: &str, text: &str) -> Self {
        let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR"));
        let path = dir.join(format!("{}-{name}", std::process::id()));
        std::fs::write(&path, text).unwrap_or_else(|e| panic!("write {}: {e}", path.display()));
        TempFile(path)
    }
}

impl Drop for TempFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

fn docker_stack_config(name: &str, text: &str) -> Output {
    let file = TempFile::new(name, text);
    Command::new("docker")
        .args(["stack", "config", "-c"])
        .arg(&file.0)
        .output()
        .unwrap_or_else(|e| {
            panic!(
                "cannot run `docker` ({e}): install the Docker CLI \
                 (Debian: apt-get install docker.io, or docker-ce-cli from Docker's repository)"
            )
        })
}

fn assert_accepted(name: &str, text: &str) -> String {
    let out = docker_stack_config(name, text);
    assert!(
        out.status.success(),
        "docker stack config rejected {name}:\n{}\n--- file ---\n{text}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn seed_stack_is_accepted() {
    let model = stack_fixture::seed_model();
    let names = stack_fixture::seed_names(&model);
    let text = stack_file(&model, &names).unwrap_or_else(|e| panic!("{e}"));
    let config = assert_accepted("seed.yml", &text);
    // Interpolation escaping: the `$` in the access-log format survives.
    assert!(config.contains("%(h)s $remote_addr %(r)s"), "{config}");
    // YAML 1.1 traps stay strings after Docker's own loading.
    assert!(config.contains("FEATURE_FLAG: \"on\""), "{config}");
}

#[test]
fn minimal_and_global_stacks_are_accepted() {
    let mut model = stack_fixture::seed_model();
    model.services.retain(|s| s.name == "metricbeat");
    assert_eq!(model.services.len(), 1);
    assert_eq!(model.services[0].mode, ServiceMode::Global);
    let text = stack_file(&model, &ObjectNames::default()).unwrap_or_else(|e| panic!("{e}"));
    assert_accepted("global.yml", &text);

    model.services.clear();
    let text = stack_file(&model, &ObjectNames::default()).unwrap_or_else(|e| panic!("{e}"));
    assert_accepted("empty.yml", &text);
}

#[test]
fn the_validator_rejects_a_broken_file() {
    // The same generated file with one schema error (an unknown deploy key and
    // a non-string cpus) must fail, so the test above is able to fail.
    let model = stack_fixture::seed_model();
    let names = stack_fixture::seed_names(&model);
    let text = stack_file(&model, &names).unwrap_or_else(|e| panic!("{e}"));
    let broken = text.replacen(
        "      mode: replicated\n",
        "      mode: replicated\n      bogus_key: 1\n",
        1,
    );
    assert_ne!(broken, text, "the edit must apply");
    let out = docker_stack_config("broken.yml", &broken);
    assert!(
        !out.status.success(),
        "docker stack config accepted a broken file:\n{broken}"
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("bogus_key"), "unexpected error: {stderr}");
}
