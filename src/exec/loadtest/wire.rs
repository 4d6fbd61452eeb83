//! One HTTP/1.1 client connection over a `TcpStream`, owned by the task that
//! sends on it: the request is written in one piece, the response read and
//! framed here (`Content-Length`, chunked, or until the server closes), so a
//! request costs no hand-off between tasks (docs/decisions/0017-loadtest.md).
//! Only for plain `http://` targets; `reqwest` carries everything else.

use bytes::{Buf, BytesMut};
use hyper::body::Bytes;
use reqwest::header::TRANSFER_ENCODING;
use reqwest::header::{CONNECTION, CONTENT_LENGTH, HOST, HeaderMap, HeaderName, HeaderValue};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::time::Instant;

use super::http::{Request, Response};

/// Bytes read from a connection at a time (kept small: 10,000 users of the
/// closed model may hold as many connections).
const READ_BUF: usize = 4096;
/// Response headers beyond this many are an error.
const MAX_HEADERS: usize = 64;
/// A response head longer than this is an error.
const MAX_HEAD: usize = 64 * 1024;
/// A connection idle for longer is checked for a close by the server
/// before it is used again.
const IDLE_CHECK: std::time::Duration = std::time::Duration::from_millis(1);

/// Why an exchange failed.
#[derive(Debug)]
pub enum Failure {
    /// Nothing came back on a connection used before: the server had
    /// probably closed it while idle. `written` tells whether the request
    /// went out.
    Stale {
        written: bool,
        msg: String,
    },
    Other(String),
}

impl Failure {
    pub fn message(self) -> String {
        match self {
            Failure::Stale { msg, .. } | Failure::Other(msg) => msg,
        }
    }
}

/// A kept-alive connection to the target.
pub struct Conn {
    stream: TcpStream,
    /// Bytes read and not yet consumed.
    buf: BytesMut,
    /// The request being written (kept for its capacity).
    out: Vec<u8>,
    /// Whether a response was read on it already.
    used: bool,
    idle_since: Instant,
}

impl Conn {
    pub async fn connect(authority: &str) -> Result<Conn, String> {
        let stream = TcpStream::connect(authority)
            .await
            .map_err(|e| format!("connection failed: {e}"))?;
        let _ = stream.set_nodelay(true);
        Ok(Conn {
            stream,
            buf: BytesMut::new(),
            out: Vec::new(),
            used: false,
            idle_since: Instant::now(),
        })
    }

    /// False when the server closed the connection (or sent something
    /// unasked) while it was idle; the check costs no system call unless
    /// the connection's readiness says there is something to read.
    pub fn usable(&mut self) -> bool {
        if !self.buf.is_empty() {
            return false;
        }
        if self.idle_since.elapsed() < IDLE_CHECK {
            return true;
        }
        let mut probe = [0u8; 1];
        matches!(self.stream.try_read(&mut probe), Err(e) if e.kind() == std::io::ErrorKind::WouldBlock)
    }

    /// Sends `req` (origin form) and reads the whole response; with it,
    /// whether the connection can carry another request.
    pub async fn exchange(
        &mut self,
        req: &Request,
        host: &HeaderValue,
    ) -> Result<(Response, bool), Failure> {
        let used = self.used;
        write_head(&mut self.out, req, host);
        if let Err(e) = self.stream.write_all(&self.out).await {
            let msg = format!("sending the request: {e}");
            return Err(if used {
                Failure::Stale {
                    written: false,
                    msg,
                }
            } else {
                Failure::Other(msg)
            });
        }
        let head = match self.read_head().await {
            Ok(h) => h,
            Err(ReadErr::Nothing(msg)) if used => {
                return Err(Failure::Stale { written: true, msg });
            }
            Err(e) => return Err(Failure::Other(e.message())),
        };
        let headers_at = Instant::now();
        let no_body = req.method() == http::Method::HEAD
            || head.status == 204
            || head.status == 304
            || (100..200).contains(&head.status);
        let mut keep = head.keep_alive && !closes(req.headers());
        let body = if no_body {
            Bytes::new()
        } else if head.chunked {
            self.read_chunked().await?
        } else if let Some(n) = head.length {
            self.read_exact(n).await?
        } else {
            keep = false;
            self.read_to_end().await?
        };
        self.used = true;
        self.idle_since = Instant::now();
        let resp = Response {
            status: head.status,
            headers: head.headers,
            body,
            headers_at,
        };
        Ok((resp, keep))
    }

