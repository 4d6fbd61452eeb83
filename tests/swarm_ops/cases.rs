//! The cases of `tests/swarm_ops.rs`, run in order on one Swarm of three
//! managers where stack `ops` (web 2, worker 1, agent global) is deployed.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use sdbc::exec::engine::{Engine, query_value};
use sdbc::exec::hosts::LocalHosts;
use sdbc::exec::stack::{self, DeployError, ScaleError, Scaled, ServiceOutcome};
use sdbc::exec::status::{self, ManagerError};
use sdbc::exec::swarm::{self, SwarmError};
use sdbc::model::Model;
use sdbc::plan::AttrDiff;
use sdbc::targets::stack::ObjectNames;
use sdbc::targets::stack::engine::stack_objects;
use serde_json::{Value, json};

use super::{health_gated, model, objects, options, timed, values};

/// The stack's services as the engine has them, by Swarm name.
async fn services(manager: &Engine, stack: &str) -> BTreeMap<String, Value> {
    let filters = query_value(
        &json!({ "label": [format!("com.docker.stack.namespace={stack}")] }).to_string(),
    );
    let list = manager
        .get(&format!("/services?filters={filters}"))
        .await
        .expect("services");
    list.as_array()
        .into_iter()
        .flatten()
        .map(|s| {
            (
                s["Spec"]["Name"].as_str().unwrap_or("").to_string(),
                s.clone(),
            )
        })
        .collect()
}

fn version(s: &Value) -> u64 {
    s["Version"]["Index"].as_u64().expect("a version")
}

fn replicas(s: &Value) -> Option<u64> {
    s["Spec"]["Mode"]["Replicated"]["Replicas"].as_u64()
}

pub async fn status_shows_nodes_and_services(manager: &Engine) {
    let st = status::gather(manager, "ops").await.expect("status");
    assert_eq!(st.manager, "manager-0");
    let hostnames: Vec<&str> = st.nodes.iter().map(|n| n.hostname.as_str()).collect();
    assert_eq!(hostnames, ["manager-0", "manager-1", "manager-2"]);
    for n in &st.nodes {
        assert_eq!(n.vm, n.hostname, "labelled with its VM");
        assert_eq!(n.group, "manager");
        assert_eq!((n.role.as_str(), n.state.as_str()), ("manager", "ready"));
        assert_eq!(n.availability, "active");
    }
    let mut statuses: Vec<&str> = st.nodes.iter().map(|n| n.manager_status.as_str()).collect();
    statuses.sort();
    assert_eq!(statuses, ["Leader", "Reachable", "Reachable"]);

    let rows: Vec<(&str, &str, u64, u64, Option<&str>)> = st
        .services
        .iter()
        .map(|s| {
            (
                s.name.as_str(),
                s.mode.as_str(),
                s.running,
                s.desired,
                s.health.as_deref(),
            )
        })
        .collect();
    assert_eq!(
        rows,
        [
            ("agent", "global", 3, 3, None),
            ("web", "replicated", 2, 2, Some("healthy")),
            ("worker", "replicated", 1, 1, None),
        ]
    );
    assert!(st.services.iter().all(|s| s.image == super::TEST_IMAGE));
    assert!(st.services.iter().all(|s| s.error.is_none()));
    assert_eq!(st.services[1].full_name, "ops_web");
    assert!(st.is_healthy());
    let json = serde_json::to_value(&st).expect("json");
    assert_eq!(json["services"][1]["health"], "healthy");
    assert_eq!(json["nodes"].as_array().map(Vec::len), Some(3));
}

