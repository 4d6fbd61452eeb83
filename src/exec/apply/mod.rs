//! Applying a plan: every change becomes one step (a replace becomes a
//! delete step and a create step), steps run as soon as what they depend on
//! is done, at most `parallel` at a time, inside the client's request
//! budget. State is saved after every completed step (steps that finish
//! while a save is being written go into the next one). A failed step stops
//! only the steps that depend on it; everything independent still runs,
//! and all failures are reported at the end. When `cancel` is set (Ctrl-C)
//! no new step starts; the ones in flight finish and are saved. Inserts and
//! deletes are saved in the state as they start ([`InFlight`]), so a run
//! killed meanwhile leaves the next one the operations to wait for.

mod in_flight;
mod keep;
mod steps;

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use tokio::task::JoinSet;

pub use in_flight::InFlight;
pub use steps::{Assigned, StepCtx, StepError, fill_body, state_of};

use crate::plan::{Action, Change, Plan};
use crate::state::{State, StateError, StateStore};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    /// Create, update, adopt, or the second half of a replace.
    Forward,
    /// Delete, or the first half of a replace.
    Delete,
}

/// One unit of work.
#[derive(Debug, Clone)]
pub struct Step {
    pub id: String,
    pub change: usize,
    pub phase: Phase,
    pub deps: Vec<usize>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    Done,
    Failed(String),
    /// Not run because a step it depends on failed.
    Skipped(String),
    /// Not started because the run was interrupted.
    NotStarted,
}

#[derive(Debug, Clone)]
pub struct StepReport {
    pub id: String,
    pub node: String,
    pub action: Action,
    pub phase: Phase,
    pub outcome: Outcome,
    pub duration: Duration,
}

#[derive(Debug, Clone)]
pub struct ApplyReport {
    pub steps: Vec<StepReport>,
    pub interrupted: bool,
    pub elapsed: Duration,
}

impl ApplyReport {
    pub fn failed(&self) -> impl Iterator<Item = &StepReport> {
        self.steps
            .iter()
            .filter(|s| matches!(s.outcome, Outcome::Failed(_)))
    }

    pub fn ok(&self) -> bool {
        !self.interrupted && self.steps.iter().all(|s| s.outcome == Outcome::Done)
    }
}

/// Told about steps as they start and finish (the CLI's progress display).
pub trait Progress {
    fn started(&self, step: &Step, change: &Change, running: usize, done: usize, total: usize);
    fn finished(&self, report: &StepReport, running: usize, done: usize, total: usize);
}