    /// Reads until a whole response head is buffered and takes it, skipping
    /// interim (1xx) responses other than 101.
    async fn read_head(&mut self) -> Result<Head, ReadErr> {
        let mut got_any = !self.buf.is_empty();
        loop {
            if let Some(head) = parse_head(&mut self.buf).map_err(ReadErr::Bad)? {
                if (100..200).contains(&head.status) && head.status != 101 {
                    continue;
                }
                return Ok(head);
            }
            if self.buf.len() > MAX_HEAD {
                return Err(ReadErr::Bad(format!("response head over {MAX_HEAD} bytes")));
            }
            match self.fill().await {
                Ok(0) if !got_any => {
                    return Err(ReadErr::Nothing(String::from(
                        "the server closed the connection without answering",
                    )));
                }
                Ok(0) => return Err(ReadErr::Bad(String::from(CUT_SHORT))),
                Ok(_) => got_any = true,
                Err(e) if !got_any => return Err(ReadErr::Nothing(format!("reading: {e}"))),
                Err(e) => return Err(ReadErr::Bad(format!("reading: {e}"))),
            }
        }
    }

    /// Reads more into the buffer; 0 at the end of the stream.
    async fn fill(&mut self) -> std::io::Result<usize> {
        self.buf.reserve(READ_BUF);
        self.stream.read_buf(&mut self.buf).await
    }

    async fn read_exact(&mut self, n: usize) -> Result<Bytes, Failure> {
        while self.buf.len() < n {
            self.buf.reserve(n - self.buf.len());
            match self.stream.read_buf(&mut self.buf).await {
                Ok(0) => return Err(Failure::Other(String::from(CUT_SHORT))),
                Ok(_) => {}
                Err(e) => return Err(Failure::Other(format!("reading: {e}"))),
            }
        }
        Ok(self.buf.split_to(n).freeze())
    }

    async fn read_to_end(&mut self) -> Result<Bytes, Failure> {
        loop {
            match self.fill().await {
                Ok(0) => return Ok(self.buf.split().freeze()),
                Ok(_) => {}
                Err(e) => return Err(Failure::Other(format!("reading: {e}"))),
            }
        }
    }

    /// A chunked body, decoded; its trailers are read and dropped.
    async fn read_chunked(&mut self) -> Result<Bytes, Failure> {
        let mut body = BytesMut::new();
        loop {
            let size = loop {
                match httparse::parse_chunk_size(&self.buf) {
                    Ok(httparse::Status::Complete((used, size))) => {
                        self.buf.advance(used);
                        break size;
                    }
                    Ok(httparse::Status::Partial) => self.more().await?,
                    Err(_) => return Err(Failure::Other(String::from("bad chunk size"))),
                }
            };
            if size == 0 {
                break;
            }
            let size = usize::try_from(size)
                .map_err(|_| Failure::Other(String::from("chunk too large")))?;
            let data = self.read_exact(size).await?;
            body.extend_from_slice(&data);
            let crlf = self.read_exact(2).await?;
            if &crlf[..] != b"\r\n" {
                return Err(Failure::Other(String::from("bad chunk end")));
            }
        }
        // Trailer lines, up to the empty one.
        loop {
            match self.buf.windows(2).position(|w| w == b"\r\n") {
                Some(0) => {
                    self.buf.advance(2);
                    return Ok(body.freeze());
                }
                Some(end) => self.buf.advance(end + 2),
                None => self.more().await?,
            }
        }
    }

    async fn more(&mut self) -> Result<(), Failure> {
        match self.fill().await {
            Ok(0) => Err(Failure::Other(String::from(CUT_SHORT))),
            Ok(_) => Ok(()),
            Err(e) => Err(Failure::Other(format!("reading: {e}"))),
        }
    }
}

const CUT_SHORT: &str = "the server closed the connection before the response ended";

enum ReadErr {
    /// Nothing at all came back.
    Nothing(String),
    Bad(String),
}

impl ReadErr {
    fn message(self) -> String {
        match self {
            ReadErr::Nothing(m) | ReadErr::Bad(m) => m,
        }
    }
}

