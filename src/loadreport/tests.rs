//! The report's figures and files over a small hand-made recording.

use super::*;
use crate::model::loadtest::{Assertion, Limit, Metric};

fn sample(step: u16, start_ms: u64, ms: u64, status: u16, error: Option<&str>) -> Sample {
    Sample {
        step,
        user: 0,
        iteration: 0,
        start_us: start_ms * 1000,
        elapsed_us: ms * 1000,
        ttfb_us: ms * 500,
        status,
        bytes: 100,
        sent_bytes: 10,
        error: error.map(Into::into),
        active: 1,
    }
}

fn recording() -> Recording {
    let mut samples: Vec<Sample> = (0..100)
        .map(|i| sample(0, i * 10, i + 1, 200, None))
        .collect();
    samples.push(sample(
        1,
        500,
        40,
        500,
        Some("status 500, expected 200 to 399"),
    ));
    samples.push(sample(1, 600, 20, 200, None));
    Recording {
        test: "t".into(),
        target: "http://127.0.0.1:1".into(),
        model: "closed, 1 users".into(),
        steps: vec!["home".into(), "post, \"quoted\"".into()],
        started_unix_ms: 1_000_000,
        duration_us: 2_000_000,
        samples,
    }
}

#[test]
fn figures_per_step_and_total() {
    let s = summarize(&recording());
    let home = &s.steps[0];
    assert_eq!((home.samples, home.failures), (100, 0));
    assert_eq!((home.min_ms, home.max_ms), (1.0, 100.0));
    // Percentiles within the histogram's 0.1%.
    for (got, want) in [
        (home.median_ms, 50.0),
        (home.p90_ms, 90.0),
        (home.p99_ms, 99.0),
    ] {
        assert!((got - want).abs() <= want / 1000.0, "{got} for {want}");
    }
    assert_eq!(home.mean_ms, 50.5);
    assert_eq!(home.throughput, 50.0);
    assert_eq!(s.steps[1].failure_pct, 50.0);
    assert_eq!(s.total.samples, 102);
    assert_eq!(s.total.statuses.get("500"), Some(&1));
}

#[test]
fn assertions_show_the_figure_beside_the_limit() {
    let s = summarize(&recording());
    let asserts = [
        (Metric::P90, Limit::Millis(100), None),
        (Metric::Max, Limit::Millis(30), Some("post, \"quoted\"")),
        (Metric::Errors, Limit::Percent(1.0), None),
        (Metric::Errors, Limit::Count(1), None),
    ]
    .map(|(metric, limit, step)| Assertion {
        metric,
        limit,
        step: step.map(String::from),
        span: Default::default(),
    });
    let out = check_asserts(&s, &asserts);
    let passed: Vec<bool> = out.iter().map(|o| o.passed).collect();
    assert_eq!(passed, [true, false, true, true]);
    assert_eq!(out[1].figure, "40.0 ms");
    assert_eq!(out[1].limit, "< 30 ms");
    assert_eq!(out[2].figure, "0.980%");
    assert_eq!(out[3].limit, "<= 1 errors");
}

#[test]
fn jtl_quotes_fields_and_orders_by_start() {
    let jtl = jtl(&recording());
    let lines: Vec<&str> = jtl.lines().collect();
    assert_eq!(lines.len(), 103);
    assert_eq!(
        lines[1],
        "1000000,1,home,200,OK,t 1-1,text,true,,100,10,1,1,,0,0,0"
    );
    let failed = lines
        .iter()
        .find(|l| l.contains(",500,"))
        .expect("the failure");
    assert_eq!(
        *failed,
        "1000500,40,\"post, \"\"quoted\"\"\",500,FAILED,t 1-1,text,false,\"status 500, expected 200 to 399\",100,10,1,1,,20,0,0"
    );
}

#[test]
fn table_and_comparison() {
    let a = summarize(&recording());
    let table = table(&a);
    assert!(table.starts_with("step "), "{table}");
    assert!(
        table
            .lines()
            .any(|l| l.starts_with("TOTAL") && l.contains(" 102 "))
    );
    let mut b = a.clone();
    b.steps[0].mean_ms = 101.0;
    let cmp = compare(&a, &b);
    let home = cmp
        .lines()
        .find(|l| l.starts_with("home"))
        .expect("a home row");
    assert!(
        home.contains("50.5") && home.contains("101.0") && home.contains("+100.0%"),
        "{home}"
    );
}

#[test]
fn the_page_holds_the_table_and_four_plots() {
    let rec = recording();
    let page = html(&rec, &summarize(&rec));
    assert_eq!(page.matches("<svg").count(), 4);
    assert!(page.contains("post, \"quoted\""));
    assert!(page.contains("<polyline"));
    assert_eq!(page, html(&rec, &summarize(&rec)), "byte-stable");
}
