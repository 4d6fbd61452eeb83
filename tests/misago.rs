//! The seed's Misago flow (`examples/misago-load.sdb`) against a real
//! Misago 0.39 on loopback, installed and started by
//! `scripts/misago-test-server` (PostgreSQL and Redis from Debian's
//! packages, gunicorn): 20 users, every step succeeds, and the database
//! afterwards holds the users, threads and replies the flow created.

use std::path::{Path, PathBuf};
use std::process::Command;

fn script() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/misago-test-server")
}

/// The running forum; stopped (and its directory removed) when dropped.
struct Forum {
    dir: PathBuf,
    url: String,
}

impl Forum {
    fn start(dir: PathBuf) -> Forum {
        // One gunicorn worker: Misago 0.39 can deadlock in PostgreSQL when
        // two replies to one thread land at once (the seed's rare HTTP
        // 500s), and on a loaded machine the users bunch up enough for it.
        // One worker serves one request at a time, so every step must pass.
        let out = Command::new(script())
            .arg("start")
            .arg(&dir)
            .env("MISAGO_WORKERS", "1")
            .output()
            .expect("the script runs");
        let forum = Forum {
            dir,
            url: String::from_utf8_lossy(&out.stdout).trim().to_string(),
        };
        assert!(
            out.status.success() && forum.url.starts_with("http://127.0.0.1:"),
            "Misago did not start:\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
        forum
    }

    fn count(&self, sql: &str) -> u64 {
        let out = Command::new(script())
            .arg("sql")
            .arg(&self.dir)
            .arg(sql)
            .output()
            .expect("the script runs");
        let text = String::from_utf8_lossy(&out.stdout);
        text.trim().parse().unwrap_or_else(|_| {
            panic!(
                "`{sql}` gave {text:?}: {}",
                String::from_utf8_lossy(&out.stderr)
            )
        })
    }
}

impl Drop for Forum {
    fn drop(&mut self) {
        let _ = Command::new(script()).arg("stop").arg(&self.dir).status();
    }
}

#[test]
fn the_seed_flow_runs_against_a_real_misago() {
    let tmp = tempfile::tempdir().expect("temp dir");
    let forum = Forum::start(tmp.path().join("forum"));
    let report = tmp.path().join("report");
    let example = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/misago-load.sdb");
    let out = Command::new(env!("CARGO_BIN_EXE_sdbc"))
        .arg("loadtest")
        .arg(&example)
        .args(["--target", &forum.url, "--users", "20", "--report"])
        .arg(&report)
        .output()
        .expect("sdbc runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let summary: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(report.join("summary.json")).expect("summary written"),
    )
    .expect("summary is JSON");
    let steps = summary["steps"].as_array().expect("steps");
    assert_eq!(steps.len(), 18, "{stdout}");
    for s in steps {
        assert_eq!(s["samples"], 20, "{stdout}");
        assert_eq!(s["failures"], 0, "{stdout}");
    }
    // 20 users signed up; each started one thread and replied twice (to
    // its own thread and to a random one), so 20 threads and 60 posts.
    assert_eq!(forum.count("select count(*) from misago_users_user"), 20);
    assert_eq!(
        forum.count(
            "select count(*) from misago_threads_thread where title like 'Load test thread %'"
        ),
        20
    );
    assert_eq!(forum.count("select count(*) from misago_threads_post"), 60);
    assert_eq!(
        forum.count("select count(*) from misago_threads_post where original like 'A reply of %'"),
        40
    );
    assert_eq!(
        forum.count(
            "select count(*) from misago_threads_thread t join misago_users_user u \
             on t.starter_id = u.id where t.title = 'Load test thread ' || u.username"
        ),
        20
    );
}
