//! The two behaviours of the real API around inserts in progress
//! (`Appearance`, `late_conflicts`), and disk resizing.

mod common;

use common::{Api, P, Z};
use serde_json::json;
use std::time::Duration;

fn slow(appearance: fake_gce::Appearance, late_conflicts: bool) -> fake_gce::FakeConfig {
    fake_gce::FakeConfig {
        op_pending: Duration::from_millis(1),
        op_running: Duration::from_millis(150),
        appearance,
        late_conflicts,
        ..common::fast_config()
    }
}

#[tokio::test]
async fn late_conflicts_fail_in_the_operation() {
    let api = Api::with(slow(fake_gce::Appearance::WhenDone, true)).await;
    let disks = format!("projects/{P}/zones/{Z}/disks");
    let body = json!({"name": "d", "sizeGb": "10"});
    let (status, first) = api.post(&disks, body.clone()).await;
    assert_eq!(status, 200, "{first}");
    // Not visible while the first insert runs; a second one is accepted...
    assert_eq!(api.get(&format!("{disks}/d")).await.0, 404);
    let (status, second) = api.post(&disks, body).await;
    assert_eq!(status, 200, "{second}");
    // ...and ends with RESOURCE_ALREADY_EXISTS, doing nothing.
    let second = api.wait(&second).await;
    assert_eq!(
        second["error"]["errors"][0]["code"],
        "RESOURCE_ALREADY_EXISTS"
    );
    assert_eq!(second["httpErrorStatusCode"], 409);
    assert!(api.wait(&first).await.get("error").is_none());
    // Two deletes at once: the second ends with RESOURCE_NOT_FOUND.
    let (_, del1) = api.delete(&format!("{disks}/d")).await;
    let (status, del2) = api.delete(&format!("{disks}/d")).await;
    assert_eq!(status, 200, "{del2}");
    let del2 = api.wait(&del2).await;
    assert_eq!(del2["error"]["errors"][0]["code"], "RESOURCE_NOT_FOUND");
    assert!(api.wait(&del1).await.get("error").is_none());
    assert_eq!(api.get(&format!("{disks}/d")).await.0, 404);
}

#[tokio::test]
async fn resources_can_appear_when_accepted() {
    let api = Api::with(slow(fake_gce::Appearance::WhenAccepted, false)).await;
    api.base_network().await;
    let instances = format!("projects/{P}/zones/{Z}/instances");
    let (status, op) = api.post(&instances, common::vm("a")).await;
    assert_eq!(status, 200, "{op}");
    let (status, vm) = api.get(&format!("{instances}/a")).await;
    assert_eq!((status, vm["status"].as_str()), (200, Some("PROVISIONING")));
    let (status, again) = api.post(&instances, common::vm("a")).await;
    assert_eq!(status, 409, "{again}");
    api.wait(&op).await;
    let (_, vm) = api.get(&format!("{instances}/a")).await;
    assert_eq!(vm["status"], "RUNNING");
}

#[tokio::test]
async fn disks_only_grow() {
    let api = Api::start().await;
    let disks = format!("projects/{P}/zones/{Z}/disks");
    api.create(&disks, json!({"name": "d", "sizeGb": "10"}))
        .await;
    let (status, err) = api
        .post(&format!("{disks}/d/resize"), json!({"sizeGb": "5"}))
        .await;
    assert_eq!(status, 400, "{err}");
    let (status, op) = api
        .post(&format!("{disks}/d/resize"), json!({"sizeGb": "30"}))
        .await;
    assert_eq!(status, 200, "{op}");
    assert_eq!(op["operationType"], "resize");
    api.wait(&op).await;
    assert_eq!(api.get(&format!("{disks}/d")).await.1["sizeGb"], "30");
}
