//! `std/redis_ha` starts every Redis server through its `redis-start.sh`
//! config, which asks the Sentinels who the master is. These tests run that
//! script for real on loopback with Debian's `redis-server` (a Sentinel is
//! `redis-server --sentinel`): after a failover the old master's command
//! brings it back as a replica of the promoted server, and without any
//! Sentinel the first deploy's roles hold. A missing `redis-server` fails
//! the tests; they are never skipped.

use std::collections::BTreeMap;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::thread::sleep;
use std::time::{Duration, Instant};

/// The text of the module's start script, as a program using it gets it.
fn start_script() -> String {
    let program = "import \"std/redis_ha\";\n\
                   network net 10.0.0.0/24;\n\
                   vm manager e2-small swarm=manager;\n\
                   redis_ha cache on=manager;\n";
    let env = sdbc::sema::Env {
        vars: BTreeMap::new(),
        getenv: Box::new(|_| None),
        reader: &sdbc::sema::DiskReader,
    };
    let analysis = sdbc::sema::analyze_bytes("redis.sdb", None, program.as_bytes().to_vec(), &env);
    assert!(!analysis.has_errors(), "{:#?}", analysis.diagnostics);
    let config = analysis
        .model
        .configs
        .iter()
        .find(|c| c.name == "cache-start_sh")
        .unwrap_or_else(|| panic!("no config cache-start_sh in {:?}", analysis.model.configs));
    config.content.clone()
}

fn free_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind a loopback port");
    listener.local_addr().expect("bound address").port()
}

/// A folder of Redis processes; every process is killed and the folder
/// removed on drop, also when an assertion fails.
struct Lab {
    dir: PathBuf,
    script: PathBuf,
    procs: BTreeMap<u16, Child>,
}

