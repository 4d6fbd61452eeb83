//! `sdbc status` and `sdbc scale` through the binary, on the Swarm and
//! stack that `sdbc apply` made: status shows what the engines, asked
//! directly, report; scale changes only the named services on the engines
//! and only their numbers in the file; a count changed back in the file is
//! applied as `replicas a -> b`; with the first manager's engine stopped,
//! status asks the next one and says so.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use sdbc::exec::engine::Engine;
use sdbc::exec::hosts::LocalHosts;
use serde_json::Value;
use support::apply::Work;

use super::{STACK, assert_converged, sdbc, support, timed};

/// A node as `docker node ls` shows it: role, state, availability,
/// manager status; by its `sdbc.vm` label.
type NodeCells = (String, String, String, String);

/// The nodes as the engine lists them.
async fn engine_nodes(manager: &Engine) -> BTreeMap<String, NodeCells> {
    let nodes = manager.get("/nodes").await.expect("nodes");
    let text = |v: &Value| v.as_str().unwrap_or_default().to_string();
    nodes
        .as_array()
        .expect("node list")
        .iter()
        .map(|n| {
            let ms = &n["ManagerStatus"];
            let manager_status = if ms["Leader"] == true {
                "Leader".to_string()
            } else {
                match ms["Reachability"].as_str() {
                    Some("reachable") => "Reachable".into(),
                    Some("unreachable") => "Unreachable".into(),
                    Some(other) => other.into(),
                    None => String::new(),
                }
            };
            let cells = (
                text(&n["Spec"]["Role"]),
                text(&n["Status"]["State"]),
                text(&n["Spec"]["Availability"]),
                manager_status,
            );
            (text(&n["Spec"]["Labels"]["sdbc.vm"]), cells)
        })
        .collect()
}

/// The nodes as `sdbc status --json` shows them.
fn status_nodes(status: &Value) -> BTreeMap<String, NodeCells> {
    let text = |v: &Value| v.as_str().unwrap_or_default().to_string();
    status["nodes"]
        .as_array()
        .expect("nodes")
        .iter()
        .map(|n| {
            let cells = (
                text(&n["role"]),
                text(&n["state"]),
                text(&n["availability"]),
                text(&n["manager_status"]),
            );
            (text(&n["vm"]), cells)
        })
        .collect()
}

/// The stack's services as the engine counts them: program name ->
/// (running, desired, health). Health is `healthy` for a service with a
/// healthcheck whose every wanted task runs (Swarm holds a task in
/// `starting` until its check passes).
async fn engine_services(manager: &Engine) -> BTreeMap<String, (u64, u64, Value)> {
    let all = manager
        .get("/services?status=true")
        .await
        .expect("services");
    let prefix = format!("{STACK}_");
    all.as_array()
        .expect("services")
        .iter()
        .filter(|s| s["Spec"]["Labels"]["com.docker.stack.namespace"] == STACK)
        .map(|s| {
            let name = s["Spec"]["Name"].as_str().expect("name");
            let running = s["ServiceStatus"]["RunningTasks"]
                .as_u64()
                .expect("running");
            let desired = s["ServiceStatus"]["DesiredTasks"]
                .as_u64()
                .expect("desired");
            let checked =
                s["Spec"]["TaskTemplate"]["ContainerSpec"]["Healthcheck"]["Test"].is_array();
            let health = match (checked, running == desired) {
                (false, _) => Value::Null,
                (true, true) => Value::from("healthy"),
                (true, false) => Value::from("not all tasks run"),
            };
            let name = name.strip_prefix(&prefix).expect("stack prefix");
            (name.to_string(), (running, desired, health))
        })
        .collect()
}

/// The services as `sdbc status --json` shows them.
fn status_services(status: &Value) -> BTreeMap<String, (u64, u64, Value)> {
    status["services"]
        .as_array()
        .expect("services")
        .iter()
        .map(|s| {
            let counts = (
                s["running"].as_u64().expect("running"),
                s["desired"].as_u64().expect("desired"),
                s["health"].clone(),
            );
            (s["name"].as_str().expect("name").to_string(), counts)
        })
        .collect()
}

/// `sdbc status --json`, parsed, and its exit code.
fn status_json(work: &Work) -> (Value, Option<i32>, String) {
    let run = sdbc(work, "status", &["--json"]);
    let status = serde_json::from_str(&run.stdout)
        .unwrap_or_else(|e| panic!("status JSON ({e}):\n{}\n{}", run.stdout, run.stderr));
    (status, run.code, run.stderr)
}

