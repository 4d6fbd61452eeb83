//! Removing everything local hosts of one prefix may have left: processes
//! (the hosts' namespaces' and the containers' cgroups'), mounts under the
//! folder, cgroups, namespaces, links, the FORWARD rule and the folder.
//! Found by name, so it also removes what a killed earlier run left; every
//! step goes on when one fails.

use std::fs;
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use super::spawn::{bridge_name, forward_rule};

/// Where cgroup v1 controllers (and the v2 hierarchy) are mounted.
const CGROUP_ROOT: &str = "/sys/fs/cgroup";

/// How long processes may take to die after SIGKILL.
const KILL_WAIT: Duration = Duration::from_secs(10);

/// Removes every trace of the hosts of `prefix` whose folder is `root`.
pub(super) fn remove_leftovers(prefix: &str, root: &Path) {
    let namespaces = our_namespaces(prefix);
    let deadline = Instant::now() + KILL_WAIT;
    loop {
        let mut pids = cgroup_pids(prefix);
        for ns in &namespaces {
            pids.extend(netns_pids(ns));
        }
        if pids.is_empty() || Instant::now() > deadline {
            break;
        }
        for pid in pids {
            // SAFETY: kill(2) has no memory effects; the pids were read from
            // our own namespaces and cgroups just now.
            unsafe {
                libc::kill(pid, libc::SIGKILL);
            }
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    unmount_under(root);
    remove_cgroups(prefix);
    for ns in &namespaces {
        quiet("ip", &["netns", "delete", ns]);
    }
    for link in our_links(prefix) {
        quiet("ip", &["link", "delete", &link]);
    }
    let mut delete = vec!["-D".to_string()];
    delete.extend(forward_rule(prefix));
    let delete: Vec<&str> = delete.iter().map(String::as_str).collect();
    // The rule may have been added more than once by killed runs.
    for _ in 0..16 {
        if !quiet("iptables", &delete) {
            break;
        }
    }
    let _ = fs::remove_dir_all(root);
}

/// Runs a command, ignoring its output; whether it succeeded.
fn quiet(program: &str, args: &[&str]) -> bool {
    Command::new(program)
        .args(args)
        .output()
        .is_ok_and(|o| o.status.success())
}

fn stdout(program: &str, args: &[&str]) -> String {
    Command::new(program)
        .args(args)
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).into_owned())
        .unwrap_or_default()
}

fn our_namespaces(prefix: &str) -> Vec<String> {
    let start = format!("{prefix}-");
    stdout("ip", &["netns", "list"])
        .lines()
        .filter_map(|l| l.split_whitespace().next())
        .filter(|n| n.starts_with(&start))
        .map(str::to_string)
        .collect()
}

fn netns_pids(ns: &str) -> Vec<i32> {
    stdout("ip", &["netns", "pids", ns])
        .split_whitespace()
        .filter_map(|p| p.parse().ok())
        .collect()
}

/// Links named after the prefix (the bridge and the host ends of the veths).
fn our_links(prefix: &str) -> Vec<String> {
    let start = format!("{prefix}-");
    let mut links: Vec<String> = stdout("ip", &["-o", "link", "show"])
        .lines()
        .filter_map(|l| l.split(": ").nth(1))
        .map(|n| n.split('@').next().unwrap_or(n).to_string())
        .filter(|n| n.starts_with(&start))
        .collect();
    // Veths go with their namespaces; the bridge last.
    links.sort_by_key(|l| *l == bridge_name(prefix));
    links
}

/// Our cgroup folders, deepest first, in every hierarchy.
fn cgroup_dirs(prefix: &str) -> Vec<std::path::PathBuf> {
    let start = format!("{prefix}-");
    let mut dirs = Vec::new();
    let Ok(hierarchies) = fs::read_dir(CGROUP_ROOT) else {
        return dirs;
    };
    for h in hierarchies.flatten() {
        let Ok(entries) = fs::read_dir(h.path()) else {
            continue;
        };
        for e in entries.flatten() {
            if e.file_name().to_string_lossy().starts_with(&start) && e.path().is_dir() {
                collect_dirs(&e.path(), &mut dirs);
            }
        }
    }
    dirs.sort_by_key(|d| std::cmp::Reverse(d.components().count()));
    dirs
}

fn collect_dirs(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
    out.push(dir.to_path_buf());
    if let Ok(entries) = fs::read_dir(dir) {
        for e in entries.flatten() {
            if e.path().is_dir() {
                collect_dirs(&e.path(), out);
            }
        }
    }
}

fn cgroup_pids(prefix: &str) -> Vec<i32> {
    let mut pids = Vec::new();
    for dir in cgroup_dirs(prefix) {
        if let Ok(text) = fs::read_to_string(dir.join("cgroup.procs")) {
            pids.extend(
                text.split_whitespace()
                    .filter_map(|p| p.parse::<i32>().ok()),
            );
        }
    }
    pids.sort_unstable();
    pids.dedup();
    pids
}

fn remove_cgroups(prefix: &str) {
    for dir in cgroup_dirs(prefix) {
        let _ = fs::remove_dir(dir);
    }
}

/// Unmounts every mount point under `root`, deepest first (lazily: a busy
/// mount goes when its last user does).
fn unmount_under(root: &Path) {
    let Some(root) = root.to_str() else { return };
    let mut points: Vec<String> = fs::read_to_string("/proc/self/mountinfo")
        .unwrap_or_default()
        .lines()
        .filter_map(|l| l.split(' ').nth(4))
        .filter(|p| p.starts_with(root))
        .map(str::to_string)
        .collect();
    points.sort_by_key(|p| std::cmp::Reverse(p.len()));
    points.dedup();
    for p in points {
        quiet("umount", &["-l", &p]);
    }
}
