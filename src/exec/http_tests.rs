//! HTTP-level tests of [`GceClient`] against a tiny in-test server that
//! answers canned HTTP/1.1 responses in order and records every request.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

use super::*;

/// A canned answer; `status == 0` drops the connection without answering.
struct Canned {
    status: u16,
    body: String,
    headers: Vec<(&'static str, String)>,
}

fn answer(status: u16, body: Value) -> Canned {
    Canned {
        status,
        body: body.to_string(),
        headers: Vec::new(),
    }
}

fn drop_connection() -> Canned {
    Canned {
        status: 0,
        body: String::new(),
        headers: Vec::new(),
    }
}

fn google_error(status: u16, reason: &str) -> Canned {
    answer(
        status,
        json!({"error": {"code": status, "message": format!("{reason} happened"),
            "errors": [{"message": "x", "domain": "global", "reason": reason}]}}),
    )
}

#[derive(Debug, Clone)]
struct Seen {
    method: String,
    target: String,
    headers: Vec<(String, String)>,
    body: String,
}

impl Seen {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
}

struct Server {
    base: String,
    seen: Arc<Mutex<Vec<Seen>>>,
}

impl Server {
    fn seen(&self) -> Vec<Seen> {
        self.seen.lock().expect("log lock").clone()
    }
}

async fn serve(answers: Vec<Canned>) -> Server {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    let seen = Arc::new(Mutex::new(Vec::new()));
    let log = Arc::clone(&seen);
    tokio::spawn(async move {
        let mut answers = answers.into_iter();
        while let Ok((mut sock, _)) = listener.accept().await {
            let Some(req) = read_request(&mut sock).await else {
                continue;
            };
            log.lock().expect("log lock").push(req);
            let a = answers
                .next()
                .unwrap_or_else(|| answer(500, json!({"no": "more answers"})));
            if a.status == 0 {
                drop(sock);
                continue;
            }
            let mut head = format!(
                "HTTP/1.1 {} X\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\
                 connection: close\r\n",
                a.status,
                a.body.len()
            );
            for (k, v) in &a.headers {
                head.push_str(&format!("{k}: {v}\r\n"));
            }
            head.push_str("\r\n");
            let _ = sock.write_all(head.as_bytes()).await;
            let _ = sock.write_all(a.body.as_bytes()).await;
            let _ = sock.shutdown().await;
        }
    });
    Server {
        base: format!("http://{addr}/compute/v1/"),
        seen,
    }
}

async fn read_request(sock: &mut tokio::net::TcpStream) -> Option<Seen> {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    let head_end = loop {
        if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break i + 4;
        }
        let n = sock.read(&mut chunk).await.ok()?;
        if n == 0 {
            return None;
        }
        buf.extend_from_slice(&chunk[..n]);
    };
    let head = String::from_utf8_lossy(&buf[..head_end]).to_string();
    let mut lines = head.split("\r\n");
    let mut first = lines.next()?.split(' ');
    let (method, target) = (first.next()?.to_string(), first.next()?.to_string());
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_string()))
        .collect();
    let len: usize = headers
        .iter()
        .find(|(k, _)| k == "content-length")
        .and_then(|(_, v)| v.parse().ok())
        .unwrap_or(0);
    while buf.len() < head_end + len {
        let n = sock.read(&mut chunk).await.ok()?;
        if n == 0 {
            break;
        }
        buf.extend_from_slice(&chunk[..n]);
    }
    let body = String::from_utf8_lossy(&buf[head_end..]).to_string();
    Some(Seen {
        method,
        target,
        headers,
        body,
    })
}

fn client(server: &Server, max_attempts: u32) -> GceClient {
    let endpoint = Endpoint::new(&server.base, Some("p".into())).expect("endpoint");
    let config = ClientConfig {
        retry: RetryPolicy {
            base: Duration::from_millis(1),
            cap: Duration::from_millis(5),
            max_attempts,
        },
        budget: BudgetConfig::unlimited(),
        wait_floor: Duration::from_millis(1),
        request_timeout: Duration::from_secs(5),
        ..ClientConfig::default()
    };
    GceClient::new(endpoint, TokenSource::fixed("test-token"), config).expect("client")
}

fn op(status: &str) -> Value {
    json!({
        "kind": "compute#operation", "name": "op-1", "status": status,
        "zone": "https://compute.googleapis.com/compute/v1/projects/p/zones/z1",
        "selfLink": "https://must-not-be-used.invalid/compute/v1/projects/p/zones/z1/operations/op-1",
        "targetLink": "https://compute.googleapis.com/compute/v1/projects/p/zones/z1/instances/vm-1"
    })
}

#[tokio::test]
async fn insert_retries_transient_failures_then_waits_for_the_operation() {
    let mut rate_limited = google_error(429, "rateLimitExceeded");
    rate_limited.headers.push(("retry-after", "0".into()));
    let server = serve(vec![
        google_error(503, "backendError"),
        rate_limited,
        google_error(403, "rateLimitExceeded"),
        drop_connection(),
        answer(200, op("PENDING")),
        answer(200, op("RUNNING")),
        answer(200, op("DONE")),
    ])
    .await;
    let c = client(&server, 8);
    let rid = request_id("lineage", "vm.vm-1", "sha256:0");
    let body = json!({"name": "vm-1", "machineType": "zones/z1/machineTypes/e2-standard-2"});
    let call = ApiCall::post("projects/p/zones/z1/instances", body.clone()).with_request_id(&rid);
    let done = c.execute(call).await.expect("succeeds after retries");
    assert_eq!(done["status"], "DONE");

    let seen = server.seen();
    let targets: Vec<&str> = seen.iter().map(|s| s.target.as_str()).collect();
    let insert = format!("/compute/v1/projects/p/zones/z1/instances?requestId={rid}");
    let wait = "/compute/v1/projects/p/zones/z1/operations/op-1/wait";
    assert_eq!(
        targets,
        [&*insert, &insert, &insert, &insert, &insert, wait, wait]
    );
    for s in &seen {
        assert_eq!(s.method, "POST");
        assert_eq!(s.header("authorization"), Some("Bearer test-token"));
    }
    let sent: Value = serde_json::from_str(&seen[0].body).expect("json body");
    assert_eq!(sent, body);
    assert_eq!(seen[5].header("content-length"), Some("0"));
    let lengths = seen[5]
        .headers
        .iter()
        .filter(|(k, _)| k == "content-length");
    assert_eq!(lengths.count(), 1);
    assert_eq!(
        c.stats(),
        ClientStats {
            requests: 7,
            mutating: 5,
            retries: 4
        }
    );
}

