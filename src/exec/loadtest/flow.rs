//! One user running the flow: each step rendered, sent and recorded; a
//! failed step ends the iteration; think times between steps.

use std::sync::Arc;
use std::sync::atomic::Ordering;

use hyper::body::Bytes;
use reqwest::header::{CONTENT_TYPE, COOKIE, HeaderName, HeaderValue, SET_COOKIE};
use tokio::time::{Instant, sleep_until};

use super::extract::{Response, extract_all};
use super::http;
use super::vars::UserState;
use super::{Recorder, Shared};
use crate::loadreport::Sample;
use crate::model::loadtest::{Body, Step};

/// What went wrong before a response could be judged.
fn fail(msg: impl Into<String>) -> Option<Box<str>> {
    Some(msg.into().into_boxed_str())
}

/// Runs one iteration of the flow. `planned` is when an open-model flow
/// should have started (its first step's latency counts from then).
pub async fn iteration(
    sh: &Arc<Shared>,
    rec: &mut Recorder,
    user: &mut UserState,
    lane: &mut http::Lane,
    planned: Option<Instant>,
) {
    let mut planned = planned;
    for (i, step) in sh.test.steps.iter().enumerate() {
        if sh.past_deadline(Instant::now()) {
            return;
        }
        let sample = request(sh, user, lane, i, step, planned.take()).await;
        let ok = sample.ok();
        rec.push(sample);
        let think = step.think_ms.unwrap_or(sh.test.think_ms);
        if think > 0 {
            let until = Instant::now() + std::time::Duration::from_millis(think);
            sleep_until(sh.deadline.map_or(until, |d| d.min(until))).await;
        }
        if !ok {
            return;
        }
    }
}

/// Sends one step; its sample.
async fn request(
    sh: &Arc<Shared>,
    user: &mut UserState,
    lane: &mut http::Lane,
    index: usize,
    step: &Step,
    planned: Option<Instant>,
) -> Sample {
    let start = planned.unwrap_or_else(Instant::now);
    let mut sample = Sample {
        step: index as u16,
        user: user.id,
        iteration: user.iteration,
        start_us: start.saturating_duration_since(sh.start).as_micros() as u64,
        elapsed_us: 0,
        ttfb_us: 0,
        status: 0,
        bytes: 0,
        sent_bytes: 0,
        error: None,
        active: 0,
    };
    let result = send(sh, user, lane, index, step, start, &mut sample).await;
    if let Err(e) = result {
        sample.error = fail(e);
    }
    if sample.elapsed_us == 0 {
        sample.elapsed_us = start.elapsed().as_micros() as u64;
    }
    sample.active = sh.active.load(Ordering::Relaxed);
    sample
}

async fn send(
    sh: &Arc<Shared>,
    user: &mut UserState,
    lane: &mut http::Lane,
    index: usize,
    step: &Step,
    start: Instant,
    sample: &mut Sample,
) -> Result<(), String> {
    let req = build(sh, user, step)?;
    sample.sent_bytes = (req.uri().path_and_query().map_or(0, |p| p.as_str().len())
        + step.method.len()
        + req
            .headers()
            .iter()
            .map(|(k, v)| k.as_str().len() + v.len() + 4)
            .sum::<usize>()
        + req.body().len()) as u64;
    let resp = http::send(sh, lane, req).await?;
    sample.ttfb_us = resp.headers_at.saturating_duration_since(start).as_micros() as u64;
    sample.status = resp.status;
    for c in resp
        .headers
        .get_all(SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
    {
        user.set_cookie(c);
    }
    let head_bytes: usize = resp
        .headers
        .iter()
        .map(|(k, v)| k.as_str().len() + v.len() + 4)
        .sum();
    sample.elapsed_us = start.elapsed().as_micros() as u64;
    sample.bytes = (head_bytes + resp.body.len() + 17) as u64;
    if !step.accepts(sample.status) {
        return Err(format!(
            "status {}, expected {}",
            sample.status,
            expected(step)
        ));
    }
    if step.extracts.is_empty() {
        return Ok(());
    }
    let r = Response {
        body: &resp.body,
        headers: &resp.headers,
        cookies: &user.cookies,
    };
    let mut rng = fastrand::Rng::new();
    let values = extract_all(&step.extracts, &sh.regexes[index], &r, &mut |n| {
        rng.usize(..n)
    })
    .map_err(|name| format!("extract `{name}`: nothing matched"))?;
    user.extracted.extend(values);
    Ok(())
}

/// The step's request for this user: URL with query, headers, cookies, body.
fn build(sh: &Shared, user: &mut UserState, step: &Step) -> Result<http::Request, String> {
    let path = user.render(&step.path)?;
    // A full URL stays as it is; a path stays in origin form when the
    // plain connections (which know the host) will carry it.
    let absolute = path.starts_with("http://") || path.starts_with("https://");
    let mut url = if absolute || sh.plain.is_some() {
        path
    } else {
        format!("{}{path}", sh.base)
    };
    if !step.query.is_empty() {
        let pairs = user.render_pairs(&step.query)?;
        url.push(if url.contains('?') { '&' } else { '?' });
        url.push_str(
            &form_urlencoded::Serializer::new(String::new())
                .extend_pairs(&pairs)
                .finish(),
        );
    }
    let mut rb = ::http::Request::builder()
        .method(step.method.as_str())
        .uri(&url);
    for (k, v) in user.render_pairs(&step.headers)? {
        let name =
            HeaderName::from_bytes(k.as_bytes()).map_err(|e| format!("header `{k}`: {e}"))?;
        let value = HeaderValue::from_str(&v).map_err(|e| format!("header `{k}`: {e}"))?;
        rb = rb.header(name, value);
    }
    if let Some(c) = user.cookie_header() {
        rb = rb.header(COOKIE, c);
    }
    let body = match &step.body {
        Body::None => Bytes::new(),
        Body::Json(t) => {
            rb = rb.header(CONTENT_TYPE, "application/json");
            let v = user.render_json(t)?;
            Bytes::from(serde_json::to_vec(&v).map_err(|e| e.to_string())?)
        }
        Body::Form(pairs) => {
            rb = rb.header(CONTENT_TYPE, "application/x-www-form-urlencoded");
            let pairs = user.render_pairs(pairs)?;
            Bytes::from(
                form_urlencoded::Serializer::new(String::new())
                    .extend_pairs(&pairs)
                    .finish(),
            )
        }
    };
    rb.body(body).map_err(|e| format!("`{url}`: {e}"))
}

fn expected(step: &Step) -> String {
    if step.expect.is_empty() {
        return String::from("200 to 399");
    }
    step.expect
        .iter()
        .map(u16::to_string)
        .collect::<Vec<_>>()
        .join(" or ")
}
