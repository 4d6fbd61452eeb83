//! Quotas, fault injection, the request log, and operation wait.

mod common;

use common::{Api, P, uuid};
use fake_gce::{FakeConfig, Faults};
use serde_json::json;
use std::time::{Duration, Instant};

fn net(name: &str) -> serde_json::Value {
    json!({"name": name, "autoCreateSubnetworks": true})
}

#[tokio::test]
async fn per_minute_quotas_answer_403_rate_limit_exceeded() {
    let api = Api::with(FakeConfig {
        read_budget_per_minute: Some(3),
        write_budget_per_minute: Some(1),
        quota_window: Duration::from_millis(400),
        ..common::fast_config()
    })
    .await;
    let path = format!("projects/{P}/global/networks");
    let (s, _) = api.post(&path, net("a")).await;
    assert_eq!(s, 200);
    let (s, err) = api.post(&path, net("b")).await;
    assert_eq!(s, 403);
    let e = &err["error"];
    assert_eq!(e["code"], 403);
    assert_eq!(e["errors"][0]["domain"], "usageLimits");
    assert_eq!(e["errors"][0]["reason"], "rateLimitExceeded");
    assert!(e["message"].as_str().unwrap().contains("Write requests"));
    for _ in 0..3 {
        assert_eq!(api.get(&path).await.0, 200);
    }
    let (s, err) = api.get(&path).await;
    assert_eq!(s, 403);
    assert!(
        err["error"]["message"]
            .as_str()
            .unwrap()
            .contains("Read requests")
    );
    // The window slides: later, both budgets are available again.
    tokio::time::sleep(Duration::from_millis(450)).await;
    assert_eq!(api.post(&path, net("b")).await.0, 200);
    assert_eq!(api.get(&path).await.0, 200);
    // And can be lifted at runtime.
    api.fake.set_quota(None, None);
    assert_eq!(api.post(&path, net("c")).await.0, 200);
}

#[tokio::test]
async fn injected_errors_are_seeded_and_switchable() {
    async fn statuses(seed: u64) -> Vec<u16> {
        let api = Api::with(FakeConfig {
            seed,
            faults: Faults {
                error_rate: 0.5,
                ..Faults::default()
            },
            ..common::fast_config()
        })
        .await;
        let mut out = Vec::new();
        for _ in 0..40 {
            let (s, body) = api.get(&format!("projects/{P}/global/networks")).await;
            if s != 200 {
                assert_eq!(body["error"]["code"], s);
            }
            out.push(s);
        }
        // Switched off at runtime: all succeed.
        api.fake.set_faults(Faults::default());
        for _ in 0..10 {
            assert_eq!(
                api.get(&format!("projects/{P}/global/networks")).await.0,
                200
            );
        }
        out
    }
    let a = statuses(7).await;
    assert_eq!(a, statuses(7).await, "same seed, same faults");
    for code in [200, 500, 503, 429] {
        assert!(a.contains(&code), "{code} missing from {a:?}");
    }
    let failed = a.iter().filter(|s| **s != 200).count();
    assert!((10..=30).contains(&failed), "{failed} of 40");
}

#[tokio::test]
async fn latency_is_added() {
    let api = Api::start().await;
    api.fake.set_faults(Faults {
        latency: Duration::from_millis(80),
        ..Faults::default()
    });
    let t = Instant::now();
    for _ in 0..10 {
        api.get(&format!("projects/{P}/global/networks")).await;
    }
    let took = t.elapsed();
    assert!(took >= Duration::from_millis(150), "{took:?}");
    assert!(took < Duration::from_millis(2000), "{took:?}");
}

#[tokio::test]
async fn operations_can_finish_done_with_quota_exceeded_and_no_effect() {
    let api = Api::start().await;
    api.fake.set_faults(Faults {
        op_error_rate: 1.0,
        ..Faults::default()
    });
    let (s, op) = api
        .post(&format!("projects/{P}/global/networks"), net("a"))
        .await;
    assert_eq!(s, 200);
    let done = api.wait(&op).await;
    assert_eq!(done["status"], "DONE");
    assert_eq!(done["error"]["errors"][0]["code"], "QUOTA_EXCEEDED");
    assert_eq!(done["httpErrorStatusCode"], 403);
    assert!(api.fake.resource_keys().is_empty());
    // The name is free again for a retry.
    api.fake.set_faults(Faults::default());
    api.create(&format!("projects/{P}/global/networks"), net("a"))
        .await;
    assert_eq!(api.fake.resource_keys().len(), 1);
}

