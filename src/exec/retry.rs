//! [`RetryPolicy`]: capped exponential backoff with full jitter.
//!
//! Retry `n` (0-based) waits a uniformly random time in
//! `[0, min(cap, base * 2^n)]` ("full jitter"), which spreads out clients
//! that failed together instead of having them retry in lock-step. A
//! server's `Retry-After` raises the delay to at least that (up to `cap`).
//! The delay is a pure function of the attempt and a random unit value, so
//! tests check it without sleeping.

use std::time::Duration;

/// How often and how patiently to retry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Ceiling of the first retry's delay.
    pub base: Duration,
    /// Largest delay ever waited.
    pub cap: Duration,
    /// Total attempts including the first (1 = never retry).
    pub max_attempts: u32,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            base: Duration::from_millis(500),
            cap: Duration::from_secs(32),
            max_attempts: 8,
        }
    }
}

impl RetryPolicy {
    /// A policy that never retries.
    pub fn none() -> Self {
        RetryPolicy {
            max_attempts: 1,
            ..Self::default()
        }
    }

    /// The upper bound of retry `n`'s delay: `min(cap, base * 2^n)`.
    pub fn ceiling(&self, retry: u32) -> Duration {
        let factor = 1u32.checked_shl(retry.min(31)).unwrap_or(u32::MAX);
        self.base.saturating_mul(factor).min(self.cap)
    }

    /// Retry `n`'s delay for a random `unit` in `[0, 1)`, raised to the
    /// server's `retry_after` if that is longer (never beyond `cap`).
    pub fn delay(&self, retry: u32, unit: f64, retry_after: Option<Duration>) -> Duration {
        let unit = if unit.is_finite() {
            unit.clamp(0.0, 1.0)
        } else {
            0.0
        };
        let jittered = self.ceiling(retry).mul_f64(unit);
        match retry_after {
            Some(ra) => jittered.max(ra.min(self.cap)),
            None => jittered,
        }
    }

    /// Whether attempt number `attempt` (1-based, just failed) may be
    /// followed by another.
    pub fn allows_another(&self, attempt: u32) -> bool {
        attempt < self.max_attempts
    }

    /// The delays a caller would wait before each retry, drawn from a
    /// seeded generator (for tests and for explaining a policy).
    pub fn delays(&self, seed: u64) -> impl Iterator<Item = Duration> + use<> {
        let policy = *self;
        let mut rng = fastrand::Rng::with_seed(seed);
        (0..policy.max_attempts.saturating_sub(1)).map(move |n| policy.delay(n, rng.f64(), None))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy() -> RetryPolicy {
        RetryPolicy {
            base: Duration::from_millis(100),
            cap: Duration::from_secs(2),
            max_attempts: 10,
        }
    }

    #[test]
    fn ceilings_double_then_cap() {
        let p = policy();
        let ms: Vec<u128> = (0..8).map(|n| p.ceiling(n).as_millis()).collect();
        assert_eq!(ms, [100, 200, 400, 800, 1600, 2000, 2000, 2000]);
        assert_eq!(
            p.ceiling(200),
            p.cap,
            "huge attempt numbers do not overflow"
        );
    }

    #[test]
    fn full_jitter_stays_in_bounds_and_varies() {
        let p = policy();
        for seed in 0..50 {
            let d: Vec<Duration> = p.delays(seed).collect();
            assert_eq!(d.len(), 9);
            for (n, delay) in d.iter().enumerate() {
                let n = u32::try_from(n).expect("small");
                assert!(*delay <= p.ceiling(n), "seed {seed} retry {n}: {delay:?}");
            }
        }
        let a: Vec<_> = p.delays(1).collect();
        assert_eq!(a, p.delays(1).collect::<Vec<_>>(), "seeded: reproducible");
        assert_ne!(a, p.delays(2).collect::<Vec<_>>(), "jittered: not constant");
        assert_eq!(p.delay(3, 0.0, None), Duration::ZERO);
        assert_eq!(p.delay(3, 0.5, None), Duration::from_millis(400));
    }

    #[test]
    fn retry_after_raises_the_delay_up_to_cap() {
        let p = policy();
        let ra = Some(Duration::from_secs(1));
        assert_eq!(p.delay(0, 0.0, ra), Duration::from_secs(1));
        assert_eq!(p.delay(0, 0.0, Some(Duration::from_secs(60))), p.cap);
        assert!(p.allows_another(9) && !p.allows_another(10));
        assert!(!RetryPolicy::none().allows_another(1));
    }
}
