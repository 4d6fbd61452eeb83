//! Deployment state: what sdbc last applied, where it lives on disk, the
//! lock that keeps two runs apart, and the encrypted store for secrets.
//!
//! The state file is JSON (`.sdbc/<name>.state.json` beside the source by
//! default), versioned by [`STATE_VERSION`], and written atomically by
//! [`StateStore::save`]. A file written by a newer sdbc is refused rather
//! than silently downgraded. Secret values never appear in it: resources
//! carry `sha256:` digests of them (see [`SecretValue::digest`]). Nor do
//! boot configurations: long metadata values are kept by digest, and each
//! resource's body as one line of JSON text (format 2, see [`digest`] and
//! [`Attributes`]); a file of format 1 is read and converted on reading.

mod attributes;
pub use crate::targets::digest;
mod lock;
mod secrets;
mod store;
pub(crate) mod util;

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

pub use attributes::Attributes;
pub use lock::{LockError, LockGuard, LockInfo, StaleLock};
pub use secrets::{SECRET_KEY_ENV, SecretError, SecretKey, SecretStore, SecretValue};
pub use store::{FormatError, StateError, StateStore, sdbc_dir};

/// The newest state format version this build reads and writes.
/// 2: long metadata values (boot configurations) kept by digest
/// ([`digest`]), each body on one line ([`Attributes`]); 1: every body
/// verbatim.
pub const STATE_VERSION: u32 = 2;

/// Everything sdbc knows about one deployed stack.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct State {
    /// Format version of the file (see [`STATE_VERSION`]).
    pub version: u32,
    /// Random id made once when the state is first created; it never
    /// changes afterwards and seeds the `requestId` of mutating calls.
    pub lineage: String,
    /// Bumped on every write, so a saved plan can tell that state moved.
    pub serial: u64,
    /// Name of the stack (the `sdbc-stack` label value).
    pub stack: String,
    /// The project the resources live in, recorded by the first apply; a
    /// run for another project is refused.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub project: Option<String>,
    /// The program's default region and zone when it was last applied.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub zone: Option<String>,
    /// Resources by address, e.g. `vm.worker[2]`.
    #[serde(default, deserialize_with = "util::packed_map")]
    pub resources: BTreeMap<String, ResourceState>,
    /// Operations a run started and had not seen finish when it saved, by
    /// node: the next run waits for them before it refreshes.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub operations: BTreeMap<String, PendingOperation>,
}

/// An insert or delete in flight, as recorded when it was started.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PendingOperation {
    /// `insert` or `delete`.
    pub kind: String,
    /// The resource it acts on (`projects/P/zones/Z/disks/NAME`).
    pub target: String,
    /// The Operation as the API answered (its name, zone or region).
    pub operation: serde_json::Value,
}

/// One resource as sdbc last saw it after applying it.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ResourceState {
    /// Compute Engine kind, e.g. `compute#instance`.
    pub kind: String,
    /// The resource's name in Compute Engine.
    pub name: String,
    /// Zone, region or `"global"`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub location: Option<String>,
    /// The numeric id Compute Engine assigned.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// The resource's `selfLink`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub self_link: Option<String>,
    /// The desired body last applied, as [`Attributes`] keeps it (secret
    /// values and long metadata values replaced by digests, on one line).
    #[serde(default)]
    pub attributes: Attributes,
    /// The last fingerprint seen (metadata, labels, ...), if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fingerprint: Option<String>,
    /// The collection it was inserted into, e.g. `projects/P/zones/Z/instances`.
    #[serde(default)]
    pub collection: String,
    /// Graph nodes it depends on (deletion runs in the reverse order).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub depends_on: Vec<String>,
    /// Values Compute Engine assigned that others refer to (`address`, `natIP`).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub assigned: BTreeMap<String, String>,
}

impl State {
    /// An empty state for `stack` with a fresh random lineage.
    pub fn new(stack: impl Into<String>) -> Self {
        State {
            version: STATE_VERSION,
            lineage: util::new_lineage(),
            serial: 0,
            stack: stack.into(),
            project: None,
            region: None,
            zone: None,
            resources: BTreeMap::new(),
            operations: BTreeMap::new(),
        }
    }

    /// Serialises to the on-disk form: pretty JSON with a trailing newline.
    pub fn to_json(&self) -> String {
        let mut text = Vec::new();
        self.write_json(&mut text)
            .expect("State holds only JSON-representable data and memory takes every write");
        String::from_utf8(text).expect("serde_json writes UTF-8")
    }

