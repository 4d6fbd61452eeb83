//! The per-step table printed after a run, laid out like JMeter's
//! aggregate report: one row per step in flow order, then the total.

use super::{StepStats, Summary};

const HEADERS: [&str; 12] = [
    "step", "samples", "fail %", "mean", "min", "max", "median", "p90", "p95", "p99", "req/s", "KB",
];

fn row(s: &StepStats) -> [String; 12] {
    let ms = |v: f64| format!("{v:.1}");
    [
        s.name.clone(),
        s.samples.to_string(),
        format!("{:.2}", s.failure_pct),
        ms(s.mean_ms),
        ms(s.min_ms),
        ms(s.max_ms),
        ms(s.median_ms),
        ms(s.p90_ms),
        ms(s.p95_ms),
        ms(s.p99_ms),
        format!("{:.2}", s.throughput),
        format!("{:.1}", s.bytes as f64 / 1024.0),
    ]
}

/// The table as text (times in milliseconds), one line per row.
pub fn table(summary: &Summary) -> String {
    let mut rows: Vec<[String; 12]> = vec![HEADERS.map(String::from)];
    rows.extend(summary.steps.iter().map(row));
    rows.push(row(&summary.total));
    let widths = column_widths(&rows);
    let mut out = String::new();
    for (i, r) in rows.iter().enumerate() {
        if i == rows.len() - 1 {
            out.push_str(&rule(&widths));
        }
        out.push_str(&aligned(r, &widths));
        if i == 0 {
            out.push_str(&rule(&widths));
        }
    }
    out
}

/// The widest cell of each column.
pub(super) fn column_widths<const N: usize>(rows: &[[String; N]]) -> Vec<usize> {
    (0..N)
        .map(|c| rows.iter().map(|r| r[c].chars().count()).max().unwrap_or(0))
        .collect()
}

/// One row as a line: the first column left-aligned, the others right-aligned.
pub(super) fn aligned(row: &[String], widths: &[usize]) -> String {
    let cells: Vec<String> = row
        .iter()
        .enumerate()
        .map(|(c, v)| {
            if c == 0 {
                format!("{v:<w$}", w = widths[c])
            } else {
                format!("{v:>w$}", w = widths[c])
            }
        })
        .collect();
    let mut line = cells.join("  ").trim_end().to_string();
    line.push('\n');
    line
}

fn rule(widths: &[usize]) -> String {
    let total = widths.iter().sum::<usize>() + 2 * (widths.len() - 1);
    format!("{}\n", "-".repeat(total))
}
