//! Reaching a host over SSH (russh, pure Rust): public-key login with an
//! ed25519 key, the host's key checked against keys pinned beforehand (never
//! trusted on first use), and the host's Docker Engine API reached through a
//! `direct-streamlocal` channel to its `/run/docker.sock`, so the machine
//! running sdbc needs neither the Docker CLI nor an `ssh` binary.
//!
//! See `docs/decisions/0015-ssh-and-engine-api.md`.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use russh::client;
use russh::keys::ssh_key::{HashAlg, LineEnding, PrivateKey, PublicKey, private::Ed25519Keypair};
use russh::keys::{PrivateKeyWithHashAlg, PublicKeyOrCertificate};

use super::engine::{ConnectFuture, Connector, Engine, EngineStream};

/// Where the Docker engine listens on a host.
pub const DOCKER_SOCKET: &str = "/run/docker.sock";

/// How long the TCP connection, key exchange and login may take.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(20);

/// One host to reach: its name (the VM's), address, login and pinned keys.
#[derive(Debug, Clone)]
pub struct SshTarget {
    /// The VM name, used in every error.
    pub host: String,
    pub addr: SocketAddr,
    pub user: String,
    /// The host keys the host may present (any one of them is accepted).
    pub host_keys: Vec<PublicKey>,
}

/// Why a host could not be reached over SSH.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SshError {
    #[error(
        "host `{host}` presented host key {presented}, which is not its pinned key; nothing was run there"
    )]
    HostKeyMismatch { host: String, presented: String },
    #[error("host `{host}` has no pinned host key; nothing was run there")]
    NoPinnedKey { host: String },
    #[error("host `{host}` refused the login of `{user}` with sdbc's key")]
    LoginRefused { host: String, user: String },
    #[error("host `{host}` ({addr}): cannot connect over SSH: {message}")]
    Connect {
        host: String,
        addr: SocketAddr,
        message: String,
    },
    #[error("host `{host}`: SSH did not answer within {}s", after.as_secs())]
    Timeout { host: String, after: Duration },
    #[error("not an OpenSSH key: {0}")]
    BadKey(String),
}

/// A new ed25519 key pair from the operating system's random source.
pub fn generate_key() -> Result<PrivateKey, SshError> {
    use ring::rand::SecureRandom;
    let mut seed = [0u8; 32];
    ring::rand::SystemRandom::new()
        .fill(&mut seed)
        .map_err(|_| SshError::BadKey("no random source".into()))?;
    Ok(PrivateKey::from(Ed25519Keypair::from_seed(&seed)))
}

/// A private key in OpenSSH form (what `ssh-keygen` writes).
pub fn private_key_to_openssh(key: &PrivateKey) -> Result<String, SshError> {
    key.to_openssh(LineEnding::LF)
        .map(|s| s.to_string())
        .map_err(|e| SshError::BadKey(e.to_string()))
}

/// Reads a private key in OpenSSH form.
pub fn private_key_from_openssh(text: &str) -> Result<PrivateKey, SshError> {
    PrivateKey::from_openssh(text).map_err(|e| SshError::BadKey(e.to_string()))
}

/// Reads a public key in `authorized_keys` form (`ssh-ed25519 AAAA... comment`).
pub fn public_key_from_openssh(line: &str) -> Result<PublicKey, SshError> {
    PublicKey::from_openssh(line.trim()).map_err(|e| SshError::BadKey(e.to_string()))
}

/// A public key from a key type and base64 blob, as Compute Engine's guest
/// attributes `hostkeys/<type>` publish it.
pub fn public_key_from_blob(key_type: &str, blob: &str) -> Result<PublicKey, SshError> {
    public_key_from_openssh(&format!("{key_type} {}", blob.trim()))
}

/// An open, authenticated SSH session to one host.
pub struct SshSession {
    host: String,
    handle: Arc<client::Handle<Pinned>>,
}

impl SshSession {
    /// Connects, checks the host key against the pinned ones and logs in.
    pub async fn connect(target: &SshTarget, key: &PrivateKey) -> Result<SshSession, SshError> {
        if target.host_keys.is_empty() {
            return Err(SshError::NoPinnedKey {
                host: target.host.clone(),
            });
        }
        match tokio::time::timeout(CONNECT_TIMEOUT, Self::connect_untimed(target, key)).await {
            Ok(result) => result,
            Err(_) => Err(SshError::Timeout {
                host: target.host.clone(),
                after: CONNECT_TIMEOUT,
            }),
        }
    }

    async fn connect_untimed(target: &SshTarget, key: &PrivateKey) -> Result<SshSession, SshError> {
        let presented = Arc::new(Mutex::new(None));
        let handler = Pinned {
            keys: target.host_keys.clone(),
            presented: presented.clone(),
        };
        let config = Arc::new(client::Config {
            keepalive_interval: Some(Duration::from_secs(15)),
            ..client::Config::default()
        });
        let connect_error = |message: String| SshError::Connect {
            host: target.host.clone(),
            addr: target.addr,
            message,
        };
        let mut handle = match client::connect(config, target.addr, handler).await {
            Ok(handle) => handle,
            Err(e) => {
                let seen = presented.lock().expect("lock is never poisoned").take();
                return Err(match seen {
                    Some(presented) => SshError::HostKeyMismatch {
                        host: target.host.clone(),
                        presented,
                    },
                    None => connect_error(e.to_string()),
                });
            }
        };
        let auth = handle
            .authenticate_publickey(
                target.user.clone(),
                PrivateKeyWithHashAlg::new(Arc::new(key.clone()), None),
            )
            .await
            .map_err(|e| connect_error(e.to_string()))?;
        if !auth.success() {
            return Err(SshError::LoginRefused {
                host: target.host.clone(),
                user: target.user.clone(),
            });
        }
        Ok(SshSession {
            host: target.host.clone(),
            handle: Arc::new(handle),
        })
    }

    /// The host's Docker engine, reached through this session.
    pub fn engine(&self) -> Engine {
        Engine::new(
            self.host.clone(),
            Arc::new(StreamLocal {
                handle: self.handle.clone(),
                socket: DOCKER_SOCKET,
            }),
        )
    }
}

/// Opens a `direct-streamlocal` channel per connection.
struct StreamLocal {
    handle: Arc<client::Handle<Pinned>>,
    socket: &'static str,
}

impl Connector for StreamLocal {
    fn connect(&self) -> ConnectFuture<'_> {
        Box::pin(async move {
            let channel = self
                .handle
                .channel_open_direct_streamlocal(self.socket)
                .await
                .map_err(std::io::Error::other)?;
            Ok(Box::new(channel.into_stream()) as Box<dyn EngineStream>)
        })
    }
}

/// Accepts only the pinned host keys; remembers the fingerprint of a key it
/// refused, for the error.
struct Pinned {
    keys: Vec<PublicKey>,
    presented: Arc<Mutex<Option<String>>>,
}

impl client::Handler for Pinned {
    type Error = russh::Error;

    async fn check_server_key(
        &mut self,
        server_key: &PublicKeyOrCertificate,
    ) -> Result<bool, Self::Error> {
        let PublicKeyOrCertificate::PublicKey { key, .. } = server_key else {
            *self.presented.lock().expect("lock is never poisoned") =
                Some("(a certificate)".to_string());
            return Ok(false);
        };
        if self.keys.iter().any(|k| k.key_data() == key.key_data()) {
            return Ok(true);
        }
        *self.presented.lock().expect("lock is never poisoned") =
            Some(key.fingerprint(HashAlg::Sha256).to_string());
        Ok(false)
    }
}
