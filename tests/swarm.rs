//! Swarm formation and stack deployment on a real multi-host Swarm: five
//! local hosts (network namespaces, each with its own engine and SSH
//! server; see `sdbc::exec::hosts`) reached over SSH with pinned host keys,
//! exactly as VMs are, running `tests/swarm/program.sdb`. One set of hosts
//! serves every scenario, in order; the hosts are torn down even when a
//! scenario fails.

#[path = "support/rng.rs"]
mod rng;
#[path = "swarm/bench.rs"]
mod swarm_bench;
#[path = "swarm/faults.rs"]
mod swarm_faults;
#[path = "swarm/stack.rs"]
mod swarm_stack;

use std::collections::BTreeMap;
use std::time::Instant;

use sdbc::exec::engine::Engine;
use sdbc::exec::hosts::{HostsConfig, LocalHosts};
use sdbc::exec::ssh::{SshError, SshSession};
use sdbc::exec::swarm::{self, Member, Outcome, Role, SwarmError, list_nodes};

const NAMES: [(&str, &str, Role); 5] = [
    ("manager-0", "manager", Role::Manager),
    ("manager-1", "manager", Role::Manager),
    ("manager-2", "manager", Role::Manager),
    ("worker-0", "worker", Role::Worker),
    ("worker-1", "worker", Role::Worker),
];

pub fn timed(what: &str, start: Instant) {
    eprintln!("[swarm test] {what}: {:.2}s", start.elapsed().as_secs_f64());
}

async fn members(hosts: &LocalHosts) -> Vec<Member> {
    let mut out = Vec::new();
    for (i, (vm, group, role)) in NAMES.iter().enumerate() {
        let target = hosts.ssh_target(i).expect("host exists");
        let session = SshSession::connect(&target, hosts.client_key())
            .await
            .unwrap_or_else(|e| panic!("ssh to {vm}: {e}"));
        out.push(Member {
            vm: vm.to_string(),
            group: group.to_string(),
            role: *role,
            addr: hosts.hosts()[i].ip.to_string(),
            engine: session.engine(),
        });
    }
    out
}