impl Lab {
    fn new(name: &str) -> Lab {
        let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
            .join(format!("redis-ha-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("create the test folder");
        let script = dir.join("redis-start.sh");
        std::fs::write(&script, start_script()).expect("write the start script");
        Lab {
            dir,
            script,
            procs: BTreeMap::new(),
        }
    }

    fn spawn(&mut self, port: u16, cmd: &mut Command) {
        let log = std::fs::File::create(self.dir.join(format!("{port}.log"))).expect("log file");
        let err = log.try_clone().expect("log file");
        let child = cmd
            .current_dir(&self.dir)
            .stdin(Stdio::null())
            .stdout(log)
            .stderr(err)
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {cmd:?} ({e}): apt-get install redis-server"));
        self.procs.insert(port, child);
    }

    fn sentinel(&mut self, port: u16, master: u16) {
        let conf = self.dir.join(format!("sentinel-{port}.conf"));
        let text = format!(
            "port {port}\nbind 127.0.0.1\ndir {dir}\n\
             sentinel monitor primary 127.0.0.1 {master} 1\n\
             sentinel down-after-milliseconds primary 3000\n\
             sentinel failover-timeout primary 10000\n",
            dir = self.dir.display()
        );
        std::fs::write(&conf, text).expect("write sentinel.conf");
        self.spawn(
            port,
            Command::new("redis-server").arg(&conf).arg("--sentinel"),
        );
    }

    /// The module's command line for a server on `port`.
    fn server(&mut self, role: &str, port: u16, sentinel: u16, first: u16) {
        let data = self.dir.join(format!("data-{port}"));
        std::fs::create_dir_all(&data).expect("data folder");
        let self_host = if role == "master" { "127.0.0.1" } else { "-" };
        let (port_s, sentinel_s, first_s) =
            (port.to_string(), sentinel.to_string(), first.to_string());
        let mut cmd = Command::new("sh");
        cmd.arg(&self.script)
            .args([
                role,
                "127.0.0.1",
                &sentinel_s,
                "primary",
                "127.0.0.1",
                &first_s,
            ])
            .args([self_host, &port_s])
            .args([
                "--port",
                &port_s,
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
            ])
            .arg("--dir")
            .arg(&data);
        self.spawn(port, &mut cmd);
    }

    fn kill(&mut self, port: u16) {
        if let Some(mut child) = self.procs.remove(&port) {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    fn logs(&self) -> String {
        let mut out = String::new();
        for port in self.procs.keys() {
            let text =
                std::fs::read_to_string(self.dir.join(format!("{port}.log"))).unwrap_or_default();
            out.push_str(&format!("--- {port} ---\n{text}\n"));
        }
        out
    }
}

impl Drop for Lab {
    fn drop(&mut self) {
        let ports: Vec<u16> = self.procs.keys().copied().collect();
        for port in ports {
            self.kill(port);
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// `redis-cli -p PORT ARGS...` with `--raw`, its lines (empty when it fails).
fn cli(port: u16, args: &[&str]) -> Vec<String> {
    let out = Command::new("redis-cli")
        .args(["-h", "127.0.0.1", "-p", &port.to_string(), "--raw"])
        .args(args)
        .output()
        .expect("run redis-cli (apt-get install redis-server)");
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(str::to_owned)
        .collect()
}

/// Polls `check` every 200 ms for at most `secs` seconds.
fn wait_for(lab: &Lab, what: &str, secs: u64, mut check: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(secs);
    while !check() {
        assert!(
            Instant::now() < deadline,
            "timed out after {secs}s waiting for {what}\n{}",
            lab.logs()
        );
        sleep(Duration::from_millis(200));
    }
}

fn role(port: u16) -> Vec<String> {
    cli(port, &["role"])
}

/// `role` of a replica of `master` whose link is up.
fn is_replica_of(port: u16, master: u16) -> bool {
    let r = role(port);
    r.len() >= 4 && r[0] == "slave" && r[2] == master.to_string() && r[3] == "connected"
}

fn master_named(sentinel: u16) -> Option<u16> {
    let reply = cli(
        sentinel,
        &["sentinel", "get-master-addr-by-name", "primary"],
    );
    reply.get(1).and_then(|p| p.parse().ok())
}

#[test]
fn a_restarted_master_follows_the_sentinel_failover() {
    let mut lab = Lab::new("failover");
    let (a, b, s) = (free_port(), free_port(), free_port());
    lab.sentinel(s, a);
    wait_for(&lab, "the sentinel", 10, || cli(s, &["ping"]) == ["PONG"]);

    // First deploy: the Sentinel names `a`, which is this server: master.
    lab.server("master", a, s, a);
    wait_for(&lab, "a master on a", 15, || {
        role(a).first().is_some_and(|r| r == "master")
    });
    lab.server("replica", b, s, a);
    wait_for(&lab, "b replicating a", 15, || is_replica_of(b, a));
    wait_for(&lab, "the sentinel to see b", 30, || {
        cli(s, &["sentinel", "replicas", "primary"])
            .iter()
            .any(|l| l == &b.to_string())
    });

    // The master dies; the Sentinel promotes b.
    lab.kill(a);
    wait_for(&lab, "the failover to b", 60, || master_named(s) == Some(b));
    wait_for(&lab, "b to be master", 15, || {
        role(b).first().is_some_and(|r| r == "master")
    });

    // The old master's task starts again with the same command.
    // It must never answer as master (two masters), not even until the
    // Sentinel would have turned it into a replica itself.
    lab.server("master", a, s, a);
    let mut roles_seen = Vec::new();
    wait_for(&lab, "a replicating b", 20, || {
        roles_seen.extend(role(a).into_iter().take(1));
        is_replica_of(a, b)
    });
    assert!(
        !roles_seen.iter().any(|r| r == "master"),
        "a came back as master\n{}",
        lab.logs()
    );
    assert_eq!(
        role(b).first().map(String::as_str),
        Some("master"),
        "{}",
        lab.logs()
    );
    assert_eq!(master_named(s), Some(b));
}

#[test]
fn without_sentinels_the_first_roles_hold() {
    let mut lab = Lab::new("fallback");
    let (a, b, s) = (free_port(), free_port(), free_port());
    lab.server("master", a, s, a);
    lab.server("replica", b, s, a);
    wait_for(&lab, "a master on a", 20, || {
        role(a).first().is_some_and(|r| r == "master")
    });
    wait_for(&lab, "b replicating a", 20, || is_replica_of(b, a));
}

#[test]
fn the_sentinels_name_is_taken_from_the_instance() {
    let script = start_script();
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR"));
    let path: &Path = &dir.join(format!("redis-start-{}.sh", std::process::id()));
    // Only the argument handling: print the Sentinels' name and stop.
    let (head, _) = script
        .split_once("\n# Every address")
        .expect("the script has its `addresses` helper");
    std::fs::write(path, format!("{head}\necho \"$sentinels\"\n")).expect("write script");
    let out = Command::new("sh")
        .arg(path)
        .args([
            "master",
            "-sentinel",
            "26379",
            "primary",
            "my-cache-master",
            "6379",
            "x",
            "6379",
        ])
        .output()
        .expect("run sh");
    let _ = std::fs::remove_file(path);
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim(),
        "tasks.my-cache-sentinel"
    );
}
