//! The planning rules: how wanted resources and the state become changes
//! (create, adopt, update, replace, no change, delete), in what order
//! resources found by refresh are deleted, which changes destroy data, and
//! how `destroy` differs from `apply` (it wants nothing, and with
//! `--target` keeps only the targets and what depends on them). The CLI
//! only wires these together.

use std::collections::{BTreeSet, HashSet};

use super::{Action, Change, Desired, Found, Location, PLAN_VERSION, Plan};
use super::{AttrDiff, action_for, classify_with, parse_collection};
use crate::graph::NodeId;
use crate::state::digest::Memo;
use crate::state::{ResourceState, State};

/// What a plan is made from.
pub struct Inputs<'a> {
    pub stack: &'a str,
    /// `None`: not configured yet (offline plan).
    pub project: Option<String>,
    /// What the program wants (nothing for `destroy`: see [`Goal`]).
    pub wanted: &'a [Desired],
    pub state: &'a State,
    /// Whether `state` was refreshed from the API.
    pub refreshed: bool,
    /// Resources of the stack that refresh saw but the state did not know:
    /// adopted if wanted, deleted if not.
    pub found: &'a [Found],
}

/// What a run is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Goal {
    /// Make the resources what the program says.
    Apply,
    /// Delete the stack's resources.
    Destroy,
}

impl Goal {
    /// What the run wants of the program's resources.
    pub fn wanted(self, program: &[Desired]) -> &[Desired] {
        match self {
            Goal::Apply => program,
            Goal::Destroy => &[],
        }
    }
}

impl Change {
    fn new(d: &Desired, action: Action, reason: Option<String>) -> Change {
        Change {
            node: d.node.clone(),
            kind: d.kind.clone(),
            name: d.name.clone(),
            location: d.location.clone(),
            action,
            reason,
            diffs: Vec::new(),
            data_loss: None,
            collection: d.collection.clone(),
            // Moved in from the wanted resources last (`Plan::attach_bodies`).
            body: None,
            depends_on: d.depends_on.clone(),
        }
    }

    /// A wanted resource the state does not know.
    pub fn create(d: &Desired) -> Change {
        Change::new(d, Action::Create, None)
    }

    /// A wanted resource that exists but that the state lost track of.
    pub fn adopt(d: &Desired) -> Change {
        let why = String::from("it exists but the state lost track of it");
        Change::new(d, Action::Adopt, Some(why))
    }

    /// A wanted resource the state knows as `current`: updated, replaced
    /// or left.
    pub fn compare(d: &Desired, current: &ResourceState) -> Change {
        if current.collection != d.collection {
            let why = format!(
                "it moves from `{}` to `{}`",
                current.collection, d.collection
            );
            return Change::new(d, Action::Replace, Some(why));
        }
        if current.attributes.matches(&d.body) {
            // The common case, decided on the kept texts without parsing them.
            return Change::new(d, Action::NoOp, None);
        }
        let (before, after) = (current.attributes.value(), d.body.to_value());
        let (action, reason, diffs) = classify_with(&d.kind, &before, &after, &Memo::default());
        Change {
            diffs,
            ..Change::new(d, action, reason)
        }
    }

    /// The delete of a resource the state tracks as `r` under `node`.
    pub fn delete_tracked(node: NodeId, r: &ResourceState) -> Change {
        // The cluster layers' resources are in no Compute Engine collection:
        // their state entry names their kind.
        let (kind, location) = match parse_collection(&r.collection) {
            Some((kind, location)) => (kind.to_string(), location),
            None => (r.kind.clone(), Location::Global),
        };
        Change {
            node,
            kind,
            name: r.name.clone(),
            location,
            action: Action::Delete,
            reason: None,
            diffs: Vec::new(),
            data_loss: None,
            collection: r.collection.clone(),
            body: None,
            depends_on: r.depends_on.iter().filter_map(|d| d.parse().ok()).collect(),
        }
    }

    /// The delete of a resource of the stack that refresh found and the program no longer wants.
    pub fn delete_found(f: &Found) -> Change {
        let location = parse_collection(&f.collection).map_or(Location::Global, |(_, l)| l);
        Change {
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
        }
    }
}

