//! The fake's in-memory state: resources, operations, the request log,
//! quota windows, fault settings, and the operation lifecycle.

use crate::config::{FakeConfig, Faults};
use crate::util;
use serde_json::{Value, json};
use std::collections::{BTreeMap, HashMap, HashSet, VecDeque};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};
use tokio::sync::Notify;

/// One request as the fake saw it.
#[derive(Debug, Clone, PartialEq)]
pub struct LoggedRequest {
    /// HTTP method (`GET`, `POST`, `DELETE`).
    pub method: String,
    /// Path, e.g. `/compute/v1/projects/p/zones/z/instances`.
    pub path: String,
    /// Raw query string (without `?`), empty if none.
    pub query: String,
    /// The body: parsed JSON, or a JSON string holding the raw text if it was
    /// not JSON; `None` if empty.
    pub body: Option<Value>,
    /// Status answered; `None` when the connection was dropped unanswered.
    pub status: Option<u16>,
}

impl LoggedRequest {
    /// Whether the request asks for a change: any DELETE, and any POST except
    /// an operation `wait`.
    pub fn is_mutating(&self) -> bool {
        self.method == "DELETE" || (self.method == "POST" && !self.path.ends_with("/wait"))
    }
}

/// A change applied to the state when an operation reaches a phase.
pub type Effect = Box<dyn FnOnce(&mut State) + Send>;

/// An operation and what happens when it runs and finishes.
pub struct Operation {
    /// The operation resource as the API shows it.
    pub body: Value,
    /// Applied when the operation turns RUNNING.
    pub on_running: Option<Effect>,
    /// Applied when the operation turns DONE without error.
    pub on_done: Option<Effect>,
    /// Applied when the operation turns DONE with an error.
    pub on_fail: Option<Effect>,
    /// The error it will finish with, if any.
    pub failure: Option<OpFailure>,
}

/// How an operation fails: `error.errors[0].code`, its message, and
/// `httpErrorStatusCode`.
#[derive(Debug, Clone)]
pub struct OpFailure {
    pub code: &'static str,
    pub message: String,
    pub status: u16,
}

/// Everything the fake holds.
pub struct State {
    /// Resources by key `projects/p/<scope>/<collection>/<name>`.
    pub resources: BTreeMap<String, Value>,
    /// Keys whose insert operation is not DONE yet (names are taken).
    pub creating: HashSet<String>,
    /// Keys whose delete operation is not DONE yet.
    pub deleting: HashSet<String>,
    /// Operations by key `projects/p/<scope>/operations/<name>`.
    pub operations: BTreeMap<String, Operation>,
    /// `(project, requestId)` -> operation key.
    pub request_ids: HashMap<(String, String), String>,
    /// Guest attributes by instance key: `namespace/key` -> value.
    pub guest_attributes: HashMap<String, BTreeMap<String, String>>,
    /// Instances pointed at real hosts, by instance key (see `hosts.rs`).
    pub hosts: HashMap<String, crate::hosts::InstanceHost>,
    /// Every request, in arrival order of their answers.
    pub log: Vec<LoggedRequest>,
    /// Current fault settings.
    pub faults: Faults,
    /// Seeded generator for ids, addresses, faults.
    pub rng: fastrand::Rng,
    /// Read budget per window (`None` = unlimited).
    pub read_budget: Option<u32>,
    /// Write budget per window (`None` = unlimited).
    pub write_budget: Option<u32>,
    /// Times of the accepted reads in the current window.
    pub reads: VecDeque<Instant>,
    /// Times of the accepted writes in the current window.
    pub writes: VecDeque<Instant>,
    /// PENDING time of new operations.
    pub op_pending: Duration,
    /// RUNNING time of new operations.
    pub op_running: Duration,
    /// Next host number per subnetwork key (for `networkIP`).
    pub next_host: HashMap<String, u32>,
    /// Next external address number.
    pub next_external: u32,
    /// Prefix of selfLinks.
    pub self_link_base: String,
    /// When inserted resources appear.
    pub appearance: crate::config::Appearance,
    /// Whether conflicting inserts and deletes fail in their operation
    /// instead of at once.
    pub late_conflicts: bool,
}

