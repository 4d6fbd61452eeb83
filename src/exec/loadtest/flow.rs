//! One user running the flow: each step rendered, sent and recorded; a
//! failed step ends the iteration; think times between steps.

use std::sync::Arc;
use std::sync::atomic::Ordering;

use reqwest::header::{COOKIE, HeaderMap, HeaderName, HeaderValue, SET_COOKIE};
use tokio::time::{Instant, sleep_until};

use super::extract::{Response, extract_all};
use super::vars::UserState;
use super::{Recorder, Shared};
use crate::loadreport::Sample;
use crate::model::loadtest::{Body, ExtractSource, Step};

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
    planned: Option<Instant>,
) {
    let mut planned = planned;
    for (i, step) in sh.test.steps.iter().enumerate() {
        if sh.past_deadline(Instant::now()) {
            return;
        }
        let sample = request(sh, user, i, step, planned.take()).await;
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
    let result = send(sh, user, index, step, start, &mut sample).await;
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
    index: usize,
    step: &Step,
    start: Instant,
    sample: &mut Sample,
) -> Result<(), String> {
    let path = user.render(&step.path)?;
    let url = if path.starts_with("http://") || path.starts_with("https://") {
        path
    } else {
        format!("{}{path}", sh.base)
    };
    let method = reqwest::Method::from_bytes(step.method.as_bytes()).map_err(|e| e.to_string())?;
    let mut rb = sh.client.request(method, &url);
    let mut sent = url.len() as u64 + step.method.len() as u64;
    for (k, v) in user.render_pairs(&step.headers)? {
        let name =
            HeaderName::from_bytes(k.as_bytes()).map_err(|e| format!("header `{k}`: {e}"))?;
        let value = HeaderValue::from_str(&v).map_err(|e| format!("header `{k}`: {e}"))?;
        sent += (k.len() + v.len() + 4) as u64;
        rb = rb.header(name, value);
    }
    if let Some(c) = user.cookie_header() {
        sent += c.len() as u64 + 8;
        rb = rb.header(COOKIE, c);
    }
    if !step.query.is_empty() {
        rb = rb.query(&user.render_pairs(&step.query)?);
    }
    match &step.body {
        Body::None => {}
        Body::Json(t) => {
            let v = user.render_json(t)?;
            sent += v.to_string().len() as u64;
            rb = rb.json(&v);
        }
        Body::Form(pairs) => {
            let pairs = user.render_pairs(pairs)?;
            sent += pairs
                .iter()
                .map(|(k, v)| k.len() + v.len() + 2)
                .sum::<usize>() as u64;
            rb = rb.form(&pairs);
        }
    }
    sample.sent_bytes = sent;
    let resp = rb.send().await.map_err(|e| describe(&e))?;
    sample.ttfb_us = start.elapsed().as_micros() as u64;
    sample.status = resp.status().as_u16();
    for c in resp
        .headers()
        .get_all(SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
    {
        user.set_cookie(c);
    }
    let head_bytes: usize = resp
        .headers()
        .iter()
        .map(|(k, v)| k.as_str().len() + v.len() + 4)
        .sum();
    // The body consumes the response: keep the headers only if asked for.
    let headers = if step
        .extracts
        .iter()
        .any(|x| matches!(x.source, ExtractSource::Header(_)))
    {
        resp.headers().clone()
    } else {
        HeaderMap::new()
    };
    let body = resp.bytes().await.map_err(|e| describe(&e))?;
    sample.elapsed_us = start.elapsed().as_micros() as u64;
    sample.bytes = (head_bytes + body.len() + 17) as u64;
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
        body: &body,
        headers: &headers,
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

/// A transport error in a few words (the chain, not just the top).
fn describe(e: &reqwest::Error) -> String {
    let mut msg = if e.is_timeout() {
        String::from("timed out")
    } else if e.is_connect() {
        String::from("connection failed")
    } else {
        e.to_string()
    };
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        msg.push_str(": ");
        msg.push_str(&s.to_string());
        source = s.source();
    }
    msg
}