/// The steps of a plan with their dependencies.
pub fn steps(plan: &Plan, state: &State) -> Vec<Step> {
    let mut out: Vec<Step> = Vec::new();
    let mut forward: BTreeMap<&str, usize> = BTreeMap::new();
    let mut delete: BTreeMap<&str, usize> = BTreeMap::new();
    for (i, c) in plan.changes.iter().enumerate() {
        let push = |phase: Phase, out: &mut Vec<Step>| {
            let verb = if phase == Phase::Delete {
                "delete"
            } else {
                "apply"
            };
            out.push(Step {
                id: format!("{verb}:{}", c.node),
                change: i,
                phase,
                deps: Vec::new(),
            });
            out.len() - 1
        };
        match c.action {
            Action::NoOp => {}
            Action::Delete => {
                delete.insert(&c.node, push(Phase::Delete, &mut out));
            }
            Action::Replace => {
                let d = push(Phase::Delete, &mut out);
                let f = push(Phase::Forward, &mut out);
                out[f].deps.push(d);
                delete.insert(&c.node, d);
                forward.insert(&c.node, f);
            }
            _ => {
                forward.insert(&c.node, push(Phase::Forward, &mut out));
            }
        }
    }
    // node -> the delete steps of the resources that needed it (as the
    // state recorded, or as the plan worked out for resources the state
    // did not know): a delete waits for those.
    let mut needed_by: std::collections::HashMap<&str, Vec<usize>> =
        std::collections::HashMap::new();
    for (node, &d) in &delete {
        let c = &plan.changes[out[d].change];
        let recorded = state.resources.get(*node).map(|r| r.depends_on.iter());
        let planned = (c.action == Action::Delete).then(|| c.depends_on.iter());
        for used in recorded
            .into_iter()
            .flatten()
            .chain(planned.into_iter().flatten())
        {
            needed_by.entry(used.as_str()).or_default().push(d);
        }
    }
    let deps: Vec<Vec<usize>> = out
        .iter()
        .enumerate()
        .map(|(me, s)| {
            let c = &plan.changes[s.change];
            let mut deps: Vec<usize> = match s.phase {
                Phase::Forward => s
                    .deps
                    .iter()
                    .copied()
                    .chain(
                        c.depends_on
                            .iter()
                            .filter_map(|d| forward.get(d.as_str()).copied()),
                    )
                    .collect(),
                // Deleted after everything being deleted that needed it.
                Phase::Delete => needed_by
                    .get(c.node.as_str())
                    .into_iter()
                    .flatten()
                    .copied()
                    .filter(|d| *d != me)
                    .collect(),
            };
            deps.sort_unstable();
            deps.dedup();
            deps
        })
        .collect();
    for (s, d) in out.iter_mut().zip(deps) {
        s.deps = d;
    }
    out
}

/// Why a run stopped early (step failures are in the report, not here).
#[derive(Debug, thiserror::Error)]
pub enum ApplyError {
    #[error("could not save the state: {0}")]
    State(#[from] StateError),
    #[error("a step crashed: {0}")]
    Panicked(String),
}

pub struct Runner<'a> {
    pub ctx: StepCtx,
    pub store: &'a StateStore,
    pub parallel: usize,
    pub cancel: &'a AtomicBool,
    pub progress: &'a dyn Progress,
}

