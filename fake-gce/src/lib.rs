//! An in-memory fake of the Compute Engine v1 API for sdbc's tests and
//! benchmarks (see the crate README for what it fakes and how it differs).
//!
//! ```no_run
//! # async fn demo() {
//! let fake = fake_gce::start(fake_gce::FakeConfig::default()).await;
//! let base = fake.base_url(); // http://127.0.0.1:PORT/compute/v1/
//! # let _ = base;
//! fake.shutdown().await;
//! # }
//! ```

mod api;
pub mod config;
pub mod error;
mod filter;
mod hosts;
mod instance;
mod limits;
mod resource_actions;
mod resources;
pub mod schema;
mod server;
mod state;
mod util;

pub use config::{Appearance, FakeConfig, Faults, GOOGLE_BASE};
pub use hosts::InstanceHost;
pub use schema::{SchemaError, validate};
pub use state::LoggedRequest;

use serde_json::Value;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

/// Start a fake on 127.0.0.1 (port from the config, 0 = any free port).
///
/// # Panics
/// If the port cannot be bound (a test set-up failure).
pub async fn start(config: FakeConfig) -> FakeHandle {
    let port = config.port;
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port))
        .await
        .unwrap_or_else(|e| panic!("fake-gce: cannot bind 127.0.0.1:{port}: {e}"));
    start_on(listener, config)
}

/// Start a fake on a listener the caller bound.
///
/// # Panics
/// If the listener has no local address.
pub fn start_on(listener: tokio::net::TcpListener, config: FakeConfig) -> FakeHandle {
    let addr = listener
        .local_addr()
        .unwrap_or_else(|e| panic!("fake-gce: listener has no address: {e}"));
    let shared = state::Shared::new(config);
    let app = server::router(Arc::clone(&shared));
    let (tx, rx) = oneshot::channel::<()>();
    let task = tokio::spawn(async move {
        let serve = axum::serve(listener, app).with_graceful_shutdown(async {
            let _ = rx.await;
        });
        // An accept-loop failure ends the fake; tests then see refused
        // connections, which is the honest signal.
        let _ = serve.await;
    });
    FakeHandle {
        addr,
        shared,
        shutdown: Some(tx),
        task: Some(task),
    }
}

/// A running fake: its address, its state for assertions, its log and its
/// runtime switches. Dropping it stops the server.
pub struct FakeHandle {
    addr: SocketAddr,
    shared: Arc<state::Shared>,
    shutdown: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<()>>,
}

impl FakeHandle {
    /// The socket address served.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://127.0.0.1:PORT/compute/v1/`, the value for
    /// `GOOGLE_COMPUTE_CUSTOM_ENDPOINT`.
    pub fn base_url(&self) -> String {
        format!("http://{}/compute/v1/", self.addr)
    }

    /// The link prefix resources and operations carry (`selfLink`).
    pub fn self_link_base(&self) -> &str {
        &self.shared.config.self_link_base
    }

    /// A resource by key (`projects/p/zones/z/instances/vm`), as GET shows it.
    pub fn resource(&self, key: &str) -> Option<Value> {
        self.shared.lock().resources.get(key).cloned()
    }

    /// Changes a resource as someone outside the API's callers would (a
    /// console edit), for drift tests; false if there is no such resource.
    pub fn edit_resource(&self, key: &str, edit: impl FnOnce(&mut Value)) -> bool {
        match self.shared.lock().resources.get_mut(key) {
            Some(r) => {
                edit(r);
                true
            }
            None => false,
        }
    }

    /// Every resource held, by key, sorted by key.
    pub fn resources(&self) -> Vec<(String, Value)> {
        let st = self.shared.lock();
        st.resources
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect()
    }

    /// Keys of every resource held, sorted.
    pub fn resource_keys(&self) -> Vec<String> {
        self.shared.lock().resources.keys().cloned().collect()
    }

    /// Every operation created so far, sorted by key.
    pub fn operations(&self) -> Vec<Value> {
        let st = self.shared.lock();
        st.operations.values().map(|o| o.body.clone()).collect()
    }

    /// Wait until no operation is PENDING or RUNNING (or `timeout` passes);
    /// true if idle.
    pub async fn wait_idle(&self, timeout: Duration) -> bool {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            let notified = self.shared.notify.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            let busy = {
                let st = self.shared.lock();
                st.operations.values().any(|o| o.body["status"] != "DONE")
            };
            if !busy {
                return true;
            }
            if tokio::time::timeout_at(deadline, notified).await.is_err() {
                return false;
            }
        }
    }

    /// A copy of the request log.
    pub fn requests(&self) -> Vec<LoggedRequest> {
        self.shared.lock().log.clone()
    }

    /// Empty the request log.
    pub fn clear_requests(&self) {
        self.shared.lock().log.clear();
    }

    /// How many logged requests asked for a change (inserts, deletes,
    /// instance actions; not operation waits).
    pub fn mutating_requests(&self) -> usize {
        self.shared
            .lock()
            .log
            .iter()
            .filter(|r| r.is_mutating())
            .count()
    }

    /// Current fault settings.
    pub fn faults(&self) -> Faults {
        self.shared.lock().faults.clone()
    }

    /// Replace the fault settings.
    pub fn set_faults(&self, faults: Faults) {
        self.shared.lock().faults = faults;
    }

    /// Reseed the generator behind faults, ids and addresses.
    pub fn reseed(&self, seed: u64) {
        self.shared.lock().rng = fastrand::Rng::with_seed(seed);
    }

    /// Set the per-window read and write budgets (`None` = unlimited) and
    /// forget the requests counted so far.
    pub fn set_quota(&self, reads: Option<u32>, writes: Option<u32>) {
        let mut st = self.shared.lock();
        st.read_budget = reads;
        st.write_budget = writes;
        st.reads.clear();
        st.writes.clear();
    }

    /// Set how long new operations stay PENDING and RUNNING.
    pub fn set_op_delays(&self, pending: Duration, running: Duration) {
        let mut st = self.shared.lock();
        st.op_pending = pending;
        st.op_running = running;
    }

    /// Set a guest attribute of an instance (as the VM would through the
    /// metadata server), e.g. `("p", "z", "vm", "sdbc/ready", "true")`.
    /// `path` is `namespace/key`.
    pub fn set_guest_attribute(
        &self,
        project: &str,
        zone: &str,
        instance: &str,
        path: &str,
        value: &str,
    ) {
        let key = format!("projects/{project}/zones/{zone}/instances/{instance}");
        self.shared
            .lock()
            .guest_attributes
            .entry(key)
            .or_default()
            .insert(path.to_string(), value.to_string());
    }

    /// Points the instance `name` (inserted later) at a real host: it will
    /// report `host`'s addresses and publish its guest attributes.
    pub fn point_instance(&self, project: &str, zone: &str, name: &str, host: InstanceHost) {
        let key = format!("projects/{project}/zones/{zone}/instances/{name}");
        self.shared.lock().hosts.insert(key, host);
    }

    /// Stop the server and wait for it to finish.
    pub async fn shutdown(mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(mut task) = self.task.take() {
            // Graceful shutdown waits for in-flight requests (an operation
            // wait can last minutes); give them a moment, then abort.
            if tokio::time::timeout(Duration::from_secs(2), &mut task)
                .await
                .is_err()
            {
                task.abort();
            }
        }
    }
}

impl Drop for FakeHandle {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
    }
}
