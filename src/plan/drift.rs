//! Drift: how a resource as Compute Engine returns it differs from what
//! sdbc last sent, field by field, counting only what sdbc manages.
//!
//! Only the fields of the sent body are compared (server-set fields such
//! as `id` or `status` are not sdbc's). References the API returns as full
//! URLs equal the partial paths sdbc sent, `${node.field}` placeholders
//! (values assigned at apply) and the stack key's `{ssh-keys}` equal anything, and a boot disk's
//! `initializeParams` is the disk's, not the instance's; the description
//! holds no setting (and the owner mark is checked on its own). Labels and
//! metadata items are compared only for the keys sdbc sets: keys added by
//! others are theirs and are left alone. A long metadata value that the
//! state keeps by digest (`state::digest`) is compared by its digest, and a
//! drift of it names the digest as the value to go back to.

use serde_json::Value;

use super::AttrDiff;
use crate::state::digest::{Memo, same};

/// The fields of `actual` that differ from `sent`, as diffs from the
/// actual value (`before`) back to the sent one (`after`).
pub fn drift(sent: &Value, actual: &Value) -> Vec<AttrDiff> {
    let mut out = Vec::new();
    compare("", sent, actual, &mut out);
    out
}

fn join(path: &str, key: &str) -> String {
    if path.is_empty() {
        key.to_string()
    } else {
        format!("{path}.{key}")
    }
}

fn compare(path: &str, sent: &Value, actual: &Value, out: &mut Vec<AttrDiff>) {
    match (sent, actual) {
        (Value::Object(s), Value::Object(a)) => {
            for (k, sv) in s {
                // A description cannot change in place, and sdbc's owner
                // mark in it is checked on its own (`targets::gce::owner`).
                if k == "initializeParams" || (path.is_empty() && k == "description") {
                    continue;
                }
                let p = join(path, k);
                match a.get(k) {
                    Some(av) if k == "items" && path.ends_with("metadata") => {
                        compare_items(&p, sv, av, out)
                    }
                    Some(av) => compare(&p, sv, av, out),
                    None => out.push(AttrDiff {
                        path: p,
                        before: None,
                        after: Some(sv.clone()),
                    }),
                }
            }
        }
        (Value::Array(s), Value::Array(a)) if s.len() == a.len() => {
            for (i, (sv, av)) in s.iter().zip(a).enumerate() {
                compare(&format!("{path}[{i}]"), sv, av, out);
            }
        }
        (Value::String(s), Value::String(a)) if same_string(s, a) => {}
        (s, a) if s == a => {}
        (s, a) => out.push(AttrDiff {
            path: path.to_string(),
            before: Some(a.clone()),
            after: Some(s.clone()),
        }),
    }
}

fn same_string(sent: &str, actual: &str) -> bool {
    sent == actual
        || (sent.starts_with("${") && sent.ends_with('}'))
        || sent == crate::targets::gce::SSH_KEYS
        || (actual.starts_with("https://") && actual.ends_with(&format!("/{sent}")))
}

/// Metadata items (`[{key, value}]`) by key, for the keys sent only. A
/// long value the state keeps by digest equals the value it was made from.
fn compare_items(path: &str, sent: &Value, actual: &Value, out: &mut Vec<AttrDiff>) {
    let value_of = |list: &Value, key: &str| {
        list.as_array()?
            .iter()
            .find(|i| i.get("key").and_then(Value::as_str) == Some(key))
            .and_then(|i| i.get("value"))
            .cloned()
    };
    for item in sent.as_array().into_iter().flatten() {
        let Some(key) = item.get("key").and_then(Value::as_str) else {
            continue;
        };
        let want = item.get("value").cloned();
        let got = value_of(actual, key);
        let placeholder =
            want.as_ref().and_then(Value::as_str) == Some(crate::targets::gce::SSH_KEYS);
        let unchanged = match (&want, &got) {
            (Some(_), Some(_)) if placeholder => true,
            (Some(w), Some(g)) => same(w, g, &Memo::default()),
            (w, g) => w == g,
        };
        if !unchanged {
            out.push(AttrDiff {
                path: format!("{path}[{key}]"),
                before: got,
                after: want,
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_boot_configuration_kept_by_digest_drifts_only_when_changed() {
        let long = "#cloud-config\nruncmd: []\n".repeat(8);
        let item = |v: &str| json!({"metadata": {"items": [{"key": "user-data", "value": v}]}});
        let kept = crate::state::digest::stored(&item(&long));
        assert_ne!(kept, item(&long), "kept by digest");
        assert_eq!(drift(&kept, &item(&long)), Vec::new());
        let changed = drift(&kept, &item("#cloud-config\n"));
        assert_eq!(changed.len(), 1);
        assert_eq!(changed[0].path, "metadata.items[user-data]");
        assert_eq!(changed[0].before, Some(json!("#cloud-config\n")));
    }

    #[test]
    fn only_managed_fields_count() {
        let sent = json!({
            "name": "a",
            "machineType": "zones/z/machineTypes/e2-small",
            "natIP": "${gce.address.a.address}",
            "labels": {"sdbc-stack": "s", "tier": "web"},
            "metadata": {"items": [{"key": "user-data", "value": "x"}]},
            "disks": [{"initializeParams": {"diskSizeGb": "10"}}],
        });
        let same = json!({
            "name": "a", "id": "1", "status": "RUNNING",
            "machineType": "https://www.googleapis.com/compute/v1/projects/p/zones/z/machineTypes/e2-small",
            "natIP": "34.0.0.1",
            "labels": {"sdbc-stack": "s", "tier": "web", "theirs": "1"},
            "metadata": {"fingerprint": "f", "items": [{"key": "theirs", "value": "1"}, {"key": "user-data", "value": "x"}]},
            "disks": [{"source": "disk"}],
        });
        assert_eq!(drift(&sent, &same), Vec::new());
        let mut changed = same.clone();
        changed["labels"]["tier"] = json!("db");
        changed["metadata"]["items"][1]["value"] = json!("y");
        changed["machineType"] = json!("zones/z/machineTypes/e2-medium");
        let paths: Vec<String> = drift(&sent, &changed).into_iter().map(|d| d.path).collect();
        assert_eq!(
            paths,
            ["machineType", "labels.tier", "metadata.items[user-data]"]
        );
    }
}
