//! Progress of `apply` and `destroy`: on a terminal, a live block with one
//! line per running step and the counts, redrawn as steps start and finish;
//! otherwise plain lines. A summary with every step's duration at the end.

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::io::{IsTerminal, Write};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use crate::diag::ColorChoice;
use crate::exec::ClientStats;
use crate::exec::apply::{ApplyReport, Outcome, Phase, Progress, Step, StepReport};
use crate::plan::{Action, Change};

/// Running steps: node -> (what it does, since when).
#[derive(Clone, Default)]
pub struct Running(Arc<Mutex<BTreeMap<String, (String, Instant)>>>);

impl Running {
    fn lock(&self) -> std::sync::MutexGuard<'_, BTreeMap<String, (String, Instant)>> {
        self.0.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// `creating gce.vm.a (12s), deleting gce.disk.b (3s)`.
    pub fn describe(&self) -> String {
        let running = self.lock();
        let parts: Vec<String> = running
            .iter()
            .map(|(node, (verb, since))| format!("{verb} {node} ({}s)", since.elapsed().as_secs()))
            .collect();
        parts.join(", ")
    }
}

pub struct CliProgress {
    live: bool,
    color: bool,
    start: Instant,
    running: Running,
    drawn: RefCell<usize>,
}

impl CliProgress {
    pub fn new(color: ColorChoice) -> Self {
        let live = std::io::stderr().is_terminal();
        super::retries::notes().set_live_block(live);
        CliProgress {
            live,
            color: color == ColorChoice::Always,
            start: Instant::now(),
            running: Running::default(),
            drawn: RefCell::new(0),
        }
    }

    /// The steps running now, shared (for what a second Ctrl-C reports).
    pub fn running(&self) -> Running {
        self.running.clone()
    }

    fn verb(action: Action, phase: Phase) -> &'static str {
        match (phase, action) {
            (Phase::Delete, _) => "deleting",
            (_, Action::Create | Action::Replace) => "creating",
            (_, Action::Update | Action::UpdateRestart) => "updating",
            (_, Action::Adopt) => "adopting",
            _ => "checking",
        }
    }

    fn clear(&self, err: &mut impl Write) {
        // Retry lines written under the block go with it (see `retries`).
        let n = *self.drawn.borrow() + super::retries::notes().take_lines_below();
        for _ in 0..n {
            let _ = write!(err, "\x1b[1A\x1b[2K");
        }
        *self.drawn.borrow_mut() = 0;
    }

    fn draw(&self, err: &mut impl Write, done: usize, total: usize) {
        let running = self.running.lock();
        let mut lines = 0;
        for (node, (verb, since)) in running.iter().take(12) {
            let _ = writeln!(err, "  {verb} {node} ({}s)", since.elapsed().as_secs());
            lines += 1;
        }
        if running.len() > 12 {
            let _ = writeln!(err, "  … and {} more", running.len() - 12);
            lines += 1;
        }
        if let Some(retry) = super::retries::notes().latest() {
            let _ = writeln!(err, "  {retry}");
            lines += 1;
        }
        let _ = writeln!(
            err,
            "[{done}/{total} done, {} running, {}s]",
            running.len(),
            self.start.elapsed().as_secs()
        );
        *self.drawn.borrow_mut() = lines + 1;
    }

    fn mark(&self, outcome: &Outcome) -> String {
        let (sym, code) = match outcome {
            Outcome::Done => ("✓", "\x1b[32m"),
            Outcome::Failed(_) => ("✗", "\x1b[31m"),
            Outcome::Skipped(_) | Outcome::NotStarted => ("-", "\x1b[33m"),
        };
        if self.color {
            format!("{code}{sym}\x1b[0m")
        } else {
            sym.to_string()
        }
    }

    /// Every step, its outcome and duration; then the failures.
    pub fn summary(&self, report: &ApplyReport, stats: ClientStats) {
        let mut err = std::io::stderr().lock();
        if self.live {
            self.clear(&mut err);
        }
        super::retries::notes().set_live_block(false);
        let _ = writeln!(err, "\nsteps:");
        for s in &report.steps {
            let what = match &s.outcome {
                Outcome::Done => String::from("done"),
                Outcome::Failed(m) => format!("failed: {m}"),
                Outcome::Skipped(m) => format!("skipped: {m}"),
                Outcome::NotStarted => String::from("not started"),
            };
            let _ = writeln!(
                err,
                "  {} {:<40} {:>7.1}s  {what}",
                self.mark(&s.outcome),
                s.id,
                s.duration.as_secs_f64()
            );
        }
        let done = report
            .steps
            .iter()
            .filter(|s| s.outcome == Outcome::Done)
            .count();
        let failed = report.failed().count();
        let _ = writeln!(
            err,
            "\n{done} of {} steps done, {failed} failed, in {:.1}s ({} API requests, {} mutating, {} retries){}",
            report.steps.len(),
            report.elapsed.as_secs_f64(),
            stats.requests,
            stats.mutating,
            stats.retries,
            if report.interrupted {
                "; interrupted, state saved"
            } else {
                ""
            }
        );
    }
}

impl Progress for CliProgress {
    fn started(&self, step: &Step, change: &Change, _running: usize, done: usize, total: usize) {
        let mut err = std::io::stderr().lock();
        let verb = Self::verb(change.action, step.phase);
        self.running
            .lock()
            .insert(change.node.to_string(), (verb.to_string(), Instant::now()));
        if self.live {
            self.clear(&mut err);
            self.draw(&mut err, done, total);
        } else {
            let _ = writeln!(err, "[{done}/{total}] {verb} {}", change.node);
        }
    }

    fn finished(&self, report: &StepReport, _running: usize, done: usize, total: usize) {
        let mut err = std::io::stderr().lock();
        self.running.lock().remove(report.node.as_str());
        if self.live {
            self.clear(&mut err);
        }
        let what = match &report.outcome {
            Outcome::Done => String::new(),
            Outcome::Failed(m) => format!(": {m}"),
            Outcome::Skipped(m) => format!(": skipped, {m}"),
            Outcome::NotStarted => String::from(": not started"),
        };
        let _ = writeln!(
            err,
            "[{done}/{total}] {} {} ({:.1}s){what}",
            self.mark(&report.outcome),
            report.id,
            report.duration.as_secs_f64()
        );
        if self.live {
            self.draw(&mut err, done, total);
        }
    }
}
