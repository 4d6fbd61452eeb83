//! Forming and shrinking the Docker Swarm over the Engine API, one
//! [`Engine`] per VM (reached over SSH, see [`crate::exec::ssh`]).
//!
//! - [`form`]: init on the first manager with its internal address (or
//!   reuse the Swarm a manager is already in), join the other managers one
//!   at a time, then the workers together, with join tokens read over the
//!   API and kept only in memory; then label every node (`sdbc.vm`,
//!   `sdbc.group`) and give it its role. A node already in this Swarm is left
//!   alone, so a run killed half-way and run again converges; a stale node an
//!   interrupted join of the same VM left behind is removed.
//! - [`remove`]: demote (a manager), drain, wait for the node's tasks to
//!   stop, leave, remove the node: before its VM is deleted.
//! - [`wait_manager_reachable`]: waits until a restarted manager is back:
//!   ready, a manager, and reachable (or the leader), before the next one
//!   restarts (`docs/decisions/0019-managers-restart-in-turn.md`).
//! - [`check_manager_change`]: refuses a change of the manager count that
//!   would lose the Raft quorum in one step.
//!
//! See `docs/decisions/0013-swarm-and-stack.md`.

mod nodes;
mod quorum;
mod reachable;

use std::collections::BTreeMap;
use std::time::Duration;

use serde_json::{Value, json};

use super::engine::{Engine, EngineError};
use crate::model::{SwarmRole, Vm};

pub use nodes::{NodeInfo, list_nodes, remove};
pub use quorum::check_manager_change;
pub use reachable::{REACHABLE_TIMEOUT, wait_manager_reachable};

pub use crate::model::{NODE_LABEL_GROUP as LABEL_GROUP, NODE_LABEL_VM as LABEL_VM};

/// The Swarm's management port.
pub const SWARM_PORT: u16 = 2377;

/// A manager or a worker.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    Manager,
    Worker,
}

impl Role {
    /// The Engine API's name of the role.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Manager => "manager",
            Role::Worker => "worker",
        }
    }
}

/// One VM that belongs in the Swarm.
#[derive(Debug, Clone)]
pub struct Member {
    pub vm: String,
    pub group: String,
    pub role: Role,
    /// The internal address other nodes reach it at.
    pub addr: String,
    pub engine: Engine,
}

impl Member {
    /// The member for a model VM, or `None` for a VM outside the Swarm.
    pub fn for_vm(vm: &Vm, engine: Engine) -> Option<Member> {
        let role = match vm.swarm {
            SwarmRole::Manager => Role::Manager,
            SwarmRole::Worker => Role::Worker,
            SwarmRole::None => return None,
        };
        Some(Member {
            vm: vm.name.clone(),
            group: vm.group.to_string(),
            role,
            addr: vm.internal_ip.clone(),
            engine,
        })
    }

    /// The labels its node carries.
    pub fn labels(&self) -> BTreeMap<String, String> {
        BTreeMap::from([
            (LABEL_VM.to_string(), self.vm.clone()),
            (LABEL_GROUP.to_string(), self.group.clone()),
        ])
    }
}

/// Why forming or changing the Swarm failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SwarmError {
    #[error(transparent)]
    Engine(#[from] EngineError),
    #[error("the program has no Swarm manager")]
    NoManager,
    #[error("no manager answers, so the Swarm cannot be formed: {0}")]
    NoLeader(String),
    #[error("host `{host}` is in another Swarm ({cluster}); leave it there first")]
    ForeignSwarm { host: String, cluster: String },
    #[error("host `{host}`: the engine reports Swarm state `{state}`: {message}")]
    BadState {
        host: String,
        state: String,
        message: String,
    },
    #[error("host `{host}` has no node in the Swarm")]
    NodeNotFound { host: String },
    #[error("host `{host}`: its node is `{state}`, not ready, {after}s after joining")]
    NotReady {
        host: String,
        state: String,
        after: u64,
    },
    #[error("host `{host}`: not back as a reachable manager {after}s after its restart ({now})")]
    NotReachable {
        host: String,
        /// What its node looked like last (or why it could not be seen).
        now: String,
        after: u64,
    },
    #[error("host `{host}`: {tasks} task(s) still running {after}s after draining")]
    DrainTimeout {
        host: String,
        tasks: usize,
        after: u64,
    },
    #[error(
        "going from {from} managers to {to} in one step loses the Swarm's quorum; change it in steps: {steps}"
    )]
    QuorumLoss {
        from: usize,
        to: usize,
        steps: String,
    },
}

