//! Running a load test: the only network I/O of load tests, next to the
//! Compute Engine client in `exec`. Users are tokio tasks; their plain-HTTP
//! requests go over HTTP/1.1 connections of our own (`wire`), pooled for
//! the closed model and owned by the open model's workers (`http`). Each
//! user keeps its own cookies and extracted values. Every request becomes a [`Sample`], sent in batches to a collector
//! that also reports live progress once a second. The report is built from
//! the samples by [`crate::loadreport`].
//!
//! - closed model: `users` tasks, started evenly over `ramp`, each running
//!   the flow `iterations` times or until `duration` ends;
//! - open model (`open`): flows planned at `rate` per second on a fixed
//!   schedule and taken in order by `connections` workers, each with its
//!   own connection, on a current-thread runtime per core; a flow that
//!   waits for a free worker still counts its first latency from its
//!   planned start (no coordinated omission).

mod extract;
mod flow;
mod http;
mod open;
mod vars;
mod wire;

use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use tokio::sync::mpsc;
use tokio::time::{Instant, sleep_until};

use crate::loadreport::{Recording, Sample};
use crate::model::loadtest::{LoadModel, LoadTest};

pub use extract::pointer_all;

/// What the run looks like right now (for a terminal's progress line).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Progress {
    pub elapsed_s: f64,
    pub active: u32,
    pub requests: u64,
    pub errors: u64,
    /// Requests finished in the last second.
    pub per_second: u64,
    /// p95 latency of the last second's requests, ms.
    pub p95_ms: f64,
}

#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    #[error("the target `{0}` is not an http:// or https:// URL")]
    BadTarget(String),
    #[error("cannot build the HTTP client: {0}")]
    Client(String),
    #[error("cannot start the load's threads: {0}")]
    Runtime(String),
}

/// What every user task shares.
pub(crate) struct Shared {
    pub test: LoadTest,
    pub base: String,
    /// Where requests to a plain `http://` target go (their own connections).
    pub plain: Option<http::Plain>,
    /// For `https://` targets and steps with a full URL elsewhere.
    pub client: reqwest::Client,
    pub start: Instant,
    pub deadline: Option<Instant>,
    pub active: AtomicU32,
    pub samples: mpsc::UnboundedSender<Vec<Sample>>,
    /// Per step, the compiled regular expressions of its extractions.
    pub regexes: Vec<Vec<Option<regex::Regex>>>,
}

impl Shared {
    fn past_deadline(&self, now: Instant) -> bool {
        self.deadline.is_some_and(|d| now >= d)
    }

    fn recorder(&self) -> Recorder {
        Recorder {
            tx: self.samples.clone(),
            buf: Vec::new(),
            last: Instant::now(),
        }
    }
}

/// One task's samples on their way to the collector, sent in batches (a
/// message per request would wake the collector for every request).
pub(crate) struct Recorder {
    tx: mpsc::UnboundedSender<Vec<Sample>>,
    buf: Vec<Sample>,
    last: Instant,
}

impl Recorder {
    const BATCH: usize = 64;
    const EVERY: Duration = Duration::from_millis(100);

    fn push(&mut self, s: Sample) {
        self.buf.push(s);
        if self.buf.len() >= Self::BATCH || self.last.elapsed() >= Self::EVERY {
            self.flush();
        }
    }

    fn flush(&mut self) {
        if !self.buf.is_empty() {
            // The collector outlives every task; a closed channel means the
            // run was stopped and the samples are not wanted.
            let _ = self.tx.send(std::mem::take(&mut self.buf));
        }
        self.last = Instant::now();
    }
}

impl Drop for Recorder {
    fn drop(&mut self) {
        self.flush();
    }
}

