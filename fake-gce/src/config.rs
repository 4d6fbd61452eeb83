//! Configuration of the fake: operation timing, quotas, fault injection.

use std::time::Duration;

/// The `selfLink` prefix the real API uses. Links in resources and operations
/// point there, not at the fake, like the real API: a client must build its
/// URLs from its configured endpoint, not from `selfLink`.
pub const GOOGLE_BASE: &str = "https://www.googleapis.com/compute/v1/";

/// How the fake starts. Everything marked "runtime" can be changed later
/// through [`crate::FakeHandle`].
#[derive(Debug, Clone)]
pub struct FakeConfig {
    /// TCP port on 127.0.0.1; 0 picks a free one.
    pub port: u16,
    /// How long an operation stays PENDING (runtime).
    pub op_pending: Duration,
    /// How long an operation stays RUNNING before DONE (runtime).
    pub op_running: Duration,
    /// Longest time `operations/{op}/wait` blocks before answering with the
    /// operation as it is (the real API: about 2 minutes).
    pub wait_timeout: Duration,
    /// Read requests (GET, operation wait) accepted per quota window;
    /// `None` = unlimited (runtime).
    pub read_budget_per_minute: Option<u32>,
    /// Write requests (insert, delete, actions) accepted per quota window;
    /// `None` = unlimited (runtime).
    pub write_budget_per_minute: Option<u32>,
    /// Length of the sliding quota window; one minute like the real quotas,
    /// shorter in tests.
    pub quota_window: Duration,
    /// Seed of the random generator behind ids, addresses and faults.
    pub seed: u64,
    /// Fault injection (runtime).
    pub faults: Faults,
    /// Prefix of every `selfLink` and reference the fake writes.
    pub self_link_base: String,
    /// When an inserted resource appears (both happen on the real API).
    pub appearance: Appearance,
    /// `false` (default): an insert of a name that exists or is being
    /// created answers 409 `alreadyExists` at once, and a delete of a
    /// resource being deleted 400 `resourceNotReady`. `true`: both are
    /// accepted and their operation ends with `RESOURCE_ALREADY_EXISTS` or
    /// `RESOURCE_NOT_FOUND`, as the real API also does.
    pub late_conflicts: bool,
}

/// When an inserted resource becomes visible to get and list.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Appearance {
    /// When its insert operation is DONE (default).
    #[default]
    WhenDone,
    /// As soon as the insert is accepted (an instance in `PROVISIONING`
    /// until the operation is DONE); gone again if the operation fails.
    WhenAccepted,
}

impl Default for FakeConfig {
    fn default() -> Self {
        FakeConfig {
            port: 0,
            op_pending: Duration::from_millis(5),
            op_running: Duration::from_millis(20),
            wait_timeout: Duration::from_secs(120),
            read_budget_per_minute: None,
            write_budget_per_minute: None,
            quota_window: Duration::from_secs(60),
            seed: 42,
            faults: Faults::default(),
            self_link_base: GOOGLE_BASE.to_string(),
            appearance: Appearance::WhenDone,
            late_conflicts: false,
        }
    }
}

/// Injected faults. Shares are probabilities in `0.0..=1.0`, drawn from the
/// seeded generator for every API request.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Faults {
    /// Share of requests answered with 500, 503 or 429 (one of the three,
    /// uniformly) before doing anything.
    pub error_rate: f64,
    /// Share of requests whose connection is closed without an answer, before
    /// doing anything.
    pub drop_rate: f64,
    /// Share of *mutating* requests that are carried out and whose answer is
    /// then lost (connection closed): the case `requestId` exists for.
    pub lost_response_rate: f64,
    /// Extra latency added to every request, drawn uniformly in `0..=latency`.
    pub latency: std::time::Duration,
    /// Share of new operations that finish DONE with an `error`
    /// (`QUOTA_EXCEEDED`) and no effect.
    pub op_error_rate: f64,
}
