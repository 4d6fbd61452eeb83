//! Creating a local host: the bridge, its namespace and veth, its folder,
//! host key and configuration files, and its `dockerd` and `sshd`.

use std::fs;
use std::net::Ipv4Addr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

use russh::keys::ssh_key::LineEnding;

use super::{HostsError, LocalHost, arg, run};
use crate::exec::ssh::generate_key;

/// Names derived from the prefix, shared with [`super::cleanup`].
pub(super) fn bridge_name(prefix: &str) -> String {
    format!("{prefix}-br")
}

pub(super) fn netns_name(prefix: &str, i: usize) -> String {
    format!("{prefix}-h{i}")
}

fn veth_name(prefix: &str, i: usize) -> String {
    format!("{prefix}-v{i}")
}

/// The iptables rule letting traffic cross the bridge (`-A`/`-D` prepended).
pub(super) fn forward_rule(prefix: &str) -> Vec<String> {
    let br = bridge_name(prefix);
    ["FORWARD", "-i", &br, "-o", &br, "-j", "ACCEPT"]
        .iter()
        .map(|s| s.to_string())
        .collect()
}

pub(super) fn make_dir(path: &Path) -> Result<(), HostsError> {
    fs::create_dir_all(path).map_err(|source| HostsError::Io {
        what: format!("creating {}", path.display()),
        source,
    })
}

pub(super) fn write_file(path: &Path, text: &str) -> Result<(), HostsError> {
    fs::write(path, text).map_err(|source| HostsError::Io {
        what: format!("writing {}", path.display()),
        source,
    })
}

/// The bridge with the subnet's first address, and the FORWARD rule.
pub(super) fn bridge(prefix: &str, ip: Ipv4Addr) -> Result<(), HostsError> {
    let br = bridge_name(prefix);
    run("ip", &["link", "add", &br, "type", "bridge"])?;
    run("ip", &["addr", "add", &format!("{ip}/24"), "dev", &br])?;
    run("ip", &["link", "set", &br, "up"])?;
    let mut rule = vec!["-I".to_string()];
    rule.extend(forward_rule(prefix));
    let rule: Vec<&str> = rule.iter().map(String::as_str).collect();
    run("iptables", &rule)
}

/// Host `i`: namespace, link, folder, host key, engine and SSH server.
pub(super) fn host(
    prefix: &str,
    i: usize,
    name: &str,
    ip: Ipv4Addr,
    root: &Path,
    authorized_keys: &Path,
) -> Result<LocalHost, HostsError> {
    let ns = netns_name(prefix, i);
    let veth = veth_name(prefix, i);
    run("ip", &["netns", "add", &ns])?;
    run(
        "ip",
        &[
            "link", "add", &veth, "type", "veth", "peer", "name", "eth0", "netns", &ns,
        ],
    )?;
    run(
        "ip",
        &["link", "set", &veth, "master", &bridge_name(prefix), "up"],
    )?;
    run(
        "ip",
        &["-n", &ns, "addr", "add", &format!("{ip}/24"), "dev", "eth0"],
    )?;
    run("ip", &["-n", &ns, "link", "set", "eth0", "up"])?;
    run("ip", &["-n", &ns, "link", "set", "lo", "up"])?;

    let dir = root.join(name);
    for sub in ["data", "exec", "run/sshd"] {
        make_dir(&dir.join(sub))?;
    }
    let key = generate_key()?;
    let pem = key
        .to_openssh(LineEnding::LF)
        .map_err(|e| crate::exec::ssh::SshError::BadKey(e.to_string()))?;
    let key_path = dir.join("ssh_host_ed25519_key");
    write_file(&key_path, &pem)?;
    set_mode(&key_path, 0o600)?;
    write_file(&dir.join("daemon.json"), "{}\n")?;
    write_file(&dir.join("passwd"), &passwd_with_vm_login()?)?;
    write_file(
        &dir.join("sshd_config"),
        &sshd_config(ip, &key_path, authorized_keys),
    )?;

    let mut host = LocalHost {
        name: name.to_string(),
        ip,
        netns: ns.clone(),
        host_key: key.public_key().clone(),
        dir: dir.clone(),
        dockerd: None,
        sshd: None,
    };
    host.dockerd = Some(start_dockerd(&ns, name, &dir)?);
    host.sshd = Some(start_sshd(&ns, name, &dir)?);
    Ok(host)
}

