//! Plans: what `apply` will do, as data. A plan compares the desired
//! resources (from the model, through `targets::gce`) with the state
//! (optionally refreshed from the API) and lists one [`Change`] per
//! resource: create, update in place, update with a restart, replace (with
//! why), delete, or nothing. Plans serialize to JSON (`plan -out FILE`,
//! `plan --json`); `apply` only executes a plan, and refuses a saved one
//! whose state has moved on since.

mod desired;
mod diff;
mod drift;
pub mod render;

use serde::{Deserialize, Serialize};
use serde_json::Value;

pub use desired::{Desired, Location, desired, into_desired, node_id, parse_collection};
pub use diff::{AttrDiff, action_for, classify};
pub use drift::drift;

use crate::state::State;
use crate::targets::gce::owner::Owner;

/// The version of the plan file format.
pub const PLAN_VERSION: u32 = 1;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Action {
    Create,
    /// Changed through an update call while it runs (labels, metadata).
    Update,
    /// Changed while stopped: stop, update, start (machine type).
    UpdateRestart,
    /// Deleted and created again.
    Replace,
    Delete,
    /// Found by refresh, owned by this stack, missing from state: recorded, not created again.
    Adopt,
    NoOp,
    /// A change sdbc refuses to make (a disk that would shrink): the
    /// reason says why; apply fails this step without sending anything.
    Refused,
}

impl Action {
    pub fn symbol(self) -> &'static str {
        match self {
            Action::Create => "+",
            Action::Update => "~",
            Action::UpdateRestart => "~",
            Action::Replace => "-/+",
            Action::Delete => "-",
            Action::Adopt => "=",
            Action::NoOp => " ",
            Action::Refused => "!",
        }
    }

    pub fn verb(self) -> &'static str {
        match self {
            Action::Create => "create",
            Action::Update => "update in place",
            Action::UpdateRestart => "update with restart",
            Action::Replace => "replace",
            Action::Delete => "delete",
            Action::Adopt => "adopt",
            Action::NoOp => "no change",
            Action::Refused => "refused",
        }
    }

    pub fn mutates(self) -> bool {
        !matches!(self, Action::NoOp | Action::Adopt | Action::Refused)
    }
}

/// One resource's change.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Change {
    pub node: String,
    pub kind: String,
    pub name: String,
    pub location: Location,
    pub action: Action,
    /// Why a replace (or an update with restart) is needed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub diffs: Vec<AttrDiff>,
    /// Why this step destroys data (a disk deleted, a VM and its boot disk
    /// replaced): apply asks even with `--auto-approve`, unless
    /// `--allow-data-loss`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data_loss: Option<String>,
    /// The collection path (`projects/P/zones/Z/instances`).
    pub collection: String,
    /// The desired body (absent for a delete and for no change).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub body: Option<Value>,
    /// Nodes that must be created first (creates) or, for deletes, the nodes
    /// this one needed (deleted after them, in reverse).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub depends_on: Vec<String>,
}

/// Steps for Swarm formation and the stack, which this version does not run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Deferred {
    pub node: String,
    pub note: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Plan {
    pub version: u32,
    pub stack: String,
    /// `None`: not configured yet (offline plan).
    pub project: Option<String>,
    /// The state this plan was made against: `apply` refuses the plan if it moved.
    pub state_lineage: String,
    pub state_serial: u64,
    /// Whether the state was refreshed from the API first.
    pub refreshed: bool,
    pub changes: Vec<Change>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub deferred: Vec<Deferred>,
    /// The program the plan was made from (its state file lives beside it).
    #[serde(default)]
    pub source: String,
    /// Resources under the program's names that are not this stack's:
    /// sdbc never takes them over, so a plan with conflicts cannot succeed.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub conflicts: Vec<Conflict>,
}

impl Plan {
    /// Whether applying it would change anything.
    pub fn has_changes(&self) -> bool {
        self.changes
            .iter()
            .any(|c| c.action.mutates() || c.action == Action::Adopt)
    }

    /// Whether the plan cannot fully succeed: conflicts or refused changes.
    pub fn blocked(&self) -> bool {
        !self.conflicts.is_empty() || self.count(Action::Refused) > 0
    }

