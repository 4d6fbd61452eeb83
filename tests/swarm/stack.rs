//! The stack scenarios of `tests/swarm.rs`: `tests/swarm/program.sdb`
//! deployed through a manager's Engine API, reached over SSH.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use sdbc::exec::engine::{Engine, query_value};
use sdbc::exec::hosts::{LocalHosts, TEST_IMAGE, busybox_rootfs_tar};
use sdbc::exec::stack::{self, DeployOptions, ServiceOutcome, StackChanges, service_status};
use sdbc::model::{Model, Service};
use sdbc::plan::AttrDiff;
use sdbc::targets::stack::ObjectNames;
use sdbc::targets::stack::engine::{StackObjects, stack_objects};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use super::timed;

const PROGRAM: &str = "tests/swarm/program.sdb";
const TOKEN: &[u8] = b"token-value-for-the-tests";

/// The program's model, with `edits` (from, to) applied to its text.
fn model(edits: &[(&str, &str)]) -> Model {
    let mut text = std::fs::read_to_string(PROGRAM).expect("the test program");
    for (from, to) in edits {
        assert!(text.contains(from), "the program has `{from}`");
        text = text.replace(from, to);
    }
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("program.sdb");
    std::fs::write(&path, text).expect("write program");
    let analysis = sdbc::sema::analyze_path(&path, &BTreeMap::new()).expect("read program");
    let analysis = sdbc::pipeline::check(analysis);
    assert!(!analysis.has_errors(), "{:?}", analysis.diagnostics);
    analysis.model
}

pub fn objects(model: &Model) -> StackObjects {
    let digest: String = Sha256::digest(TOKEN)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    let digests = BTreeMap::from([("token".to_string(), digest)]);
    stack_objects(model, &ObjectNames::for_model(model, &digests)).expect("stack objects")
}

pub fn values() -> BTreeMap<String, Vec<u8>> {
    BTreeMap::from([("token".to_string(), TOKEN.to_vec())])
}

fn options() -> DeployOptions {
    DeployOptions {
        service_timeout: Duration::from_secs(90),
        poll: Duration::from_millis(200),
    }
}

pub async fn scenarios(hosts: &LocalHosts, manager: &Engine) {
    let t = Instant::now();
    let work = tempfile::tempdir().expect("temp dir");
    let tar = busybox_rootfs_tar(work.path()).expect("rootfs");
    hosts.import_image(TEST_IMAGE, &tar).await.expect("import");
    timed("image import on 5 hosts", t);

    let model = model(&[]);
    super::swarm_faults::deployment(manager, &model).await;
    let objects = objects(&model);
    let t = Instant::now();
    let done = stack::deploy(manager, &objects, &values(), &options())
        .await
        .expect("deploy");
    timed("first deployment (5 services)", t);
    assert_eq!(done.failures().count(), 0, "{done:#?}");
    assert!(
        done.services
            .values()
            .all(|o| *o == ServiceOutcome::Created),
        "{done:#?}"
    );
    eprintln!("[swarm test] ready after: {:?}", done.ready_after);

    engines_agree(manager, &objects).await;
    placement_follows_the_program(manager, &model).await;
    named_volume_is_on_its_node(hosts).await;
    dependency_started_after_health(manager).await;
    docker_stack_sees_it(hosts, &model.stack);

    let planned = stack::changes(manager, &objects).await.expect("changes");
    assert!(planned.is_empty(), "nothing to change: {planned:?}");
    let t = Instant::now();
    let again = stack::deploy(manager, &objects, &values(), &options())
        .await
        .expect("second deploy");
    timed("second deployment (no-op)", t);
    assert!(again.is_noop(), "a second run changes nothing: {again:#?}");

    changed_config_rolls_out(manager).await;
    failed_service_stops_only_its_dependents(manager).await;
}

/// Every service runs its desired tasks, as the engine reports.
async fn engines_agree(manager: &Engine, objects: &StackObjects) {
    let status = service_status(manager, &objects.stack)
        .await
        .expect("status");
    assert_eq!(status.len(), objects.services.len());
    for s in &objects.services {
        let st = &status[&s.full_name];
        assert!(
            st.desired > 0 && st.running == st.desired,
            "{}: {st:?}",
            s.name
        );
    }
}

