//! [`GceError`]: what can go wrong talking to Compute Engine, parsed from
//! Google's JSON error shape, and which of it is worth retrying.

use std::fmt;
use std::time::Duration;

use serde_json::Value;

use super::auth::AuthError;

/// How a request failed below HTTP.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TransportKind {
    /// The connection could not be made (the request was never sent).
    Connect,
    /// The request or the response timed out.
    Timeout,
    /// The connection broke while sending or receiving.
    Request,
}

impl fmt::Display for TransportKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            TransportKind::Connect => "could not connect",
            TransportKind::Timeout => "timed out",
            TransportKind::Request => "connection failed",
        })
    }
}

/// What kind of failure an error is, for reports and `--json` output.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum ErrorKind {
    /// A quota or rate limit was exceeded.
    Quota,
    /// The resource (or one it names) does not exist.
    NotFound,
    /// The resource exists already, is in use, or changed meanwhile.
    Conflict,
    /// An operation or a request took too long.
    Timeout,
    /// Credentials missing or not allowed.
    Denied,
    /// The request was refused as invalid.
    Invalid,
    /// The service could not be reached or failed.
    Unavailable,
    /// The resource is not this stack's (another owner's mark, or none).
    NotOwned,
    /// The plan refused the change (it would lose data, for one).
    Refused,
    /// Nothing in this version runs such a step.
    Unsupported,
    Other,
}

/// One entry of a finished operation's `error.errors[]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OperationError {
    /// E.g. `QUOTA_EXCEEDED`.
    pub code: String,
    /// Human-readable explanation.
    pub message: String,
}

/// Errors from the Compute Engine client.
#[derive(Debug, thiserror::Error)]
pub enum GceError {
    /// The API answered with an HTTP error.
    #[error("{method} {path}: HTTP {status}{}: {message}", reasons_suffix(reasons))]
    Api {
        /// HTTP method of the call.
        method: String,
        /// Path of the call, relative to the endpoint.
        path: String,
        /// HTTP status.
        status: u16,
        /// `error.message`, or the start of a non-JSON body.
        message: String,
        /// `error.errors[].reason` (and `details[].reason`).
        reasons: Vec<String>,
        /// The `Retry-After` header, if any.
        retry_after: Option<Duration>,
    },
    /// An operation finished (DONE) with errors.
    #[error(
        "operation {operation}{} failed: {}",
        target_suffix(target),
        op_errors(errors)
    )]
    Operation {
        /// The operation's name.
        operation: String,
        /// The operation's `targetLink`, if any.
        target: Option<String>,
        /// Its `error.errors[]`.
        errors: Vec<OperationError>,
    },
    /// The request did not get an HTTP answer.
    #[error("{method} {path}: {kind}: {message}")]
    Transport {
        /// HTTP method of the call.
        method: String,
        /// Path of the call.
        path: String,
        /// What kind of failure.
        kind: TransportKind,
        /// Details from the HTTP library.
        message: String,
    },
    /// A success answer that is not JSON.
    #[error("{method} {path}: response is not valid JSON: {message}")]
    Decode {
        /// HTTP method of the call.
        method: String,
        /// Path of the call.
        path: String,
        /// The parser's complaint.
        message: String,
    },
    /// No access token could be obtained.
    #[error(transparent)]
    Auth(#[from] AuthError),
    /// An operation was still not DONE when we gave up waiting.
    #[error("operation {operation} did not finish within {waited:?}")]
    OperationTimeout {
        /// The operation's name.
        operation: String,
        /// How long we waited.
        waited: Duration,
    },
    /// The call could not be made as asked (bad path, no project, ...).
    #[error("{0}")]
    Invalid(String),
}

fn reasons_suffix(reasons: &[String]) -> String {
    if reasons.is_empty() {
        String::new()
    } else {
        format!(" ({})", reasons.join(", "))
    }
}

fn target_suffix(target: &Option<String>) -> String {
    target
        .as_ref()
        .map(|t| format!(" on {t}"))
        .unwrap_or_default()
}

fn op_errors(errors: &[OperationError]) -> String {
    let parts: Vec<String> = errors
        .iter()
        .map(|e| format!("{}: {}", e.code, e.message))
        .collect();
    parts.join("; ")
}

