//! `sdbc status`'s data: the Swarm's nodes and the stack's services as one
//! manager reports them, like `docker node ls` and `docker stack services`
//! together, in three listing calls (nodes, the stack's services with
//! their task counts, tasks). Rows are sorted by name, so the same cluster
//! gives the same bytes.
//!
//! [`connect_manager`] reaches a manager of the stack (from what the state
//! knows: its address and pinned host keys, see [`super::reach::target`]),
//! trying the next manager when one does not answer.
//! See `docs/decisions/0020-scale-and-status.md`.

use std::collections::BTreeMap;

use russh::keys::ssh_key::PrivateKey;
use serde::Serialize;
use serde_json::{Value, json};

use super::engine::{Engine, EngineError, query_value};
use super::ssh::{SshSession, SshTarget};
use super::swarm::{LABEL_GROUP, SwarmError, list_nodes};
use crate::graph::{NodeId, NodeKind};
use crate::state::State;
use crate::targets::stack::engine::NAMESPACE_LABEL;

/// One node, as `docker node ls` shows it, with sdbc's labels.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct NodeRow {
    pub hostname: String,
    /// The VM its `sdbc.vm` label names (empty for a node sdbc did not label).
    pub vm: String,
    pub group: String,
    /// `manager` or `worker`.
    pub role: String,
    /// `ready`, `down`, ...
    pub state: String,
    /// `active`, `pause`, `drain`.
    pub availability: String,
    /// `Leader`, `Reachable`, `Unreachable` for managers; empty for workers.
    pub manager_status: String,
    pub engine_version: String,
}

/// One service of the stack, as `docker stack services` shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ServiceRow {
    /// The program's name (`web`).
    pub name: String,
    /// The Swarm name (`misago_web`).
    pub full_name: String,
    /// `replicated` or `global`.
    pub mode: String,
    pub running: u64,
    pub desired: u64,
    /// For a service with a healthcheck: `healthy`, `starting` (some task
    /// not healthy yet) or `unhealthy` (tasks missing, none starting).
    pub health: Option<String>,
    pub image: String,
    /// The update's state when one ran (`completed`, `rollback_completed`, ...).
    pub update: Option<String>,
    /// The latest task error, when not every desired task runs.
    pub error: Option<String>,
}

/// The nodes and the stack's services.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StackStatus {
    pub stack: String,
    /// The manager that answered.
    pub manager: String,
    pub nodes: Vec<NodeRow>,
    pub services: Vec<ServiceRow>,
}

impl StackStatus {
    /// Whether every node is ready and every service runs all its tasks.
    pub fn is_healthy(&self) -> bool {
        self.nodes.iter().all(|n| n.state == "ready")
            && self
                .services
                .iter()
                .all(|s| s.running >= s.desired && s.health.as_deref() != Some("unhealthy"))
    }
}

/// The status of `stack`'s Swarm and services, as `manager` reports it.
pub async fn gather(manager: &Engine, stack: &str) -> Result<StackStatus, SwarmError> {
    let mut nodes: Vec<NodeRow> = list_nodes(manager)
        .await?
        .into_iter()
        .map(|n| NodeRow {
            vm: n.vm().unwrap_or_default().to_string(),
            group: n.labels.get(LABEL_GROUP).cloned().unwrap_or_default(),
            manager_status: match (n.leader, n.reachability.as_deref()) {
                (true, _) => "Leader".into(),
                (false, Some(r)) => capitalized(r),
                (false, None) => String::new(),
            },
            hostname: n.hostname,
            role: n.role,
            state: n.state,
            availability: n.availability,
            engine_version: n.engine_version,
        })
        .collect();
    nodes.sort_by(|a, b| (&a.hostname, &a.vm).cmp(&(&b.hostname, &b.vm)));
    let services = services(manager, stack).await?;
    Ok(StackStatus {
        stack: stack.to_string(),
        manager: manager.host().to_string(),
        nodes,
        services,
    })
}

fn capitalized(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(first) => first.to_uppercase().chain(c).collect(),
        None => String::new(),
    }
}

