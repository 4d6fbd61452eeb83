//! Inserting, reading, listing and deleting resources through the HTTP API.

mod common;

use common::{Api, P, R, Z, uuid, vm};
use serde_json::json;
use std::time::Duration;

#[tokio::test]
async fn insert_goes_pending_running_done_and_the_resource_appears_when_done() {
    let api = Api::with(fake_gce::FakeConfig {
        op_pending: Duration::from_millis(60),
        op_running: Duration::from_millis(60),
        ..common::fast_config()
    })
    .await;
    let (status, op) = api
        .post(
            &format!("projects/{P}/global/networks"),
            json!({"name": "net", "autoCreateSubnetworks": false}),
        )
        .await;
    assert_eq!(status, 200, "{op}");
    assert_eq!(op["kind"], "compute#operation");
    assert_eq!(op["status"], "PENDING");
    assert_eq!(op["operationType"], "insert");
    assert_eq!(
        op["targetLink"],
        format!("{}projects/{P}/global/networks/net", fake_gce::GOOGLE_BASE)
    );
    assert!(
        op["id"]
            .as_str()
            .is_some_and(|s| s.bytes().all(|b| b.is_ascii_digit()))
    );
    assert!(op.get("zone").is_none() && op.get("region").is_none());
    let name = op["name"].as_str().unwrap();
    let op_path = format!("projects/{P}/global/operations/{name}");

    // Not there yet while the operation runs.
    let (status, _) = api.get(&format!("projects/{P}/global/networks/net")).await;
    assert_eq!(status, 404);
    tokio::time::sleep(Duration::from_millis(90)).await;
    let (_, running) = api.get(&op_path).await;
    assert_eq!(running["status"], "RUNNING");

    let done = api.wait(&op).await;
    assert_eq!(done["status"], "DONE");
    assert_eq!(done["progress"], 100);
    let (status, net) = api.get(&format!("projects/{P}/global/networks/net")).await;
    assert_eq!(status, 200);
    assert_eq!(net["kind"], "compute#network");
    assert!(net["id"].is_string());
    assert!(net["creationTimestamp"].is_string());
    assert_eq!(net["selfLink"], done["targetLink"]);
}

#[tokio::test]
async fn instance_gets_server_set_fields_and_normalised_links() {
    let api = Api::start().await;
    api.base_network().await;
    api.create(
        &format!("projects/{P}/regions/{R}/addresses"),
        json!({"name": "ip", "labels": {"sdbc-stack": "misago"}}),
    )
    .await;
    let (_, addr) = api
        .get(&format!("projects/{P}/regions/{R}/addresses/ip"))
        .await;
    assert_eq!(addr["status"], "RESERVED");
    let ip = addr["address"].as_str().unwrap().to_string();
    assert!(addr["labelFingerprint"].is_string());

    let mut body = vm("vm-0");
    body["networkInterfaces"][0]["accessConfigs"][0]["natIP"] = json!(ip);
    let (status, op) = api
        .post(&format!("projects/{P}/zones/{Z}/instances"), body)
        .await;
    assert_eq!(status, 200, "{op}");
    assert!(
        op["zone"]
            .as_str()
            .unwrap()
            .ends_with(&format!("/zones/{Z}"))
    );
    api.wait(&op).await;
    let (_, inst) = api
        .get(&format!("projects/{P}/zones/{Z}/instances/vm-0"))
        .await;
    let base = fake_gce::GOOGLE_BASE;
    assert_eq!(inst["status"], "RUNNING");
    assert_eq!(
        inst["machineType"],
        format!("{base}projects/{P}/zones/{Z}/machineTypes/e2-standard-2")
    );
    assert!(inst["labelFingerprint"].is_string());
    assert!(inst["metadata"]["fingerprint"].is_string());
    assert_eq!(inst["metadata"]["items"][0]["key"], "user-data");
    let nic = &inst["networkInterfaces"][0];
    assert_eq!(nic["networkIP"], "10.10.0.2");
    assert_eq!(
        nic["network"],
        format!("{base}projects/{P}/global/networks/net")
    );
    assert_eq!(nic["accessConfigs"][0]["natIP"], json!(ip));
    let disk = &inst["disks"][0];
    assert_eq!(
        disk["source"],
        format!("{base}projects/{P}/zones/{Z}/disks/vm-0")
    );
    assert!(disk.get("initializeParams").is_none());
    // The boot disk exists as a resource, used by the instance.
    let (status, boot) = api.get(&format!("projects/{P}/zones/{Z}/disks/vm-0")).await;
    assert_eq!(status, 200);
    assert_eq!(boot["sizeGb"], "20");
    assert_eq!(boot["users"][0], inst["selfLink"]);
    // The address is now in use.
    let (_, addr) = api
        .get(&format!("projects/{P}/regions/{R}/addresses/ip"))
        .await;
    assert_eq!(addr["status"], "IN_USE");
    // An address in use cannot be released.
    let (status, err) = api
        .delete(&format!("projects/{P}/regions/{R}/addresses/ip"))
        .await;
    assert_eq!(status, 400, "{err}");
    assert_eq!(
        err["error"]["errors"][0]["reason"],
        "resourceInUseByAnotherResource"
    );
    // Second interface IP differs.
    let second = api.create_vm("vm-1").await;
    assert_eq!(second["networkInterfaces"][0]["networkIP"], "10.10.0.3");
}

