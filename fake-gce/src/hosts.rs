//! Instances pointed at real hosts: a test tells the fake, per instance
//! name, which internal and external addresses to report and which guest
//! attributes the instance publishes (its SSH host keys under
//! `hostkeys/<key type>`, `sdbc/ready`), as the guest environment and
//! cloud-init of a real VM would. When the instance is inserted it gets
//! them; an instance without such an entry gets the fake's own addresses
//! and no guest attributes.

use std::collections::BTreeMap;

use serde_json::{Value, json};

use crate::state::State;

/// What one instance reports instead of the fake's own values.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct InstanceHost {
    /// The first interface's `networkIP`.
    pub internal_ip: Option<String>,
    /// The `natIP` of the first interface's first access config (only when
    /// the insert asks for one).
    pub external_ip: Option<String>,
    /// `namespace/key` -> value, published once the instance is inserted.
    pub guest_attributes: BTreeMap<String, String>,
}

impl InstanceHost {
    /// A host at `internal_ip` (and `external_ip`) that publishes `host_keys`
    /// (`(key type, base64 blob)`) and reports `ready`.
    pub fn ready(
        internal_ip: &str,
        external_ip: Option<&str>,
        host_keys: &[(&str, &str)],
    ) -> InstanceHost {
        let mut guest_attributes: BTreeMap<String, String> = host_keys
            .iter()
            .map(|(t, blob)| (format!("hostkeys/{t}"), blob.to_string()))
            .collect();
        guest_attributes.insert("sdbc/ready".into(), "ready".into());
        InstanceHost {
            internal_ip: Some(internal_ip.to_string()),
            external_ip: external_ip.map(str::to_string),
            guest_attributes,
        }
    }
}

/// Gives the instance `key` being inserted what its entry says, if it has one.
pub(crate) fn apply(st: &mut State, key: &str, body: &mut Value) {
    let Some(host) = st.hosts.get(key).cloned() else {
        return;
    };
    if let Some(ip) = &host.internal_ip
        && body["networkInterfaces"][0].is_object()
    {
        body["networkInterfaces"][0]["networkIP"] = json!(ip);
    }
    if let Some(ip) = &host.external_ip
        && body["networkInterfaces"][0]["accessConfigs"][0].is_object()
    {
        body["networkInterfaces"][0]["accessConfigs"][0]["natIP"] = json!(ip);
    }
    if !host.guest_attributes.is_empty() {
        st.guest_attributes
            .entry(key.to_string())
            .or_default()
            .extend(host.guest_attributes);
    }
}
