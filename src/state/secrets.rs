//! Secrets: generated once, kept encrypted in `.sdbc/<name>.secrets`, and
//! handed around as [`SecretValue`], which never prints its content.
//!
//! Each value is sealed with ChaCha20-Poly1305 (from `ring`, see
//! `docs/decisions/0005-secrets.md`) under a 32-byte key taken from
//! `SDBC_SECRET_KEY` (64 hex digits) or from the key file `.sdbc/key`
//! (created with mode 0600 on first use). The secret's name is bound in as
//! associated data, so entries cannot be swapped between names. The state
//! file only ever holds [`SecretValue::digest`].

use std::collections::BTreeMap;
use std::fmt;
use std::fs::{self, OpenOptions};
use std::io::{self, Write};
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use ring::aead::{Aad, CHACHA20_POLY1305, LessSafeKey, NONCE_LEN, Nonce, UnboundKey};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::store::sdbc_dir;
use super::util::{self, AtomicWrite};

/// Environment variable holding the key as 64 hex digits.
pub const SECRET_KEY_ENV: &str = "SDBC_SECRET_KEY";
const FORMAT_VERSION: u32 = 1;
const ALGORITHM: &str = "chacha20-poly1305";

/// Errors of the secret store.
#[derive(Debug, thiserror::Error)]
pub enum SecretError {
    /// A file could not be read or written.
    #[error("{path}: {source}")]
    Io {
        /// The file concerned.
        path: PathBuf,
        /// The operating system's error.
        source: io::Error,
    },
    /// The key is not 64 hex digits.
    #[error("secret key from {origin} is not 64 hex digits (32 bytes)")]
    BadKey {
        /// `SDBC_SECRET_KEY` or the key file's path.
        origin: String,
    },
    /// The key file can be read by others.
    #[error("secret key file {path} is readable by other users (mode {mode:o}); run `chmod 600 {path}`", path = path.display())]
    KeyFilePermissions {
        /// The key file.
        path: PathBuf,
        /// Its permission bits.
        mode: u32,
    },
    /// The secrets file is damaged or of an unknown format.
    #[error("secrets file {path} is not valid: {detail}", path = path.display())]
    Corrupt {
        /// The secrets file.
        path: PathBuf,
        /// What is wrong.
        detail: String,
    },
    /// The secrets file was sealed with another key.
    #[error(
        "secrets file {path} was encrypted with a different key; set {SECRET_KEY_ENV} \
         or restore the key file it was made with",
        path = path.display()
    )]
    WrongKey {
        /// The secrets file.
        path: PathBuf,
    },
    /// The system random number generator failed.
    #[error("could not generate random bytes: {0}")]
    Random(io::Error),
}

/// A 32-byte encryption key. Debug output never shows it.
#[derive(Clone)]
pub struct SecretKey([u8; 32]);

impl fmt::Debug for SecretKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SecretKey(<secret>)")
    }
}

impl SecretKey {
    /// Parses 64 hex digits; `origin` names where they came from.
    pub fn from_hex(text: &str, origin: &str) -> Result<Self, SecretError> {
        let bad = || SecretError::BadKey {
            origin: origin.to_string(),
        };
        let text = text.trim().as_bytes();
        if text.len() != 64 {
            return Err(bad());
        }
        let mut key = [0u8; 32];
        for (i, pair) in text.chunks_exact(2).enumerate() {
            let s = std::str::from_utf8(pair).map_err(|_| bad())?;
            key[i] = u8::from_str_radix(s, 16).map_err(|_| bad())?;
        }
        Ok(SecretKey(key))
    }

    /// The key from `SDBC_SECRET_KEY` if set, else from `key_file`, which is
    /// created (mode 0600) with a random key if missing.
    pub fn from_env_or_file(key_file: &Path) -> Result<Self, SecretError> {
        match std::env::var(SECRET_KEY_ENV) {
            Ok(v) if !v.trim().is_empty() => Self::from_hex(&v, SECRET_KEY_ENV),
            _ => Self::load_or_create(key_file),
        }
    }

