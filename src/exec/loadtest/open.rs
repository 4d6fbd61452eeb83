//! The open model (wrk2's): flow *k* is planned at `start + k / rate` and
//! taken, in order, by one of `connections` workers, each of which keeps its
//! own connection, so a request costs no hand-off between tasks and no
//! pool lock. (One current-thread runtime per core, as `wrk` runs one event
//! loop per thread, was tried and measured no better: decision 0017.)

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use tokio::task::JoinHandle;
use tokio::time::{Instant, sleep_until};

use super::{Shared, flow, http, vars};

/// Starts `connections` workers; the handle ends when all have.
pub(super) fn start(sh: &Arc<Shared>, rate: f64, connections: u64) -> JoinHandle<()> {
    let next = Arc::new(AtomicU64::new(0));
    let gap = 1.0 / rate.max(1e-6);
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..connections {
        let (sh, next) = (Arc::clone(sh), Arc::clone(&next));
        tasks.spawn(async move { worker(&sh, &next, gap).await });
    }
    tokio::spawn(async move { while tasks.join_next().await.is_some() {} })
}

/// Takes the next planned flow, waits for its time if it is still ahead,
/// runs it; until the schedule ends.
async fn worker(sh: &Arc<Shared>, next: &AtomicU64, gap: f64) {
    let mut rec = sh.recorder();
    let mut lane = http::Lane::owned();
    loop {
        let k = next.fetch_add(1, Ordering::Relaxed);
        let planned = sh.start + Duration::from_secs_f64(k as f64 * gap);
        let done = match sh.deadline {
            Some(d) => planned >= d,
            None => k >= sh.test.iterations,
        };
        if done {
            return;
        }
        // A late arrival goes at once (a timer would cost a trip through
        // the timer driver for every request).
        if planned > Instant::now() {
            sleep_until(planned).await;
        }
        sh.active.fetch_add(1, Ordering::Relaxed);
        let mut user = vars::UserState::new(k as u32);
        flow::iteration(sh, &mut rec, &mut user, &mut lane, Some(planned)).await;
        sh.active.fetch_sub(1, Ordering::Relaxed);
    }
}
