//! Local hosts: K machines on this one machine, each with its own network
//! namespace, Docker engine and SSH server, reachable exactly like VMs
//! (SSH with pinned host keys, the Engine API through the SSH session). The
//! Swarm tests run on them; a later step may offer them to users to run a
//! whole program on one machine.
//!
//! Layout, for prefix `P` and subnet `A.B.C`:
//! - a bridge `P-br` holding `A.B.C.1/24`, with an iptables `FORWARD`
//!   ACCEPT rule for traffic across it (Docker sets the policy to DROP);
//! - per host `i`: a network namespace `P-hI` with `eth0` at `A.B.C.(10+i)`
//!   (a veth whose other end, `P-vI`, is on the bridge); `dockerd` under
//!   `nsenter --net` with an empty `--config-file`, its own data root, exec
//!   root, socket, `--cgroup-parent /P-hI`, `vfs`, no bridge and no
//!   iptables; `sshd` inside `unshare --mount --uts` with the host's folder
//!   bound over `/run` (so `/run/docker.sock` is its engine), a `passwd`
//!   with sdbc's VM login `sdbc` (root's uid) over `/etc/passwd`, and its own
//!   hostname (so is the engine's: Swarm names nodes after it);
//! - everything under one folder, `$TMPDIR/sdbc-hosts-P`.
//!
//! [`LocalHosts`] holds a lock per prefix for its lifetime (two runs with
//! one prefix wait for each other), removes what a killed earlier run left
//! under that prefix before starting, and tears everything down on drop,
//! also when a test fails. A host's engine can be killed (a host that stops
//! answering), or stopped and started again with its data (a reboot).
//! Needs root, `ip`, `iptables`, `dockerd`, `sshd`.
//! See `docs/decisions/0014-local-hosts.md`.

mod cleanup;
mod image;
mod spawn;

use std::fs::File;
use std::net::{Ipv4Addr, SocketAddr};
use std::path::{Path, PathBuf};
use std::process::{Child, Command};
use std::sync::Arc;
use std::time::{Duration, Instant};

use russh::keys::ssh_key::{PrivateKey, PublicKey};

use super::engine::{Engine, UnixConnector};
use super::ssh::{SshError, SshTarget, generate_key};

pub use image::{TEST_IMAGE, busybox_rootfs_tar};

/// How long a host's engine and SSH server may take to answer after start.
const READY_TIMEOUT: Duration = Duration::from_secs(60);

/// The first host's last address octet (`.1` is the bridge).
const FIRST_HOST_OCTET: u8 = 10;

/// The login the hosts' SSH servers accept sdbc's key for.
pub const SSH_USER: &str = "root";

/// What to start.
#[derive(Debug, Clone)]
pub struct HostsConfig {
    /// Names every link, namespace, cgroup and folder; at most 6 characters
    /// of `[a-z0-9]` (interface names are limited to 15).
    pub prefix: String,
    /// The first three octets of the private /24 the hosts live in.
    pub subnet: [u8; 3],
    /// The hosts' names (also their hostnames and Swarm node names).
    pub names: Vec<String>,
}

