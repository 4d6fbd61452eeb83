//! The one folder of helpers of the integration tests (`mod support;` in
//! each): a small model, temp files and the `.sdb` files of the repository
//! here; the fake Compute Engine and the real binary run against it
//! (`apply`), a hand-built stack model (`stack_fixture`), a seeded random
//! generator (`rng`) and a syntax-tree eraser (`erase`) beside.

// Each test crate uses a subset of these helpers.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use sdbc::model::*;

pub mod apply;
pub mod erase;
pub mod rng;
pub mod stack_fixture;

fn vm(name: &str, swarm: SwarmRole, ip: &str) -> Vm {
    let mut vm = Vm::new(name, name, "e2-standard-2");
    vm.zone = "europe-west1-b".into();
    vm.image = "ubuntu-os-cloud/ubuntu-2404-lts-amd64".into();
    vm.network = "misago".into();
    vm.internal_ip = ip.to_owned();
    vm.swarm = swarm;
    vm
}

/// Three VMs: `storage` exports the disk `static-files` (not a Swarm node),
/// `worker` mounts it, `elastic` runs Elasticsearch (sysctl) and mounts it
/// read-write at another path.
pub fn model() -> Model {
    let mut storage = vm("storage", SwarmRole::None, "10.10.0.2");
    storage.disks = vec![String::from("static-files")];
    storage.nfs_exports = vec![NfsExport {
        disk: String::from("static-files"),
        path: String::from("/srv/static"),
    }];
    let mount = |at: &str| NfsMount {
        server: String::from("storage"),
        server_ip: String::from("10.10.0.2"),
        export_path: String::from("/srv/static"),
        mount_path: at.to_owned(),
    };
    let mut worker = vm("worker", SwarmRole::Worker, "10.10.0.3");
    worker.nfs_mounts = vec![mount("/mnt/static")];
    let mut elastic = vm("elastic", SwarmRole::Manager, "10.10.0.4");
    elastic.nfs_mounts = vec![mount("/var/lib/static")];
    elastic
        .sysctl
        .insert(String::from("vm.max_map_count"), String::from("262144"));
    Model {
        stack: String::from("misago"),
        networks: vec![Network {
            name: String::from("misago"),
            cidr: String::from("10.10.0.0/24"),
            region: String::from("europe-west1"),
            span: Default::default(),
        }],
        disks: vec![Disk {
            name: String::from("static-files"),
            size_gb: 20,
            disk_type: String::from("pd-balanced"),
            zone: String::from("europe-west1-b"),
            span: Default::default(),
        }],
        vms: vec![storage, worker, elastic],
        ..Default::default()
    }
}

/// A file under the temp directory, removed when dropped.
pub struct TempFile(pub PathBuf);

impl TempFile {
    pub fn new(name: &str, content: &str) -> TempFile {
        let path = std::env::temp_dir().join(format!("sdbc-test-{}-{name}", std::process::id()));
        if let Err(e) = std::fs::write(&path, content) {
            panic!("cannot write {}: {e}", path.display());
        }
        TempFile(path)
    }
}

impl Drop for TempFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

/// Runs `program args`, failing the test with `missing` if it is not installed.
pub fn run(program: &str, args: &[&str], stdin: Option<&str>, missing: &str) -> Output {
    use std::io::Write;
    let mut cmd = Command::new(program);
    cmd.args(args)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped());
    let mut child = match cmd.spawn() {
        Ok(c) => c,
        Err(e) => panic!("cannot run `{program}` ({e}): {missing}"),
    };
    if let (Some(input), Some(mut pipe)) = (stdin, child.stdin.take())
        && let Err(e) = pipe.write_all(input.as_bytes())
    {
        panic!("cannot write to `{program}`: {e}");
    }
    match child.wait_with_output() {
        Ok(out) => out,
        Err(e) => panic!("`{program}` failed to run: {e}"),
    }
}

/// Every `.sdb` file under `dir`, recursively, sorted; none if it is missing.
pub fn sdb_files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&d) else {
            continue;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_dir() {
                stack.push(path);
            } else if path.extension().is_some_and(|e| e == "sdb") {
                out.push(path);
            }
        }
    }
    out.sort();
    out
}