/// A service that never gets healthy: not running, not healthy, and the
/// status is not healthy as a whole.
pub async fn status_of_a_failing_service(manager: &Engine) {
    let mut never = health_gated("never", None, 0);
    never.restart.max_attempts = Some(1);
    let bad = Model {
        stack: "bad".into(),
        services: vec![never],
        ..Model::default()
    };
    let objects = stack_objects(&bad, &ObjectNames::default()).expect("objects");
    let done = stack::deploy(manager, &objects, &BTreeMap::new(), &options(6))
        .await
        .expect("deploy");
    assert!(
        matches!(done.services["never"], ServiceOutcome::Failed(_)),
        "{done:?}"
    );
    let st = status::gather(manager, "bad").await.expect("status");
    assert_eq!(st.services.len(), 1);
    let s = &st.services[0];
    assert_eq!((s.running, s.desired), (0, 1), "{s:?}");
    assert!(
        matches!(s.health.as_deref(), Some("starting" | "unhealthy")),
        "{s:?}"
    );
    assert!(!st.is_healthy());
    let empty = Model {
        stack: "bad".into(),
        ..Model::default()
    };
    let none = stack_objects(&empty, &ObjectNames::default()).expect("objects");
    stack::deploy(manager, &none, &BTreeMap::new(), &options(6))
        .await
        .expect("remove the stack");
}

/// A manager that cannot be addressed, then one presenting the wrong host
/// key: the next one answers. None answering: every error, each naming its VM.
pub async fn the_next_manager_is_tried(hosts: &LocalHosts) {
    let mut wrong_key = hosts.ssh_target(0).expect("host 0");
    wrong_key.host_keys = vec![hosts.hosts()[1].host_key.clone()];
    let right = hosts.ssh_target(1).expect("host 1");
    let targets = vec![
        Err("VM `manager-9` has no address in the state".to_string()),
        Ok(wrong_key.clone()),
        Ok(right),
    ];
    let connected = status::connect_manager(&targets, hosts.client_key())
        .await
        .expect("manager-1 answers");
    let engine = connected.engine;
    assert_eq!(engine.host(), "manager-1");
    assert_eq!(connected.skipped.len(), 2, "{:?}", connected.skipped);
    assert!(
        connected.skipped[1].contains("`manager-0`"),
        "{:?}",
        connected.skipped
    );
    let st = status::gather(&engine, "ops").await.expect("status");
    assert_eq!(st.manager, "manager-1");

    let err = status::connect_manager(&targets[..2], hosts.client_key())
        .await
        .expect_err("none answers");
    let ManagerError::NoneAnswers(errors) = &err else {
        panic!("{err}")
    };
    assert_eq!(errors.len(), 2, "{errors:?}");
    assert!(errors[0].contains("manager-9"), "{err}");
    assert!(errors[1].contains("`manager-0`"), "{err}");
}

