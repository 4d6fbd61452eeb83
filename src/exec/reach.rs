//! Reaching the stack's VMs before anything runs on them, from what
//! Compute Engine and the state know:
//!
//! - [`stack_key`]: the stack's ed25519 key pair, made once and kept in the
//!   encrypted secrets store; [`ssh_keys_entry`] is the public half as the
//!   instance metadata `ssh-keys` carries it, for the [`SSH_USER`] login.
//! - [`wait_ready`]: waits for the guest attribute `sdbc/ready` that the
//!   VM's cloud-init writes last (`ready` or `failed`); a VM that reports
//!   `failed`, or nothing in time, is an error naming it.
//! - [`host_keys`]: the VM's SSH host keys as the guest environment
//!   publishes them (`hostkeys/<key type>` = base64 blob), the source
//!   `gcloud compute ssh --strict-host-key-checking` trusts; [`pin`] and
//!   [`pinned`] keep them with the VM's assigned values in the state.
//! - [`target`]: the [`SshTarget`] for a VM: its external address when it
//!   has one, else its internal one, with the pinned keys.
//!
//! See `docs/decisions/0015-ssh-and-engine-api.md`.

use std::collections::BTreeMap;
use std::net::{IpAddr, SocketAddr};
use std::time::{Duration, Instant};

use russh::keys::ssh_key::{PrivateKey, PublicKey};
use serde_json::Value;

use super::ssh::{self, SshTarget};
use super::{ApiCall, GceClient, GceError};
use crate::state::{SecretError, SecretStore};

/// The login sdbc uses on every VM.
pub const SSH_USER: &str = "sdbc";

/// The name of the stack's SSH private key in the secrets store.
pub const STACK_KEY_SECRET: &str = "sdbc-ssh-key";

/// The guest attribute cloud-init writes last: `ready` or `failed`.
pub const READY_ATTRIBUTE: &str = "sdbc/ready";

/// The guest attribute namespace holding the host keys, one per key type.
pub const HOST_KEYS_NAMESPACE: &str = "hostkeys/";

/// Prefix of a pinned host key among a VM's assigned values in the state.
const PIN_PREFIX: &str = "hostkey.";

/// The SSH port.
pub const SSH_PORT: u16 = 22;

/// Why a VM cannot be reached yet.
#[derive(Debug, thiserror::Error)]
pub enum ReachError {
    #[error(
        "VM `{vm}` reported `failed` through its `sdbc/ready` guest attribute: a unit or mount \
         its start-up checks need is not up (see /var/log/cloud-init-output.log on the VM)"
    )]
    Failed { vm: String },
    #[error("VM `{vm}` did not report ready within {}s ({last})", after.as_secs())]
    NeverReady {
        vm: String,
        after: Duration,
        /// What the attribute said last, or that it was never written.
        last: String,
    },
    #[error(
        "VM `{vm}` publishes no SSH host keys (guest attributes `hostkeys/<type>`); enable guest \
         attributes (`enable-guest-attributes=TRUE`) so its host key can be verified"
    )]
    NoHostKeys { vm: String },
    #[error("VM `{vm}`: guest attribute `hostkeys/{key_type}` is not a host key: {message}")]
    BadHostKey {
        vm: String,
        key_type: String,
        message: String,
    },
    #[error("VM `{vm}` has no address in the state (`external_ip` or `internal_ip`)")]
    NoAddress { vm: String },
    #[error("VM `{vm}`: {source}")]
    Api { vm: String, source: Box<GceError> },
    #[error("the stack's SSH key: {0}")]
    Key(String),
}

impl From<SecretError> for ReachError {
    fn from(e: SecretError) -> Self {
        ReachError::Key(e.to_string())
    }
}

/// The stack's SSH key, generated and stored the first time.
pub fn stack_key(store: &SecretStore) -> Result<PrivateKey, ReachError> {
    let text = store.get_or_insert_with(STACK_KEY_SECRET, || {
        ssh::generate_key()
            .and_then(|k| ssh::private_key_to_openssh(&k))
            .map_err(|e| SecretError::Random(std::io::Error::other(e.to_string())))
    })?;
    ssh::private_key_from_openssh(text.expose()).map_err(|e| ReachError::Key(e.to_string()))
}

/// The public half of `key` as one line of the metadata `ssh-keys`
/// (`sdbc:ssh-ed25519 AAAA… sdbc`).
pub fn ssh_keys_entry(key: &PrivateKey) -> String {
    let public = key
        .public_key()
        .to_openssh()
        .expect("an ed25519 public key always encodes");
    format!("{SSH_USER}:{public} {SSH_USER}")
}

/// How long and how often to ask for a VM's readiness.
#[derive(Debug, Clone, Copy)]
pub struct Wait {
    pub timeout: Duration,
    pub poll: Duration,
}

impl Default for Wait {
    /// Ten minutes: a first boot installs packages before it reports.
    fn default() -> Self {
        Wait {
            timeout: Duration::from_secs(600),
            poll: Duration::from_secs(5),
        }
    }
}