    /// Reads `key_file`, creating it with a random key if missing. A file
    /// that others can read is refused.
    pub fn load_or_create(key_file: &Path) -> Result<Self, SecretError> {
        let io_err = |source| SecretError::Io {
            path: key_file.to_path_buf(),
            source,
        };
        if let Some(dir) = key_file.parent().filter(|d| !d.as_os_str().is_empty()) {
            fs::create_dir_all(dir).map_err(io_err)?;
        }
        let mut key = [0u8; 32];
        util::random_bytes(&mut key).map_err(SecretError::Random)?;
        match OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(key_file)
        {
            Ok(mut f) => {
                f.write_all(format!("{}\n", util::hex(&key)).as_bytes())
                    .and_then(|()| f.sync_all())
                    .map_err(io_err)?;
                ignore_in_git(key_file);
                return Ok(SecretKey(key));
            }
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {}
            Err(e) => return Err(io_err(e)),
        }
        let mode = fs::metadata(key_file).map_err(io_err)?.permissions().mode();
        if mode & 0o077 != 0 {
            return Err(SecretError::KeyFilePermissions {
                path: key_file.to_path_buf(),
                mode: mode & 0o777,
            });
        }
        let text = fs::read_to_string(key_file).map_err(io_err)?;
        Self::from_hex(&text, &key_file.display().to_string())
    }

    fn id(&self) -> String {
        let d = Sha256::digest(self.0);
        format!("sha256:{}", &util::hex(&d)[..16])
    }

    fn aead(&self) -> LessSafeKey {
        LessSafeKey::new(
            UnboundKey::new(&CHACHA20_POLY1305, &self.0).expect("a 32-byte ChaCha20-Poly1305 key"),
        )
    }
}

/// Best effort: a `.gitignore` beside a new key file so that it is not
/// committed by accident (an existing `.gitignore` is left alone).
fn ignore_in_git(key_file: &Path) {
    let (Some(dir), Some(name)) = (key_file.parent(), key_file.file_name()) else {
        return;
    };
    if let Ok(mut f) = OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(dir.join(".gitignore"))
    {
        let _ = writeln!(
            f,
            "# written by sdbc: never commit the secrets key\n/{}",
            name.display()
        );
    }
}

/// A secret's value. Debug and Display print `<secret>`; use
/// [`expose`](Self::expose) where the real value must go (and nowhere else).
#[derive(Clone, PartialEq, Eq)]
pub struct SecretValue(String);

impl SecretValue {
    /// Wraps a value.
    pub fn new(value: impl Into<String>) -> Self {
        SecretValue(value.into())
    }

    /// The plain value.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// `sha256:<hex>` of the value: what the state and plans record.
    pub fn digest(&self) -> String {
        format!("sha256:{}", util::hex(&Sha256::digest(self.0.as_bytes())))
    }
}

impl fmt::Debug for SecretValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<secret>")
    }
}

impl fmt::Display for SecretValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<secret>")
    }
}

#[derive(Serialize, Deserialize)]
struct SecretsFile {
    version: u32,
    algorithm: String,
    key_id: String,
    secrets: BTreeMap<String, String>,
}

/// The encrypted secrets of one stack.
#[derive(Debug)]
pub struct SecretStore {
    path: PathBuf,
    key: SecretKey,
    /// Serialises read-modify-write of the file within this process.
    guard: Mutex<()>,
}

impl SecretStore {
    /// A store at `path` sealed with `key`.
    pub fn new(path: impl Into<PathBuf>, key: SecretKey) -> Self {
        SecretStore {
            path: path.into(),
            key,
            guard: Mutex::new(()),
        }
    }

    /// The default store for a source file: `.sdbc/<stack>.secrets`, with
    /// the key from `SDBC_SECRET_KEY` or `.sdbc/key`.
    pub fn for_source(source: &Path, stack: &str) -> Result<Self, SecretError> {
        let dir = sdbc_dir(source);
        let key = SecretKey::from_env_or_file(&dir.join("key"))?;
        Ok(Self::new(dir.join(format!("{stack}.secrets")), key))
    }

    /// The secrets file's path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The names of the stored secrets.
    pub fn names(&self) -> Result<Vec<String>, SecretError> {
        Ok(self.read()?.secrets.into_keys().collect())
    }

