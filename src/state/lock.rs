//! The state lock: an OS file lock on `<state>.lock` plus a JSON record of
//! who holds it, so that a second run is refused with a useful message.
//!
//! The OS lock (`flock` through [`File::try_lock`]) is what excludes: it is
//! per open file, so a second handle in the same process is refused too, and
//! it is released by the kernel when the holder dies. The record
//! (`{holder, pid, host, created}`) is what we tell the user. A record left
//! behind by a killed run (OS lock free, same host, process gone) is taken
//! over and reported as a [`StaleLock`]; any other leftover record is
//! treated as held until `sdbc force-unlock`.
//!
//! Releasing removes the lock file while still holding the OS lock; every
//! locker checks after locking that the path still names the file it
//! locked, and starts again if not, so removal never lets two runs in.

use std::fmt;
use std::fs::{self, File, OpenOptions, TryLockError};
use std::io::{self, Read, Seek, SeekFrom, Write};
use std::os::unix::fs::{MetadataExt, OpenOptionsExt};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::util;

/// Who holds a state lock.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LockInfo {
    /// What holds it, e.g. `sdbc apply`.
    pub holder: String,
    /// Process id of the holder.
    pub pid: u32,
    /// Host name of the holder's machine.
    pub host: String,
    /// When it was taken (RFC 3339, UTC).
    pub created: String,
}

impl LockInfo {
    fn current(holder: &str) -> Self {
        LockInfo {
            holder: holder.to_string(),
            pid: std::process::id(),
            host: util::hostname(),
            created: util::now_rfc3339(),
        }
    }

    fn unknown() -> Self {
        LockInfo {
            holder: "another process".to_string(),
            pid: 0,
            host: "unknown".to_string(),
            created: "an unknown time".to_string(),
        }
    }
}

impl fmt::Display for LockInfo {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.pid == 0 {
            return write!(f, "{} (lock record not readable)", self.holder);
        }
        write!(
            f,
            "{} (pid {} on host {}) since {}",
            self.holder, self.pid, self.host, self.created
        )
    }
}

/// A lock left by a run that is no longer running, which was taken over.
/// Callers should print it as a warning.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StaleLock {
    /// The record that was found.
    pub previous: LockInfo,
}

impl fmt::Display for StaleLock {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "took over a stale state lock held by {}: that process is no longer running",
            self.previous
        )
    }
}

/// Errors taking or breaking the state lock.
#[derive(Debug, thiserror::Error)]
pub enum LockError {
    /// Someone else holds the lock.
    #[error(
        "state is locked by {info}; if that run is gone, remove the lock with \
         `sdbc force-unlock` (lock file {})",
        path.display()
    )]
    Held {
        /// The holder's record.
        info: LockInfo,
        /// The lock file.
        path: PathBuf,
    },
    /// `force-unlock` of a lock whose holder is running on this host.
    #[error(
        "the state lock is held by {info}, which is still running on this host; \
         removing its lock would let two runs change the same resources. Wait for it, \
         stop it (kill {}), or pass --force if you are sure",
        info.pid
    )]
    Alive {
        /// The holder's record.
        info: LockInfo,
        /// The lock file.
        path: PathBuf,
    },
    /// The lock file could not be used.
    #[error("state lock file {path}: {source}")]
    Io {
        /// The lock file.
        path: PathBuf,
        /// The operating system's error.
        source: io::Error,
    },
}

/// Holds the state lock until dropped (or [`release`](Self::release)d).
#[derive(Debug)]
pub struct LockGuard {
    file: File,
    path: PathBuf,
    info: LockInfo,
    took_over: Option<StaleLock>,
}

impl LockGuard {
    /// Our own lock record.
    pub fn info(&self) -> &LockInfo {
        &self.info
    }

    /// The stale lock this guard replaced, if any (print it as a warning).
    pub fn took_over(&self) -> Option<&StaleLock> {
        self.took_over.as_ref()
    }

    /// Whether the lock file is still ours (false after a force-unlock).
    pub fn still_held(&self) -> bool {
        same_file(&self.file, &self.path)
    }

    /// Releases the lock, reporting a failure to remove the lock file.
    pub fn release(mut self) -> Result<(), LockError> {
        let result = self.remove_file();
        drop(self);
        result
    }