impl State {
    /// Fresh state from the configuration.
    pub fn new(config: &FakeConfig) -> Self {
        State {
            resources: BTreeMap::new(),
            creating: HashSet::new(),
            deleting: HashSet::new(),
            operations: BTreeMap::new(),
            request_ids: HashMap::new(),
            guest_attributes: HashMap::new(),
            hosts: HashMap::new(),
            log: Vec::new(),
            faults: config.faults.clone(),
            rng: fastrand::Rng::with_seed(config.seed),
            read_budget: config.read_budget_per_minute,
            write_budget: config.write_budget_per_minute,
            reads: VecDeque::new(),
            writes: VecDeque::new(),
            op_pending: config.op_pending,
            op_running: config.op_running,
            next_host: HashMap::new(),
            next_external: 0,
            self_link_base: config.self_link_base.clone(),
            appearance: config.appearance,
            late_conflicts: config.late_conflicts,
        }
    }

    /// Full link for a key.
    pub fn link(&self, key: &str) -> String {
        format!("{}{key}", self.self_link_base)
    }

    /// A numeric id as the API writes them (a decimal string).
    pub fn new_id(&mut self) -> String {
        self.rng.u64(1_000_000_000_000_000..u64::MAX).to_string()
    }

    /// A fresh fingerprint.
    pub fn fingerprint(&mut self) -> String {
        util::fingerprint(&mut self.rng)
    }

    /// Whether `key` exists or is being created.
    pub fn taken(&self, key: &str) -> bool {
        self.resources.contains_key(key) || self.creating.contains(key)
    }

    /// The first other resource whose body mentions `key`'s link, if any.
    pub fn referenced_by(&self, key: &str) -> Option<String> {
        let link = self.link(key);
        self.resources
            .iter()
            .find(|(k, v)| k.as_str() != key && mentions(v, &link))
            .map(|(k, _)| k.clone())
    }

    /// Take one unit of the read or write quota; false if the budget of the
    /// sliding window is spent.
    pub fn take_quota(&mut self, write: bool, window: Duration) -> bool {
        let now = Instant::now();
        let (budget, times) = if write {
            (self.write_budget, &mut self.writes)
        } else {
            (self.read_budget, &mut self.reads)
        };
        let Some(budget) = budget else { return true };
        while times
            .front()
            .is_some_and(|t| now.duration_since(*t) >= window)
        {
            times.pop_front();
        }
        if times.len() >= budget as usize {
            return false;
        }
        times.push_back(now);
        true
    }
}

fn mentions(v: &Value, link: &str) -> bool {
    match v {
        Value::String(s) => s == link,
        Value::Array(a) => a.iter().any(|x| mentions(x, link)),
        Value::Object(o) => o
            .iter()
            .any(|(k, x)| k != "selfLink" && k != "users" && mentions(x, link)),
        _ => false,
    }
}

/// State shared between the server, the operation tasks and the handle.
pub struct Shared {
    /// Immutable configuration.
    pub config: FakeConfig,
    state: Mutex<State>,
    /// Woken whenever an operation changes status.
    pub notify: Notify,
}

impl Shared {
    /// New shared state.
    pub fn new(config: FakeConfig) -> Arc<Self> {
        let state = State::new(&config);
        Arc::new(Shared {
            config,
            state: Mutex::new(state),
            notify: Notify::new(),
        })
    }