/// Why the hosts could not be started.
#[derive(Debug, thiserror::Error)]
pub enum HostsError {
    #[error("invalid local hosts configuration: {0}")]
    Config(String),
    #[error("`{command}` failed: {message}")]
    Command { command: String, message: String },
    #[error("{what}: {source}")]
    Io {
        what: String,
        #[source]
        source: std::io::Error,
    },
    #[error("host `{host}`: {what} not ready within {}s; see {log}", READY_TIMEOUT.as_secs())]
    NotReady {
        host: String,
        what: &'static str,
        log: String,
    },
    #[error(transparent)]
    Ssh(#[from] SshError),
    #[error(transparent)]
    Engine(#[from] super::engine::EngineError),
}

/// One running host.
#[derive(Debug)]
pub struct LocalHost {
    pub name: String,
    pub ip: Ipv4Addr,
    /// The network namespace (`ip netns` name).
    pub netns: String,
    /// The SSH server's host key (what a VM publishes as `hostkeys/...`).
    pub host_key: PublicKey,
    dir: PathBuf,
    dockerd: Option<Child>,
    sshd: Option<Child>,
}

impl LocalHost {
    /// The SSH server's address.
    pub fn ssh_addr(&self) -> SocketAddr {
        SocketAddr::from((self.ip, 22))
    }

    /// The engine's socket on this machine.
    pub fn engine_socket(&self) -> PathBuf {
        self.dir.join("run/docker.sock")
    }

    /// The engine, reached directly through its socket (not over SSH).
    pub fn local_engine(&self) -> Engine {
        Engine::new(
            self.name.clone(),
            Arc::new(UnixConnector(self.engine_socket())),
        )
    }

    /// The last `lines` lines of the SSH server's log (for a failing test
    /// to show why a login was refused).
    pub fn sshd_log(&self, lines: usize) -> String {
        let text = std::fs::read_to_string(self.dir.join("sshd.log")).unwrap_or_default();
        let all: Vec<&str> = text.lines().collect();
        all[all.len().saturating_sub(lines)..].join("\n")
    }

    /// Kills the engine (SIGKILL), as a host that stops answering.
    pub fn kill_engine(&mut self) {
        if let Some(mut child) = self.dockerd.take() {
            spawn::kill_and_reap(&mut child);
        }
    }

    /// Stops the engine as a reboot would (SIGTERM, SIGKILL after 30 s), so
    /// it leaves its Swarm state on disk.
    pub fn stop_engine(&mut self) {
        if let Some(mut child) = self.dockerd.take() {
            spawn::terminate_and_reap(&mut child, std::time::Duration::from_secs(30));
        }
    }

    /// Starts the engine again (after [`Self::stop_engine`] or
    /// [`Self::kill_engine`]) with the same data: it rejoins its Swarm.
    pub fn start_engine(&mut self) -> Result<(), HostsError> {
        if self.dockerd.is_none() {
            self.dockerd = Some(spawn::start_dockerd(&self.netns, &self.name, &self.dir)?);
        }
        Ok(())
    }
}

/// The running hosts; torn down on drop.
pub struct LocalHosts {
    prefix: String,
    root: PathBuf,
    hosts: Vec<LocalHost>,
    client_key: PrivateKey,
    _lock: File,
}

impl LocalHosts {
    /// Starts the hosts and waits until every engine and SSH server answers.
    pub async fn start(config: HostsConfig) -> Result<LocalHosts, HostsError> {
        validate(&config)?;
        // SAFETY: geteuid(2) has no preconditions and cannot fail.
        if unsafe { libc::geteuid() } != 0 {
            return Err(HostsError::Config(
                "local hosts need root (namespaces, links, iptables, dockerd)".into(),
            ));
        }
        let root = std::env::temp_dir().join(format!("sdbc-hosts-{}", config.prefix));
        let lock = take_lock(&config.prefix)?;
        cleanup::remove_leftovers(&config.prefix, &root);
        let mut hosts = LocalHosts {
            prefix: config.prefix.clone(),
            root: root.clone(),
            hosts: Vec::new(),
            client_key: generate_key()?,
            _lock: lock,
        };
        // From here on, a failure drops `hosts`, which removes what exists.
        spawn::make_dir(&root)?;
        let bridge_ip = Ipv4Addr::new(config.subnet[0], config.subnet[1], config.subnet[2], 1);
        spawn::bridge(&config.prefix, bridge_ip)?;
        let authorized = root.join("authorized_keys");
        spawn::write_file(&authorized, &public_line(&hosts.client_key)?)?;
        for (i, name) in config.names.iter().enumerate() {
            let octet = FIRST_HOST_OCTET + u8::try_from(i).expect("validated: at most 200 hosts");
            let ip = Ipv4Addr::new(config.subnet[0], config.subnet[1], config.subnet[2], octet);
            let host = spawn::host(&config.prefix, i, name, ip, &root, &authorized)?;
            hosts.hosts.push(host);
        }
        for host in &hosts.hosts {
            wait_ready(host).await?;
        }
        Ok(hosts)
    }

    pub fn hosts(&self) -> &[LocalHost] {
        &self.hosts
    }

    pub fn host_mut(&mut self, i: usize) -> Option<&mut LocalHost> {
        self.hosts.get_mut(i)
    }

    /// The key every host accepts for [`SSH_USER`].
    pub fn client_key(&self) -> &PrivateKey {
        &self.client_key
    }

    /// Lets `key` log in on every host too, as [`SSH_USER`] or as sdbc's VM
    /// login ([`crate::exec::reach::SSH_USER`]): what giving a VM the
    /// stack's key through its metadata does.
    pub fn authorize(&self, key: &PublicKey) -> Result<(), HostsError> {
        let line = key
            .to_openssh()
            .map_err(|e| SshError::BadKey(e.to_string()))?;
        let path = self.root.join("authorized_keys");
        let io = |source| HostsError::Io {
            what: format!("appending to {}", path.display()),
            source,
        };
        let mut file = std::fs::OpenOptions::new()
            .append(true)
            .open(&path)
            .map_err(io)?;
        std::io::Write::write_all(&mut file, format!("{line}\n").as_bytes()).map_err(io)
    }

    /// How to reach host `i` over SSH, its real host key pinned.
    pub fn ssh_target(&self, i: usize) -> Option<SshTarget> {
        let host = self.hosts.get(i)?;
        Some(SshTarget {
            host: host.name.clone(),
            addr: host.ssh_addr(),
            user: SSH_USER.to_string(),
            host_keys: vec![host.host_key.clone()],
        })
    }

    /// Imports a root filesystem (a tar archive) as image `name` into every
    /// host's engine (there is no registry).
    pub async fn import_image(&self, name: &str, rootfs_tar: &[u8]) -> Result<(), HostsError> {
        for host in &self.hosts {
            image::import(&host.local_engine(), name, rootfs_tar).await?;
        }
        Ok(())
    }
}

impl Drop for LocalHosts {
    fn drop(&mut self) {
        for host in &mut self.hosts {
            for child in [host.sshd.as_mut(), host.dockerd.as_mut()]
                .into_iter()
                .flatten()
            {
                spawn::kill_and_reap(child);
            }
        }
        cleanup::remove_leftovers(&self.prefix, &self.root);
    }
}

fn validate(config: &HostsConfig) -> Result<(), HostsError> {
    let p = &config.prefix;
    if p.is_empty()
        || p.len() > 6
        || !p
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
    {
        return Err(HostsError::Config(format!(
            "prefix `{p}` must be 1 to 6 characters of a-z and 0-9"
        )));
    }
    if config.names.is_empty() || config.names.len() > 200 {
        return Err(HostsError::Config("between 1 and 200 hosts".into()));
    }
    for name in &config.names {
        if name.is_empty() || !name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-') {
            return Err(HostsError::Config(format!(
                "host name `{name}` must be letters, digits and `-`"
            )));
        }
    }
    Ok(())
}

/// An exclusive lock per prefix, held while the hosts run.
fn take_lock(prefix: &str) -> Result<File, HostsError> {
    let path = std::env::temp_dir().join(format!("sdbc-hosts-{prefix}.lock"));
    let file = File::options()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
        .map_err(|source| HostsError::Io {
            what: format!("opening {}", path.display()),
            source,
        })?;
    file.lock().map_err(|source| HostsError::Io {
        what: format!("locking {}", path.display()),
        source,
    })?;
    Ok(file)
}

fn public_line(key: &PrivateKey) -> Result<String, HostsError> {
    let line = key
        .public_key()
        .to_openssh()
        .map_err(|e| SshError::BadKey(e.to_string()))?;
    Ok(format!("{line}\n"))
}

/// Waits until the host's engine answers `/_ping` and its SSH port accepts.
async fn wait_ready(host: &LocalHost) -> Result<(), HostsError> {
    let start = Instant::now();
    let engine = host.local_engine().with_timeout(Duration::from_secs(2));
    while engine.get("/info").await.is_err() {
        if start.elapsed() > READY_TIMEOUT {
            return Err(not_ready(host, "the Docker engine", "dockerd.log"));
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    while tokio::net::TcpStream::connect(host.ssh_addr())
        .await
        .is_err()
    {
        if start.elapsed() > READY_TIMEOUT {
            return Err(not_ready(host, "the SSH server", "sshd.log"));
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    Ok(())
}

fn not_ready(host: &LocalHost, what: &'static str, log: &str) -> HostsError {
    HostsError::NotReady {
        host: host.name.clone(),
        what,
        log: host.dir.join(log).display().to_string(),
    }
}

/// Runs a command to completion; an error carries its stderr.
fn run(program: &str, args: &[&str]) -> Result<(), HostsError> {
    let output = Command::new(program)
        .args(args)
        .output()
        .map_err(|source| HostsError::Io {
            what: format!("running {program}"),
            source,
        })?;
    if output.status.success() {
        return Ok(());
    }
    Err(HostsError::Command {
        command: format!("{program} {}", args.join(" ")),
        message: String::from_utf8_lossy(&output.stderr).trim().to_string(),
    })
}

/// A path as a `&str` argument (every path here is built from ASCII parts).
fn arg(path: &Path) -> &str {
    path.to_str()
        .expect("paths under the temporary folder are UTF-8")
}