/// The running tasks of a service: (node hostname, task JSON).
async fn running_tasks(manager: &Engine, service: &str) -> Vec<(String, Value)> {
    let filters = json!({ "service": [service], "desired-state": ["running"] });
    let tasks = manager
        .get(&format!(
            "/tasks?filters={}",
            query_value(&filters.to_string())
        ))
        .await
        .expect("tasks");
    let nodes = sdbc::exec::swarm::list_nodes(manager).await.expect("nodes");
    let host = |id: &str| {
        nodes
            .iter()
            .find(|n| n.id == id)
            .map(|n| n.hostname.clone())
            .unwrap_or_default()
    };
    tasks
        .as_array()
        .into_iter()
        .flatten()
        .filter(|t| t["Status"]["State"] == "running")
        .map(|t| (host(t["NodeID"].as_str().unwrap_or("")), t.clone()))
        .collect()
}

async fn placement_follows_the_program(manager: &Engine, model: &Model) {
    let svc = |name: &str| -> &Service {
        model
            .services
            .iter()
            .find(|s| s.name == name)
            .expect("service")
    };
    let full = |name: &str| format!("{}_{name}", model.stack);
    let on = |tasks: &[(String, Value)]| tasks.iter().map(|(h, _)| h.clone()).collect::<Vec<_>>();
    let api = running_tasks(manager, &full("api")).await;
    assert_eq!(api.len() as u32, svc("api").replicas);
    assert!(
        on(&api).iter().all(|h| h.starts_with("worker-")),
        "{:?}",
        on(&api)
    );
    assert_eq!(
        on(&running_tasks(manager, &full("probe")).await),
        vec!["manager-0"]
    );
    assert_eq!(
        on(&running_tasks(manager, &full("store")).await),
        vec!["manager-1"]
    );
    let edge = running_tasks(manager, &full("edge")).await;
    assert!(
        on(&edge).iter().all(|h| h.starts_with("manager-")),
        "{:?}",
        on(&edge)
    );
    let mut logs = on(&running_tasks(manager, &full("logs")).await);
    logs.sort();
    assert_eq!(
        logs.len(),
        5,
        "a global service runs on every node: {logs:?}"
    );
}

/// `store`'s named volume exists on manager-1, scoped and labelled like
/// `docker stack`'s, and the task wrote to it.
async fn named_volume_is_on_its_node(hosts: &LocalHosts) {
    let engine = hosts.hosts()[1].local_engine();
    let volume = engine
        .get("/volumes/program_data")
        .await
        .expect("the volume");
    assert_eq!(volume["Labels"]["com.docker.stack.namespace"], "program");
    let other = hosts.hosts()[0].local_engine();
    let err = other.get("/volumes/program_data").await.unwrap_err();
    assert_eq!(
        err.status(),
        Some(404),
        "a named volume is local to its node"
    );
}

/// `probe` (after=[api]) got its first task only once `api` was healthy:
/// every api task's running time precedes probe's first task.
async fn dependency_started_after_health(manager: &Engine) {
    let api = running_tasks(manager, "program_api").await;
    let probe = running_tasks(manager, "program_probe").await;
    let api_healthy = api
        .iter()
        .map(|(_, t)| t["Status"]["Timestamp"].as_str().unwrap_or("").to_string())
        .max()
        .expect("api tasks");
    let probe_created = probe
        .iter()
        .map(|(_, t)| t["CreatedAt"].as_str().unwrap_or("").to_string())
        .min()
        .expect("probe tasks");
    // RFC 3339 with nanoseconds in UTC: text order is time order.
    assert!(
        api_healthy < probe_created,
        "api healthy at {api_healthy}, probe created at {probe_created}"
    );
}