pub async fn scale_changes_only_the_named_services(manager: &Engine) {
    let before = services(manager, "ops").await;
    let t = Instant::now();
    let counts = |pairs: &[(&str, u64)]| -> BTreeMap<String, u64> {
        pairs.iter().map(|(n, c)| (n.to_string(), *c)).collect()
    };
    let scaled = stack::scale(manager, "ops", &counts(&[("web", 3)]))
        .await
        .expect("scale web");
    let web = Scaled {
        service: "web".into(),
        from: 2,
        to: 3,
    };
    assert_eq!(scaled, std::slice::from_ref(&web));
    let middle = services(manager, "ops").await;
    for other in ["ops_worker", "ops_agent"] {
        assert_eq!(
            version(&middle[other]),
            version(&before[other]),
            "{other} untouched"
        );
    }
    // web again (already at 3: not sent) with worker.
    let scaled = stack::scale(manager, "ops", &counts(&[("web", 3), ("worker", 2)]))
        .await
        .expect("scale worker");
    let worker = Scaled {
        service: "worker".into(),
        from: 1,
        to: 2,
    };
    assert_eq!(scaled, [Scaled { from: 3, ..web }, worker]);
    stack::wait_scaled(
        manager,
        "ops",
        &["web".into(), "worker".into()],
        Duration::from_secs(60),
    )
    .await
    .expect("tasks running");
    timed("scale web 2 -> 3, then worker 1 -> 2", t);
    let after = services(manager, "ops").await;
    assert_eq!(
        version(&after["ops_web"]),
        version(&middle["ops_web"]),
        "web at its count already: not sent"
    );
    assert_eq!(
        version(&after["ops_agent"]),
        version(&before["ops_agent"]),
        "agent untouched"
    );
    assert_eq!(replicas(&after["ops_web"]), Some(3));
    assert_eq!(replicas(&after["ops_worker"]), Some(2));
    for name in ["ops_web", "ops_worker"] {
        let mut was = before[name]["Spec"].clone();
        let mut now = after[name]["Spec"].clone();
        was["Mode"] = Value::Null;
        now["Mode"] = Value::Null;
        assert_eq!(was, now, "{name}: only the replica count changed");
    }
    let st = status::gather(manager, "ops").await.expect("status");
    assert_eq!((st.services[1].running, st.services[1].desired), (3, 3));

    // Wrong names and global services change nothing, not even the names
    // that were right.
    let err = stack::scale(
        manager,
        "ops",
        &BTreeMap::from([("web".to_string(), 5), ("wbe".to_string(), 1)]),
    )
    .await
    .unwrap_err();
    assert_eq!(
        err,
        ScaleError::UnknownService {
            stack: "ops".into(),
            service: "wbe".into(),
            closest: Some("web".into())
        }
    );
    assert!(err.to_string().contains("`web`"), "{err}");
    let err = stack::scale(manager, "ops", &BTreeMap::from([("agent".to_string(), 2)]))
        .await
        .unwrap_err();
    assert_eq!(
        err,
        ScaleError::Global {
            service: "agent".into()
        }
    );
    let unchanged = services(manager, "ops").await;
    assert_eq!(version(&unchanged["ops_web"]), version(&after["ops_web"]));

    // The file written with the new counts plans nothing; the old file
    // would set them back, and says so in replicas only.
    let planned = stack::changes(manager, &objects(&model("ops", 3, 2)))
        .await
        .expect("changes");
    assert!(planned.is_empty(), "{planned:?}");
    let planned = stack::changes(manager, &objects(&model("ops", 2, 1)))
        .await
        .expect("changes");
    assert_eq!(planned.update, ["service ops_web", "service ops_worker"]);
    assert_eq!(
        planned.diffs["service ops_web"],
        [AttrDiff {
            path: "replicas".into(),
            before: Some(json!(3)),
            after: Some(json!(2)),
        }]
    );
}

/// web updated to a version that never gets healthy: the engine rolls it
/// back; sdbc reports the rollback and the task error; web ends on its
/// previous spec, and deploying that spec again is no failure.
pub async fn a_failed_update_is_rolled_back(manager: &Engine) {
    let good = model("ops", 3, 2);
    let mut bad = good.clone();
    let mut never = health_gated("web", None, 2);
    never.configs = good.services[0].configs.clone();
    never.secrets = good.services[0].secrets.clone();
    never.update = good.services[0].update.clone();
    never.replicas = 3;
    bad.services[0] = never;
    let before = services(manager, "ops").await["ops_web"].clone();
    let t = Instant::now();
    let done = stack::deploy(manager, &objects(&bad), &values(), &options(90))
        .await
        .expect("deploy");
    timed("an update rolled back", t);
    let ServiceOutcome::Failed(reason) = &done.services["web"] else {
        panic!("web: {:?}", done.services["web"])
    };
    eprintln!("[swarm ops] web: {reason}");
    assert!(reason.contains("rollback"), "{reason}");
    assert!(reason.contains("latest task: "), "{reason}");
    assert!(!reason.contains("no task was created"), "{reason}");
    assert_eq!(done.services["worker"], ServiceOutcome::Unchanged);

    let after = services(manager, "ops").await["ops_web"].clone();
    assert_eq!(
        after["UpdateStatus"]["State"], "rollback_completed",
        "{after:#}"
    );
    assert_eq!(
        after["Spec"]["TaskTemplate"], before["Spec"]["TaskTemplate"],
        "back on the previous task spec"
    );
    assert_eq!(after["Spec"]["Labels"], before["Spec"]["Labels"]);
    let st = status::gather(manager, "ops").await.expect("status");
    assert_eq!(st.services[1].update.as_deref(), Some("rollback_completed"));

    let again = stack::deploy(manager, &objects(&good), &values(), &options(60))
        .await
        .expect("deploy the previous program");
    assert_eq!(again.failures().count(), 0, "{again:#?}");
    assert!(again.is_noop(), "{again:#?}");
}