impl Runner<'_> {
    /// Runs the plan's steps, saving `state` after each; returns what happened.
    pub async fn run(&self, plan: &Plan, state: &mut State) -> Result<ApplyReport, ApplyError> {
        let start = Instant::now();
        let all = steps(plan, state);
        {
            let mut known = self.ctx.assigned.lock().unwrap_or_else(|p| p.into_inner());
            for (node, r) in &state.resources {
                known.insert(node.clone(), r.assigned.clone());
            }
        }
        let mut waiting: Vec<usize> = all.iter().map(|s| s.deps.len()).collect();
        let mut dependents: Vec<Vec<usize>> = vec![Vec::new(); all.len()];
        for (i, s) in all.iter().enumerate() {
            for &d in &s.deps {
                dependents[d].push(i);
            }
        }
        // Conflicting resources are never touched: their steps fail unsent.
        let conflicts: BTreeMap<&str, String> = plan
            .conflicts
            .iter()
            .map(|c| (c.node.as_str(), c.to_string()))
            .collect();
        let mut outcome: Vec<Option<StepReport>> = vec![None; all.len()];
        let mut ready: Vec<usize> = (0..all.len()).filter(|&i| waiting[i] == 0).rev().collect();
        let mut running: JoinSet<(
            usize,
            Result<Option<crate::state::ResourceState>, String>,
            Duration,
        )> = JoinSet::new();
        let mut done = 0;
        // Group commit: a save runs on the blocking pool while steps go on;
        // steps that finish meanwhile are written together by the next save.
        // Every completed step is on disk before the run returns, and the
        // file never lags more than one save behind.
        let mut saving: Option<tokio::task::JoinHandle<Result<(), StateError>>> = None;
        let mut dirty = false;
        loop {
            while running.len() < self.parallel.max(1) && !self.cancel.load(Ordering::SeqCst) {
                let Some(i) = ready.pop() else { break };
                let step = all[i].clone();
                let change = plan.changes[step.change].clone();
                self.progress
                    .started(&step, &change, running.len() + 1, done, all.len());
                let ctx = self.ctx.clone();
                let conflict = conflicts.get(change.node.as_str()).cloned();
                running.spawn(async move {
                    let t = Instant::now();
                    let r = match conflict {
                        Some(c) => Err(c),
                        None => run_step(&ctx, &step, &change)
                            .await
                            .map_err(|e| e.to_string()),
                    };
                    (i, r, t.elapsed())
                });
            }
            if saving.is_none() && dirty {
                saving = Some(self.start_save(state));
                dirty = false;
            }
            if running.is_empty() && saving.is_none() {
                break;
            }
            tokio::select! {
                saved = async {
                    match saving.as_mut() {
                        Some(handle) => handle.await,
                        None => std::future::pending().await,
                    }
                } => {
                    saving = None;
                    saved.map_err(|e| ApplyError::Panicked(e.to_string()))??;
                    continue;
                }
                () = self.ctx.in_flight.changed(), if !running.is_empty() => {
                    dirty = true;
                    continue;
                }
                joined = running.join_next(), if !running.is_empty() => {
                    let Some(joined) = joined else { continue };
                    let (i, result, duration) = match joined {
                        Ok(x) => x,
                        Err(e) => return Err(ApplyError::Panicked(e.to_string())),
                    };
                    done += 1;
                    let step = &all[i];
                    let change = &plan.changes[step.change];
                    let report_outcome = match result {
                        Ok(resource) => {
                            self.record(state, step, change, resource);
                            dirty = true;
                            for &n in &dependents[i] {
                                waiting[n] -= 1;
                                if waiting[n] == 0 {
                                    ready.push(n);
                                }
                            }
                            ready.sort_by(|a, b| all[*b].id.cmp(&all[*a].id));
                            Outcome::Done
                        }
                        Err(message) => {
                            skip_dependents(i, &all, &dependents, &mut outcome, plan);
                            Outcome::Failed(message)
                        }
                    };
                    let report = StepReport {
                        id: step.id.clone(),
                        node: change.node.clone(),
                        action: change.action,
                        phase: step.phase,
                        outcome: report_outcome,
                        duration,
                    };
                    self.progress
                        .finished(&report, running.len(), done, all.len());
                    outcome[i] = Some(report);
                }
            }
        }
        let interrupted = self.cancel.load(Ordering::SeqCst);
        let steps = all
            .iter()
            .enumerate()
            .map(|(i, s)| {
                outcome[i].clone().unwrap_or_else(|| {
                    let c = &plan.changes[s.change];
                    StepReport {
                        id: s.id.clone(),
                        node: c.node.clone(),
                        action: c.action,
                        phase: s.phase,
                        outcome: Outcome::NotStarted,
                        duration: Duration::ZERO,
                    }
                })
            })
            .collect();
        Ok(ApplyReport {
            steps,
            interrupted,
            elapsed: start.elapsed(),
        })
    }

    /// Records a finished step in the state (in memory; see `start_save`).
    fn record(
        &self,
        state: &mut State,
        step: &Step,
        change: &Change,
        resource: Option<crate::state::ResourceState>,
    ) {
        let mut known = self.ctx.assigned.lock().unwrap_or_else(|p| p.into_inner());
        match (step.phase, resource) {
            (Phase::Delete, _) | (_, None) => {
                state.resources.remove(&change.node);
                known.remove(&change.node);
            }
            (Phase::Forward, Some(r)) => {
                known.insert(change.node.clone(), r.assigned.clone());
                state.resources.insert(change.node.clone(), r);
            }
        }
    }

    /// Saves a copy of `state` on the blocking pool, bumping `state.serial`
    /// as the save bumps the copy's.
    fn start_save(&self, state: &mut State) -> tokio::task::JoinHandle<Result<(), StateError>> {
        state.operations = self.ctx.in_flight.snapshot();
        let mut snapshot = state.clone();
        state.serial += 1;
        let store = self.store.clone();
        tokio::task::spawn_blocking(move || store.save(&mut snapshot))
    }
}

