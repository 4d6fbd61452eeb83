//! What an update keeps of what others set: labels and metadata items
//! whose keys sdbc never set are someone else's and stay as they are.

use serde_json::{Value, json};

use crate::plan::AttrDiff;

/// The labels to set: the program's, plus those others added (keys the
/// program never set; a key the program dropped goes).
pub(super) fn keep_others_labels(wanted: &Value, actual: &Value, diffs: &[AttrDiff]) -> Value {
    let mut labels = wanted.get("labels").cloned().unwrap_or(json!({}));
    let dropped = |k: &str| {
        diffs
            .iter()
            .any(|d| d.path == format!("labels.{k}") && d.after.is_none() && d.before.is_some())
    };
    if let (Some(mine), Some(theirs)) = (
        labels.as_object_mut(),
        actual.get("labels").and_then(Value::as_object),
    ) {
        for (k, v) in theirs {
            if !mine.contains_key(k) && !dropped(k) {
                mine.insert(k.clone(), v.clone());
            }
        }
    }
    labels
}

/// The metadata items to set: the program's, plus items others added
/// (keys that neither the program nor its previous version set).
pub(super) fn keep_others_items(wanted: &Value, actual: &Value, diffs: &[AttrDiff]) -> Value {
    let key_of = |i: &Value| i.get("key").and_then(Value::as_str).map(str::to_string);
    let mut items: Vec<Value> = wanted
        .pointer("/metadata/items")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    let mut sdbcs: std::collections::BTreeSet<String> = items.iter().filter_map(key_of).collect();
    // Keys the previous version of the program set, from the diffs' old values.
    for d in diffs.iter().filter(|d| d.path.starts_with("metadata")) {
        match &d.before {
            Some(Value::Array(old)) => sdbcs.extend(old.iter().filter_map(key_of)),
            Some(Value::Object(old)) => {
                sdbcs.extend(key_of(&Value::Object(old.clone())));
                if let Some(list) = old.get("items").and_then(Value::as_array) {
                    sdbcs.extend(list.iter().filter_map(key_of));
                }
            }
            Some(Value::String(k)) if d.path.ends_with(".key") => {
                sdbcs.insert(k.clone());
            }
            _ => {}
        }
    }
    for theirs in actual
        .pointer("/metadata/items")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        if key_of(theirs).is_some_and(|k| !sdbcs.contains(&k)) {
            items.push(theirs.clone());
        }
    }
    Value::Array(items)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn others_keys_stay_and_dropped_ones_go() {
        let wanted = json!({"labels": {"a": "1"},
                            "metadata": {"items": [{"key": "user-data", "value": "new"}]}});
        let actual = json!({"labels": {"a": "0", "old": "x", "theirs": "y"},
                            "metadata": {"items": [{"key": "startup-script", "value": "s"},
                                                   {"key": "ssh-keys", "value": "k"}]}});
        let diffs = [
            AttrDiff {
                path: "labels.old".into(),
                before: Some(json!("x")),
                after: None,
            },
            AttrDiff {
                path: "metadata.items[0].key".into(),
                before: Some(json!("startup-script")),
                after: Some(json!("user-data")),
            },
        ];
        assert_eq!(
            keep_others_labels(&wanted, &actual, &diffs),
            json!({"a": "1", "theirs": "y"})
        );
        assert_eq!(
            keep_others_items(&wanted, &actual, &diffs),
            json!([{"key": "user-data", "value": "new"}, {"key": "ssh-keys", "value": "k"}])
        );
    }
}
