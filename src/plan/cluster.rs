//! The Swarm formation and the stack as wanted resources: one [`Desired`]
//! per `swarm.*` and `stack.*` node of the graph, planned by the same rules
//! as the Compute Engine resources (created when the state does not know
//! them, compared with what the state recorded, deleted when the program no
//! longer has them). Their bodies are what the Swarm executor needs and what
//! a later plan compares: a member's VM, group and role; the network's
//! create body; a secret's or config's content-hashed object name (never a
//! secret's value); a service's spec with secrets and configs by name.
//!
//! Their collection is [`SWARM_COLLECTION`] or [`STACK_COLLECTION`], which
//! no Compute Engine refresh lists; what the cluster itself says is added by
//! `exec::cluster` when a manager can be reached.

use serde_json::{Value, json};

use super::{Action, Desired, Location};
use crate::graph::{DepGraph, Layer, NodeKind};
use crate::model::{Model, SwarmRole};
use crate::targets::body::Body;
use crate::targets::stack::ObjectNames;
use crate::targets::stack::engine::StackObjects;

/// The collection of the Swarm's members in plans and the state.
pub const SWARM_COLLECTION: &str = "swarm";
/// The collection of the stack's objects in plans and the state.
pub const STACK_COLLECTION: &str = "stack";

/// The resource kinds of the cluster layers (as plans and the state name them).
pub const SWARM_NODE: &str = "swarm-node";
pub const STACK_NETWORK: &str = "stack-network";
pub const STACK_SECRET: &str = "secret";
pub const STACK_CONFIG: &str = "config";
pub const STACK_SERVICE: &str = "service";

/// Whether `kind` is one of the cluster layers' kinds: every change to one
/// is made in place (an update), never by deleting first.
pub fn is_cluster_kind(kind: &str) -> bool {
    [
        SWARM_NODE,
        STACK_NETWORK,
        STACK_SECRET,
        STACK_CONFIG,
        STACK_SERVICE,
    ]
    .contains(&kind)
}

/// The wanted `swarm.*` and `stack.*` resources of `model`, one per graph
/// node, each depending on the graph's prerequisites of its node.
pub fn cluster_desired(
    graph: &DepGraph,
    model: &Model,
    names: &ObjectNames,
    objects: &StackObjects,
) -> Vec<Desired> {
    let first_manager = model.vms.iter().find(|v| v.swarm == SwarmRole::Manager);
    graph
        .ids()
        .filter(|id| matches!(id.layer(), Layer::Swarm | Layer::Stack))
        .filter_map(|id| {
            let (kind, name, body) = match id.kind() {
                NodeKind::SwarmInit => member(model, first_manager?.name.as_str())?,
                NodeKind::SwarmJoin => member(model, id.name())?,
                NodeKind::StackNetwork => (
                    STACK_NETWORK,
                    objects.network_name(),
                    objects.network.clone(),
                ),
                NodeKind::StackSecret => {
                    let object = names.secrets.get(id.name())?;
                    (STACK_SECRET, object.clone(), json!({ "name": object }))
                }
                NodeKind::StackConfig => {
                    let object = names.configs.get(id.name())?;
                    (STACK_CONFIG, object.clone(), json!({ "name": object }))
                }
                NodeKind::StackService => {
                    let s = objects.services.iter().find(|s| s.name == id.name())?;
                    (STACK_SERVICE, s.full_name.clone(), s.spec.clone())
                }
                _ => return None,
            };
            let collection = match id.layer() {
                Layer::Swarm => SWARM_COLLECTION,
                _ => STACK_COLLECTION,
            };
            Some(Desired {
                node: id.clone(),
                kind: kind.to_string(),
                name,
                collection: collection.to_string(),
                location: Location::Global,
                body: Body::of_value(&body),
                depends_on: graph
                    .prerequisites(id.as_str())
                    .into_iter()
                    .cloned()
                    .collect(),
            })
        })
        .collect()
}

/// A Swarm member's kind, name and body: the VM, its group and role.
fn member(model: &Model, vm: &str) -> Option<(&'static str, String, Value)> {
    let v = model.vms.iter().find(|v| v.name == vm)?;
    let role = match v.swarm {
        SwarmRole::Manager => "manager",
        SwarmRole::Worker => "worker",
        SwarmRole::None => return None,
    };
    let body = json!({ "vm": v.name, "group": v.group, "role": role, "zone": v.zone });
    Some((SWARM_NODE, v.name.clone(), body))
}

