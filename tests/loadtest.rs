//! `sdbc loadtest` against a small HTTP server on loopback started by the
//! test: exact counts, statuses and extracted values; a failing step ends
//! only that user's iteration; ramp-up and think times as declared; the
//! open model keeps its rate through a server stall and the stall shows in
//! the percentiles. Then the command itself: report files, assertions and
//! `--compare`.

use std::collections::BTreeMap;
use std::time::Duration;

#[path = "support/loadtest_server.rs"]
mod server;

use sdbc::exec::loadtest::run;
use sdbc::loadreport::{Recording, summarize};
use sdbc::model::loadtest::LoadTest;
use sdbc::sema::{DiskReader, Env, analyze_bytes};

/// The only load test of a program that must check clean.
fn test_of(src: &str) -> LoadTest {
    let env = Env {
        vars: BTreeMap::new(),
        getenv: Box::new(|_| None),
        reader: &DiskReader,
    };
    let a = analyze_bytes("t.sdb", None, src.as_bytes().to_vec(), &env);
    assert!(!a.has_errors(), "{:#?}", a.diagnostics);
    assert_eq!(a.model.loadtests.len(), 1);
    a.model.loadtests[0].clone()
}

async fn go(src: &str, url: &str) -> Recording {
    run(&test_of(src), url, |_| {})
        .await
        .expect("the run starts")
}

fn count(rec: &Recording, step: &str, ok: bool) -> usize {
    let i = rec
        .steps
        .iter()
        .position(|s| s == step)
        .expect("step exists");
    rec.samples
        .iter()
        .filter(|s| usize::from(s.step) == i && s.ok() == ok)
        .count()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn counts_statuses_and_extracted_values_are_exact() {
    let srv = server::start(None).await;
    let rec = go(
        r#"
loadtest flow users=4 iterations=3 {
  step login GET "/login" expect=200 {
    extract token json="/token";
    extract csrf cookie="csrftoken";
    extract pick json="/items/*/id" pick=random;
  }
  step echo POST "/echo" headers={ "X-CSRFToken": "${csrf}" }
    json={ token: token, pick: pick, user: user.name } expect=200 {
    extract who json="/user";
  }
}
"#,
        &srv.url,
    )
    .await;
    assert_eq!(count(&rec, "login", true), 12);
    assert_eq!(count(&rec, "echo", true), 12);
    assert_eq!(rec.samples.len(), 24);
    assert!(rec.samples.iter().all(|s| s.status == 200));
    let seen = srv.seen.lock().expect("not poisoned");
    assert_eq!(seen.counts.get("/login"), Some(&12));
    assert_eq!(seen.counts.get("/echo"), Some(&12));
    assert!(seen.mismatches.is_empty(), "{:?}", seen.mismatches);
    assert_eq!(seen.picked.len(), 12);
    // pick=random: with 12 picks of 3, at least two different ids.
    let mut distinct = seen.picked.clone();
    distinct.sort_unstable();
    distinct.dedup();
    assert!(distinct.len() >= 2, "{:?}", seen.picked);
    let summary = summarize(&rec);
    assert_eq!(summary.total.samples, 24);
    assert_eq!(summary.total.failures, 0);
    assert_eq!(summary.total.statuses.get("200"), Some(&24));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_step_ends_only_that_users_iteration() {
    let srv = server::start(None).await;
    let rec = go(
        r#"
loadtest flow users=3 iterations=2 {
  step first GET "/hello";
  step risky GET "/fail?user=${user.id}";
  step last GET "/hello";
}
"#,
        &srv.url,
    )
    .await;
    assert_eq!(count(&rec, "first", true), 6);
    assert_eq!(count(&rec, "risky", true), 4);
    assert_eq!(count(&rec, "risky", false), 2);
    assert_eq!(count(&rec, "last", true), 4);
    let failed: Vec<_> = rec.samples.iter().filter(|s| !s.ok()).collect();
    assert!(failed.iter().all(|s| s.user == 0 && s.status == 500));
    assert_eq!(
        failed[0].error.as_deref(),
        Some("status 500, expected 200 to 399")
    );
    // User 0 ran both iterations (the failure ended only the first).
    let iterations: Vec<u32> = failed.iter().map(|s| s.iteration).collect();
    assert_eq!(iterations.len(), 2);
    assert!(iterations.contains(&0) && iterations.contains(&1));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ramp_up_spreads_user_starts() {
    let srv = server::start(None).await;
    let rec = go(
        r#"loadtest ramp users=5 ramp=2s iterations=1 { step one GET "/hello"; }"#,
        &srv.url,
    )
    .await;
    let mut starts: Vec<(u32, u64)> = rec.samples.iter().map(|s| (s.user, s.start_us)).collect();
    starts.sort_unstable();
    assert_eq!(starts.len(), 5);
    for (user, start) in starts {
        let planned = u64::from(user) * 400_000;
        assert!(
            start >= planned && start < planned + 150_000,
            "user {user} started at {start} µs, planned {planned}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn think_times_are_honoured() {
    let srv = server::start(None).await;
    let rec = go(
        r#"
loadtest think users=2 iterations=2 think=300ms {
  step one GET "/hello";
  step two GET "/hello" think=100ms;
}
"#,
        &srv.url,
    )
    .await;
    for user in 0..2 {
        let mut mine: Vec<_> = rec.samples.iter().filter(|s| s.user == user).collect();
        mine.sort_by_key(|s| s.start_us);
        assert_eq!(mine.len(), 4);
        let gaps: Vec<u64> = mine
            .windows(2)
            .map(|w| w[1].start_us - (w[0].start_us + w[0].elapsed_us))
            .collect();
        // one -> two waits 300 ms, two -> one 100 ms, one -> two 300 ms.
        for (gap, want) in gaps.iter().zip([300_000, 100_000, 300_000]) {
            assert!(
                *gap >= want && *gap < want + 100_000,
                "user {user}: gaps {gaps:?}"
            );
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn open_model_keeps_its_rate_through_a_stall() {
    // Every request arriving between 0.5 s and 1 s waits until 1 s.
    let srv = server::start(Some((
        Duration::from_millis(500),
        Duration::from_millis(1000),
    )))
    .await;
    let rec = go(
        r#"loadtest open model=open rate=200 connections=1000 iterations=400 { step one GET "/hello"; }"#,
        &srv.url,
    )
    .await;
    assert_eq!(rec.samples.len(), 400);
    assert!(rec.samples.iter().all(|s| s.ok()));
    let seen = srv.seen.lock().expect("not poisoned");
    // 200/s: about 100 arrivals in the half second of the stall, as outside it.
    let in_stall = seen
        .arrivals
        .iter()
        .filter(|a| (Duration::from_millis(500)..Duration::from_millis(1000)).contains(a))
        .count();
    assert!(
        (80..=120).contains(&in_stall),
        "{in_stall} arrivals during the stall"
    );
    let last = seen.arrivals.iter().max().expect("requests arrived");
    assert!(
        *last < Duration::from_millis(2300),
        "last arrival at {last:?}"
    );
    let s = summarize(&rec);
    // A quarter of the requests waited up to half a second: p90 shows it,
    // the median does not.
    assert!(s.total.p90_ms > 200.0, "p90 {}", s.total.p90_ms);
    assert!(s.total.max_ms > 400.0, "max {}", s.total.max_ms);
    assert!(s.total.median_ms < 100.0, "median {}", s.total.median_ms);
}
