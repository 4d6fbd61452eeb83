//! The executor of the `swarm` and `stack` layers: what one step of the
//! Swarm formation (`swarm.init`, `swarm.join.VM`) or of the stack
//! (`stack.network`, `stack.secret.S`, `stack.config.C`,
//! `stack.service.S`) does, over SSH to the VMs, and what a plan learns
//! from the cluster ([`plan`]).
//!
//! Before anything runs on a VM, its step waits for the VM's `sdbc/ready`
//! guest attribute and reads the host keys it publishes: a member made in
//! this run (a create) pins them in its state entry; any other run checks
//! them against the pins, and a VM presenting another key is an error
//! naming it, with nothing run there. Formation steps run one at a time
//! (each is a Raft membership change), each calling
//! [`crate::exec::swarm::form`] with the managers already in the Swarm and
//! the joining VM, so a run cut anywhere converges when run again. A
//! manager whose VM restarted (a member update, "its VM restarts") is
//! checked the same way, rejoined if it is not in the Swarm, and then
//! awaited until it is `Reachable`; the next manager's VM waits for that
//! step (decision 0019). Stack
//! steps go through the first manager that answers.
//!
//! See `docs/decisions/0013-swarm-and-stack.md` and
//! `docs/decisions/0021-stack-key-on-vms.md`.

mod members;
pub mod plan;
mod stack_steps;

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use russh::keys::ssh_key::PrivateKey;

use super::apply::{StepCtx, StepError};
use super::engine::Engine;
use super::reach::{self, Wait};
use super::ssh::{SshError, SshSession};
use super::stack::DeployOptions;
use super::swarm::{Member, Role};
use crate::graph::{Layer, NodeId, NodeKind};
use crate::plan::Change;
use crate::state::{ResourceState, State};
use crate::targets::stack::engine::StackObjects;

/// A Swarm member as the program declares it.
#[derive(Debug, Clone)]
pub struct MemberSpec {
    pub group: String,
    pub role: Role,
    pub zone: String,
    /// The program's internal address (the state's, once known, wins).
    pub internal_ip: String,
    /// The program's first manager, on which `swarm.init` runs.
    pub first: bool,
}

/// What the cluster executor needs besides each step's change. Cheap to clone.
#[derive(Clone)]
pub struct ClusterCtx {
    /// The Compute Engine side: the client (readiness, host keys), the
    /// project, and the VMs' addresses (`assigned`, shared with the
    /// Compute Engine executor).
    pub gce: StepCtx,
    /// The stack's SSH key.
    pub key: Arc<PrivateKey>,
    /// By VM name.
    pub members: Arc<BTreeMap<String, MemberSpec>>,
    pub objects: Arc<StackObjects>,
    /// Secret values by the model's secret name.
    pub secret_values: Arc<BTreeMap<String, Vec<u8>>>,
    pub ready: Wait,
    /// How long a restarted manager may take to be reachable again.
    pub reachable: Duration,
    pub deploy: DeployOptions,
    /// The whole Swarm goes (destroy): members are not drained one by one.
    pub whole_swarm_goes: bool,
    inner: Arc<Inner>,
}

#[derive(Default)]
struct Inner {
    /// Open sessions by VM.
    sessions: tokio::sync::Mutex<BTreeMap<String, Arc<SshSession>>>,
    /// Held by a formation step: one membership change at a time.
    formation: tokio::sync::Mutex<()>,
    /// The Swarm members' state entries (from the state, then this run), by VM.
    known: Mutex<BTreeMap<String, ResourceState>>,
}

/// How long a VM that just reported ready may refuse sdbc's login.
const LOGIN_PATIENCE: Duration = Duration::from_secs(60);
/// How often to try again meanwhile.
const LOGIN_RETRY: Duration = Duration::from_secs(1);

/// Assigned key of a member entry: the Swarm's id.
const CLUSTER_ID: &str = "cluster_id";

impl ClusterCtx {
    pub fn new(
        gce: StepCtx,
        key: PrivateKey,
        members: BTreeMap<String, MemberSpec>,
        objects: StackObjects,
        secret_values: BTreeMap<String, Vec<u8>>,
    ) -> ClusterCtx {
        ClusterCtx {
            gce,
            key: Arc::new(key),
            members: Arc::new(members),
            objects: Arc::new(objects),
            secret_values: Arc::new(secret_values),
            ready: Wait::default(),
            reachable: super::swarm::REACHABLE_TIMEOUT,
            deploy: DeployOptions::default(),
            whole_swarm_goes: false,
            inner: Arc::default(),
        }
    }

