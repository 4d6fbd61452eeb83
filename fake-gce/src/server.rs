//! The HTTP layer: one fallback handler that logs, applies faults and quotas,
//! parses the Compute Engine path and dispatches to the API methods.

use crate::api;
use crate::error::ApiError;
use crate::resource_actions;
use crate::resources::{ScopeKind, collection};
use crate::state::{LoggedRequest, Shared};
use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::{Query, State};
use axum::http::{Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use serde_json::Value;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

/// The router serving `/compute/v1/...`.
pub fn router(shared: Arc<Shared>) -> Router {
    Router::new().fallback(handle).with_state(shared)
}

/// A request as the API methods see it.
pub struct Call<'a> {
    /// Project id.
    pub project: &'a str,
    /// `projects/p/global`, `projects/p/regions/r`, `projects/p/zones/z`.
    pub scope_path: String,
    /// Region or zone name (empty for global).
    pub location: &'a str,
    /// Query parameters.
    pub query: &'a [(String, String)],
    /// Raw body.
    pub body: &'a [u8],
}

impl Call<'_> {
    /// First value of a query parameter.
    pub fn param(&self, name: &str) -> Option<&str> {
        self.query
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// The body as JSON; 400 `parseError` otherwise.
    pub fn json(&self) -> Result<Value, ApiError> {
        if self.body.is_empty() {
            return Ok(Value::Object(Default::default()));
        }
        serde_json::from_slice(self.body)
            .map_err(|e| ApiError::parse(format!("Invalid JSON payload received. {e}")))
    }
}

enum Fault {
    None,
    Error(StatusCode),
    Drop,
}

async fn handle(
    State(shared): State<Arc<Shared>>,
    method: Method,
    uri: Uri,
    body: Bytes,
) -> Response {
    let path = uri.path().to_string();
    let mut entry = LoggedRequest {
        method: method.to_string(),
        path: path.clone(),
        query: uri.query().unwrap_or("").to_string(),
        body: (!body.is_empty()).then(|| {
            serde_json::from_slice(&body)
                .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&body).into_owned()))
        }),
        status: None,
    };
    let mutating = entry.is_mutating();

    let (delay, fault) = {
        let mut st = shared.lock();
        let f = st.faults.clone();
        let delay = if f.latency.is_zero() {
            Duration::ZERO
        } else {
            let max = u64::try_from(f.latency.as_micros()).unwrap_or(u64::MAX);
            Duration::from_micros(st.rng.u64(..=max))
        };
        let roll = st.rng.f64();
        let fault = if roll < f.error_rate {
            let codes = [
                StatusCode::INTERNAL_SERVER_ERROR,
                StatusCode::SERVICE_UNAVAILABLE,
                StatusCode::TOO_MANY_REQUESTS,
            ];
            Fault::Error(codes[st.rng.usize(..codes.len())])
        } else if roll < f.error_rate + f.drop_rate {
            Fault::Drop
        } else {
            Fault::None
        };
        (delay, fault)
    };
    if !delay.is_zero() {
        tokio::time::sleep(delay).await;
    }
    let result = match fault {
        Fault::Drop => {
            shared.lock().log.push(entry);
            return dropped();
        }
        Fault::Error(code) => Err(ApiError::injected(code)),
        Fault::None => {
            let window = shared.config.quota_window;
            if shared.lock().take_quota(mutating, window) {
                dispatch(&shared, &method, &uri, &body).await
            } else if mutating {
                Err(ApiError::rate_limited("Write requests"))
            } else {
                Err(ApiError::rate_limited("Read requests"))
            }
        }
    };
    let (status, json) = match result {
        Ok(v) => (StatusCode::OK, v),
        Err(e) => (e.status, e.body()),
    };
    let mut st = shared.lock();
    let lost = mutating
        && status == StatusCode::OK
        && st.faults.lost_response_rate > 0.0
        && st.rng.f64() < st.faults.lost_response_rate;
    if lost {
        st.log.push(entry);
        return dropped();
    }
    entry.status = Some(status.as_u16());
    st.log.push(entry);
    (status, axum::Json(json)).into_response()
}

async fn dispatch(
    shared: &Arc<Shared>,
    method: &Method,
    uri: &Uri,
    body: &[u8],
) -> Result<Value, ApiError> {
    let path = uri.path();
    let no_route = || ApiError {
        status: StatusCode::NOT_FOUND,
        domain: "global",
        reason: "notFound",
        message: format!("fake-gce does not serve {method} {path}"),
    };
    let rest = path
        .strip_prefix("/compute/v1/projects/")
        .ok_or_else(no_route)?;
    let segs: Vec<&str> = rest.split('/').collect();
    if segs.iter().any(|s| s.is_empty()) {
        return Err(no_route());
    }
    let Query(query) = Query::<Vec<(String, String)>>::try_from_uri(uri)
        .map_err(|e| ApiError::invalid(format!("Invalid query string: {e}")))?;
    let (project, scope, location, tail) = match segs.as_slice() {
        [p, "global", tail @ ..] => (*p, ScopeKind::Global, "", tail),
        [p, "regions", r, tail @ ..] => (*p, ScopeKind::Region, *r, tail),
        [p, "zones", z, tail @ ..] => (*p, ScopeKind::Zone, *z, tail),
        _ => return Err(no_route()),
    };
    let scope_path = match scope {
        ScopeKind::Global => format!("projects/{project}/global"),
        ScopeKind::Region => format!("projects/{project}/regions/{location}"),
        ScopeKind::Zone => format!("projects/{project}/zones/{location}"),
    };
    let call = Call {
        project,
        scope_path,
        location,
        query: &query,
        body,
    };
    let m = method.clone();
    match (m, tail) {
        (Method::GET, ["operations", op]) => api::operation_get(shared, &call, op),
        (Method::POST, ["operations", op, "wait"]) => api::operation_wait(shared, &call, op).await,
        (Method::GET, ["instances", name, "getGuestAttributes"]) if scope == ScopeKind::Zone => {
            api::guest_attributes(shared, &call, name)
        }
        (Method::POST, ["instances", name, action]) if scope == ScopeKind::Zone => {
            api::instance_action(shared, &call, name, action)
        }
        (Method::POST, ["disks", name, "resize"]) if scope == ScopeKind::Zone => {
            resource_actions::disk_resize(shared, &call, name)
        }
        (Method::POST, [coll @ ("disks" | "addresses"), name, "setLabels"]) => {
            resource_actions::set_labels(shared, &call, coll, name)
        }
        (m, [coll, rest @ ..]) => {
            let coll = collection(coll, scope).ok_or_else(no_route)?;
            match (m, rest) {
                (Method::GET, []) => api::list(shared, &call, coll),
                (Method::POST, []) => api::insert(shared, &call, coll),
                (Method::GET, [name]) => api::get(shared, &call, coll, name),
                (Method::DELETE, [name]) => api::delete(shared, &call, coll, name),
                _ => Err(no_route()),
            }
        }
        _ => Err(no_route()),
    }
}

/// A response whose body fails at once: hyper closes the connection without
/// sending an answer.
fn dropped() -> Response {
    Response::new(Body::new(Abort))
}

struct Abort;

impl http_body::Body for Abort {
    type Data = Bytes;
    type Error = std::io::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
    ) -> Poll<Option<Result<http_body::Frame<Bytes>, std::io::Error>>> {
        Poll::Ready(Some(Err(std::io::Error::other(
            "fake-gce: injected dropped connection",
        ))))
    }
}
