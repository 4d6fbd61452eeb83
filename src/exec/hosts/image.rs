//! The test image: a root filesystem of Debian's static busybox (its `sh`,
//! `nc`, `httpd`, `sleep`, ...), imported into each host's engine with
//! `POST /images/create?fromSrc=-` (there is no registry).

use std::path::{Path, PathBuf};
use std::process::Command;

use super::{HostsError, arg};
use crate::exec::engine::{Engine, query_value};

/// The name the harness imports the busybox root filesystem as.
pub const TEST_IMAGE: &str = "sdbc-test/busybox:1";

/// The applets linked in `/bin` (busybox's `wget` crashed on these hosts:
/// health checks use `nc`).
const APPLETS: &[&str] = &[
    "sh", "cat", "echo", "grep", "hostname", "httpd", "ls", "nc", "nslookup", "ping", "sleep",
    "test", "true", "false", "timeout", "date", "printf", "wc", "env", "id", "ip",
];

/// Where Debian's `busybox-static` puts the binary.
const BUSYBOX_PATHS: &[&str] = &["/bin/busybox", "/usr/bin/busybox"];

/// A tar archive of a root filesystem with busybox as `/bin/*`, built in
/// `work` (a folder that may be removed afterwards).
pub fn busybox_rootfs_tar(work: &Path) -> Result<Vec<u8>, HostsError> {
    let busybox = BUSYBOX_PATHS
        .iter()
        .map(PathBuf::from)
        .find(|p| p.exists())
        .ok_or_else(|| HostsError::Config("busybox not found (Debian: busybox-static)".into()))?;
    let root = work.join("rootfs");
    let io = |what: String| move |source| HostsError::Io { what, source };
    for dir in ["bin", "tmp", "etc", "www"] {
        std::fs::create_dir_all(root.join(dir)).map_err(io(format!("creating {dir}")))?;
    }
    std::fs::copy(&busybox, root.join("bin/busybox")).map_err(io("copying busybox".into()))?;
    for applet in APPLETS {
        let link = root.join("bin").join(applet);
        if !link.exists() {
            std::os::unix::fs::symlink("busybox", &link)
                .map_err(io(format!("linking {applet}")))?;
        }
    }
    std::fs::write(root.join("etc/passwd"), "root:x:0:0:root:/:/bin/sh\n")
        .map_err(io("writing /etc/passwd".into()))?;
    let output = Command::new("tar")
        .args(["-C", arg(&root), "-cf", "-", "."])
        .output()
        .map_err(io("running tar".into()))?;
    if !output.status.success() {
        return Err(HostsError::Command {
            command: "tar".into(),
            message: String::from_utf8_lossy(&output.stderr).into_owned(),
        });
    }
    Ok(output.stdout)
}

/// Imports `tar` as image `name` (`repo:tag`) into one engine.
pub(super) async fn import(engine: &Engine, name: &str, tar: &[u8]) -> Result<(), HostsError> {
    let (repo, tag) = name.rsplit_once(':').unwrap_or((name, "latest"));
    let path = format!(
        "/images/create?fromSrc=-&repo={}&tag={}",
        query_value(repo),
        query_value(tag)
    );
    let answer = engine
        .post_bytes(&path, "application/x-tar", tar.to_vec())
        .await?;
    // The engine streams JSON progress; an error arrives as `errorDetail`.
    if answer.contains("\"errorDetail\"") {
        return Err(HostsError::Command {
            command: format!("importing {name} on {}", engine.host()),
            message: answer,
        });
    }
    Ok(())
}
