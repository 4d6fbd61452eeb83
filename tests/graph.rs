//! The dependency graph of the misago example: snapshotted as JSON, and its
//! DOT form rendered by Graphviz's `dot` (installed by the test command).

use std::collections::BTreeMap;
use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};

fn misago_graph() -> sdbc::graph::DepGraph {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/misago.sdb");
    let analysis = sdbc::sema::analyze_path(&path, &BTreeMap::new()).expect("example readable");
    let checked = sdbc::pipeline::check_all(analysis);
    assert!(!checked.analysis.has_errors());
    checked.graph
}

#[test]
fn misago_graph_snapshot() {
    insta::assert_snapshot!("misago_graph", misago_graph().to_json());
}

#[test]
fn misago_graph_has_an_order() {
    let g = misago_graph();
    let levels = g.levels().expect("no cycle");
    let pos = |id: &str| {
        levels
            .iter()
            .position(|l| l.iter().any(|n| g.graph[*n].id == id))
            .expect("node exists")
    };
    assert!(
        pos("gce.disk.static-files") < pos("gce.vm.monitoring"),
        "the disk comes before the VM that exports it"
    );
    assert!(
        pos("gce.vm.monitoring") < pos("gce.vm.worker-0"),
        "the NFS server boots before the VMs that mount it"
    );
    assert!(pos("swarm.init") < pos("swarm.join.worker-0"));
    assert!(
        pos("stack.service.db-primary") < pos("stack.service.misago"),
        "misago refers to the database"
    );
}

#[test]
fn graphviz_renders_the_dot() {
    let dot = misago_graph().to_dot();
    let mut child = Command::new("dot")
        .arg("-Tsvg")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect(
            "cannot run `dot`: install Debian's graphviz package (the README's test command does)",
        );
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(dot.as_bytes())
        .expect("write dot");
    let out = child.wait_with_output().expect("dot finished");
    assert!(
        out.status.success(),
        "dot rejected the graph: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("<svg"));
    assert!(
        out.stderr.is_empty(),
        "dot warned: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// The managers are chained through their Swarm steps: manager i+1's VM
/// waits for manager i's member step, never directly for its VM.
#[test]
fn managers_wait_for_the_previous_managers_swarm_step() {
    let g = misago_graph();
    let prerequisites =
        |id: &str| -> Vec<String> { g.prerequisites(id).iter().map(|n| n.to_string()).collect() };
    let m1 = prerequisites("gce.vm.manager-1");
    assert!(m1.contains(&"swarm.init".to_string()), "{m1:?}");
    assert!(
        !m1.iter().any(|p| p.starts_with("gce.vm.manager")),
        "{m1:?}"
    );
    let m2 = prerequisites("gce.vm.manager-2");
    assert!(m2.contains(&"swarm.join.manager-1".to_string()), "{m2:?}");
    assert!(
        !m2.iter().any(|p| p.starts_with("gce.vm.manager")),
        "{m2:?}"
    );
    // Workers are not chained.
    let w1 = prerequisites("gce.vm.worker-1");
    assert!(!w1.iter().any(|p| p.starts_with("swarm.")), "{w1:?}");
}