/// After an apply: `status` and `--json` show every node and service as
/// the engines report them, the text table the same cells; exit 0.
pub async fn status_shows_what_the_engines_report(work: &Work, manager: &Engine) {
    let t = Instant::now();
    let (status, code, stderr) = status_json(work);
    assert_eq!(code, Some(0), "a healthy stack: {status}\n{stderr}");
    assert_eq!(status["stack"], STACK);
    assert_eq!(status["manager"], "manager-0", "the first manager answers");
    assert!(!stderr.contains("skipped"), "{stderr}");
    let nodes = engine_nodes(manager).await;
    assert_eq!(nodes.len(), 5, "{nodes:?}");
    assert_eq!(
        status_nodes(&status),
        nodes,
        "nodes as the engine lists them"
    );
    let services = engine_services(manager).await;
    assert_eq!(
        services.keys().collect::<Vec<_>>(),
        ["api", "probe"],
        "{services:?}"
    );
    assert_eq!(
        status_services(&status),
        services,
        "services as the engine counts them"
    );
    assert_eq!(services["api"].2, "healthy", "{services:?}");

    let text = sdbc(work, "status", &[]);
    text.expect_code(0, "status, as text");
    let rows: Vec<Vec<&str>> = text
        .stdout
        .lines()
        .map(|l| l.split_whitespace().collect())
        .collect();
    assert_eq!(
        text.stdout.lines().next(),
        Some("Swarm nodes (asked manager-0):")
    );
    for n in status["nodes"].as_array().expect("nodes") {
        let cells: Vec<&str> = [
            "hostname",
            "vm",
            "role",
            "state",
            "availability",
            "manager_status",
        ]
        .iter()
        .filter_map(|k| n[*k].as_str().filter(|c| !c.is_empty()))
        .collect();
        assert!(rows.contains(&cells), "{cells:?} in\n{}", text.stdout);
    }
    for s in status["services"].as_array().expect("services") {
        let replicas = format!("{}/{}", s["running"], s["desired"]);
        let cells = vec![
            s["name"].as_str().expect("name"),
            "replicated",
            replicas.as_str(),
            s["health"].as_str().unwrap_or("-"),
            "sdbc-test/busybox:1",
        ];
        assert!(rows.contains(&cells), "{cells:?} in\n{}", text.stdout);
    }
    timed("status", t);
}

/// Each service's spec (without its replica count) and version, and its
/// replica count, as the engine reports them.
async fn specs(manager: &Engine) -> BTreeMap<String, (Value, u64, u64)> {
    let all = manager.get("/services").await.expect("services");
    all.as_array()
        .expect("services")
        .iter()
        .filter(|s| s["Spec"]["Labels"]["com.docker.stack.namespace"] == STACK)
        .map(|s| {
            let mut spec = s["Spec"].clone();
            let replicas = spec["Mode"]["Replicated"]["Replicas"]
                .take()
                .as_u64()
                .expect("replicated");
            let version = s["Version"]["Index"].as_u64().expect("version");
            let name = s["Spec"]["Name"].as_str().expect("name").to_string();
            (name, (spec, version, replicas))
        })
        .collect()
}

fn program_text(work: &Work) -> String {
    std::fs::read_to_string(&work.file).expect("program")
}

/// `sdbc scale`: first `probe` alone (no count written: one is added after
/// its name), then `api` and `probe`, then the same again. Each time only
/// the services whose count changes change on the engines (their specs
/// otherwise the same), only those numbers change in the file, the next
/// plan is empty; the repeat changes nothing.
pub async fn scale_changes_the_engines_and_the_file(work: &Work, manager: &Engine) {
    let t = Instant::now();
    let text0 = program_text(work);
    let before = specs(manager).await;
    sdbc(work, "scale", &["probe=2"]).expect_code(0, "scale probe=2");
    let text1 = program_text(work);
    assert_eq!(
        text1,
        text0.replacen("service probe image=", "service probe replicas=2 image=", 1),
        "only probe's count is written into the file"
    );
    let after = specs(manager).await;
    assert_eq!(after["program_api"], before["program_api"], "api untouched");
    let (spec, version, replicas) = &after["program_probe"];
    assert_eq!(replicas, &2, "probe scaled");
    assert!(*version > before["program_probe"].1, "probe updated");
    assert_eq!(
        spec, &before["program_probe"].0,
        "only probe's count changed"
    );

    let counts = ["api=3", "probe=2"];
    let run = sdbc(work, "scale", &counts);
    run.expect_code(0, "scale api=3 probe=2");
    assert!(
        run.stderr.contains("probe: already 2 replicas"),
        "{}",
        run.stderr
    );
    let text2 = program_text(work);
    assert_eq!(
        text2,
        text1.replacen(
            "api image=image replicas=2 ",
            "api image=image replicas=3 ",
            1
        ),
        "only api's count changes in the file"
    );
    let scaled = specs(manager).await;
    assert_eq!(
        scaled["program_probe"], after["program_probe"],
        "probe not sent again"
    );
    assert_eq!(scaled["program_api"].2, 3, "api scaled");
    assert_eq!(
        scaled["program_api"].0, before["program_api"].0,
        "only api's count changed"
    );
    let status = sdbc::exec::stack::service_status(manager, STACK)
        .await
        .expect("status");
    for (name, n) in [("program_api", 3), ("program_probe", 2)] {
        assert_eq!(
            (status[name].running, status[name].desired),
            (n, n),
            "{name}"
        );
    }
    sdbc(work, "plan", &["--detailed-exitcode"]).expect_code(0, "the plan after scale is empty");

    let run = sdbc(work, "scale", &counts);
    run.expect_code(0, "the same scale again");
    assert_eq!(program_text(work), text2, "the file stays as it is");
    assert_eq!(specs(manager).await, scaled, "no service is sent");
    timed("scale", t);
}

