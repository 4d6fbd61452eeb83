//! What `plan`, `apply` and `destroy` need of the program's Swarm and
//! stack besides its Compute Engine resources: the members and the stack
//! objects for the cluster executor, the layers a run is limited to
//! (`SDBC_LAYERS`), the secrets generated before apply names their
//! objects, and the stack's SSH key when one exists.

use std::path::Path;

use crate::exec::cluster::MemberSpec;
use crate::graph::Layer;

/// The program's Swarm and stack, for the cluster executor.
pub struct ClusterProgram {
    pub objects: crate::targets::stack::engine::StackObjects,
    /// By VM name.
    pub members: std::collections::BTreeMap<String, MemberSpec>,
    pub first_manager: Option<String>,
    /// The model's secret names.
    pub secrets: Vec<String>,
}

/// The environment variable that limits a run to some layers.
pub const LAYERS_ENV: &str = "SDBC_LAYERS";

/// The layers named by `SDBC_LAYERS` (comma-separated), or all of them.
pub fn layers() -> Result<Vec<Layer>, String> {
    let Ok(text) = std::env::var(LAYERS_ENV) else {
        return Ok(Layer::ALL.to_vec());
    };
    text.split(',')
        .map(str::trim)
        .filter(|w| !w.is_empty())
        .map(|w| {
            Layer::ALL
                .into_iter()
                .find(|l| l.as_str() == w)
                .ok_or_else(|| {
                    format!("{LAYERS_ENV}: unknown layer `{w}` (cloud, hosts, swarm, stack)")
                })
        })
        .collect()
}

/// Generates a value for every secret of `model` that has none yet.
pub fn generate_secrets(path: &Path, model: &crate::model::Model) -> Result<(), String> {
    if model.secrets.is_empty() {
        return Ok(());
    }
    let store = crate::state::SecretStore::for_source(path, &model.stack)
        .map_err(|e| format!("the secrets store: {e}"))?;
    for s in &model.secrets {
        store
            .get_or_generate(&s.name)
            .map_err(|e| format!("secret `{}`: {e}", s.name))?;
    }
    Ok(())
}

/// The Swarm members and the stack objects of `model`.
pub fn cluster_program(
    model: &crate::model::Model,
    objects: crate::targets::stack::engine::StackObjects,
) -> ClusterProgram {
    use crate::exec::swarm::Role;
    use crate::model::SwarmRole;
    let first_manager = model
        .vms
        .iter()
        .find(|v| v.swarm == SwarmRole::Manager)
        .map(|v| v.name.clone());
    let members = model
        .vms
        .iter()
        .filter_map(|v| {
            let role = match v.swarm {
                SwarmRole::Manager => Role::Manager,
                SwarmRole::Worker => Role::Worker,
                SwarmRole::None => return None,
            };
            let spec = MemberSpec {
                group: v.group.to_string(),
                role,
                zone: v.zone.to_string(),
                internal_ip: v.internal_ip.clone(),
                first: first_manager.as_deref() == Some(v.name.as_str()),
            };
            Some((v.name.clone(), spec))
        })
        .collect();
    ClusterProgram {
        objects,
        members,
        first_manager,
        secrets: model.secrets.iter().map(|s| s.name.clone()).collect(),
    }
}

/// The stack's SSH key if one was made (a plan never makes one).
pub fn stack_key_if_any(l: &super::deploy::Loaded) -> Option<russh::keys::ssh_key::PrivateKey> {
    let store = crate::state::SecretStore::for_source(&l.source, &l.stack).ok()?;
    let text = store.get(crate::exec::reach::STACK_KEY_SECRET).ok()??;
    crate::exec::ssh::private_key_from_openssh(text.expose()).ok()
}

/// Refuses a plan that takes more Swarm managers away in one step than the
/// Swarm can lose (3 -> 1 loses the Raft quorum), naming steps that work:
/// the state's manager members against the wanted ones. Growing, keeping
/// the count and destroying the whole stack are always allowed.
pub fn refuse_quorum_loss(
    state: &crate::state::State,
    wanted: &[crate::plan::Desired],
) -> Result<(), String> {
    use crate::plan::cluster::SWARM_NODE;
    let from = state
        .resources
        .values()
        .filter(|r| r.kind == SWARM_NODE && r.attributes.value()["role"] == "manager")
        .count();
    let to = wanted
        .iter()
        .filter(|d| d.kind == SWARM_NODE && d.body.kept_value()["role"] == "manager")
        .count();
    if to == 0 {
        return Ok(());
    }
    crate::exec::swarm::check_manager_change(from, to).map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::refuse_quorum_loss;
    use crate::graph::{NodeId, NodeKind};
    use crate::plan::cluster::SWARM_NODE;
    use crate::plan::{Desired, Location};
    use crate::state::{Attributes, ResourceState, State};
    use serde_json::json;

    fn member(vm: &str, role: &str) -> serde_json::Value {
        json!({ "vm": vm, "group": "manager", "role": role, "zone": "europe-west1-b" })
    }

    fn state_with(managers: usize) -> State {
        let mut state = State::new("misago");
        for i in 0..managers {
            let vm = format!("manager-{i}");
            state.resources.insert(
                NodeId::new(NodeKind::SwarmJoin, &vm).to_string(),
                ResourceState {
                    kind: SWARM_NODE.to_string(),
                    name: vm.clone(),
                    attributes: Attributes::of_sent(&member(&vm, "manager")),
                    ..ResourceState::default()
                },
            );
        }
        state
    }

    fn wanted(managers: usize) -> Vec<Desired> {
        (0..managers)
            .map(|i| {
                let vm = format!("manager-{i}");
                Desired {
                    node: NodeId::new(NodeKind::SwarmJoin, &vm),
                    kind: SWARM_NODE.to_string(),
                    name: vm.clone(),
                    collection: String::from("swarm"),
                    location: Location::Global,
                    body: member(&vm, "manager").into(),
                    depends_on: Vec::new(),
                }
            })
            .collect()
    }

    #[test]
    fn three_managers_to_one_in_one_step_is_refused_with_the_steps() {
        let err = refuse_quorum_loss(&state_with(3), &wanted(1)).expect_err("loses the quorum");
        assert!(err.contains("3 -> 2 -> 1"), "{err}");
        assert!(refuse_quorum_loss(&state_with(3), &wanted(2)).is_ok());
        assert!(refuse_quorum_loss(&state_with(1), &wanted(3)).is_ok());
        assert!(
            refuse_quorum_loss(&state_with(3), &wanted(0)).is_ok(),
            "destroying all"
        );
        assert!(
            refuse_quorum_loss(&state_with(0), &wanted(3)).is_ok(),
            "a first apply"
        );
    }
}