#[tokio::test]
async fn done_operation_with_quota_error_fails() {
    let mut failed = op("DONE");
    failed["error"] =
        json!({"errors": [{"code": "QUOTA_EXCEEDED", "message": "Quota 'CPUS' exceeded."}]});
    let server = serve(vec![answer(200, op("RUNNING")), answer(200, failed)]).await;
    let c = client(&server, 8);
    let call = ApiCall::post("projects/p/zones/z1/instances", json!({})).with_request_id("r");
    let err = c.execute(call).await.expect_err("operation error");
    let GceError::Operation { errors, .. } = &err else {
        panic!("expected an operation error, got {err}");
    };
    assert_eq!(errors[0].code, "QUOTA_EXCEEDED");
    assert!(!err.is_retryable());
    assert_eq!(server.seen().len(), 2);
}

#[tokio::test]
async fn fatal_and_refetch_errors_are_not_retried() {
    let server = serve(vec![
        google_error(400, "invalid"),
        google_error(412, "conditionNotMet"),
    ])
    .await;
    let c = client(&server, 8);
    let e = c
        .send(ApiCall::post("projects/p/global/networks", json!({})).with_request_id("a"))
        .await
        .expect_err("400");
    assert_eq!(e.status(), Some(400));
    let path = "projects/p/zones/z1/instances/vm/setMetadata";
    let e = c
        .send(ApiCall::post(path, json!({"fingerprint": "old"})).with_request_id("b"))
        .await
        .expect_err("412");
    assert!(e.needs_refetch() && e.is_retryable());
    assert_eq!(server.seen().len(), 2, "one request each");
}

#[tokio::test]
async fn ambiguous_failures_are_retried_only_when_idempotent() {
    let server = serve(vec![
        google_error(503, "backendError"),
        google_error(503, "backendError"),
        answer(200, json!({"name": "vm"})),
    ])
    .await;
    let c = client(&server, 8);
    let e = c
        .send(ApiCall::post("projects/p/zones/z1/instances", json!({})))
        .await
        .expect_err("no requestId: not repeated");
    assert_eq!(e.status(), Some(503));
    let got = c
        .get("projects/p/zones/z1/instances/vm")
        .await
        .expect("get retried");
    assert_eq!(got, Some(json!({"name": "vm"})));
    assert_eq!(server.seen().len(), 3);
}

#[tokio::test]
async fn gives_up_after_max_attempts() {
    let server = serve((0..5).map(|_| google_error(500, "backendError")).collect()).await;
    let c = client(&server, 3);
    let e = c.send(ApiCall::get("projects/p/global/networks")).await;
    assert_eq!(e.expect_err("exhausted").status(), Some(500));
    assert_eq!(server.seen().len(), 3);
}

#[tokio::test]
async fn list_follows_page_tokens_with_filter_and_get_maps_404() {
    let server = serve(vec![
        answer(
            200,
            json!({"items": [{"name": "a"}, {"name": "b"}], "nextPageToken": "t1"}),
        ),
        answer(200, json!({"items": [{"name": "c"}]})),
        answer(
            200,
            json!({"items": {"zones/z1": {"instances": [{"name": "d"}]},
                             "zones/z2": {"warning": {"code": "NO_RESULTS_ON_PAGE"}}}}),
        ),
        google_error(404, "notFound"),
        google_error(404, "notFound"),
    ])
    .await;
    let c = client(&server, 2);
    let items = c
        .list(
            "projects/p/zones/z1/instances",
            Some("labels.sdbc-stack=misago"),
        )
        .await
        .expect("list");
    let names: Vec<&str> = items.iter().filter_map(|i| i["name"].as_str()).collect();
    assert_eq!(names, ["a", "b", "c"]);
    let agg = c
        .list("projects/p/aggregated/instances", None)
        .await
        .expect("aggregated");
    assert_eq!(agg, [json!({"name": "d"})]);
    assert_eq!(
        c.get("projects/p/zones/z1/instances/gone")
            .await
            .expect("get"),
        None
    );
    let deleted = c
        .delete("projects/p/zones/z1/instances/gone", "rid")
        .await
        .expect("delete of a missing resource");
    assert_eq!(deleted, None);

    let seen = server.seen();
    assert!(
        seen[0]
            .target
            .ends_with("?filter=labels.sdbc-stack%3Dmisago"),
        "{}",
        seen[0].target
    );
    assert!(
        seen[1].target.contains("pageToken=t1"),
        "{}",
        seen[1].target
    );
    assert!(seen[1].target.contains("filter="), "{}", seen[1].target);
    assert_eq!(seen[4].method, "DELETE");
    assert!(seen[4].target.ends_with("?requestId=rid"));
}
