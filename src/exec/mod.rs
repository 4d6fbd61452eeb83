//! Talking to Compute Engine, and running load tests: the only module of
//! sdbc that does network I/O.
//!
//! - [`Endpoint`]: base URL and project (`GOOGLE_COMPUTE_CUSTOM_ENDPOINT`,
//!   `GOOGLE_CLOUD_PROJECT`), as in Terraform's Google provider;
//! - [`TokenSource`]: `GOOGLE_OAUTH_ACCESS_TOKEN` or `gcp_auth`;
//! - [`GceClient`]: sends [`ApiCall`]s inside a [`RateBudget`] and a
//!   concurrency bound, retries per [`RetryPolicy`] and [`GceError::is_retryable`],
//!   and waits for operations;
//! - [`request_id`]: the deterministic idempotency key of mutating calls;
//! - [`loadtest`]: the users of a `loadtest` declaration and their requests.
//!
//! See `docs/decisions/0006-gce-client.md` for the choices made here.

mod auth;
mod budget;
mod client;
mod endpoint;
mod error;
pub mod operation;
mod request_id;
mod retry;

#[cfg(test)]
mod http_tests;

pub mod cluster;
pub mod engine;
pub mod hosts;
pub mod reach;
pub mod ssh;
pub mod stack;
pub mod status;
pub mod swarm;

pub use auth::{ACCESS_TOKEN_ENV, AuthError, SCOPES, TokenSource, install_crypto_provider};
pub use budget::{BudgetConfig, Rate, RateBudget, RequestKind};
pub use client::{
    ApiCall, ClientConfig, ClientStats, GceClient, REQUEST_ID_PARAM, Retry, RetryObserver,
};
pub use endpoint::{DEFAULT_BASE_URL, ENDPOINT_ENV, Endpoint, PROJECT_ENV};
pub use error::{ErrorKind, GceError, OperationError, TransportKind};
pub use request_id::request_id;
pub use retry::RetryPolicy;
pub mod apply;
pub mod loadtest;
pub mod refresh;
