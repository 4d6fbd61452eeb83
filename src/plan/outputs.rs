//! The program's `output`s as `plan`, `apply` and `sdbc output` show them.
//! A value the program knows is shown as it is; one known only after apply
//! (an address's IP) is read from what Compute Engine assigned, as the
//! state recorded it, unless the plan is about to make that resource anew.

use std::fmt::Write as _;

use serde::{Deserialize, Serialize};

use super::{Action, Change};
use crate::model::{Output, OutputValue};
use crate::state::State;

/// One output with its value, if known.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ShownOutput {
    pub name: String,
    /// `None` until the resource it comes from exists.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value: Option<String>,
    /// Where a value known only after apply comes from: `external_ip of gce.vm.web`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub after_apply: Option<String>,
}

/// The outputs with the values `state` holds; values of resources that
/// `changes` create or replace are not known yet.
pub fn resolve(outputs: &[Output], state: &State, changes: &[Change]) -> Vec<ShownOutput> {
    let remade = |node: &str| {
        changes
            .iter()
            .any(|c| c.node == node && matches!(c.action, Action::Create | Action::Replace))
    };
    outputs
        .iter()
        .map(|o| match &o.value {
            OutputValue::Known(v) => ShownOutput {
                name: o.name.clone(),
                value: Some(v.clone()),
                after_apply: None,
            },
            OutputValue::AfterApply { resource, field } => ShownOutput {
                name: o.name.clone(),
                value: state
                    .resources
                    .get(resource.as_str())
                    .filter(|_| !remade(resource.as_str()))
                    .and_then(|r| r.assigned.get(field))
                    .cloned(),
                after_apply: Some(format!("{field} of {resource}")),
            },
        })
        .collect()
}

/// `Outputs:` and one `NAME = VALUE` line each; empty with no outputs.
pub fn human(outputs: &[ShownOutput]) -> String {
    let mut out = String::new();
    if outputs.is_empty() {
        return out;
    }
    let _ = writeln!(out, "\nOutputs:");
    let width = outputs.iter().map(|o| o.name.len()).max().unwrap_or(0);
    for o in outputs {
        let value = match (&o.value, &o.after_apply) {
            (Some(v), _) => v.clone(),
            (None, Some(from)) => format!("(known after apply: {from})"),
            (None, None) => String::from("(unknown)"),
        };
        let _ = writeln!(out, "  {:<width$} = {value}", o.name);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::state::ResourceState;

    fn outputs() -> Vec<Output> {
        vec![
            Output {
                name: String::from("url"),
                value: OutputValue::Known(String::from("https://forum.example")),
                span: Default::default(),
            },
            Output {
                name: String::from("ip"),
                value: OutputValue::AfterApply {
                    resource: crate::graph::NodeId::address("lb-ip"),
                    field: String::from("address"),
                },
                span: Default::default(),
            },
        ]
    }

    #[test]
    fn known_values_and_values_from_state() {
        let mut state = State::new("s");
        let shown = resolve(&outputs(), &state, &[]);
        assert_eq!(shown[0].value.as_deref(), Some("https://forum.example"));
        assert_eq!(shown[1].value, None);
        assert!(human(&shown).contains("ip  = (known after apply: address of gce.address.lb-ip)"));
        let mut r = ResourceState::default();
        r.assigned
            .insert(String::from("address"), String::from("34.1.2.3"));
        state.resources.insert(String::from("gce.address.lb-ip"), r);
        let shown = resolve(&outputs(), &state, &[]);
        assert_eq!(shown[1].value.as_deref(), Some("34.1.2.3"));
        assert!(human(&shown).contains("ip  = 34.1.2.3"));
    }
}