/// Compares what is wanted with what the state says exists. The changes
/// carry no bodies yet: [`Plan::attach_bodies`] moves them in once the
/// actions are final (after [`add_drift`]).
pub fn make(input: &Inputs) -> Plan {
    let Inputs {
        state,
        wanted,
        found,
        ..
    } = *input;
    let wanted_nodes: HashSet<&str> = wanted.iter().map(|d| d.node.as_str()).collect();
    let found_nodes: HashSet<&str> = found.iter().map(|f| f.node.as_str()).collect();
    let mut changes: Vec<Change> = wanted
        .iter()
        .map(|d| {
            if found_nodes.contains(d.node.as_str()) {
                return Change::adopt(d);
            }
            match state.resources.get(d.node.as_str()) {
                None => Change::create(d),
                Some(current) => Change::compare(d, current),
            }
        })
        .collect();
    for (key, r) in &state.resources {
        // Every key was written from a node id; one that is not cannot be planned.
        let Ok(node) = key.parse::<NodeId>() else {
            continue;
        };
        if !wanted_nodes.contains(node.as_str()) {
            changes.push(Change::delete_tracked(node, r));
        }
    }
    let unwanted = found
        .iter()
        .filter(|f| !wanted_nodes.contains(f.node.as_str()));
    changes.extend(unwanted.map(Change::delete_found));
    order_found_deletes(&mut changes, found);
    for c in &mut changes {
        c.data_loss = data_loss(c);
    }
    changes.sort_by(|a, b| a.node.cmp(&b.node));
    Plan {
        version: PLAN_VERSION,
        stack: input.stack.to_string(),
        project: input.project.clone(),
        state_lineage: state.lineage.clone(),
        state_serial: state.serial,
        refreshed: input.refreshed,
        changes,
        source: String::new(),
        conflicts: Vec::new(),
        outputs: Vec::new(),
    }
}

impl Change {
    /// Whether the change sends its resource's body: everything but a
    /// delete and no change.
    fn sends_body(&self) -> bool {
        !matches!(self.action, Action::NoOp | Action::Delete)
    }

    /// The full body this change sends (`null` when it sends none).
    pub fn body_value(&self) -> serde_json::Value {
        self.body
            .as_ref()
            .map(crate::targets::body::Body::to_value)
            .unwrap_or_default()
    }
}

impl Plan {
    /// Moves each wanted resource's body into its change, if that change
    /// sends one (leaving `null` in `wanted`); the others stay. Call it
    /// last, once the actions are final (after [`add_drift`]): a plan owns
    /// its bodies rather than copying them.
    pub fn attach_bodies(&mut self, wanted: &mut [Desired]) {
        // `make` sorts the changes by node; changes added later may not be.
        let sorted = self.changes.is_sorted_by(|a, b| a.node <= b.node);
        for d in wanted {
            let found = if sorted {
                self.changes.binary_search_by(|c| c.node.cmp(&d.node)).ok()
            } else {
                self.changes.iter().position(|c| c.node == d.node)
            };
            let Some(i) = found else {
                continue;
            };
            let c = &mut self.changes[i];
            if c.sends_body() && c.body.is_none() {
                c.body = Some(std::mem::take(&mut d.body));
            }
        }
    }

    /// The plan `destroy` runs: no outputs to show, and
    /// with `targets` only those and what depends on them (as the state
    /// recorded).
    pub fn for_destroy(mut self, targets: &[NodeId], state: &State) -> Plan {
        if !targets.is_empty() {
            let keep = with_dependents(targets, state);
            self.changes.retain(|c| keep.contains(c.node.as_str()));
        }
        self.outputs.clear();
        self
    }
}

