//! Assertions over a summary: each limit with the figure it was held to.

use super::{StepStats, Summary};
use crate::model::loadtest::{Assertion, Limit, Metric};

/// One assertion and how the run did.
#[derive(Debug, Clone, PartialEq)]
pub struct AssertOutcome {
    /// `p95 of login` or `errors`.
    pub what: String,
    /// The figure measured, as shown (`612.0 ms`, `0.25%`).
    pub figure: String,
    /// The limit, as shown, with its comparison (`< 500 ms`, `<= 0 errors`).
    pub limit: String,
    pub passed: bool,
}

fn latency(s: &StepStats, m: Metric) -> f64 {
    match m {
        Metric::Mean => s.mean_ms,
        Metric::Median => s.median_ms,
        Metric::P90 => s.p90_ms,
        Metric::P95 => s.p95_ms,
        Metric::P99 => s.p99_ms,
        Metric::Max | Metric::Errors => s.max_ms,
    }
}

/// Every assertion against the summary (an unknown step counts as failed).
pub fn check_asserts(summary: &Summary, asserts: &[Assertion]) -> Vec<AssertOutcome> {
    asserts
        .iter()
        .map(|a| {
            let stats = match &a.step {
                Some(name) => summary.steps.iter().find(|s| &s.name == name),
                None => Some(&summary.total),
            };
            let what = match &a.step {
                Some(step) => format!("{} of {step}", a.metric.word()),
                None => a.metric.word().to_string(),
            };
            let Some(s) = stats else {
                return AssertOutcome {
                    what,
                    figure: "no samples".into(),
                    limit: String::new(),
                    passed: false,
                };
            };
            let (figure, limit, passed) = match a.limit {
                Limit::Millis(max) => {
                    let v = latency(s, a.metric);
                    (format!("{v:.1} ms"), format!("< {max} ms"), v < max as f64)
                }
                Limit::Percent(max) => (
                    format!("{:.3}%", s.failure_pct),
                    format!("< {max}%"),
                    s.failure_pct < max,
                ),
                Limit::Count(max) => (
                    format!("{} errors", s.failures),
                    format!("<= {max} errors"),
                    s.failures <= max,
                ),
            };
            AssertOutcome {
                what,
                figure,
                limit,
                passed,
            }
        })
        .collect()
}