/// Config and secret ids by name, every stack's.
async fn object_ids(manager: &Engine, kind: &str) -> BTreeMap<String, String> {
    let list = manager.get(&format!("/{kind}")).await.expect("list");
    list.as_array()
        .into_iter()
        .flatten()
        .map(|o| {
            (
                o["Spec"]["Name"].as_str().unwrap_or("").to_string(),
                o["ID"].as_str().unwrap_or("").to_string(),
            )
        })
        .collect()
}

/// Two stacks with the same config and secret names and values get objects
/// of their own; removing one stack's leaves the other's; a name taken by
/// another stack's object is an error naming it, and that object stays.
pub async fn object_names_are_per_stack(manager: &Engine) {
    let ops = objects(&model("ops", 3, 2));
    let configs_before = object_ids(manager, "configs").await;
    let secrets_before = object_ids(manager, "secrets").await;

    let mut other = model("ops2", 1, 1);
    other.services.truncate(1);
    let other = objects(&other);
    assert_ne!(other.configs.keys().next(), ops.configs.keys().next());
    assert_ne!(other.secrets["token"], ops.secrets["token"]);
    let done = stack::deploy(manager, &other, &values(), &options(60))
        .await
        .expect("deploy ops2");
    assert_eq!(done.failures().count(), 0, "{done:#?}");
    assert_eq!(done.created.len(), 3, "{:?}", done.created);

    let gone = Model {
        stack: "ops2".into(),
        ..Model::default()
    };
    let gone = stack_objects(&gone, &ObjectNames::default()).expect("objects");
    let removed = stack::deploy(manager, &gone, &BTreeMap::new(), &options(10))
        .await
        .expect("remove ops2");
    assert_eq!(removed.removed.len(), 3, "{:?}", removed.removed);
    assert_eq!(
        object_ids(manager, "configs").await,
        configs_before,
        "ops's configs stay"
    );
    assert_eq!(
        object_ids(manager, "secrets").await,
        secrets_before,
        "ops's secrets stay"
    );

    // A config under ops3's name that another stack made.
    let mut third = model("ops3", 1, 1);
    third.services.truncate(1);
    let third = objects(&third);
    let (taken, _) = third.configs.iter().next().expect("a config");
    let body = json!({
        "Name": taken,
        "Labels": { "com.docker.stack.namespace": "someone-else" },
        "Data": "Zm9yZWlnbg==",
    });
    let foreign = manager
        .post("/configs/create", &body)
        .await
        .expect("create");
    let err = stack::deploy(manager, &third, &values(), &options(10))
        .await
        .unwrap_err();
    assert_eq!(
        err,
        DeployError::NameTaken {
            kind: "config".into(),
            name: taken.clone(),
            owner: Some("someone-else".into()),
        }
    );
    assert!(err.to_string().contains(taken.as_str()), "{err}");
    let still = manager
        .get(&format!(
            "/configs/{}",
            foreign["ID"].as_str().unwrap_or("")
        ))
        .await
        .expect("the foreign config is still there");
    assert_eq!(
        still["Spec"]["Labels"]["com.docker.stack.namespace"],
        "someone-else"
    );
    assert_eq!(still["Spec"]["Data"], "Zm9yZWlnbg==");
    assert!(
        services(manager, "ops3").await.is_empty(),
        "nothing of ops3 started"
    );
    foreign_network_and_service(manager).await;
}

