//! The HTTP/1.1 connection against a scripted server on loopback: framing
//! by length, chunks and close; keep-alive and `Connection: close`; bodies
//! that are not there (HEAD, 204); interim responses; a connection the
//! server closed while idle; a response cut short.

use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

use super::*;

/// A server that, on one connection, reads a request and answers with the
/// next of `answers` (raw bytes), then closes. It returns the requests as
/// it read them.
async fn scripted(answers: Vec<&'static str>) -> (String, tokio::task::JoinHandle<Vec<String>>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("a free port");
    let addr = listener.local_addr().expect("bound").to_string();
    let task = tokio::spawn(async move {
        let (mut s, _) = listener.accept().await.expect("a connection");
        let mut seen = Vec::new();
        for answer in answers {
            let mut req = Vec::new();
            while !req.windows(4).any(|w| w == b"\r\n\r\n") {
                let mut b = [0u8; 1024];
                let n = s.read(&mut b).await.expect("read");
                if n == 0 {
                    return seen;
                }
                req.extend_from_slice(&b[..n]);
            }
            seen.push(String::from_utf8_lossy(&req).into_owned());
            s.write_all(answer.as_bytes()).await.expect("write");
        }
        seen
    });
    (addr, task)
}

fn get(path: &str) -> Request {
    http::Request::builder()
        .uri(path)
        .header("x-step", "a")
        .body(Bytes::new())
        .expect("a request")
}

fn host() -> HeaderValue {
    HeaderValue::from_static("example")
}

#[tokio::test]
async fn length_framed_responses_keep_the_connection() {
    let (addr, server) = scripted(vec![
        "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nX-A: 1\r\n\r\nhello",
        "HTTP/1.1 404 Not Found\r\ncontent-length: 3\r\n\r\nno!",
    ])
    .await;
    let mut c = Conn::connect(&addr).await.expect("connects");
    let (r, keep) = c.exchange(&get("/a?x=1"), &host()).await.expect("first");
    assert_eq!((r.status, &r.body[..], keep), (200, &b"hello"[..], true));
    assert_eq!(
        r.headers.get("x-a").map(HeaderValue::as_bytes),
        Some(&b"1"[..])
    );
    assert!(c.used);
    let (r, keep) = c.exchange(&get("/b"), &host()).await.expect("second");
    assert_eq!((r.status, &r.body[..], keep), (404, &b"no!"[..], true));
    let seen = server.await.expect("server ran");
    assert_eq!(
        seen,
        [
            "GET /a?x=1 HTTP/1.1\r\nhost: example\r\nx-step: a\r\n\r\n",
            "GET /b HTTP/1.1\r\nhost: example\r\nx-step: a\r\n\r\n",
        ]
    );
}

#[tokio::test]
async fn chunked_bodies_are_decoded() {
    let (addr, _server) = scripted(vec![
        "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n\
         5;ext=1\r\nhello\r\n7\r\n, world\r\n0\r\nX-Trailer: t\r\n\r\n",
        "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok",
    ])
    .await;
    let mut c = Conn::connect(&addr).await.expect("connects");
    let (r, keep) = c.exchange(&get("/"), &host()).await.expect("chunked");
    assert_eq!((&r.body[..], keep), (&b"hello, world"[..], true));
    // The trailers were consumed: the next response reads cleanly.
    let (r, _) = c.exchange(&get("/"), &host()).await.expect("next");
    assert_eq!(&r.body[..], b"ok");
}

#[tokio::test]
async fn a_body_without_length_ends_with_the_connection() {
    let (addr, _server) = scripted(vec!["HTTP/1.0 200 OK\r\n\r\nall of it"]).await;
    let mut c = Conn::connect(&addr).await.expect("connects");
    let (r, keep) = c.exchange(&get("/"), &host()).await.expect("read to end");
    assert_eq!((&r.body[..], keep), (&b"all of it"[..], false));
}

#[tokio::test]
async fn connection_close_is_honoured() {
    let (addr, _server) = scripted(vec![
        "HTTP/1.1 200 OK\r\nConnection: Close\r\nContent-Length: 2\r\n\r\nok",
    ])
    .await;
    let mut c = Conn::connect(&addr).await.expect("connects");
    let (r, keep) = c.exchange(&get("/"), &host()).await.expect("answer");
    assert_eq!((&r.body[..], keep), (&b"ok"[..], false));
}

#[tokio::test]
async fn head_204_and_interim_responses_have_no_body() {
    let (addr, _server) = scripted(vec![
        "HTTP/1.1 200 OK\r\nContent-Length: 50\r\n\r\n",
        "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 204 No Content\r\n\r\n",
        "HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nz",
    ])
    .await;
    let mut c = Conn::connect(&addr).await.expect("connects");
    let mut head = get("/");
    *head.method_mut() = http::Method::HEAD;
    let (r, keep) = c.exchange(&head, &host()).await.expect("HEAD");
    assert_eq!((r.status, r.body.len(), keep), (200, 0, true));
    let (r, keep) = c.exchange(&get("/"), &host()).await.expect("204");
    assert_eq!((r.status, r.body.len(), keep), (204, 0, true));
    let (r, _) = c.exchange(&get("/"), &host()).await.expect("after");
    assert_eq!(&r.body[..], b"z");
}

#[tokio::test]
async fn a_connection_closed_while_idle_is_stale() {
    let (addr, server) = scripted(vec!["HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"]).await;
    let mut c = Conn::connect(&addr).await.expect("connects");
    c.exchange(&get("/"), &host()).await.expect("first");
    server.await.expect("server closed");
    tokio::time::sleep(Duration::from_millis(20)).await;
    assert!(!c.usable(), "the close was seen");
    match c.exchange(&get("/"), &host()).await {
        Err(Failure::Stale { .. }) => {}
        other => panic!("not stale: {:?}", other.map(|(r, _)| r.status)),
    }
}

#[tokio::test]
async fn a_response_cut_short_is_an_error() {
    let (addr, _server) = scripted(vec!["HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc"]).await;
    let mut c = Conn::connect(&addr).await.expect("connects");
    match c.exchange(&get("/"), &host()).await {
        Err(Failure::Other(msg)) => assert_eq!(msg, CUT_SHORT),
        other => panic!("not cut short: {:?}", other.map(|(r, _)| r.status)),
    }
}

#[test]
fn a_body_gets_its_length_and_our_host_wins() {
    let req = http::Request::builder()
        .method("POST")
        .uri("/p")
        .header("host", "theirs")
        .header("content-type", "application/json")
        .body(Bytes::from_static(b"{}"))
        .expect("a request");
    let mut out = Vec::new();
    write_head(&mut out, &req, &host());
    assert_eq!(
        String::from_utf8(out).expect("ascii"),
        "POST /p HTTP/1.1\r\nhost: example\r\ncontent-type: application/json\r\n\
         content-length: 2\r\n\r\n{}"
    );
}
