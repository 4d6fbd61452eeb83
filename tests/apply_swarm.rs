//! `sdbc apply` end to end, through the binary: the fake Compute Engine's
//! instances are pointed at five local hosts (network namespaces with their
//! own engine and SSH server, see `sdbc::exec::hosts`), so one `apply` of
//! `tests/apply_swarm/program.sdb` makes the VMs, waits for each to say
//! ready, pins its host keys, forms the Swarm over SSH and deploys the
//! stack. Then: a second plan is empty and a second apply changes nothing
//! on the engines; `sdbc status` shows what the engines report, `sdbc
//! scale` changes the engines and the file's numbers, a count set back in
//! the file is applied, and status asks the next manager when the first's
//! engine is stopped (`apply_swarm/ops.rs`); a manager presenting another
//! host key is refused, named;
//! applies killed (SIGKILL) at seeded moments during formation and during
//! deployment each converge on a plain re-run (one Swarm, every node joined
//! once, every service once); `destroy --target stack` removes only the
//! stack and `destroy` the stack before the VMs. One set of hosts serves
//! every case, torn down even when one fails.

#[path = "apply_swarm/ops.rs"]
mod ops;
mod support;

use std::collections::{BTreeMap, BTreeSet};
use std::time::{Duration, Instant};

use sdbc::exec::engine::Engine;
use sdbc::exec::hosts::{HostsConfig, LocalHosts, TEST_IMAGE, busybox_rootfs_tar};
use serde_json::Value;
use support::apply::{Fake, PROJECT, Run, Work};
use support::rng::Rng;

const ZONE: &str = "europe-west1-b";
const STACK: &str = "program";
const VMS: [&str; 5] = [
    "manager-0",
    "manager-1",
    "manager-2",
    "worker-0",
    "worker-1",
];
const SERVICES: [&str; 2] = ["program_api", "program_probe"];

/// Killed applies, each followed by a plain one: runs that re-form the
/// Swarm from new engines, and runs that deploy the stack again. Ten in
/// all, as the issue asks; each formation run makes the Swarm anew.
const FORMATION_RUNS: u64 = 3;
const DEPLOYMENT_RUNS: u64 = 7;

fn timed(what: &str, start: Instant) {
    eprintln!(
        "[apply_swarm] {what}: {:.1}s",
        start.elapsed().as_secs_f64()
    );
}

/// `sdbc VERB program.sdb EXTRA...` with every layer.
fn sdbc(work: &Work, verb: &str, extra: &[&str]) -> Run {
    let file = work.file_name();
    let mut args = vec![verb, file.as_str()];
    args.extend_from_slice(extra);
    let out = tokio::task::block_in_place(|| {
        work.command(&args)
            .env_remove("SDBC_LAYERS")
            .output()
            .expect("sdbc runs")
    });
    Run::from_output(out)
}

fn apply(work: &Work) -> Run {
    sdbc(work, "apply", &["--auto-approve"])
}

/// An apply that must succeed; when it does not, the hosts' SSH logs are
/// shown with its output.
fn must_apply(work: &Work, hosts: &LocalHosts, what: &str) {
    let run = apply(work);
    if run.code != Some(0) {
        for h in hosts.hosts() {
            eprintln!("--- sshd log of {}\n{}", h.name, h.sshd_log(30));
        }
    }
    run.expect_code(0, what);
}

#[test]
fn apply_forms_the_swarm_and_deploys_the_stack() {
    // The fake runs on a runtime of its own, made and dropped out here.
    let fake = Fake::quick(1, 12);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    rt.block_on(scenarios(&fake));
}

