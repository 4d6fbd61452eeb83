//! The Swarm's nodes as a manager lists them: labels and roles after a
//! formation, stale nodes, and removing a node before its VM goes.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use super::{DRAIN_TIMEOUT, LABEL_VM, Member, Outcome, Role, SwarmError, local_state};
use crate::exec::engine::{Engine, EngineError, query_value};

/// One node, from `GET /nodes`.
#[derive(Debug, Clone, PartialEq)]
pub struct NodeInfo {
    pub id: String,
    pub hostname: String,
    /// `manager` or `worker` (the desired role, from the spec).
    pub role: String,
    /// `active`, `pause` or `drain`.
    pub availability: String,
    /// `ready`, `down`, `unknown`, `disconnected`.
    pub state: String,
    pub labels: BTreeMap<String, String>,
    /// For managers: `reachable` or `unreachable`.
    pub reachability: Option<String>,
    /// For managers: whether it is the Raft leader.
    pub leader: bool,
    /// `Description.Engine.EngineVersion`.
    pub engine_version: String,
    version: u64,
    spec: Value,
}

impl NodeInfo {
    fn from_json(v: &Value) -> NodeInfo {
        let text = |v: &Value| v.as_str().unwrap_or_default().to_string();
        let labels = v["Spec"]["Labels"]
            .as_object()
            .map(|m| {
                m.iter()
                    .map(|(k, v)| (k.clone(), text(v)))
                    .collect::<BTreeMap<_, _>>()
            })
            .unwrap_or_default();
        NodeInfo {
            id: text(&v["ID"]),
            hostname: text(&v["Description"]["Hostname"]),
            role: text(&v["Spec"]["Role"]),
            availability: text(&v["Spec"]["Availability"]),
            state: text(&v["Status"]["State"]),
            labels,
            reachability: v["ManagerStatus"]["Reachability"]
                .as_str()
                .map(str::to_string),
            leader: v["ManagerStatus"]["Leader"].as_bool().unwrap_or(false),
            engine_version: text(&v["Description"]["Engine"]["EngineVersion"]),
            version: v["Version"]["Index"].as_u64().unwrap_or_default(),
            spec: v["Spec"].clone(),
        }
    }

    /// The VM its `sdbc.vm` label names.
    pub fn vm(&self) -> Option<&str> {
        self.labels.get(LABEL_VM).map(String::as_str)
    }
}

/// How long a listing waits for the managers to elect a leader (after a
/// manager joined or left).
const LEADER_TIMEOUT: Duration = Duration::from_secs(30);

/// Every node of the Swarm, as `manager` lists them (one call; repeated
/// while the Swarm has no leader, as for a moment after a manager change).
pub async fn list_nodes(manager: &Engine) -> Result<Vec<NodeInfo>, SwarmError> {
    let start = Instant::now();
    let nodes = loop {
        match manager.get("/nodes").await {
            Ok(nodes) => break nodes,
            Err(EngineError::Api { message, .. })
                if message.contains("does not have a leader")
                    && start.elapsed() < LEADER_TIMEOUT =>
            {
                tokio::time::sleep(Duration::from_millis(250)).await;
            }
            Err(e) => return Err(e.into()),
        }
    };
    Ok(nodes
        .as_array()
        .map(|a| a.iter().map(NodeInfo::from_json).collect())
        .unwrap_or_default())
}

/// How often a node update is retried when the node changed in between.
const UPDATE_TRIES: usize = 5;

/// Changes a node's spec (labels, role, availability) with `edit`. The
/// update names the node's version; a node's version moves with its status
/// too (a node that just joined becomes ready), so an update "out of
/// sequence" is retried on the node as it is now.
async fn update_node(
    manager: &Engine,
    node: &NodeInfo,
    edit: impl Fn(&mut Value),
) -> Result<(), SwarmError> {
    let mut current = node.clone();
    let mut attempt = 1;
    loop {
        let mut spec = current.spec.clone();
        edit(&mut spec);
        let path = format!("/nodes/{}/update?version={}", current.id, current.version);
        match manager.post(&path, &spec).await {
            Ok(_) => return Ok(()),
            Err(EngineError::Api { message, .. })
                if message.contains("out of sequence") && attempt < UPDATE_TRIES =>
            {
                let fresh = manager.get(&format!("/nodes/{}", current.id)).await?;
                current = NodeInfo::from_json(&fresh);
                attempt += 1;
            }
            Err(e) => return Err(e.into()),
        }
    }
}

