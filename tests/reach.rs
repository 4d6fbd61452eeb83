//! Reaching VMs through what Compute Engine publishes, against the fake:
//! readiness from the `sdbc/ready` guest attribute (ready, failed, never)
//! and host keys from `hostkeys/<type>`, each failure naming the VM.

use std::time::Duration;

use std::collections::BTreeMap;

use sdbc::exec::reach::{self, ReachError, Wait};
use sdbc::exec::{ApiCall, ClientConfig, Endpoint, GceClient, TokenSource};
use serde_json::json;

const P: &str = "demo";
const R: &str = "europe-west1";
const Z: &str = "europe-west1-b";

async fn fake_with_vms(names: &[&str]) -> (fake_gce::FakeHandle, GceClient) {
    let (fake, client) = start().await;
    make_vms(&client, names).await;
    (fake, client)
}

async fn start() -> (fake_gce::FakeHandle, GceClient) {
    sdbc::exec::install_crypto_provider();
    let fake = fake_gce::start(fake_gce::FakeConfig {
        op_pending: Duration::from_millis(1),
        op_running: Duration::from_millis(5),
        ..fake_gce::FakeConfig::default()
    })
    .await;
    let endpoint = Endpoint::new(&fake.base_url(), Some(P.into())).expect("endpoint");
    let client =
        GceClient::new(endpoint, TokenSource::fixed("t"), ClientConfig::default()).expect("client");
    (fake, client)
}

async fn make_vms(client: &GceClient, names: &[&str]) {
    let calls = [
        (
            format!("projects/{P}/global/networks"),
            json!({"name": "net", "autoCreateSubnetworks": false}),
        ),
        (
            format!("projects/{P}/regions/{R}/subnetworks"),
            json!({"name": "sub", "network": "global/networks/net", "ipCidrRange": "10.10.0.0/24"}),
        ),
    ];
    let vms = names.iter().map(|n| {
        let body = json!({
            "name": n,
            "machineType": format!("zones/{Z}/machineTypes/e2-standard-2"),
            "disks": [{"boot": true, "autoDelete": true, "initializeParams": {
                "sourceImage": "projects/debian-cloud/global/images/family/debian-12",
                "diskSizeGb": "20"}}],
            "networkInterfaces": [{
                "subnetwork": format!("regions/{R}/subnetworks/sub"),
                "accessConfigs": [{"type": "ONE_TO_ONE_NAT"}],
            }],
        });
        (format!("projects/{P}/zones/{Z}/instances"), body)
    });
    for (path, body) in calls.into_iter().chain(vms) {
        client
            .execute(ApiCall::post(path, body))
            .await
            .expect("made in the fake");
    }
}

fn instance(name: &str) -> String {
    format!("projects/{P}/zones/{Z}/instances/{name}")
}

fn quick() -> Wait {
    Wait {
        timeout: Duration::from_millis(300),
        poll: Duration::from_millis(20),
    }
}

#[tokio::test]
async fn readiness_is_read_from_the_guest_attribute() {
    let (fake, client) = fake_with_vms(&["ok", "bad", "silent", "late"]).await;
    fake.set_guest_attribute(P, Z, "ok", "sdbc/ready", "ready");
    fake.set_guest_attribute(P, Z, "bad", "sdbc/ready", "failed");
    reach::wait_ready(&client, &instance("ok"), "ok", quick())
        .await
        .expect("ok is ready");
    let failed = reach::wait_ready(&client, &instance("bad"), "bad", quick()).await;
    assert!(
        matches!(&failed, Err(ReachError::Failed { vm }) if vm == "bad"),
        "{failed:?}"
    );
    let never = reach::wait_ready(&client, &instance("silent"), "silent", quick())
        .await
        .expect_err("silent never reports");
    let text = never.to_string();
    assert!(
        text.contains("`silent`") && text.contains("never written"),
        "{text}"
    );

    // A VM that reports while sdbc waits is ready.
    let waiting = Wait {
        timeout: Duration::from_secs(10),
        ..quick()
    };
    let late_path = instance("late");
    let (late, _) = tokio::join!(
        reach::wait_ready(&client, &late_path, "late", waiting),
        async {
            tokio::time::sleep(Duration::from_millis(100)).await;
            fake.set_guest_attribute(P, Z, "late", "sdbc/ready", "ready");
        }
    );
    late.expect("late becomes ready");
    fake.shutdown().await;
}