    pub fn layers() -> &'static [Layer] {
        &[Layer::Swarm, Layer::Stack]
    }

    /// Learns the members' entries (pins, roles) from the state.
    pub fn prepare(&self, state: &State) {
        let mut known = self.inner.known.lock().unwrap_or_else(|p| p.into_inner());
        for (node, r) in &state.resources {
            if is_member_node(node) {
                known.insert(r.name.clone(), r.clone());
            }
        }
    }

    /// Takes note of a finished step's entry (`None`: the node is gone).
    pub fn recorded(&self, node: &NodeId, r: Option<&ResourceState>) {
        let vm = match node.kind() {
            NodeKind::SwarmJoin => Some(node.name().to_string()),
            NodeKind::SwarmInit => self.first_manager(),
            _ => return,
        };
        let mut known = self.inner.known.lock().unwrap_or_else(|p| p.into_inner());
        match (r, vm) {
            (Some(r), _) => {
                known.insert(r.name.clone(), r.clone());
            }
            (None, Some(vm)) => {
                known.remove(&vm);
            }
            (None, None) => {}
        }
    }

    /// Runs one step of the `swarm` or `stack` layer.
    pub async fn run(
        &self,
        delete: bool,
        change: &Change,
    ) -> Result<Option<ResourceState>, StepError> {
        let result = match (change.node.layer(), delete) {
            (Layer::Swarm, false) => self.member_step(change).await.map(Some),
            (Layer::Swarm, true) => self.leave_step(change).await.map(|()| None),
            (_, false) => self.stack_step(change).await.map(Some),
            (_, true) => self.stack_delete(change).await.map(|()| None),
        };
        result.map_err(StepError::Other)
    }

    /// The instance path of `vm`.
    fn instance(&self, vm: &str, spec: &MemberSpec) -> String {
        format!(
            "projects/{}/zones/{}/instances/{vm}",
            self.gce.project, spec.zone
        )
    }

    fn spec(&self, vm: &str) -> Result<&MemberSpec, String> {
        self.members
            .get(vm)
            .ok_or_else(|| format!("VM `{vm}` is not a Swarm member of the program"))
    }

    /// The VM's assigned values (addresses) as the state and this run know them.
    fn assigned(&self, vm: &str) -> BTreeMap<String, String> {
        let known = self.gce.assigned.lock().unwrap_or_else(|p| p.into_inner());
        known
            .get(NodeId::vm(vm).as_str())
            .cloned()
            .unwrap_or_default()
    }

    /// The assigned values of `vm`'s member entry, if it has one.
    fn pins_of(&self, vm: &str) -> Option<BTreeMap<String, String>> {
        let known = self.inner.known.lock().unwrap_or_else(|p| p.into_inner());
        known.get(vm).map(|r| r.assigned.clone())
    }

    /// An engine on `vm`, over a session opened with `pins` (cached per VM).
    async fn engine(&self, vm: &str, pins: &BTreeMap<String, String>) -> Result<Engine, String> {
        self.engine_within(vm, pins, Duration::ZERO).await
    }

    /// [`Self::engine`], trying again for up to `patience` while the VM
    /// refuses the login or the connection: right after it reports ready,
    /// its guest environment may not have made the `sdbc` login from the
    /// metadata yet. A host key other than the pinned one fails at once.
    async fn engine_within(
        &self,
        vm: &str,
        pins: &BTreeMap<String, String>,
        patience: Duration,
    ) -> Result<Engine, String> {
        if let Some(s) = self.inner.sessions.lock().await.get(vm) {
            return Ok(s.engine());
        }
        let mut target = reach::target(vm, &self.assigned(vm)).map_err(|e| e.to_string())?;
        target.host_keys = reach::pinned(pins);
        let start = Instant::now();
        let session = loop {
            match SshSession::connect(&target, &self.key).await {
                Ok(s) => break s,
                Err(SshError::LoginRefused { .. } | SshError::Connect { .. })
                    if start.elapsed() < patience =>
                {
                    tokio::time::sleep(LOGIN_RETRY).await;
                }
                Err(e) => return Err(e.to_string()),
            }
        };
        let mut sessions = self.inner.sessions.lock().await;
        let engine = session.engine();
        sessions.insert(vm.to_string(), Arc::new(session));
        Ok(engine)
    }

    /// The managers already in the Swarm (by their entries), the program's
    /// first manager first: the one that initialized it.
    fn known_managers(&self) -> Vec<(String, BTreeMap<String, String>)> {
        let known = self.inner.known.lock().unwrap_or_else(|p| p.into_inner());
        let first = self.first_manager();
        let mut out: Vec<(String, BTreeMap<String, String>)> = known
            .values()
            .filter(|r| r.attributes.value()["role"] == "manager")
            .map(|r| (r.name.clone(), r.assigned.clone()))
            .collect();
        out.sort_by_key(|(vm, _)| (Some(vm) != first.as_ref(), vm.clone()));
        out
    }

    /// The program's first manager (the one `swarm.init` runs on).
    fn first_manager(&self) -> Option<String> {
        self.members
            .iter()
            .find(|(_, m)| m.role == Role::Manager && m.first)
            .map(|(vm, _)| vm.clone())
    }

    /// The first manager that answers.
    async fn manager(&self) -> Result<Engine, String> {
        let mut last = String::from("no Swarm manager is in the state yet");
        for (vm, pins) in self.known_managers() {
            match self.engine(&vm, &pins).await {
                Ok(e) => return Ok(e),
                Err(e) => last = e,
            }
        }
        Err(last)
    }

    fn member(&self, vm: &str, engine: Engine) -> Result<Member, String> {
        let spec = self.spec(vm)?;
        let addr = self
            .assigned(vm)
            .get("internal_ip")
            .cloned()
            .unwrap_or_else(|| spec.internal_ip.clone());
        Ok(Member {
            vm: vm.to_string(),
            group: spec.group.clone(),
            role: spec.role,
            addr,
            engine,
        })
    }
}

/// Whether a state key is a Swarm member's (`swarm.init`, `swarm.join.*`).
fn is_member_node(node: &str) -> bool {
    node.parse::<NodeId>()
        .is_ok_and(|id| matches!(id.kind(), NodeKind::SwarmInit | NodeKind::SwarmJoin))
}

/// The state entry of a Swarm member or stack object `change` made: the
/// body it sent, what it waits for, and what the step learned (`assigned`).
fn state_entry(change: &Change, assigned: BTreeMap<String, String>) -> ResourceState {
    ResourceState {
        kind: change.kind.clone(),
        name: change.name.clone(),
        collection: change.collection.clone(),
        attributes: change
            .body
            .as_ref()
            .map(crate::state::Attributes::of_body)
            .unwrap_or_default(),
        depends_on: change.depends_on.iter().map(NodeId::to_string).collect(),
        assigned,
        ..ResourceState::default()
    }
}
