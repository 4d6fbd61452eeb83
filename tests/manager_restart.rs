//! A machine-type change of three Swarm managers, applied through the
//! `sdbc` binary against the fake Compute Engine with its instances pointed
//! at three local hosts (prefix `sdmr`, see `sdbc::exec::hosts`): the plan
//! gives each manager a member step ("its VM restarts") that the next
//! manager's VM waits for. manager-1's engine is stopped before the apply
//! (as a reboot that is slow to bring its engine back): its member step
//! waits, the fake never sees manager-2 stop meanwhile, and once the engine
//! is started again the step ends with the node back as a reachable
//! manager, and only then does manager-2 restart. A second plan is empty.

mod support;

use std::time::{Duration, Instant};

use sdbc::exec::hosts::{HostsConfig, LocalHosts};
use sdbc::exec::swarm;
use support::apply::{Fake, PROJECT, Run, Work};

const ZONE: &str = "europe-west1-b";
const VMS: [&str; 3] = ["manager-0", "manager-1", "manager-2"];

const PROGRAM: &str = r#"
gce {
  region = "europe-west1"
  zone   = "europe-west1-b"
  image  = "ubuntu-os-cloud/ubuntu-2404-lts-amd64"
}

network net 10.221.7.0/24;
vm manager[3] e2-standard-2 swarm=manager;
"#;

/// How long manager-1's engine stays stopped once its VM started again.
const ENGINE_AWAY: Duration = Duration::from_secs(3);

fn timed(what: &str, start: Instant) {
    eprintln!(
        "[manager_restart] {what}: {:.1}s",
        start.elapsed().as_secs_f64()
    );
}

/// `sdbc VERB program.sdb EXTRA...` with every layer.
fn sdbc(work: &Work, verb: &str, extra: &[&str]) -> std::process::Command {
    let file = work.file_name();
    let mut args = vec![verb, file.as_str()];
    args.extend_from_slice(extra);
    let mut c = work.command(&args);
    c.env_remove("SDBC_LAYERS");
    c
}

fn run(work: &Work, verb: &str, extra: &[&str]) -> Run {
    let out = sdbc(work, verb, extra).output().expect("sdbc runs");
    Run::from_output(out)
}

fn point_instances(fake: &Fake, hosts: &LocalHosts) {
    for h in hosts.hosts() {
        let line = h.host_key.to_openssh().expect("encodes");
        let blob = line.split(' ').nth(1).expect("type, blob");
        let ip = h.ip.to_string();
        let host = fake_gce::InstanceHost::ready(&ip, Some(&ip), &[("ssh-ed25519", blob)]);
        fake.handle().point_instance(PROJECT, ZONE, &h.name, host);
    }
}

/// The fake's mutating calls on the managers' instances, as `VM/VERB`.
fn instance_calls(fake: &Fake) -> Vec<String> {
    let prefix = format!("projects/{PROJECT}/zones/{ZONE}/instances/");
    fake.mutations()
        .into_iter()
        .filter_map(|(_, p)| p.strip_prefix(&prefix).map(str::to_string))
        .collect()
}

#[test]
fn a_restarted_manager_is_reachable_before_the_next_restarts() {
    let fake = Fake::quick(1, 17);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    rt.block_on(scenario(&fake));
}

async fn scenario(fake: &Fake) {
    let whole = Instant::now();
    let mut hosts = LocalHosts::start(HostsConfig {
        prefix: "sdmr".into(),
        subnet: [10, 221, 7],
        names: VMS.iter().map(|n| n.to_string()).collect(),
    })
    .await
    .expect("the local hosts start");
    let work = Work::program(fake, "restart", PROGRAM);
    point_instances(fake, &hosts);
    let store = sdbc::state::SecretStore::for_source(&work.file, "restart").expect("store");
    let key = sdbc::exec::reach::stack_key(&store).expect("stack key");
    hosts.authorize(key.public_key()).expect("authorized");
    let t = Instant::now();
    tokio::task::block_in_place(|| run(&work, "apply", &["--auto-approve"]))
        .expect_code(0, "first apply");
    timed("first apply (3 managers)", t);

    work.edit("e2-standard-2", "e2-standard-4");
    let plan = tokio::task::block_in_place(|| run(&work, "plan", &[]));
    plan.expect_code(0, "plan");
    for member in ["swarm.init", "swarm.join.manager-1", "swarm.join.manager-2"] {
        let shown = plan
            .stdout
            .lines()
            .any(|l| l.contains(member) && l.contains("its VM restarts"));
        assert!(shown, "{member}\n{}", plan.stdout);
    }
    assert!(
        plan.stdout.contains(
            "restarts after gce.vm.manager-1 is back in the swarm and reachable \
             (swarm.join.manager-1; one at a time)"
        ),
        "{}",
        plan.stdout
    );

    let t = Instant::now();
    tokio::task::block_in_place(|| hosts.host_mut(1).expect("manager-1").stop_engine());
    fake.clear_log();
    let child = sdbc(&work, "apply", &["--auto-approve"])
        .spawn()
        .expect("apply starts");
    // manager-1's VM is running again; its engine is not.
    let waited = Instant::now();
    let mut child = child;
    while !instance_calls(fake).contains(&"manager-1/start".to_string()) {
        if waited.elapsed() > Duration::from_secs(60) {
            child.kill().expect("kill");
            let out = child.wait_with_output().expect("apply ends");
            panic!(
                "manager-1 never restarted: {:?}\n{}",
                instance_calls(fake),
                String::from_utf8_lossy(&out.stderr)
            );
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    tokio::time::sleep(ENGINE_AWAY).await;
    let meanwhile = instance_calls(fake);
    assert!(
        !meanwhile.iter().any(|c| c.starts_with("manager-2/")),
        "manager-2 restarted before manager-1 was back: {meanwhile:?}"
    );
    hosts
        .host_mut(1)
        .expect("manager-1")
        .start_engine()
        .expect("engine starts");
    let out = tokio::task::block_in_place(|| child.wait_with_output()).expect("apply ends");
    Run::from_output(out).expect_code(0, "apply the machine type");
    timed("apply with manager-1's engine away", t);

    let calls = instance_calls(fake);
    let expected: Vec<String> = VMS
        .iter()
        .flat_map(|vm| ["stop", "setMachineType", "start"].map(|v| format!("{vm}/{v}")))
        .collect();
    assert_eq!(calls, expected);
    let manager = hosts.hosts()[0].local_engine();
    let nodes = swarm::list_nodes(&manager).await.expect("nodes");
    let m1 = nodes
        .iter()
        .find(|n| n.vm() == Some("manager-1"))
        .expect("manager-1's node");
    assert_eq!(m1.state, "ready");
    assert_eq!(m1.reachability.as_deref(), Some("reachable"));

    let again = tokio::task::block_in_place(|| run(&work, "plan", &["--detailed-exitcode"]));
    again.expect_code(0, "a second plan is empty");
    assert!(again.stdout.contains("No changes"), "{}", again.stdout);
    timed("whole test", whole);
}
