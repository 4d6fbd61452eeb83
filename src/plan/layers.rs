//! A plan limited to some layers of the graph (`SDBC_LAYERS`): the changes
//! of the other layers go, and an order they carried stays. A change that
//! waited on a left-out change waits instead on what that one waited on, so
//! the Swarm managers' VMs, chained through their Swarm steps, still
//! restart one at a time when only the Compute Engine layers run.

use std::collections::{BTreeMap, BTreeSet};

use super::{Desired, Plan};
use crate::graph::{Layer, NodeId};

impl Plan {
    /// Keeps the changes of `layers`, each depending on its kept
    /// prerequisites and, through every left-out one, on theirs.
    pub fn limit_to_layers(&mut self, layers: &[Layer]) {
        let left_out: BTreeMap<NodeId, Vec<NodeId>> = self
            .changes
            .iter()
            .filter(|c| !layers.contains(&c.node.layer()))
            .map(|c| (c.node.clone(), c.depends_on.clone()))
            .collect();
        self.changes.retain(|c| layers.contains(&c.node.layer()));
        for c in &mut self.changes {
            if c.depends_on.iter().any(|d| left_out.contains_key(d)) {
                c.depends_on = through(&c.depends_on, &left_out);
            }
        }
    }
}

/// [`Plan::limit_to_layers`] for the wanted resources a plan is made from.
pub fn limit_desired(wanted: &mut Vec<Desired>, layers: &[Layer]) {
    let left_out: BTreeMap<NodeId, Vec<NodeId>> = wanted
        .iter()
        .filter(|d| !layers.contains(&d.node.layer()))
        .map(|d| (d.node.clone(), d.depends_on.clone()))
        .collect();
    wanted.retain(|d| layers.contains(&d.node.layer()));
    for d in wanted.iter_mut() {
        if d.depends_on.iter().any(|n| left_out.contains_key(n)) {
            d.depends_on = through(&d.depends_on, &left_out);
        }
    }
}

/// `deps` with every left-out node replaced by its own prerequisites, in
/// first-seen order, each once.
fn through(deps: &[NodeId], left_out: &BTreeMap<NodeId, Vec<NodeId>>) -> Vec<NodeId> {
    let mut out = Vec::new();
    let mut seen = BTreeSet::new();
    let mut todo: Vec<NodeId> = deps.iter().rev().cloned().collect();
    while let Some(d) = todo.pop() {
        if !seen.insert(d.clone()) {
            continue;
        }
        match left_out.get(&d) {
            Some(more) => todo.extend(more.iter().rev().cloned()),
            None => out.push(d),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id(s: &str) -> NodeId {
        s.parse().expect("node id")
    }

    #[test]
    fn an_order_through_a_left_out_layer_stays() {
        let left_out = BTreeMap::from([
            (id("swarm.init"), vec![id("gce.vm.manager-0")]),
            (
                id("swarm.join.manager-1"),
                vec![id("swarm.init"), id("gce.vm.manager-1")],
            ),
        ]);
        let deps = vec![id("gce.network.net"), id("swarm.join.manager-1")];
        assert_eq!(
            through(&deps, &left_out),
            vec![
                id("gce.network.net"),
                id("gce.vm.manager-0"),
                id("gce.vm.manager-1")
            ]
        );
    }
}
