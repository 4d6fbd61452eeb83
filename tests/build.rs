//! `sdbc build` on every example, checked by the real consumers: every
//! Compute Engine request body against the vendored discovery schemas,
//! every user-data with `cloud-init schema`, every startup script with
//! `bash -n`, the stack file with `docker stack config`. Also: two builds
//! are byte-identical, and the misago outputs are snapshotted.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use sdbc::pipeline::{Outputs, build, check_all, pending_secret_digests};

fn build_example(name: &str) -> Outputs {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("examples")
        .join(name);
    let analysis = sdbc::sema::analyze_path(&path, &BTreeMap::new()).expect("example readable");
    let checked = check_all(analysis);
    assert!(
        !checked.analysis.has_errors(),
        "{name} has errors: {:?}",
        checked.analysis.diagnostics
    );
    let digests = pending_secret_digests(&checked.analysis.model);
    build(&checked, &digests).unwrap_or_else(|d| panic!("{name} does not build: {d:?}"))
}

fn examples() -> Vec<String> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples");
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .expect("examples/")
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().to_string())
        .filter(|n| n.ends_with(".sdb"))
        .collect();
    names.sort();
    assert!(!names.is_empty());
    names
}

fn schema_of(path: &str) -> &'static str {
    match path.rsplit('/').next() {
        Some("networks") => "Network",
        Some("subnetworks") => "Subnetwork",
        Some("firewalls") => "Firewall",
        Some("addresses") => "Address",
        Some("disks") => "Disk",
        Some("instances") => "Instance",
        other => panic!("unexpected collection {other:?}"),
    }
}

#[test]
fn request_bodies_match_the_discovery_schemas() {
    for name in examples() {
        let out = build_example(&name);
        assert!(!out.requests.is_empty());
        for call in &out.requests {
            let errors = fake_gce::validate(schema_of(&call.path), &call.body.to_value());
            assert!(
                errors.is_empty(),
                "{name}: {} body rejected: {}",
                call.node,
                errors
                    .iter()
                    .map(|e| e.to_string())
                    .collect::<Vec<_>>()
                    .join("; ")
            );
        }
    }
}

fn temp_dir(tag: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("sdbc-build-test-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("temp dir");
    dir
}

fn run(cmd: &mut Command, what: &str) -> std::process::Output {
    cmd.output().unwrap_or_else(|e| {
        panic!("cannot run {what} ({e}); install it (the README's test command does)")
    })
}

#[test]
fn boot_configurations_pass_cloud_init_and_bash() {
    for name in examples() {
        let out = build_example(&name);
        let dir = temp_dir(&format!("boot-{name}"));
        for (file, content) in out.boot.values() {
            let path = dir.join(file);
            std::fs::write(&path, content.as_bytes()).expect("write");
            let result = if file.ends_with(".yaml") {
                run(
                    Command::new("cloud-init")
                        .args(["schema", "--config-file"])
                        .arg(&path),
                    "cloud-init (Debian package cloud-init)",
                )
            } else {
                run(Command::new("bash").arg("-n").arg(&path), "bash")
            };
            assert!(
                result.status.success(),
                "{name}/{file} rejected:\n{}{}",
                String::from_utf8_lossy(&result.stdout),
                String::from_utf8_lossy(&result.stderr)
            );
        }
        let _ = std::fs::remove_dir_all(dir);
    }
}

#[test]
fn stack_files_pass_docker_stack_config() {
    for name in examples() {
        let out = build_example(&name);
        let dir = temp_dir(&format!("stack-{name}"));
        let path = dir.join("stack.yml");
        std::fs::write(&path, &out.stack).expect("write");
        let result = run(
            Command::new("docker")
                .args(["stack", "config", "-c"])
                .arg(&path),
            "docker (Debian package docker.io)",
        );
        assert!(
            result.status.success(),
            "{name}: docker rejected the stack:\n{}",
            String::from_utf8_lossy(&result.stderr)
        );
        let _ = std::fs::remove_dir_all(dir);
    }
}

#[test]
fn builds_are_byte_identical() {
    for name in examples() {
        let a = build_example(&name);
        let b = build_example(&name);
        assert_eq!(
            sdbc::targets::gce::requests_json(&a.requests),
            sdbc::targets::gce::requests_json(&b.requests)
        );
        assert_eq!(a.boot, b.boot);
        assert_eq!(a.stack, b.stack);
    }
}

#[test]
fn misago_outputs_snapshot() {
    let out = build_example("misago.sdb");
    insta::assert_snapshot!(
        "misago_requests",
        sdbc::targets::gce::requests_json(&out.requests)
    );
    insta::assert_snapshot!("misago_stack", out.stack);
    for vm in ["monitoring", "manager-0", "worker-0"] {
        let (_, content) = &out.boot[vm];
        insta::assert_snapshot!(format!("misago_boot_{vm}"), content);
    }
}