async fn scenarios(fake: &Fake) {
    let whole = Instant::now();
    let t = Instant::now();
    let mut hosts = LocalHosts::start(HostsConfig {
        prefix: "sdbe2e".into(),
        subnet: [10, 214, 12],
        names: VMS.iter().map(|n| n.to_string()).collect(),
    })
    .await
    .expect("the local hosts start");
    let dir = tempfile::tempdir().expect("temp dir");
    let tar = busybox_rootfs_tar(dir.path()).expect("rootfs");
    hosts.import_image(TEST_IMAGE, &tar).await.expect("import");
    timed("5 hosts up with the image", t);

    let text =
        std::fs::read_to_string(support::apply::repo().join("tests/apply_swarm/program.sdb"))
            .expect("program");
    let work = Work::program(fake, STACK, &text);
    point_instances(fake, &hosts);
    // The stack's key, as apply makes it; the hosts accept it as a VM's
    // guest environment does once the key is in its metadata.
    let store = sdbc::state::SecretStore::for_source(&work.file, STACK).expect("store");
    let key = sdbc::exec::reach::stack_key(&store).expect("stack key");
    hosts.authorize(key.public_key()).expect("authorized");

    let t = Instant::now();
    must_apply(&work, &hosts, "first apply");
    timed("first apply: 5 VMs, the Swarm, the stack", t);
    let manager = hosts.hosts()[0].local_engine();
    assert_converged(&hosts, &manager).await;
    vms_carry_the_stack_key(fake, &key);
    order_is_health_gated(&manager).await;

    second_plan_and_apply_change_nothing(&work, &manager).await;
    ops::status_shows_what_the_engines_report(&work, &manager).await;
    a_wrong_host_key_is_refused(&work, &hosts);
    ops::scale_changes_the_engines_and_the_file(&work, &manager).await;
    ops::replicas_changed_in_the_file(&work, &manager).await;
    a_member_that_left_joins_again(&work, &hosts, &manager).await;
    a_new_config_value_replaces_the_object(&work, &manager).await;
    ops::status_asks_the_next_manager(&work, &mut hosts, &manager).await;

    let mut rng = Rng::new(0x5db_c12a);
    for run in 0..FORMATION_RUNS {
        let t = Instant::now();
        killed_formation(&work, &hosts, &mut rng).await;
        assert_converged(&hosts, &manager).await;
        timed(&format!("formation fault run {run}"), t);
    }
    for run in 0..DEPLOYMENT_RUNS {
        let t = Instant::now();
        killed_deployment(&work, &hosts, &mut rng);
        assert_converged(&hosts, &manager).await;
        timed(&format!("deployment fault run {run}"), t);
    }

    let t = Instant::now();
    sdbc(&work, "destroy", &["--auto-approve"]).expect_code(0, "destroy");
    assert!(stack_services(&manager).await.is_empty(), "the stack goes");
    assert!(
        fake.keys_without_boot_disks().is_empty(),
        "and the VMs: {:?}",
        fake.keys_without_boot_disks()
    );
    timed("destroy", t);
    timed("whole test", whole);
}

/// Each VM reports its host's addresses, publishes its SSH host key and
/// says it is ready, as a real VM's guest environment and cloud-init do.
fn point_instances(fake: &Fake, hosts: &LocalHosts) {
    for h in hosts.hosts() {
        let line = h.host_key.to_openssh().expect("encodes");
        let blob = line.split(' ').nth(1).expect("type, blob");
        let ip = h.ip.to_string();
        let host = fake_gce::InstanceHost::ready(&ip, Some(&ip), &[("ssh-ed25519", blob)]);
        fake.handle().point_instance(PROJECT, ZONE, &h.name, host);
    }
}

/// The instances' `ssh-keys` metadata is the stack key's public half.
fn vms_carry_the_stack_key(fake: &Fake, key: &russh::keys::ssh_key::PrivateKey) {
    let want = sdbc::exec::reach::ssh_keys_entry(key);
    for vm in VMS {
        let r = fake.resources();
        let body = &r[&format!("projects/{PROJECT}/zones/{ZONE}/instances/{vm}")];
        let items = body["metadata"]["items"].as_array().expect("items");
        let keys = items
            .iter()
            .find(|i| i["key"] == "ssh-keys")
            .expect("ssh-keys");
        assert_eq!(keys["value"], Value::String(want.clone()), "{vm}");
    }
}

