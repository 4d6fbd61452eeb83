//! The schedule of a plan: its steps, what each waits for, and the order
//! ready steps start in. A step waits only on edges of the dependency
//! graph: a create or update on the prerequisites the graph gave its
//! change (`Change::depends_on`), a delete on the deletes of what needed
//! it (the graph's edges recorded in state when it was made, reversed).
//! Ready steps start in the graph's level order (see
//! [`crate::graph::levels_of`]), so one step at a time runs exactly the
//! order `sdbc graph` prints.

use std::collections::BTreeMap;

use super::{Phase, Step};
use crate::plan::{Action, Plan};
use crate::state::State;

/// The steps of a plan with their dependencies.
pub fn steps(plan: &Plan, state: &State) -> Vec<Step> {
    let mut out: Vec<Step> = Vec::new();
    let mut forward: BTreeMap<&str, usize> = BTreeMap::new();
    let mut delete: BTreeMap<&str, usize> = BTreeMap::new();
    for (i, c) in plan.changes.iter().enumerate() {
        let push = |phase: Phase, out: &mut Vec<Step>| {
            let verb = if phase == Phase::Delete {
                "delete"
            } else {
                "apply"
            };
            out.push(Step {
                id: format!("{verb}:{}", c.node),
                change: i,
                phase,
                deps: Vec::new(),
            });
            out.len() - 1
        };
        match c.action {
            Action::NoOp => {}
            Action::Delete => {
                delete.insert(c.node.as_str(), push(Phase::Delete, &mut out));
            }
            Action::Replace => {
                let d = push(Phase::Delete, &mut out);
                let f = push(Phase::Forward, &mut out);
                out[f].deps.push(d);
                delete.insert(c.node.as_str(), d);
                forward.insert(c.node.as_str(), f);
            }
            _ => {
                forward.insert(c.node.as_str(), push(Phase::Forward, &mut out));
            }
        }
    }
    // node -> the delete steps of the resources that needed it (as the
    // state recorded, or as the plan worked out for resources the state
    // did not know): a delete waits for those.
    let mut needed_by: std::collections::HashMap<&str, Vec<usize>> =
        std::collections::HashMap::new();
    for (node, &d) in &delete {
        let c = &plan.changes[out[d].change];
        let recorded = state.resources.get(*node).map(|r| r.depends_on.iter());
        let planned = (c.action == Action::Delete).then(|| c.depends_on.iter());
        let planned = planned.into_iter().flatten().map(|n| n.as_str());
        for used in recorded
            .into_iter()
            .flatten()
            .map(String::as_str)
            .chain(planned)
        {
            needed_by.entry(used).or_default().push(d);
        }
    }
    let deps: Vec<Vec<usize>> = out
        .iter()
        .enumerate()
        .map(|(me, s)| {
            let c = &plan.changes[s.change];
            let mut deps: Vec<usize> = match s.phase {
                Phase::Forward => s
                    .deps
                    .iter()
                    .copied()
                    .chain(
                        c.depends_on
                            .iter()
                            .filter_map(|d| forward.get(d.as_str()).copied()),
                    )
                    .collect(),
                // Deleted after everything being deleted that needed it.
                Phase::Delete => needed_by
                    .get(c.node.as_str())
                    .into_iter()
                    .flatten()
                    .copied()
                    .filter(|d| *d != me)
                    .collect(),
            };
            deps.sort_unstable();
            deps.dedup();
            deps
        })
        .collect();
    for (s, d) in out.iter_mut().zip(deps) {
        s.deps = d;
    }
    out
}

/// The position each step starts in when it is ready: the level order of
/// the steps' own graph, ties by step id. Steps on a cycle never become
/// ready and rank last.
pub fn ranks(steps: &[Step]) -> Vec<usize> {
    let mut dependents: Vec<Vec<usize>> = vec![Vec::new(); steps.len()];
    for (i, s) in steps.iter().enumerate() {
        for &d in &s.deps {
            dependents[d].push(i);
        }
    }
    let mut rank = vec![usize::MAX; steps.len()];
    let levels = crate::graph::levels_of(&dependents, |i| steps[i].id.as_str());
    for (r, i) in levels.into_iter().flatten().enumerate() {
        rank[i] = r;
    }
    rank
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::graph::NodeId;
    use crate::plan::{Found, Inputs, make};
    use crate::state::ResourceState;

    fn tracked(collection: &str, name: &str, deps: &[&str]) -> ResourceState {
        ResourceState {
            name: name.into(),
            collection: collection.into(),
            depends_on: deps.iter().map(|d| d.to_string()).collect(),
            ..ResourceState::default()
        }
    }

    fn order(plan: &Plan, state: &State) -> Vec<(String, Vec<String>)> {
        let all = steps(plan, state);
        all.iter()
            .map(|s| {
                let deps = s.deps.iter().map(|d| all[*d].id.clone()).collect();
                (s.id.clone(), deps)
            })
            .collect()
    }

    #[test]
    fn deletes_go_after_what_needed_them_known_or_found() {
        let mut state = State::new("s");
        let vms = "projects/p/zones/z/instances";
        state.resources.insert(
            "gce.network.n".into(),
            tracked("projects/p/global/networks", "n", &[]),
        );
        state
            .resources
            .insert("gce.vm.a".into(), tracked(vms, "a", &["gce.network.n"]));
        // `b` was made by a run that died before saving: found, no deps.
        let found = [Found {
            node: NodeId::vm("b"),
            kind: "instance".into(),
            name: "b".into(),
            collection: vms.into(),
        }];
        let plan = make(&Inputs {
            stack: "s",
            project: None,
            wanted: &[],
            state: &state,
            refreshed: true,
            found: &found,
        });
        assert!(plan.changes.iter().all(|c| c.action == Action::Delete));
        assert_eq!(
            order(&plan, &state),
            [
                (
                    "delete:gce.network.n".to_string(),
                    vec!["delete:gce.vm.a".to_string(), "delete:gce.vm.b".to_string()]
                ),
                ("delete:gce.vm.a".to_string(), vec![]),
                ("delete:gce.vm.b".to_string(), vec![]),
            ]
        );
    }

    #[test]
    fn ready_steps_start_by_level_before_id() {
        let step = |id: &str, deps: Vec<usize>| Step {
            id: id.into(),
            change: 0,
            phase: Phase::Forward,
            deps,
        };
        // `b` waits for `a`; `c` waits for nothing: `c` is in the first
        // level and starts before `b`, whose id is smaller.
        let all = [
            step("apply:a", vec![]),
            step("apply:b", vec![0]),
            step("apply:c", vec![]),
        ];
        assert_eq!(ranks(&all), [0, 2, 1]);
    }
}