    /// Writes the on-disk form ([`to_json`](Self::to_json)) to `w` as it is
    /// made, without building the text first: what [`StateStore::save`]
    /// does with a file of megabytes.
    pub fn write_json<W: std::io::Write>(&self, mut w: W) -> std::io::Result<()> {
        serde_json::to_writer_pretty(&mut w, self)?;
        w.write_all(b"\n")
    }

    /// Parses the on-disk form, refusing versions newer than this build
    /// and converting older ones ([`State::upgrade`]). The file is read
    /// once; only a file that does not parse is read again for its version
    /// alone, so that a newer format is named as such.
    pub fn from_json(text: &str) -> Result<Self, FormatError> {
        #[derive(Deserialize)]
        struct VersionOnly {
            version: u32,
        }
        let newer = |found| Err(FormatError::Newer { found });
        match serde_json::from_str::<State>(text) {
            Ok(state) if state.version > STATE_VERSION => newer(state.version),
            Ok(state) => Ok(state.upgrade()),
            Err(full) => match serde_json::from_str::<VersionOnly>(text) {
                Err(e) => Err(FormatError::Parse(e.to_string())),
                Ok(probe) if probe.version > STATE_VERSION => newer(probe.version),
                Ok(_) => Err(FormatError::Parse(full.to_string())),
            },
        }
    }
}

impl State {
    /// The state in the newest format: from format 1, the long metadata
    /// values of every body become digests. It is written in the new
    /// format by the next save.
    fn upgrade(mut self) -> State {
        if self.version < 2 {
            for r in self.resources.values_mut() {
                r.attributes = Attributes::of_sent(&r.attributes.value());
            }
        }
        self.version = STATE_VERSION;
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn sample() -> State {
        let mut s = State::new("misago");
        s.resources.insert(
            "vm.worker[2]".into(),
            ResourceState {
                kind: "compute#instance".into(),
                name: "misago-worker-2".into(),
                location: Some("europe-west1-b".into()),
                id: Some("123".into()),
                self_link: None,
                attributes: Attributes::of_sent(
                    &json!({"machineType": "e2-standard-2", "labels": {"b": "1", "a": "2"}}),
                ),
                fingerprint: Some("abc=".into()),
                ..ResourceState::default()
            },
        );
        s
    }

    #[test]
    fn json_round_trip_keeps_order_and_trailing_newline() {
        let s = sample();
        let text = s.to_json();
        assert!(text.ends_with("}\n"));
        // preserve_order: the body's key order survives.
        assert!(text.find("\"b\"") < text.find("\"a\""));
        assert!(!text.contains("self_link"), "None fields are omitted");
        assert_eq!(State::from_json(&text).expect("parses"), s);
    }

    #[test]
    fn lineage_is_random_and_uuid_shaped() {
        let (a, b) = (State::new("x"), State::new("x"));
        assert_ne!(a.lineage, b.lineage);
        assert_eq!(a.lineage.len(), 36);
        assert_eq!(a.version, STATE_VERSION);
    }

    #[test]
    fn format_1_is_read_with_long_values_as_digests() {
        let long = "#cloud-config\nruncmd: []\n".repeat(8);
        let body = json!({"name": "vm-1", "metadata": {"items": [
            {"key": "enable-guest-attributes", "value": "TRUE"},
            {"key": "user-data", "value": long},
        ]}});
        // A file of format 1: the body verbatim, pretty-printed.
        let mut old: serde_json::Value = serde_json::from_str(&sample().to_json()).expect("json");
        old["version"] = json!(1);
        old["resources"]["vm.worker[2]"]["attributes"] = body.clone();
        let text = serde_json::to_string_pretty(&old).expect("json");
        assert!(text.contains("runcmd"), "format 1 holds the value");
        let read = State::from_json(&text).expect("format 1 parses");
        assert_eq!(read.version, STATE_VERSION);
        let kept = &read.resources["vm.worker[2]"].attributes;
        assert_eq!(kept, &Attributes::of_sent(&body));
        assert_eq!(kept.value(), digest::stored(&body));
        assert!(
            !read.to_json().contains("runcmd"),
            "format 2 holds a digest"
        );
        assert_eq!(State::from_json(&read.to_json()).expect("round trip"), read);
    }

    #[test]
    fn newer_version_is_refused() {
        let mut v: serde_json::Value = serde_json::from_str(&sample().to_json()).expect("json");
        v["version"] = json!(STATE_VERSION + 1);
        let err = State::from_json(&v.to_string()).expect_err("must refuse");
        assert_eq!(
            err,
            FormatError::Newer {
                found: STATE_VERSION + 1
            }
        );
    }

    #[test]
    fn garbage_is_a_parse_error() {
        assert!(matches!(State::from_json("{"), Err(FormatError::Parse(_))));
    }
}