const QUOTA_REASONS: [&str; 2] = ["quotaExceeded", "QUOTA_EXCEEDED"];

const RATE_LIMIT_REASONS: [&str; 3] = [
    "rateLimitExceeded",
    "userRateLimitExceeded",
    "RATE_LIMIT_EXCEEDED",
];

impl GceError {
    /// Builds the error for an HTTP error answer from its status and body.
    pub fn from_response(
        method: &str,
        path: &str,
        status: u16,
        body: &[u8],
        retry_after: Option<Duration>,
    ) -> Self {
        let (message, reasons) = match serde_json::from_slice::<Value>(body) {
            Ok(v) if v.get("error").is_some_and(Value::is_object) => parse_error_body(&v["error"]),
            _ => {
                let text = String::from_utf8_lossy(body);
                let mut text: String = text.trim().chars().take(200).collect();
                if text.is_empty() {
                    text = "(empty body)".to_string();
                }
                (text, Vec::new())
            }
        };
        GceError::Api {
            method: method.to_string(),
            path: path.to_string(),
            status,
            message,
            reasons,
            retry_after,
        }
    }

    /// Builds the error for a finished operation, if it carries errors.
    pub fn from_operation(op: &Value) -> Option<Self> {
        let errors: Vec<OperationError> = op
            .pointer("/error/errors")
            .and_then(Value::as_array)
            .map(|list| {
                list.iter()
                    .map(|e| OperationError {
                        code: str_at(e, "code").unwrap_or("UNKNOWN").to_string(),
                        message: str_at(e, "message").unwrap_or("").to_string(),
                    })
                    .collect()
            })
            .unwrap_or_default();
        if errors.is_empty() {
            return None;
        }
        Some(GceError::Operation {
            operation: str_at(op, "name").unwrap_or("?").to_string(),
            target: str_at(op, "targetLink").map(str::to_string),
            errors,
        })
    }

    /// The HTTP status, for API errors.
    pub fn status(&self) -> Option<u16> {
        match self {
            GceError::Api { status, .. } => Some(*status),
            _ => None,
        }
    }

    /// The error reasons, for API errors.
    pub fn reasons(&self) -> &[String] {
        match self {
            GceError::Api { reasons, .. } => reasons,
            _ => &[],
        }
    }

    fn has_reason(&self, wanted: &[&str]) -> bool {
        self.reasons().iter().any(|r| wanted.contains(&r.as_str()))
    }

    /// Whether trying again later can succeed: 429, 5xx, 403 rate limits,
    /// 409 `operationInProgress`, 400 `resourceNotReady`, 412 (after
    /// refetching, see [`needs_refetch`](Self::needs_refetch)), and
    /// failures below HTTP. A failed operation is not retryable: the API
    /// would hand back the same operation for the same `requestId`.
    pub fn is_retryable(&self) -> bool {
        match self {
            GceError::Api { status, .. } => match status {
                429 | 500..=599 | 412 => true,
                403 => self.has_reason(&RATE_LIMIT_REASONS),
                409 => self.has_reason(&["operationInProgress"]),
                400 => self.has_reason(&["resourceNotReady"]),
                _ => false,
            },
            GceError::Transport { .. } => true,
            _ => false,
        }
    }

    /// 412 `conditionNotMet`: a fingerprint was stale; the caller must
    /// refetch the resource and rebuild the call before retrying.
    pub fn needs_refetch(&self) -> bool {
        self.status() == Some(412)
    }

    /// Whether the server may have acted on the request even though it
    /// failed (5xx or a broken connection): a mutating retry is only safe
    /// with a `requestId`.
    pub fn outcome_unknown(&self) -> bool {
        match self {
            GceError::Api { status, .. } => *status >= 500,
            GceError::Transport { kind, .. } => *kind != TransportKind::Connect,
            _ => false,
        }
    }

