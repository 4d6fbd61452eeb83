//! Benchmark of `sdbc lsp` on a generated 5,000-line program: the time from
//! a `didChange` to its `publishDiagnostics`, completion latency, and the
//! server's resident memory after 1,000 edits.
//!
//! ```sh
//! cargo build --release && cargo run --release --example lsp_bench
//! ```
//!
//! The server binary is `SDBC_BIN` if set, else `sdbc` beside the
//! `examples/` directory this program runs from (`target/release/sdbc`).

use std::io::{BufRead, BufReader, Write};
use std::path::PathBuf;
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc::{Receiver, channel};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

const BLOCKS: usize = 500;
const EDITS: usize = 1000;
const COMPLETIONS: usize = 200;

fn main() {
    let text = program();
    let lines = text.lines().count();
    let dir = std::env::temp_dir().join(format!("sdbc-lsp-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let path = dir.join("big.sdb");
    std::fs::write(&path, &text).expect("write program");
    let uri = format!("file://{}", path.display());

    let mut s = Server::start(&server_binary());
    s.request("initialize", json!({ "capabilities": {} }));
    s.notify("initialized", json!({}));
    let t = Instant::now();
    let doc = json!({ "uri": uri, "languageId": "sdb", "version": 1, "text": text });
    s.notify("textDocument/didOpen", json!({ "textDocument": doc }));
    let initial = s.wait_diagnostics(1);
    println!("program: {lines} lines, {} bytes", text.len());
    println!(
        "didOpen -> publishDiagnostics: {:.1} ms ({initial} diagnostics)",
        ms(t.elapsed())
    );

    phases(&text, &path);
    let cpu_before = s.cpu_ms();
    let change = edits(&mut s, &uri);
    let cpu_per_edit = (s.cpu_ms() - cpu_before) / EDITS as f64;
    report("didChange -> publishDiagnostics", &change);
    println!(
        "server CPU time per edit: {cpu_per_edit:.1} ms (wall-clock figures include waiting for a core)"
    );
    let completion = completions(&mut s, &uri, &text, None);
    report("completion", &completion);
    let typing = completions(&mut s, &uri, &text, Some(EDITS as i64 + 2));
    report("completion right after a didChange", &typing);
    let rss = s.rss_kib();
    println!("VmRSS after {EDITS} edits: {:.1} MB", rss as f64 / 1024.0);

    s.request("shutdown", Value::Null);
    s.notify("exit", Value::Null);
    let status = s.child.wait().expect("wait");
    println!("server exit: {status}");
    let _ = std::fs::remove_dir_all(&dir);
}

/// Where an analysis spends its time, in this process (median of 11 runs).
fn phases(text: &str, path: &std::path::Path) {
    let median = |f: &mut dyn FnMut()| {
        let mut t: Vec<Duration> = (0..11)
            .map(|_| {
                let start = Instant::now();
                f();
                start.elapsed()
            })
            .collect();
        t.sort();
        ms(t[5])
    };
    let parse = median(&mut || {
        let _ = sdbc::syntax::parse(sdbc::span::FileId(0), text);
    });
    let file = sdbc::span::FileId(0);
    let (_, _, _, memo) = sdbc::syntax::reparse(file, text, None);
    let edited = text.replacen(
        "e2-standard-4 swarm=worker",
        "e2-standard-9 swarm=worker",
        1,
    );
    let reparse = median(&mut || {
        let _ = sdbc::syntax::reparse(file, &edited, Some(memo.clone()));
    });
    let env = || sdbc::sema::Env {
        vars: Default::default(),
        getenv: Box::new(|_| None),
        reader: &sdbc::sema::DiskReader,
    };
    let analyze = || {
        let name = path.display().to_string();
        sdbc::sema::analyze_bytes(
            &name,
            Some(path.to_path_buf()),
            text.as_bytes().to_vec(),
            &env(),
        )
    };
    let sema = median(&mut || {
        let _ = analyze();
    });
    let check = median(&mut || {
        let _ = sdbc::pipeline::check(analyze());
    });
    println!(
        "phases (in-process, whole parse): parse {parse:.1} ms, parse+sema {sema:.1} ms, parse+sema+graph/checks {check:.1} ms"
    );
    let parses = sdbc::syntax::ParseCache::default();
    let mut flip = false;
    let mut analyze_edited = || {
        flip = !flip;
        let version = if flip { &edited } else { text };
        let name = path.display().to_string();
        let bytes = version.as_bytes().to_vec();
        sdbc::sema::analyze_bytes_reusing(
            &name,
            Some(path.to_path_buf()),
            bytes,
            &env(),
            Some(&parses),
        )
    };
    let incremental_sema = median(&mut || {
        let _ = analyze_edited();
    });
    let incremental_check = median(&mut || {
        let _ = sdbc::pipeline::check(analyze_edited());
    });
    println!(
        "after a one-character edit (what the server does): reparse {reparse:.1} ms, reparse+sema {incremental_sema:.1} ms, reparse+sema+graph/checks {incremental_check:.1} ms"
    );
}

/// 500 blocks of 10 lines: disks, VM groups, secrets, lets, services with bodies.
fn program() -> String {
    let mut s = String::from(
        "gce {\n  project = \"bench\"\n  region = \"europe-west1\"\n  zone = \"europe-west1-b\"\n}\n\
         network net 10.0.0.0/16;\nvm mgr[3] e2-standard-4 swarm=manager;\n\n",
    );
    for i in 0..BLOCKS {
        let prev = if i == 0 { 0 } else { i - 1 };
        s.push_str(&format!(
            "# group {i}\n\
             disk d{i} 20GB type=pd-balanced;\n\
             vm v{i}[2] e2-standard-4 swarm=worker static_ip=(index == 0);\n\
             secret s{i};\n\
             let img{i} = \"nginx:1.27\";\n\
             service svc{i} image=img{i} replicas=2 on=v{i} cpus=0.5 memory=256MB {{\n  \
               env A = s{i}.path;\n  \
               env HOST = svc{prev};\n  \
               secret s{i};\n\
             }}\n"
        ));
    }
    s
}

/// 1,000 edits, alternately breaking and fixing a machine type near the
/// middle of the file; each is timed until its diagnostics arrive.
fn edits(s: &mut Server, uri: &str) -> Vec<Duration> {
    let line = 8 + 10 * (BLOCKS / 2) + 2; // `vm vN[2] e2-standard-4 ...`
    let col = format!("vm v{}[2] e2-standard-", BLOCKS / 2).len() as u32;
    let mut times = Vec::with_capacity(EDITS);
    for n in 0..EDITS {
        let version = n as i64 + 2;
        let text = if n % 2 == 0 { "9" } else { "4" };
        let edit = json!({
            "range": { "start": { "line": line, "character": col }, "end": { "line": line, "character": col + 1 } },
            "text": text,
        });
        let t = Instant::now();
        s.notify(
            "textDocument/didChange",
            json!({ "textDocument": { "uri": uri, "version": version }, "contentChanges": [edit] }),
        );
        s.wait_diagnostics(version);
        times.push(t.elapsed());
    }
    times
}

/// Completions at a machine type, an attribute and a statement start.
fn completions(s: &mut Server, uri: &str, text: &str, edit_from: Option<i64>) -> Vec<Duration> {
    let lines: Vec<&str> = text.lines().collect();
    let mut times = Vec::with_capacity(COMPLETIONS);
    for n in 0..COMPLETIONS {
        let block = 8 + 10 * ((n * 7) % BLOCKS);
        let (line, character) = match n % 3 {
            0 => (block + 2, lines[block + 2].find("e2-").unwrap_or(0) + 3),
            1 => (block + 5, lines[block + 5].find("cpus").unwrap_or(0)),
            _ => (block + 6, 2),
        };
        let params = json!({
            "textDocument": { "uri": uri },
            "position": { "line": line, "character": character },
        });
        if let Some(v) = edit_from {
            // A comment edit on the first line, then at once the completion.
            let version = v + n as i64;
            let edit = json!({
                "range": { "start": { "line": 0, "character": 0 }, "end": { "line": 0, "character": 0 } },
                "text": "",
            });
            s.notify(
                "textDocument/didChange",
                json!({ "textDocument": { "uri": uri, "version": version }, "contentChanges": [edit] }),
            );
        }
        let t = Instant::now();
        let result = s.request("textDocument/completion", params);
        times.push(t.elapsed());
        assert!(
            result.as_array().is_some_and(|a| !a.is_empty()),
            "completion at {line}:{character}"
        );
    }
    times
}

fn report(what: &str, times: &[Duration]) {
    let mut sorted = times.to_vec();
    sorted.sort();
    let pick = |q: f64| ms(sorted[((sorted.len() - 1) as f64 * q) as usize]);
    let mean = ms(sorted.iter().sum::<Duration>()) / sorted.len() as f64;
    println!(
        "{what} ({} samples): mean {mean:.2} ms, p50 {:.2} ms, p95 {:.2} ms, max {:.2} ms",
        sorted.len(),
        pick(0.5),
        pick(0.95),
        pick(1.0)
    );
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

fn server_binary() -> PathBuf {
    if let Some(p) = std::env::var_os("SDBC_BIN") {
        return PathBuf::from(p);
    }
    let exe = std::env::current_exe().expect("current exe");
    let dir = exe.parent().and_then(|p| p.parent()).expect("target dir");
    dir.join("sdbc")
}

struct Server {
    child: Child,
    stdin: ChildStdin,
    rx: Receiver<Value>,
    next_id: i64,
}

impl Server {
    fn start(bin: &PathBuf) -> Server {
        let mut child = Command::new(bin)
            .arg("lsp")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| {
                panic!(
                    "start {}: {e} (run `cargo build --release` first)",
                    bin.display()
                )
            });
        let stdin = child.stdin.take().expect("stdin");
        let stdout = child.stdout.take().expect("stdout");
        let (tx, rx) = channel();
        std::thread::spawn(move || {
            let mut r = BufReader::new(stdout);
            while let Some(m) = read_message(&mut r) {
                if tx.send(m).is_err() {
                    break;
                }
            }
        });
        Server {
            child,
            stdin,
            rx,
            next_id: 0,
        }
    }

    fn send(&mut self, msg: Value) {
        let body = msg.to_string();
        write!(self.stdin, "Content-Length: {}\r\n\r\n{body}", body.len()).expect("write");
        self.stdin.flush().expect("flush");
    }

    fn notify(&mut self, method: &str, params: Value) {
        self.send(json!({ "jsonrpc": "2.0", "method": method, "params": params }));
    }

    fn recv(&self) -> Value {
        self.rx
            .recv_timeout(Duration::from_secs(60))
            .expect("a message from the server")
    }

    fn request(&mut self, method: &str, params: Value) -> Value {
        self.next_id += 1;
        let id = self.next_id;
        self.send(json!({ "jsonrpc": "2.0", "id": id, "method": method, "params": params }));
        loop {
            let m = self.recv();
            if m["id"] == json!(id) && m.get("method").is_none() {
                return m["result"].clone();
            }
        }
    }

    /// Waits for the diagnostics of `version`; returns how many there are.
    fn wait_diagnostics(&mut self, version: i64) -> usize {
        loop {
            let m = self.recv();
            if m["method"] == "textDocument/publishDiagnostics"
                && m["params"]["version"] == json!(version)
            {
                return m["params"]["diagnostics"].as_array().map_or(0, Vec::len);
            }
        }
    }

    /// User + system CPU time of the server so far, in ms (Linux, 100 ticks/s).
    fn cpu_ms(&self) -> f64 {
        let stat =
            std::fs::read_to_string(format!("/proc/{}/stat", self.child.id())).unwrap_or_default();
        let after_name = stat.rsplit_once(')').map_or("", |(_, r)| r);
        let fields: Vec<&str> = after_name.split_whitespace().collect();
        let tick = |i: usize| {
            fields
                .get(i)
                .and_then(|f| f.parse::<f64>().ok())
                .unwrap_or(0.0)
        };
        (tick(11) + tick(12)) * 10.0
    }

    fn rss_kib(&self) -> u64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id()))
            .unwrap_or_default();
        status
            .lines()
            .find_map(|l| l.strip_prefix("VmRSS:"))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
            .unwrap_or(0)
    }
}

fn read_message(r: &mut impl BufRead) -> Option<Value> {
    let mut len = None;
    loop {
        let mut line = String::new();
        if r.read_line(&mut line).ok()? == 0 {
            return None;
        }
        let line = line.trim_end();
        if line.is_empty() {
            break;
        }
        if let Some(v) = line.strip_prefix("Content-Length:") {
            len = v.trim().parse::<usize>().ok();
        }
    }
    let mut body = vec![0; len?];
    r.read_exact(&mut body).ok()?;
    serde_json::from_slice(&body).ok()
}