/// A response head, taken from the buffer.
struct Head {
    status: u16,
    headers: HeaderMap,
    keep_alive: bool,
    chunked: bool,
    length: Option<usize>,
}

/// The request line, our `Host`, the step's headers, a `Content-Length`
/// when there is a body (or the method expects one), then the body.
fn write_head(out: &mut Vec<u8>, req: &Request, host: &HeaderValue) {
    out.clear();
    out.extend_from_slice(req.method().as_str().as_bytes());
    out.push(b' ');
    let target = req.uri().path_and_query().map_or("/", |p| p.as_str());
    out.extend_from_slice(target.as_bytes());
    out.extend_from_slice(b" HTTP/1.1\r\nhost: ");
    out.extend_from_slice(host.as_bytes());
    out.extend_from_slice(b"\r\n");
    for (k, v) in req.headers() {
        if k == HOST || k == CONTENT_LENGTH || k == TRANSFER_ENCODING {
            continue;
        }
        out.extend_from_slice(k.as_str().as_bytes());
        out.extend_from_slice(b": ");
        out.extend_from_slice(v.as_bytes());
        out.extend_from_slice(b"\r\n");
    }
    let body = req.body();
    let expects_body = matches!(req.method().as_str(), "POST" | "PUT" | "PATCH");
    if !body.is_empty() || expects_body {
        out.extend_from_slice(b"content-length: ");
        out.extend_from_slice(body.len().to_string().as_bytes());
        out.extend_from_slice(b"\r\n");
    }
    out.extend_from_slice(b"\r\n");
    out.extend_from_slice(body);
}

/// Whether headers ask to close the connection after this exchange.
fn closes(headers: &HeaderMap) -> bool {
    headers
        .get_all(CONNECTION)
        .iter()
        .any(|v| has_token(v.as_bytes(), b"close"))
}

fn has_token(list: &[u8], token: &[u8]) -> bool {
    list.split(|&b| b == b',')
        .any(|t| t.trim_ascii().eq_ignore_ascii_case(token))
}

/// Takes a complete response head off the front of `buf`, if there is one.
/// The header values share the head's bytes (no copy).
fn parse_head(buf: &mut BytesMut) -> Result<Option<Head>, String> {
    let mut slots = [httparse::EMPTY_HEADER; MAX_HEADERS];
    let mut resp = httparse::Response::new(&mut slots);
    let len = match resp.parse(buf) {
        Ok(httparse::Status::Complete(len)) => len,
        Ok(httparse::Status::Partial) => return Ok(None),
        Err(e) => return Err(format!("bad response: {e}")),
    };
    let head = buf.split_to(len).freeze();
    let mut slots = [httparse::EMPTY_HEADER; MAX_HEADERS];
    let mut resp = httparse::Response::new(&mut slots);
    // The same bytes parsed again, now borrowed from `head` so that header
    // values can be slices of it.
    resp.parse(&head)
        .map_err(|e| format!("bad response: {e}"))?;
    let status = resp.code.unwrap_or(0);
    let mut headers = HeaderMap::with_capacity(resp.headers.len());
    let (mut chunked, mut length, mut close) = (false, None, resp.version != Some(1));
    for h in resp.headers.iter() {
        let name = HeaderName::from_bytes(h.name.as_bytes())
            .map_err(|_| format!("bad response header name `{}`", h.name))?;
        let value = HeaderValue::from_maybe_shared(head.slice_ref(h.value))
            .map_err(|_| format!("bad value of response header `{}`", h.name))?;
        if name == TRANSFER_ENCODING {
            chunked = value.as_bytes().trim_ascii_end().ends_with(b"chunked");
        } else if name == CONTENT_LENGTH {
            let n = std::str::from_utf8(h.value)
                .ok()
                .and_then(|s| s.trim().parse().ok())
                .ok_or_else(|| String::from("bad Content-Length"))?;
            length = Some(n);
        } else if name == CONNECTION {
            if has_token(h.value, b"close") {
                close = true;
            } else if has_token(h.value, b"keep-alive") {
                close = false;
            }
        }
        headers.append(name, value);
    }
    Ok(Some(Head {
        status,
        headers,
        keep_alive: !close && status != 101,
        chunked,
        length,
    }))
}

#[cfg(test)]
mod tests;