impl SwarmError {
    /// The host the error is about, if it is about one.
    pub fn host(&self) -> Option<&str> {
        match self {
            SwarmError::Engine(e) => Some(e.host()),
            SwarmError::ForeignSwarm { host, .. }
            | SwarmError::BadState { host, .. }
            | SwarmError::NodeNotFound { host }
            | SwarmError::NotReady { host, .. }
            | SwarmError::NotReachable { host, .. }
            | SwarmError::DrainTimeout { host, .. } => Some(host),
            _ => None,
        }
    }
}

/// What [`form`] did to one member.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// It was already in this Swarm (its labels and role may have been set).
    Unchanged,
    /// The Swarm was initialized on it.
    Initialized,
    Joined,
    /// It could not be joined; the others went on.
    Failed(SwarmError),
}

/// The result of [`form`]: the Swarm's id and what happened per VM.
#[derive(Debug, Clone)]
pub struct Formation {
    pub cluster_id: String,
    pub outcomes: BTreeMap<String, Outcome>,
    /// Nodes whose labels or role were changed.
    pub updated: Vec<String>,
    /// Stale nodes of members (left by interrupted joins) that were removed.
    pub removed_stale: Vec<String>,
}

impl Formation {
    /// The failures, by VM.
    pub fn failures(&self) -> impl Iterator<Item = (&str, &SwarmError)> {
        self.outcomes.iter().filter_map(|(vm, o)| match o {
            Outcome::Failed(e) => Some((vm.as_str(), e)),
            _ => None,
        })
    }

    /// Whether nothing was changed on any engine.
    pub fn is_noop(&self) -> bool {
        self.outcomes.values().all(|o| *o == Outcome::Unchanged)
            && self.updated.is_empty()
            && self.removed_stale.is_empty()
    }
}

/// The join tokens, kept in memory only; never printed.
struct JoinTokens {
    worker: String,
    manager: String,
}

impl std::fmt::Debug for JoinTokens {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("JoinTokens(..)")
    }
}

impl JoinTokens {
    fn for_role(&self, role: Role) -> &str {
        match role {
            Role::Manager => &self.manager,
            Role::Worker => &self.worker,
        }
    }
}

/// A node's Swarm state as its own engine reports it (`GET /info`).
#[derive(Debug, Clone)]
struct LocalState {
    /// `inactive`, `pending`, `active`, `error`, `locked`.
    state: String,
    node_id: String,
    cluster_id: String,
    is_manager: bool,
    error: String,
}

/// How long a node may stay `pending` (a join under way, perhaps from a
/// run that was cut short) before it is made to leave and join again.
const SETTLE_TIMEOUT: Duration = Duration::from_secs(30);

/// How long formation waits for every node to be ready.
pub const READY_TIMEOUT: Duration = Duration::from_secs(60);

