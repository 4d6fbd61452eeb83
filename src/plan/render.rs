//! A plan for people: one line per change with its symbol, the attribute
//! differences under it, a summary line; colour only when asked. Long
//! values (user-data, scripts) are shown by size and digest, never in full.

use std::fmt::Write as _;

use serde_json::Value;

use super::{Action, AttrDiff, Plan};
use crate::state::digest::{Digested, is_long};

const GREEN: &str = "\x1b[32m";
const YELLOW: &str = "\x1b[33m";
const RED: &str = "\x1b[31m";
const CYAN: &str = "\x1b[36m";
const BOLD: &str = "\x1b[1m";
const RESET: &str = "\x1b[0m";

struct Paint {
    on: bool,
}

impl Paint {
    /// Writes `what` into `out`, in colour `code` when painting.
    fn write(&self, out: &mut String, code: &str, what: std::fmt::Arguments) {
        if self.on {
            out.push_str(code);
        }
        let _ = out.write_fmt(what);
        if self.on {
            out.push_str(RESET);
        }
    }

    fn wrap(&self, code: &str, s: &str) -> String {
        if self.on {
            format!("{code}{s}{RESET}")
        } else {
            s.to_string()
        }
    }
}

fn color_of(a: Action) -> &'static str {
    match a {
        Action::Create => GREEN,
        Action::Update | Action::UpdateRestart => YELLOW,
        Action::Replace | Action::Delete | Action::Refused => RED,
        Action::Adopt => CYAN,
        Action::NoOp => "",
    }
}

/// For a change that restarts its resource, what it waits for among the
/// plan's other restarts (the graph orders them, e.g. Swarm managers in
/// turn): a prerequisite that restarts, or the Swarm step of a manager
/// whose VM restarts (back in the Swarm and reachable).
fn restarts_after(plan: &Plan, c: &super::Change) -> Option<String> {
    let restarts = |a: Action| matches!(a, Action::UpdateRestart | Action::Replace);
    if !restarts(c.action) {
        return None;
    }
    let rejoin = Some(super::cluster::VM_RESTARTS);
    let waited: Vec<&super::Change> = plan
        .changes
        .iter()
        .filter(|o| c.depends_on.contains(&o.node))
        .filter(|o| restarts(o.action) || o.reason.as_deref() == rejoin)
        .collect();
    // The nearest: not itself waited for by another of them.
    let o = waited
        .iter()
        .find(|o| !waited.iter().any(|x| x.depends_on.contains(&o.node)))?;
    if restarts(o.action) {
        return Some(format!(
            "restarts after {} is back up (one at a time)",
            o.node
        ));
    }
    let vm = crate::model::NodeId::vm(&o.name);
    Some(format!(
        "restarts after {vm} is back in the swarm and reachable ({}; one at a time)",
        o.node
    ))
}

/// The plan as text; `color` adds ANSI colours.
pub fn human(plan: &Plan, color: bool) -> String {
    let p = Paint { on: color };
    let mut out = String::new();
    let project = plan
        .project
        .clone()
        .unwrap_or_else(|| String::from("(not yet set)"));
    let refreshed = if plan.refreshed {
        "refreshed from Compute Engine"
    } else {
        "not refreshed"
    };
    let _ = writeln!(
        out,
        "stack {}, project {project}, state serial {} ({refreshed})\n",
        plan.stack, plan.state_serial
    );
    let width = plan
        .changes
        .iter()
        .filter(|c| c.action != Action::NoOp)
        .map(|c| c.node.as_str().len())
        .max()
        .unwrap_or(0);
    out.reserve(plan.changes.len() * (width + 40));
    for c in plan.changes.iter().filter(|c| c.action != Action::NoOp) {
        p.write(
            &mut out,
            color_of(c.action),
            format_args!("{:>3}", c.action.symbol()),
        );
        let _ = write!(out, " {:<width$}  {}", c.node, c.action.verb());
        if let Some(r) = &c.reason {
            let _ = write!(out, ": {r}");
        }
        // The Swarm's and the stack's objects are in no zone or region.
        let place = match c.node.layer() {
            layer @ (crate::graph::Layer::Swarm | crate::graph::Layer::Stack) => layer.as_str(),
            _ => c.location.name(),
        };
        let _ = writeln!(out, " ({place})");
        for d in &c.diffs {
            let _ = writeln!(out, "      {}", diff_line(d));
        }
        if let Some(after) = restarts_after(plan, c) {
            let _ = writeln!(out, "      {after}");
        }
        if let Some(loss) = &c.data_loss {
            let _ = writeln!(out, "      {}", p.wrap(RED, &format!("DATA LOSS: {loss}")));
        }
    }
    for c in &plan.conflicts {
        let _ = writeln!(out, "{} conflict: {c}", p.wrap(RED, "  !"));
    }
    let summary = format!(
        "Plan: {} to create, {} to update, {} to replace, {} to delete, {} to adopt, {} unchanged.",
        plan.count(Action::Create),
        plan.count(Action::Update) + plan.count(Action::UpdateRestart),
        plan.count(Action::Replace),
        plan.count(Action::Delete),
        plan.count(Action::Adopt),
        plan.count(Action::NoOp),
    );
    let _ = writeln!(out, "\n{}", p.wrap(BOLD, &summary));
    let losing = plan.data_loss().count();
    if losing > 0 {
        let steps = if losing == 1 {
            String::from("1 step destroys")
        } else {
            format!("{losing} steps destroy")
        };
        let line =
            format!("{steps} data: apply asks even with --auto-approve, unless --allow-data-loss.");
        let _ = writeln!(out, "{}", p.wrap(RED, &line));
    }
    if plan.count(Action::Refused) > 0 {
        let n = plan.count(Action::Refused);
        let _ = writeln!(
            out,
            "{}",
            p.wrap(RED, &format!("{n} change(s) refused: see why above."))
        );
    }
    if !plan.conflicts.is_empty() {
        let n = plan.conflicts.len();
        let line = format!("{n} conflict(s): sdbc changes only resources it made for this stack.");
        let _ = writeln!(out, "{}", p.wrap(RED, &line));
    } else if !plan.has_changes() && !plan.blocked() {
        let _ = writeln!(out, "No changes: the resources match the program.");
    }
    out.push_str(&super::outputs::human(&plan.outputs));
    out
}

fn diff_line(d: &AttrDiff) -> String {
    match (&d.before, &d.after) {
        (None, Some(a)) => format!("+ {}: {}", d.path, show(a)),
        (Some(b), None) => format!("- {}: {}", d.path, show(b)),
        (Some(b), Some(a)) => format!("~ {}: {} -> {}", d.path, show(b), show(a)),
        (None, None) => d.path.clone(),
    }
}

/// A value for a diff line: short ones as JSON, long ones by size and
/// digest, the same for a digest the state keeps in a long value's place.
pub fn show(v: &Value) -> String {
    let (bytes, sha256) = match Digested::from_value(v) {
        Some(d) => (d.bytes, d.sha256),
        None => {
            let text = v.to_string();
            if !is_long(&text) {
                return text;
            }
            let d = Digested::of_text(&text);
            (d.bytes, d.sha256)
        }
    };
    format!("({bytes} bytes, sha256 {}…)", &sha256[..12])
}
