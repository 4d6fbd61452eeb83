//! [`GceClient`]: sends [`ApiCall`]s to Compute Engine with a bearer token,
//! inside the request budget and concurrency bound, retrying what is worth
//! retrying, and waiting for operations with the `wait` endpoint.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use reqwest::{Method, Url};
use serde_json::Value;
use tokio::sync::Semaphore;
use tokio::time::Instant;

use super::auth::{TokenSource, install_crypto_provider};
use super::budget::{BudgetConfig, RateBudget, RequestKind};
use super::operation;
use super::retry::RetryPolicy;
use super::{Endpoint, GceError};

/// Query parameter carrying the idempotency key of mutating calls.
pub const REQUEST_ID_PARAM: &str = "requestId";

/// One call to the API.
#[derive(Debug, Clone, PartialEq)]
pub struct ApiCall {
    /// HTTP method (`GET`, `POST`, `PATCH`, `PUT`, `DELETE`).
    pub method: String,
    /// Path relative to the endpoint, e.g. `projects/p/zones/z/instances`.
    pub path: String,
    /// Query parameters.
    pub query: BTreeMap<String, String>,
    /// JSON body.
    pub body: Option<Value>,
}

impl ApiCall {
    /// A call with no query and no body.
    pub fn new(method: &str, path: impl Into<String>) -> Self {
        ApiCall {
            method: method.to_ascii_uppercase(),
            path: path.into(),
            query: BTreeMap::new(),
            body: None,
        }
    }

    /// `GET path`.
    pub fn get(path: impl Into<String>) -> Self {
        Self::new("GET", path)
    }

    /// `POST path` with a JSON body.
    pub fn post(path: impl Into<String>, body: Value) -> Self {
        Self::new("POST", path).with_body(body)
    }

    /// `DELETE path`.
    pub fn delete(path: impl Into<String>) -> Self {
        Self::new("DELETE", path)
    }

    /// Sets the body.
    pub fn with_body(mut self, body: Value) -> Self {
        self.body = Some(body);
        self
    }

    /// Adds a query parameter.
    pub fn with_query(mut self, key: &str, value: impl Into<String>) -> Self {
        self.query.insert(key.to_string(), value.into());
        self
    }

    /// Sets the `requestId` (see [`super::request_id`]).
    pub fn with_request_id(self, id: impl Into<String>) -> Self {
        self.with_query(REQUEST_ID_PARAM, id)
    }

    /// The `requestId`, if set.
    pub fn request_id(&self) -> Option<&str> {
        self.query.get(REQUEST_ID_PARAM).map(String::as_str)
    }

    fn is_operation_wait(&self) -> bool {
        self.method.eq_ignore_ascii_case("POST")
            && self.path.contains("/operations/")
            && self.path.ends_with("/wait")
    }

    /// Whether the call changes something (anything but `GET` and
    /// operation waits).
    pub fn is_mutating(&self) -> bool {
        let read = ["GET", "HEAD"]
            .iter()
            .any(|m| self.method.eq_ignore_ascii_case(m));
        !(read || self.is_operation_wait())
    }

    /// The budget the call draws from.
    pub fn kind(&self) -> RequestKind {
        if self.is_mutating() {
            RequestKind::Write
        } else {
            RequestKind::Read
        }
    }
}

/// Tunables of a [`GceClient`].
#[derive(Debug, Clone)]
pub struct ClientConfig {
    /// Backoff for retryable failures.
    pub retry: RetryPolicy,
    /// Per-minute request budgets.
    pub budget: BudgetConfig,
    /// Most HTTP requests in flight at once (operation waits included).
    pub max_in_flight: usize,
    /// Timeout of one HTTP request (operation waits take up to ~2 min).
    pub request_timeout: Duration,
    /// Timeout for connecting.
    pub connect_timeout: Duration,
    /// How long to wait for one operation in total.
    pub operation_timeout: Duration,
    /// Shortest time between two waits on a not-yet-done operation, in
    /// case the server answers `wait` early.
    pub wait_floor: Duration,
}