/// A network, then a service, under a stack's names but another stack's:
/// errors naming them; neither is changed or removed.
async fn foreign_network_and_service(manager: &Engine) {
    let mut lone = Model {
        stack: "ops4".into(),
        services: vec![super::sleeper("web")],
        ..Model::default()
    };
    let objects4 = stack_objects(&lone, &ObjectNames::default()).expect("objects");
    let mut net = objects4.network.clone();
    net["Labels"] = json!({ "com.docker.stack.namespace": "someone-else" });
    manager
        .post("/networks/create", &net)
        .await
        .expect("network");
    let err = stack::deploy(manager, &objects4, &BTreeMap::new(), &options(10))
        .await
        .unwrap_err();
    assert_eq!(
        err,
        DeployError::NameTaken {
            kind: "network".into(),
            name: "ops4_sdbc".into(),
            owner: Some("someone-else".into()),
        }
    );
    assert!(services(manager, "ops4").await.is_empty());

    lone.stack = "ops5".into();
    let objects5 = stack_objects(&lone, &ObjectNames::default()).expect("objects");
    let foreign = json!({
        "Name": "ops5_web",
        "Labels": { "com.docker.stack.namespace": "someone-else" },
        "TaskTemplate": { "ContainerSpec": { "Image": super::TEST_IMAGE, "Args": ["sleep", "100000"] } },
        "Mode": { "Replicated": { "Replicas": 0 } },
    });
    manager
        .post("/services/create", &foreign)
        .await
        .expect("service");
    let err = stack::deploy(manager, &objects5, &BTreeMap::new(), &options(10))
        .await
        .unwrap_err();
    assert_eq!(
        err,
        DeployError::NameTaken {
            kind: "service".into(),
            name: "ops5_web".into(),
            owner: Some("someone-else".into()),
        }
    );
    let still = manager
        .get("/services/ops5_web")
        .await
        .expect("still there");
    assert_eq!(
        still["Spec"]["Labels"]["com.docker.stack.namespace"],
        "someone-else"
    );
    manager
        .delete("/services/ops5_web")
        .await
        .expect("remove the foreign service");
}

/// manager-2's engine stopped: the wait times out naming it; started
/// again: the wait returns once it is a reachable manager again.
pub async fn a_restarted_manager_is_waited_for(hosts: &mut LocalHosts, manager: &Engine) {
    let t = Instant::now();
    tokio::task::block_in_place(|| hosts.host_mut(2).expect("manager-2").stop_engine());
    // The others notice it is gone within a few heartbeats.
    let start = Instant::now();
    loop {
        let nodes = swarm::list_nodes(manager).await.expect("nodes");
        let m2 = nodes
            .iter()
            .find(|n| n.vm() == Some("manager-2"))
            .expect("node");
        if m2.reachability.as_deref() != Some("reachable") || m2.state != "ready" {
            break;
        }
        assert!(
            start.elapsed() < Duration::from_secs(60),
            "still reachable: {m2:?}"
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    let err = swarm::wait_manager_reachable(manager, "manager-2", Duration::from_secs(2))
        .await
        .unwrap_err();
    assert!(
        matches!(&err, SwarmError::NotReachable { host, .. } if host == "manager-2"),
        "{err}"
    );
    assert!(err.to_string().contains("`manager-2`"), "{err}");

    hosts
        .host_mut(2)
        .expect("manager-2")
        .start_engine()
        .expect("start");
    let node = swarm::wait_manager_reachable(manager, "manager-2", swarm::REACHABLE_TIMEOUT)
        .await
        .expect("back");
    timed("manager-2 stopped, started and reachable again", t);
    assert_eq!(node.state, "ready");
    assert_eq!(node.reachability.as_deref(), Some("reachable"));
    let info = hosts.hosts()[2]
        .local_engine()
        .get("/info")
        .await
        .expect("manager-2 answers");
    assert_eq!(info["Swarm"]["ControlAvailable"], true);
    assert_eq!(info["Swarm"]["LocalNodeState"], "active");
}
