//! `sdbc scale` and `sdbc status` before they reach a Swarm: what is
//! refused, that a refused or failed scale leaves the program's file
//! byte-identical, and how managers are read from the state and the
//! secrets store and tried in turn. (Scaling and status on a real Swarm:
//! `tests/swarm_ops.rs`.)

use std::path::{Path, PathBuf};
use std::process::Output;

mod support;

const PROGRAM: &str = include_str!("swarm/program.sdb");

fn sdbc(args: &[&str]) -> Output {
    support::run(env!("CARGO_BIN_EXE_sdbc"), args, None, "")
}

/// The test program (with `edits` applied) in a folder of its own.
fn program(dir: &Path, edits: &[(&str, &str)]) -> (PathBuf, String) {
    let mut text = PROGRAM.to_string();
    for (from, to) in edits {
        assert!(text.contains(from), "the program has `{from}`");
        text = text.replacen(from, to, 1);
    }
    let path = dir.join("program.sdb");
    std::fs::write(&path, &text).expect("write");
    (path, text)
}

/// Runs `sdbc scale FILE ARGS`, expects exit `code`, an error containing
/// `message`, and the file unchanged.
fn refused(edits: &[(&str, &str)], args: &[&str], code: i32, message: &str) {
    let dir = tempfile::tempdir().expect("temp dir");
    let (path, text) = program(dir.path(), edits);
    let path_arg = path.to_string_lossy().to_string();
    let mut all = vec!["--color", "never", "scale", path_arg.as_str()];
    all.extend_from_slice(args);
    let out = sdbc(&all);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(code), "{args:?}: {err}");
    assert!(err.contains(message), "{args:?}: {err}");
    assert_eq!(
        std::fs::read_to_string(&path).expect("read"),
        text,
        "{args:?}: the file is unchanged"
    );
}

#[test]
fn unknown_and_global_services_are_refused() {
    refused(&[], &["apu=3"], 1, "no service `apu`; the closest is `api`");
    refused(
        &[],
        &["logs=2"],
        1,
        "service `logs` is global (one task per node)",
    );
    refused(&[], &["api=3", "api=4"], 2, "`api` is given more than once");
    refused(&[], &["api=three"], 2, "not a replica count");
}

#[test]
fn a_count_that_is_not_a_number_in_the_file_is_refused_with_how_to_set_it() {
    refused(
        &[
            ("param image", "param api_replicas = 2;\nparam image"),
            ("replicas=2 on=worker", "replicas=api_replicas on=worker"),
        ],
        &["api=3"],
        1,
        "`replicas` of service `api` is `api_replicas`",
    );
    refused(
        &[
            ("param image", "param api_replicas = 2;\nparam image"),
            ("replicas=2 on=worker", "replicas=api_replicas on=worker"),
        ],
        &["api=3"],
        1,
        "`--var api_replicas=3`",
    );
}

#[test]
fn a_count_the_program_cannot_hold_is_refused() {
    refused(
        &[(
            "service edge image=image replicas=3",
            "service edge image=image replicas=3 cpus=1",
        )],
        &["edge=50"],
        1,
        "with these replica counts the program has errors; nothing was changed",
    );
}

#[test]
fn without_an_applied_stack_nothing_changes() {
    // Every check passes; the state has no manager to ask.
    refused(&[], &["api=3", "edge=1", "probe=2"], 1, "run `sdbc apply");
    let dir = tempfile::tempdir().expect("temp dir");
    let (path, _) = program(dir.path(), &[]);
    let out = sdbc(&["status", &path.to_string_lossy()]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(err.contains("has no Swarm manager VM"), "{err}");
}

/// A state with the three managers: one without an address, one without a
/// pinned host key, one whose address does not answer SSH; and, with
/// `key`, the stack's SSH key in the secrets store.
fn applied(dir: &Path, path: &Path, key: bool) {
    use sdbc::state::{ResourceState, SecretKey, SecretStore, State, StateStore};
    let mut state = State::new("program");
    let vm = |assigned: &[(&str, &str)]| ResourceState {
        kind: "compute#instance".into(),
        assigned: assigned
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
        ..ResourceState::default()
    };
    let stranger = sdbc::exec::ssh::generate_key().expect("key");
    let pinned = stranger.public_key().to_openssh().expect("openssh");
    // Addresses in the VMs' entries, pins in their Swarm members' entries
    // (named after the VM), as apply records them.
    let member = |vm: &str, assigned: &[(&str, &str)]| ResourceState {
        kind: "swarm-node".into(),
        name: vm.into(),
        assigned: assigned
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
        ..ResourceState::default()
    };
    state.resources.insert("gce.vm.manager-0".into(), vm(&[]));
    state.resources.insert(
        "gce.vm.manager-1".into(),
        vm(&[("internal_ip", "127.0.0.1")]),
    );
    state.resources.insert(
        "gce.vm.manager-2".into(),
        vm(&[("internal_ip", "127.0.0.1")]),
    );
    state
        .resources
        .insert("swarm.init".into(), member("manager-0", &[]));
    state
        .resources
        .insert("swarm.join.manager-1".into(), member("manager-1", &[]));
    state.resources.insert(
        "swarm.join.manager-2".into(),
        member("manager-2", &[("hostkey.ssh-ed25519", pinned.as_str())]),
    );
    StateStore::for_source(path, "program")
        .save(&mut state)
        .expect("save the state");
    if key {
        SecretKey::load_or_create(&dir.join(".sdbc/key")).expect("secrets key");
        let store = SecretStore::for_source(path, "program").expect("store");
        sdbc::exec::reach::stack_key(&store).expect("the stack's key");
    }
}

#[test]
fn every_manager_is_tried_and_named() {
    let dir = tempfile::tempdir().expect("temp dir");
    let (path, text) = program(dir.path(), &[]);
    let arg = path.to_string_lossy().to_string();

    applied(dir.path(), &path, false);
    let out = sdbc(&["status", &arg]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(err.contains("no SSH key for this stack"), "{err}");

    applied(dir.path(), &path, true);
    for args in [vec!["status", &arg], vec!["scale", &arg, "api=3"]] {
        let out = sdbc(&args);
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{args:?}: {err}");
        assert!(err.contains("no manager of the Swarm answers"), "{err}");
        assert!(
            err.contains("VM `manager-0` has no address in the state"),
            "{err}"
        );
        assert!(
            err.contains("host `manager-1` has no pinned host key"),
            "{err}"
        );
        assert!(err.contains("host `manager-2`"), "{err}");
    }
    assert_eq!(std::fs::read_to_string(&path).expect("read"), text);
}
