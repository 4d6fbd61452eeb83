//! What a run did: one report per step (its outcome, a failure with its
//! kind, its duration) and, for `apply --json` and `destroy --json`, the
//! whole run as JSON for scripts (the benchmarks read it).

use std::time::Duration;

use serde::Serialize;

use super::{Phase, StepError};
use crate::exec::{ClientStats, ErrorKind};
use crate::graph::NodeId;
use crate::plan::Action;

/// Why a step failed: the kind of failure, kept from the error that caused
/// it, and the message shown to the user.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Failure {
    pub kind: ErrorKind,
    pub message: String,
}

impl Failure {
    pub fn of(e: &StepError) -> Failure {
        Failure {
            kind: e.kind(),
            message: e.to_string(),
        }
    }
}

impl std::fmt::Display for Failure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    Done,
    Failed(Failure),
    /// Not run because a step it depends on failed.
    Skipped(String),
    /// Not started because the run was interrupted.
    NotStarted,
}

#[derive(Debug, Clone)]
pub struct StepReport {
    pub id: String,
    pub node: NodeId,
    pub action: Action,
    pub phase: Phase,
    pub outcome: Outcome,
    pub duration: Duration,
}

#[derive(Debug, Clone, Default)]
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

    pub fn count(&self, done: bool) -> usize {
        self.steps
            .iter()
            .filter(|s| (s.outcome == Outcome::Done) == done)
            .count()
    }

    /// The run as pretty JSON with a trailing newline: counts, the
    /// client's request figures, and every step with its outcome.
    pub fn to_json(&self, stats: ClientStats) -> String {
        let steps = self.steps.iter().map(JsonStep::of).collect();
        let summary = JsonRun {
            ok: self.ok(),
            interrupted: self.interrupted,
            elapsed_s: self.elapsed.as_secs_f64(),
            steps_done: self.count(true),
            steps_failed: self.failed().count(),
            requests: stats.requests,
            mutating: stats.mutating,
            retries: stats.retries,
            steps,
        };
        let mut out = serde_json::to_string_pretty(&summary).expect("a report always serializes");
        out.push('\n');
        out
    }
}

#[derive(Serialize)]
struct JsonRun<'a> {
    ok: bool,
    interrupted: bool,
    elapsed_s: f64,
    steps_done: usize,
    steps_failed: usize,
    requests: u64,
    mutating: u64,
    retries: u64,
    steps: Vec<JsonStep<'a>>,
}

#[derive(Serialize)]
struct JsonStep<'a> {
    id: &'a str,
    node: &'a NodeId,
    action: Action,
    /// `done`, `failed`, `skipped` or `not-started`.
    outcome: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    kind: Option<ErrorKind>,
    #[serde(skip_serializing_if = "Option::is_none")]
    message: Option<&'a str>,
    duration_s: f64,
}

impl<'a> JsonStep<'a> {
    fn of(s: &'a StepReport) -> JsonStep<'a> {
        let (outcome, kind, message) = match &s.outcome {
            Outcome::Done => ("done", None, None),
            Outcome::Failed(f) => ("failed", Some(f.kind), Some(f.message.as_str())),
            Outcome::Skipped(why) => ("skipped", None, Some(why.as_str())),
            Outcome::NotStarted => ("not-started", None, None),
        };
        JsonStep {
            id: &s.id,
            node: &s.node,
            action: s.action,
            outcome,
            kind,
            message,
            duration_s: s.duration.as_secs_f64(),
        }
    }
}
