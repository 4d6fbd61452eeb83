//! Two summaries side by side: per step, the figures of A, of B, and the
//! change (what scaling did to latency).

use std::collections::BTreeSet;

use super::table::{aligned, column_widths};
use super::{StepStats, Summary};

fn change(a: f64, b: f64) -> String {
    if a == 0.0 {
        return if b == 0.0 { "=".into() } else { "new".into() };
    }
    let pct = (b - a) * 100.0 / a;
    format!("{pct:+.1}%")
}

fn lines(out: &mut Vec<[String; 8]>, name: &str, a: Option<&StepStats>, b: Option<&StepStats>) {
    let fig = |s: Option<&StepStats>, f: fn(&StepStats) -> f64| s.map(f);
    let figures: [fn(&StepStats) -> f64; 2] = [|s| s.mean_ms, |s| s.p95_ms];
    let mut row = [
        name.to_string(),
        String::new(),
        String::new(),
        String::new(),
        String::new(),
        String::new(),
        String::new(),
        String::new(),
    ];
    for (i, f) in figures.iter().enumerate() {
        let (x, y) = (fig(a, *f), fig(b, *f));
        row[1 + 3 * i] = x.map_or("-".into(), |v| format!("{v:.1}"));
        row[2 + 3 * i] = y.map_or("-".into(), |v| format!("{v:.1}"));
        row[3 + 3 * i] = match (x, y) {
            (Some(x), Some(y)) => change(x, y),
            _ => "-".into(),
        };
    }
    row[7] = match (a, b) {
        (Some(a), Some(b)) => format!("{:.2} -> {:.2}", a.failure_pct, b.failure_pct),
        _ => "-".into(),
    };
    out.push(row);
}

/// The comparison as text: steps of A in order, then steps only B has, then the total.
pub fn compare(a: &Summary, b: &Summary) -> String {
    let mut rows: Vec<[String; 8]> = vec![
        [
            "step", "mean A", "mean B", "change", "p95 A", "p95 B", "change", "fail %",
        ]
        .map(String::from),
    ];
    let mut seen = BTreeSet::new();
    for s in a.steps.iter().chain(b.steps.iter()) {
        if !seen.insert(s.name.as_str()) {
            continue;
        }
        let x = a.steps.iter().find(|t| t.name == s.name);
        let y = b.steps.iter().find(|t| t.name == s.name);
        lines(&mut rows, &s.name, x, y);
    }
    lines(&mut rows, "TOTAL", Some(&a.total), Some(&b.total));
    let widths = column_widths(&rows);
    let mut out = format!(
        "A: {} ({}, {:.0} s)\nB: {} ({}, {:.0} s)\n\n",
        a.test, a.model, a.duration_s, b.test, b.model, b.duration_s
    );
    for r in &rows {
        out.push_str(&aligned(r, &widths));
    }
    out
}
