//! Compute Engine `Operation` helpers: recognising one, and building its
//! `wait` path from the configured endpoint, the project and the
//! operation's zone or region (never from its `selfLink`, which names the
//! real API host even when we talk to another endpoint).

use serde_json::Value;

use super::GceError;

/// Whether `v` is an Operation resource.
pub fn is_operation(v: &Value) -> bool {
    v.get("kind").and_then(Value::as_str) == Some("compute#operation")
}

/// Whether the operation's `status` is `DONE`.
pub fn is_done(op: &Value) -> bool {
    op.get("status").and_then(Value::as_str) == Some("DONE")
}

/// The operation's name, if present.
pub fn name(op: &Value) -> Option<&str> {
    op.get("name").and_then(Value::as_str)
}

/// The last path segment of a URL or a bare name, if it is a safe path
/// segment (letters, digits, `-`, `_`, `.`).
fn segment(value: &str) -> Option<&str> {
    let last = value.trim_end_matches('/').rsplit('/').next()?;
    let ok = !last.is_empty()
        && last != "."
        && last != ".."
        && last
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'));
    ok.then_some(last)
}

/// `projects/{project}/(zones/{z}|regions/{r}|global)/operations/{name}/wait`.
pub fn wait_path(project: &str, op: &Value) -> Result<String, GceError> {
    let invalid = |what: &str| GceError::Invalid(format!("operation {what}: {op}"));
    let name = name(op)
        .and_then(segment)
        .ok_or_else(|| invalid("has no usable name"))?;
    let field = |k: &str| op.get(k).and_then(Value::as_str).filter(|s| !s.is_empty());
    let scope = if let Some(zone) = field("zone") {
        format!(
            "zones/{}",
            segment(zone).ok_or_else(|| invalid("has a bad zone"))?
        )
    } else if let Some(region) = field("region") {
        format!(
            "regions/{}",
            segment(region).ok_or_else(|| invalid("has a bad region"))?
        )
    } else {
        "global".to_string()
    };
    Ok(format!("projects/{project}/{scope}/operations/{name}/wait"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn wait_paths_by_scope_ignore_self_link() {
        let zonal = json!({
            "kind": "compute#operation", "name": "operation-1",
            "zone": "https://www.googleapis.com/compute/v1/projects/other/zones/europe-west1-b",
            "selfLink": "https://elsewhere.invalid/x"
        });
        assert!(is_operation(&zonal) && !is_done(&zonal));
        assert_eq!(
            wait_path("p", &zonal).expect("zonal"),
            "projects/p/zones/europe-west1-b/operations/operation-1/wait"
        );
        let regional = json!({"name": "op-2", "region": "regions/europe-west1"});
        assert_eq!(
            wait_path("p", &regional).expect("regional"),
            "projects/p/regions/europe-west1/operations/op-2/wait"
        );
        let global = json!({"name": "op-3", "status": "DONE"});
        assert!(is_done(&global));
        assert_eq!(
            wait_path("p", &global).expect("global"),
            "projects/p/global/operations/op-3/wait"
        );
    }

    #[test]
    fn unsafe_names_are_refused() {
        for op in [
            json!({}),
            json!({"name": ""}),
            json!({"name": "a?b"}),
            json!({"name": ".."}),
            json!({"name": "op", "zone": "zones/a b"}),
        ] {
            assert!(wait_path("p", &op).is_err(), "{op}");
        }
    }
}
