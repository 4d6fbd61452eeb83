//! Operating a running stack on a real Swarm: what `sdbc status` shows,
//! `sdbc scale` changing only the named services, an update the engine
//! rolls back, stack-scoped secret and config names, and waiting for a
//! restarted manager. Three local hosts (prefix `sdsc`, all managers; see
//! `sdbc::exec::hosts`) reached over SSH with pinned host keys; one set of
//! hosts serves every case, in order, and is torn down even when one fails.

#[path = "swarm_ops/cases.rs"]
mod cases;

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use sdbc::exec::engine::Engine;
use sdbc::exec::hosts::{HostsConfig, LocalHosts, TEST_IMAGE, busybox_rootfs_tar};
use sdbc::exec::ssh::SshSession;
use sdbc::exec::stack::{self, DeployOptions};
use sdbc::exec::swarm::{self, Member, Role};
use sdbc::model::{Config, ConfigUse, Healthcheck, Model, Secret, SecretUse, Service, ServiceMode};
use sdbc::targets::stack::ObjectNames;
use sdbc::targets::stack::engine::{StackObjects, stack_objects};
use sha2::{Digest, Sha256};

const NAMES: [&str; 3] = ["manager-0", "manager-1", "manager-2"];
const TOKEN: &[u8] = b"a token for the ops tests";

pub fn timed(what: &str, start: Instant) {
    eprintln!("[swarm ops] {what}: {:.2}s", start.elapsed().as_secs_f64());
}

async fn members(hosts: &LocalHosts) -> Vec<Member> {
    let mut out = Vec::new();
    for (i, vm) in NAMES.iter().enumerate() {
        let target = hosts.ssh_target(i).expect("host exists");
        let session = SshSession::connect(&target, hosts.client_key())
            .await
            .unwrap_or_else(|e| panic!("ssh to {vm}: {e}"));
        out.push(Member {
            vm: vm.to_string(),
            group: "manager".into(),
            role: Role::Manager,
            addr: hosts.hosts()[i].ip.to_string(),
            engine: session.engine(),
        });
    }
    out
}

/// Healthy once `/tmp/ready` exists; `ready_after` seconds after start, or
/// never.
pub fn health_gated(name: &str, ready_after: Option<u64>, start_period_s: u64) -> Service {
    let mut s = Service::new(name, TEST_IMAGE);
    let script = match ready_after {
        Some(d) => format!("sleep {d} && touch /tmp/ready && exec sleep 100000"),
        None => "exec sleep 100000".to_string(),
    };
    s.command = Some(vec!["sh".into(), "-c".into(), script]);
    s.healthcheck = Some(Healthcheck {
        test: vec![
            "CMD".into(),
            "test".into(),
            "-f".into(),
            "/tmp/ready".into(),
        ],
        interval_s: 1,
        timeout_s: 1,
        retries: 1,
        start_period_s,
    });
    s
}

pub fn sleeper(name: &str) -> Service {
    let mut s = Service::new(name, TEST_IMAGE);
    s.command = Some(vec!["sleep".into(), "100000".into()]);
    s
}

/// Stack `stack`: `web` (health-gated, a config and a secret), `worker`,
/// and the global `agent`.
pub fn model(stack: &str, web: u32, worker: u32) -> Model {
    let mut w = health_gated("web", Some(1), 30);
    w.replicas = web;
    w.update.order = "start-first".into();
    w.update.parallelism = 1;
    w.configs = vec![ConfigUse {
        config: "conf".into(),
        target: "/etc/conf".into(),
    }];
    w.secrets = vec![SecretUse {
        secret: "token".into(),
        target: "token".into(),
    }];
    let mut wk = sleeper("worker");
    wk.replicas = worker;
    let mut agent = sleeper("agent");
    agent.mode = ServiceMode::Global;
    Model {
        stack: stack.into(),
        services: vec![w, wk, agent],
        configs: vec![Config {
            name: "conf".into(),
            content: "the same text in every stack\n".into(),
            span: Default::default(),
        }],
        secrets: vec![Secret {
            name: "token".into(),
            span: Default::default(),
        }],
        ..Model::default()
    }
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

pub fn options(timeout_s: u64) -> DeployOptions {
    DeployOptions {
        service_timeout: Duration::from_secs(timeout_s),
        poll: Duration::from_millis(200),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stack_operations_on_local_hosts() {
    let whole = Instant::now();
    let mut hosts = LocalHosts::start(HostsConfig {
        prefix: "sdsc".into(),
        subnet: [10, 219, 12],
        names: NAMES.iter().map(|n| n.to_string()).collect(),
    })
    .await
    .expect("the local hosts start");
    timed("3 hosts up", whole);
    let work = tempfile::tempdir().expect("temp dir");
    let tar = busybox_rootfs_tar(work.path()).expect("rootfs");
    hosts.import_image(TEST_IMAGE, &tar).await.expect("import");

    let members = members(&hosts).await;
    let formed = swarm::form(&members).await.expect("the Swarm forms");
    assert_eq!(formed.failures().count(), 0, "{:?}", formed.outcomes);
    let manager: Engine = members[0].engine.clone();

    let t = Instant::now();
    let done = stack::deploy(
        &manager,
        &objects(&model("ops", 2, 1)),
        &values(),
        &options(60),
    )
    .await
    .expect("deploy");
    assert_eq!(done.failures().count(), 0, "{done:#?}");
    timed("formation and first deployment", t);

    cases::status_shows_nodes_and_services(&manager).await;
    cases::status_of_a_failing_service(&manager).await;
    cases::the_next_manager_is_tried(&hosts).await;
    cases::scale_changes_only_the_named_services(&manager).await;
    cases::a_failed_update_is_rolled_back(&manager).await;
    cases::object_names_are_per_stack(&manager).await;
    cases::a_restarted_manager_is_waited_for(&mut hosts, &manager).await;
    let t = Instant::now();
    drop(hosts);
    timed("tear-down", t);
    timed("whole test", whole);
}
