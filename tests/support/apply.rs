//! Helpers for the plan/apply/destroy tests: an in-process fake Compute
//! Engine on its own tokio runtime, a temporary work directory holding a
//! program, the real `sdbc` binary run against the fake, and the desired
//! resources as `sdbc build` makes them.

#![allow(dead_code)] // each test crate uses a different part

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::Duration;

use serde_json::Value;

pub const PROJECT: &str = "demo";

/// A fake Compute Engine served by a runtime of its own.
pub struct Fake {
    // Dropped first: the handle's drop signals the server to stop.
    handle: fake_gce::FakeHandle,
    rt: tokio::runtime::Runtime,
}

impl Fake {
    pub fn start(config: fake_gce::FakeConfig) -> Fake {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .expect("tokio runtime for the fake");
        let handle = rt.block_on(fake_gce::start(config));
        Fake { handle, rt }
    }

    /// Operations of `op_ms` (RUNNING) after 1 ms PENDING, no quota, no fault.
    pub fn quick(op_ms: u64, seed: u64) -> Fake {
        Fake::start(fake_gce::FakeConfig {
            op_pending: Duration::from_millis(1),
            op_running: Duration::from_millis(op_ms),
            seed,
            ..fake_gce::FakeConfig::default()
        })
    }

    pub fn handle(&self) -> &fake_gce::FakeHandle {
        &self.handle
    }

    pub fn url(&self) -> String {
        self.handle.base_url()
    }

    /// Every resource the fake holds, by key (`projects/demo/zones/z/instances/n`).
    pub fn resources(&self) -> BTreeMap<String, Value> {
        self.handle.resources().into_iter().collect()
    }

    /// The keys of the resources held, boot disks of instances left out
    /// (the fake makes a disk named after each instance from its
    /// `initializeParams`; it is the instance's, not the stack's).
    pub fn keys_without_boot_disks(&self) -> BTreeSet<String> {
        let all = self.resources();
        let instances: BTreeSet<String> = all
            .keys()
            .filter_map(|k| {
                let (zone, name) = k.split_once("/instances/")?;
                Some(format!("{zone}/disks/{name}"))
            })
            .collect();
        all.keys()
            .filter(|k| !instances.contains(*k))
            .cloned()
            .collect()
    }

    /// The mutating requests logged so far: `(method, path after /compute/v1/)`.
    pub fn mutations(&self) -> Vec<(String, String)> {
        self.handle
            .requests()
            .into_iter()
            .filter(|r| r.is_mutating())
            .map(|r| {
                let path = r
                    .path
                    .strip_prefix("/compute/v1/")
                    .unwrap_or(&r.path)
                    .to_string();
                (r.method, path)
            })
            .collect()
    }

    pub fn clear_log(&self) {
        self.handle.clear_requests();
    }

    pub fn set_faults(&self, faults: fake_gce::Faults) {
        self.handle.set_faults(faults);
    }

    /// Makes a resource by hand, as a user would outside sdbc: `POST` of
    /// `body` to `collection` (`projects/demo/zones/z/disks`), waiting for
    /// it to exist.
    pub fn insert(&self, collection: &str, body: Value) {
        sdbc::exec::install_crypto_provider();
        let url = format!("{}{collection}", self.url());
        self.rt.block_on(async {
            let answer = reqwest::Client::new()
                .post(&url)
                .json(&body)
                .send()
                .await
                .expect("insert sent");
            assert!(answer.status().is_success(), "insert {url}: {answer:?}");
        });
        assert!(self.settle(), "the insert finished");
    }

    /// Waits until no operation is pending or running.
    pub fn settle(&self) -> bool {
        self.rt
            .block_on(self.handle.wait_idle(Duration::from_secs(30)))
    }
}

/// What one `sdbc` run did.
#[derive(Debug)]
pub struct Run {
    pub code: Option<i32>,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    pub fn from_output(out: Output) -> Run {
        Run {
            code: out.status.code(),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        }
    }

    pub fn ok(&self) -> bool {
        self.code == Some(0)
    }

    /// Panics with the output unless the exit status is `code`.
    pub fn expect_code(&self, code: i32, what: &str) -> &Run {
        assert_eq!(
            self.code,
            Some(code),
            "{what}: exit status {:?}\n--- stdout\n{}\n--- stderr\n{}",
            self.code,
            self.stdout,
            self.stderr
        );
        self
    }
}