/// A member joins again when its VM is made (again) in the same plan: the
/// new VM is not in the Swarm, whatever the state says of the old one.
pub fn rejoin_new_vms(plan: &mut super::Plan, wanted: &[Desired]) {
    let remade: Vec<String> = plan
        .changes
        .iter()
        .filter(|c| c.node.kind() == NodeKind::Vm)
        .filter(|c| matches!(c.action, Action::Create | Action::Replace))
        .map(|c| c.node.name().to_string())
        .collect();
    for c in &mut plan.changes {
        let is_member = matches!(c.node.kind(), NodeKind::SwarmInit | NodeKind::SwarmJoin);
        if is_member && c.action == Action::NoOp && remade.contains(&c.name) {
            c.action = Action::Create;
            c.reason = Some(String::from("its VM is made again"));
            c.body = wanted
                .iter()
                .find(|d| d.node == c.node)
                .map(|d| d.body.clone());
        }
    }
}

/// Why a manager's member step runs when its VM restarts.
pub const VM_RESTARTS: &str = "its VM restarts";

/// A manager whose VM restarts in place in the same plan (`update with
/// restart`) gets a member change: its step waits until the node is back
/// in the Swarm and reachable, and the next manager's VM waits for that
/// step (`docs/decisions/0019-managers-restart-in-turn.md`). A worker's
/// restart needs no such step: no quorum waits on it, and its engine
/// rejoins by itself.
pub fn rejoin_restarted_managers(plan: &mut super::Plan, wanted: &[Desired]) {
    let restarted: Vec<String> = plan
        .changes
        .iter()
        .filter(|c| c.node.kind() == NodeKind::Vm && c.action == Action::UpdateRestart)
        .map(|c| c.node.name().to_string())
        .collect();
    for c in &mut plan.changes {
        let is_member = matches!(c.node.kind(), NodeKind::SwarmInit | NodeKind::SwarmJoin);
        if !is_member || c.action != Action::NoOp || !restarted.contains(&c.name) {
            continue;
        }
        let Some(want) = wanted.iter().find(|d| d.node == c.node) else {
            continue;
        };
        if want.body.kept_value()["role"] == "manager" {
            c.action = Action::Update;
            c.reason = Some(String::from(VM_RESTARTS));
            c.body = Some(want.body.clone());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::graph::NodeId;
    use crate::plan::{Change, Plan};

    fn member_wanted(node: &str, vm: &str, role: &str) -> Desired {
        Desired {
            node: node.parse().expect("node id"),
            kind: SWARM_NODE.to_string(),
            name: vm.to_string(),
            collection: SWARM_COLLECTION.to_string(),
            location: Location::Global,
            body: json!({ "vm": vm, "group": "g", "role": role, "zone": "z" }).into(),
            depends_on: vec![NodeId::vm(vm)],
        }
    }

    fn change(d: &Desired, action: Action) -> Change {
        Change {
            action,
            ..Change::create(d)
        }
    }

    #[test]
    fn a_manager_whose_vm_restarts_gets_a_member_step_and_a_worker_does_not() {
        let wanted = vec![
            member_wanted("swarm.init", "manager-0", "manager"),
            member_wanted("swarm.join.manager-1", "manager-1", "manager"),
            member_wanted("swarm.join.worker-0", "worker-0", "worker"),
        ];
        let vm = |name: &str, action| {
            let d = Desired {
                node: NodeId::vm(name),
                kind: String::from("instance"),
                collection: String::from("projects/p/zones/z/instances"),
                ..member_wanted("swarm.init", name, "")
            };
            change(&d, action)
        };
        let mut plan = Plan {
            version: 2,
            stack: String::from("s"),
            project: None,
            state_lineage: String::new(),
            state_serial: 0,
            refreshed: false,
            changes: vec![
                vm("manager-0", Action::UpdateRestart),
                vm("manager-1", Action::NoOp),
                vm("worker-0", Action::UpdateRestart),
            ],
            source: String::new(),
            conflicts: Vec::new(),
            outputs: Vec::new(),
        };
        plan.changes
            .extend(wanted.iter().map(|d| change(d, Action::NoOp)));
        rejoin_restarted_managers(&mut plan, &wanted);
        let of = |node: &str| {
            let c = plan
                .changes
                .iter()
                .find(|c| c.node.as_str() == node)
                .expect("planned");
            (c.action, c.reason.clone())
        };
        assert_eq!(
            of("swarm.init"),
            (Action::Update, Some(VM_RESTARTS.to_string()))
        );
        assert_eq!(of("swarm.join.manager-1"), (Action::NoOp, None));
        assert_eq!(of("swarm.join.worker-0"), (Action::NoOp, None));
    }
}
