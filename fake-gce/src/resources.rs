//! Per-kind behaviour: which collections exist, the server-set fields an
//! inserted resource gets, the references it must resolve, and what deleting
//! it does to other resources.

use crate::error::ApiError;
use crate::state::State;
use crate::util::reference_key;
use serde_json::{Map, Value, json};

/// Where a collection lives.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ScopeKind {
    /// `projects/p/global/...`
    Global,
    /// `projects/p/regions/r/...`
    Region,
    /// `projects/p/zones/z/...`
    Zone,
}

/// A resource collection the fake serves.
#[derive(Debug, Clone, Copy)]
pub struct Collection {
    /// Path segment (`instances`).
    pub name: &'static str,
    /// Discovery schema of its bodies.
    pub schema: &'static str,
    /// `kind` of its resources.
    pub kind: &'static str,
    /// Its scope.
    pub scope: ScopeKind,
}

/// The collections served.
pub const COLLECTIONS: &[Collection] = &[
    Collection {
        name: "networks",
        schema: "Network",
        kind: "compute#network",
        scope: ScopeKind::Global,
    },
    Collection {
        name: "firewalls",
        schema: "Firewall",
        kind: "compute#firewall",
        scope: ScopeKind::Global,
    },
    Collection {
        name: "subnetworks",
        schema: "Subnetwork",
        kind: "compute#subnetwork",
        scope: ScopeKind::Region,
    },
    Collection {
        name: "addresses",
        schema: "Address",
        kind: "compute#address",
        scope: ScopeKind::Region,
    },
    Collection {
        name: "disks",
        schema: "Disk",
        kind: "compute#disk",
        scope: ScopeKind::Zone,
    },
    Collection {
        name: "instances",
        schema: "Instance",
        kind: "compute#instance",
        scope: ScopeKind::Zone,
    },
];

/// Find a collection by path segment and scope.
pub fn collection(name: &str, scope: ScopeKind) -> Option<&'static Collection> {
    COLLECTIONS
        .iter()
        .find(|c| c.name == name && c.scope == scope)
}

/// A resource ready to be stored when its insert operation is DONE.
pub struct Prepared {
    /// The resource as GET will show it.
    pub resource: Value,
    /// Other resources created with it (boot disks), by key.
    pub extra: Vec<(String, Value)>,
    /// Keys of disks and addresses that this resource starts using.
    pub uses: Vec<String>,
}

/// Where an insert goes.
pub struct Place<'a> {
    /// Project id.
    pub project: &'a str,
    /// `projects/p/global`, `projects/p/regions/r`, `projects/p/zones/z`.
    pub scope_path: &'a str,
    /// Region or zone name; empty for global.
    pub location: &'a str,
}

pub(crate) fn obj(v: &mut Value) -> &mut Map<String, Value> {
    if !v.is_object() {
        *v = json!({});
    }
    v.as_object_mut().expect("just made an object")
}

pub(crate) fn set_default(v: &mut Value, field: &str, value: Value) {
    obj(v).entry(field.to_string()).or_insert(value);
}

/// Resolve a reference to an existing resource of `collection`; 400 if it is
/// malformed or of another kind, 404 if it does not exist.
pub(crate) fn resolve(
    st: &State,
    project: &str,
    field: &str,
    reference: &str,
    collection: &str,
) -> Result<String, ApiError> {
    let key = reference_key(reference, project)
        .filter(|k| k.split('/').rev().nth(1) == Some(collection))
        .ok_or_else(|| {
            ApiError::invalid(format!(
                "Invalid value for field '{field}': '{reference}'. The URL is malformed."
            ))
        })?;
    if st.resources.contains_key(&key) {
        Ok(key)
    } else {
        Err(ApiError::not_found(&key))
    }
}