/// A temporary directory holding one program, and how to run sdbc on it.
pub struct Work {
    pub dir: tempfile::TempDir,
    pub file: PathBuf,
    pub stack: String,
    pub endpoint: String,
}

pub fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("mkdir");
    for entry in std::fs::read_dir(from).expect("read_dir") {
        let entry = entry.expect("dir entry");
        let target = to.join(entry.file_name());
        if entry.file_type().expect("file type").is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).expect("copy");
        }
    }
}

impl Work {
    /// A copy of `examples/misago.sdb` and `examples/misago/`.
    pub fn misago(fake: &Fake) -> Work {
        let dir = tempfile::tempdir().expect("tempdir");
        let examples = repo().join("examples");
        std::fs::copy(examples.join("misago.sdb"), dir.path().join("misago.sdb"))
            .expect("copy misago.sdb");
        copy_dir(&examples.join("misago"), &dir.path().join("misago"));
        let file = dir.path().join("misago.sdb");
        Work {
            dir,
            file,
            stack: "misago".into(),
            endpoint: fake.url(),
        }
    }

    /// A program `NAME.sdb` with `text`.
    pub fn program(fake: &Fake, name: &str, text: &str) -> Work {
        let dir = tempfile::tempdir().expect("tempdir");
        let file = dir.path().join(format!("{name}.sdb"));
        std::fs::write(&file, text).expect("write program");
        Work {
            dir,
            file,
            stack: name.into(),
            endpoint: fake.url(),
        }
    }

    pub fn file_name(&self) -> String {
        self.file
            .file_name()
            .and_then(|n| n.to_str())
            .expect("utf-8 file name")
            .to_string()
    }

    /// `sdbc ARGS` in the work directory, talking to the fake, with no
    /// terminal and no other Google configuration. Only the Compute Engine
    /// layers run (`SDBC_LAYERS=cloud,hosts`): the fake's VMs are not
    /// machines a Swarm can form on (`tests/apply_swarm.rs` points them at
    /// local hosts for that).
    pub fn command(&self, args: &[&str]) -> Command {
        let mut c = Command::new(env!("CARGO_BIN_EXE_sdbc"));
        c.args(args)
            .current_dir(self.dir.path())
            .env_remove("GOOGLE_APPLICATION_CREDENTIALS")
            .env("HOME", self.dir.path())
            .env("NO_COLOR", "1")
            .env("GOOGLE_COMPUTE_CUSTOM_ENDPOINT", &self.endpoint)
            .env("GOOGLE_OAUTH_ACCESS_TOKEN", "test")
            .env("GOOGLE_CLOUD_PROJECT", PROJECT)
            .env("SDBC_LAYERS", "cloud,hosts")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        c
    }

    pub fn run(&self, args: &[&str]) -> Run {
        Run::from_output(self.command(args).output().expect("run sdbc"))
    }

    /// `sdbc VERB FILE EXTRA...`.
    pub fn sdbc(&self, verb: &str, extra: &[&str]) -> Run {
        let file = self.file_name();
        let mut args = vec![verb, file.as_str()];
        args.extend_from_slice(extra);
        self.run(&args)
    }

    pub fn apply(&self) -> Run {
        self.sdbc("apply", &["--auto-approve"])
    }

    pub fn spawn_apply(&self, extra: &[&str]) -> Child {
        let file = self.file_name();
        let mut args = vec!["apply", file.as_str(), "--auto-approve"];
        args.extend_from_slice(extra);
        self.command(&args).spawn().expect("spawn sdbc apply")
    }

    pub fn store(&self) -> sdbc::state::StateStore {
        sdbc::state::StateStore::for_source(&self.file, &self.stack)
    }

    pub fn state(&self) -> sdbc::state::State {
        self.store().load().expect("state loads")
    }

    /// Replaces `from` (which must occur) by `to` in the program.
    pub fn edit(&self, from: &str, to: &str) {
        let text = std::fs::read_to_string(&self.file).expect("read program");
        assert!(text.contains(from), "`{from}` is not in the program");
        std::fs::write(&self.file, text.replacen(from, to, 1)).expect("write program");
    }

