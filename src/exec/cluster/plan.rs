//! What a plan learns from the cluster. Offline (no Swarm in the state, no
//! stack key, or no manager answering) the stack's changes come from the
//! state alone, a service's update shown with [`service_diffs`] against the
//! spec last applied. When the first manager answers, the stack's changes
//! are what [`changes`] finds on it (one listing call per object kind): an
//! object the cluster lacks is a create, a service whose spec differs an
//! update with its attribute differences, and an object the cluster has
//! but the state lost is adopted, a service update planned from the state
//! that the cluster already runs (a count `sdbc scale` set) is no change;
//! a member the Swarm has no node of joins again. A manager presenting a host key other
//! than the pinned one is an error naming its VM: nothing is planned, so
//! nothing runs.

use std::collections::BTreeSet;
use std::time::Duration;

use russh::keys::ssh_key::PrivateKey;

use crate::exec::reach;
use crate::exec::ssh::{SshError, SshSession};
use crate::exec::stack::{StackChanges, changes, service_diffs};
use crate::graph::{Layer, NodeId, NodeKind};
use crate::plan::cluster::STACK_SERVICE;
use crate::plan::{Action, Desired, Plan};
use crate::state::State;
use crate::targets::stack::engine::StackObjects;

/// How long a plan waits for the first manager before planning from the state.
const PROBE_TIMEOUT: Duration = Duration::from_secs(10);

/// Why the plan could not use the cluster.
#[derive(Debug, thiserror::Error)]
pub enum ProbeError {
    /// The manager is not who the state says: refuse to plan.
    #[error("{0}")]
    HostKey(SshError),
}

/// Shows each service update planned from the state with its attribute
/// differences (replicas, image, env by name, secret and config by digest).
pub fn diffs_from_state(plan: &mut Plan, state: &State) {
    for c in &mut plan.changes {
        if c.kind != STACK_SERVICE || c.action != Action::Update {
            continue;
        }
        let (Some(before), Some(after)) = (state.resources.get(c.node.as_str()), &c.body) else {
            continue;
        };
        c.diffs = service_diffs(&before.attributes.value(), &after.to_value());
    }
}

/// Refines the plan's stack changes with what the first manager reports;
/// `Ok(Some(note))` when it could not be asked (the plan stays as the
/// state says).
pub async fn refine(
    plan: &mut Plan,
    state: &State,
    wanted: &[Desired],
    objects: &StackObjects,
    key: Option<&PrivateKey>,
    first_manager: Option<&str>,
) -> Result<Option<String>, ProbeError> {
    let (Some(key), Some(vm)) = (key, first_manager) else {
        return Ok(None);
    };
    let Some(member) = state
        .resources
        .get(NodeId::new(NodeKind::SwarmInit, "").as_str())
    else {
        return Ok(None);
    };
    let vm_entry = state.resources.get(NodeId::vm(vm).as_str());
    let assigned = vm_entry.map(|r| r.assigned.clone()).unwrap_or_default();
    let mut target = match reach::target(vm, &assigned) {
        Ok(t) => t,
        Err(e) => return Ok(Some(format!("the stack is planned from the state: {e}"))),
    };
    target.host_keys = reach::pinned(&member.assigned);
    let session = match tokio::time::timeout(PROBE_TIMEOUT, SshSession::connect(&target, key)).await
    {
        Ok(Ok(s)) => s,
        Ok(Err(e @ SshError::HostKeyMismatch { .. })) => return Err(ProbeError::HostKey(e)),
        Ok(Err(e)) => return Ok(Some(format!("the stack is planned from the state: {e}"))),
        Err(_) => {
            return Ok(Some(format!(
                "the stack is planned from the state: manager `{vm}` did not answer within {}s",
                PROBE_TIMEOUT.as_secs()
            )));
        }
    };
    let engine = session.engine();
    let found = match changes(&engine, objects).await {
        Ok(f) => f,
        Err(e) => return Ok(Some(format!("the stack is planned from the state: {e}"))),
    };
    apply_found(plan, wanted, objects, &found);
    // One listing call: a member the state knows but the Swarm does not
    // have ready (it left, its node was removed, its engine is down) is
    // joined again (which leaves a member that is in fact fine alone).
    if let Ok(nodes) = crate::exec::swarm::list_nodes(&engine).await {
        let joined: BTreeSet<&str> = nodes
            .iter()
            .filter(|n| n.state == "ready")
            .filter_map(|n| n.vm())
            .collect();
        rejoin_missing(plan, wanted, &joined);
    }
    Ok(None)
}

/// Members planned as unchanged whose VM has no node in the Swarm: created again.
fn rejoin_missing(plan: &mut Plan, wanted: &[Desired], joined: &BTreeSet<&str>) {
    for c in &mut plan.changes {
        let member = matches!(c.node.kind(), NodeKind::SwarmInit | NodeKind::SwarmJoin);
        if member && c.action == Action::NoOp && !joined.contains(c.name.as_str()) {
            c.action = Action::Create;
            c.reason = Some(String::from("the Swarm has no ready node of this VM"));
            c.body = wanted
                .iter()
                .find(|d| d.node == c.node)
                .map(|d| d.body.clone());
        }
    }
}

