use std::collections::BTreeMap;

use super::*;
use crate::state::SecretKey;

fn store(dir: &std::path::Path) -> SecretStore {
    let key = SecretKey::from_hex(&"ab".repeat(32), "test").expect("64 hex digits");
    SecretStore::new(dir.join("s.secrets"), key)
}

#[test]
fn the_stack_key_is_made_once_and_kept() {
    let dir = tempfile::tempdir().expect("tempdir");
    let first = stack_key(&store(dir.path())).expect("key made");
    let again = stack_key(&store(dir.path())).expect("key read back");
    assert_eq!(first.public_key(), again.public_key());
    let other = tempfile::tempdir().expect("tempdir");
    let fresh = stack_key(&store(other.path())).expect("another stack's key");
    assert_ne!(first.public_key(), fresh.public_key(), "a key per stack");
}

#[test]
fn the_metadata_entry_names_the_sdbc_login() {
    let key = ssh::generate_key().expect("key");
    let entry = ssh_keys_entry(&key);
    let line = entry.strip_prefix("sdbc:").expect("user first");
    assert!(line.starts_with("ssh-ed25519 AAAA"), "{entry}");
    let public = ssh::public_key_from_openssh(line).expect("a public key line");
    assert_eq!(public.key_data(), key.public_key().key_data());
}

#[test]
fn pinned_keys_round_trip_and_replace_earlier_pins() {
    let key = ssh::generate_key().expect("key");
    let mut assigned = BTreeMap::from([
        ("internal_ip".to_string(), "10.0.0.2".to_string()),
        ("hostkey.ssh-rsa".to_string(), "stale".to_string()),
    ]);
    let keys = BTreeMap::from([("ssh-ed25519".to_string(), key.public_key().clone())]);
    pin(&mut assigned, &keys);
    assert!(!assigned.contains_key("hostkey.ssh-rsa"));
    assert_eq!(pinned(&assigned), vec![key.public_key().clone()]);
    assert_eq!(assigned["internal_ip"], "10.0.0.2");
}

#[test]
fn the_target_prefers_the_external_address() {
    let mut assigned = BTreeMap::from([("internal_ip".to_string(), "10.0.0.2".to_string())]);
    let t = target("manager-0", &assigned).expect("internal address");
    assert_eq!(t.addr.to_string(), "10.0.0.2:22");
    assert_eq!(t.user, SSH_USER);
    assigned.insert("external_ip".to_string(), "34.1.2.3".to_string());
    let t = target("manager-0", &assigned).expect("external address");
    assert_eq!(t.addr.to_string(), "34.1.2.3:22");
    let none = target("manager-0", &BTreeMap::new()).expect_err("no address");
    assert!(none.to_string().contains("`manager-0`"), "{none}");
}
