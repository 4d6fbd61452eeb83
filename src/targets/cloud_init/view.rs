//! The template context for one VM: everything the templates print, computed
//! and validated here so that the templates only lay it out. Both templates
//! (cloud-config and startup script) render the same [`View`].

use serde::Serialize;
use serde_json::json;

use crate::model::{Model, SwarmRole, Vm};
use crate::targets::gce::names;

use super::RenderError;

/// Mount options of an attached disk: `nofail` so that a boot never hangs on
/// it, `discard` to return freed blocks to the persistent disk.
const DISK_MOUNT_OPTIONS: &str = "defaults,nofail,discard";
/// Mount options of an NFS client mount: `_netdev` waits for the network,
/// `nofail` keeps a reboot going while the server is still down (the boot
/// configuration retries the mount itself).
const NFS_MOUNT_OPTIONS: &str = "defaults,_netdev,nofail";
/// Options of every NFS export. `no_root_squash`: containers write as root.
const EXPORT_OPTIONS: &str = "rw,sync,no_subtree_check,no_root_squash";

#[derive(Debug, Serialize, PartialEq, Eq, Hash)]
pub(super) struct View {
    packages: Vec<String>,
    files: Vec<File>,
    /// Whether there is a sysctl file to apply.
    sysctl: bool,
    /// Attached disks to format (if blank) and mount.
    disks: Vec<Mount>,
    /// NFS mounts of other VMs' exports.
    nfs_mounts: Vec<Mount>,
    /// Directories exported over NFS (empty: not an NFS server).
    exports: Vec<String>,
    docker: bool,
    /// `unit:NAME` and `mount:PATH` checks made before signalling ready.
    ready_checks: Vec<String>,
}

#[derive(Debug, Serialize, PartialEq, Eq, Hash)]
struct File {
    path: String,
    permissions: String,
    content: String,
}

/// One `/etc/fstab` entry.
#[derive(Debug, Serialize, PartialEq, Eq, Hash)]
struct Mount {
    spec: String,
    path: String,
    fstype: String,
    options: String,
    pass: String,
    /// The whole fstab line (for the startup script).
    line: String,
}

impl Mount {
    fn new(spec: String, path: String, fstype: &str, options: &str, pass: &str) -> Self {
        let line = format!("{spec} {path} {fstype} {options} 0 {pass}");
        Mount {
            spec,
            path,
            fstype: fstype.to_owned(),
            options: options.to_owned(),
            pass: pass.to_owned(),
            line,
        }
    }
}

/// Whether `p` is an absolute path that fstab, exports and shells take as it
/// is: no blanks, quotes, backslashes or `#`.
fn is_safe_path(p: &str) -> bool {
    p.starts_with('/')
        && p.chars()
            .all(|c| c.is_ascii_alphanumeric() || "/._-+@:,=~".contains(c))
}

impl View {
    pub(super) fn new(model: &Model, vm: &Vm) -> Result<View, RenderError> {
        let check_path = |p: &str| {
            if is_safe_path(p) {
                Ok(p.to_owned())
            } else {
                Err(RenderError::BadPath {
                    vm: vm.name.clone(),
                    path: p.to_owned(),
                    span: vm.span,
                })
            }
        };
        let docker = vm.swarm != SwarmRole::None;
        let mut files = Vec::new();
        if docker {
            files.push(daemon_json(vm));
        }
        if !vm.sysctl.is_empty() {
            files.push(sysctl_conf(vm)?);
        }
        let mut exports = Vec::new();
        for e in &vm.nfs_exports {
            exports.push(check_path(&e.path)?);
        }
        if !exports.is_empty() {
            files.push(exports_file(model, vm, &exports)?);
        }
        let mut disks = Vec::new();
        for d in &vm.disks {
            let path = match vm.nfs_exports.iter().find(|e| &e.disk == d) {
                Some(e) => check_path(&e.path)?,
                None => check_path(&format!("/mnt/disks/{d}"))?,
            };
            let device = format!("/dev/disk/by-id/google-{}", names::resource_name(d));
            disks.push(Mount::new(device, path, "ext4", DISK_MOUNT_OPTIONS, "2"));
        }
        let mut nfs_mounts = Vec::new();
        for m in &vm.nfs_mounts {
            if m.server_ip.parse::<std::net::Ipv4Addr>().is_err() {
                return Err(bad_value(vm, "NFS server address", &m.server_ip));
            }
            let spec = format!("{}:{}", m.server_ip, check_path(&m.export_path)?);
            let path = check_path(&m.mount_path)?;
            nfs_mounts.push(Mount::new(spec, path, "nfs", NFS_MOUNT_OPTIONS, "0"));
        }
        let mut packages = vec!["curl", "nfs-common"];
        if docker {
            packages.push("docker.io");
        }
        if !exports.is_empty() {
            packages.push("nfs-kernel-server");
        }
        packages.sort_unstable();
        let mut ready_checks = Vec::new();
        if docker {
            ready_checks.push(String::from("unit:docker"));
        }
        if !exports.is_empty() {
            ready_checks.push(String::from("unit:nfs-server"));
        }
        for m in disks.iter().chain(&nfs_mounts) {
            ready_checks.push(format!("mount:{}", m.path));
        }
        Ok(View {
            packages: packages.into_iter().map(String::from).collect(),
            files,
            sysctl: !vm.sysctl.is_empty(),
            disks,
            nfs_mounts,
            exports,
            docker,
            ready_checks,
        })
    }
}

