//! [`EngineError`]: what can go wrong talking to a Docker engine. Every
//! variant names the host.

use std::time::Duration;

/// Errors from the Engine API client.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EngineError {
    /// No connection could be made, or it broke before an answer.
    #[error("host `{host}`: the Docker engine does not answer: {message}")]
    Unreachable { host: String, message: String },
    /// The request took longer than the client's timeout.
    #[error("host `{host}`: the Docker engine did not answer {method} {path} within {}s", after.as_secs())]
    Timeout {
        host: String,
        method: String,
        path: String,
        after: Duration,
    },
    /// The engine answered with an HTTP error.
    #[error("host `{host}`: {method} {path}: HTTP {status}: {message}")]
    Api {
        host: String,
        method: String,
        path: String,
        status: u16,
        /// The engine's `message`, or the start of a non-JSON body.
        message: String,
    },
    /// The answer was not the JSON expected.
    #[error("host `{host}`: {method} {path}: unexpected answer: {message}")]
    Decode {
        host: String,
        method: String,
        path: String,
        message: String,
    },
}

/// Longest part of a non-JSON error body kept in a message.
const BODY_EXCERPT: usize = 300;

impl EngineError {
    /// An HTTP error answer; the engine's JSON `{"message": ...}` if it is one.
    pub(super) fn api(host: &str, method: &str, path: &str, status: u16, body: &[u8]) -> Self {
        let message = serde_json::from_slice::<serde_json::Value>(body)
            .ok()
            .and_then(|v| v.get("message")?.as_str().map(str::to_string))
            .unwrap_or_else(|| {
                String::from_utf8_lossy(body)
                    .trim()
                    .chars()
                    .take(BODY_EXCERPT)
                    .collect()
            });
        EngineError::Api {
            host: host.to_string(),
            method: method.to_string(),
            path: path.to_string(),
            status,
            message,
        }
    }

    /// The host the error happened on.
    pub fn host(&self) -> &str {
        match self {
            EngineError::Unreachable { host, .. }
            | EngineError::Timeout { host, .. }
            | EngineError::Api { host, .. }
            | EngineError::Decode { host, .. } => host,
        }
    }

    /// The HTTP status, for an error answer.
    pub fn status(&self) -> Option<u16> {
        match self {
            EngineError::Api { status, .. } => Some(*status),
            _ => None,
        }
    }
}
