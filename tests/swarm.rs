//! Swarm formation on a real multi-host Swarm: local hosts (network
//! namespaces, each with its own engine and SSH server; see
//! `sdbc::exec::hosts`), reached over SSH with pinned host keys.

use sdbc::exec::hosts::{HostsConfig, LocalHosts};
use sdbc::exec::ssh::SshSession;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn harness_smoke() {
    let t = std::time::Instant::now();
    let hosts = LocalHosts::start(HostsConfig {
        prefix: "sdbt".into(),
        subnet: [10, 213, 0],
        names: vec!["m0".into(), "m1".into()],
    })
    .await
    .expect("hosts start");
    eprintln!("started in {:?}", t.elapsed());
    for i in 0..2 {
        let target = hosts.ssh_target(i).unwrap();
        let session = SshSession::connect(&target, hosts.client_key())
            .await
            .expect("ssh");
        let info = session.engine().get("/info").await.expect("info");
        eprintln!("{} name={} ", i, info["Name"]);
    }
    let t = std::time::Instant::now();
    drop(hosts);
    eprintln!("down in {:?}", t.elapsed());
}
