//! Figures per step and overall: counts, failures and latency percentiles
//! from HDR histograms, throughput and bytes. `summary.json` is [`Summary`].

use hdrhistogram::Histogram;
use serde::{Deserialize, Serialize};

use super::Recording;

/// The figures of one step (or of all samples, named `TOTAL`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StepStats {
    pub name: String,
    pub samples: u64,
    pub failures: u64,
    /// Failures as a percentage of the samples.
    pub failure_pct: f64,
    pub mean_ms: f64,
    pub min_ms: f64,
    pub max_ms: f64,
    pub median_ms: f64,
    pub p90_ms: f64,
    pub p95_ms: f64,
    pub p99_ms: f64,
    /// Samples per second of the run.
    pub throughput: f64,
    pub bytes: u64,
    /// Statuses seen, with their counts (`"0"` for no response).
    pub statuses: std::collections::BTreeMap<String, u64>,
}

/// `summary.json`: what `--compare` reads.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Summary {
    pub test: String,
    pub target: String,
    pub model: String,
    pub started_unix_ms: u64,
    pub duration_s: f64,
    pub steps: Vec<StepStats>,
    pub total: StepStats,
}

/// Latencies are recorded in µs up to an hour, three significant digits.
fn histogram() -> Histogram<u64> {
    Histogram::new_with_bounds(1, 3_600_000_000, 3).expect("the bounds are constants and valid")
}

fn ms(us: u64) -> f64 {
    (us as f64 / 1000.0 * 100.0).round() / 100.0
}

fn stats<'a>(
    name: &str,
    samples: impl Iterator<Item = &'a super::Sample>,
    duration_s: f64,
) -> StepStats {
    let mut h = histogram();
    let (mut n, mut failures, mut bytes) = (0u64, 0u64, 0u64);
    // Min, max and mean exactly; percentiles from the histogram (0.1%).
    let (mut min, mut max, mut sum) = (u64::MAX, 0u64, 0u128);
    let mut statuses = std::collections::BTreeMap::new();
    for s in samples {
        n += 1;
        failures += u64::from(!s.ok());
        bytes += s.bytes;
        h.saturating_record(s.elapsed_us.max(1));
        min = min.min(s.elapsed_us);
        max = max.max(s.elapsed_us);
        sum += u128::from(s.elapsed_us);
        *statuses.entry(s.status.to_string()).or_insert(0) += 1;
    }
    let q = |q: f64| {
        if n == 0 {
            0.0
        } else {
            ms(h.value_at_quantile(q))
        }
    };
    StepStats {
        name: name.to_string(),
        samples: n,
        failures,
        failure_pct: if n == 0 {
            0.0
        } else {
            failures as f64 * 100.0 / n as f64
        },
        mean_ms: if n == 0 {
            0.0
        } else {
            ms((sum / u128::from(n)) as u64)
        },
        min_ms: if n == 0 { 0.0 } else { ms(min) },
        max_ms: ms(max),
        median_ms: q(0.5),
        p90_ms: q(0.9),
        p95_ms: q(0.95),
        p99_ms: q(0.99),
        throughput: if duration_s > 0.0 {
            n as f64 / duration_s
        } else {
            0.0
        },
        bytes,
        statuses,
    }
}

/// The summary of a recording: one row per step in flow order, and the total.
pub fn summarize(rec: &Recording) -> Summary {
    let duration_s = rec.duration_us as f64 / 1e6;
    let steps = rec
        .steps
        .iter()
        .enumerate()
        .map(|(i, name)| {
            stats(
                name,
                rec.samples.iter().filter(|s| usize::from(s.step) == i),
                duration_s,
            )
        })
        .collect();
    Summary {
        test: rec.test.clone(),
        target: rec.target.clone(),
        model: rec.model.clone(),
        started_unix_ms: rec.started_unix_ms,
        duration_s,
        steps,
        total: stats("TOTAL", rec.samples.iter(), duration_s),
    }
}