/// What `found` (the cluster's view) means for each stack change.
fn apply_found(plan: &mut Plan, wanted: &[Desired], objects: &StackObjects, found: &StackChanges) {
    for c in &mut plan.changes {
        if c.node.layer() != Layer::Stack || c.action == Action::Delete {
            continue;
        }
        let key = match c.node.kind() {
            NodeKind::StackNetwork => format!("network {}", objects.network_name()),
            NodeKind::StackSecret => format!("secret {}", c.name),
            NodeKind::StackConfig => format!("config {}", c.name),
            _ => format!("service {}", c.name),
        };
        let body = || {
            wanted
                .iter()
                .find(|d| d.node == c.node)
                .map(|d| d.body.clone())
        };
        if found.create.contains(&key) {
            if c.action != Action::Create {
                c.reason = Some(String::from("the cluster does not have it"));
            }
            c.action = Action::Create;
            c.diffs.clear();
            c.body = body();
        } else if found.update.contains(&key) {
            c.action = Action::Update;
            c.diffs = found.diffs.get(&key).cloned().unwrap_or_default();
            c.body = body();
        } else if c.action == Action::Create {
            c.action = Action::Adopt;
            c.reason = Some(String::from("it exists but the state lost track of it"));
        } else if c.action == Action::Update && c.node.kind() == NodeKind::StackService {
            // The cluster runs what the program wants (its spec hash and
            // replica count match), though the state recorded another
            // count: `sdbc scale` changed it and wrote it into the file.
            c.action = Action::NoOp;
            c.diffs.clear();
            c.body = None;
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::plan::{Change, Location, PLAN_VERSION};
    use crate::state::ResourceState;

    fn spec(replicas: u64, image: &str) -> serde_json::Value {
        json!({
            "Name": "s_api",
            "Mode": { "Replicated": { "Replicas": replicas } },
            "TaskTemplate": { "ContainerSpec": { "Image": image, "Env": ["A=1"] } },
        })
    }

    #[test]
    fn a_service_update_planned_from_the_state_names_what_differs() {
        let node: NodeId = "stack.service.api".parse().expect("id");
        let mut state = State::new("s");
        state.resources.insert(
            node.to_string(),
            ResourceState {
                kind: STACK_SERVICE.into(),
                name: "s_api".into(),
                attributes: crate::state::Attributes::of_sent(&spec(2, "busybox:1")),
                ..ResourceState::default()
            },
        );
        let change = Change {
            node,
            kind: STACK_SERVICE.into(),
            name: "s_api".into(),
            location: Location::Global,
            action: Action::Update,
            reason: None,
            diffs: Vec::new(),
            data_loss: None,
            collection: "stack".into(),
            body: Some(spec(3, "busybox:2").into()),
            depends_on: Vec::new(),
        };
        let mut plan = Plan {
            version: PLAN_VERSION,
            stack: "s".into(),
            project: None,
            state_lineage: state.lineage.clone(),
            state_serial: 0,
            refreshed: false,
            changes: vec![change],
            source: String::new(),
            conflicts: Vec::new(),
            outputs: Vec::new(),
        };
        diffs_from_state(&mut plan, &state);
        let paths: Vec<&str> = plan.changes[0]
            .diffs
            .iter()
            .map(|d| d.path.as_str())
            .collect();
        assert_eq!(paths, ["replicas", "image"]);
        let text = crate::plan::render::human(&plan, false);
        assert!(text.contains("~ replicas: 2 -> 3"), "{text}");
        assert!(
            text.contains("~ image: \"busybox:1\" -> \"busybox:2\""),
            "{text}"
        );
    }
    /// A service update the state implies (it recorded 2 replicas, the
    /// file says 3) that the cluster already runs is no change; one the
    /// cluster reports is an update with the cluster's differences.
    #[test]
    fn the_cluster_decides_a_service_update() {
        let change = |name: &str| Change {
            node: format!("stack.service.{name}").parse().expect("id"),
            kind: STACK_SERVICE.into(),
            name: format!("s_{name}"),
            location: Location::Global,
            action: Action::Update,
            reason: None,
            diffs: vec![crate::plan::AttrDiff {
                path: "Mode.Replicated.Replicas".into(),
                before: Some(json!(2)),
                after: Some(json!(3)),
            }],
            data_loss: None,
            collection: "stack".into(),
            body: Some(spec(3, "busybox:1").into()),
            depends_on: Vec::new(),
        };
        let mut plan = Plan {
            version: PLAN_VERSION,
            stack: "s".into(),
            project: None,
            state_lineage: String::new(),
            state_serial: 0,
            refreshed: true,
            changes: vec![change("api"), change("web")],
            source: String::new(),
            conflicts: Vec::new(),
            outputs: Vec::new(),
        };
        let found = StackChanges {
            update: vec!["service s_web".into()],
            ..StackChanges::default()
        };
        let objects = StackObjects {
            stack: "s".into(),
            network: json!({}),
            secrets: Default::default(),
            configs: Default::default(),
            services: Vec::new(),
        };
        apply_found(&mut plan, &[], &objects, &found);
        assert_eq!(plan.changes[0].action, Action::NoOp);
        assert!(plan.changes[0].diffs.is_empty());
        assert_eq!(plan.changes[1].action, Action::Update);
    }
}