impl Default for ClientConfig {
    fn default() -> Self {
        ClientConfig {
            retry: RetryPolicy::default(),
            budget: BudgetConfig::default(),
            max_in_flight: 16,
            request_timeout: Duration::from_secs(150),
            connect_timeout: Duration::from_secs(10),
            operation_timeout: Duration::from_secs(30 * 60),
            wait_floor: Duration::from_millis(500),
        }
    }
}

/// Counters of what a client sent.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ClientStats {
    /// HTTP requests sent (including retries and waits).
    pub requests: u64,
    /// Of those, mutating ones.
    pub mutating: u64,
    /// Retries after a failure.
    pub retries: u64,
}

/// One retry about to be waited for: what failed and how long until the
/// next attempt.
#[derive(Debug)]
pub struct Retry<'a> {
    pub call: &'a ApiCall,
    /// The attempt that failed (1 for the first).
    pub attempt: u32,
    pub max_attempts: u32,
    pub delay: Duration,
    pub error: &'a GceError,
}

/// Told of every retry, so that a front end can say what is being retried
/// and why (the library never prints).
pub trait RetryObserver: Send + Sync {
    fn retrying(&self, retry: &Retry<'_>);
}

struct Observer(Option<Arc<dyn RetryObserver>>);

impl std::fmt::Debug for Observer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(if self.0.is_some() {
            "Observer(set)"
        } else {
            "Observer(none)"
        })
    }
}

/// The Compute Engine client. Cheap to share behind an `Arc`.
#[derive(Debug)]
pub struct GceClient {
    http: reqwest::Client,
    endpoint: Endpoint,
    auth: TokenSource,
    config: ClientConfig,
    budget: RateBudget,
    in_flight: Semaphore,
    rng: Mutex<fastrand::Rng>,
    requests: AtomicU64,
    mutating: AtomicU64,
    retries: AtomicU64,
    observer: Observer,
}

impl GceClient {
    /// A client for `endpoint` authenticating with `auth`.
    pub fn new(
        endpoint: Endpoint,
        auth: TokenSource,
        config: ClientConfig,
    ) -> Result<Self, GceError> {
        install_crypto_provider();
        let http = reqwest::Client::builder()
            .user_agent(concat!("sdbc/", env!("CARGO_PKG_VERSION")))
            .timeout(config.request_timeout)
            .connect_timeout(config.connect_timeout)
            .build()
            .map_err(|e| GceError::Invalid(format!("could not build the HTTP client: {e}")))?;
        Ok(GceClient {
            http,
            endpoint,
            auth,
            budget: RateBudget::new(config.budget),
            in_flight: Semaphore::new(config.max_in_flight.max(1)),
            config,
            rng: Mutex::new(fastrand::Rng::new()),
            requests: AtomicU64::new(0),
            mutating: AtomicU64::new(0),
            retries: AtomicU64::new(0),
            observer: Observer(None),
        })
    }

    /// The client, telling `observer` of every retry.
    pub fn with_retry_observer(mut self, observer: Arc<dyn RetryObserver>) -> Self {
        self.observer = Observer(Some(observer));
        self
    }

    /// The endpoint in use.
    pub fn endpoint(&self) -> &Endpoint {
        &self.endpoint
    }

    /// What was sent so far.
    pub fn stats(&self) -> ClientStats {
        ClientStats {
            requests: self.requests.load(Ordering::Relaxed),
            mutating: self.mutating.load(Ordering::Relaxed),
            retries: self.retries.load(Ordering::Relaxed),
        }
    }

