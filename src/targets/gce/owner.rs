//! The owner mark: how a Compute Engine resource says which sdbc stack and
//! which state made it, and how to read that back.
//!
//! Resources with labels (addresses, disks, instances and their boot disks)
//! carry `sdbc-managed: "true"`, `sdbc-stack: STACK` and `sdbc-lineage:
//! LINEAGE`; networks, subnetworks and firewalls have no labels, so their
//! `description` starts with `sdbc-managed sdbc-stack=STACK
//! sdbc-lineage=LINEAGE: `. The lineage is the state's random id, known only
//! when applying: bodies carry the [`LINEAGE`] placeholder, which apply
//! replaces (like `{project}`), so `build` output stays the same whatever
//! state exists.
//!
//! A resource is a stack's only when both its stack and lineage match: a
//! second program with the same stack name (another state) and a hand-made
//! resource with the program's name are someone else's.

use std::fmt;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::names;

/// The placeholder for the state lineage in request bodies.
pub const LINEAGE: &str = "{lineage}";
/// Label keys of the mark.
pub const MANAGED_LABEL: &str = "sdbc-managed";
pub const STACK_LABEL: &str = "sdbc-stack";
pub const LINEAGE_LABEL: &str = "sdbc-lineage";

/// The start of the description of a resource without labels.
pub fn description_prefix(stack: &str, lineage: &str) -> String {
    format!("{MANAGED_LABEL} {STACK_LABEL}={stack} {LINEAGE_LABEL}={lineage}")
}

/// The mark's label pairs for `stack` (the lineage as a placeholder).
pub fn labels(stack: &str) -> [(String, String); 3] {
    [
        (MANAGED_LABEL.to_string(), String::from("true")),
        (STACK_LABEL.to_string(), names::label_value(stack)),
        (LINEAGE_LABEL.to_string(), LINEAGE.to_string()),
    ]
}

/// Who made a resource, as its mark says.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "made_by", rename_all = "kebab-case")]
pub enum Owner {
    /// An sdbc stack (the lineage is absent on marks older than lineages).
    Stack {
        stack: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        lineage: Option<String>,
    },
    /// No sdbc mark at all.
    NotSdbc,
}

impl fmt::Display for Owner {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Owner::Stack {
                stack,
                lineage: Some(l),
            } => write!(f, "stack `{stack}` (state lineage {l})"),
            Owner::Stack {
                stack,
                lineage: None,
            } => write!(f, "stack `{stack}` (made before sdbc marked lineages)"),
            Owner::NotSdbc => f.write_str("nobody sdbc knows: it was not made by sdbc"),
        }
    }
}

impl Owner {
    /// Reads the mark of a resource as the API returns it.
    pub fn of(resource: &Value) -> Owner {
        if let Some(labels) = resource.get("labels").and_then(Value::as_object)
            && labels.get(MANAGED_LABEL).and_then(Value::as_str) == Some("true")
            && let Some(stack) = labels.get(STACK_LABEL).and_then(Value::as_str)
        {
            return Owner::Stack {
                stack: stack.to_string(),
                lineage: labels
                    .get(LINEAGE_LABEL)
                    .and_then(Value::as_str)
                    .map(str::to_string),
            };
        }
        let description = resource
            .get("description")
            .and_then(Value::as_str)
            .unwrap_or("");
        let Some(rest) = description.strip_prefix(&format!("{MANAGED_LABEL} {STACK_LABEL}="))
        else {
            return Owner::NotSdbc;
        };
        let head = rest.split(':').next().unwrap_or("");
        let mut words = head.split(' ');
        let stack = words.next().unwrap_or("").to_string();
        let lineage = words
            .find_map(|w| w.strip_prefix(&format!("{LINEAGE_LABEL}=")))
            .map(str::to_string);
        Owner::Stack { stack, lineage }
    }

    /// Whether this is the mark of `stack` with state `lineage`.
    pub fn is(&self, stack: &str, lineage: &str) -> bool {
        match self {
            Owner::Stack {
                stack: s,
                lineage: Some(l),
            } => (s == stack || *s == names::label_value(stack)) && l == lineage,
            _ => false,
        }
    }
}

impl Owner {
    /// Whether this is `stack`'s mark from before marks carried a lineage:
    /// the stack's only for a state that already tracks the resource (the
    /// next update adds the lineage where there are labels).
    pub fn is_unlineaged(&self, stack: &str) -> bool {
        matches!(self, Owner::Stack { stack: s, lineage: None }
            if s == stack || *s == names::label_value(stack))
    }
}

/// `text` with the lineage placeholder replaced.
pub fn with_lineage(text: &str, lineage: &str) -> String {
    text.replace(LINEAGE, lineage)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const L: &str = "0b6f5d7e-1111-4222-8333-944455556666";

    #[test]
    fn labels_and_descriptions_read_back() {
        let labelled =
            json!({"labels": {"sdbc-managed": "true", "sdbc-stack": "a", "sdbc-lineage": L}});
        assert!(Owner::of(&labelled).is("a", L));
        assert!(!Owner::of(&labelled).is("b", L));
        assert!(!Owner::of(&labelled).is("a", "other"));
        let described = json!({"description": format!("{}: firewall", description_prefix("a", L))});
        assert_eq!(Owner::of(&described), Owner::of(&labelled));
        let old = json!({"description": "sdbc-managed sdbc-stack=a: network"});
        assert_eq!(
            Owner::of(&old),
            Owner::Stack {
                stack: "a".into(),
                lineage: None
            }
        );
        assert!(!Owner::of(&old).is("a", L));
        let hand_made = json!({"description": "my data", "labels": {"team": "x"}});
        assert_eq!(Owner::of(&hand_made), Owner::NotSdbc);
        assert!(Owner::NotSdbc.to_string().contains("not made by sdbc"));
    }
}
