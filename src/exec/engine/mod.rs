//! A small Docker Engine API client: JSON over HTTP/1.1 on any byte
//! stream a [`Connector`] opens (a Unix socket on this machine, or a
//! `direct-streamlocal` channel of an SSH session to a VM's
//! `/run/docker.sock`, see [`crate::exec::ssh`]).
//!
//! One connection per request: an SSH channel is cheap to open, and a
//! request never waits behind another one's response. Errors name the
//! host, so a failure in a many-host run says where it happened.
//! See `docs/decisions/0015-ssh-and-engine-api.md`.

mod error;

use std::future::Future;
use std::path::PathBuf;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use http_body_util::{BodyExt, Full};
use hyper::body::Bytes;
use hyper_util::rt::TokioIo;
use serde_json::Value;
use tokio::io::{AsyncRead, AsyncWrite};

pub use error::EngineError;

/// The Engine API version sdbc speaks (Docker Engine 20.10 and later).
pub const API_VERSION: &str = "v1.41";

/// How long one request may take before the host is reported as not
/// answering.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);

/// A byte stream to an engine.
pub trait EngineStream: AsyncRead + AsyncWrite + Unpin + Send + 'static {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send + 'static> EngineStream for T {}

/// A boxed future of a new stream.
pub type ConnectFuture<'a> =
    Pin<Box<dyn Future<Output = std::io::Result<Box<dyn EngineStream>>> + Send + 'a>>;

/// Opens a new byte stream to one engine.
pub trait Connector: Send + Sync {
    fn connect(&self) -> ConnectFuture<'_>;
}

/// An engine's Unix socket on this machine.
#[derive(Debug, Clone)]
pub struct UnixConnector(pub PathBuf);

impl Connector for UnixConnector {
    fn connect(&self) -> ConnectFuture<'_> {
        Box::pin(async move {
            let stream = tokio::net::UnixStream::connect(&self.0).await?;
            Ok(Box::new(stream) as Box<dyn EngineStream>)
        })
    }
}

/// A client for one engine, named after the host it runs on.
#[derive(Clone)]
pub struct Engine {
    host: String,
    connector: Arc<dyn Connector>,
    timeout: Duration,
}

impl std::fmt::Debug for Engine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Engine").field("host", &self.host).finish()
    }
}

impl Engine {
    pub fn new(host: impl Into<String>, connector: Arc<dyn Connector>) -> Engine {
        Engine {
            host: host.into(),
            connector,
            timeout: DEFAULT_TIMEOUT,
        }
    }

    /// The same engine with another per-request timeout.
    pub fn with_timeout(mut self, timeout: Duration) -> Engine {
        self.timeout = timeout;
        self
    }

    /// The host this engine runs on (used in every error).
    pub fn host(&self) -> &str {
        &self.host
    }

    /// `GET path` (relative to the API version, e.g. `/info`), as JSON.
    pub async fn get(&self, path: &str) -> Result<Value, EngineError> {
        self.json("GET", path, None).await
    }

    /// `POST path` with a JSON body; the answer as JSON (`null` when empty).
    pub async fn post(&self, path: &str, body: &Value) -> Result<Value, EngineError> {
        self.json("POST", path, Some(body)).await
    }

    /// `DELETE path`.
    pub async fn delete(&self, path: &str) -> Result<(), EngineError> {
        self.json("DELETE", path, None).await.map(|_| ())
    }

    /// `POST path` with a raw body (e.g. a tar archive to import); the answer
    /// as text.
    pub async fn post_bytes(
        &self,
        path: &str,
        content_type: &str,
        body: Vec<u8>,
    ) -> Result<String, EngineError> {
        let bytes = self
            .send("POST", path, content_type, Bytes::from(body))
            .await?;
        Ok(String::from_utf8_lossy(&bytes).into_owned())
    }

    async fn json(
        &self,
        method: &str,
        path: &str,
        body: Option<&Value>,
    ) -> Result<Value, EngineError> {
        let bytes = match body {
            Some(v) => Bytes::from(serde_json::to_vec(v).expect("a JSON value always serializes")),
            None => Bytes::new(),
        };
        let answer = self.send(method, path, "application/json", bytes).await?;
        if answer.iter().all(u8::is_ascii_whitespace) {
            return Ok(Value::Null);
        }
        serde_json::from_slice(&answer).map_err(|e| EngineError::Decode {
            host: self.host.clone(),
            method: method.to_string(),
            path: path.to_string(),
            message: e.to_string(),
        })
    }

    /// One request on a new connection, within the timeout.
    async fn send(
        &self,
        method: &str,
        path: &str,
        content_type: &str,
        body: Bytes,
    ) -> Result<Bytes, EngineError> {
        let call = self.send_untimed(method, path, content_type, body);
        match tokio::time::timeout(self.timeout, call).await {
            Ok(result) => result,
            Err(_) => Err(EngineError::Timeout {
                host: self.host.clone(),
                method: method.to_string(),
                path: path.to_string(),
                after: self.timeout,
            }),
        }
    }

    async fn send_untimed(
        &self,
        method: &str,
        path: &str,
        content_type: &str,
        body: Bytes,
    ) -> Result<Bytes, EngineError> {
        let unreachable = |message: String| EngineError::Unreachable {
            host: self.host.clone(),
            message,
        };
        let stream = self
            .connector
            .connect()
            .await
            .map_err(|e| unreachable(e.to_string()))?;
        let (mut sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
            .await
            .map_err(|e| unreachable(e.to_string()))?;
        let driver = tokio::spawn(conn);
        let request = hyper::Request::builder()
            .method(method)
            .uri(format!("/{API_VERSION}{path}"))
            .header(hyper::header::HOST, "docker")
            .header(hyper::header::CONTENT_TYPE, content_type)
            .body(Full::new(body))
            .map_err(|e| unreachable(e.to_string()))?;
        let response = sender
            .send_request(request)
            .await
            .map_err(|e| unreachable(e.to_string()))?;
        let status = response.status().as_u16();
        let bytes = response
            .into_body()
            .collect()
            .await
            .map_err(|e| unreachable(e.to_string()))?
            .to_bytes();
        driver.abort();
        if status >= 400 {
            return Err(EngineError::api(&self.host, method, path, status, &bytes));
        }
        Ok(bytes)
    }
}

/// Percent-encodes a query parameter value (JSON filters, names).
pub fn query_value(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for b in value.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests;