/// Build the stored form of an inserted resource.
pub fn prepare(
    st: &mut State,
    coll: &Collection,
    place: &Place<'_>,
    mut body: Value,
) -> Result<Prepared, ApiError> {
    let name = body["name"].as_str().unwrap_or_default().to_string();
    let key = format!("{}/{}/{name}", place.scope_path, coll.name);
    let mut extra = Vec::new();
    let mut uses = Vec::new();
    match coll.name {
        "networks" => {
            set_default(
                &mut body,
                "routingConfig",
                json!({"routingMode": "REGIONAL"}),
            );
            set_default(&mut body, "mtu", json!(1460));
        }
        "subnetworks" => {
            let net = body["network"].as_str().unwrap_or_default().to_string();
            let net_key = resolve(st, place.project, "resource.network", &net, "networks")?;
            body["network"] = json!(st.link(&net_key));
            let cidr = body["ipCidrRange"].as_str().unwrap_or_default();
            let gateway = gateway_of(cidr).ok_or_else(|| {
                ApiError::invalid(format!(
                    "Invalid value for field 'resource.ipCidrRange': '{cidr}'. Invalid IPCidrRange."
                ))
            })?;
            body["gatewayAddress"] = json!(gateway);
            body["region"] = json!(st.link(&format!(
                "projects/{}/regions/{}",
                place.project, place.location
            )));
            body["fingerprint"] = json!(st.fingerprint());
            set_default(&mut body, "privateIpGoogleAccess", json!(false));
            set_default(&mut body, "stackType", json!("IPV4_ONLY"));
        }
        "firewalls" => {
            let net = body["network"]
                .as_str()
                .unwrap_or("global/networks/default")
                .to_string();
            let net_key = resolve(st, place.project, "resource.network", &net, "networks")?;
            body["network"] = json!(st.link(&net_key));
            set_default(&mut body, "direction", json!("INGRESS"));
            set_default(&mut body, "priority", json!(1000));
            set_default(&mut body, "disabled", json!(false));
            let ingress = body["direction"] == "INGRESS";
            let has_source = ["sourceRanges", "sourceTags", "sourceServiceAccounts"]
                .iter()
                .any(|f| body.get(*f).is_some());
            if ingress && !has_source {
                body["sourceRanges"] = json!(["0.0.0.0/0"]);
            }
        }
        "addresses" => {
            set_default(&mut body, "addressType", json!("EXTERNAL"));
            set_default(&mut body, "networkTier", json!("PREMIUM"));
            if body.get("address").is_none() {
                body["address"] = json!(next_external(st));
            }
            body["status"] = json!("RESERVED");
            body["region"] = json!(st.link(&format!(
                "projects/{}/regions/{}",
                place.project, place.location
            )));
            body["labelFingerprint"] = json!(st.fingerprint());
        }
        "disks" => {
            prepare_disk(st, place, &mut body, None);
        }
        "instances" => {
            crate::instance::prepare(st, place, &key, &mut body, &mut extra, &mut uses)?;
        }
        _ => {}
    }
    let map = obj(&mut body);
    map.insert("kind".into(), json!(coll.kind));
    let id = st.new_id();
    let link = st.link(&key);
    let map = obj(&mut body);
    map.insert("id".into(), json!(id));
    map.insert(
        "creationTimestamp".into(),
        json!(crate::util::now_rfc3339()),
    );
    map.insert("selfLink".into(), json!(link));
    Ok(Prepared {
        resource: body,
        extra,
        uses,
    })
}

pub(crate) fn prepare_disk(
    st: &mut State,
    place: &Place<'_>,
    body: &mut Value,
    user: Option<&str>,
) {
    let zone_link = st.link(&format!(
        "projects/{}/zones/{}",
        place.project, place.location
    ));
    if body.get("sizeGb").is_none() {
        body["sizeGb"] = json!("10");
    }
    let ty = body["type"]
        .as_str()
        .unwrap_or("pd-standard")
        .rsplit('/')
        .next()
        .unwrap_or("pd-standard")
        .to_string();
    body["type"] = json!(format!("{zone_link}/diskTypes/{ty}"));
    body["zone"] = json!(zone_link);
    body["status"] = json!("READY");
    body["physicalBlockSizeBytes"] = json!("4096");
    body["labelFingerprint"] = json!(st.fingerprint());
    if let Some(user) = user {
        body["users"] = json!([user]);
    }
}

