//! A small HTTP server on loopback for the load-test tests: it hands out a
//! CSRF cookie and a token, checks them on POST, fails on demand, and can
//! stall every request for a while. It counts what it was asked.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde_json::{Value, json};

#[derive(Default)]
pub struct Seen {
    /// Requests per path.
    pub counts: BTreeMap<String, u64>,
    /// When each request arrived, since the server started.
    pub arrivals: Vec<Duration>,
    /// Values the POSTs carried that the server did not issue.
    pub mismatches: Vec<String>,
    /// `pick` values posted.
    pub picked: Vec<u64>,
}

pub struct Server {
    pub url: String,
    pub seen: Arc<Mutex<Seen>>,
}

#[derive(Clone)]
struct App {
    seen: Arc<Mutex<Seen>>,
    started: Instant,
    /// Requests arriving in this window (since start) wait until its end.
    stall: Option<(Duration, Duration)>,
    tokens: Arc<Mutex<u64>>,
}

impl App {
    async fn note(&self, path: &str) {
        let now = self.started.elapsed();
        {
            let mut s = self.seen.lock().expect("not poisoned");
            *s.counts.entry(path.to_string()).or_insert(0) += 1;
            s.arrivals.push(now);
        }
        if let Some((from, to)) = self.stall
            && now >= from
            && now < to
        {
            tokio::time::sleep(to - now).await;
        }
    }
}

/// GET /login: a fresh `csrftoken` cookie and the same token in the body.
async fn login(State(app): State<App>) -> Response {
    app.note("/login").await;
    let n = {
        let mut t = app.tokens.lock().expect("not poisoned");
        *t += 1;
        *t
    };
    let token = format!("tok{n}");
    (
        [(
            header::SET_COOKIE,
            format!("csrftoken={token}; Path=/; SameSite=Lax"),
        )],
        Json(json!({ "token": token, "items": [{ "id": 1 }, { "id": 2 }, { "id": 3 }] })),
    )
        .into_response()
}

fn cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    let all = headers.get(header::COOKIE)?.to_str().ok()?;
    all.split("; ")
        .find_map(|c| c.strip_prefix(&format!("{name}=")).map(str::to_string))
}

/// POST /echo: the CSRF header must equal the cookie and the body's token;
/// the body's `pick` must be one of the listed ids.
async fn echo(State(app): State<App>, headers: HeaderMap, Json(body): Json<Value>) -> Response {
    app.note("/echo").await;
    let cookie = cookie(&headers, "csrftoken");
    let header = headers
        .get("x-csrftoken")
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    let token = body["token"].as_str().map(str::to_string);
    let pick = body["pick"].as_u64();
    let mut seen = app.seen.lock().expect("not poisoned");
    if let Some(p) = pick {
        seen.picked.push(p);
    }
    if cookie.is_none() || cookie != header || cookie != token || !matches!(pick, Some(1..=3)) {
        seen.mismatches
            .push(format!("{cookie:?} {header:?} {token:?} {pick:?}"));
        return (StatusCode::FORBIDDEN, "mismatch").into_response();
    }
    Json(json!({ "ok": true, "user": body["user"] })).into_response()
}

/// GET /fail?user=N: 500 for user 0, 200 for the others.
async fn fail(State(app): State<App>, Query(q): Query<BTreeMap<String, String>>) -> Response {
    app.note("/fail").await;
    if q.get("user").map(String::as_str) == Some("0") {
        (StatusCode::INTERNAL_SERVER_ERROR, "boom").into_response()
    } else {
        "fine".into_response()
    }
}

async fn hello(State(app): State<App>) -> &'static str {
    app.note("/hello").await;
    "hello"
}

/// Starts the server on a free loopback port.
pub async fn start(stall: Option<(Duration, Duration)>) -> Server {
    let seen = Arc::new(Mutex::new(Seen::default()));
    let started = Instant::now();
    let app = App {
        seen: Arc::clone(&seen),
        started,
        stall,
        tokens: Arc::new(Mutex::new(0)),
    };
    let router = Router::new()
        .route("/login", get(login))
        .route("/echo", post(echo))
        .route("/fail", get(fail))
        .route("/hello", get(hello))
        .with_state(app);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("a loopback port is free");
    let addr = listener.local_addr().expect("bound");
    tokio::spawn(async move {
        let _ = axum::serve(listener, router).await;
    });
    Server {
        url: format!("http://{addr}"),
        seen,
    }
}