#[tokio::test]
async fn duplicate_name_is_409_and_missing_is_404() {
    let api = Api::start().await;
    let path = format!("projects/{P}/global/networks");
    api.create(&path, json!({"name": "net", "autoCreateSubnetworks": true}))
        .await;
    let (status, err) = api
        .post(&path, json!({"name": "net", "autoCreateSubnetworks": true}))
        .await;
    assert_eq!(status, 409);
    assert_eq!(err["error"]["code"], 409);
    assert_eq!(err["error"]["errors"][0]["reason"], "alreadyExists");
    // The name is taken from the moment the insert is accepted.
    let (status, _) = api
        .post(
            &path,
            json!({"name": "late", "autoCreateSubnetworks": true}),
        )
        .await;
    assert_eq!(status, 200);
    let (status, _) = api
        .post(
            &path,
            json!({"name": "late", "autoCreateSubnetworks": true}),
        )
        .await;
    assert_eq!(status, 409);
    let (status, err) = api.get(&format!("{path}/nope")).await;
    assert_eq!(status, 404);
    assert_eq!(err["error"]["errors"][0]["reason"], "notFound");
    let (status, _) = api.delete(&format!("{path}/nope")).await;
    assert_eq!(status, 404);
    // A reference to a missing network is a 404 too.
    let (status, err) = api
        .post(
            &format!("projects/{P}/global/firewalls"),
            json!({"name": "fw", "network": "global/networks/missing", "allowed": [{"IPProtocol": "tcp"}]}),
        )
        .await;
    assert_eq!(status, 404, "{err}");
}

#[tokio::test]
async fn request_id_returns_the_same_operation_and_creates_once() {
    let api = Api::start().await;
    let path = format!("projects/{P}/global/networks?requestId={}", uuid(1));
    let body = json!({"name": "net", "autoCreateSubnetworks": true});
    let (s1, op1) = api.post(&path, body.clone()).await;
    let (s2, op2) = api.post(&path, body.clone()).await;
    assert_eq!((s1, s2), (200, 200));
    assert_eq!(op1["name"], op2["name"]);
    api.wait(&op1).await;
    // Even after DONE, the same requestId answers the same operation, not 409.
    let (s3, op3) = api.post(&path, body).await;
    assert_eq!(s3, 200);
    assert_eq!(op3["name"], op1["name"]);
    assert_eq!(op3["status"], "DONE");
    assert_eq!(api.fake.resource_keys().len(), 1);
    assert_eq!(api.fake.operations().len(), 1);
    // Deletes de-duplicate too.
    let del = format!("projects/{P}/global/networks/net?requestId={}", uuid(2));
    let (_, d1) = api.delete(&del).await;
    let (s, d2) = api.delete(&del).await;
    assert_eq!(s, 200);
    assert_eq!(d1["name"], d2["name"]);
    // A malformed requestId is refused.
    let (s, err) = api
        .post(
            &format!("projects/{P}/global/networks?requestId=abc"),
            json!({"name": "x", "autoCreateSubnetworks": true}),
        )
        .await;
    assert_eq!(s, 400, "{err}");
}

