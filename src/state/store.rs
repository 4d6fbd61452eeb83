//! [`StateStore`]: where a stack's state file lives, loading it, and saving
//! it atomically with the previous copy kept as `<path>.backup`.

use std::fs;
use std::io;
use std::path::{Path, PathBuf};

use super::lock::{self, LockError, LockGuard};
use super::util::{self, AtomicWrite, WriteStep};
use super::{STATE_VERSION, State};

/// Why a state file's text is not a state this build can use.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FormatError {
    /// Not valid state JSON.
    Parse(String),
    /// Written by a newer sdbc (format `found`).
    Newer { found: u32 },
}

/// Errors reading or writing the state file. Whenever one is returned,
/// nothing was written.
#[derive(Debug, thiserror::Error)]
pub enum StateError {
    /// The file could not be read or written.
    #[error("state file {path}: {source}")]
    Io {
        /// The file concerned.
        path: PathBuf,
        /// The operating system's error.
        source: io::Error,
    },
    /// The file is not valid state JSON.
    #[error(
        "state file {} is not valid: {message}; nothing was changed: restore the previous \
         copy from {} (or move the broken file away to start an empty state)",
        path.display(),
        backup.display()
    )]
    Parse {
        path: PathBuf,
        backup: PathBuf,
        message: String,
    },
    /// The file was written by a newer sdbc.
    #[error(
        "state file {} has format version {found}, newer than this sdbc supports ({supported}); \
         nothing was changed: upgrade sdbc, or restore the previous copy from {}",
        path.display(),
        backup.display()
    )]
    NewerVersion {
        path: PathBuf,
        backup: PathBuf,
        /// Version found in the file.
        found: u32,
        /// Newest version this build understands.
        supported: u32,
    },
    /// The file is another stack's.
    #[error(
        "state file {} belongs to stack `{found}`, not to `{expected}`; nothing was changed: \
         it was copied from another program (give each program its own state)",
        path.display()
    )]
    OtherStack {
        path: PathBuf,
        found: String,
        expected: String,
    },
    /// The file records resources in another project.
    #[error(
        "state file {} is for project `{recorded}`, but this run is for project `{asked}`; \
         nothing was changed: set GOOGLE_CLOUD_PROJECT={recorded} (or `gce {{ project }}`) to \
         work on that deployment, or copy the program to deploy it anew in `{asked}`",
        path.display()
    )]
    OtherProject {
        path: PathBuf,
        recorded: String,
        asked: String,
    },
}

/// The on-disk home of one stack's state.
#[derive(Debug, Clone)]
pub struct StateStore {
    path: PathBuf,
    stack: String,
}

impl StateStore {
    /// A store at an explicit `path` for stack `stack`.
    pub fn new(path: impl Into<PathBuf>, stack: impl Into<String>) -> Self {
        StateStore {
            path: path.into(),
            stack: stack.into(),
        }
    }

    /// The default store for a source file: `.sdbc/<stack>.state.json` in
    /// the directory holding `source`.
    pub fn for_source(source: &Path, stack: &str) -> Self {
        Self::new(sdbc_dir(source).join(format!("{stack}.state.json")), stack)
    }

    /// The state file's path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Where the previous copy is kept.
    pub fn backup_path(&self) -> PathBuf {
        util::with_suffix(&self.path, ".backup")
    }

    /// The lock file's path.
    pub fn lock_path(&self) -> PathBuf {
        util::with_suffix(&self.path, ".lock")
    }

    /// Reads the state; a missing file is an empty state with a new
    /// lineage. A file that does not parse, comes from a newer sdbc or
    /// belongs to another stack is refused.
    pub fn load(&self) -> Result<State, StateError> {
        match fs::read_to_string(&self.path) {
            Ok(text) => {
                let state = State::from_json(&text).map_err(|e| self.format_error(e))?;
                if state.stack != self.stack {
                    return Err(StateError::OtherStack {
                        path: self.path.clone(),
                        found: state.stack,
                        expected: self.stack.clone(),
                    });
                }
                Ok(state)
            }
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(State::new(self.stack.clone())),
            Err(source) => Err(StateError::Io {
                path: self.path.clone(),
                source,
            }),
        }
    }

    fn format_error(&self, e: FormatError) -> StateError {
        let (path, backup) = (self.path.clone(), self.backup_path());
        match e {
            FormatError::Parse(message) => StateError::Parse {
                path,
                backup,
                message,
            },
            FormatError::Newer { found } => StateError::NewerVersion {
                path,
                backup,
                found,
                supported: STATE_VERSION,
            },
        }
    }

    /// Refuses a state that records another project than `project`.
    pub fn check_project(&self, state: &State, project: &str) -> Result<(), StateError> {
        match &state.project {
            Some(recorded) if recorded != project => Err(StateError::OtherProject {
                path: self.path.clone(),
                recorded: recorded.clone(),
                asked: project.to_string(),
            }),
            _ => Ok(()),
        }
    }

    /// Bumps `state.serial` and writes it atomically (temporary file, fsync,
    /// previous copy kept as [`backup_path`](Self::backup_path), rename,
    /// directory fsync). On failure the serial is restored and the old file
    /// is untouched.
    pub fn save(&self, state: &mut State) -> Result<(), StateError> {
        self.save_with(state, &|_| Ok(()))
    }

