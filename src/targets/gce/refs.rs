//! Placeholders for values known only once another resource exists.
//!
//! A placeholder is a whole JSON string value of the form
//! `${NODE.FIELD}`, where `NODE` is a graph node id that the call lists in
//! `depends_on` and `FIELD` a field of that resource as `get` returns it, e.g.
//! `"natIP": "${gce.address.manager-0.address}"`. Before sending a call,
//! `apply` replaces every placeholder with [`substitute`]. Only strings that
//! are exactly one placeholder with a `gce.` node are placeholders, so text
//! such as a shell script's `${HOME}` inside user-data is never touched.

use serde_json::Value;

use crate::graph::NodeId;

/// The placeholder for `field` of `node`: `${NODE.FIELD}`.
pub fn placeholder(node: &NodeId, field: &str) -> String {
    format!("${{{node}.{field}}}")
}

/// `(node, field)` if `s` is a placeholder.
pub fn parse(s: &str) -> Option<(&str, &str)> {
    let inner = s.strip_prefix("${")?.strip_suffix('}')?;
    if inner.contains(['{', '}', '$']) {
        return None;
    }
    let (node, field) = inner.rsplit_once('.')?;
    let is_gce = node.parse::<NodeId>().is_ok_and(|id| id.kind().is_gce());
    (!field.is_empty() && is_gce).then_some((node, field))
}

/// Every `(node, field)` referenced in `body`, sorted and without repeats.
pub fn references(body: &Value) -> Vec<(String, String)> {
    let mut out = Vec::new();
    visit(body, &mut |s| {
        if let Some((n, f)) = parse(s) {
            out.push((n.to_owned(), f.to_owned()));
        }
    });
    out.sort();
    out.dedup();
    out
}

fn visit(v: &Value, f: &mut impl FnMut(&str)) {
    match v {
        Value::String(s) => f(s),
        Value::Array(a) => a.iter().for_each(|x| visit(x, f)),
        Value::Object(o) => o.values().for_each(|x| visit(x, f)),
        _ => {}
    }
}

/// A placeholder whose value `lookup` did not know.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{node}` has no known `{field}` yet")]
pub struct Unresolved {
    pub node: String,
    pub field: String,
}

/// `body` with every placeholder replaced by `lookup(node, field)`.
pub fn substitute(
    body: &Value,
    lookup: &dyn Fn(&str, &str) -> Option<String>,
) -> Result<Value, Unresolved> {
    Ok(match body {
        Value::String(s) => match parse(s) {
            Some((node, field)) => match lookup(node, field) {
                Some(v) => Value::String(v),
                None => {
                    return Err(Unresolved {
                        node: node.to_owned(),
                        field: field.to_owned(),
                    });
                }
            },
            None => body.clone(),
        },
        Value::Array(a) => Value::Array(
            a.iter()
                .map(|x| substitute(x, lookup))
                .collect::<Result<_, _>>()?,
        ),
        Value::Object(o) => Value::Object(
            o.iter()
                .map(|(k, x)| Ok((k.clone(), substitute(x, lookup)?)))
                .collect::<Result<_, _>>()?,
        ),
        other => other.clone(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn placeholders_round_trip() {
        let p = placeholder(&NodeId::address("manager-0"), "address");
        assert_eq!(p, "${gce.address.manager-0.address}");
        assert_eq!(parse(&p), Some(("gce.address.manager-0", "address")));
        assert_eq!(parse("${HOME}"), None);
        assert_eq!(parse("x ${gce.address.a.address}"), None);
    }

    #[test]
    fn substitute_replaces_only_placeholders() {
        let body = json!({"a": ["${gce.address.m.address}", "${HOME}"], "n": 1});
        assert_eq!(
            references(&body),
            vec![("gce.address.m".into(), "address".into())]
        );
        let out = substitute(&body, &|n, f| {
            (n == "gce.address.m" && f == "address").then(|| "203.0.113.7".into())
        });
        assert_eq!(out, Ok(json!({"a": ["203.0.113.7", "${HOME}"], "n": 1})));
        let err = substitute(&body, &|_, _| None);
        assert_eq!(err.map_err(|e| e.node), Err(String::from("gce.address.m")));
    }
}