/// One guest attribute's value; `None` while it is not written.
async fn guest_attribute(
    client: &GceClient,
    instance: &str,
    key: &str,
) -> Result<Option<String>, GceError> {
    let call =
        ApiCall::get(format!("{instance}/getGuestAttributes")).with_query("variableKey", key);
    match client.send(call).await {
        Ok(v) => Ok(v["variableValue"].as_str().map(str::to_string)),
        Err(e) if e.is_not_found() => Ok(None),
        Err(e) => Err(e),
    }
}

/// Waits until the VM at `instance` (its API path) reports `ready`.
pub async fn wait_ready(
    client: &GceClient,
    instance: &str,
    vm: &str,
    wait: Wait,
) -> Result<(), ReachError> {
    let start = Instant::now();
    loop {
        let value = guest_attribute(client, instance, READY_ATTRIBUTE)
            .await
            .map_err(|source| ReachError::Api {
                vm: vm.to_string(),
                source: Box::new(source),
            })?;
        match value.as_deref().map(str::trim) {
            Some("ready") => return Ok(()),
            Some("failed") => return Err(ReachError::Failed { vm: vm.to_string() }),
            other if start.elapsed() >= wait.timeout => {
                let last = match other {
                    None => String::from("its `sdbc/ready` guest attribute was never written"),
                    Some(v) => format!("its `sdbc/ready` guest attribute says `{v}`"),
                };
                return Err(ReachError::NeverReady {
                    vm: vm.to_string(),
                    after: wait.timeout,
                    last,
                });
            }
            _ => tokio::time::sleep(wait.poll).await,
        }
    }
}

/// The host keys the VM at `instance` publishes, by key type.
pub async fn host_keys(
    client: &GceClient,
    instance: &str,
    vm: &str,
) -> Result<BTreeMap<String, PublicKey>, ReachError> {
    let call = ApiCall::get(format!("{instance}/getGuestAttributes"))
        .with_query("queryPath", HOST_KEYS_NAMESPACE);
    let answer = match client.send(call).await {
        Ok(v) => v,
        Err(e) if e.is_not_found() => Value::Null,
        Err(source) => {
            return Err(ReachError::Api {
                vm: vm.to_string(),
                source: Box::new(source),
            });
        }
    };
    let items = answer["queryValue"]["items"].as_array();
    let mut keys = BTreeMap::new();
    for item in items.into_iter().flatten() {
        let (Some(key_type), Some(blob)) = (item["key"].as_str(), item["value"].as_str()) else {
            continue;
        };
        let key =
            ssh::public_key_from_blob(key_type, blob).map_err(|e| ReachError::BadHostKey {
                vm: vm.to_string(),
                key_type: key_type.to_string(),
                message: e.to_string(),
            })?;
        keys.insert(key_type.to_string(), key);
    }
    if keys.is_empty() {
        return Err(ReachError::NoHostKeys { vm: vm.to_string() });
    }
    Ok(keys)
}

/// Records `keys` among a VM's assigned values (`hostkey.<type>`), replacing earlier pins.
pub fn pin(assigned: &mut BTreeMap<String, String>, keys: &BTreeMap<String, PublicKey>) {
    assigned.retain(|k, _| !k.starts_with(PIN_PREFIX));
    for (key_type, key) in keys {
        let line = key
            .to_openssh()
            .expect("a public key read from OpenSSH form encodes again");
        assigned.insert(format!("{PIN_PREFIX}{key_type}"), line);
    }
}

/// The pin entries (`hostkey.<type>` = OpenSSH line) among assigned values.
pub fn pin_entries(assigned: &BTreeMap<String, String>) -> BTreeMap<String, String> {
    assigned
        .iter()
        .filter(|(k, _)| k.starts_with(PIN_PREFIX))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect()
}

/// The host keys pinned among a VM's assigned values (unreadable ones skipped).
pub fn pinned(assigned: &BTreeMap<String, String>) -> Vec<PublicKey> {
    assigned
        .iter()
        .filter(|(k, _)| k.starts_with(PIN_PREFIX))
        .filter_map(|(_, line)| ssh::public_key_from_openssh(line).ok())
        .collect()
}

/// How sdbc reaches the VM `vm` whose assigned values are `assigned`.
pub fn target(vm: &str, assigned: &BTreeMap<String, String>) -> Result<SshTarget, ReachError> {
    let ip: IpAddr = ["external_ip", "internal_ip"]
        .iter()
        .find_map(|k| assigned.get(*k).and_then(|a| a.parse().ok()))
        .ok_or_else(|| ReachError::NoAddress { vm: vm.to_string() })?;
    Ok(SshTarget {
        host: vm.to_string(),
        addr: SocketAddr::new(ip, SSH_PORT),
        user: SSH_USER.to_string(),
        host_keys: pinned(assigned),
    })
}

#[cfg(test)]
mod tests;
