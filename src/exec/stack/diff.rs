//! What differs between a service as the engine has it and as the program
//! wants it, in the words of a plan: `replicas` 2 -> 3, `image`, one entry
//! per environment variable by name (`env.DEBUG`), one per secret and
//! config by the file it is mounted as (`secrets.db_password`: the object's
//! content-hashed name, so a new value shows as a new digest), and
//! `settings` for anything else (the spec's hash, before and after).
//!
//! Only the spec sdbc sent is compared: the engine fills in defaults the
//! program never set, so a field-by-field diff of the rest would list
//! differences that are not changes.

use std::collections::BTreeMap;

use serde_json::Value;

use super::{SPEC_LABEL, spec_hash};
use crate::plan::AttrDiff;

/// The differences between `current` (a service's `Spec` as the engine
/// reports it) and `desired` (the spec sdbc would send, with its hash
/// label). Empty when the hashes and the replica counts agree.
pub fn service_diffs(current: &Value, desired: &Value) -> Vec<AttrDiff> {
    let label = |s: &Value| s["Labels"][SPEC_LABEL].as_str().map(str::to_string);
    if label(current).is_some()
        && label(current) == label(desired)
        && super::replicas(current) == super::replicas(desired)
    {
        return Vec::new();
    }
    let mut diffs = Vec::new();
    let replicas = |s: &Value| s.pointer("/Mode/Replicated/Replicas").cloned();
    push(&mut diffs, "replicas", replicas(current), replicas(desired));
    let container = |s: &Value| s["TaskTemplate"]["ContainerSpec"].clone();
    let (before, after) = (container(current), container(desired));
    push(
        &mut diffs,
        "image",
        before.get("Image").cloned(),
        after.get("Image").cloned(),
    );
    by_key(&mut diffs, "env", env(&before), env(&after));
    for (kind, name_field) in [("Secrets", "SecretName"), ("Configs", "ConfigName")] {
        let files = |c: &Value| mounted(c, kind, name_field);
        by_key(
            &mut diffs,
            &kind.to_ascii_lowercase(),
            files(&before),
            files(&after),
        );
    }
    if diffs.is_empty() {
        let hash = |s: &Value| label(s).unwrap_or_else(|| spec_hash(s));
        push(
            &mut diffs,
            "settings",
            Some(Value::String(hash(current))),
            Some(Value::String(hash(desired))),
        );
    }
    diffs
}

fn push(diffs: &mut Vec<AttrDiff>, path: &str, before: Option<Value>, after: Option<Value>) {
    if before != after {
        diffs.push(AttrDiff {
            path: path.to_string(),
            before,
            after,
        });
    }
}

/// One difference per key of `before` and `after` that differs.
fn by_key(
    diffs: &mut Vec<AttrDiff>,
    prefix: &str,
    before: BTreeMap<String, String>,
    after: BTreeMap<String, String>,
) {
    let keys: std::collections::BTreeSet<&String> = before.keys().chain(after.keys()).collect();
    for k in keys {
        let value = |m: &BTreeMap<String, String>| m.get(k).cloned().map(Value::String);
        push(
            diffs,
            &format!("{prefix}.{k}"),
            value(&before),
            value(&after),
        );
    }
}

/// `NAME=value` entries by name.
fn env(container: &Value) -> BTreeMap<String, String> {
    let entries = container["Env"].as_array().into_iter().flatten();
    entries
        .filter_map(Value::as_str)
        .map(|e| {
            let (k, v) = e.split_once('=').unwrap_or((e, ""));
            (k.to_string(), v.to_string())
        })
        .collect()
}

/// Secret or config object names by the file they are mounted as.
fn mounted(container: &Value, kind: &str, name_field: &str) -> BTreeMap<String, String> {
    let entries = container[kind].as_array().into_iter().flatten();
    entries
        .filter_map(|e| {
            let file = e["File"]["Name"].as_str()?;
            Some((file.to_string(), e[name_field].as_str()?.to_string()))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use serde_json::{Value, json};

    use super::service_diffs;

    fn spec(replicas: u64, image: &str, env: &[&str], secret: &str, hash: &str) -> Value {
        json!({
            "Name": "misago_web",
            "Labels": { "sdbc.spec": hash },
            "Mode": { "Replicated": { "Replicas": replicas } },
            "TaskTemplate": { "ContainerSpec": {
                "Image": image,
                "Env": env,
                "Secrets": [{ "File": { "Name": "db_password" }, "SecretName": secret, "SecretID": "x" }],
            }},
        })
    }

    fn paths(diffs: &[crate::plan::AttrDiff]) -> Vec<String> {
        diffs
            .iter()
            .map(|d| {
                let show = |v: &Option<Value>| v.as_ref().map_or("-".into(), Value::to_string);
                format!("{}: {} -> {}", d.path, show(&d.before), show(&d.after))
            })
            .collect()
    }

    #[test]
    fn equal_hashes_are_no_change() {
        let a = spec(2, "nginx:1.27", &["A=1"], "misago_db_password_1", "h1");
        assert!(service_diffs(&a, &a).is_empty());
    }

    #[test]
    fn replicas_image_env_by_name_and_secret_by_digest() {
        let before = spec(
            2,
            "nginx:1.27",
            &["A=1", "B=2"],
            "misago_db_password_aaaa",
            "h1",
        );
        let after = spec(
            3,
            "nginx:1.28",
            &["A=1", "B=3", "C=4"],
            "misago_db_password_bbbb",
            "h2",
        );
        assert_eq!(
            paths(&service_diffs(&before, &after)),
            [
                "replicas: 2 -> 3",
                "image: \"nginx:1.27\" -> \"nginx:1.28\"",
                "env.B: \"2\" -> \"3\"",
                "env.C: - -> \"4\"",
                "secrets.db_password: \"misago_db_password_aaaa\" -> \"misago_db_password_bbbb\"",
            ]
        );
    }

    #[test]
    fn another_setting_shows_as_the_spec_hash() {
        let before = spec(2, "nginx:1.27", &[], "s", "h1");
        let mut after = before.clone();
        after["Labels"]["sdbc.spec"] = json!("h2");
        after["TaskTemplate"]["RestartPolicy"] = json!({ "Condition": "any" });
        assert_eq!(
            paths(&service_diffs(&before, &after)),
            ["settings: \"h1\" -> \"h2\""]
        );
    }
}
