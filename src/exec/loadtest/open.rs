//! The open model (wrk2's): flow *k* is planned at `start + k / rate` and
//! taken, in order, by one of `connections` workers, each of which keeps its
//! own connection, so a request costs no hand-off between tasks and no
//! pool lock. The workers run on one current-thread runtime per core, as
//! `wrk` runs one event loop per thread: a request never wakes a task on
//! another thread (decision 0017 has the figures).

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use tokio::sync::Barrier;
use tokio::task::JoinHandle;
use tokio::time::{Instant, sleep_until};

use super::{LoadError, Shared, flow, http, vars};

/// Starts the workers: their share of `connections` on each of a thread
/// per core (at most one per connection), each thread with a current-thread
/// runtime. The handle ends when all are done.
pub(super) fn start(
    sh: &Arc<Shared>,
    rate: f64,
    connections: u64,
) -> Result<JoinHandle<()>, LoadError> {
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get() as u64);
    let threads = cores.min(connections).max(1);
    let next = Arc::new(AtomicU64::new(0));
    let gap = 1.0 / rate.max(1e-6);
    // A thread's runtime keeps running until every thread's workers are
    // done: a `reqwest` connection made on one runtime may serve a worker
    // on another, and works only while its runtime runs.
    let all_done = Arc::new(Barrier::new(threads as usize));
    // Every runtime first, so that a failure leaves no thread waiting.
    let runtimes = (0..threads)
        .map(|_| {
            tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
        })
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| LoadError::Runtime(e.to_string()))?;
    let mut handles = Vec::new();
    for (t, rt) in (0..threads).zip(runtimes) {
        let share = connections / threads + u64::from(t < connections % threads);
        let (sh, next, all_done) = (Arc::clone(sh), Arc::clone(&next), Arc::clone(&all_done));
        let handle = std::thread::Builder::new()
            .name(format!("loadtest-{t}"))
            .spawn(move || rt.block_on(run_share(sh, next, gap, share, all_done)))
            .map_err(|e| LoadError::Runtime(e.to_string()))?;
        handles.push(handle);
    }
    Ok(tokio::task::spawn_blocking(move || {
        for h in handles {
            // A thread that panicked has said so on stderr; the samples of
            // the others still make the report.
            let _ = h.join();
        }
    }))
}

/// One thread's workers, then the wait for the other threads'.
async fn run_share(
    sh: Arc<Shared>,
    next: Arc<AtomicU64>,
    gap: f64,
    workers: u64,
    all_done: Arc<Barrier>,
) {
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..workers {
        let (sh, next) = (Arc::clone(&sh), Arc::clone(&next));
        tasks.spawn(async move { worker(&sh, &next, gap).await });
    }
    while tasks.join_next().await.is_some() {}
    all_done.wait().await;
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