fn gateway_of(cidr: &str) -> Option<String> {
    let (ip, bits) = cidr.split_once('/')?;
    let bits: u32 = bits.parse().ok().filter(|b| (8..=29).contains(b))?;
    let octets: Vec<u8> = ip
        .split('.')
        .map(str::parse)
        .collect::<Result<_, _>>()
        .ok()?;
    let [a, b, c, d] = octets.as_slice() else {
        return None;
    };
    let n = u32::from_be_bytes([*a, *b, *c, *d]);
    let mask = u32::MAX << (32 - bits);
    if n & !mask != 0 {
        return None;
    }
    Some(std::net::Ipv4Addr::from(n + 1).to_string())
}

pub(crate) fn next_internal(st: &mut State, subnet: Option<&str>) -> String {
    let (base, key) = match subnet {
        Some(sk) => {
            let cidr = st.resources[sk]["ipCidrRange"]
                .as_str()
                .unwrap_or("10.128.0.0/20");
            let ip = cidr.split('/').next().unwrap_or("10.128.0.0");
            let base: std::net::Ipv4Addr = ip.parse().unwrap_or([10, 128, 0, 0].into());
            (u32::from(base), sk.to_string())
        }
        None => (
            u32::from(std::net::Ipv4Addr::new(10, 128, 0, 0)),
            String::new(),
        ),
    };
    let n = st.next_host.entry(key).or_insert(2);
    let ip = std::net::Ipv4Addr::from(base + *n);
    *n += 1;
    ip.to_string()
}

pub(crate) fn next_external(st: &mut State) -> String {
    st.next_external += 1;
    let n = st.next_external;
    format!("34.{}.{}.{}", 76 + (n >> 16) % 100, (n >> 8) & 255, n & 255)
}

/// Effects of a finished insert: store the resources, mark what they use.
pub fn apply_insert(st: &mut State, key: &str, prepared: Prepared) {
    let link = st.link(key);
    for used in &prepared.uses {
        if let Some(r) = st.resources.get_mut(used) {
            let users = obj(r).entry("users").or_insert(json!([]));
            if let Some(list) = users.as_array_mut() {
                list.push(json!(link));
            }
            if used.contains("/addresses/") {
                r["status"] = json!("IN_USE");
            }
        }
    }
    for (k, v) in prepared.extra {
        st.creating.remove(&k);
        st.resources.insert(k, v);
    }
    st.creating.remove(key);
    st.resources.insert(key.to_string(), prepared.resource);
}

/// Effects of a finished delete: remove the resource, its auto-delete disks,
/// and its name from the `users` of what it used.
pub fn apply_delete(st: &mut State, key: &str) {
    st.deleting.remove(key);
    let Some(gone) = st.resources.remove(key) else {
        return;
    };
    st.guest_attributes.remove(key);
    let link = st.link(key);
    if let Some(disks) = gone["disks"].as_array() {
        for d in disks {
            let Some(dk) = d["source"].as_str().and_then(|s| reference_key(s, "")) else {
                continue;
            };
            if d["autoDelete"] == json!(true) {
                st.resources.remove(&dk);
            }
        }
    }
    for r in st.resources.values_mut() {
        let Some(users) = r.get_mut("users").and_then(Value::as_array_mut) else {
            continue;
        };
        users.retain(|u| u.as_str() != Some(link.as_str()));
        if users.is_empty() {
            if let Some(m) = r.as_object_mut() {
                m.remove("users");
            }
            if r["status"] == "IN_USE" {
                r["status"] = json!("RESERVED");
            }
        }
    }
}
