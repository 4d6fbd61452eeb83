//! Operations in flight: every insert and delete a step starts is noted
//! here until the step sees it finish, and each state save writes the
//! current list, so a run killed while Compute Engine is still working
//! leaves the next run the operations to wait for (see
//! [`settle`](crate::exec::refresh::settle)).

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use tokio::sync::Notify;

use crate::state::PendingOperation;

/// Shared between the steps (which note operations) and the runner
/// (which saves them).
#[derive(Clone, Default)]
pub struct InFlight {
    ops: Arc<Mutex<BTreeMap<String, PendingOperation>>>,
    changed: Arc<Notify>,
}

impl InFlight {
    fn ops(&self) -> std::sync::MutexGuard<'_, BTreeMap<String, PendingOperation>> {
        self.ops.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// `node` started `op`.
    pub fn start(&self, node: &str, op: PendingOperation) {
        self.ops().insert(node.to_string(), op);
        self.changed.notify_one();
    }

    /// `node`'s operation was seen finished.
    pub fn finish(&self, node: &str) {
        if self.ops().remove(node).is_some() {
            self.changed.notify_one();
        }
    }

    /// The operations in flight now.
    pub fn snapshot(&self) -> BTreeMap<String, PendingOperation> {
        self.ops().clone()
    }

    /// Resolves when the list changed since the last call.
    pub async fn changed(&self) {
        self.changed.notified().await;
    }
}