/// Runs the test against `target` (a base URL), calling `progress` about
/// once a second, and returns every sample.
pub async fn run(
    test: &LoadTest,
    target: &str,
    mut progress: impl FnMut(&Progress),
) -> Result<Recording, LoadError> {
    if !(target.starts_with("http://") || target.starts_with("https://")) {
        return Err(LoadError::BadTarget(target.to_string()));
    }
    crate::exec::install_crypto_provider();
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(Duration::from_millis(test.timeout_ms.max(1)))
        .pool_max_idle_per_host(usize::MAX)
        .tcp_nodelay(true)
        .build()
        .map_err(|e| LoadError::Client(e.to_string()))?;
    let (tx, mut rx) = mpsc::unbounded_channel();
    let start = Instant::now();
    let started_unix_ms = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64);
    let shared = Arc::new(Shared {
        test: test.clone(),
        base: target.trim_end_matches('/').to_string(),
        plain: http::Plain::of(target),
        client,
        start,
        deadline: test.duration_ms.map(|d| start + Duration::from_millis(d)),
        active: AtomicU32::new(0),
        samples: tx,
        regexes: test
            .steps
            .iter()
            .map(|s| extract::compile(&s.extracts))
            .collect(),
    });
    let driver = match test.model {
        LoadModel::Closed { users } => tokio::spawn(closed(Arc::clone(&shared), users)),
        LoadModel::Open { rate, connections } => open::start(&shared, rate, connections)?,
    };
    // Only the tasks hold senders now: the channel closes when the last ends.
    let model = match test.model {
        LoadModel::Closed { users } => format!("closed, {users} users"),
        LoadModel::Open { rate, connections } => {
            format!("open, {rate}/s, at most {connections} in flight")
        }
    };
    drop(shared);
    let mut samples = Vec::new();
    let mut live = Live::default();
    let mut tick = tokio::time::interval_at(start + Duration::from_secs(1), Duration::from_secs(1));
    loop {
        tokio::select! {
            batch = rx.recv() => match batch {
                Some(batch) => {
                    batch.iter().for_each(|s| live.add(s));
                    samples.extend(batch);
                }
                None => break,
            },
            _ = tick.tick() => progress(&live.take(start)),
        }
    }
    let _ = driver.await;
    progress(&live.take(start));
    Ok(Recording {
        test: test.name.clone(),
        target: target.to_string(),
        model,
        steps: test.steps.iter().map(|s| s.name.clone()).collect(),
        started_unix_ms,
        duration_us: start.elapsed().as_micros() as u64,
        samples,
    })
}

/// Starts the closed model's users, each at its time, and waits for them.
async fn closed(sh: Arc<Shared>, users: u64) {
    let mut tasks = tokio::task::JoinSet::new();
    for id in 0..users {
        let offset = sh.test.ramp_ms * id / users.max(1);
        let sh = Arc::clone(&sh);
        tasks.spawn(async move {
            sleep_until(sh.start + Duration::from_millis(offset)).await;
            closed_user(&sh, id as u32).await;
        });
    }
    while tasks.join_next().await.is_some() {}
}

async fn closed_user(sh: &Arc<Shared>, id: u32) {
    if sh.past_deadline(Instant::now()) {
        return;
    }
    sh.active.fetch_add(1, Ordering::Relaxed);
    let mut rec = sh.recorder();
    let mut user = vars::UserState::new(id);
    let mut lane = http::Lane::pooled();
    loop {
        let more = match sh.deadline {
            Some(d) => Instant::now() < d,
            None => u64::from(user.iteration) < sh.test.iterations,
        };
        if !more {
            break;
        }
        flow::iteration(sh, &mut rec, &mut user, &mut lane, None).await;
        user.iteration += 1;
    }
    sh.active.fetch_sub(1, Ordering::Relaxed);
}

/// Running counts for the progress line.
#[derive(Default)]
struct Live {
    requests: u64,
    errors: u64,
    active: u32,
    window: Vec<u64>,
}

impl Live {
    fn add(&mut self, s: &Sample) {
        self.requests += 1;
        self.errors += u64::from(!s.ok());
        self.active = s.active;
        self.window.push(s.elapsed_us);
    }

    fn take(&mut self, start: Instant) -> Progress {
        self.window.sort_unstable();
        let p95 = match self.window.len() {
            0 => 0.0,
            n => self.window[(n - 1) * 95 / 100] as f64 / 1000.0,
        };
        let p = Progress {
            elapsed_s: start.elapsed().as_secs_f64(),
            active: self.active,
            requests: self.requests,
            errors: self.errors,
            per_second: self.window.len() as u64,
            p95_ms: p95,
        };
        self.window.clear();
        p
    }
}
