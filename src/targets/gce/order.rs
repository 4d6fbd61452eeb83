//! A stable topological order of calls: Kahn's algorithm where, among the
//! calls whose dependencies are all placed, the one generated first goes
//! first. Dependencies on nodes that are not among the calls do not hold a
//! call back (the graph layer reports them). Should the calls form a cycle
//! (two VMs mounting each other's exports), the calls on it keep their
//! generated order at the end rather than being dropped.

use std::collections::{BTreeMap, BTreeSet};

use super::ApiCall;

/// `calls` reordered so that every call comes after the calls it depends on.
pub(super) fn topological(calls: Vec<ApiCall>) -> Vec<ApiCall> {
    let index: BTreeMap<&str, usize> = calls
        .iter()
        .enumerate()
        .map(|(i, c)| (c.node.as_str(), i))
        .collect();
    let mut waiting_on = vec![0usize; calls.len()];
    let mut dependents: Vec<Vec<usize>> = vec![Vec::new(); calls.len()];
    for (i, call) in calls.iter().enumerate() {
        for dep in &call.depends_on {
            if let Some(&d) = index.get(dep.as_str())
                && d != i
            {
                waiting_on[i] += 1;
                dependents[d].push(i);
            }
        }
    }
    let mut ready: BTreeSet<usize> = (0..calls.len()).filter(|&i| waiting_on[i] == 0).collect();
    let mut order = Vec::with_capacity(calls.len());
    while let Some(i) = ready.pop_first() {
        order.push(i);
        for &j in &dependents[i] {
            waiting_on[j] -= 1;
            if waiting_on[j] == 0 {
                ready.insert(j);
            }
        }
    }
    let placed: BTreeSet<usize> = order.iter().copied().collect();
    order.extend((0..calls.len()).filter(|i| !placed.contains(i)));
    let mut slots: Vec<Option<ApiCall>> = calls.into_iter().map(Some).collect();
    order.into_iter().filter_map(|i| slots[i].take()).collect()
}