    /// Sends `call`, retrying retryable failures with backoff. Not retried:
    /// 412 (the caller must refetch the fingerprint and rebuild the call),
    /// and a mutating call without `requestId` whose outcome is unknown
    /// (5xx, broken connection), since repeating it could act twice.
    pub async fn send(&self, call: ApiCall) -> Result<Value, GceError> {
        let mut attempt = 0;
        loop {
            attempt += 1;
            let err = match self.send_once(&call).await {
                Ok(v) => return Ok(v),
                Err(e) => e,
            };
            let unsafe_repeat =
                call.is_mutating() && call.request_id().is_none() && err.outcome_unknown();
            if !err.is_retryable()
                || err.needs_refetch()
                || unsafe_repeat
                || !self.config.retry.allows_another(attempt)
            {
                return Err(err);
            }
            let unit = self.rng.lock().unwrap_or_else(|p| p.into_inner()).f64();
            let delay = self
                .config
                .retry
                .delay(attempt - 1, unit, err.retry_after());
            self.retries.fetch_add(1, Ordering::Relaxed);
            if let Some(o) = &self.observer.0 {
                o.retrying(&Retry {
                    call: &call,
                    attempt,
                    max_attempts: self.config.retry.max_attempts,
                    delay,
                    error: &err,
                });
            }
            tokio::time::sleep(delay).await;
        }
    }

    async fn send_once(&self, call: &ApiCall) -> Result<Value, GceError> {
        let method = Method::from_bytes(call.method.as_bytes())
            .map_err(|_| GceError::Invalid(format!("bad HTTP method {:?}", call.method)))?;
        let mut url = Url::parse(&self.endpoint.url(&call.path))
            .map_err(|e| GceError::Invalid(format!("bad API path {:?}: {e}", call.path)))?;
        if !call.query.is_empty() {
            let mut pairs = url.query_pairs_mut();
            for (k, v) in &call.query {
                pairs.append_pair(k, v);
            }
        }
        self.budget.acquire(call.kind()).await;
        let _permit = self
            .in_flight
            .acquire()
            .await
            .map_err(|_| GceError::Invalid("the client was shut down".to_string()))?;
        let token = self.auth.token().await?;
        let mut req = self.http.request(method, url);
        if !token.is_empty() {
            req = req.bearer_auth(token);
        }
        req = match &call.body {
            Some(body) => req.json(body),
            // Google front ends want a Content-Length on bodiless POSTs.
            None if call.is_mutating() || call.is_operation_wait() => req
                .header(reqwest::header::CONTENT_LENGTH, "0")
                .body(Vec::new()),
            None => req,
        };
        self.requests.fetch_add(1, Ordering::Relaxed);
        if call.is_mutating() {
            self.mutating.fetch_add(1, Ordering::Relaxed);
        }
        let transport = |e: reqwest::Error| GceError::from_reqwest(&call.method, &call.path, &e);
        let resp = req.send().await.map_err(transport)?;
        let status = resp.status().as_u16();
        let retry_after = resp
            .headers()
            .get(reqwest::header::RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse::<u64>().ok())
            .map(Duration::from_secs);
        let bytes = resp.bytes().await.map_err(transport)?;
        if !(200..300).contains(&status) {
            return Err(GceError::from_response(
                &call.method,
                &call.path,
                status,
                &bytes,
                retry_after,
            ));
        }
        if bytes.iter().all(u8::is_ascii_whitespace) {
            return Ok(Value::Null);
        }
        serde_json::from_slice(&bytes).map_err(|e| GceError::Decode {
            method: call.method.clone(),
            path: call.path.clone(),
            message: e.to_string(),
        })
    }

    /// Sends `call`; if the answer is an Operation, waits for it to finish
    /// and returns the finished Operation (an error if it carries errors).
    pub async fn execute(&self, call: ApiCall) -> Result<Value, GceError> {
        let v = self.send(call).await?;
        if operation::is_operation(&v) {
            self.wait_operation(v).await
        } else {
            Ok(v)
        }
    }

