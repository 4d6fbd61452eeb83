//! Progress of `apply` and `destroy`: on a terminal, a live block with one
//! line per running step and the counts, redrawn as steps start and finish;
//! otherwise plain lines, and every [`HEARTBEAT`] a line naming the steps
//! still running (a VM's first boot can take minutes: silence would look
//! like a hang). A summary with every step's duration at the end.

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::io::{IsTerminal, Write};
use std::sync::{Arc, Mutex, Weak};
use std::time::{Duration, Instant};

use crate::diag::ColorChoice;
use crate::exec::ClientStats;
use crate::exec::apply::{ApplyReport, Outcome, Phase, Progress, Step, StepReport};
use crate::plan::{Action, Change};

/// How often plain output names the steps still running.
const HEARTBEAT: Duration = Duration::from_secs(30);

/// At most this many steps are named in one heartbeat line.
const HEARTBEAT_NAMED: usize = 5;

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

    /// `still running (7): creating swarm.init (30s), … and 2 more`, for
    /// steps running at least a heartbeat; `None` when there are none.
    fn heartbeat(&self) -> Option<String> {
        let running = self.lock();
        let long: Vec<String> = running
            .iter()
            .filter(|(_, (_, since))| since.elapsed() >= HEARTBEAT)
            .map(|(node, (verb, since))| format!("{verb} {node} ({}s)", since.elapsed().as_secs()))
            .collect();
        if long.is_empty() {
            return None;
        }
        let mut line = format!(
            "still running ({}): {}",
            running.len(),
            long.iter()
                .take(HEARTBEAT_NAMED)
                .cloned()
                .collect::<Vec<_>>()
                .join(", ")
        );
        if long.len() > HEARTBEAT_NAMED {
            line.push_str(&format!(", … and {} more", long.len() - HEARTBEAT_NAMED));
        }
        Some(line)
    }

    /// Writes [`Running::heartbeat`] to stderr every [`HEARTBEAT`] until
    /// the progress that owns these steps is gone.
    fn spawn_heartbeat(running: Weak<Mutex<BTreeMap<String, (String, Instant)>>>) {
        std::thread::spawn(move || {
            loop {
                std::thread::sleep(HEARTBEAT);
                let Some(inner) = running.upgrade() else {
                    return;
                };
                if let Some(line) = Running(inner).heartbeat() {
                    let _ = writeln!(std::io::stderr().lock(), "{line}");
                }
            }
        });
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
        let running = Running::default();
        if !live {
            Running::spawn_heartbeat(Arc::downgrade(&running.0));
        }
        CliProgress {
            live,
            color: color == ColorChoice::Always,
            start: Instant::now(),
            running,
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

#[cfg(test)]
mod tests {
    use super::*;

    fn running_for(steps: &[(&str, u64)]) -> Running {
        let running = Running::default();
        for (node, secs) in steps {
            let since = Instant::now()
                .checked_sub(Duration::from_secs(*secs))
                .expect("the test machine has been up for minutes");
            running
                .lock()
                .insert(node.to_string(), (String::from("creating"), since));
        }
        running
    }

    #[test]
    fn a_heartbeat_names_only_steps_running_a_while() {
        assert_eq!(running_for(&[("gce.vm.a", 3)]).heartbeat(), None);
        let line = running_for(&[("gce.vm.a", 3), ("swarm.init", 31)])
            .heartbeat()
            .expect("one step has run past the heartbeat");
        assert_eq!(line, "still running (2): creating swarm.init (31s)");
    }

    #[test]
    fn a_heartbeat_names_at_most_five() {
        let steps: Vec<(String, u64)> = (0..7).map(|i| (format!("gce.vm.m{i}"), 40)).collect();
        let refs: Vec<(&str, u64)> = steps.iter().map(|(n, s)| (n.as_str(), *s)).collect();
        let line = running_for(&refs).heartbeat().expect("all run long");
        assert!(
            line.starts_with("still running (7): creating gce.vm.m0 (40s)"),
            "{line}"
        );
        assert!(line.ends_with(", … and 2 more"), "{line}");
    }
}
