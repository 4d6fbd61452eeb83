//! `index.html`: the summary table and four SVG plots over time (hits per
//! second, latency per step with a percentile band, bytes per second,
//! active users). One self-contained page: styles and plots inline.

use std::fmt::Write;

use super::svg::{Series, chart};
use super::{Recording, Summary};

/// At most this many points along the time axis.
const MAX_BUCKETS: u64 = 150;

struct Buckets {
    width_s: u64,
    count: usize,
}

impl Buckets {
    fn new(rec: &Recording) -> Self {
        let end_us = rec
            .samples
            .iter()
            .map(|s| s.start_us + s.elapsed_us)
            .max()
            .unwrap_or(0)
            .max(rec.duration_us);
        let secs = end_us.div_ceil(1_000_000).max(1);
        let width_s = secs.div_ceil(MAX_BUCKETS).max(1);
        Buckets {
            width_s,
            count: secs.div_ceil(width_s) as usize,
        }
    }

    fn of(&self, end_us: u64) -> usize {
        ((end_us / 1_000_000 / self.width_s) as usize).min(self.count - 1)
    }

    /// The middle of bucket `i`, in seconds.
    fn at(&self, i: usize) -> f64 {
        (i as f64 + 0.5) * self.width_s as f64
    }
}

/// Per-bucket totals divided by the bucket width: a rate per second.
fn rate_series(name: &str, b: &Buckets, values: &[f64]) -> Series {
    Series {
        name: name.to_string(),
        points: values
            .iter()
            .enumerate()
            .map(|(i, v)| (b.at(i), v / b.width_s as f64))
            .collect(),
        band: Vec::new(),
    }
}

fn pct(sorted: &[u64], q: f64) -> f64 {
    let i = ((sorted.len() as f64 - 1.0) * q).round() as usize;
    sorted[i] as f64 / 1000.0
}

fn plots(rec: &Recording) -> Vec<String> {
    let b = Buckets::new(rec);
    let (mut hits, mut errors, mut bytes, mut users) = (
        vec![0.0; b.count],
        vec![0.0; b.count],
        vec![0.0; b.count],
        vec![0.0f64; b.count],
    );
    let mut lat: Vec<Vec<Vec<u64>>> = vec![vec![Vec::new(); b.count]; rec.steps.len()];
    for s in &rec.samples {
        let i = b.of(s.start_us + s.elapsed_us);
        hits[i] += 1.0;
        errors[i] += f64::from(u8::from(!s.ok()));
        bytes[i] += s.bytes as f64;
        users[i] = users[i].max(f64::from(s.active));
        if let Some(per) = lat.get_mut(usize::from(s.step)) {
            per[i].push(s.elapsed_us);
        }
    }
    let latency: Vec<Series> = lat
        .iter_mut()
        .zip(&rec.steps)
        .map(|(per, name)| {
            let mut s = Series {
                name: name.clone(),
                points: Vec::new(),
                band: Vec::new(),
            };
            for (i, v) in per.iter_mut().enumerate().filter(|(_, v)| !v.is_empty()) {
                v.sort_unstable();
                s.points.push((b.at(i), pct(v, 0.5)));
                s.band.push((b.at(i), pct(v, 0.1), pct(v, 0.9)));
            }
            s
        })
        .collect();
    let mut last = 0.0;
    let users = Series {
        name: "users".into(),
        points: users
            .iter()
            .zip(&hits)
            .enumerate()
            .map(|(i, (v, h))| {
                // A bucket without samples keeps the count of the one before.
                if *h > 0.0 {
                    last = *v;
                }
                (b.at(i), last)
            })
            .collect(),
        band: Vec::new(),
    };
    vec![
        chart(
            "Hits per second",
            "seconds",
            "requests/s",
            &[
                rate_series("hits", &b, &hits),
                rate_series("errors", &b, &errors),
            ],
        ),
        chart(
            "Latency over time (line: median, band: p10 to p90)",
            "seconds",
            "ms",
            &latency,
        ),
        chart(
            "Bytes received per second",
            "seconds",
            "KB/s",
            &[rate_series(
                "received",
                &b,
                &bytes.iter().map(|v| v / 1024.0).collect::<Vec<_>>(),
            )],
        ),
        chart("Active users", "seconds", "users", &[users]),
    ]
}

fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

const STYLE: &str = "body{font-family:sans-serif;margin:2em;color:#222}table{border-collapse:collapse;margin:1em 0;font-size:13px}td,th{padding:3px 8px;border-bottom:1px solid #ddd;text-align:right}td:first-child,th:first-child{text-align:left}tr.total{font-weight:bold}figure{margin:1.5em 0}";

/// The report page.
pub fn html(rec: &Recording, summary: &Summary) -> String {
    let mut o = String::new();
    let _ = write!(
        o,
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>Load test {}</title><style>{STYLE}</style></head><body>\n<h1>Load test <code>{}</code></h1>\n<p>{} against {} for {:.1} s: {} requests, {:.3}% failed.</p>\n<table><tr><th>step</th><th>samples</th><th>fail %</th><th>mean ms</th><th>min</th><th>max</th><th>median</th><th>p90</th><th>p95</th><th>p99</th><th>req/s</th><th>KB</th></tr>\n",
        esc(&rec.test),
        esc(&rec.test),
        esc(&rec.model),
        esc(&rec.target),
        summary.duration_s,
        summary.total.samples,
        summary.total.failure_pct
    );
    for (s, class) in summary
        .steps
        .iter()
        .map(|s| (s, ""))
        .chain([(&summary.total, " class=\"total\"")])
    {
        let _ = writeln!(
            o,
            "<tr{class}><td>{}</td><td>{}</td><td>{:.2}</td><td>{:.1}</td><td>{:.1}</td><td>{:.1}</td><td>{:.1}</td><td>{:.1}</td><td>{:.1}</td><td>{:.1}</td><td>{:.2}</td><td>{:.1}</td></tr>",
            esc(&s.name),
            s.samples,
            s.failure_pct,
            s.mean_ms,
            s.min_ms,
            s.max_ms,
            s.median_ms,
            s.p90_ms,
            s.p95_ms,
            s.p99_ms,
            s.throughput,
            s.bytes as f64 / 1024.0
        );
    }
    o.push_str("</table>\n");
    for p in plots(rec) {
        let _ = writeln!(o, "<figure>{p}</figure>");
    }
    o.push_str("<p>Every sample: <a href=\"samples.jtl\">samples.jtl</a> (JMeter CSV); figures: <a href=\"summary.json\">summary.json</a>.</p>\n</body></html>\n");
    o
}
