//! Attribute-level differences and what they imply: which fields Compute
//! Engine can change in place, which need the VM stopped, and which force a
//! replacement.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::Action;
use crate::state::digest::{Memo, same};

/// One changed attribute, by JSON path (`labels.tier`, `machineType`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AttrDiff {
    pub path: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub before: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub after: Option<Value>,
}

/// How a change from `before` to `after` must be made, and the differences.
pub fn classify(
    kind: &str,
    before: &Value,
    after: &Value,
) -> (Action, Option<String>, Vec<AttrDiff>) {
    classify_with(kind, before, after, &Memo::default())
}

/// [`classify`] with `before` as the state keeps it (long values by
/// digest, `state::digest`), reusing the digests in `memo`.
pub fn classify_with<'a>(
    kind: &str,
    before: &Value,
    after: &'a Value,
    memo: &Memo<'a>,
) -> (Action, Option<String>, Vec<AttrDiff>) {
    let mut diffs = Vec::new();
    if same(before, after, memo) {
        // The common case, without building a path for every field.
        return (Action::NoOp, None, diffs);
    }
    collect("", before, after, &mut diffs, memo);
    // The description holds no setting (and cannot change in place); its
    // owner mark is read on its own, so a mark from an older sdbc does not
    // replace anything.
    diffs.retain(|d| d.path != "description");
    let (action, reason) = action_for(kind, &diffs);
    (action, reason, diffs)
}

/// How differences of a resource of `kind` must be made: nothing, in
/// place, with a restart, by a replace (with the field that forces it), or
/// not at all (a disk that would shrink).
pub fn action_for(kind: &str, diffs: &[AttrDiff]) -> (Action, Option<String>) {
    if diffs.is_empty() {
        return (Action::NoOp, None);
    }
    if super::cluster::is_cluster_kind(kind) {
        return (Action::Update, None);
    }
    if kind == "disk"
        && let Some(why) = diffs
            .iter()
            .find(|d| d.path == "sizeGb")
            .and_then(|d| shrinks(d.before.as_ref()?, d.after.as_ref()?))
    {
        return (Action::Refused, Some(why));
    }
    let top: Vec<&str> = diffs
        .iter()
        .map(|d| d.path.split(['.', '[']).next().unwrap_or(""))
        .collect();
    let in_place: &[&str] = match kind {
        "instance" => &["labels", "metadata", "machineType"],
        "disk" => &["labels", "sizeGb"],
        "address" => &["labels"],
        _ => &[],
    };
    if let Some(field) = top.iter().find(|f| !in_place.contains(f)) {
        let reason = format!("`{field}` of a {kind} cannot change in place");
        return (Action::Replace, Some(reason));
    }
    if top.contains(&"machineType") {
        return (
            Action::UpdateRestart,
            Some(String::from(
                "the machine type changes only while the VM is stopped",
            )),
        );
    }
    (Action::Update, None)
}

/// Why a disk's `sizeGb` must not go from `before` to `after`: it would shrink.
fn shrinks(before: &Value, after: &Value) -> Option<String> {
    let size = |v: &Value| v.as_str()?.parse::<u64>().ok();
    let (b, a) = (size(before)?, size(after)?);
    (a < b).then(|| {
        format!(
            "the disk would shrink from {b} GB to {a} GB; Compute Engine cannot shrink a disk \
             and sdbc never replaces one to do it (its data would be lost): keep {b} GB or more"
        )
    })
}

fn collect<'a>(
    path: &str,
    before: &Value,
    after: &'a Value,
    out: &mut Vec<AttrDiff>,
    memo: &Memo<'a>,
) {
    match (before, after) {
        (Value::Object(a), Value::Object(b)) => {
            let mut keys: Vec<&String> = a.keys().chain(b.keys()).collect();
            keys.sort();
            keys.dedup();
            for k in keys {
                let p = if path.is_empty() {
                    k.clone()
                } else {
                    format!("{path}.{k}")
                };
                match (a.get(k), b.get(k)) {
                    (Some(x), Some(y)) => collect(&p, x, y, out, memo),
                    (x, y) => out.push(AttrDiff {
                        path: p,
                        before: x.cloned(),
                        after: y.cloned(),
                    }),
                }
            }
        }
        (Value::Array(a), Value::Array(b)) if a.len() == b.len() => {
            for (i, (x, y)) in a.iter().zip(b).enumerate() {
                collect(&format!("{path}[{i}]"), x, y, out, memo);
            }
        }
        (a, b) if !same(a, b, memo) => out.push(AttrDiff {
            path: path.to_string(),
            before: Some(a.clone()),
            after: Some(b.clone()),
        }),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn machine_type_needs_a_restart() {
        let (a, _, d) = classify(
            "instance",
            &json!({"machineType": "x", "name": "a"}),
            &json!({"machineType": "y", "name": "a"}),
        );
        assert_eq!(a, Action::UpdateRestart);
        assert_eq!(d[0].path, "machineType");
    }

    #[test]
    fn labels_update_in_place_and_zone_replaces() {
        let (a, _, _) = classify(
            "instance",
            &json!({"labels": {"a": "1"}}),
            &json!({"labels": {"a": "2"}}),
        );
        assert_eq!(a, Action::Update);
        let (a, why, _) = classify("instance", &json!({"zone": "a"}), &json!({"zone": "b"}));
        assert_eq!(a, Action::Replace);
        assert!(why.unwrap_or_default().contains("zone"));
        let (a, _, _) = classify(
            "firewall",
            &json!({"allowed": [1]}),
            &json!({"allowed": [1]}),
        );
        assert_eq!(a, Action::NoOp);
    }

    #[test]
    fn a_kept_digest_equals_its_value_and_shows_like_it() {
        let body = |ud: &str| json!({"name": "a", "metadata": {"items": [{"key": "user-data", "value": ud}]}});
        let (old, new) = ("#cloud-config\n".repeat(10), "#cloud-config\n".repeat(11));
        let kept = crate::state::digest::stored(&body(&old));
        assert_eq!(classify("instance", &kept, &body(&old)).0, Action::NoOp);
        let (a, _, d) = classify("instance", &kept, &body(&new));
        assert_eq!((a, d.len()), (Action::Update, 1));
        assert_eq!(d[0].path, "metadata.items[0].value");
        assert_eq!(d[0].after, Some(json!(new)));
        // The digest before shows as the value it stands for would.
        let shown = crate::plan::render::show(d[0].before.as_ref().expect("before"));
        assert_eq!(shown, crate::plan::render::show(&json!(old)));
        assert!(shown.contains(" bytes, sha256 "), "{shown}");
    }

    #[test]
    fn a_disk_grows_in_place_and_never_shrinks() {
        let small = json!({"name": "d", "sizeGb": "20"});
        let big = json!({"name": "d", "sizeGb": "30"});
        let (a, _, d) = classify("disk", &small, &big);
        assert_eq!((a, d[0].path.as_str()), (Action::Update, "sizeGb"));
        let (a, why, _) = classify("disk", &big, &small);
        assert_eq!(a, Action::Refused);
        assert!(why.unwrap_or_default().contains("from 30 GB to 20 GB"));
    }
}