    fn remove_file(&mut self) -> Result<(), LockError> {
        if !self.still_held() {
            return Ok(());
        }
        match fs::remove_file(&self.path) {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
            Err(source) => Err(LockError::Io {
                path: self.path.clone(),
                source,
            }),
        }
    }
}

impl Drop for LockGuard {
    fn drop(&mut self) {
        // Best effort: the kernel drops the OS lock when the file closes,
        // and a leftover record of ours is recognised as stale later.
        let _ = self.remove_file();
        let _ = self.file.unlock();
    }
}

fn io_err(path: &Path) -> impl FnOnce(io::Error) -> LockError + '_ {
    move |source| LockError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// Whether `path` still names the file open as `file`.
fn same_file(file: &File, path: &Path) -> bool {
    match (file.metadata(), fs::metadata(path)) {
        (Ok(a), Ok(b)) => a.dev() == b.dev() && a.ino() == b.ino(),
        _ => false,
    }
}

fn read_record(file: &mut File) -> io::Result<Option<Result<LockInfo, String>>> {
    let mut text = String::new();
    file.seek(SeekFrom::Start(0))?;
    file.read_to_string(&mut text)?;
    if text.trim().is_empty() {
        return Ok(None);
    }
    Ok(Some(serde_json::from_str(&text).map_err(|e| e.to_string())))
}

pub(crate) fn acquire(path: &Path, holder: &str) -> Result<LockGuard, LockError> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        fs::create_dir_all(dir).map_err(io_err(path))?;
    }
    // Retry only when the file was removed or replaced between our open
    // and our lock; a handful of rounds is plenty for that race.
    for _ in 0..8 {
        let mut file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .mode(0o644)
            .open(path)
            .map_err(io_err(path))?;
        match file.try_lock() {
            Ok(()) => {}
            Err(TryLockError::WouldBlock) => {
                let info = match read_record(&mut file) {
                    Ok(Some(Ok(info))) => info,
                    _ => LockInfo::unknown(),
                };
                return Err(LockError::Held {
                    info,
                    path: path.to_path_buf(),
                });
            }
            Err(TryLockError::Error(e)) => return Err(io_err(path)(e)),
        }
        if !same_file(&file, path) {
            continue;
        }
        let took_over = match read_record(&mut file).map_err(io_err(path))? {
            None => None,
            Some(Ok(previous))
                if previous.host == util::hostname() && !util::process_is_running(previous.pid) =>
            {
                Some(StaleLock { previous })
            }
            Some(Ok(info)) => {
                return Err(LockError::Held {
                    info,
                    path: path.to_path_buf(),
                });
            }
            Some(Err(_)) => {
                return Err(LockError::Held {
                    info: LockInfo::unknown(),
                    path: path.to_path_buf(),
                });
            }
        };
        let info = LockInfo::current(holder);
        let mut record =
            serde_json::to_string_pretty(&info).expect("LockInfo is plain strings and numbers");
        record.push('\n');
        file.set_len(0).map_err(io_err(path))?;
        file.seek(SeekFrom::Start(0)).map_err(io_err(path))?;
        file.write_all(record.as_bytes()).map_err(io_err(path))?;
        file.sync_data().map_err(io_err(path))?;
        return Ok(LockGuard {
            file,
            path: path.to_path_buf(),
            info,
            took_over,
        });
    }
    Err(io_err(path)(io::Error::other(
        "the lock file kept being replaced while locking it",
    )))
}

pub(crate) fn force_unlock(path: &Path, force: bool) -> Result<Option<LockInfo>, LockError> {
    let previous = match File::open(path) {
        Ok(mut f) => read_record(&mut f)
            .ok()
            .flatten()
            .map(|r| r.unwrap_or_else(|_| LockInfo::unknown())),
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(io_err(path)(e)),
    };
    if let Some(info) = &previous
        && !force
        && info.pid != 0
        && info.host == util::hostname()
        && util::process_is_running(info.pid)
    {
        return Err(LockError::Alive {
            info: info.clone(),
            path: path.to_path_buf(),
        });
    }
    match fs::remove_file(path) {
        Ok(()) => Ok(previous),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(previous),
        Err(e) => Err(io_err(path)(e)),
    }
}

#[cfg(test)]
mod tests {
    use crate::state::{LockError, LockInfo, StateStore};
    use std::fs;