/// `docker stack services` on a manager lists the stack (the labels are
/// the ones `docker stack` uses).
fn docker_stack_sees_it(hosts: &LocalHosts, stack: &str) {
    let socket = hosts.hosts()[0].engine_socket();
    let output = Command::new("docker")
        .args([
            "-H",
            &format!("unix://{}", socket.display()),
            "stack",
            "services",
            stack,
        ])
        .args(["--format", "{{.Name}}"])
        .output()
        .expect("docker CLI");
    let text = String::from_utf8_lossy(&output.stdout);
    let mut names: Vec<&str> = text.lines().collect();
    names.sort();
    assert_eq!(
        names,
        [
            "program_api",
            "program_edge",
            "program_logs",
            "program_probe",
            "program_store"
        ],
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let _ = Path::new(PROGRAM);
}

/// A new config text: a new config object, api moves to it, the old one is
/// removed; the replica count changed in the file is applied too.
async fn changed_config_rolls_out(manager: &Engine) {
    let old = objects(&model(&[]));
    let model = model(&[
        ("ok from api\\n", "ok from api, second text\\n"),
        (
            "service edge image=image replicas=3",
            "service edge image=image replicas=2",
        ),
    ]);
    let new = objects(&model);
    let old_name = old
        .configs
        .keys()
        .find(|k| k.starts_with("program_page_"))
        .expect("old config");
    let new_name = new
        .configs
        .keys()
        .find(|k| k.starts_with("program_page_"))
        .expect("new config");
    let planned = stack::changes(manager, &new).await.expect("changes");
    assert_eq!(
        planned,
        StackChanges {
            create: vec![format!("config {new_name}")],
            update: vec!["service program_api".into(), "service program_edge".into()],
            remove: vec![format!("config {old_name}")],
            diffs: BTreeMap::from([
                (
                    "service program_api".to_string(),
                    vec![AttrDiff {
                        path: "configs./etc/page".into(),
                        before: Some(json!(old_name)),
                        after: Some(json!(new_name)),
                    }]
                ),
                (
                    "service program_edge".to_string(),
                    vec![AttrDiff {
                        path: "replicas".into(),
                        before: Some(json!(3)),
                        after: Some(json!(2)),
                    }]
                ),
            ]),
        }
    );
    let t = Instant::now();
    let done = stack::deploy(manager, &new, &values(), &options())
        .await
        .expect("deploy");
    timed("config change and replicas 3 -> 2", t);
    assert_eq!(done.failures().count(), 0, "{done:#?}");
    assert_eq!(done.services["api"], ServiceOutcome::Updated);
    assert_eq!(done.services["edge"], ServiceOutcome::Updated);
    assert_eq!(done.services["probe"], ServiceOutcome::Unchanged);
    let old_name = old
        .configs
        .keys()
        .find(|k| k.starts_with("program_page_"))
        .expect("old config");
    let new_name = new
        .configs
        .keys()
        .find(|k| k.starts_with("program_page_"))
        .expect("new config");
    assert_ne!(old_name, new_name);
    assert_eq!(done.created, vec![format!("config {new_name}")]);
    assert_eq!(done.removed, vec![format!("config {old_name}")]);
    let configs = manager.get("/configs").await.expect("configs");
    let names: Vec<&str> = configs
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|c| c["Spec"]["Name"].as_str())
        .collect();
    assert!(
        names.contains(&new_name.as_str()) && !names.contains(&old_name.as_str()),
        "{names:?}"
    );
    let api = running_tasks(manager, "program_api").await;
    for (_, t) in &api {
        let used = &t["Spec"]["ContainerSpec"]["Configs"][0]["ConfigName"];
        assert_eq!(used, new_name.as_str());
    }
    assert_eq!(running_tasks(manager, "program_edge").await.len(), 2);
}

/// A service whose image does not exist fails with the engine's task error;
/// its dependent is not started; an independent service still is.
async fn failed_service_stops_only_its_dependents(manager: &Engine) {
    let mut broken = Service::new("broken", "sdbc-test/missing:1");
    broken.restart.max_attempts = Some(1);
    let mut dependent = Service::new("dependent", TEST_IMAGE);
    dependent.after = vec!["broken".into()];
    dependent.command = Some(vec!["sleep".into(), "1000".into()]);
    let mut other = Service::new("other", TEST_IMAGE);
    other.command = Some(vec!["sleep".into(), "1000".into()]);
    let model = Model {
        stack: "faulty".into(),
        services: vec![broken, dependent, other],
        ..Model::default()
    };
    let objects = stack_objects(&model, &ObjectNames::default()).expect("objects");
    let options = DeployOptions {
        service_timeout: Duration::from_secs(8),
        poll: Duration::from_millis(200),
    };
    let t = Instant::now();
    let done = stack::deploy(manager, &objects, &BTreeMap::new(), &options)
        .await
        .expect("deploy");
    timed("a deployment with a failing service", t);
    match &done.services["broken"] {
        ServiceOutcome::Failed(error) => {
            assert!(
                error.contains("sdbc-test/missing:1") || error.contains("No such image"),
                "{error}"
            )
        }
        other => panic!("broken: {other:?}"),
    }
    assert_eq!(
        done.services["dependent"],
        ServiceOutcome::Skipped {
            dependency: "broken".into()
        }
    );
    assert_eq!(done.services["other"], ServiceOutcome::Created);
}
