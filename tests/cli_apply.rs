//! What a newcomer sees around `apply`, with the real binary against an
//! in-process fake Compute Engine: no token needed for a loopback endpoint,
//! outputs in plan, plan JSON and after apply, `sdbc output`, and retries
//! to a dead endpoint said out loud.

mod support;

use std::io::{BufRead, BufReader};
use std::time::{Duration, Instant};

use support::apply::{Fake, Work};

const PROGRAM: &str = "\
vm web e2-small static_ip=true;
output site = \"https://forum.example\";
output web_ip = web.external_ip;
";

#[test]
fn outputs_without_a_token_against_the_fake() {
    let fake = Fake::quick(5, 1);
    let work = Work::program(&fake, "outs", PROGRAM);
    let no_token = |args: &[&str]| {
        let mut c = work.command(args);
        c.env_remove("GOOGLE_OAUTH_ACCESS_TOKEN");
        support::apply::Run::from_output(c.output().expect("run sdbc"))
    };
    let file = work.file_name();

    let plan = no_token(&["plan", &file]);
    plan.expect_code(0, "plan");
    assert!(
        plan.stdout.contains("site   = https://forum.example"),
        "{}",
        plan.stdout
    );
    assert!(
        plan.stdout
            .contains("web_ip = (known after apply: address of gce.address.web-ip)"),
        "{}",
        plan.stdout
    );
    assert!(
        !plan.stderr.contains("planned offline"),
        "a loopback endpoint is used: {}",
        plan.stderr
    );
    let json = no_token(&["plan", &file, "--json"]);
    let parsed: serde_json::Value = serde_json::from_str(&json.stdout).expect("plan JSON");
    assert_eq!(parsed["outputs"][0]["name"], "site");
    assert_eq!(parsed["outputs"][0]["value"], "https://forum.example");
    assert_eq!(
        parsed["outputs"][1]["after_apply"],
        "address of gce.address.web-ip"
    );

    let pending = no_token(&["output", &file, "web_ip"]);
    pending.expect_code(1, "output before apply");
    assert!(
        pending.stderr.contains("known only after apply"),
        "{}",
        pending.stderr
    );

    let apply = no_token(&["apply", &file, "--auto-approve"]);
    apply.expect_code(0, "apply without a token");
    let ip = work.state().resources["gce.address.web-ip"].assigned["address"].clone();
    assert!(
        apply.stdout.contains(&format!("web_ip = {ip}")),
        "{}",
        apply.stdout
    );

    let one = no_token(&["output", &file, "web_ip"]);
    one.expect_code(0, "output NAME");
    assert_eq!(one.stdout.trim(), ip);
    let all = no_token(&["output", &file, "--json"]);
    let all: serde_json::Value = serde_json::from_str(&all.stdout).expect("output JSON");
    assert_eq!(
        all,
        serde_json::json!({"site": "https://forum.example", "web_ip": ip})
    );
    let typo = no_token(&["output", &file, "web_iq"]);
    typo.expect_code(2, "unknown output");
    assert!(
        typo.stderr.contains("did you mean `web_ip`?"),
        "{}",
        typo.stderr
    );
}

/// Against an endpoint nobody listens on, each retry is reported at once
/// (what failed, why, which attempt) instead of a long silence.
#[test]
fn retries_to_a_dead_endpoint_are_reported() {
    let fake = Fake::quick(5, 2);
    let mut work = Work::program(&fake, "dead", "vm web e2-small;\n");
    // A port just released: nothing listens there.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port();
    work.endpoint = format!("http://127.0.0.1:{port}/compute/v1/");
    let file = work.file_name();
    let mut child = work
        .command(&["plan", &file])
        .spawn()
        .expect("spawn sdbc plan");
    let stderr = child.stderr.take().expect("piped stderr");
    let started = Instant::now();
    let mut first = None;
    for line in BufReader::new(stderr).lines() {
        let line = line.expect("stderr is text");
        if line.starts_with("retrying") {
            first = Some(line);
            break;
        }
    }
    let waited = started.elapsed();
    let _ = child.kill();
    let _ = child.wait();
    let line = first.expect("a retry line before the run ends");
    assert!(
        waited < Duration::from_secs(10),
        "the first retry line took {waited:?}"
    );
    assert!(line.contains("(attempt 2 of "), "{line}");
    assert!(line.contains("GET projects/"), "{line}");
    assert!(line.to_lowercase().contains("connect"), "{line}");
}