#[tokio::test]
async fn dropped_connections_give_no_answer() {
    let api = Api::start().await;
    api.fake.set_faults(Faults {
        drop_rate: 1.0,
        ..Faults::default()
    });
    // No status line at all: `send` itself fails, not just the body.
    let r = api
        .client
        .post(api.url(&format!("projects/{P}/global/networks")))
        .json(&net("a"))
        .send()
        .await;
    assert!(r.is_err(), "expected a transport error, got {r:?}");
    api.fake.wait_idle(Duration::from_secs(1)).await;
    assert!(
        api.fake.resource_keys().is_empty(),
        "dropped before any effect"
    );
    let log = api.fake.requests();
    assert_eq!(log.len(), 1);
    assert_eq!(log[0].status, None);
}

#[tokio::test]
async fn lost_responses_take_effect_and_request_id_makes_the_retry_safe() {
    let api = Api::start().await;
    api.fake.set_faults(Faults {
        lost_response_rate: 1.0,
        ..Faults::default()
    });
    let path = format!("projects/{P}/global/networks?requestId={}", uuid(9));
    let r = api.client.post(api.url(&path)).json(&net("a")).send().await;
    assert!(r.is_err(), "{r:?}");
    api.fake.set_faults(Faults::default());
    let (s, op) = api.post(&path, net("a")).await;
    assert_eq!(s, 200, "retry with the same requestId: {op}");
    api.wait(&op).await;
    assert_eq!(api.fake.operations().len(), 1);
    assert_eq!(
        api.fake.resource_keys(),
        [format!("projects/{P}/global/networks/a")]
    );
}

#[tokio::test]
async fn the_request_log_records_everything_and_counts_mutations() {
    let api = Api::start().await;
    let path = format!("projects/{P}/global/networks");
    let done = api.create(&path, net("a")).await;
    api.get(&format!("{path}/a")).await;
    api.get(&format!("{path}?filter=name%3Da")).await;
    api.post(&path, net("a")).await; // 409, still a mutating request
    let log = api.fake.requests();
    assert_eq!(log[0].method, "POST");
    assert_eq!(log[0].path, format!("/compute/v1/{path}"));
    assert_eq!(log[0].body, Some(net("a")));
    assert_eq!(log[0].status, Some(200));
    assert!(log.iter().any(|r| r.path.ends_with("/wait")));
    assert!(log.iter().any(|r| r.query == "filter=name%3Da"));
    assert_eq!(log.last().unwrap().status, Some(409));
    assert_eq!(api.fake.mutating_requests(), 2);
    assert_eq!(done["status"], "DONE");
    api.fake.clear_requests();
    api.get(&path).await;
    assert_eq!(api.fake.mutating_requests(), 0);
    assert_eq!(api.fake.requests().len(), 1);
}

#[tokio::test]
async fn wait_returns_early_with_a_running_operation_after_its_timeout() {
    let api = Api::with(FakeConfig {
        op_running: Duration::from_millis(600),
        wait_timeout: Duration::from_millis(100),
        ..common::fast_config()
    })
    .await;
    let (_, op) = api
        .post(&format!("projects/{P}/global/networks"), net("a"))
        .await;
    let name = op["name"].as_str().unwrap();
    let t = Instant::now();
    let (s, early) = api
        .post(
            &format!("projects/{P}/global/operations/{name}/wait"),
            json!({}),
        )
        .await;
    assert_eq!(s, 200);
    assert_ne!(early["status"], "DONE");
    assert!(t.elapsed() < Duration::from_millis(500));
    let done = api.wait(&op).await;
    assert_eq!(done["status"], "DONE");
    let (s, _) = api
        .post(
            &format!("projects/{P}/global/operations/nope/wait"),
            json!({}),
        )
        .await;
    assert_eq!(s, 404);
}