    /// The resources the program wants, as `sdbc build` makes them:
    /// `fake key -> body` (with the project, the lineage of the state if
    /// there is one, and the stack's SSH key if apply made one, filled in).
    pub fn desired(&self) -> BTreeMap<String, Value> {
        let lineage = if self.store().path().exists() {
            self.state().lineage
        } else {
            String::new()
        };
        // The stack key apply made, in place of its placeholder.
        let ssh_keys = sdbc::state::SecretStore::for_source(&self.file, &self.stack)
            .ok()
            .and_then(|s| s.get(sdbc::exec::reach::STACK_KEY_SECRET).ok().flatten())
            .and_then(|k| sdbc::exec::ssh::private_key_from_openssh(k.expose()).ok())
            .map(|k| sdbc::exec::reach::ssh_keys_entry(&k));
        let analysis = sdbc::sema::analyze_path(&self.file, &BTreeMap::new()).expect("readable");
        let checked = sdbc::pipeline::check_all(analysis);
        assert!(
            !checked.analysis.has_errors(),
            "{:?}",
            checked.analysis.diagnostics
        );
        let digests = sdbc::pipeline::pending_secret_digests(&checked.analysis.model);
        let out = sdbc::pipeline::build(&checked, &digests).expect("builds");
        out.requests
            .iter()
            .map(|call| {
                let body = call.body.to_value();
                let name = body["name"].as_str().expect("named").to_string();
                let key = format!("{}/{name}", call.path).replace("{project}", PROJECT);
                let text = body.to_string().replace("{project}", PROJECT);
                let text = text.replace("{lineage}", &lineage);
                let text = match &ssh_keys {
                    Some(keys) => text.replace(sdbc::targets::gce::SSH_KEYS, keys),
                    None => text,
                };
                let body = serde_json::from_str(&text).expect("json");
                (key, body)
            })
            .collect()
    }

    /// Every key of the state's resources, as the fake names them.
    pub fn state_keys(&self) -> BTreeSet<String> {
        self.state()
            .resources
            .values()
            .map(|r| format!("{}/{}", r.collection, r.name).replace("{project}", PROJECT))
            .collect()
    }
}

/// Differences between a desired body and the resource the fake holds:
/// every desired field must be there with the same value, where a
/// reference may come back as a full URL ending with the desired one, a
/// `${node.field}` placeholder stands for any value, and the boot disk's
/// `initializeParams` becomes a disk of its own. Empty when they agree.
pub fn body_differences(desired: &Value, actual: &Value) -> Vec<String> {
    let mut out = Vec::new();
    compare("", desired, actual, &mut out);
    out
}

fn compare(path: &str, want: &Value, got: &Value, out: &mut Vec<String>) {
    match (want, got) {
        (Value::Object(w), Value::Object(g)) => {
            for (k, wv) in w {
                if k == "initializeParams" {
                    continue;
                }
                let p = format!("{path}.{k}");
                match g.get(k) {
                    Some(gv) => compare(&p, wv, gv, out),
                    None => out.push(format!("{p}: missing (want {wv})")),
                }
            }
        }
        (Value::Array(w), Value::Array(g)) if w.len() == g.len() => {
            for (i, (wv, gv)) in w.iter().zip(g).enumerate() {
                compare(&format!("{path}[{i}]"), wv, gv, out);
            }
        }
        (Value::String(w), Value::String(g)) => {
            let placeholder = w.starts_with("${") && w.ends_with('}');
            let reference = g.starts_with("https://") && g.ends_with(&format!("/{w}"));
            if !(w == g || reference || placeholder && !g.is_empty()) {
                out.push(format!("{path}: want {w:?}, got {g:?}"));
            }
        }
        (w, g) if w == g => {}
        (w, g) => out.push(format!("{path}: want {w}, got {g}")),
    }
}

/// A small program of eleven resources: a network and its subnetwork, a
/// disk, a static address, five VMs (one exporting the disk) and two
/// firewalls (one generated for NFS).
pub fn small_program(nodes: usize) -> String {
    format!(
        r#"gce {{
  region = "europe-west1"
  zone   = "europe-west1-b"
  image  = "ubuntu-os-cloud/ubuntu-2404-lts-amd64"
}}
network small-net 10.20.0.0/24;
disk data 10GB;
vm head e2-small static_ip=true {{
  nfs_export data at "/srv/data";
}}
vm node[{nodes}] e2-small;
firewall ssh tcp:22 from="10.0.0.0/8";
"#
    )
}

/// A state or fake key's short name (`vm worker-3`), for messages.
pub fn short(key: &str) -> String {
    let mut parts = key.rsplit('/');
    let name = parts.next().unwrap_or(key);
    let kind = parts.next().unwrap_or("");
    format!("{kind} {name}")
}