#[tokio::test]
async fn host_keys_are_read_from_the_guest_attributes_and_checked() {
    let (fake, client) = fake_with_vms(&["vm-a", "vm-b", "vm-c"]).await;
    let key = sdbc::exec::ssh::generate_key().expect("key");
    let line = key.public_key().to_openssh().expect("encodes");
    let blob = line.split(' ').nth(1).expect("type, blob");
    fake.set_guest_attribute(P, Z, "vm-a", "hostkeys/ssh-ed25519", blob);
    fake.set_guest_attribute(P, Z, "vm-a", "sdbc/ready", "ready");
    let keys = reach::host_keys(&client, &instance("vm-a"), "vm-a")
        .await
        .expect("vm-a's keys");
    assert_eq!(keys.keys().collect::<Vec<_>>(), ["ssh-ed25519"]);
    assert_eq!(&keys["ssh-ed25519"], key.public_key());

    let none = reach::host_keys(&client, &instance("vm-b"), "vm-b")
        .await
        .expect_err("vm-b publishes none");
    assert!(
        matches!(&none, ReachError::NoHostKeys { vm } if vm == "vm-b"),
        "{none:?}"
    );

    fake.set_guest_attribute(P, Z, "vm-c", "hostkeys/ssh-ed25519", "bm90IGEga2V5");
    let bad = reach::host_keys(&client, &instance("vm-c"), "vm-c")
        .await
        .expect_err("vm-c's key does not parse");
    assert!(bad.to_string().contains("`vm-c`"), "{bad}");
    fake.shutdown().await;
}

#[tokio::test]
async fn an_instance_pointed_at_a_host_reports_its_addresses_and_keys() {
    let (fake, client) = start().await;
    let key = sdbc::exec::ssh::generate_key().expect("key");
    let line = key.public_key().to_openssh().expect("encodes");
    let blob = line.split(' ').nth(1).expect("type, blob");
    let host =
        fake_gce::InstanceHost::ready("10.10.0.77", Some("10.99.0.7"), &[("ssh-ed25519", blob)]);
    fake.point_instance(P, Z, "pointed", host);
    make_vms(&client, &["pointed", "plain"]).await;

    let vm = client
        .get(&instance("pointed"))
        .await
        .expect("read")
        .expect("exists");
    let nic = &vm["networkInterfaces"][0];
    assert_eq!(nic["networkIP"], "10.10.0.77");
    assert_eq!(nic["accessConfigs"][0]["natIP"], "10.99.0.7");
    reach::wait_ready(&client, &instance("pointed"), "pointed", quick())
        .await
        .expect("reports ready");
    let keys = reach::host_keys(&client, &instance("pointed"), "pointed")
        .await
        .expect("publishes its key");
    let mut assigned = BTreeMap::from([
        ("internal_ip".to_string(), "10.10.0.77".to_string()),
        ("external_ip".to_string(), "10.99.0.7".to_string()),
    ]);
    reach::pin(&mut assigned, &keys);
    let target = reach::target("pointed", &assigned).expect("reachable");
    assert_eq!(target.addr.to_string(), "10.99.0.7:22");
    assert_eq!(target.host_keys.len(), 1);
    assert_eq!(target.host_keys[0].key_data(), key.public_key().key_data());

    let plain = client
        .get(&instance("plain"))
        .await
        .expect("read")
        .expect("exists");
    assert_ne!(plain["networkInterfaces"][0]["networkIP"], "10.10.0.77");
    assert!(
        reach::host_keys(&client, &instance("plain"), "plain")
            .await
            .is_err()
    );
    fake.shutdown().await;
}