fn bad_value(vm: &Vm, what: &str, value: &str) -> RenderError {
    RenderError::BadValue {
        vm: vm.name.clone(),
        what: what.to_owned(),
        value: value.to_owned(),
        span: vm.span,
    }
}

/// `/etc/docker/daemon.json`: size-rotated json-file logs, and the engine
/// labels that Swarm placement constraints (`engine.labels.*`) match.
fn daemon_json(vm: &Vm) -> File {
    let labels: Vec<String> = vm
        .engine_labels
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect();
    let doc = json!({
        "log-driver": "json-file",
        "log-opts": { "max-size": "10m", "max-file": "3" },
        "labels": labels,
    });
    // Serializing a JSON value cannot fail.
    let mut content = serde_json::to_string_pretty(&doc).unwrap_or_default();
    content.push('\n');
    File {
        path: String::from("/etc/docker/daemon.json"),
        permissions: String::from("0644"),
        content,
    }
}

/// `/etc/sysctl.d/90-sdbc.conf`, one `key = value` per line.
fn sysctl_conf(vm: &Vm) -> Result<File, RenderError> {
    let mut content = String::from("# Generated by sdbc.\n");
    for (k, v) in &vm.sysctl {
        let key_ok = !k.is_empty()
            && k.chars()
                .all(|c| c.is_ascii_alphanumeric() || "._/-*".contains(c));
        if !key_ok {
            return Err(bad_value(vm, "sysctl key", k));
        }
        if v.contains(['\n', '\r']) || v.trim().is_empty() {
            return Err(bad_value(vm, "sysctl value", v));
        }
        content.push_str(&format!("{k} = {}\n", v.trim()));
    }
    Ok(File {
        path: String::from("/etc/sysctl.d/90-sdbc.conf"),
        permissions: String::from("0644"),
        content,
    })
}

/// `/etc/exports`: each directory, writable from the VM's subnetwork only.
fn exports_file(model: &Model, vm: &Vm, exports: &[String]) -> Result<File, RenderError> {
    let net = model
        .networks
        .iter()
        .find(|n| n.name == vm.network)
        .ok_or_else(|| RenderError::UnknownNetwork {
            vm: vm.name.clone(),
            network: vm.network.to_string(),
            span: vm.span,
        })?;
    let cidr_ok = net.cidr.split_once('/').is_some_and(|(ip, len)| {
        ip.parse::<std::net::Ipv4Addr>().is_ok() && len.parse::<u8>().is_ok_and(|l| l <= 32)
    });
    if !cidr_ok {
        return Err(bad_value(vm, "subnetwork range", &net.cidr));
    }
    let mut content = String::from("# Generated by sdbc.\n");
    for path in exports {
        content.push_str(&format!("{path} {}({EXPORT_OPTIONS})\n", net.cidr));
    }
    Ok(File {
        path: String::from("/etc/exports"),
        permissions: String::from("0644"),
        content,
    })
}