/// Gives every joined member's node its labels and role; removes the nodes
/// a member left behind (an interrupted join: the VM now has another node,
/// so the old one is stale whether or not the managers noticed it is down). Returns the VMs whose
/// node changed and the ids of the stale nodes removed. A member without a
/// node in this Swarm gets a failed outcome.
pub(super) async fn label_and_role(
    leader: &Member,
    members: &[Member],
    outcomes: &mut BTreeMap<String, Outcome>,
) -> Result<(Vec<String>, Vec<String>, BTreeMap<String, String>), SwarmError> {
    let nodes = list_nodes(&leader.engine).await?;
    let mut updated = Vec::new();
    let mut removed = Vec::new();
    let mut ids = BTreeMap::new();
    for m in members {
        if matches!(outcomes.get(&m.vm), Some(Outcome::Failed(_))) {
            continue;
        }
        let own_id = match local_state(&m.engine).await {
            Ok(s) => s.node_id,
            Err(e) => {
                outcomes.insert(m.vm.clone(), Outcome::Failed(e.into()));
                continue;
            }
        };
        let Some(node) = nodes.iter().find(|n| n.id == own_id) else {
            outcomes.insert(
                m.vm.clone(),
                Outcome::Failed(SwarmError::NodeNotFound { host: m.vm.clone() }),
            );
            continue;
        };
        ids.insert(m.vm.clone(), own_id.clone());
        let labels = m.labels();
        let wanted_labels = labels.iter().all(|(k, v)| node.labels.get(k) == Some(v));
        if !wanted_labels || node.role != m.role.as_str() {
            update_node(&leader.engine, node, |spec| {
                spec["Role"] = json!(m.role.as_str());
                if !spec["Labels"].is_object() {
                    spec["Labels"] = json!({});
                }
                for (k, v) in &labels {
                    spec["Labels"][k] = json!(v);
                }
            })
            .await?;
            updated.push(m.vm.clone());
        }
        for stale in nodes
            .iter()
            .filter(|n| n.id != own_id && (n.hostname == m.vm || n.vm() == Some(&m.vm)))
        {
            remove_node(&leader.engine, stale).await?;
            removed.push(stale.id.clone());
        }
    }
    Ok((updated, removed, ids))
}

