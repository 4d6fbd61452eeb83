//! The seam between the scheduler and the platforms: one executor per
//! layer of the dependency graph. The scheduler ([`super::Runner`]) decides
//! when a step runs; the executor of the step's layer decides how. Compute
//! Engine runs the `cloud` and `hosts` layers; the cluster executor
//! ([`crate::exec::cluster`]) runs the Swarm formation and the stack
//! (`swarm` and `stack` layers) over SSH to the VMs.

use std::collections::BTreeMap;

use super::{InFlight, Phase, Step, StepCtx, StepError};
use crate::graph::{Layer, NodeId};
use crate::plan::{Action, Change};
use crate::state::{ResourceState, State};

/// What runs the steps of some layers. Cheap to clone into a task.
#[derive(Clone)]
pub enum Executor {
    /// Compute Engine resources and VMs.
    Gce(StepCtx),
    /// The Swarm formation and the stack.
    Cluster(crate::exec::cluster::ClusterCtx),
}

impl Executor {
    /// The layers whose steps it runs.
    pub fn layers(&self) -> &'static [Layer] {
        match self {
            Executor::Gce(_) => &[Layer::Cloud, Layer::Hosts],
            Executor::Cluster(_) => crate::exec::cluster::ClusterCtx::layers(),
        }
    }

    /// The operations it has in flight, if it tracks any.
    fn in_flight(&self) -> Option<&InFlight> {
        match self {
            Executor::Gce(ctx) => Some(&ctx.in_flight),
            Executor::Cluster(_) => None,
        }
    }

    /// Learns what earlier runs recorded (values other steps refer to).
    fn prepare(&self, state: &State) {
        let learn = |ctx: &StepCtx| {
            let mut known = ctx.assigned.lock().unwrap_or_else(|p| p.into_inner());
            for (node, r) in &state.resources {
                known.insert(node.clone(), r.assigned.clone());
            }
        };
        match self {
            Executor::Gce(ctx) => learn(ctx),
            Executor::Cluster(ctx) => {
                // The VMs' addresses, also when Compute Engine is not run.
                learn(&ctx.gce);
                ctx.prepare(state);
            }
        }
    }

    /// Runs one step; what the state should now hold for its node (`None`: nothing).
    pub async fn run(
        &self,
        step: &Step,
        change: &Change,
    ) -> Result<Option<ResourceState>, StepError> {
        match self {
            Executor::Gce(ctx) => match (step.phase, change.action) {
                (Phase::Delete, _) => ctx.delete(change).await.map(|()| None),
                (Phase::Forward, Action::Create | Action::Replace) => {
                    ctx.create(change).await.map(Some)
                }
                (Phase::Forward, Action::Update | Action::UpdateRestart) => {
                    ctx.update(change).await.map(Some)
                }
                (Phase::Forward, Action::Adopt) => {
                    let body = change.body_value();
                    ctx.record(change, &body).await.map(Some)
                }
                (Phase::Forward, Action::NoOp | Action::Delete | Action::Refused) => Ok(None),
            },
            Executor::Cluster(ctx) => ctx.run(step.phase == Phase::Delete, change).await,
        }
    }

    /// Takes note of a finished step's result (`None`: the node is gone).
    fn recorded(&self, node: &NodeId, resource: Option<&ResourceState>) {
        match self {
            Executor::Gce(ctx) => {
                let mut known = ctx.assigned.lock().unwrap_or_else(|p| p.into_inner());
                match resource {
                    Some(r) => known.insert(node.to_string(), r.assigned.clone()),
                    None => known.remove(node.as_str()),
                };
            }
            Executor::Cluster(ctx) => ctx.recorded(node, resource),
        }
    }
}

/// The executor of every layer that has one.
#[derive(Clone, Default)]
pub struct Executors {
    by_layer: BTreeMap<Layer, Executor>,
}

impl Executors {
    /// `executor` for each of its layers (replacing any earlier one).
    pub fn with(mut self, executor: Executor) -> Executors {
        for &layer in executor.layers() {
            self.by_layer.insert(layer, executor.clone());
        }
        self
    }

    pub fn for_node(&self, node: &NodeId) -> Option<&Executor> {
        self.by_layer.get(&node.layer())
    }

    /// The Compute Engine executor's operations in flight, if it runs here.
    pub(super) fn in_flight(&self) -> Option<&InFlight> {
        self.by_layer.values().find_map(Executor::in_flight)
    }

    /// Resolves when the operations in flight changed (never without any executor that has them).
    pub(super) async fn in_flight_changed(&self) {
        match self.in_flight() {
            Some(f) => f.changed().await,
            None => std::future::pending().await,
        }
    }

    /// Every executor once, in layer order.
    fn each(&self) -> impl Iterator<Item = &Executor> {
        let mut seen: Vec<&'static [Layer]> = Vec::new();
        self.by_layer.values().filter(move |e| {
            let first = !seen.contains(&e.layers());
            seen.push(e.layers());
            first
        })
    }

    pub(super) fn prepare(&self, state: &State) {
        self.each().for_each(|e| e.prepare(state));
    }

    pub(super) fn recorded(&self, node: &NodeId, resource: Option<&ResourceState>) {
        if let Some(e) = self.for_node(node) {
            e.recorded(node, resource);
        }
    }

    /// Runs `step` with its layer's executor.
    pub(super) async fn run(
        &self,
        step: &Step,
        change: &Change,
    ) -> Result<Option<ResourceState>, StepError> {
        // A change the plan refused fails unsent, whatever its layer.
        if step.phase == Phase::Forward && change.action == Action::Refused {
            let why = change.reason.clone();
            return Err(StepError::Refused(
                why.unwrap_or_else(|| String::from("refused by the plan")),
            ));
        }
        match self.for_node(&change.node) {
            Some(e) => e.run(step, change).await,
            None => Err(StepError::NoExecutor(change.node.layer())),
        }
    }
}
