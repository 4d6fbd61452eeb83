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
//!
//! What a step waits for and the order ready steps start in come from the
//! dependency graph ([`schedule`]); how a step runs is up to the executor
//! of its node's layer ([`executor`]).

pub mod executor;
mod in_flight;
mod keep;
mod report;
pub mod schedule;
mod steps;

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use tokio::task::JoinSet;

pub use executor::{Executor, Executors};
pub use in_flight::InFlight;
pub use report::{ApplyReport, Failure, Outcome, StepReport};
pub use schedule::steps;
pub use steps::{Assigned, StepCtx, StepError, fill_body, state_of};

use crate::plan::{Change, Plan};
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

/// Told about steps as they start and finish (the CLI's progress display).
pub trait Progress {
    fn started(&self, step: &Step, change: &Change, running: usize, done: usize, total: usize);
    fn finished(&self, report: &StepReport, running: usize, done: usize, total: usize);
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
    pub executors: Executors,
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
        let rank = schedule::ranks(&all);
        self.executors.prepare(state);
        let mut waiting: Vec<usize> = all.iter().map(|s| s.deps.len()).collect();
        let mut dependents: Vec<Vec<usize>> = vec![Vec::new(); all.len()];
        for (i, s) in all.iter().enumerate() {
            for &d in &s.deps {
                dependents[d].push(i);
            }
        }
        // Conflicting resources are never touched: their steps fail unsent.
        let conflicts: BTreeMap<&str, Failure> = plan
            .conflicts
            .iter()
            .map(|c| {
                let failure = Failure {
                    kind: crate::exec::ErrorKind::NotOwned,
                    message: c.to_string(),
                };
                (c.node.as_str(), failure)
            })
            .collect();
        let mut outcome: Vec<Option<StepReport>> = vec![None; all.len()];
        // Ready steps by (rank, index): the first is the next to start.
        let mut ready: BTreeSet<(usize, usize)> = (0..all.len())
            .filter(|&i| waiting[i] == 0)
            .map(|i| (rank[i], i))
            .collect();
        let mut running: JoinSet<(
            usize,
            Result<Option<crate::state::ResourceState>, Failure>,
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
                let Some((_, i)) = ready.pop_first() else {
                    break;
                };
                let step = all[i].clone();
                let change = plan.changes[step.change].clone();
                self.progress
                    .started(&step, &change, running.len() + 1, done, all.len());
                let executors = self.executors.clone();
                let conflict = conflicts.get(change.node.as_str()).cloned();
                running.spawn(async move {
                    let t = Instant::now();
                    let r = match conflict {
                        Some(c) => Err(c),
                        None => executors
                            .run(&step, &change)
                            .await
                            .map_err(|e| Failure::of(&e)),
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
                () = self.executors.in_flight_changed(), if !running.is_empty() => {
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
                                    ready.insert((rank[n], n));
                                }
                            }
                            Outcome::Done
                        }
                        Err(failure) => {
                            skip_dependents(i, &all, &dependents, &mut outcome, plan);
                            Outcome::Failed(failure)
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
        match (step.phase, resource) {
            (Phase::Delete, _) | (_, None) => {
                state.resources.remove(change.node.as_str());
                self.executors.recorded(&change.node, None);
            }
            (Phase::Forward, Some(r)) => {
                self.executors.recorded(&change.node, Some(&r));
                state.resources.insert(change.node.to_string(), r);
            }
        }
    }

    /// Saves a copy of `state` on the blocking pool, bumping `state.serial`
    /// as the save bumps the copy's.
    fn start_save(&self, state: &mut State) -> tokio::task::JoinHandle<Result<(), StateError>> {
        if let Some(in_flight) = self.executors.in_flight() {
            state.operations = in_flight.snapshot();
        }
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

/// Shared handle for a cancel flag that a signal handler sets.
pub fn cancel_flag() -> Arc<AtomicBool> {
    Arc::new(AtomicBool::new(false))
}