    /// What kind of failure this is.
    pub fn kind(&self) -> ErrorKind {
        match self {
            GceError::Api { status, .. } => match status {
                429 => ErrorKind::Quota,
                403 if self.has_reason(&RATE_LIMIT_REASONS) || self.has_reason(&QUOTA_REASONS) => {
                    ErrorKind::Quota
                }
                401 | 403 => ErrorKind::Denied,
                404 => ErrorKind::NotFound,
                409 | 412 => ErrorKind::Conflict,
                400..=499 => ErrorKind::Invalid,
                _ => ErrorKind::Unavailable,
            },
            GceError::Operation { errors, .. } => {
                let has = |words: &[&str]| {
                    errors
                        .iter()
                        .any(|e| words.iter().any(|w| e.code.contains(w)))
                };
                if has(&["QUOTA", "RATE_LIMIT"]) {
                    ErrorKind::Quota
                } else if has(&["NOT_FOUND"]) {
                    ErrorKind::NotFound
                } else if has(&["ALREADY_EXISTS", "IN_USE", "CONFLICT"]) {
                    ErrorKind::Conflict
                } else {
                    ErrorKind::Other
                }
            }
            GceError::Transport { kind, .. } => match kind {
                TransportKind::Timeout => ErrorKind::Timeout,
                _ => ErrorKind::Unavailable,
            },
            GceError::OperationTimeout { .. } => ErrorKind::Timeout,
            GceError::Auth(_) => ErrorKind::Denied,
            GceError::Decode { .. } => ErrorKind::Unavailable,
            GceError::Invalid(_) => ErrorKind::Invalid,
        }
    }

    fn has_operation_code(&self, wanted: &str) -> bool {
        matches!(self, GceError::Operation { errors, .. } if errors.iter().any(|e| e.code == wanted))
    }

    /// 404, or an operation that ended with `RESOURCE_NOT_FOUND` (a delete
    /// of something another call deleted meanwhile).
    pub fn is_not_found(&self) -> bool {
        self.status() == Some(404) || self.has_operation_code("RESOURCE_NOT_FOUND")
    }

    /// 409 `alreadyExists`, or an insert whose operation ended with
    /// `RESOURCE_ALREADY_EXISTS` (the name was taken while it was queued).
    pub fn is_already_exists(&self) -> bool {
        (self.status() == Some(409) && self.has_reason(&["alreadyExists"]))
            || self.has_operation_code("RESOURCE_ALREADY_EXISTS")
    }

    /// The server's `Retry-After`, if it sent one.
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            GceError::Api { retry_after, .. } => *retry_after,
            _ => None,
        }
    }

    pub(crate) fn from_reqwest(method: &str, path: &str, err: &reqwest::Error) -> Self {
        let kind = if err.is_timeout() {
            TransportKind::Timeout
        } else if err.is_connect() {
            TransportKind::Connect
        } else {
            TransportKind::Request
        };
        let mut message = err.to_string();
        let mut source = std::error::Error::source(err);
        while let Some(s) = source {
            message.push_str(": ");
            message.push_str(&s.to_string());
            source = s.source();
        }
        GceError::Transport {
            method: method.to_string(),
            path: path.to_string(),
            kind,
            message,
        }
    }
}

fn str_at<'a>(v: &'a Value, key: &str) -> Option<&'a str> {
    v.get(key).and_then(Value::as_str)
}

