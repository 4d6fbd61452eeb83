//! Says on stderr what is being retried and why, so that a dead or slow
//! endpoint is not a minute of silence: one line per retry, with the failed
//! request, the error, the attempt and the wait before the next one.

use std::io::Write;

use crate::exec::{Retry, RetryObserver};

/// Prints each retry as a progress line on stderr.
#[derive(Debug, Default)]
pub struct StderrRetries;

impl RetryObserver for StderrRetries {
    fn retrying(&self, r: &Retry<'_>) {
        let _ = writeln!(std::io::stderr(), "{}", line(r));
    }
}

/// `retrying in 1.2s (attempt 2 of 8): GET …: connection refused`.
pub fn line(r: &Retry<'_>) -> String {
    format!(
        "retrying in {:.1}s (attempt {} of {}): {}",
        r.delay.as_secs_f64(),
        r.attempt + 1,
        r.max_attempts,
        r.error
    )
}