/// One Swarm of the five VMs, each joined once and labelled, and every
/// service of the stack exactly once, with all its tasks running.
async fn assert_converged(hosts: &LocalHosts, manager: &Engine) {
    for h in hosts.hosts() {
        let info = h.local_engine().get("/info").await.expect("info");
        assert_eq!(info["Swarm"]["LocalNodeState"], "active", "{}", h.name);
    }
    let nodes = manager.get("/nodes").await.expect("nodes");
    let nodes = nodes.as_array().expect("node list");
    let labelled: Vec<&str> = nodes
        .iter()
        .filter_map(|n| n["Spec"]["Labels"]["sdbc.vm"].as_str())
        .collect();
    let unique: BTreeSet<&str> = labelled.iter().copied().collect();
    assert_eq!(nodes.len(), 5, "one node per VM: {labelled:?}");
    assert_eq!(unique, VMS.iter().copied().collect(), "{labelled:?}");
    let services = stack_services(manager).await;
    let names: Vec<&str> = services.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(names, SERVICES, "every service exactly once");
    // Apply returns once every service is ready; a task the engine
    // restarts meanwhile is given a few seconds.
    let start = Instant::now();
    loop {
        let status = sdbc::exec::stack::service_status(manager, STACK)
            .await
            .expect("status");
        if SERVICES.iter().all(|s| status[*s].is_ready()) {
            return;
        }
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "not ready: {status:?}"
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

/// The stack's services (`name`, spec version), sorted by name.
async fn stack_services(manager: &Engine) -> Vec<(String, u64)> {
    let all = manager.get("/services").await.expect("services");
    let mut out: Vec<(String, u64)> = all
        .as_array()
        .expect("list")
        .iter()
        .filter(|s| s["Spec"]["Labels"]["com.docker.stack.namespace"] == STACK)
        .map(|s| {
            let name = s["Spec"]["Name"].as_str().unwrap_or("").to_string();
            (name, s["Version"]["Index"].as_u64().unwrap_or(0))
        })
        .collect();
    out.sort();
    out
}

/// `probe` (after `api`) got its first task only once `api` was healthy:
/// its task was created after every `api` task was running.
async fn order_is_health_gated(manager: &Engine) {
    let tasks = manager.get("/tasks").await.expect("tasks");
    let mut api_running = Vec::new();
    let mut probe_created = Vec::new();
    for t in tasks.as_array().expect("tasks") {
        let service = t["ServiceID"].as_str().unwrap_or("");
        let info = manager
            .get(&format!("/services/{service}"))
            .await
            .expect("service");
        let name = info["Spec"]["Name"].as_str().unwrap_or("");
        let stamp = |v: &Value| v.as_str().unwrap_or("").to_string();
        match name {
            "program_api" => api_running.push(stamp(&t["Status"]["Timestamp"])),
            "program_probe" => probe_created.push(stamp(&t["CreatedAt"])),
            _ => {}
        }
    }
    let last_api = api_running.iter().max().expect("api tasks");
    let first_probe = probe_created.iter().min().expect("probe task");
    assert!(
        first_probe > last_api,
        "probe's first task ({first_probe}) after api's tasks ran ({last_api})"
    );
}

async fn second_plan_and_apply_change_nothing(work: &Work, manager: &Engine) {
    let t = Instant::now();
    let plan = sdbc(work, "plan", &["--detailed-exitcode"]);
    plan.expect_code(0, "a second plan is empty");
    assert!(plan.stdout.contains("No changes"), "{}", plan.stdout);
    timed("second plan", t);
    let before = stack_services(manager).await;
    let nodes_before = manager.get("/nodes").await.expect("nodes");
    let again = apply(work);
    again.expect_code(0, "a second apply");
    assert!(again.stderr.contains("No changes"), "{}", again.stderr);
    assert_eq!(stack_services(manager).await, before, "no service changed");
    let versions = |v: &Value| -> BTreeMap<String, Value> {
        v.as_array()
            .expect("nodes")
            .iter()
            .map(|n| {
                (
                    n["ID"].as_str().unwrap_or("").to_string(),
                    n["Version"].clone(),
                )
            })
            .collect()
    };
    let nodes_after = manager.get("/nodes").await.expect("nodes");
    assert_eq!(
        versions(&nodes_after),
        versions(&nodes_before),
        "no node changed"
    );
}

/// `worker-1` leaves the Swarm and its node is removed behind sdbc's back:
/// the plan joins it again, and apply does.
async fn a_member_that_left_joins_again(work: &Work, hosts: &LocalHosts, manager: &Engine) {
    let t = Instant::now();
    let worker = hosts.hosts()[4].local_engine();
    let info = worker.get("/info").await.expect("info");
    let id = info["Swarm"]["NodeID"]
        .as_str()
        .expect("node id")
        .to_string();
    worker
        .post("/swarm/leave?force=true", &Value::Null)
        .await
        .expect("leave");
    // The manager lists it `down` a moment later; then it can go.
    let start = Instant::now();
    while manager
        .delete(&format!("/nodes/{id}?force=true"))
        .await
        .is_err()
    {
        assert!(start.elapsed() < Duration::from_secs(30), "node {id} stays");
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    let plan = sdbc(work, "plan", &[]);
    plan.expect_code(0, "plan after a member left");
    assert!(
        plan.stdout.contains("swarm.join.worker-1")
            && plan
                .stdout
                .contains("the Swarm has no ready node of this VM"),
        "{}",
        plan.stdout
    );
    sdbc(work, "apply", &["--auto-approve"]).expect_code(0, "apply joins it again");
    let nodes = manager.get("/nodes").await.expect("nodes");
    let worker_nodes = nodes
        .as_array()
        .expect("nodes")
        .iter()
        .filter(|n| n["Spec"]["Labels"]["sdbc.vm"] == "worker-1")
        .count();
    assert_eq!(worker_nodes, 1, "worker-1 joined once");
    timed("a member that left joins again", t);
}

/// The stack's config objects by name.
async fn config_names(manager: &Engine) -> Vec<String> {
    let all = manager.get("/configs").await.expect("configs");
    let mut names: Vec<String> = all
        .as_array()
        .expect("list")
        .iter()
        .filter(|c| c["Spec"]["Labels"]["com.docker.stack.namespace"] == STACK)
        .filter_map(|c| c["Spec"]["Name"].as_str().map(str::to_string))
        .collect();
    names.sort();
    names
}

/// A config's content changes: a new object (a new content-hashed name),
/// the service moves to it, the old one is removed.
async fn a_new_config_value_replaces_the_object(work: &Work, manager: &Engine) {
    let t = Instant::now();
    let before = config_names(manager).await;
    assert_eq!(before.len(), 1, "{before:?}");
    let vars = ["--var", "page_text=ok, new\n"];
    let mut args = vec!["--auto-approve"];
    args.extend(vars);
    sdbc(work, "apply", &args).expect_code(0, "apply a new config value");
    let after = config_names(manager).await;
    assert_eq!(after.len(), 1, "the old config is gone: {after:?}");
    assert_ne!(after, before, "a new config object");
    let api = manager.get("/services/program_api").await.expect("api");
    let used = &api["Spec"]["TaskTemplate"]["ContainerSpec"]["Configs"][0]["ConfigName"];
    assert_eq!(used.as_str(), Some(after[0].as_str()), "api uses it");
    let mut plan = vec!["--detailed-exitcode"];
    plan.extend(vars);
    sdbc(work, "plan", &plan).expect_code(0, "nothing more to do");
    timed("a new config value", t);
}

/// A state that pins another key for `manager-0` than the one it presents:
/// plan (and so apply) refuses, naming the VM.
fn a_wrong_host_key_is_refused(work: &Work, hosts: &LocalHosts) {
    let path = work.store().path().to_path_buf();
    let good = std::fs::read_to_string(&path).expect("state");
    let mut state: Value = serde_json::from_str(&good).expect("state JSON");
    let other = hosts.hosts()[1].host_key.to_openssh().expect("encodes");
    state["resources"]["swarm.init"]["assigned"]["hostkey.ssh-ed25519"] = Value::String(other);
    std::fs::write(&path, serde_json::to_string_pretty(&state).expect("JSON")).expect("write");
    let refused = apply(work);
    refused.expect_code(1, "a wrong host key");
    assert!(
        refused.stderr.contains("manager-0") && refused.stderr.contains("host key"),
        "{}",
        refused.stderr
    );
    assert!(
        !refused.stderr.contains("Apply these changes"),
        "nothing runs"
    );
    std::fs::write(&path, good).expect("restore the state");
}

/// New engines (the VMs made again), an apply killed at a seeded moment,
/// then a plain apply.
async fn killed_formation(work: &Work, hosts: &LocalHosts, rng: &mut Rng) {
    sdbc(work, "destroy", &["--auto-approve"]).expect_code(0, "destroy");
    for h in hosts.hosts() {
        let _ = h
            .local_engine()
            .post("/swarm/leave?force=true", &Value::Null)
            .await;
    }
    let delay = Duration::from_millis(500 + rng.below(6000) as u64);
    kill_after(work, delay);
    must_apply(work, hosts, "apply after a killed formation");
}

/// The stack removed, an apply killed at a seeded moment, then a plain apply.
fn killed_deployment(work: &Work, hosts: &LocalHosts, rng: &mut Rng) {
    sdbc(work, "destroy", &["--target", "stack", "--auto-approve"])
        .expect_code(0, "destroy --target stack");
    let delay = Duration::from_millis(200 + rng.below(4000) as u64);
    kill_after(work, delay);
    must_apply(work, hosts, "apply after a killed deployment");
}

fn kill_after(work: &Work, delay: Duration) {
    tokio::task::block_in_place(|| {
        let mut child = work
            .command(&["apply", &work.file_name(), "--auto-approve"])
            .env_remove("SDBC_LAYERS")
            .spawn()
            .expect("spawn apply");
        std::thread::sleep(delay);
        // SIGKILL: no clean-up at all.
        let _ = child.kill();
        let _ = child.wait();
    });
    eprintln!("[apply_swarm] killed apply after {delay:?}");
}