fn sshd_config(ip: Ipv4Addr, host_key: &Path, authorized_keys: &Path) -> String {
    format!(
        "ListenAddress {ip}:22\n\
         HostKey {}\n\
         AuthorizedKeysFile {}\n\
         PidFile /run/sshd.pid\n\
         PermitRootLogin prohibit-password\n\
         PasswordAuthentication no\n\
         KbdInteractiveAuthentication no\n\
         UsePAM no\n\
         StrictModes no\n\
         AllowStreamLocalForwarding yes\n",
        host_key.display(),
        authorized_keys.display(),
    )
}

/// `dockerd` in the host's namespace, under its own hostname.
pub(super) fn start_dockerd(ns: &str, name: &str, dir: &Path) -> Result<Child, HostsError> {
    let script = format!(
        "hostname {name} && exec dockerd --config-file {config} --data-root {data} \
         --exec-root {exec} --pidfile {pid} -H unix://{sock} --storage-driver vfs \
         --bridge none --iptables=false --ip-masq=false --cgroup-parent /{ns}",
        config = arg(&dir.join("daemon.json")),
        data = arg(&dir.join("data")),
        exec = arg(&dir.join("exec")),
        pid = arg(&dir.join("run/docker.pid")),
        sock = arg(&dir.join("run/docker.sock")),
    );
    spawn_logged(
        &[
            &format!("--net=/var/run/netns/{ns}"),
            "unshare",
            "--uts",
            "sh",
            "-c",
            &script,
        ],
        dir.join("dockerd.log"),
    )
}

/// This machine's `/etc/passwd` with sdbc's VM login ([`crate::exec::reach::SSH_USER`])
/// added as another name of root, as the guest environment of a VM gives
/// that login sudo: the host's SSH server sees it (bound over
/// `/etc/passwd` in its own mount namespace), nothing else does.
fn passwd_with_vm_login() -> Result<String, HostsError> {
    let user = crate::exec::reach::SSH_USER;
    let mut text = fs::read_to_string("/etc/passwd").map_err(|source| HostsError::Io {
        what: String::from("reading /etc/passwd"),
        source,
    })?;
    if !text.lines().any(|l| l.starts_with(&format!("{user}:"))) {
        if !text.ends_with('\n') {
            text.push('\n');
        }
        text.push_str(&format!("{user}:x:0:0:{user}:/root:/bin/sh\n"));
    }
    Ok(text)
}

/// `sshd` in the host's namespace, with the host's folder over `/run` and
/// its `passwd` (with sdbc's VM login) over `/etc/passwd`.
fn start_sshd(ns: &str, name: &str, dir: &Path) -> Result<Child, HostsError> {
    let script = format!(
        "hostname {name} && mount --bind {run} /run && mount --bind {passwd} /etc/passwd \
         && exec /usr/sbin/sshd -D -e -f {config}",
        run = arg(&dir.join("run")),
        passwd = arg(&dir.join("passwd")),
        config = arg(&dir.join("sshd_config")),
    );
    spawn_logged(
        &[
            &format!("--net=/var/run/netns/{ns}"),
            "unshare",
            "--mount",
            "--uts",
            "--propagation",
            "private",
            "sh",
            "-c",
            &script,
        ],
        dir.join("sshd.log"),
    )
}

/// `nsenter ARGS...` with stdout and stderr to `log`.
fn spawn_logged(args: &[&str], log: PathBuf) -> Result<Child, HostsError> {
    let io_error = |source| HostsError::Io {
        what: format!("creating {}", log.display()),
        source,
    };
    let out = fs::File::create(&log).map_err(io_error)?;
    let err = out.try_clone().map_err(io_error)?;
    Command::new("nsenter")
        .args(args)
        .stdin(Stdio::null())
        .stdout(out)
        .stderr(err)
        .spawn()
        .map_err(|source| HostsError::Io {
            what: "starting nsenter".into(),
            source,
        })
}

fn set_mode(path: &Path, mode: u32) -> Result<(), HostsError> {
    use std::os::unix::fs::PermissionsExt;
    fs::set_permissions(path, fs::Permissions::from_mode(mode)).map_err(|source| HostsError::Io {
        what: format!("setting the mode of {}", path.display()),
        source,
    })
}

/// SIGKILL and wait (the process is ours, so its id is not reused before).
pub(super) fn kill_and_reap(child: &mut Child) {
    let _ = child.kill();
    let _ = child.wait();
}

/// SIGTERM (the child is the engine itself: `nsenter`, `unshare` and `sh`
/// all exec), then wait up to `grace` before SIGKILL.
pub(super) fn terminate_and_reap(child: &mut Child, grace: std::time::Duration) {
    let _ = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status();
    let start = std::time::Instant::now();
    while start.elapsed() < grace {
        if let Ok(Some(_)) = child.try_wait() {
            return;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    kill_and_reap(child);
}
