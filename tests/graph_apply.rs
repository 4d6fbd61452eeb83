//! The graph is the schedule: every edge `apply` waits on is an edge of
//! `sdbc graph --format json` and every edge of the graph between nodes
//! apply runs is one it waits on (a path through nodes the run leaves out
//! counting as an edge); deletes wait on the same edges reversed;
//! and one step at a time, apply starts the steps in exactly the order of
//! the graph's levels.

mod support;

use std::collections::BTreeSet;

use serde_json::Value;
use support::apply::{Fake, Work};

use sdbc::exec::apply::steps;
use sdbc::graph::{Layer, NodeId};
use sdbc::plan::Plan;
use sdbc::state::State;

type Edges = BTreeSet<(String, String)>;

fn graph_json(work: &Work) -> Value {
    let run = work.sdbc("graph", &["--format", "json"]);
    run.expect_code(0, "graph");
    serde_json::from_str(&run.stdout).expect("graph JSON")
}

fn ids(v: &Value) -> Vec<String> {
    v.as_array()
        .expect("array")
        .iter()
        .map(|x| x.as_str().expect("id").to_string())
        .collect()
}

/// Whether Compute Engine holds the node (what apply runs against the fake:
/// `SDBC_LAYERS=cloud,hosts`).
fn runs(id: &str) -> bool {
    let id: NodeId = id.parse().expect("graph ids parse");
    matches!(id.layer(), Layer::Cloud | Layer::Hosts)
}

/// The graph's edges, `(before, after)`.
fn graph_edges(graph: &Value) -> Edges {
    graph["edges"]
        .as_array()
        .expect("edges")
        .iter()
        .map(|e| {
            let end = |k: &str| e[k].as_str().expect("edge end").to_string();
            (end("from"), end("to"))
        })
        .collect()
}

/// The edges between nodes apply runs, and for every path between two of
/// them through nodes it does not run (a manager's Swarm step between two
/// managers' VMs), an edge from its start to its end: a run limited to some
/// layers keeps the order the others carried.
fn run_edges(edges: &Edges) -> Edges {
    let mut out = Edges::new();
    for (a, b) in edges.iter().filter(|(a, _)| runs(a)) {
        let mut todo = vec![b.clone()];
        let mut seen = BTreeSet::new();
        while let Some(n) = todo.pop() {
            if !seen.insert(n.clone()) {
                continue;
            }
            if runs(&n) {
                out.insert((a.clone(), n));
            } else {
                todo.extend(
                    edges
                        .iter()
                        .filter(|(x, _)| *x == n)
                        .map(|(_, y)| y.clone()),
                );
            }
        }
    }
    out
}

/// What the steps of `plan` wait on, as `(waited for, waiting)` node pairs.
fn waits(plan: &Plan, state: &State) -> Edges {
    let all = steps(plan, state);
    let node = |i: usize| plan.changes[all[i].change].node.to_string();
    all.iter()
        .enumerate()
        .flat_map(|(i, s)| s.deps.iter().map(move |&d| (node(d), node(i))))
        .collect()
}

