//! Plans: what `apply` will do, as data. A plan compares the desired
//! resources (from the model, through `targets::gce`) with the state
//! (optionally refreshed from the API) and lists one [`Change`] per
//! resource: create, update in place, update with a restart, replace (with
//! why), delete, or nothing. Plans serialize to JSON (`plan -out FILE`,
//! `plan --json`); `apply` only executes a plan, and refuses a saved one
//! whose state has moved on since.

pub mod cluster;
mod desired;
mod diff;
mod drift;
mod layers;
pub use layers::limit_desired;
mod make;
pub mod outputs;
pub mod render;

use serde::{Deserialize, Serialize};

pub use desired::{Desired, Location, desired, into_desired, node_id, parse_collection};
pub use diff::{AttrDiff, action_for, classify, classify_with};
pub use drift::drift;
pub use make::{Goal, Inputs, add_drift, make, with_dependents};

use crate::graph::NodeId;
use crate::targets::body::Body;
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
    pub node: NodeId,
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
    pub body: Option<Body>,
    /// Nodes that must be created first (creates) or, for deletes, the nodes
    /// this one needed (deleted after them, in reverse).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub depends_on: Vec<NodeId>,
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
    /// The program the plan was made from (its state file lives beside it).
    #[serde(default)]
    pub source: String,
    /// Resources under the program's names that are not this stack's:
    /// sdbc never takes them over, so a plan with conflicts cannot succeed.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub conflicts: Vec<Conflict>,
    /// The program's outputs, with the values known when planning.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub outputs: Vec<outputs::ShownOutput>,
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
    pub node: NodeId,
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