/// Swarm state of each host, asked directly through its own socket.
async fn local_states(hosts: &LocalHosts) -> Vec<String> {
    let mut out = Vec::new();
    for h in hosts.hosts() {
        let info = h.local_engine().get("/info").await.expect("info");
        out.push(
            info["Swarm"]["LocalNodeState"]
                .as_str()
                .unwrap_or("")
                .to_string(),
        );
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn swarm_on_local_hosts() {
    let whole = Instant::now();
    formation_faults().await;
    let start = Instant::now();
    let hosts = start_hosts("sdbt", [10, 213, 0]).await;
    timed("5 hosts up", start);

    wrong_host_key_is_refused(&hosts).await;

    let members = members(&hosts).await;
    let t = Instant::now();
    let formed = swarm::form(&members).await.expect("the Swarm forms");
    timed("formation of 3 managers + 2 workers", t);
    assert_eq!(formed.failures().count(), 0, "{:?}", formed.outcomes);
    assert_eq!(formed.outcomes["manager-0"], Outcome::Initialized);
    for vm in ["manager-1", "manager-2", "worker-0", "worker-1"] {
        assert_eq!(formed.outcomes[vm], Outcome::Joined, "{vm}");
    }
    assert_nodes(&members[0].engine, 5).await;
    assert_eq!(local_states(&hosts).await, vec!["active"; 5]);

    let t = Instant::now();
    let again = swarm::form(&members).await.expect("a second run");
    timed("second formation (no-op)", t);
    assert!(again.is_noop(), "a second run changes nothing: {again:?}");
    assert_eq!(again.cluster_id, formed.cluster_id);

    swarm_stack::scenarios(&hosts, &members[0].engine).await;
    swarm_bench::twenty_services(&members[0].engine).await;
    // After the stack: a node that left and joined again under the same
    // address was seen to lose its overlay traffic for a while.
    interrupted_join_converges(&members, &formed.cluster_id).await;
    removing_a_worker_drains_it_first(&hosts, &members).await;
    a_killed_engine_is_named(hosts, &members).await;
    timed("whole test", whole);
}

async fn start_hosts(prefix: &str, subnet: [u8; 3]) -> LocalHosts {
    LocalHosts::start(HostsConfig {
        prefix: prefix.into(),
        subnet,
        names: NAMES.iter().map(|(n, _, _)| n.to_string()).collect(),
    })
    .await
    .expect("the local hosts start")
}

/// Formations cut short, on hosts of their own: after several forced
/// leaves and new Swarms, the same engines' overlay networking was seen to
/// fail (tasks could not reach each other), which would make the stack
/// scenarios fail for reasons of the hosts, not of sdbc.
async fn formation_faults() {
    let hosts = start_hosts("sdbf", [10, 213, 1]).await;
    let members = members(&hosts).await;
    swarm_faults::formation(&members).await;
}

/// Host m0 pinned with m1's key: refused, and m0's engine was not touched;
/// a client key m0 does not know: refused.
async fn wrong_host_key_is_refused(hosts: &LocalHosts) {
    let mut target = hosts.ssh_target(0).expect("host 0");
    target.host_keys = vec![hosts.hosts()[1].host_key.clone()];
    let err = SshSession::connect(&target, hosts.client_key())
        .await
        .err()
        .expect("a wrong host key is refused");
    assert!(
        matches!(&err, SshError::HostKeyMismatch { host, .. } if host == "manager-0"),
        "{err}"
    );
    assert!(err.to_string().contains("`manager-0`"), "{err}");
    assert_eq!(local_states(hosts).await[0], "inactive");

    // The right host key but a key the host does not accept.
    let target = hosts.ssh_target(0).expect("host 0");
    let stranger = sdbc::exec::ssh::generate_key().expect("key");
    let err = SshSession::connect(&target, &stranger)
        .await
        .err()
        .expect("an unknown client key is refused");
    assert!(
        matches!(&err, SshError::LoginRefused { host, .. } if host == "manager-0"),
        "{err}"
    );
}

/// Every member has exactly one node, ready, with its labels and role.
pub async fn assert_nodes(manager: &Engine, expected: usize) {
    let nodes = list_nodes(manager).await.expect("nodes");
    assert_eq!(nodes.len(), expected, "{nodes:#?}");
    let by_vm: BTreeMap<&str, _> = nodes.iter().filter_map(|n| Some((n.vm()?, n))).collect();
    assert_eq!(
        by_vm.len(),
        expected,
        "every node is labelled once: {nodes:#?}"
    );
    for (vm, group, role) in NAMES.iter().take(expected.min(NAMES.len())) {
        let Some(node) = by_vm.get(vm) else { continue };
        assert_eq!(node.state, "ready", "{vm}");
        assert_eq!(node.hostname, *vm, "nodes are named after their host");
        assert_eq!(
            node.labels.get(swarm::LABEL_GROUP).map(String::as_str),
            Some(*group)
        );
        assert_eq!(node.role, role.as_str(), "{vm}");
        if *role == Role::Manager {
            assert_eq!(node.reachability.as_deref(), Some("reachable"), "{vm}");
        }
    }
}

/// A worker that left half-way (as after a killed run) rejoins; its old
/// node is removed, so every VM has one node.
async fn interrupted_join_converges(members: &[Member], cluster_id: &str) {
    members[4]
        .engine
        .post("/swarm/leave?force=true", &serde_json::Value::Null)
        .await
        .expect("leave");
    let t = Instant::now();
    let formed = swarm::form(members).await.expect("re-run");
    timed("re-run after a node left", t);
    assert_eq!(formed.cluster_id, cluster_id, "still one Swarm");
    assert_eq!(formed.outcomes["worker-1"], Outcome::Joined);
    assert_eq!(formed.removed_stale.len(), 1, "{formed:?}");
    assert_nodes(&members[0].engine, 5).await;
}

/// Scaling the workers 2 -> 1: worker-1 is drained and removed.
async fn removing_a_worker_drains_it_first(hosts: &LocalHosts, members: &[Member]) {
    let t = Instant::now();
    swarm::remove(&members[0].engine, &members[4])
        .await
        .expect("remove worker-1");
    timed("removing a worker", t);
    let nodes = list_nodes(&members[0].engine).await.expect("nodes");
    assert_eq!(nodes.len(), 4);
    assert!(nodes.iter().all(|n| n.vm() != Some("worker-1")));
    assert_eq!(local_states(hosts).await[4], "inactive");
    assert!(matches!(
        swarm::check_manager_change(3, 1),
        Err(SwarmError::QuorumLoss { .. })
    ));
}

/// worker-0's engine killed: formation names it and still handles the rest.
async fn a_killed_engine_is_named(mut hosts: LocalHosts, members: &[Member]) {
    hosts.host_mut(3).expect("worker-0").kill_engine();
    let formed = swarm::form(&members[..4])
        .await
        .expect("the managers still lead");
    let failures: Vec<_> = formed.failures().collect();
    assert_eq!(failures.len(), 1, "{:?}", formed.outcomes);
    assert_eq!(failures[0].0, "worker-0");
    assert!(
        failures[0].1.to_string().contains("`worker-0`"),
        "{}",
        failures[0].1
    );
    for vm in ["manager-0", "manager-1", "manager-2"] {
        assert_eq!(formed.outcomes[vm], Outcome::Unchanged);
    }
    let t = Instant::now();
    drop(hosts);
    timed("tear-down", t);
}