    /// The value of `name`, if stored.
    pub fn get(&self, name: &str) -> Result<Option<SecretValue>, SecretError> {
        let file = self.read()?;
        file.secrets
            .get(name)
            .map(|sealed| self.open(name, sealed))
            .transpose()
    }

    /// The value of `name`, generating and storing a random one (32 bytes,
    /// URL-safe base64, 43 characters) the first time.
    pub fn get_or_generate(&self, name: &str) -> Result<SecretValue, SecretError> {
        self.get_or_insert_with(name, || {
            let mut raw = [0u8; 32];
            util::random_bytes(&mut raw).map_err(SecretError::Random)?;
            Ok(URL_SAFE_NO_PAD.encode(raw))
        })
    }

    /// The value of `name`, storing what `make` returns the first time
    /// (e.g. a generated key pair).
    pub fn get_or_insert_with(
        &self,
        name: &str,
        make: impl FnOnce() -> Result<String, SecretError>,
    ) -> Result<SecretValue, SecretError> {
        let _held = self.guard.lock().unwrap_or_else(|p| p.into_inner());
        let mut file = self.read()?;
        if let Some(sealed) = file.secrets.get(name) {
            return self.open(name, sealed);
        }
        let value = SecretValue(make()?);
        file.secrets
            .insert(name.to_string(), self.seal(name, &value)?);
        let mut text =
            serde_json::to_string_pretty(&file).expect("secrets file is strings and numbers");
        text.push('\n');
        let opts = AtomicWrite {
            backup: false,
            mode: 0o600,
            hook: &|_| Ok(()),
        };
        util::atomic_write(&self.path, text.as_bytes(), &opts).map_err(|source| {
            SecretError::Io {
                path: self.path.clone(),
                source,
            }
        })?;
        Ok(value)
    }

