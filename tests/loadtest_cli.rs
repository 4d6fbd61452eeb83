//! `sdbc loadtest` as a user runs it, against the loopback test server:
//! the table, an assertion that fails with its figure beside the limit
//! (exit 1), the report files, `--compare`, and the report page in
//! headless Chromium (its plots are drawn: the screenshot is not blank and
//! shows the plots' colours).

use std::path::Path;
use std::process::{Command, Output};

#[path = "support/png.rs"]
mod png;
#[path = "support/loadtest_server.rs"]
mod server;

const PROGRAM: &str = r#"
param target = "http://127.0.0.1:1";
loadtest smoke target=target users=3 iterations=4 think=50ms {
  step login GET "/login" { extract csrf cookie="csrftoken"; }
  step hello GET "/hello";
  step risky GET "/fail?user=${user.id}";
  assert p95 max=5s;
  assert errors max="1%";
  assert max max=10s step=hello;
}
"#;

fn sdbc(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_sdbc"))
        .args(args)
        .env("NO_COLOR", "1")
        .output()
        .expect("sdbc runs")
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn run_report_assert_compare_and_render() {
    let srv = server::start(None).await;
    let dir = tempfile::tempdir().expect("temp dir");
    let program = dir.path().join("smoke.sdb");
    std::fs::write(&program, PROGRAM).expect("write program");
    let report = dir.path().join("report");
    let (p, r) = (program.display().to_string(), report.display().to_string());
    let var = format!("target={}", srv.url);
    let out =
        tokio::task::spawn_blocking(move || sdbc(&["loadtest", &p, "--var", &var, "--report", &r]))
            .await
            .expect("joined");
    let stdout = text(&out.stdout);
    // User 0's `risky` fails in each of its 4 iterations: 4 of 36 samples.
    assert_eq!(
        out.status.code(),
        Some(1),
        "{stdout}\n{}",
        text(&out.stderr)
    );
    assert!(
        stdout.contains("assert errors < 1%: 11.111% FAILED"),
        "{stdout}"
    );
    assert!(stdout.contains("assert p95 < 5000 ms: "), "{stdout}");
    assert!(
        stdout.contains("assert max of hello < 10000 ms: "),
        "{stdout}"
    );
    let seen = srv.seen.lock().expect("not poisoned");
    assert_eq!(seen.counts.get("/login"), Some(&12));
    drop(seen);
    let total = stdout
        .lines()
        .find(|l| l.starts_with("TOTAL"))
        .expect("a total row");
    assert!(total.split_whitespace().nth(1) == Some("36"), "{total}");

    let jtl = std::fs::read_to_string(report.join("samples.jtl")).expect("JTL written");
    assert_eq!(jtl.lines().count(), 37);
    assert!(jtl.starts_with("timeStamp,elapsed,label,responseCode,"));
    assert_eq!(jtl.lines().filter(|l| l.contains(",risky,500,")).count(), 4);
    let summary = report.join("summary.json").display().to_string();
    let cmp = sdbc(&["loadtest", "--compare", &summary, &summary]);
    assert_eq!(cmp.status.code(), Some(0), "{}", text(&cmp.stderr));
    let cmp = text(&cmp.stdout);
    for step in ["login", "hello", "risky", "TOTAL"] {
        let line = cmp
            .lines()
            .find(|l| l.starts_with(step))
            .expect("a row per step");
        assert!(line.contains("+0.0%") || line.contains(" = "), "{line}");
    }
    screenshot(&report.join("index.html"), dir.path());
}

/// Renders the page in headless Chromium and checks that the plots show.
fn screenshot(page: &Path, dir: &Path) {
    let png_path = dir.join("shot.png");
    let out = Command::new("chromium")
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--hide-scrollbars",
            "--window-size=1000,1500",
            &format!("--screenshot={}", png_path.display()),
            &format!("file://{}", page.display()),
        ])
        .output()
        .expect("chromium runs (scripts/test installs it)");
    let bytes = std::fs::read(&png_path)
        .unwrap_or_else(|e| panic!("no screenshot ({e}): {}", text(&out.stderr)));
    let img = png::decode(&bytes).expect("a PNG Chromium wrote");
    assert_eq!((img.width, img.height), (1000, 1500));
    let non_white = img.pixels.iter().filter(|p| **p != [255, 255, 255]).count();
    let mut colours: Vec<[u8; 3]> = img.pixels.clone();
    colours.sort_unstable();
    colours.dedup();
    // The first series' colour (#4e79a7) is drawn by the plots only.
    let blue = img
        .pixels
        .iter()
        .filter(|p| **p == [0x4e, 0x79, 0xa7])
        .count();
    assert!(
        non_white > img.pixels.len() / 50,
        "{non_white} non-white pixels"
    );
    assert!(colours.len() > 50, "{} colours", colours.len());
    assert!(blue > 200, "{blue} pixels of the plots' blue");
}
