//! [`RateBudget`]: per-minute request budgets, one for reads and one for
//! writes, as Compute Engine's quotas are. Each is a token bucket that
//! refills continuously at `per_minute / 60` tokens a second and holds at
//! most `burst` tokens; a caller that finds it empty reserves the next
//! token and sleeps until it is due, so waiters are served in order. Over
//! any 60 seconds at most `per_minute + burst` requests start: set
//! `per_minute` a little under the project's quota.

use std::sync::Mutex;
use std::time::Duration;

use tokio::time::Instant;

/// Which budget a request draws from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RequestKind {
    /// `GET`s and operation waits.
    Read,
    /// Everything that changes something.
    Write,
}

/// One budget's pace.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rate {
    /// Requests per minute, sustained (0 = unlimited).
    pub per_minute: u32,
    /// Requests that may start at once after a quiet spell (at least 1).
    pub burst: u32,
}

impl Rate {
    /// `per_minute` with a burst of a tenth of it (at least 1).
    pub fn per_minute(per_minute: u32) -> Self {
        Rate {
            per_minute,
            burst: (per_minute / 10).max(1),
        }
    }
}

/// Both budgets; `None` is unlimited.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BudgetConfig {
    /// Budget for reads.
    pub read: Option<Rate>,
    /// Budget for writes.
    pub write: Option<Rate>,
}

impl Default for BudgetConfig {
    /// Under Compute Engine's default per-project quotas.
    fn default() -> Self {
        BudgetConfig {
            read: Some(Rate::per_minute(1200)),
            write: Some(Rate::per_minute(600)),
        }
    }
}

impl BudgetConfig {
    /// No limits at all.
    pub fn unlimited() -> Self {
        BudgetConfig {
            read: None,
            write: None,
        }
    }
}

#[derive(Debug)]
struct Bucket {
    per_sec: f64,
    capacity: f64,
    tokens: f64,
    last: Instant,
}

impl Bucket {
    fn new(rate: Rate) -> Option<Self> {
        if rate.per_minute == 0 {
            return None;
        }
        let capacity = f64::from(rate.burst.max(1));
        Some(Bucket {
            per_sec: f64::from(rate.per_minute) / 60.0,
            capacity,
            tokens: capacity,
            last: Instant::now(),
        })
    }

    /// Takes a token now or reserves the next one; returns the wait.
    fn take(&mut self, now: Instant) -> Duration {
        let elapsed = now.saturating_duration_since(self.last).as_secs_f64();
        self.last = now;
        self.tokens = (self.tokens + elapsed * self.per_sec).min(self.capacity);
        self.tokens -= 1.0;
        if self.tokens >= 0.0 {
            Duration::ZERO
        } else {
            Duration::from_secs_f64(-self.tokens / self.per_sec)
        }
    }
}

/// The read and write budgets of one client.
#[derive(Debug)]
pub struct RateBudget {
    read: Option<Mutex<Bucket>>,
    write: Option<Mutex<Bucket>>,
}

impl RateBudget {
    /// Budgets as configured, full at creation.
    pub fn new(config: BudgetConfig) -> Self {
        let make = |r: Option<Rate>| r.and_then(Bucket::new).map(Mutex::new);
        RateBudget {
            read: make(config.read),
            write: make(config.write),
        }
    }

    /// Waits until a request of `kind` may start.
    pub async fn acquire(&self, kind: RequestKind) {
        let bucket = match kind {
            RequestKind::Read => &self.read,
            RequestKind::Write => &self.write,
        };
        let Some(bucket) = bucket else { return };
        let wait = bucket
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .take(Instant::now());
        if !wait.is_zero() {
            tokio::time::sleep(wait).await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    fn secs(d: Duration) -> f64 {
        (d.as_secs_f64() * 1000.0).round() / 1000.0
    }

    #[tokio::test(start_paused = true)]
    async fn paces_after_the_burst() {
        let b = RateBudget::new(BudgetConfig {
            read: None,
            write: Some(Rate {
                per_minute: 60,
                burst: 2,
            }),
        });
        let start = Instant::now();
        let mut at = Vec::new();
        for _ in 0..5 {
            b.acquire(RequestKind::Write).await;
            at.push(secs(start.elapsed()));
        }
        assert_eq!(at, [0.0, 0.0, 1.0, 2.0, 3.0]);
        // Reads are unlimited here and do not wait behind writes.
        let t = Instant::now();
        for _ in 0..100 {
            b.acquire(RequestKind::Read).await;
        }
        assert_eq!(t.elapsed(), Duration::ZERO);
    }

    #[tokio::test(start_paused = true)]
    async fn refills_continuously_up_to_burst() {
        let b = RateBudget::new(BudgetConfig {
            read: Some(Rate {
                per_minute: 120,
                burst: 3,
            }),
            write: None,
        });
        for _ in 0..3 {
            b.acquire(RequestKind::Read).await;
        }
        tokio::time::sleep(Duration::from_secs(60)).await;
        let start = Instant::now();
        for _ in 0..4 {
            b.acquire(RequestKind::Read).await;
        }
        // Only `burst` tokens accumulated during the minute of quiet.
        assert_eq!(secs(start.elapsed()), 0.5);
    }

    #[tokio::test(start_paused = true)]
    async fn concurrent_waiters_are_spread_out() {
        let b = Arc::new(RateBudget::new(BudgetConfig {
            read: Some(Rate {
                per_minute: 600,
                burst: 1,
            }),
            write: None,
        }));
        let start = Instant::now();
        let tasks: Vec<_> = (0..10)
            .map(|_| {
                let b = Arc::clone(&b);
                tokio::spawn(async move {
                    b.acquire(RequestKind::Read).await;
                    start.elapsed()
                })
            })
            .collect();
        let mut done = Vec::new();
        for t in tasks {
            done.push(secs(t.await.expect("task")));
        }
        done.sort_by(f64::total_cmp);
        let expected: Vec<f64> = (0..10).map(|i| f64::from(i) / 10.0).collect();
        assert_eq!(done, expected);
    }

    #[tokio::test(start_paused = true)]
    async fn zero_means_unlimited() {
        let b = RateBudget::new(BudgetConfig {
            read: Some(Rate {
                per_minute: 0,
                burst: 1,
            }),
            write: None,
        });
        let t = Instant::now();
        for _ in 0..1000 {
            b.acquire(RequestKind::Read).await;
        }
        assert_eq!(t.elapsed(), Duration::ZERO);
    }
}