#[test]
fn apply_and_destroy_wait_on_exactly_the_graph_edges() {
    let fake = Fake::quick(1, 3);
    let work = Work::misago(&fake);
    let graph = graph_json(&work);
    let edges = graph_edges(&graph);
    let (direct, cluster): (Edges, Edges) =
        edges.iter().cloned().partition(|(a, b)| runs(a) && runs(b));
    assert!(!direct.is_empty() && !cluster.is_empty());
    let ran = run_edges(&edges);
    // The managers' VMs are ordered through their Swarm steps only.
    let through = (
        "gce.vm.manager-0".to_string(),
        "gce.vm.manager-1".to_string(),
    );
    assert!(ran.contains(&through) && !direct.contains(&through));

    // From nothing: every step is a create and waits on the graph's edges.
    work.sdbc("plan", &["--out", "plan.json"])
        .expect_code(0, "plan");
    let text = std::fs::read_to_string(work.file.with_file_name("plan.json")).expect("plan file");
    let plan = Plan::from_json(&text).expect("plan parses");
    let applied = waits(&plan, &work.state());
    assert_eq!(
        applied, ran,
        "apply waits on the graph's edges, and only on them"
    );
    // With every layer, the plan has every node of the graph, and its
    // steps wait on every edge of the graph.
    let all = work
        .command(&[
            "plan",
            &work.file_name(),
            "--out",
            "all.json",
            "--refresh=false",
        ])
        .env_remove("SDBC_LAYERS")
        .output()
        .expect("plan runs");
    assert!(
        all.status.success(),
        "{}",
        String::from_utf8_lossy(&all.stderr)
    );
    let text = std::fs::read_to_string(work.file.with_file_name("all.json")).expect("plan file");
    let whole = Plan::from_json(&text).expect("plan parses");
    let planned: BTreeSet<String> = whole.changes.iter().map(|c| c.node.to_string()).collect();
    let nodes: BTreeSet<String> = graph["nodes"]
        .as_array()
        .expect("nodes")
        .iter()
        .map(|n| n["id"].as_str().expect("id").to_string())
        .collect();
    assert_eq!(planned, nodes, "every graph node is planned");
    assert!(
        whole
            .changes
            .iter()
            .all(|c| c.action == sdbc::plan::Action::Create)
    );
    assert_eq!(
        waits(&whole, &work.state()),
        edges,
        "every edge is waited on"
    );

    // Destroy: every delete waits on the deletes of what needed it.
    work.apply().expect_code(0, "apply");
    let state = work.state();
    let destroy = sdbc::plan::make(&sdbc::plan::Inputs {
        stack: &plan.stack,
        project: plan.project.clone(),
        wanted: &[],
        state: &state,
        refreshed: false,
        found: &[],
    });
    let reversed: Edges = ran.iter().map(|(a, b)| (b.clone(), a.clone())).collect();
    assert_eq!(waits(&destroy, &state), reversed);
}

/// The nodes in the order `apply --parallel 1` started them.
fn started(stderr: &str, verb: &str) -> Vec<String> {
    stderr
        .lines()
        .filter_map(|l| l.split_once("] ")?.1.strip_prefix(verb))
        .map(|rest| rest.trim_start().to_string())
        .collect()
}

#[test]
fn one_step_at_a_time_apply_runs_the_graph_order() {
    let fake = Fake::quick(1, 4);
    let work = Work::misago(&fake);
    let graph = graph_json(&work);
    let order: Vec<String> = graph["levels"]
        .as_array()
        .expect("levels")
        .iter()
        .flat_map(ids)
        .filter(|id| runs(id))
        .collect();
    assert_eq!(order.len(), 20);
    let run = work.sdbc("apply", &["--auto-approve", "--parallel", "1"]);
    run.expect_code(0, "apply");
    assert_eq!(started(&run.stderr, "creating"), order);
}

/// `apply --json`: every step with its outcome; a failed step keeps the
/// kind of its error (operations failing with `QUOTA_EXCEEDED` are `quota`)
/// and what waited on it is skipped.
#[test]
fn apply_json_keeps_the_kind_of_each_failure() {
    let fake = Fake::quick(1, 5);
    let work = Work::program(&fake, "small", &support::apply::small_program(3));
    fake.set_faults(fake_gce::Faults {
        op_error_rate: 1.0,
        ..fake_gce::Faults::default()
    });
    let run = work.sdbc("apply", &["--auto-approve", "--json"]);
    run.expect_code(1, "apply with every operation failing");
    let summary: Value = serde_json::from_str(&run.stdout).expect("the summary is JSON");
    assert_eq!(summary["ok"], false);
    let steps = summary["steps"].as_array().expect("steps");
    let with = |outcome: &'static str| steps.iter().filter(move |s| s["outcome"] == outcome);
    assert!(with("failed").count() > 0, "{summary:#}");
    for s in with("failed") {
        assert_eq!(s["kind"], "quota", "{s:#}");
        assert!(
            s["message"]
                .as_str()
                .is_some_and(|m| m.contains("QUOTA_EXCEEDED"))
        );
    }
    let network = steps
        .iter()
        .find(|s| {
            s["node"]
                .as_str()
                .is_some_and(|n| n.starts_with("gce.network."))
        })
        .expect("the network's step");
    assert_eq!(network["outcome"], "failed");
    assert!(with("skipped").any(|s| {
        s["node"]
            .as_str()
            .is_some_and(|n| n.starts_with("gce.subnetwork."))
    }));
    assert_eq!(summary["steps_failed"], with("failed").count());
}
