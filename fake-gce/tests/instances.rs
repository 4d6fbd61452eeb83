//! Instance actions: start/stop, setMachineType, setMetadata and setLabels
//! with fingerprints, guest attributes.

mod common;

use common::{Api, P, Z};
use serde_json::json;

fn inst(name: &str) -> String {
    format!("projects/{P}/zones/{Z}/instances/{name}")
}

#[tokio::test]
async fn stop_start_and_set_machine_type_only_when_terminated() {
    let api = Api::start().await;
    api.base_network().await;
    api.create_vm("vm-0").await;
    let mt = json!({"machineType": format!("zones/{Z}/machineTypes/e2-standard-4")});
    let (status, err) = api
        .post(&format!("{}/setMachineType", inst("vm-0")), mt.clone())
        .await;
    assert_eq!(status, 400, "{err}");
    assert!(
        err["error"]["message"]
            .as_str()
            .unwrap()
            .contains("TERMINATED")
    );

    let (status, op) = api.post(&format!("{}/stop", inst("vm-0")), json!({})).await;
    assert_eq!(status, 200);
    assert_eq!(op["operationType"], "stop");
    api.wait(&op).await;
    let (_, vm) = api.get(&inst("vm-0")).await;
    assert_eq!(vm["status"], "TERMINATED");

    let (status, op) = api
        .post(&format!("{}/setMachineType", inst("vm-0")), mt)
        .await;
    assert_eq!(status, 200, "{op}");
    api.wait(&op).await;
    let (status, err) = api
        .post(
            &format!("{}/setMachineType", inst("vm-0")),
            json!({"machineType": "e2-standard-4"}),
        )
        .await;
    assert_eq!(status, 400, "bare machine type names are refused: {err}");

    let (_, op) = api
        .post(&format!("{}/start", inst("vm-0")), json!({}))
        .await;
    api.wait(&op).await;
    let (_, vm) = api.get(&inst("vm-0")).await;
    assert_eq!(vm["status"], "RUNNING");
    assert!(
        vm["machineType"]
            .as_str()
            .unwrap()
            .ends_with("/machineTypes/e2-standard-4")
    );

    let (status, _) = api.post(&format!("{}/stop", inst("nope")), json!({})).await;
    assert_eq!(status, 404);
}

#[tokio::test]
async fn set_metadata_needs_the_current_fingerprint() {
    let api = Api::start().await;
    api.base_network().await;
    let vm = api.create_vm("vm-0").await;
    let fp = vm["metadata"]["fingerprint"].clone();
    let items = json!([{"key": "user-data", "value": "#cloud-config\nruncmd: []\n"}]);
    let path = format!("{}/setMetadata", inst("vm-0"));

    let (status, err) = api
        .post(&path, json!({"fingerprint": "c3RhbGU=", "items": items}))
        .await;
    assert_eq!(status, 412);
    assert_eq!(err["error"]["errors"][0]["reason"], "conditionNotMet");
    let (status, _) = api.post(&path, json!({"items": items})).await;
    assert_eq!(status, 412, "a missing fingerprint is stale too");

    let (status, op) = api
        .post(&path, json!({"fingerprint": fp, "items": items}))
        .await;
    assert_eq!(status, 200, "{op}");
    api.wait(&op).await;
    let (_, after) = api.get(&inst("vm-0")).await;
    assert_eq!(after["metadata"]["items"], items);
    assert_ne!(after["metadata"]["fingerprint"], fp);
    // The old fingerprint is now stale.
    let (status, _) = api
        .post(&path, json!({"fingerprint": fp, "items": []}))
        .await;
    assert_eq!(status, 412);
    // Schema violations in the body are 400.
    let (status, _) = api
        .post(
            &path,
            json!({"fingerprint": after["metadata"]["fingerprint"], "items": [{"key": "k", "val": "v"}]}),
        )
        .await;
    assert_eq!(status, 400);
}

#[tokio::test]
async fn set_labels_needs_the_current_label_fingerprint() {
    let api = Api::start().await;
    api.base_network().await;
    let vm = api.create_vm("vm-0").await;
    let path = format!("{}/setLabels", inst("vm-0"));
    let labels = json!({"sdbc-stack": "misago", "role": "manager"});
    let (status, err) = api
        .post(
            &path,
            json!({"labels": labels, "labelFingerprint": "c3RhbGU="}),
        )
        .await;
    assert_eq!(status, 412, "{err}");
    let (status, op) = api
        .post(
            &path,
            json!({"labels": labels, "labelFingerprint": vm["labelFingerprint"]}),
        )
        .await;
    assert_eq!(status, 200, "{op}");
    api.wait(&op).await;
    let (_, after) = api.get(&inst("vm-0")).await;
    assert_eq!(after["labels"], labels);
    assert_ne!(after["labelFingerprint"], vm["labelFingerprint"]);
    let (status, _) = api
        .post(
            &path,
            json!({"labels": {"Bad": "x"}, "labelFingerprint": after["labelFingerprint"]}),
        )
        .await;
    assert_eq!(status, 400);
}

#[tokio::test]
async fn guest_attributes_are_set_through_the_handle() {
    let api = Api::start().await;
    api.base_network().await;
    api.create_vm("vm-0").await;
    let path = format!("{}/getGuestAttributes?queryPath=sdbc/", inst("vm-0"));
    let (status, _) = api.get(&path).await;
    assert_eq!(status, 404, "nothing written yet");
    api.fake
        .set_guest_attribute(P, Z, "vm-0", "sdbc/ready", "true");
    let (status, body) = api.get(&path).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["kind"], "compute#guestAttributes");
    assert_eq!(
        body["queryValue"]["items"],
        json!([{"namespace": "sdbc", "key": "ready", "value": "true"}])
    );
    let (status, body) = api
        .get(&format!(
            "{}/getGuestAttributes?variableKey=sdbc/ready",
            inst("vm-0")
        ))
        .await;
    assert_eq!(status, 200);
    assert_eq!(body["variableValue"], "true");
    let (status, _) = api
        .get(&format!(
            "{}/getGuestAttributes?queryPath=sdbc/",
            inst("vm-9")
        ))
        .await;
    assert_eq!(status, 404);
}