/// The stack's services with their task counts (one call), health and
/// errors from the tasks (one call).
async fn services(manager: &Engine, stack: &str) -> Result<Vec<ServiceRow>, EngineError> {
    let filter =
        query_value(&json!({ "label": [format!("{NAMESPACE_LABEL}={stack}")] }).to_string());
    let list = manager
        .get(&format!("/services?status=true&filters={filter}"))
        .await?;
    let tasks = tasks_by_service(manager).await?;
    let prefix = format!("{stack}_");
    let mut out: Vec<ServiceRow> = list
        .as_array()
        .into_iter()
        .flatten()
        .map(|s| {
            let full_name = s["Spec"]["Name"].as_str().unwrap_or_default().to_string();
            let none = Vec::new();
            let own = tasks
                .get(s["ID"].as_str().unwrap_or_default())
                .unwrap_or(&none);
            row(
                s,
                full_name.strip_prefix(&prefix).unwrap_or(&full_name),
                &full_name,
                own,
            )
        })
        .collect();
    out.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(out)
}

/// Every task of the Swarm (the history the engine keeps too), by service id.
async fn tasks_by_service(manager: &Engine) -> Result<BTreeMap<String, Vec<Value>>, EngineError> {
    let tasks = manager.get("/tasks").await?;
    let mut out: BTreeMap<String, Vec<Value>> = BTreeMap::new();
    for t in tasks.as_array().into_iter().flatten() {
        if let Some(id) = t["ServiceID"].as_str() {
            out.entry(id.to_string()).or_default().push(t.clone());
        }
    }
    Ok(out)
}

fn row(s: &Value, name: &str, full_name: &str, tasks: &[Value]) -> ServiceRow {
    let spec = &s["Spec"];
    let container = &spec["TaskTemplate"]["ContainerSpec"];
    let running = s["ServiceStatus"]["RunningTasks"].as_u64().unwrap_or(0);
    let desired = s["ServiceStatus"]["DesiredTasks"].as_u64().unwrap_or(0);
    let state = |t: &&Value| {
        t["Status"]["State"]
            .as_str()
            .unwrap_or_default()
            .to_string()
    };
    let wanted_running: Vec<&Value> = tasks
        .iter()
        .filter(|t| t["DesiredState"] == "running")
        .collect();
    let has_healthcheck = container["Healthcheck"]["Test"]
        .as_array()
        .is_some_and(|t| t.first().and_then(Value::as_str) != Some("NONE") && !t.is_empty());
    let health = has_healthcheck.then(|| {
        if running >= desired {
            "healthy".to_string()
        } else if wanted_running.iter().any(|t| state(t) == "starting") {
            "starting".to_string()
        } else {
            "unhealthy".to_string()
        }
    });
    let error = (running < desired).then(|| latest_error(tasks)).flatten();
    let image = container["Image"].as_str().unwrap_or_default();
    ServiceRow {
        name: name.to_string(),
        full_name: full_name.to_string(),
        mode: if spec["Mode"]["Global"].is_object() {
            "global".into()
        } else {
            "replicated".into()
        },
        running,
        desired,
        health,
        // The engine pins the image to a digest (`image:tag@sha256:…`).
        image: image.split('@').next().unwrap_or(image).to_string(),
        update: s["UpdateStatus"]["State"].as_str().map(str::to_string),
        error,
    }
}

/// The most recent task error (`Status.Err`), with the task's state.
fn latest_error(tasks: &[Value]) -> Option<String> {
    let text = |t: &Value, k: &str| t["Status"][k].as_str().unwrap_or_default().to_string();
    tasks
        .iter()
        .filter(|t| !text(t, "Err").is_empty())
        .max_by_key(|t| text(t, "Timestamp"))
        .map(|t| format!("{}: {}", text(t, "State"), text(t, "Err")))
}

/// Why no manager could be asked.
#[derive(Debug, thiserror::Error)]
pub enum ManagerError {
    #[error("the program has no Swarm manager VM")]
    NoManager,
    #[error("no manager of the Swarm answers:\n  {}", .0.join("\n  "))]
    NoneAnswers(Vec<String>),
}

/// How to reach each of `managers` (VM names, in program order) from what
/// the state knows: the address in its VM's entry, the host keys pinned in
/// its Swarm member's entry (`swarm.init`, `swarm.join.<vm>`, named after
/// the VM), as apply reaches it. A manager whose VM is not in the state is
/// left out; one without a member entry or an address is an `Err` saying
/// why, for [`connect_manager`] to report.
pub fn manager_targets(state: &State, managers: &[&str]) -> Vec<Result<SshTarget, String>> {
    let members: BTreeMap<&str, &BTreeMap<String, String>> = state
        .resources
        .iter()
        .filter(|(key, _)| {
            key.parse::<NodeId>()
                .is_ok_and(|id| matches!(id.kind(), NodeKind::SwarmInit | NodeKind::SwarmJoin))
        })
        .map(|(_, r)| (r.name.as_str(), &r.assigned))
        .collect();
    managers
        .iter()
        .filter_map(|vm| {
            let entry = state.resources.get(NodeId::vm(vm).as_str())?;
            let Some(pins) = members.get(vm) else {
                return Some(Err(format!(
                    "VM `{vm}` is not a Swarm member in the state (no host key pinned yet)"
                )));
            };
            let mut target = super::reach::target(vm, &entry.assigned).map_err(|e| e.to_string());
            if let Ok(t) = &mut target {
                t.host_keys = super::reach::pinned(pins);
            }
            Some(target)
        })
        .collect()
}