    /// `GET path`; `None` on 404.
    pub async fn get(&self, path: &str) -> Result<Option<Value>, GceError> {
        match self.send(ApiCall::get(path)).await {
            Ok(v) => Ok(Some(v)),
            Err(e) if e.is_not_found() => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// All items of a list (or `aggregatedList`) at `path`, following
    /// `nextPageToken`, optionally narrowed by a `filter` expression.
    pub async fn list(&self, path: &str, filter: Option<&str>) -> Result<Vec<Value>, GceError> {
        let mut items = Vec::new();
        let mut page_token: Option<String> = None;
        loop {
            let mut call = ApiCall::get(path);
            if let Some(f) = filter {
                call = call.with_query("filter", f);
            }
            if let Some(t) = &page_token {
                call = call.with_query("pageToken", t.clone());
            }
            let page = self.send(call).await?;
            match page.get("items") {
                Some(Value::Array(list)) => items.extend(list.iter().cloned()),
                Some(Value::Object(scopes)) => {
                    // aggregatedList: {"zones/z": {"instances": [..]}, ..}
                    for scoped in scopes.values().filter_map(Value::as_object) {
                        for (key, list) in scoped {
                            if let (false, Some(list)) = (key == "warning", list.as_array()) {
                                items.extend(list.iter().cloned());
                            }
                        }
                    }
                }
                _ => {}
            }
            let next = page
                .get("nextPageToken")
                .and_then(Value::as_str)
                .filter(|t| !t.is_empty())
                .map(str::to_string);
            if next.is_some() && next == page_token {
                return Err(GceError::Invalid(format!(
                    "list {path}: the server repeated page token {next:?}"
                )));
            }
            match next {
                Some(t) => page_token = Some(t),
                None => return Ok(items),
            }
        }
    }

    /// Deletes `path` with `request_id` and waits for the operation.
    /// `None` if it did not exist.
    pub async fn delete(&self, path: &str, request_id: &str) -> Result<Option<Value>, GceError> {
        match self
            .execute(ApiCall::delete(path).with_request_id(request_id))
            .await
        {
            Ok(op) => Ok(Some(op)),
            Err(e) if e.is_not_found() => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// Waits until `op` is DONE using the zonal, regional or global
    /// `operations/{name}/wait` endpoint of the configured endpoint and
    /// project, then fails if the operation carries errors.
    pub async fn wait_operation(&self, mut op: Value) -> Result<Value, GceError> {
        let started = Instant::now();
        loop {
            if operation::is_done(&op) {
                return match GceError::from_operation(&op) {
                    Some(e) => Err(e),
                    None => Ok(op),
                };
            }
            let name = operation::name(&op).unwrap_or("?").to_string();
            if started.elapsed() >= self.config.operation_timeout {
                return Err(GceError::OperationTimeout {
                    operation: name,
                    waited: started.elapsed(),
                });
            }
            let project = self.endpoint.project().ok_or_else(|| {
                GceError::Invalid(format!(
                    "cannot wait for operation {name}: no project is configured"
                ))
            })?;
            let path = operation::wait_path(project, &op)?;
            let asked = Instant::now();
            op = self.send(ApiCall::new("POST", path)).await?;
            let floor = self.config.wait_floor.saturating_sub(asked.elapsed());
            if !operation::is_done(&op) && !floor.is_zero() {
                tokio::time::sleep(floor).await;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn call_kinds() {
        assert_eq!(ApiCall::get("x").kind(), RequestKind::Read);
        let wait = ApiCall::new("post", "projects/p/zones/z/operations/o/wait");
        assert!(!wait.is_mutating());
        let insert = ApiCall::post("projects/p/zones/z/instances", json!({})).with_request_id("r");
        assert_eq!(
            (insert.kind(), insert.request_id()),
            (RequestKind::Write, Some("r"))
        );
        assert!(ApiCall::delete("projects/p/global/networks/n").is_mutating());
    }
}