/// `targets` and every resource in `state` that depends on them,
/// transitively: what `destroy --target` deletes.
pub fn with_dependents(targets: &[NodeId], state: &State) -> BTreeSet<String> {
    let mut keep: BTreeSet<String> = targets.iter().map(NodeId::to_string).collect();
    loop {
        let before = keep.len();
        for (node, r) in &state.resources {
            if r.depends_on.iter().any(|d| keep.contains(d)) {
                keep.insert(node.clone());
            }
        }
        if keep.len() == before {
            return keep;
        }
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
    let deleted: Vec<(NodeId, String)> = changes
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
pub fn add_drift(plan: &mut Plan, drift: &std::collections::BTreeMap<String, Vec<AttrDiff>>) {
    for c in &mut plan.changes {
        let Some(outside) = drift.get(c.node.as_str()) else {
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

#[cfg(test)]
mod tests {
    use super::*;

    fn tracked(state: &mut State, node: &str, collection: &str, deps: &[&str]) {
        let name = node.rsplit('.').next().unwrap_or(node).to_string();
        let r = ResourceState {
            name,
            collection: collection.into(),
            depends_on: deps.iter().map(|d| d.to_string()).collect(),
            ..ResourceState::default()
        };
        state.resources.insert(node.into(), r);
    }

    #[test]
    fn bodies_move_into_the_changes_that_send_them() {
        let vms = "projects/p/zones/z/instances";
        let want = |name: &str, v: u32| Desired {
            node: NodeId::vm(name),
            kind: "instance".into(),
            name: name.into(),
            collection: vms.into(),
            location: Location::Zone("z".into()),
            body: serde_json::json!({"name": name, "v": v}).into(),
            depends_on: Vec::new(),
        };
        let mut state = State::new("s");
        for (name, v) in [("same", 1), ("changed", 1), ("gone", 1)] {
            tracked(&mut state, &format!("gce.vm.{name}"), vms, &[]);
            if let Some(r) = state.resources.get_mut(&format!("gce.vm.{name}")) {
                r.attributes = crate::state::Attributes::of_body(&want(name, v).body);
            }
        }
        let mut wanted = vec![want("new", 1), want("same", 1), want("changed", 2)];
        let mut plan = make(&Inputs {
            stack: "s",
            project: None,
            wanted: &wanted,
            state: &state,
            refreshed: false,
            found: &[],
        });
        assert!(plan.changes.iter().all(|c| c.body.is_none()));
        plan.attach_bodies(&mut wanted);
        let bodies: Vec<(&str, Action, Option<&crate::targets::body::Body>)> = plan
            .changes
            .iter()
            .map(|c| (c.node.as_str(), c.action, c.body.as_ref()))
            .collect();
        let (new, changed) = (want("new", 1).body, want("changed", 2).body);
        assert_eq!(
            bodies,
            [
                ("gce.vm.changed", Action::Replace, Some(&changed)),
                ("gce.vm.gone", Action::Delete, None),
                ("gce.vm.new", Action::Create, Some(&new)),
                ("gce.vm.same", Action::NoOp, None),
            ]
        );
        // Moved, not copied; the unchanged one keeps its body.
        assert_eq!(wanted[0].body, crate::targets::body::Body::default());
        assert_eq!(wanted[1].body, want("same", 1).body);
    }

    #[test]
    fn destroy_wants_nothing_and_keeps_the_targets_closure() {
        let mut state = State::new("s");
        tracked(
            &mut state,
            "gce.network.n",
            "projects/p/global/networks",
            &[],
        );
        let vms = "projects/p/zones/z/instances";
        tracked(&mut state, "gce.disk.d", "projects/p/zones/z/disks", &[]);
        tracked(
            &mut state,
            "gce.vm.a",
            vms,
            &["gce.network.n", "gce.disk.d"],
        );
        tracked(&mut state, "gce.vm.b", vms, &["gce.network.n"]);
        let program = [Desired {
            node: NodeId::vm("a"),
            kind: "instance".into(),
            name: "a".into(),
            collection: vms.into(),
            location: Location::Zone("z".into()),
            body: serde_json::json!({"name": "a"}).into(),
            depends_on: Vec::new(),
        }];
        let plan = make(&Inputs {
            stack: "s",
            project: None,
            wanted: Goal::Destroy.wanted(&program),
            state: &state,
            refreshed: false,
            found: &[],
        });
        assert_eq!(plan.count(Action::Delete), 4);
        let plan = plan.for_destroy(&[NodeId::disk("d")], &state);
        let nodes: Vec<&str> = plan.changes.iter().map(|c| c.node.as_str()).collect();
        assert_eq!(nodes, ["gce.disk.d", "gce.vm.a"]);
        assert_eq!(Goal::Apply.wanted(&program).len(), 1);
    }
}