/// The node's state once no join is under way: a manager that leaves while
/// its join completes would stay in the Raft membership and count against
/// the quorum, so a `pending` node is given time to finish first.
async fn settled_state(engine: &Engine) -> Result<LocalState, EngineError> {
    let start = std::time::Instant::now();
    loop {
        let state = local_state(engine).await?;
        if state.state != "pending" || start.elapsed() > SETTLE_TIMEOUT {
            return Ok(state);
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

async fn local_state(engine: &Engine) -> Result<LocalState, EngineError> {
    let info = engine.get("/info").await?;
    let swarm = &info["Swarm"];
    let text = |v: &Value| v.as_str().unwrap_or_default().to_string();
    Ok(LocalState {
        state: text(&swarm["LocalNodeState"]),
        node_id: text(&swarm["NodeID"]),
        cluster_id: text(&swarm["Cluster"]["ID"]),
        is_manager: swarm["ControlAvailable"].as_bool().unwrap_or(false),
        error: text(&swarm["Error"]),
    })
}

/// Forms the Swarm of `members` (managers first in the order given). Fails
/// as a whole only when no manager can lead; a member that cannot join is
/// reported in its outcome and the others go on.
pub async fn form(members: &[Member]) -> Result<Formation, SwarmError> {
    let managers: Vec<&Member> = members.iter().filter(|m| m.role == Role::Manager).collect();
    if managers.is_empty() {
        return Err(SwarmError::NoManager);
    }
    let mut states = BTreeMap::new();
    for m in members {
        states.insert(m.vm.clone(), settled_state(&m.engine).await);
    }
    let mut outcomes = BTreeMap::new();
    let leader = leader(&managers, &states, &mut outcomes).await?;
    let swarm = leader.engine.get("/swarm").await?;
    let cluster_id = swarm["ID"].as_str().unwrap_or_default().to_string();
    let tokens = JoinTokens {
        worker: swarm["JoinTokens"]["Worker"]
            .as_str()
            .unwrap_or_default()
            .to_string(),
        manager: swarm["JoinTokens"]["Manager"]
            .as_str()
            .unwrap_or_default()
            .to_string(),
    };
    let remote = format!("{}:{SWARM_PORT}", leader.addr);

    // Managers one at a time (each join changes the Raft membership), then
    // the workers together.
    for m in &managers {
        if !outcomes.contains_key(&m.vm) {
            let outcome = join(m, &states[&m.vm], &cluster_id, &tokens, &remote).await;
            outcomes.insert(m.vm.clone(), outcome);
        }
    }
    let mut workers = tokio::task::JoinSet::new();
    for m in members.iter().filter(|m| m.role == Role::Worker) {
        let (m, state) = (m.clone(), states[&m.vm].clone());
        let (cluster_id, remote) = (cluster_id.clone(), remote.clone());
        let tokens = JoinTokens {
            worker: tokens.worker.clone(),
            manager: String::new(),
        };
        workers.spawn(async move {
            let outcome = join(&m, &state, &cluster_id, &tokens, &remote).await;
            (m.vm, outcome)
        });
    }
    while let Some(done) = workers.join_next().await {
        let (vm, outcome) = done.expect("a join task does not panic");
        outcomes.insert(vm, outcome);
    }
    let (updated, removed_stale, ids) =
        nodes::label_and_role(leader, members, &mut outcomes).await?;
    nodes::wait_ready(&leader.engine, members, &ids, &mut outcomes).await?;
    Ok(Formation {
        cluster_id,
        outcomes,
        updated,
        removed_stale,
    })
}

/// The manager that leads: the first one already managing a Swarm, else the
/// first one that answers, on which the Swarm is initialized.
async fn leader<'m>(
    managers: &[&'m Member],
    states: &BTreeMap<String, Result<LocalState, EngineError>>,
    outcomes: &mut BTreeMap<String, Outcome>,
) -> Result<&'m Member, SwarmError> {
    for m in managers {
        if let Ok(s) = &states[&m.vm]
            && s.state == "active"
            && s.is_manager
        {
            outcomes.insert(m.vm.clone(), Outcome::Unchanged);
            return Ok(m);
        }
    }
    let mut last_error = String::from("no manager answers");
    for m in managers {
        match &states[&m.vm] {
            Ok(s) if s.state == "inactive" => {
                let body = json!({
                    "ListenAddr": format!("0.0.0.0:{SWARM_PORT}"),
                    "AdvertiseAddr": format!("{}:{SWARM_PORT}", m.addr),
                    "DataPathAddr": m.addr,
                    "Spec": {},
                });
                match m.engine.post("/swarm/init", &body).await {
                    Ok(_) => {
                        outcomes.insert(m.vm.clone(), Outcome::Initialized);
                        return Ok(m);
                    }
                    Err(e) => last_error = e.to_string(),
                }
            }
            Ok(s) => {
                last_error = SwarmError::BadState {
                    host: m.vm.clone(),
                    state: s.state.clone(),
                    message: s.error.clone(),
                }
                .to_string()
            }
            Err(e) => last_error = e.to_string(),
        }
    }
    Err(SwarmError::NoLeader(last_error))
}

/// Joins one member unless it is already in this Swarm.
async fn join(
    m: &Member,
    state: &Result<LocalState, EngineError>,
    cluster_id: &str,
    tokens: &JoinTokens,
    remote: &str,
) -> Outcome {
    let state = match state {
        Ok(s) => s,
        Err(e) => return Outcome::Failed(e.clone().into()),
    };
    match state.state.as_str() {
        "active" if state.cluster_id == cluster_id || state.cluster_id.is_empty() => {
            return Outcome::Unchanged;
        }
        "active" => {
            return Outcome::Failed(SwarmError::ForeignSwarm {
                host: m.vm.clone(),
                cluster: state.cluster_id.clone(),
            });
        }
        "inactive" => {}
        // `pending` (a join cut short), `error`, `locked`: start over.
        _ => {
            if let Err(e) = m.engine.post("/swarm/leave?force=true", &Value::Null).await {
                return Outcome::Failed(e.into());
            }
        }
    }
    let body = json!({
        "ListenAddr": format!("0.0.0.0:{SWARM_PORT}"),
        "AdvertiseAddr": format!("{}:{SWARM_PORT}", m.addr),
        "DataPathAddr": m.addr,
        "RemoteAddrs": [remote],
        "JoinToken": tokens.for_role(m.role),
    });
    match m.engine.post("/swarm/join", &body).await {
        Ok(_) => Outcome::Joined,
        Err(e) => Outcome::Failed(e.into()),
    }
}

/// How long [`remove`] waits for a drained node's tasks to stop.
pub const DRAIN_TIMEOUT: Duration = Duration::from_secs(120);

#[cfg(test)]
mod tests;