fn skip_dependents(
    failed: usize,
    all: &[Step],
    dependents: &[Vec<usize>],
    outcome: &mut [Option<StepReport>],
    plan: &Plan,
) {
    let mut stack = dependents[failed].clone();
    while let Some(n) = stack.pop() {
        if outcome[n].is_some() {
            continue;
        }
        let c = &plan.changes[all[n].change];
        outcome[n] = Some(StepReport {
            id: all[n].id.clone(),
            node: c.node.clone(),
            action: c.action,
            phase: all[n].phase,
            outcome: Outcome::Skipped(format!("`{}` failed", all[failed].id)),
            duration: Duration::ZERO,
        });
        stack.extend(dependents[n].iter().copied());
    }
}

async fn run_step(
    ctx: &StepCtx,
    step: &Step,
    change: &Change,
) -> Result<Option<crate::state::ResourceState>, StepError> {
    match (step.phase, change.action) {
        (Phase::Delete, _) => ctx.delete(change).await.map(|()| None),
        (Phase::Forward, Action::Create | Action::Replace) => ctx.create(change).await.map(Some),
        (Phase::Forward, Action::Update | Action::UpdateRestart) => {
            ctx.update(change).await.map(Some)
        }
        (Phase::Forward, Action::Adopt) => {
            let body = change.body.clone().unwrap_or_default();
            ctx.record(change, &body).await.map(Some)
        }
        (Phase::Forward, Action::Refused) => Err(StepError::Other(
            change
                .reason
                .clone()
                .unwrap_or_else(|| String::from("refused by the plan")),
        )),
        (Phase::Forward, Action::NoOp | Action::Delete) => Ok(None),
    }
}

/// Shared handle for a cancel flag that a signal handler sets.
pub fn cancel_flag() -> Arc<AtomicBool> {
    Arc::new(AtomicBool::new(false))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::{Found, make};
    use crate::state::ResourceState;

    fn tracked(collection: &str, name: &str, deps: &[&str]) -> ResourceState {
        ResourceState {
            name: name.into(),
            collection: collection.into(),
            depends_on: deps.iter().map(|d| d.to_string()).collect(),
            ..ResourceState::default()
        }
    }

    fn order(plan: &Plan, state: &State) -> Vec<(String, Vec<String>)> {
        let all = steps(plan, state);
        all.iter()
            .map(|s| {
                let deps = s.deps.iter().map(|d| all[*d].id.clone()).collect();
                (s.id.clone(), deps)
            })
            .collect()
    }

    #[test]
    fn deletes_go_after_what_needed_them_known_or_found() {
        let mut state = State::new("s");
        let vms = "projects/p/zones/z/instances";
        state.resources.insert(
            "gce.network.n".into(),
            tracked("projects/p/global/networks", "n", &[]),
        );
        state
            .resources
            .insert("gce.vm.a".into(), tracked(vms, "a", &["gce.network.n"]));
        // `b` was made by a run that died before saving: found, no deps.
        let found = [Found {
            node: "gce.vm.b".into(),
            kind: "instance".into(),
            name: "b".into(),
            collection: vms.into(),
        }];
        let plan = make("s", None, &[], &state, true, &found);
        assert!(plan.changes.iter().all(|c| c.action == Action::Delete));
        assert_eq!(
            order(&plan, &state),
            [
                (
                    "delete:gce.network.n".to_string(),
                    vec!["delete:gce.vm.a".to_string(), "delete:gce.vm.b".to_string()]
                ),
                ("delete:gce.vm.a".to_string(), vec![]),
                ("delete:gce.vm.b".to_string(), vec![]),
            ]
        );
    }
}