#[tokio::test]
async fn bodies_failing_the_schema_are_400_invalid() {
    let api = Api::start().await;
    api.base_network().await;
    let path = format!("projects/{P}/zones/{Z}/instances");
    let mut unknown = vm("vm-0");
    unknown["bogus"] = json!(true);
    let mut int64_number = vm("vm-0");
    int64_number["disks"][0]["initializeParams"]["diskSizeGb"] = json!(20);
    let mut missing = vm("vm-0");
    missing.as_object_mut().unwrap().remove("machineType");
    let mut bad_name = vm("VM_0");
    bad_name["labels"] = json!({});
    let mut output_only = vm("vm-0");
    output_only["status"] = json!("RUNNING");
    for (body, needle) in [
        (unknown, "$.bogus: unknown field"),
        (int64_number, "diskSizeGb"),
        (missing, "$.machineType: required field is missing"),
        (bad_name, "resource.name"),
        (output_only, "$.status: output-only"),
    ] {
        let (status, err) = api.post(&path, body).await;
        assert_eq!(status, 400, "{err}");
        assert_eq!(err["error"]["errors"][0]["reason"], "invalid");
        let msg = err["error"]["message"].as_str().unwrap();
        assert!(msg.contains(needle), "{msg} should contain {needle}");
    }
    let resp = api
        .client
        .post(api.url(&path))
        .body("{not json")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 400);
    assert!(
        api.fake
            .resource_keys()
            .iter()
            .all(|k| !k.contains("instances"))
    );
}

#[tokio::test]
async fn deleting_a_disk_in_use_is_refused_until_the_instance_is_gone() {
    let api = Api::start().await;
    api.base_network().await;
    api.create(
        &format!("projects/{P}/zones/{Z}/disks"),
        json!({"name": "data", "sizeGb": "20"}),
    )
    .await;
    let mut body = vm("vm-0");
    body["disks"]
        .as_array_mut()
        .unwrap()
        .push(json!({"source": format!("zones/{Z}/disks/data")}));
    api.create(&format!("projects/{P}/zones/{Z}/instances"), body)
        .await;
    let disk = format!("projects/{P}/zones/{Z}/disks/data");
    let (status, err) = api.delete(&disk).await;
    assert_eq!(status, 400);
    assert_eq!(
        err["error"]["errors"][0]["reason"],
        "resourceInUseByAnotherResource"
    );
    // While the instance is being deleted: resourceNotReady (retryable).
    let (status, del) = api
        .delete(&format!("projects/{P}/zones/{Z}/instances/vm-0"))
        .await;
    assert_eq!(status, 200);
    let (status, err) = api.delete(&disk).await;
    assert_eq!(status, 400);
    assert_eq!(err["error"]["errors"][0]["reason"], "resourceNotReady");
    api.wait(&del).await;
    // The auto-delete boot disk went with the instance; the data disk is free.
    assert!(
        api.fake
            .resource(&format!("projects/{P}/zones/{Z}/disks/vm-0"))
            .is_none()
    );
    let (_, data) = api.get(&disk).await;
    assert!(data.get("users").is_none(), "{data}");
    let (status, op) = api.delete(&disk).await;
    assert_eq!(status, 200);
    api.wait(&op).await;
    assert!(api.fake.resource(&disk).is_none());
}

