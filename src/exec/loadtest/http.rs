//! Sending a request: over a kept-alive HTTP/1.1 connection from a small
//! pool of our own (hyper's connection-level client) when it goes to a
//! plain `http://` target, through the shared `reqwest` client otherwise
//! (`https://`, or a step's full URL to another host). The first is what
//! keeps sdbc's cost per request near `wrk`'s
//! (docs/decisions/0017-loadtest.md). Connections are shared by all users
//! (cookies travel in each request), so there are about as many as
//! requests in flight, not one per user.

use http_body_util::{BodyExt, Full};
use hyper::body::Bytes;
use hyper::client::conn::http1::SendRequest;
use hyper_util::rt::TokioIo;
use reqwest::header::{HOST, HeaderMap, HeaderValue};
use tokio::time::Instant;

use super::Shared;

/// A request as a step builds it: the URL, and the body already encoded.
pub type Request = http::Request<Bytes>;

/// What came back.
pub struct Response {
    pub status: u16,
    pub headers: HeaderMap,
    pub body: Bytes,
    /// When the headers arrived.
    pub headers_at: Instant,
}

/// Where plain requests go: `host:port` of the target and its `Host`
/// header, and the idle connections to it.
pub struct Plain {
    pub authority: String,
    pub host: HeaderValue,
    idle: std::sync::Mutex<Vec<SendRequest<Full<Bytes>>>>,
}

impl Plain {
    /// The plain-HTTP endpoint of a base URL, if it is one.
    pub fn of(base: &str) -> Option<Plain> {
        let uri: http::Uri = base.parse().ok()?;
        if uri.scheme_str() != Some("http") {
            return None;
        }
        let auth = uri.authority()?;
        Some(Plain {
            authority: format!("{}:{}", auth.host(), auth.port_u16().unwrap_or(80)),
            host: HeaderValue::from_str(auth.as_str()).ok()?,
            idle: std::sync::Mutex::new(Vec::new()),
        })
    }
}

/// Sends a request and reads the whole response, within the test's timeout.
pub async fn send(sh: &Shared, req: Request) -> Result<Response, String> {
    let timeout = std::time::Duration::from_millis(sh.test.timeout_ms.max(1));
    // Only origin-form requests (no scheme) go to the plain target.
    let plain = sh.plain.as_ref().filter(|_| req.uri().scheme().is_none());
    let work = async {
        match plain {
            Some(p) => p.send(req).await,
            None => via_reqwest(sh, req).await,
        }
    };
    tokio::time::timeout(timeout, work)
        .await
        .map_err(|_| String::from("timed out"))?
}

impl Plain {
    /// An idle connection that is still open, or a new one.
    async fn checkout(&self) -> Result<SendRequest<Full<Bytes>>, String> {
        loop {
            let idle = self.idle.lock().map(|mut v| v.pop()).unwrap_or(None);
            match idle {
                Some(mut s) if !s.is_closed() => {
                    if s.ready().await.is_ok() {
                        return Ok(s);
                    }
                }
                Some(_) => {}
                None => return connect(&self.authority).await,
            }
        }
    }

    fn checkin(&self, s: SendRequest<Full<Bytes>>) {
        if !s.is_closed()
            && let Ok(mut idle) = self.idle.lock()
        {
            idle.push(s);
        }
    }

    /// `req` is in origin form (`/path?query`), as the step builds it.
    async fn send(&self, req: Request) -> Result<Response, String> {
        let mut sender = self.checkout().await?;
        let (mut parts, body) = req.into_parts();
        parts.headers.insert(HOST, self.host.clone());
        let req = http::Request::from_parts(parts, Full::new(body));
        let resp = match sender.try_send_request(req).await {
            Ok(resp) => resp,
            // The server closed a kept-alive connection before the request
            // went out: once more on a new connection.
            Err(mut e) => match e.take_message() {
                Some(req) => {
                    sender = connect(&self.authority).await?;
                    sender.send_request(req).await.map_err(|e| chain(&e))?
                }
                None => return Err(chain(&e.into_error())),
            },
        };
        let headers_at = Instant::now();
        let (parts, incoming) = resp.into_parts();
        let body = incoming.collect().await.map_err(|e| chain(&e))?.to_bytes();
        self.checkin(sender);
        Ok(Response {
            status: parts.status.as_u16(),
            headers: parts.headers,
            body,
            headers_at,
        })
    }
}

/// Bytes read from a connection at a time.
const READ_BUF: usize = 4096;

async fn connect(authority: &str) -> Result<SendRequest<Full<Bytes>>, String> {
    let tcp = tokio::net::TcpStream::connect(authority)
        .await
        .map_err(|e| format!("connection failed: {e}"))?;
    let _ = tcp.set_nodelay(true);
    // A small fixed read buffer: 10,000 users hold 10,000 connections, and
    // hyper's default (8 KiB, growing) would cost more memory than all else.
    let (sender, conn) = hyper::client::conn::http1::Builder::new()
        .read_buf_exact_size(Some(READ_BUF))
        .handshake(TokioIo::new(tcp))
        .await
        .map_err(|e| chain(&e))?;
    tokio::spawn(async move {
        // Ends when the server or the sender closes the connection.
        let _ = conn.await;
    });
    Ok(sender)
}

async fn via_reqwest(sh: &Shared, req: Request) -> Result<Response, String> {
    let req = reqwest::Request::try_from(req.map(reqwest::Body::from)).map_err(|e| chain(&e))?;
    let resp = sh.client.execute(req).await.map_err(|e| chain(&e))?;
    let headers_at = Instant::now();
    let status = resp.status().as_u16();
    let headers = resp.headers().clone();
    let body = resp.bytes().await.map_err(|e| chain(&e))?;
    Ok(Response {
        status,
        headers,
        body,
        headers_at,
    })
}

/// An error with its causes, in a few words.
fn chain(e: &dyn std::error::Error) -> String {
    let mut msg = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        msg.push_str(": ");
        msg.push_str(&s.to_string());
        source = s.source();
    }
    msg
}