/// `probe`'s count set back in the file: the plan says `replicas 2 -> 1`
/// on it alone, apply makes it so, the plan after is empty.
pub async fn replicas_changed_in_the_file(work: &Work, manager: &Engine) {
    let t = Instant::now();
    work.edit("service probe replicas=2 ", "service probe replicas=1 ");
    let plan = sdbc(work, "plan", &[]);
    plan.expect_code(0, "plan probe 2 -> 1");
    let lines: Vec<&str> = plan.stdout.lines().collect();
    let at = lines
        .iter()
        .position(|l| l.contains("stack.service.probe") && l.contains("update in place"))
        .unwrap_or_else(|| panic!("probe is updated:\n{}", plan.stdout));
    assert_eq!(
        lines[at + 1].trim(),
        "~ replicas: 2 -> 1",
        "{}",
        plan.stdout
    );
    assert!(plan.stdout.contains("1 to update"), "{}", plan.stdout);
    sdbc(work, "apply", &["--auto-approve"]).expect_code(0, "apply probe 2 -> 1");
    // The task scaled away stops a moment after apply returns.
    let services = ["probe".to_string()];
    sdbc::exec::stack::wait_scaled(manager, STACK, &services, Duration::from_secs(20))
        .await
        .expect("probe runs one task");
    let status = sdbc::exec::stack::service_status(manager, STACK)
        .await
        .expect("status");
    let probe = &status["program_probe"];
    assert_eq!((probe.running, probe.desired), (1, 1));
    let api = &status["program_api"];
    assert_eq!((api.running, api.desired), (3, 3), "api keeps its count");
    sdbc(work, "plan", &["--detailed-exitcode"]).expect_code(0, "the plan after is empty");
    timed("replicas 2 -> 1 in the file", t);
}

/// manager-0's engine stopped: status asks manager-1 and says so (the
/// JSON's `manager`, the table's title, the skipped one on stderr).
/// Started again, it rejoins and status asks it first again.
pub async fn status_asks_the_next_manager(work: &Work, hosts: &mut LocalHosts, manager: &Engine) {
    let t = Instant::now();
    tokio::task::block_in_place(|| hosts.host_mut(0).expect("manager-0").stop_engine());
    timed("manager-0's engine stopped", t);
    let (status, code, stderr) = status_json(work);
    timed("status asked manager-1", t);
    assert!(matches!(code, Some(0 | 1)), "{code:?}: {stderr}");
    assert_eq!(status["manager"], "manager-1", "{status}\n{stderr}");
    assert!(
        stderr.contains("skipped a manager") && stderr.contains("manager-0"),
        "{stderr}"
    );
    assert!(stderr.contains("asking manager manager-1"), "{stderr}");
    assert_eq!(status_nodes(&status).len(), 5, "{status}");
    let text = sdbc(work, "status", &[]);
    assert_eq!(
        text.stdout.lines().next(),
        Some("Swarm nodes (asked manager-1):"),
        "{}\n{}",
        text.stdout,
        text.stderr
    );

    hosts
        .host_mut(0)
        .expect("manager-0")
        .start_engine()
        .expect("manager-0's engine starts");
    let start = Instant::now();
    while manager
        .get("/info")
        .await
        .ok()
        .map(|i| i["Swarm"]["ControlAvailable"] == true)
        != Some(true)
    {
        assert!(
            start.elapsed() < Duration::from_secs(60),
            "manager-0 is not back"
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    timed("manager-0's engine answers again", t);
    let other = hosts.hosts()[1].local_engine();
    sdbc::exec::swarm::wait_manager_reachable(&other, "manager-0", Duration::from_secs(60))
        .await
        .expect("manager-0 reachable again");
    timed("manager-0 reachable again", t);
    assert_converged(hosts, manager).await;
    // Its node and tasks settle a moment after it is reachable again.
    let start = Instant::now();
    loop {
        let (status, code, stderr) = status_json(work);
        assert_eq!(status["manager"], "manager-0", "{stderr}");
        if code == Some(0) {
            break;
        }
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "not healthy again: {status:#}"
        );
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    timed("status with manager-0's engine stopped, then started", t);
}