/// A manager that answered, and why each manager tried before it did not.
#[derive(Debug)]
pub struct Connected {
    pub engine: Engine,
    /// One line per manager skipped, naming its VM.
    pub skipped: Vec<String>,
}

/// A manager's engine, reached over SSH: the first of `managers` (in
/// program order; `Err` for one sdbc cannot even address, naming why) that
/// answers and is a manager of an active Swarm, with the reasons of those
/// tried before it. The others' errors, each naming its VM, when none does.
pub async fn connect_manager(
    managers: &[Result<SshTarget, String>],
    key: &PrivateKey,
) -> Result<Connected, ManagerError> {
    if managers.is_empty() {
        return Err(ManagerError::NoManager);
    }
    let mut errors = Vec::new();
    for target in managers {
        let tried = match target {
            Ok(t) => try_manager(t, key).await,
            Err(e) => Err(e.clone()),
        };
        match tried {
            Ok(engine) => {
                return Ok(Connected {
                    engine,
                    skipped: errors,
                });
            }
            Err(e) => errors.push(e),
        }
    }
    Err(ManagerError::NoneAnswers(errors))
}

async fn try_manager(target: &SshTarget, key: &PrivateKey) -> Result<Engine, String> {
    let session = SshSession::connect(target, key)
        .await
        .map_err(|e| e.to_string())?;
    let engine = session.engine();
    let info = engine.get("/info").await.map_err(|e| e.to_string())?;
    let swarm = &info["Swarm"];
    if swarm["LocalNodeState"] != "active" || swarm["ControlAvailable"] != true {
        return Err(format!(
            "host `{}` is not a manager of an active Swarm (its engine says `{}`)",
            target.host,
            swarm["LocalNodeState"].as_str().unwrap_or("unknown")
        ));
    }
    Ok(engine)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::state::ResourceState;

    fn entry(name: &str, assigned: &[(&str, &str)]) -> ResourceState {
        ResourceState {
            name: name.into(),
            assigned: assigned
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            ..ResourceState::default()
        }
    }

    /// Addresses from the VM entries, pins from the member entries (the
    /// first manager's is `swarm.init`); a VM not made is left out, one
    /// not in the Swarm is an error naming it.
    #[test]
    fn targets_take_addresses_from_vms_and_pins_from_members() {
        let key = super::super::ssh::generate_key().expect("key");
        let line = key.public_key().to_openssh().expect("encodes");
        let mut state = State::new("s");
        let pin = [("hostkey.ssh-ed25519", line.as_str())];
        for (id, r) in [
            (
                "gce.vm.manager-0",
                entry("manager-0", &[("external_ip", "10.0.0.1")]),
            ),
            (
                "gce.vm.manager-1",
                entry("manager-1", &[("internal_ip", "10.0.0.2")]),
            ),
            (
                "gce.vm.manager-2",
                entry("manager-2", &[("internal_ip", "10.0.0.3")]),
            ),
            ("swarm.init", entry("manager-0", &pin)),
            ("swarm.join.manager-1", entry("manager-1", &pin)),
        ] {
            state.resources.insert(id.into(), r);
        }
        let got = manager_targets(
            &state,
            &["manager-0", "manager-1", "manager-2", "manager-3"],
        );
        assert_eq!(got.len(), 3, "manager-3 has no VM: {got:?}");
        for (t, (vm, ip)) in got[..2]
            .iter()
            .zip([("manager-0", "10.0.0.1"), ("manager-1", "10.0.0.2")])
        {
            let t = t.as_ref().expect("a target");
            assert_eq!(
                (t.host.as_str(), t.addr.ip().to_string()),
                (vm, ip.to_string())
            );
            assert_eq!(t.host_keys, vec![key.public_key().clone()], "{vm}");
        }
        let err = got[2].as_ref().expect_err("not a member");
        assert!(err.contains("`manager-2`"), "{err}");
    }
}