fn parse_error_body(err: &Value) -> (String, Vec<String>) {
    let message = str_at(err, "message").unwrap_or("(no message)").to_string();
    let mut reasons: Vec<String> = Vec::new();
    let entries = ["errors", "details"]
        .iter()
        .filter_map(|k| err.get(*k).and_then(Value::as_array))
        .flatten();
    for e in entries {
        if let Some(r) = str_at(e, "reason")
            && !reasons.iter().any(|x| x == r)
        {
            reasons.push(r.to_string());
        }
    }
    (message, reasons)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn api(status: u16, reason: Option<&str>) -> GceError {
        let mut err = json!({"code": status, "message": "boom"});
        if let Some(r) = reason {
            err["errors"] = json!([{"message": "boom", "domain": "global", "reason": r}]);
        }
        let body = json!({ "error": err }).to_string();
        GceError::from_response("POST", "projects/p/x", status, body.as_bytes(), None)
    }

    #[test]
    fn parses_google_error_shape() {
        let body = br#"{"error":{"code":403,"message":"Rate Limit Exceeded","errors":[{"message":"Rate Limit Exceeded","domain":"usageLimits","reason":"rateLimitExceeded"}],"details":[{"@type":"type.googleapis.com/google.rpc.ErrorInfo","reason":"RATE_LIMIT_EXCEEDED"}]}}"#;
        let e = GceError::from_response("GET", "projects/p/zones/z/instances", 403, body, None);
        assert_eq!(e.status(), Some(403));
        assert_eq!(e.reasons(), ["rateLimitExceeded", "RATE_LIMIT_EXCEEDED"]);
        assert_eq!(
            e.to_string(),
            "GET projects/p/zones/z/instances: HTTP 403 (rateLimitExceeded, RATE_LIMIT_EXCEEDED): \
             Rate Limit Exceeded"
        );
    }

    #[test]
    fn non_json_body_is_kept_short() {
        let body = "<html>".to_string() + &"x".repeat(500);
        let e = GceError::from_response("GET", "p", 502, body.as_bytes(), None);
        let GceError::Api {
            message, reasons, ..
        } = &e
        else {
            panic!("api error expected");
        };
        assert_eq!(message.len(), 200);
        assert!(reasons.is_empty());
        assert!(e.is_retryable());
        let e = GceError::from_response("GET", "p", 500, b"", None);
        assert!(e.to_string().ends_with("(empty body)"));
    }

    #[test]
    fn classification() {
        let retryable = [
            api(429, None),
            api(500, None),
            api(503, Some("backendError")),
            api(403, Some("rateLimitExceeded")),
            api(403, Some("userRateLimitExceeded")),
            api(409, Some("operationInProgress")),
            api(400, Some("resourceNotReady")),
            api(412, Some("conditionNotMet")),
        ];
        for e in &retryable {
            assert!(e.is_retryable(), "{e}");
        }
        let fatal = [
            api(400, Some("invalid")),
            api(403, Some("forbidden")),
            api(404, Some("notFound")),
            api(409, Some("alreadyExists")),
            api(401, None),
        ];
        for e in &fatal {
            assert!(!e.is_retryable(), "{e}");
        }
        assert!(api(412, Some("conditionNotMet")).needs_refetch());
        assert!(!api(429, None).needs_refetch());
        assert!(api(404, None).is_not_found());
        assert!(api(409, Some("alreadyExists")).is_already_exists());
        // The same conflicts reported at the end of an operation.
        let op = |code: &str| {
            GceError::from_operation(&json!({"name": "op", "status": "DONE",
                "error": {"errors": [{"code": code, "message": "m"}]}}))
            .expect("an operation error")
        };
        assert!(op("RESOURCE_ALREADY_EXISTS").is_already_exists());
        assert!(op("RESOURCE_NOT_FOUND").is_not_found());
        assert!(!op("QUOTA_EXCEEDED").is_already_exists() && !op("QUOTA_EXCEEDED").is_not_found());
        assert!(api(503, None).outcome_unknown() && !api(429, None).outcome_unknown());
        let t = |kind| GceError::Transport {
            method: "GET".into(),
            path: "p".into(),
            kind,
            message: "x".into(),
        };
        assert!(t(TransportKind::Timeout).is_retryable());
        assert!(!t(TransportKind::Connect).outcome_unknown());
        assert!(t(TransportKind::Request).outcome_unknown());
    }

    #[test]
    fn done_operation_with_quota_error() {
        let op = json!({
            "kind": "compute#operation", "name": "op-1", "status": "DONE",
            "targetLink": "https://x/projects/p/zones/z/instances/vm",
            "error": {"errors": [{"code": "QUOTA_EXCEEDED", "message": "Quota 'CPUS' exceeded."}]}
        });
        let e = GceError::from_operation(&op).expect("has errors");
        assert!(!e.is_retryable());
        assert_eq!(
            e.to_string(),
            "operation op-1 on https://x/projects/p/zones/z/instances/vm failed: \
             QUOTA_EXCEEDED: Quota 'CPUS' exceeded."
        );
        assert!(GceError::from_operation(&json!({"name": "ok", "status": "DONE"})).is_none());
    }
}