    fn store(dir: &tempfile::TempDir) -> StateStore {
        StateStore::for_source(&dir.path().join("s.sdb"), "s")
    }

    #[test]
    fn second_locker_is_refused_with_a_clear_message() {
        let dir = tempfile::tempdir().expect("tempdir");
        let st = store(&dir);
        let guard = st.lock("sdbc apply").expect("first lock");
        assert!(guard.took_over().is_none());
        let err = st.lock("sdbc plan").expect_err("second lock refused");
        let LockError::Held { info, .. } = &err else {
            panic!("expected Held, got {err:?}");
        };
        assert_eq!(info.holder, "sdbc apply");
        assert_eq!(info.pid, std::process::id());
        let msg = err.to_string();
        assert!(
            msg.starts_with("state is locked by sdbc apply (pid "),
            "{msg}"
        );
        assert!(msg.contains("sdbc force-unlock"), "{msg}");
    }

    #[test]
    fn drop_releases_and_removes_the_lock_file() {
        let dir = tempfile::tempdir().expect("tempdir");
        let st = store(&dir);
        drop(st.lock("sdbc apply").expect("lock"));
        assert!(!st.lock_path().exists());
        let g = st.lock("sdbc destroy").expect("lock again");
        g.release().expect("release");
        assert!(!st.lock_path().exists());
    }

    #[test]
    fn stale_lock_of_a_dead_process_is_taken_over() {
        let dir = tempfile::tempdir().expect("tempdir");
        let st = store(&dir);
        let dead = LockInfo {
            holder: "sdbc apply".into(),
            pid: 4_000_000_000,
            host: crate::state::util::hostname(),
            created: "2025-01-01T00:00:00Z".into(),
        };
        fs::create_dir_all(st.lock_path().parent().expect("parent")).expect("mkdir");
        fs::write(st.lock_path(), serde_json::to_string(&dead).expect("json")).expect("write");
        let g = st.lock("sdbc apply").expect("takes over");
        let stale = g.took_over().expect("reports the takeover");
        assert_eq!(stale.previous, dead);
        assert!(stale.to_string().contains("no longer running"));
        let on_disk: LockInfo =
            serde_json::from_str(&fs::read_to_string(st.lock_path()).expect("read"))
                .expect("record");
        assert_eq!(on_disk.pid, std::process::id());
    }

    #[test]
    fn leftover_record_from_another_host_is_not_taken_over() {
        let dir = tempfile::tempdir().expect("tempdir");
        let st = store(&dir);
        let other = LockInfo {
            holder: "sdbc apply".into(),
            pid: 4_000_000_000,
            host: "some-other-host.invalid".into(),
            created: "2025-01-01T00:00:00Z".into(),
        };
        fs::create_dir_all(st.lock_path().parent().expect("parent")).expect("mkdir");
        fs::write(st.lock_path(), serde_json::to_string(&other).expect("json")).expect("write");
        assert!(matches!(st.lock("x"), Err(LockError::Held { info, .. }) if info == other));
        assert_eq!(st.force_unlock(false).expect("force"), Some(other));
        st.lock("x").expect("lock after force-unlock");
    }

    #[test]
    fn force_unlock_breaks_a_held_lock_without_letting_two_in() {
        let dir = tempfile::tempdir().expect("tempdir");
        let st = store(&dir);
        let old = st.lock("sdbc apply").expect("lock");
        let alive = st.force_unlock(false).expect_err("its holder is running");
        assert!(matches!(alive, LockError::Alive { .. }), "{alive}");
        assert!(alive.to_string().contains(&std::process::id().to_string()));
        assert!(old.still_held());
        let removed = st.force_unlock(true).expect("force-unlock --force");
        assert_eq!(removed.map(|i| i.holder), Some("sdbc apply".to_string()));
        assert!(!old.still_held());
        let new = st.lock("sdbc apply").expect("lock after force-unlock");
        // Dropping the broken guard must not remove the new holder's file.
        drop(old);
        assert!(new.still_held());
        assert!(matches!(st.lock("third"), Err(LockError::Held { .. })));
        assert_eq!(
            st.force_unlock(true).expect("again").map(|i| i.pid),
            Some(std::process::id())
        );
        assert_eq!(st.force_unlock(false).expect("nothing left"), None);
    }
}
