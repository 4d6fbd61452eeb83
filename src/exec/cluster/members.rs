//! The Swarm members' steps: a VM ready and its host keys pinned (or
//! checked against the pins), then formed with the managers already in the
//! Swarm, one membership change at a time (a manager whose VM restarted
//! also awaited until it is reachable again); and a member the program no
//! longer has taken out of the Swarm before its VM goes.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use super::{CLUSTER_ID, ClusterCtx, LOGIN_PATIENCE};
use crate::exec::engine::Engine;
use crate::exec::reach;
use crate::exec::swarm::{self, Member, Role};
use crate::graph::NodeKind;
use crate::plan::{Action, Change};
use crate::state::ResourceState;

/// How often a restarted VM's engine is asked meanwhile.
const ENGINE_RETRY: Duration = Duration::from_millis(500);

impl ClusterCtx {
    /// Waits for `vm` to be ready and reads the host keys it publishes:
    /// pinned afresh when `fresh` (a member made in this run), else they
    /// must be the pinned ones. Returns the pins.
    async fn ready_and_pinned(
        &self,
        vm: &str,
        fresh: bool,
    ) -> Result<BTreeMap<String, String>, String> {
        let spec = self.spec(vm)?;
        let path = self.instance(vm, spec);
        let client = &self.gce.client;
        reach::wait_ready(client, &path, vm, self.ready)
            .await
            .map_err(|e| e.to_string())?;
        let published = reach::host_keys(client, &path, vm)
            .await
            .map_err(|e| e.to_string())?;
        let mut pins = BTreeMap::new();
        reach::pin(&mut pins, &published);
        if !fresh && let Some(before) = self.pins_of(vm) {
            let old: BTreeMap<String, String> = reach::pin_entries(&before);
            if !old.is_empty() && old != pins {
                return Err(format!(
                    "VM `{vm}` publishes host keys other than the ones pinned in the state; \
                     nothing was run there (if the VM was made again on purpose, run \
                     `sdbc destroy --target swarm.join.{vm}` or re-create it with sdbc)"
                ));
            }
        }
        Ok(pins)
    }

    /// `swarm.init` / `swarm.join.VM`: the VM ready, its keys pinned or
    /// checked, then formed with the managers already in the Swarm.
    pub(super) async fn member_step(&self, change: &Change) -> Result<ResourceState, String> {
        let vm = change.name.as_str();
        let fresh = matches!(
            change.action,
            Action::Create | Action::Replace | Action::Adopt
        );
        let pins = self.ready_and_pinned(vm, fresh).await?;
        let _one_at_a_time = self.inner.formation.lock().await;
        // A VM made again answers with new keys: forget its old session.
        self.inner.sessions.lock().await.remove(vm);
        let engine = self.engine_within(vm, &pins, LOGIN_PATIENCE).await?;
        let restarted = change.action == Action::Update;
        if restarted {
            self.until_engine_answers(vm, &engine).await?;
        }
        let mut members = Vec::new();
        for (m, m_pins) in self.known_managers() {
            if m != vm
                && let Ok(e) = self.engine(&m, &m_pins).await
            {
                members.push(self.member(&m, e)?);
            }
        }
        let me = self.member(vm, engine)?;
        // Managers first (the leader is the first manager in a Swarm).
        let at = if me.role == Role::Manager && change.node.kind() == NodeKind::SwarmInit {
            0
        } else {
            members.len()
        };
        members.insert(at, me);
        let formed = swarm::form(&members).await.map_err(|e| e.to_string())?;
        if let Some(swarm::Outcome::Failed(e)) = formed.outcomes.get(vm) {
            return Err(e.to_string());
        }
        if restarted && self.spec(vm)?.role == Role::Manager {
            self.until_reachable(vm).await?;
        }
        let mut assigned = pins;
        assigned.insert(CLUSTER_ID.to_string(), formed.cluster_id.clone());
        Ok(super::state_entry(change, assigned))
    }

    /// Waits (up to `self.reachable`) until the engine of a restarted VM
    /// answers: its SSH server may be up before its engine.
    async fn until_engine_answers(&self, vm: &str, engine: &Engine) -> Result<(), String> {
        let start = Instant::now();
        loop {
            match engine.get("/info").await {
                Ok(_) => return Ok(()),
                Err(e) if start.elapsed() >= self.reachable => {
                    return Err(format!(
                        "VM `{vm}`: its engine does not answer {}s after its restart ({e})",
                        self.reachable.as_secs()
                    ));
                }
                Err(_) => tokio::time::sleep(ENGINE_RETRY).await,
            }
        }
    }

    /// Waits (up to `self.reachable`) until the restarted manager `vm` is
    /// back as a reachable manager, as another manager whose engine answers
    /// lists the nodes (itself when no other does); a timeout is an error
    /// naming the VM, which stops the steps that wait on this one.
    async fn until_reachable(&self, vm: &str) -> Result<(), String> {
        let mut asked = None;
        for (m, m_pins) in self.known_managers() {
            if m == vm {
                continue;
            }
            if let Ok(e) = self.engine(&m, &m_pins).await
                && swarm::list_nodes(&e).await.is_ok()
            {
                asked = Some(e);
                break;
            }
        }
        let asked = match asked {
            Some(e) => e,
            None => {
                self.engine(vm, &self.pins_of(vm).unwrap_or_default())
                    .await?
            }
        };
        swarm::wait_manager_reachable(&asked, vm, self.reachable)
            .await
            .map(|_| ())
            .map_err(|e| e.to_string())
    }

    /// A member the program no longer has: demoted, drained and removed
    /// from the Swarm before its VM goes (nothing when the whole Swarm goes).
    pub(super) async fn leave_step(&self, change: &Change) -> Result<(), String> {
        if self.whole_swarm_goes || change.node.kind() == NodeKind::SwarmInit {
            return Ok(());
        }
        let vm = change.name.as_str();
        let _one_at_a_time = self.inner.formation.lock().await;
        let pins = self.pins_of(vm).unwrap_or_default();
        let engine = self.engine(vm, &pins).await?;
        let others: Vec<_> = self
            .known_managers()
            .into_iter()
            .filter(|(m, _)| m != vm)
            .collect();
        let mut manager = None;
        for (m, p) in others {
            if let Ok(e) = self.engine(&m, &p).await {
                manager = Some(e);
                break;
            }
        }
        let manager =
            manager.ok_or_else(|| format!("no other manager answers to remove `{vm}`"))?;
        let spec = self.known_member(vm);
        let member = Member {
            vm: vm.to_string(),
            group: spec.0,
            role: spec.1,
            addr: String::new(),
            engine,
        };
        swarm::remove(&manager, &member)
            .await
            .map_err(|e| e.to_string())
    }

    /// Group and role of a member from its entry (it may be gone from the program).
    fn known_member(&self, vm: &str) -> (String, Role) {
        let known = self.inner.known.lock().unwrap_or_else(|p| p.into_inner());
        let attributes = known
            .get(vm)
            .map(|r| r.attributes.value())
            .unwrap_or_default();
        let role = if attributes["role"] == "manager" {
            Role::Manager
        } else {
            Role::Worker
        };
        let group = attributes["group"].as_str().unwrap_or_default().to_string();
        (group, role)
    }
}
