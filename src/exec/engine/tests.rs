//! The Engine client against a canned HTTP server on a Unix socket.

use std::sync::Arc;
use std::time::Duration;

use serde_json::json;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::UnixListener;

use super::*;

/// Serves `status` and `body` to every connection; returns the
/// requests' heads through the channel.
fn serve(
    listener: UnixListener,
    status: &'static str,
    body: &'static str,
) -> tokio::sync::mpsc::UnboundedReceiver<String> {
    let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
    let answer = format!(
        "HTTP/1.1 {status}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    );
    tokio::spawn(async move {
        while let Ok((mut stream, _)) = listener.accept().await {
            let mut buf = vec![0u8; 4096];
            let n = stream.read(&mut buf).await.unwrap_or(0);
            let _ = tx.send(String::from_utf8_lossy(&buf[..n]).into_owned());
            let _ = stream.write_all(answer.as_bytes()).await;
            let _ = stream.shutdown().await;
        }
    });
    rx
}

fn engine(dir: &tempfile::TempDir) -> Engine {
    Engine::new(
        "vm-1",
        Arc::new(UnixConnector(dir.path().join("docker.sock"))),
    )
}

#[tokio::test]
async fn json_answers_and_the_versioned_path() {
    let dir = tempfile::tempdir().unwrap();
    let listener = UnixListener::bind(dir.path().join("docker.sock")).unwrap();
    let mut heads = serve(
        listener,
        "200 OK",
        "{\"Name\":\"m\"}
",
    );
    let info = engine(&dir).get("/info").await.unwrap();
    assert_eq!(info, json!({"Name": "m"}));
    let head = heads.recv().await.unwrap();
    assert!(
        head.starts_with(&format!("GET /{API_VERSION}/info HTTP/1.1")),
        "{head}"
    );
}

#[tokio::test]
async fn an_error_answer_carries_the_engines_message_and_the_host() {
    let dir = tempfile::tempdir().unwrap();
    let listener = UnixListener::bind(dir.path().join("docker.sock")).unwrap();
    let _heads = serve(
        listener,
        "503 Service Unavailable",
        "{\"message\":\"This node is not a swarm manager.\"}",
    );
    let err = engine(&dir).get("/nodes").await.unwrap_err();
    assert_eq!(err.status(), Some(503));
    assert_eq!(err.host(), "vm-1");
    assert_eq!(
        err.to_string(),
        "host `vm-1`: GET /nodes: HTTP 503: This node is not a swarm manager."
    );
}

#[tokio::test]
async fn an_engine_that_is_gone_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let err = engine(&dir).get("/info").await.unwrap_err();
    assert!(matches!(err, EngineError::Unreachable { .. }), "{err:?}");
    assert!(
        err.to_string()
            .starts_with("host `vm-1`: the Docker engine does not answer"),
        "{err}"
    );
}

#[tokio::test]
async fn an_engine_that_never_answers_times_out() {
    let dir = tempfile::tempdir().unwrap();
    // Accepts and keeps the connection open without answering.
    let listener = UnixListener::bind(dir.path().join("docker.sock")).unwrap();
    tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((stream, _)) = listener.accept().await {
            held.push(stream);
        }
    });
    let engine = engine(&dir).with_timeout(Duration::from_millis(200));
    let err = engine.get("/info").await.unwrap_err();
    assert!(matches!(err, EngineError::Timeout { .. }), "{err:?}");
    assert_eq!(err.host(), "vm-1");
}

#[test]
fn query_values_are_percent_encoded() {
    assert_eq!(
        query_value(r#"{"a":["b=c"]}"#),
        "%7B%22a%22%3A%5B%22b%3Dc%22%5D%7D"
    );
    assert_eq!(query_value("plain-name_1.x~"), "plain-name_1.x~");
}