    /// The changes that destroy data.
    pub fn data_loss(&self) -> impl Iterator<Item = &Change> {
        self.changes.iter().filter(|c| c.data_loss.is_some())
    }

    pub fn count(&self, action: Action) -> usize {
        self.changes.iter().filter(|c| c.action == action).count()
    }

    pub fn to_json(&self) -> String {
        let mut s = serde_json::to_string_pretty(self).expect("a plan always serializes");
        s.push('\n');
        s
    }

    pub fn from_json(text: &str) -> Result<Plan, serde_json::Error> {
        serde_json::from_str(text)
    }
}

/// A resource of the stack found by refresh but missing from state.
#[derive(Debug, Clone, PartialEq)]
pub struct Found {
    pub node: String,
    pub kind: String,
    pub name: String,
    pub collection: String,
}

/// A resource under one of the program's names (or one the state tracks)
/// that carries another owner's mark, or none.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Conflict {
    pub node: String,
    pub kind: String,
    pub name: String,
    pub collection: String,
    pub owner: Owner,
}

impl std::fmt::Display for Conflict {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "`{}` ({}/{}) belongs to {}; rename it in the program, or take it over with `sdbc import FILE {}`",
            self.node, self.collection, self.name, self.owner, self.node
        )
    }
}

/// The kinds a resource of `kind` can use (and must be deleted before).
fn may_use(kind: &str) -> &'static [&'static str] {
    match kind {
        "instance" => &["network", "subnetwork", "address", "disk"],
        "subnetwork" | "firewall" => &["network"],
        _ => &[],
    }
}

/// A resource found by refresh has no recorded dependencies: its delete
/// goes before the deletes of everything of a kind it may use, so that a
/// network is not deleted while its VMs still are (which Compute Engine
/// refuses).
fn order_found_deletes(changes: &mut [Change], found: &[Found]) {
    let deleted: Vec<(String, String)> = changes
        .iter()
        .filter(|c| c.action == Action::Delete)
        .map(|c| (c.node.clone(), c.kind.clone()))
        .collect();
    let found: std::collections::HashSet<&str> = found.iter().map(|f| f.node.as_str()).collect();
    for c in changes.iter_mut() {
        if c.action != Action::Delete || !found.contains(c.node.as_str()) {
            continue;
        }
        let uses = may_use(&c.kind);
        for (node, kind) in &deleted {
            if uses.contains(&kind.as_str()) && !c.depends_on.contains(node) {
                c.depends_on.push(node.clone());
            }
        }
    }
}

/// Adds changes made outside sdbc (`drift`, by node, from refresh) to the
/// plan: each becomes a change back to the program, naming the field.
pub fn add_drift(
    plan: &mut Plan,
    drift: &std::collections::BTreeMap<String, Vec<AttrDiff>>,
    wanted: &[Desired],
) {
    for c in &mut plan.changes {
        let Some(outside) = drift.get(&c.node) else {
            continue;
        };
        if !matches!(
            c.action,
            Action::NoOp | Action::Update | Action::UpdateRestart | Action::Replace
        ) {
            continue;
        }
        let mut diffs = outside.clone();
        diffs.extend(
            c.diffs
                .drain(..)
                .filter(|d| !outside.iter().any(|o| o.path == d.path)),
        );
        let (action, reason) = action_for(&c.kind, &diffs);
        let fields: Vec<&str> = outside.iter().map(|d| d.path.as_str()).collect();
        let outside_note = format!("changed outside sdbc: {}", fields.join(", "));
        c.reason = Some(match reason {
            Some(r) => format!("{r}; {outside_note}"),
            None => outside_note,
        });
        c.action = action;
        c.diffs = diffs;
        c.body = wanted
            .iter()
            .find(|d| d.node == c.node)
            .map(|d| d.body.clone());
        c.data_loss = data_loss(c);
    }
}

/// Why `c` destroys data, if it does: a disk deleted or replaced, or a VM
/// replaced (its boot disk goes with it).
fn data_loss(c: &Change) -> Option<String> {
    match (c.kind.as_str(), c.action) {
        ("disk", Action::Delete) => Some(String::from("the disk and its data are deleted")),
        ("disk", Action::Replace) => Some(String::from("the disk is deleted and made again empty")),
        ("instance", Action::Replace) => Some(String::from(
            "the VM is made again from its image: what its boot disk holds is lost",
        )),
        _ => None,
    }
}

