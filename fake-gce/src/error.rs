//! Errors in the Google JSON error shape
//! (`{"error":{"code":..,"message":..,"errors":[{"domain","reason","message"}]}}`).

use axum::http::StatusCode;
use serde_json::{Value, json};

/// An API error answer.
#[derive(Debug, Clone)]
pub struct ApiError {
    /// HTTP status.
    pub status: StatusCode,
    /// `errors[].domain` (`global`, `usageLimits`).
    pub domain: &'static str,
    /// `errors[].reason` (`notFound`, `alreadyExists`, `invalid`, ...).
    pub reason: &'static str,
    /// Human-readable message.
    pub message: String,
}

impl ApiError {
    fn new(status: StatusCode, reason: &'static str, message: impl Into<String>) -> Self {
        ApiError {
            status,
            domain: "global",
            reason,
            message: message.into(),
        }
    }

    /// 400 `invalid`.
    pub fn invalid(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "invalid", message)
    }

    /// 400 `parseError` for a body that is not JSON.
    pub fn parse(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "parseError", message)
    }

    /// 404 `notFound` for a resource key (`projects/p/zones/z/disks/d`).
    pub fn not_found(key: &str) -> Self {
        Self::new(
            StatusCode::NOT_FOUND,
            "notFound",
            format!("The resource '{key}' was not found"),
        )
    }

    /// 409 `alreadyExists`.
    pub fn already_exists(key: &str) -> Self {
        Self::new(
            StatusCode::CONFLICT,
            "alreadyExists",
            format!("The resource '{key}' already exists"),
        )
    }

    /// 412 `conditionNotMet` (stale fingerprint).
    pub fn condition_not_met(message: impl Into<String>) -> Self {
        Self::new(StatusCode::PRECONDITION_FAILED, "conditionNotMet", message)
    }

    /// 400 `resourceNotReady`.
    pub fn not_ready(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "resourceNotReady", message)
    }

    /// 400 `resourceInUseByAnotherResource`.
    pub fn in_use(key: &str, user: &str) -> Self {
        Self::new(
            StatusCode::BAD_REQUEST,
            "resourceInUseByAnotherResource",
            format!("The resource '{key}' is already being used by '{user}'"),
        )
    }

    /// 403 `rateLimitExceeded` for a per-minute quota.
    pub fn rate_limited(metric: &str) -> Self {
        ApiError {
            status: StatusCode::FORBIDDEN,
            domain: "usageLimits",
            reason: "rateLimitExceeded",
            message: format!(
                "Quota exceeded for quota metric '{metric}' and limit '{metric} per minute' \
                 of service 'compute.googleapis.com'."
            ),
        }
    }

    /// An injected transient error: 500, 503 or 429.
    pub fn injected(status: StatusCode) -> Self {
        match status {
            StatusCode::TOO_MANY_REQUESTS => ApiError {
                status,
                domain: "usageLimits",
                reason: "rateLimitExceeded",
                message: "Rate Limit Exceeded (injected by fake-gce)".into(),
            },
            StatusCode::SERVICE_UNAVAILABLE => Self::new(
                status,
                "backendError",
                "The service is currently unavailable (injected by fake-gce).",
            ),
            _ => Self::new(
                status,
                "backendError",
                "Internal error. Please try again (injected by fake-gce).",
            ),
        }
    }

    /// The JSON body.
    pub fn body(&self) -> Value {
        json!({
            "error": {
                "code": self.status.as_u16(),
                "message": self.message,
                "errors": [{
                    "domain": self.domain,
                    "reason": self.reason,
                    "message": self.message,
                }]
            }
        })
    }
}
