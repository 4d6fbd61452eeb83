//! Says on stderr what is being retried and why, so that a dead or slow
//! endpoint is not a minute of silence. Each retry is one line (the failed
//! request, the error, the attempt and the wait before the next), printed
//! at once. While `apply`'s live progress block is on the terminal, the
//! block erases such lines with itself when it redraws (see
//! [`RetryNotes::take_lines_below`]) and shows the latest retry in its
//! status instead ([`RetryNotes::latest`]).

use std::io::Write;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use crate::exec::{Retry, RetryObserver};

/// How long a retry stays in the live block after it was reported.
const SHOWN_FOR: Duration = Duration::from_secs(30);

/// The retries of this process, printed or kept for the live block.
#[derive(Debug, Default)]
pub struct RetryNotes {
    live_block: AtomicBool,
    lines_below: AtomicUsize,
    latest: Mutex<Option<(String, Instant)>>,
}

/// The one instance the client reports to and the progress block reads.
pub fn notes() -> &'static RetryNotes {
    static NOTES: std::sync::OnceLock<RetryNotes> = std::sync::OnceLock::new();
    NOTES.get_or_init(RetryNotes::default)
}

impl RetryNotes {
    /// Whether a live progress block shows the retries (instead of lines).
    pub fn set_live_block(&self, on: bool) {
        self.live_block.store(on, Ordering::SeqCst);
    }

    /// How many retry lines were written under the live block since it
    /// was drawn (call with stderr locked, as the lines are written).
    pub fn take_lines_below(&self) -> usize {
        self.lines_below.swap(0, Ordering::SeqCst)
    }

    /// The latest retry, if it is recent, for the live block.
    pub fn latest(&self) -> Option<String> {
        let latest = self.latest.lock().unwrap_or_else(|p| p.into_inner());
        latest
            .as_ref()
            .filter(|(_, at)| at.elapsed() < SHOWN_FOR)
            .map(|(line, _)| line.clone())
    }
}

impl RetryObserver for &'static RetryNotes {
    fn retrying(&self, r: &Retry<'_>) {
        let text = line(r);
        let mut err = std::io::stderr().lock();
        let _ = writeln!(err, "{text}");
        if self.live_block.load(Ordering::SeqCst) {
            self.lines_below.fetch_add(1, Ordering::SeqCst);
            *self.latest.lock().unwrap_or_else(|p| p.into_inner()) = Some((text, Instant::now()));
        }
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