    fn read(&self) -> Result<SecretsFile, SecretError> {
        let text = match fs::read_to_string(&self.path) {
            Ok(t) => t,
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                return Ok(SecretsFile {
                    version: FORMAT_VERSION,
                    algorithm: ALGORITHM.to_string(),
                    key_id: self.key.id(),
                    secrets: BTreeMap::new(),
                });
            }
            Err(source) => {
                return Err(SecretError::Io {
                    path: self.path.clone(),
                    source,
                });
            }
        };
        let file: SecretsFile = serde_json::from_str(&text).map_err(|e| self.corrupt(e))?;
        if file.version != FORMAT_VERSION || file.algorithm != ALGORITHM {
            return Err(self.corrupt(format!(
                "unsupported version {} / algorithm {}",
                file.version, file.algorithm
            )));
        }
        if file.key_id != self.key.id() {
            return Err(SecretError::WrongKey {
                path: self.path.clone(),
            });
        }
        Ok(file)
    }

    fn corrupt(&self, detail: impl fmt::Display) -> SecretError {
        SecretError::Corrupt {
            path: self.path.clone(),
            detail: detail.to_string(),
        }
    }

    fn aad(name: &str) -> Aad<Vec<u8>> {
        Aad::from(format!("sdbc-secret:v1:{name}").into_bytes())
    }

    fn seal(&self, name: &str, value: &SecretValue) -> Result<String, SecretError> {
        let mut nonce = [0u8; NONCE_LEN];
        util::random_bytes(&mut nonce).map_err(SecretError::Random)?;
        let mut buf = value.0.as_bytes().to_vec();
        self.key
            .aead()
            .seal_in_place_append_tag(
                Nonce::assume_unique_for_key(nonce),
                Self::aad(name),
                &mut buf,
            )
            .map_err(|_| self.corrupt("encryption failed"))?;
        let mut out = nonce.to_vec();
        out.extend_from_slice(&buf);
        Ok(URL_SAFE_NO_PAD.encode(out))
    }

    fn open(&self, name: &str, sealed: &str) -> Result<SecretValue, SecretError> {
        let bad = || self.corrupt(format!("secret {name:?} does not decrypt"));
        let bytes = URL_SAFE_NO_PAD.decode(sealed).map_err(|_| bad())?;
        if bytes.len() < NONCE_LEN {
            return Err(bad());
        }
        let (nonce, ct) = bytes.split_at(NONCE_LEN);
        let nonce = Nonce::try_assume_unique_for_key(nonce).map_err(|_| bad())?;
        let mut buf = ct.to_vec();
        let plain = self
            .key
            .aead()
            .open_in_place(nonce, Self::aad(name), &mut buf)
            .map_err(|_| bad())?;
        String::from_utf8(plain.to_vec())
            .map(SecretValue)
            .map_err(|_| bad())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(b: u8) -> SecretKey {
        SecretKey([b; 32])
    }

    #[test]
    fn generated_once_and_never_in_plain_text_on_disk() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("s.secrets");
        let store = SecretStore::new(&path, key(7));
        let v = store.get_or_generate("db_password").expect("generate");
        assert_eq!(v.expose().len(), 43);
        assert!(
            v.expose()
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        );
        assert_eq!(store.get_or_generate("db_password").expect("again"), v);
        let other = store.get_or_generate("redis_password").expect("second");
        assert_ne!(other, v);

        let disk = fs::read_to_string(&path).expect("read");
        assert!(!disk.contains(v.expose()) && !disk.contains(other.expose()));
        assert!(disk.contains("db_password"), "names are not secret");
        let mode = fs::metadata(&path).expect("meta").permissions().mode();
        assert_eq!(mode & 0o777, 0o600);

        let reopened = SecretStore::new(&path, key(7));
        assert_eq!(reopened.get("db_password").expect("get"), Some(v.clone()));
        assert_eq!(
            reopened.names().expect("names"),
            ["db_password", "redis_password"]
        );
        assert!(matches!(
            SecretStore::new(&path, key(8)).get("db_password"),
            Err(SecretError::WrongKey { .. })
        ));
    }

    #[test]
    fn secret_value_never_prints() {
        let v = SecretValue::new("hunter2");
        assert_eq!(
            format!("{v} {v:?} {:?}", Some(&v)),
            "<secret> <secret> Some(<secret>)"
        );
        assert!(format!("{:?}", key(1)).contains("<secret>"));
        assert_eq!(
            v.digest(),
            "sha256:f52fbd32b2b3b86ff88ef6c490628285f482af15ddcb29541f94bcf526a3f6c7"
        );
    }

    #[test]
    fn swapped_entries_do_not_decrypt() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("s.secrets");
        let store = SecretStore::new(&path, key(3));
        store.get_or_generate("a").expect("a");
        store.get_or_generate("b").expect("b");
        let mut f: SecretsFile =
            serde_json::from_str(&fs::read_to_string(&path).expect("read")).expect("json");
        let a = f.secrets["a"].clone();
        f.secrets.insert("b".into(), a);
        fs::write(&path, serde_json::to_string(&f).expect("json")).expect("write");
        assert!(matches!(store.get("b"), Err(SecretError::Corrupt { .. })));
    }

    #[test]
    fn key_file_is_created_0600_and_reused() {
        let dir = tempfile::tempdir().expect("tempdir");
        let kf = dir.path().join(".sdbc/key");
        let k1 = SecretKey::load_or_create(&kf).expect("create");
        let mode = fs::metadata(&kf).expect("meta").permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
        let ignore = fs::read_to_string(dir.path().join(".sdbc/.gitignore")).expect("gitignore");
        assert!(ignore.lines().any(|l| l == "/key"), "{ignore}");
        let k2 = SecretKey::load_or_create(&kf).expect("reuse");
        assert_eq!(k1.0, k2.0);
        fs::set_permissions(&kf, fs::Permissions::from_mode(0o644)).expect("chmod");
        assert!(matches!(
            SecretKey::load_or_create(&kf),
            Err(SecretError::KeyFilePermissions { mode: 0o644, .. })
        ));
    }

    #[test]
    fn hex_key_parsing() {
        let k = SecretKey::from_hex(&"0f".repeat(32), "env").expect("valid");
        assert_eq!(k.0, [0x0f; 32]);
        assert!(SecretKey::from_hex("abc", "env").is_err());
        assert!(SecretKey::from_hex(&"zz".repeat(32), "env").is_err());
    }
}
