//! The plain path's retry: a kept-alive connection the server drops after
//! reading a request is retried on a new one for a GET, never for a POST.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

use super::*;

const OK: &str = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok";

/// A server whose first connection answers one request and then drops the
/// connection after reading the next; later connections answer every
/// request. It counts connections and requests.
async fn dropping() -> (String, Arc<Mutex<(u32, u32)>>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("a free port");
    let url = format!("http://{}", listener.local_addr().expect("bound"));
    let seen = Arc::new(Mutex::new((0u32, 0u32)));
    let counts = Arc::clone(&seen);
    tokio::spawn(async move {
        while let Ok((mut s, _)) = listener.accept().await {
            let first = {
                let mut c = counts.lock().expect("not poisoned");
                c.0 += 1;
                c.0 == 1
            };
            let counts = Arc::clone(&counts);
            tokio::spawn(async move {
                for n in 0.. {
                    let mut b = [0u8; 4096];
                    match s.read(&mut b).await {
                        Ok(0) | Err(_) => return,
                        Ok(_) => counts.lock().expect("not poisoned").1 += 1,
                    }
                    if first && n == 1 {
                        return; // dropped without an answer
                    }
                    if s.write_all(OK.as_bytes()).await.is_err() {
                        return;
                    }
                }
            });
        }
    });
    (url, seen)
}

fn request(method: &str) -> Request {
    http::Request::builder()
        .method(method)
        .uri("/")
        .body(Bytes::from_static(b"x"))
        .expect("a request")
}

#[tokio::test]
async fn a_dropped_get_is_sent_again_on_a_new_connection() {
    let (url, seen) = dropping().await;
    let plain = Plain::of(&url).expect("a plain target");
    let mut lane = Lane::owned();
    for _ in 0..2 {
        let r = plain
            .send(&mut lane, request("GET"))
            .await
            .expect("answered");
        assert_eq!(r.status, 200);
    }
    // Two connections; three requests (the dropped one, then again).
    assert_eq!(*seen.lock().expect("not poisoned"), (2, 3));
}

#[tokio::test]
async fn a_dropped_post_is_not_sent_twice() {
    let (url, seen) = dropping().await;
    let plain = Plain::of(&url).expect("a plain target");
    let mut lane = Lane::pooled();
    plain
        .send(&mut lane, request("POST"))
        .await
        .expect("answered");
    let err = plain
        .send(&mut lane, request("POST"))
        .await
        .err()
        .expect("the dropped POST fails");
    assert!(
        err.contains("without answering") || err.contains("reading"),
        "{err}"
    );
    tokio::time::sleep(Duration::from_millis(50)).await;
    assert_eq!(*seen.lock().expect("not poisoned"), (1, 2));
}