#[tokio::test]
async fn list_filters_on_labels_and_pages() {
    let api = Api::start().await;
    let path = format!("projects/{P}/zones/{Z}/disks");
    for (name, stack) in [
        ("a", "misago"),
        ("b", "other"),
        ("c", "misago"),
        ("d", "misago"),
    ] {
        api.create(
            &path,
            json!({"name": name, "sizeGb": "10", "labels": {"sdbc-stack": stack}}),
        )
        .await;
    }
    for filter in [
        "labels.sdbc-stack=misago",
        "labels.sdbc-stack%20eq%20misago",
    ] {
        let (status, list) = api.get(&format!("{path}?filter={filter}")).await;
        assert_eq!(status, 200, "{list}");
        assert_eq!(list["kind"], "compute#diskList");
        let names: Vec<&str> = list["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|d| d["name"].as_str().unwrap())
            .collect();
        assert_eq!(names, ["a", "c", "d"], "{filter}");
    }
    // Paging: two, then one, then no token.
    let q = "filter=labels.sdbc-stack%3Dmisago&maxResults=2";
    let (_, page1) = api.get(&format!("{path}?{q}")).await;
    assert_eq!(page1["items"].as_array().unwrap().len(), 2);
    let token = page1["nextPageToken"].as_str().unwrap();
    let (_, page2) = api.get(&format!("{path}?{q}&pageToken={token}")).await;
    assert_eq!(page2["items"].as_array().unwrap().len(), 1);
    assert_eq!(page2["items"][0]["name"], "d");
    assert!(page2.get("nextPageToken").is_none());
    // An empty page has no `items` at all, like the real API.
    let (_, empty) = api
        .get(&format!("{path}?filter=labels.sdbc-stack%3Dnone"))
        .await;
    assert!(empty.get("items").is_none(), "{empty}");
    let (status, _) = api.get(&format!("{path}?maxResults=501")).await;
    assert_eq!(status, 400);
    let (status, _) = api.get(&format!("{path}?filter=a%20OR%20b")).await;
    assert_eq!(status, 400);
}

#[tokio::test]
async fn unknown_paths_are_404() {
    let api = Api::start().await;
    for path in [
        format!("projects/{P}/zones/{Z}/networks"),
        format!("projects/{P}/global/widgets"),
        format!("projects/{P}/zones/{Z}/instances/x/reboot"),
    ] {
        let (status, _) = api.send("POST", &path, Some(json!({}))).await;
        assert_eq!(status, 404, "{path}");
    }
}

#[tokio::test]
async fn a_network_in_use_cannot_be_deleted_before_its_subnetworks() {
    let api = Api::start().await;
    api.base_network().await;
    let (status, err) = api
        .delete(&format!("projects/{P}/global/networks/net"))
        .await;
    assert_eq!(status, 400, "{err}");
    assert_eq!(
        err["error"]["errors"][0]["reason"],
        "resourceInUseByAnotherResource"
    );
    let (_, op) = api
        .delete(&format!("projects/{P}/regions/{R}/subnetworks/sub"))
        .await;
    let done = api.wait(&op).await;
    assert!(done["region"].as_str().unwrap().ends_with(R));
    let (status, op) = api
        .delete(&format!("projects/{P}/global/networks/net"))
        .await;
    assert_eq!(status, 200, "{op}");
    api.wait(&op).await;
    assert!(api.fake.resource_keys().is_empty());
}

/// Limits beyond the schema answer 400 `invalid`, as the real API does.
#[tokio::test]
async fn api_limits_are_400_invalid() {
    let api = Api::start().await;
    api.base_network().await;
    let (status, err) = api
        .post(
            &format!("projects/{P}/regions/{R}/subnetworks"),
            json!({"name": "tiny", "network": "global/networks/net", "ipCidrRange": "10.20.0.0/30"}),
        )
        .await;
    assert_eq!(status, 400, "{err}");
    assert!(
        err["error"]["message"]
            .as_str()
            .unwrap()
            .contains("ipCidrRange")
    );
    let other_zone = "us-central1-c";
    assert_ne!(other_zone, Z);
    api.create(
        &format!("projects/{P}/zones/{other_zone}/disks"),
        json!({"name": "data", "sizeGb": "10"}),
    )
    .await;
    let mut body = vm("vm-0");
    body["disks"]
        .as_array_mut()
        .unwrap()
        .push(json!({"source": format!("zones/{other_zone}/disks/data")}));
    let (status, err) = api
        .post(&format!("projects/{P}/zones/{Z}/instances"), body)
        .await;
    assert_eq!(status, 400, "{err}");
    assert!(
        err["error"]["message"]
            .as_str()
            .unwrap()
            .contains("same zone")
    );
    let (status, err) = api
        .post(
            &format!("projects/{P}/global/firewalls"),
            json!({"name": "ping", "network": "global/networks/net",
                   "allowed": [{"IPProtocol": "icmp", "ports": ["8"]}]}),
        )
        .await;
    assert_eq!(status, 400, "{err}");
}