    /// Lock the state (a poisoned lock is taken over: the state is plain data).
    pub fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// What a new operation is about.
pub struct OpSpec {
    /// `projects/p/global`, `projects/p/regions/r` or `projects/p/zones/z`.
    pub scope: String,
    /// `insert`, `delete`, `start`, ...
    pub operation_type: &'static str,
    /// Key of the target resource.
    pub target: String,
    /// Target id if known.
    pub target_id: Option<String>,
    /// Effects.
    pub on_running: Option<Effect>,
    /// Effect on success.
    pub on_done: Option<Effect>,
    /// Effect on injected failure.
    pub on_fail: Option<Effect>,
    /// An error the operation ends with whatever the faults say (an insert
    /// of a name being created, a delete of a resource being deleted).
    pub failure: Option<OpFailure>,
}

/// Create an operation, start its lifecycle task, return its key.
pub fn start_operation(shared: &Arc<Shared>, st: &mut State, spec: OpSpec) -> String {
    let millis = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default()
        .as_millis();
    let name = format!(
        "operation-{millis}-{:013x}-{:08x}-{:08x}",
        st.rng.u64(..1 << 52),
        st.rng.u32(..),
        st.rng.u32(..)
    );
    let key = format!("{}/operations/{name}", spec.scope);
    let injected = st.faults.op_error_rate > 0.0 && st.rng.f64() < st.faults.op_error_rate;
    let failure = spec.failure.or_else(|| {
        injected.then(|| OpFailure {
            code: "QUOTA_EXCEEDED",
            message: String::from(
                "Quota 'CPUS' exceeded.  Limit: 24.0 in region (injected by fake-gce).",
            ),
            status: 403,
        })
    });
    let mut body = json!({
        "kind": "compute#operation",
        "id": st.new_id(),
        "name": name,
        "operationType": spec.operation_type,
        "targetLink": st.link(&spec.target),
        "status": "PENDING",
        "progress": 0,
        "insertTime": util::now_rfc3339(),
        "user": "fake-gce@example.iam.gserviceaccount.com",
        "selfLink": st.link(&key),
    });
    if let Some(id) = spec.target_id {
        body["targetId"] = json!(id);
    }
    let parts: Vec<&str> = spec.scope.split('/').collect();
    if let [_, _, kind @ ("zones" | "regions"), place] = parts.as_slice() {
        let field = if *kind == "zones" { "zone" } else { "region" };
        body[field] = json!(st.link(&format!("{}/{kind}/{place}", parts[..2].join("/"))));
    }
    st.operations.insert(
        key.clone(),
        Operation {
            body,
            on_running: spec.on_running,
            on_done: spec.on_done,
            on_fail: spec.on_fail,
            failure,
        },
    );
    let (pending, running) = (st.op_pending, st.op_running);
    let shared = Arc::clone(shared);
    let op_key = key.clone();
    tokio::spawn(async move {
        tokio::time::sleep(pending).await;
        advance(&shared, &op_key, false);
        tokio::time::sleep(running).await;
        advance(&shared, &op_key, true);
    });
    key
}

fn advance(shared: &Shared, key: &str, done: bool) {
    let mut st = shared.lock();
    let Some(op) = st.operations.get_mut(key) else {
        return;
    };
    let effect = if !done {
        op.body["status"] = json!("RUNNING");
        op.body["progress"] = json!(50);
        op.body["startTime"] = json!(util::now_rfc3339());
        op.on_running.take()
    } else {
        op.body["status"] = json!("DONE");
        op.body["progress"] = json!(100);
        op.body["endTime"] = json!(util::now_rfc3339());
        if let Some(f) = op.failure.clone() {
            op.body["error"] = json!({"errors": [{"code": f.code, "message": f.message}]});
            op.body["httpErrorStatusCode"] = json!(f.status);
            let reason = axum::http::StatusCode::from_u16(f.status)
                .ok()
                .and_then(|s| s.canonical_reason())
                .unwrap_or("ERROR")
                .to_uppercase();
            op.body["httpErrorMessage"] = json!(reason);
            op.on_done = None;
            op.on_fail.take()
        } else {
            op.on_fail = None;
            op.on_done.take()
        }
    };
    if let Some(effect) = effect {
        effect(&mut st);
    }
    drop(st);
    shared.notify.notify_waiters();
}
