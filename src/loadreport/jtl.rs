//! Every sample as a JMeter JTL CSV (the default CSV columns of JMeter 5),
//! so existing tooling (JMeter's report generator, Taurus, ...) reads it.

use super::Recording;

const HEADER: &str = "timeStamp,elapsed,label,responseCode,responseMessage,threadName,dataType,success,failureMessage,bytes,sentBytes,grpThreads,allThreads,URL,Latency,IdleTime,Connect";

/// A CSV field, quoted when it must be.
fn field(s: &str) -> String {
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}

/// The JTL text of a recording, samples in the order they started.
pub fn jtl(rec: &Recording) -> String {
    let mut order: Vec<usize> = (0..rec.samples.len()).collect();
    order.sort_by_key(|&i| (rec.samples[i].start_us, i));
    let mut out = String::with_capacity(64 + rec.samples.len() * 96);
    out.push_str(HEADER);
    out.push('\n');
    for i in order {
        let s = &rec.samples[i];
        let label = rec
            .steps
            .get(usize::from(s.step))
            .map_or("?", String::as_str);
        let code = if s.status == 0 {
            String::from("NoResponse")
        } else {
            s.status.to_string()
        };
        let line = [
            (rec.started_unix_ms + s.start_us / 1000).to_string(),
            (s.elapsed_us / 1000).to_string(),
            field(label),
            code,
            if s.ok() { "OK".into() } else { "FAILED".into() },
            field(&format!("{} 1-{}", rec.test, s.user + 1)),
            "text".into(),
            s.ok().to_string(),
            field(s.error.as_deref().unwrap_or("")),
            s.bytes.to_string(),
            s.sent_bytes.to_string(),
            s.active.to_string(),
            s.active.to_string(),
            String::new(),
            (s.ttfb_us / 1000).to_string(),
            "0".into(),
            "0".into(),
        ];
        out.push_str(&line.join(","));
        out.push('\n');
    }
    out
}