/// Waits until every member's node (`ids`: VM to node id) is `ready`, and
/// every manager `reachable`; a node that is not within
/// [`super::READY_TIMEOUT`] gets a failed outcome.
pub(super) async fn wait_ready(
    manager: &Engine,
    members: &[Member],
    ids: &BTreeMap<String, String>,
    outcomes: &mut BTreeMap<String, Outcome>,
) -> Result<(), SwarmError> {
    let start = Instant::now();
    loop {
        let nodes = list_nodes(manager).await?;
        let waiting: Vec<(&Member, String)> = members
            .iter()
            .filter_map(|m| {
                let node = nodes.iter().find(|n| Some(&n.id) == ids.get(&m.vm))?;
                let ready = node.state == "ready"
                    && (m.role == Role::Worker
                        || node.reachability.as_deref() == Some("reachable"));
                (!ready).then(|| (m, node.state.clone()))
            })
            .collect();
        if waiting.is_empty() {
            return Ok(());
        }
        if start.elapsed() > super::READY_TIMEOUT {
            for (m, state) in waiting {
                let error = SwarmError::NotReady {
                    host: m.vm.clone(),
                    state,
                    after: super::READY_TIMEOUT.as_secs(),
                };
                outcomes.insert(m.vm.clone(), Outcome::Failed(error));
            }
            return Ok(());
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

/// Removes a node from the Swarm's list (demoting a manager first).
async fn remove_node(manager: &Engine, node: &NodeInfo) -> Result<(), SwarmError> {
    if node.role == Role::Manager.as_str() {
        update_node(manager, node, |spec| spec["Role"] = json!("worker")).await?;
    }
    manager
        .delete(&format!("/nodes/{}?force=true", node.id))
        .await?;
    Ok(())
}

/// Takes `member`'s node out of the Swarm before its VM is deleted: demotes
/// it (a manager), drains it, waits until its tasks have stopped (they move
/// to other nodes), makes it leave and removes it. `manager` must be another
/// manager. A member whose engine no longer answers is removed all the same.
pub async fn remove(manager: &Engine, member: &Member) -> Result<(), SwarmError> {
    let node = find_node(manager, &member.vm).await?;
    if node.role == Role::Manager.as_str() {
        update_node(manager, &node, |spec| spec["Role"] = json!("worker")).await?;
    }
    let node = find_node(manager, &member.vm).await?;
    if node.availability != "drain" {
        update_node(manager, &node, |spec| spec["Availability"] = json!("drain")).await?;
    }
    wait_drained(manager, &member.vm, &node.id).await?;
    leave(member).await?;
    manager
        .delete(&format!("/nodes/{}?force=true", node.id))
        .await?;
    Ok(())
}

/// How long a node may take to leave once told to.
const LEAVE_TIMEOUT: Duration = Duration::from_secs(30);

/// Makes `member`'s engine leave the Swarm and waits until it reports
/// `inactive`: a leave can outlast one request on a busy host, so its
/// answer alone does not say it is done. An engine that no longer answers
/// is gone with its VM, which is as good as having left.
async fn leave(member: &Member) -> Result<(), SwarmError> {
    let start = Instant::now();
    loop {
        // Asked again on every round: a leave cut short by a timeout is
        // simply repeated, and one that already happened is refused harmlessly.
        let _ = member
            .engine
            .post("/swarm/leave?force=true", &Value::Null)
            .await;
        let Ok(now) = local_state(&member.engine).await else {
            return Ok(());
        };
        if now.state == "inactive" {
            return Ok(());
        }
        if start.elapsed() >= LEAVE_TIMEOUT {
            return Err(SwarmError::BadState {
                host: member.vm.clone(),
                state: now.state,
                message: format!(
                    "still in the Swarm {}s after being told to leave",
                    LEAVE_TIMEOUT.as_secs()
                ),
            });
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}

/// The node labelled `sdbc.vm=<vm>`, else the one named after it.
async fn find_node(manager: &Engine, vm: &str) -> Result<NodeInfo, SwarmError> {
    let nodes = list_nodes(manager).await?;
    nodes
        .iter()
        .find(|n| n.vm() == Some(vm))
        .or_else(|| nodes.iter().find(|n| n.hostname == vm))
        .cloned()
        .ok_or_else(|| SwarmError::NodeNotFound {
            host: vm.to_string(),
        })
}

/// Waits until no task on the node is running.
async fn wait_drained(manager: &Engine, vm: &str, node_id: &str) -> Result<(), SwarmError> {
    let filters = query_value(&json!({ "node": [node_id] }).to_string());
    let start = Instant::now();
    loop {
        let tasks = manager.get(&format!("/tasks?filters={filters}")).await?;
        let running = tasks
            .as_array()
            .map(|a| {
                a.iter()
                    .filter(|t| t["Status"]["State"].as_str() == Some("running"))
                    .count()
            })
            .unwrap_or(0);
        if running == 0 {
            return Ok(());
        }
        if start.elapsed() > DRAIN_TIMEOUT {
            return Err(SwarmError::DrainTimeout {
                host: vm.to_string(),
                tasks: running,
                after: DRAIN_TIMEOUT.as_secs(),
            });
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}