/// Compares what is wanted with what the state says exists. `found` are
/// resources of the stack that refresh saw but state did not know: adopted
/// if wanted, deleted if not.
pub fn make(
    stack: &str,
    project: Option<String>,
    wanted: &[Desired],
    state: &State,
    refreshed: bool,
    found: &[Found],
) -> Plan {
    let wanted_nodes: std::collections::HashSet<&str> =
        wanted.iter().map(|d| d.node.as_str()).collect();
    let found_nodes: std::collections::HashSet<&str> =
        found.iter().map(|f| f.node.as_str()).collect();
    let mut changes = Vec::new();
    for d in wanted {
        if found_nodes.contains(d.node.as_str()) {
            changes.push(Change {
                node: d.node.clone(),
                kind: d.kind.clone(),
                name: d.name.clone(),
                location: d.location.clone(),
                action: Action::Adopt,
                reason: Some(String::from("it exists but the state lost track of it")),
                diffs: Vec::new(),
                data_loss: None,
                collection: d.collection.clone(),
                body: Some(d.body.clone()),
                depends_on: d.depends_on.clone(),
            });
            continue;
        }
        let change = match state.resources.get(&d.node) {
            None => Change {
                node: d.node.clone(),
                kind: d.kind.clone(),
                name: d.name.clone(),
                location: d.location.clone(),
                action: Action::Create,
                reason: None,
                diffs: Vec::new(),
                data_loss: None,
                collection: d.collection.clone(),
                body: Some(d.body.clone()),
                depends_on: d.depends_on.clone(),
            },
            Some(current) => {
                let (action, reason, diffs) = if current.collection != d.collection {
                    (
                        Action::Replace,
                        Some(format!(
                            "it moves from `{}` to `{}`",
                            current.collection, d.collection
                        )),
                        Vec::new(),
                    )
                } else {
                    classify(&d.kind, &current.attributes, &d.body)
                };
                Change {
                    node: d.node.clone(),
                    kind: d.kind.clone(),
                    name: d.name.clone(),
                    location: d.location.clone(),
                    action,
                    reason,
                    diffs,
                    data_loss: None,
                    collection: d.collection.clone(),
                    // Nothing to send for a resource that does not change.
                    body: (action != Action::NoOp).then(|| d.body.clone()),
                    depends_on: d.depends_on.clone(),
                }
            }
        };
        changes.push(change);
    }
    for (node, r) in &state.resources {
        if wanted_nodes.contains(node.as_str()) {
            continue;
        }
        let (kind, location) =
            parse_collection(&r.collection).unwrap_or(("unknown", Location::Global));
        changes.push(Change {
            node: node.clone(),
            kind: kind.to_string(),
            name: r.name.clone(),
            location,
            action: Action::Delete,
            reason: None,
            diffs: Vec::new(),
            data_loss: None,
            collection: r.collection.clone(),
            body: None,
            depends_on: r.depends_on.clone(),
        });
    }
    for f in found
        .iter()
        .filter(|f| !wanted_nodes.contains(f.node.as_str()))
    {
        let location = parse_collection(&f.collection).map_or(Location::Global, |(_, l)| l);
        changes.push(Change {
            node: f.node.clone(),
            kind: f.kind.clone(),
            name: f.name.clone(),
            location,
            action: Action::Delete,
            reason: Some(String::from(
                "it belongs to this stack but the program no longer declares it",
            )),
            diffs: Vec::new(),
            data_loss: None,
            collection: f.collection.clone(),
            body: None,
            depends_on: Vec::new(),
        });
    }
    order_found_deletes(&mut changes, found);
    for c in &mut changes {
        c.data_loss = data_loss(c);
    }
    changes.sort_by(|a, b| a.node.cmp(&b.node));
    Plan {
        version: PLAN_VERSION,
        stack: stack.to_string(),
        project,
        state_lineage: state.lineage.clone(),
        state_serial: state.serial,
        refreshed,
        changes,
        deferred: Vec::new(),
        source: String::new(),
        conflicts: Vec::new(),
    }
}
