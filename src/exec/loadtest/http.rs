//! Sending a request: over a kept-alive HTTP/1.1 connection of our own
//! (`wire`) when it goes to a plain `http://` target, through the shared
//! `reqwest` client otherwise (`https://`, or a step's full URL to another
//! host). The first is what keeps sdbc's cost per request near `wrk`'s
//! (docs/decisions/0017-loadtest.md). An open-model worker keeps its own
//! connection; the closed model's users share a pool (cookies travel in
//! each request), so there are about as many connections as requests in
//! flight, not one per user.

use hyper::body::Bytes;
use reqwest::header::{HeaderMap, HeaderValue};
use tokio::time::Instant;

use super::Shared;
use super::wire::{Conn, Failure};

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
    idle: std::sync::Mutex<Vec<Conn>>,
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

/// Where a task's plain requests get their connection: its own (an
/// open-model worker keeps one, as `wrk` does), or the shared pool (the
/// closed model's users, who would otherwise hold one each while thinking).
pub struct Lane {
    own: Option<Conn>,
    keeps: bool,
}

impl Lane {
    /// A lane that keeps its connection between requests.
    pub fn owned() -> Lane {
        Lane {
            own: None,
            keeps: true,
        }
    }

    /// A lane that takes a connection from the pool for each request.
    pub fn pooled() -> Lane {
        Lane {
            own: None,
            keeps: false,
        }
    }
}

/// Sends a request and reads the whole response, within the test's timeout.
pub async fn send(sh: &Shared, lane: &mut Lane, req: Request) -> Result<Response, String> {
    let timeout = std::time::Duration::from_millis(sh.test.timeout_ms.max(1));
    // Only origin-form requests (no scheme) go to the plain target.
    let plain = sh.plain.as_ref().filter(|_| req.uri().scheme().is_none());
    let work = async {
        match plain {
            Some(p) => p.send(lane, req).await,
            None => via_reqwest(sh, req).await,
        }
    };
    tokio::time::timeout(timeout, work)
        .await
        .map_err(|_| String::from("timed out"))?
}

impl Plain {
    /// The lane's own connection, an idle one from the pool that is still
    /// open, or a new one.
    async fn checkout(&self, lane: &mut Lane) -> Result<Conn, String> {
        if let Some(mut c) = lane.own.take()
            && c.usable()
        {
            return Ok(c);
        }
        loop {
            let idle = self.idle.lock().map(|mut v| v.pop()).unwrap_or(None);
            match idle {
                Some(mut c) => {
                    if c.usable() {
                        return Ok(c);
                    }
                }
                None => return Conn::connect(&self.authority).await,
            }
        }
    }

    fn checkin(&self, lane: &mut Lane, c: Conn) {
        if lane.keeps {
            lane.own = Some(c);
        } else if let Ok(mut idle) = self.idle.lock() {
            idle.push(c);
        }
    }

    /// `req` is in origin form (`/path?query`), as the step builds it.
    async fn send(&self, lane: &mut Lane, req: Request) -> Result<Response, String> {
        let mut conn = self.checkout(lane).await?;
        let (resp, keep) = match conn.exchange(&req, &self.host).await {
            Ok(done) => done,
            // Nothing came back on a kept-alive connection: the server
            // closed it while idle. Once more on a new connection if the
            // request did not go out or may be repeated (as Go's client does).
            Err(Failure::Stale { written, msg }) => {
                if written && !idempotent(req.method()) {
                    return Err(msg);
                }
                conn = Conn::connect(&self.authority).await?;
                conn.exchange(&req, &self.host)
                    .await
                    .map_err(Failure::message)?
            }
            Err(e) => return Err(e.message()),
        };
        if keep {
            self.checkin(lane, conn);
        }
        Ok(resp)
    }
}

fn idempotent(m: &http::Method) -> bool {
    use http::Method;
    [
        Method::GET,
        Method::HEAD,
        Method::PUT,
        Method::DELETE,
        Method::OPTIONS,
    ]
    .contains(m)
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

#[cfg(test)]
mod tests;