    pub(crate) fn save_with(
        &self,
        state: &mut State,
        hook: &dyn Fn(WriteStep) -> io::Result<()>,
    ) -> Result<(), StateError> {
        if state.version > STATE_VERSION {
            return Err(self.format_error(FormatError::Newer {
                found: state.version,
            }));
        }
        state.serial += 1;
        let opts = AtomicWrite {
            backup: true,
            mode: 0o600,
            hook,
        };
        util::atomic_write_with(&self.path, &opts, |w| state.write_json(w)).map_err(|source| {
            state.serial -= 1;
            StateError::Io {
                path: self.path.clone(),
                source,
            }
        })
    }

    /// Takes the state lock for `holder` (e.g. `"sdbc apply"`). See
    /// [`LockGuard`] for what happens to a stale lock.
    pub fn lock(&self, holder: &str) -> Result<LockGuard, LockError> {
        lock::acquire(&self.lock_path(), holder)
    }

    /// Removes the lock (`sdbc force-unlock`). Returns the record that was
    /// there, if any. A lock whose holder is running on this host is
    /// refused unless `force`: that process would keep running but no
    /// longer exclude anyone.
    pub fn force_unlock(&self, force: bool) -> Result<Option<super::LockInfo>, LockError> {
        lock::force_unlock(&self.lock_path(), force)
    }
}

/// The `.sdbc` directory beside a source file.
pub fn sdbc_dir(source: &Path) -> PathBuf {
    match source.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.join(".sdbc"),
        _ => PathBuf::from(".sdbc"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::state::ResourceState;

    fn store(dir: &tempfile::TempDir) -> StateStore {
        StateStore::for_source(&dir.path().join("misago.sdb"), "misago")
    }

    fn with_resource(mut s: State, addr: &str) -> State {
        s.resources.insert(
            addr.into(),
            ResourceState {
                kind: "compute#disk".into(),
                name: addr.replace('.', "-"),
                location: Some("global".into()),
                id: None,
                self_link: None,
                attributes: crate::state::Attributes::of_sent(&serde_json::json!({"sizeGb": "20"})),
                fingerprint: None,
                ..ResourceState::default()
            },
        );
        s
    }

    #[test]
    fn default_path_is_beside_the_source() {
        let s = StateStore::for_source(Path::new("examples/misago.sdb"), "misago");
        assert_eq!(s.path(), Path::new("examples/.sdbc/misago.state.json"));
        let s = StateStore::for_source(Path::new("misago.sdb"), "m");
        assert_eq!(s.path(), Path::new(".sdbc/m.state.json"));
    }

    #[test]
    fn missing_file_loads_empty_state_and_round_trips() {
        let dir = tempfile::tempdir().expect("tempdir");
        let st = store(&dir);
        let mut s = st.load().expect("load");
        assert!(s.resources.is_empty());
        assert_eq!((s.serial, s.stack.as_str()), (0, "misago"));
        s = with_resource(s, "disk.static");
        st.save(&mut s).expect("save");
        assert_eq!(s.serial, 1);
        let back = st.load().expect("reload");
        assert_eq!(back, s);
        let text = fs::read_to_string(st.path()).expect("read");
        assert!(text.ends_with("}\n"));
        assert!(!util::with_suffix(st.path(), ".tmp").exists());
    }

    #[test]
    fn previous_copy_is_kept_as_backup() {
        let dir = tempfile::tempdir().expect("tempdir");
        let st = store(&dir);
        let mut s = st.load().expect("load");
        st.save(&mut s).expect("first save");
        assert!(!st.backup_path().exists(), "nothing to back up yet");
        let first = fs::read_to_string(st.path()).expect("read");
        s = with_resource(s, "disk.a");
        st.save(&mut s).expect("second save");
        assert_eq!(fs::read_to_string(st.backup_path()).expect("backup"), first);
        let s3 = with_resource(s.clone(), "disk.b");
        let second = fs::read_to_string(st.path()).expect("read");
        st.save(&mut s3.clone()).expect("third save");
        assert_eq!(
            fs::read_to_string(st.backup_path()).expect("backup"),
            second
        );
    }

    #[test]
    fn failed_write_leaves_the_old_file() {
        let dir = tempfile::tempdir().expect("tempdir");
        let st = store(&dir);
        let mut s = with_resource(st.load().expect("load"), "disk.a");
        st.save(&mut s).expect("save");
        let before = fs::read_to_string(st.path()).expect("read");

        let mut changed = with_resource(s.clone(), "disk.b");
        let err = st
            .save_with(&mut changed, &|_| Err(io::Error::other("disk full")))
            .expect_err("injected failure");
        assert!(err.to_string().contains("disk full"), "{err}");
        assert_eq!(changed.serial, s.serial, "serial restored on failure");
        assert_eq!(fs::read_to_string(st.path()).expect("read"), before);
        assert_eq!(st.load().expect("load"), s);

        // A later save succeeds over the leftover temporary file.
        st.save(&mut changed).expect("save after failure");
        assert!(st.load().expect("load").resources.contains_key("disk.b"));
    }

    #[test]
    fn newer_version_on_disk_is_refused() {
        let dir = tempfile::tempdir().expect("tempdir");
        let st = store(&dir);
        let mut s = st.load().expect("load");
        st.save(&mut s).expect("save");
        let text = fs::read_to_string(st.path()).expect("read");
        let current = format!("\"version\": {STATE_VERSION}");
        let text = text.replacen(&current, "\"version\": 99", 1);
        fs::write(st.path(), text).expect("write");
        assert!(matches!(
            st.load(),
            Err(StateError::NewerVersion { found: 99, .. })
        ));
    }
}
