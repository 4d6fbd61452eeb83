//! Load-test reports: pure code over the samples a run recorded. The
//! per-step table, `summary.json`, the JMeter-compatible JTL CSV, the HTML
//! page with its SVG plots, assertions over the figures and the comparison
//! of two summaries. The run itself (network I/O) is `exec::loadtest`.

mod check;
mod compare;
mod html;
mod jtl;
mod stats;
mod svg;
mod table;
#[cfg(test)]
mod tests;

pub use check::{AssertOutcome, check_asserts};
pub use compare::compare;
pub use html::html;
pub use jtl::jtl;
pub use stats::{StepStats, Summary, summarize};
pub use table::table;

/// One request as it was sent and answered.
#[derive(Debug, Clone, PartialEq)]
pub struct Sample {
    /// Index into [`Recording::steps`].
    pub step: u16,
    pub user: u32,
    pub iteration: u32,
    /// Start since the run began, µs (the planned start for an open-model
    /// flow's first step, so waiting for a connection counts).
    pub start_us: u64,
    /// Until the whole body was read, µs.
    pub elapsed_us: u64,
    /// Until the response headers arrived, µs.
    pub ttfb_us: u64,
    /// HTTP status; 0 when there was no response.
    pub status: u16,
    /// Bytes received (status line, headers and body).
    pub bytes: u64,
    pub sent_bytes: u64,
    /// Why the sample failed; `None` when it succeeded.
    pub error: Option<Box<str>>,
    /// Users active when it ended.
    pub active: u32,
}

impl Sample {
    pub fn ok(&self) -> bool {
        self.error.is_none()
    }
}

/// What one run recorded.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Recording {
    pub test: String,
    pub target: String,
    /// `closed, 20 users` / `open, 100/s`.
    pub model: String,
    pub steps: Vec<String>,
    /// Wall-clock start, milliseconds since the Unix epoch.
    pub started_unix_ms: u64,
    pub duration_us: u64,
    pub samples: Vec<Sample>,
}
