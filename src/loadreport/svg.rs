//! Line charts as SVG text: axes with round ticks, lines, shaded bands and
//! a legend. Written by hand (a few dozen lines) rather than with a
//! plotting crate; see docs/decisions/0017-loadtest.md.

use std::fmt::Write;

/// One line of a chart, with an optional band around it (low, high per point).
pub struct Series {
    pub name: String,
    pub points: Vec<(f64, f64)>,
    pub band: Vec<(f64, f64, f64)>,
}

const W: f64 = 900.0;
const H: f64 = 300.0;
const LEFT: f64 = 70.0;
const RIGHT: f64 = 170.0;
const TOP: f64 = 30.0;
const BOTTOM: f64 = 40.0;
/// Colours of the series in turn (Tableau 10).
const COLOURS: [&str; 10] = [
    "#4e79a7", "#f28e2b", "#e15759", "#76b7b2", "#59a14f", "#edc948", "#b07aa1", "#ff9da7",
    "#9c755f", "#bab0ac",
];

/// A round step for about five ticks up to `max`.
fn tick_step(max: f64) -> f64 {
    let raw = (max / 5.0).max(f64::MIN_POSITIVE);
    let mag = 10f64.powf(raw.log10().floor());
    [1.0, 2.0, 5.0, 10.0]
        .iter()
        .map(|m| m * mag)
        .find(|s| *s >= raw)
        .unwrap_or(10.0 * mag)
}

fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// The chart as an `<svg>` element.
pub fn chart(title: &str, x_label: &str, y_label: &str, series: &[Series]) -> String {
    let xs = series.iter().flat_map(|s| s.points.iter().map(|p| p.0));
    let x_max = xs.fold(1.0f64, f64::max);
    let y_max = series
        .iter()
        .flat_map(|s| {
            s.points
                .iter()
                .map(|p| p.1)
                .chain(s.band.iter().map(|b| b.2))
        })
        .fold(0.0f64, f64::max)
        .max(1e-9)
        * 1.05;
    let (pw, ph) = (W - LEFT - RIGHT, H - TOP - BOTTOM);
    let x = |v: f64| LEFT + v / x_max * pw;
    let y = |v: f64| TOP + ph - v / y_max * ph;
    let mut o = String::new();
    let _ = write!(
        o,
        r##"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {W} {H}" width="{W}" height="{H}" font-family="sans-serif" font-size="12"><rect width="{W}" height="{H}" fill="#fff"/><text x="{LEFT}" y="18" font-size="14" font-weight="bold">{}</text>"##,
        esc(title)
    );
    let (xs, ys) = (tick_step(x_max), tick_step(y_max));
    let mut t = 0.0;
    while t <= y_max {
        let _ = write!(
            o,
            r##"<line x1="{LEFT}" x2="{:.1}" y1="{:.1}" y2="{:.1}" stroke="#ddd"/><text x="{:.1}" y="{:.1}" text-anchor="end">{}</text>"##,
            LEFT + pw,
            y(t),
            y(t),
            LEFT - 6.0,
            y(t) + 4.0,
            fmt_num(t)
        );
        t += ys;
    }
    let mut t = 0.0;
    while t <= x_max {
        let _ = write!(
            o,
            r##"<line x1="{:.1}" x2="{:.1}" y1="{:.1}" y2="{:.1}" stroke="#999"/><text x="{:.1}" y="{:.1}" text-anchor="middle">{}</text>"##,
            x(t),
            x(t),
            TOP + ph,
            TOP + ph + 4.0,
            x(t),
            TOP + ph + 16.0,
            fmt_num(t)
        );
        t += xs;
    }
    let _ = write!(
        o,
        r##"<line x1="{LEFT}" x2="{LEFT}" y1="{TOP}" y2="{:.1}" stroke="#333"/><line x1="{LEFT}" x2="{:.1}" y1="{:.1}" y2="{:.1}" stroke="#333"/><text x="{:.1}" y="{:.1}" text-anchor="middle">{}</text><text transform="translate(16 {:.1}) rotate(-90)" text-anchor="middle">{}</text>"##,
        TOP + ph,
        LEFT + pw,
        TOP + ph,
        TOP + ph,
        LEFT + pw / 2.0,
        H - 6.0,
        esc(x_label),
        TOP + ph / 2.0,
        esc(y_label)
    );
    for (i, s) in series.iter().enumerate() {
        let c = COLOURS[i % COLOURS.len()];
        if !s.band.is_empty() {
            let upper = s
                .band
                .iter()
                .map(|b| format!("{:.1},{:.1}", x(b.0), y(b.2)));
            let lower = s
                .band
                .iter()
                .rev()
                .map(|b| format!("{:.1},{:.1}", x(b.0), y(b.1)));
            let pts: Vec<String> = upper.chain(lower).collect();
            let _ = write!(
                o,
                r##"<polygon points="{}" fill="{c}" fill-opacity="0.18" stroke="none"/>"##,
                pts.join(" ")
            );
        }
        let pts: Vec<String> = s
            .points
            .iter()
            .map(|p| format!("{:.1},{:.1}", x(p.0), y(p.1)))
            .collect();
        let _ = write!(
            o,
            r##"<polyline points="{}" fill="none" stroke="{c}" stroke-width="1.5"/>"##,
            pts.join(" ")
        );
        let ly = TOP + 14.0 * i as f64;
        let _ = write!(
            o,
            r##"<rect x="{:.1}" y="{:.1}" width="10" height="10" fill="{c}"/><text x="{:.1}" y="{:.1}">{}</text>"##,
            LEFT + pw + 12.0,
            ly,
            LEFT + pw + 26.0,
            ly + 9.0,
            esc(&s.name)
        );
    }
    o.push_str("</svg>");
    o
}

fn fmt_num(v: f64) -> String {
    if v >= 10.0 || v == v.trunc() {
        format!("{v:.0}")
    } else {
        format!("{v:.1}")
    }
}
