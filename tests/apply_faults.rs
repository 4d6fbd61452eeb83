//! Surviving faults: seeded runs in which the fake answers 10% of requests
//! with 5xx/429, drops connections, loses the answers of calls it carried
//! out and fails some operations, while `sdbc apply` (or `destroy`) is
//! killed with SIGKILL at a random moment. A plain re-run (faults still on,
//! at a lower rate, repeated until it succeeds) must leave the fake exactly
//! at the desired set: nothing missing, no duplicate, no orphan (every
//! resource the fake holds is in state, boot disks of instances aside), all
//! VMs running, and a final plan with no changes.
//!
//! The fake also holds another stack's resources: some under the same names
//! in other zones and regions, some beside the program's in the same
//! collections. Every run must end with them exactly as they were.
//!
//! Runs alternate between the two ways the real API behaves while an
//! insert is in progress: the resource appears only when its operation is
//! DONE and a second insert or delete fails in its operation
//! (`RESOURCE_ALREADY_EXISTS`, `RESOURCE_NOT_FOUND`), or the resource
//! appears at once and a second insert answers 409.
//!
//! Each run has its own fake and directory; a few run at once since they
//! mostly wait (on operations and retry backoff).

mod support;

use std::collections::BTreeSet;
use std::process::Stdio;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use fake_gce::{Appearance, Faults};
use serde_json::{Value, json};
use support::apply::{Fake, PROJECT, Work, small_program};

#[derive(Debug, Clone, Copy)]
enum Scenario {
    /// From nothing.
    Create,
    /// From applied: two VMs fewer, the rest a bigger machine type.
    ShrinkAndResize,
    /// From applied: two VMs more and a label on the head VM.
    GrowAndLabel,
    /// From applied: destroy everything.
    Destroy,
}

impl Scenario {
    fn of(seed: u64) -> Scenario {
        match seed % 6 {
            0..=2 => Scenario::Create,
            3 => Scenario::ShrinkAndResize,
            4 => Scenario::GrowAndLabel,
            _ => Scenario::Destroy,
        }
    }
}

fn heavy() -> Faults {
    Faults {
        error_rate: 0.10,
        drop_rate: 0.02,
        lost_response_rate: 0.03,
        latency: Duration::from_millis(2),
        op_error_rate: 0.02,
    }
}

fn light() -> Faults {
    Faults {
        error_rate: 0.03,
        drop_rate: 0.01,
        lost_response_rate: 0.01,
        latency: Duration::from_millis(1),
        op_error_rate: 0.01,
    }
}

/// The two behaviours of inserts in progress, by seed (each scenario
/// meets both).
fn mode(seed: u64) -> (Appearance, bool) {
    if (seed / 6).is_multiple_of(2) {
        (Appearance::WhenDone, true)
    } else {
        (Appearance::WhenAccepted, false)
    }
}

/// Another stack's resources: the same names in other places, and
/// neighbours in the program's own collections. Returns them as made.
fn foreign_stack(fake: &Fake) -> Vec<(String, Value)> {
    let mark = json!({"sdbc-managed": "true", "sdbc-stack": "other",
                      "sdbc-lineage": "7d5c2a10-0000-4000-8000-000000000001"});
    let description = "sdbc-managed sdbc-stack=other \
                       sdbc-lineage=7d5c2a10-0000-4000-8000-000000000001: network";
    let p = format!("projects/{PROJECT}");
    let made = [
        (
            format!("{p}/zones/europe-west1-c/disks"),
            json!({"name": "data", "sizeGb": "10", "labels": mark}),
        ),
        (
            format!("{p}/zones/europe-west1-b/disks"),
            json!({"name": "node-9", "sizeGb": "10", "labels": mark}),
        ),
        (
            format!("{p}/regions/europe-west2/addresses"),
            json!({"name": "head-ip", "labels": mark}),
        ),
        (
            format!("{p}/regions/europe-west1/addresses"),
            json!({"name": "other-ip", "labels": mark}),
        ),
        (
            format!("{p}/global/networks"),
            json!({"name": "other-net", "description": description,
                                               "autoCreateSubnetworks": false}),
        ),
    ];
    for (collection, body) in &made {
        fake.insert(collection, body.clone());
    }
    let all = fake.resources();
    made.iter()
        .map(|(c, b)| {
            let key = format!("{c}/{}", b["name"].as_str().unwrap_or_default());
            let held = all.get(&key).cloned().unwrap_or(Value::Null);
            (key, held)
        })
        .collect()
}

#[derive(Debug, Default)]
struct Outcome {
    /// Killed after it had sent this many mutating requests (`None`: it
    /// finished before the moment drawn for the kill).
    killed_after: Option<usize>,
    reruns: u32,
}

/// One seeded run; `Err` says what went wrong.
fn run_one(seed: u64, misago: bool) -> Result<Outcome, String> {
    let mut rng = fastrand::Rng::with_seed(seed);
    let (appearance, late_conflicts) = mode(seed);
    // Longer operations where a resource appears only at the end, so that
    // kills often leave inserts and deletes running.
    let op_ms = if late_conflicts {
        rng.u64(5..=60)
    } else {
        rng.u64(1..=5)
    };
    let fake = Fake::start(fake_gce::FakeConfig {
        op_pending: Duration::from_millis(1),
        op_running: Duration::from_millis(op_ms),
        seed,
        appearance,
        late_conflicts,
        ..fake_gce::FakeConfig::default()
    });
    let foreign = foreign_stack(&fake);
    let scenario = if misago {
        Scenario::Create
    } else {
        Scenario::of(seed)
    };
    let work = if misago {
        Work::misago(&fake)
    } else {
        Work::program(&fake, "small", &small_program(4))
    };
    let verb = match scenario {
        Scenario::Destroy => "destroy",
        _ => "apply",
    };
    if !matches!(scenario, Scenario::Create) {
        let setup = work.apply();
        if !setup.ok() {
            return Err(format!("setup apply failed:\n{}", setup.stderr));
        }
    }
    match scenario {
        Scenario::ShrinkAndResize => work.edit("vm node[4] e2-small", "vm node[2] e2-medium"),
        Scenario::GrowAndLabel => {
            work.edit("vm node[4]", "vm node[6]");
            work.edit(
                "vm head e2-small static_ip=true",
                "vm head e2-small static_ip=true labels={ role: \"head\" }",
            );
        }
        Scenario::Create | Scenario::Destroy => {}
    }

    // The run that dies.
    fake.clear_log();
    fake.set_faults(heavy());
    let file = work.file_name();
    let mut child = work
        .command(&[verb, &file, "--auto-approve", "--allow-data-loss"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .map_err(|e| format!("spawn: {e}"))?;
    // Half the runs die at a random time, half a random moment after their
    // k-th change was sent (so that kills land among the changes).
    let changes = match scenario {
        Scenario::Create if misago => 20,
        Scenario::Create | Scenario::Destroy => 11,
        Scenario::ShrinkAndResize => 8,
        Scenario::GrowAndLabel => 3,
    };
    let by_time = rng.bool();
    let kill_at = Duration::from_millis(rng.u64(20..=if misago { 2500 } else { 1800 }));
    let kth = rng.usize(1..=changes);
    let after_kth = Duration::from_millis(rng.u64(0..=20));
    let started = Instant::now();
    let mut kth_seen: Option<Instant> = None;
    let mut outcome = Outcome::default();
    loop {
        if child.try_wait().map_err(|e| e.to_string())?.is_some() {
            break;
        }
        if !by_time && kth_seen.is_none() && fake.mutations().len() >= kth {
            kth_seen = Some(Instant::now());
        }
        let due = if by_time {
            started.elapsed() >= kill_at
        } else {
            kth_seen.is_some_and(|t| t.elapsed() >= after_kth)
        };
        if due {
            child.kill().map_err(|e| format!("kill: {e}"))?; // SIGKILL
            child.wait().map_err(|e| e.to_string())?;
            outcome.killed_after = Some(fake.mutations().len());
            break;
        }
        std::thread::sleep(Duration::from_millis(2));
    }

    // Plain re-runs until one succeeds.
    fake.set_faults(light());
    let mut last = String::new();
    loop {
        outcome.reruns += 1;
        let rerun = work.sdbc(verb, &["--auto-approve", "--allow-data-loss"]);
        if rerun.ok() {
            break;
        }
        last = rerun.stderr;
        if outcome.reruns >= 8 {
            return Err(format!(
                "{verb} still failing after {} re-runs:\n{last}",
                outcome.reruns
            ));
        }
    }
    fake.set_faults(Faults::default());
    if !fake.settle() {
        return Err("operations still running 30 s after the last run".into());
    }

    // Exactly the desired set, and the state knows all of it.
    let desired: BTreeSet<String> = match scenario {
        Scenario::Destroy => BTreeSet::new(),
        _ => work.desired().into_keys().collect(),
    };
    let all = fake.resources();
    let changed: Vec<&String> = foreign
        .iter()
        .filter(|(k, v)| all.get(k) != Some(v))
        .map(|(k, _)| k)
        .collect();
    if !changed.is_empty() {
        return Err(format!("{scenario:?}: another stack's {changed:?} changed"));
    }
    let mut held = fake.keys_without_boot_disks();
    for (k, _) in &foreign {
        held.remove(k);
    }
    let state = work.state_keys();
    let missing: Vec<_> = desired.difference(&held).collect();
    let extra: Vec<_> = held.difference(&desired).collect();
    let orphans: Vec<_> = held.difference(&state).collect();
    let phantom: Vec<_> = state.difference(&held).collect();
    if !(missing.is_empty() && extra.is_empty() && orphans.is_empty() && phantom.is_empty()) {
        return Err(format!(
            "{scenario:?}: missing {missing:?}, extra {extra:?}, not in state {orphans:?}, \
             in state only {phantom:?}; last failed re-run:\n{last}"
        ));
    }
    if matches!(scenario, Scenario::Destroy) && all.len() != foreign.len() {
        return Err(format!("destroy left {:?}", all.keys().collect::<Vec<_>>()));
    }
    let stopped: Vec<&String> = all
        .iter()
        .filter(|(k, v)| k.contains("/instances/") && v["status"] != "RUNNING")
        .map(|(k, _)| k)
        .collect();
    if !stopped.is_empty() {
        return Err(format!("{scenario:?}: VMs left not running: {stopped:?}"));
    }
    if work.store().lock_path().exists() {
        return Err("the lock is still there".into());
    }
    let plan = work.sdbc("plan", &["--detailed-exitcode"]);
    let expected = if matches!(scenario, Scenario::Destroy) {
        2 // the program still wants everything
    } else {
        0
    };
    if plan.code != Some(expected) {
        return Err(format!(
            "{scenario:?}: final plan exit {:?}:\n{}{}",
            plan.code, plan.stdout, plan.stderr
        ));
    }
    Ok(outcome)
}

#[test]
fn killed_runs_converge_on_a_plain_rerun() {
    const SMALL_RUNS: u64 = 102;
    const MISAGO_RUNS: u64 = 6;
    const FIRST_SEED: u64 = 1000;
    const THREADS: usize = 6;
    let t0 = Instant::now();
    let next = AtomicU64::new(0);
    let failures: Mutex<Vec<String>> = Mutex::new(Vec::new());
    let killed = AtomicU64::new(0);
    let killed_mid_changes = AtomicU64::new(0);
    let reruns = AtomicU64::new(0);
    let most_reruns = AtomicU64::new(0);
    std::thread::scope(|s| {
        for _ in 0..THREADS {
            s.spawn(|| {
                loop {
                    let i = next.fetch_add(1, Ordering::SeqCst);
                    if i >= SMALL_RUNS + MISAGO_RUNS {
                        return;
                    }
                    let seed = FIRST_SEED + i;
                    let misago = i >= SMALL_RUNS;
                    match run_one(seed, misago) {
                        Ok(o) => {
                            if let Some(sent) = o.killed_after {
                                killed.fetch_add(1, Ordering::SeqCst);
                                if sent > 0 {
                                    killed_mid_changes.fetch_add(1, Ordering::SeqCst);
                                }
                            }
                            reruns.fetch_add(u64::from(o.reruns), Ordering::SeqCst);
                            most_reruns.fetch_max(u64::from(o.reruns), Ordering::SeqCst);
                        }
                        Err(e) => failures
                            .lock()
                            .unwrap_or_else(|p| p.into_inner())
                            .push(format!(
                                "seed {seed} (misago: {misago}, {:?}): {e}",
                                mode(seed)
                            )),
                    }
                }
            });
        }
    });
    let runs = SMALL_RUNS + MISAGO_RUNS;
    println!(
        "fault runs: {runs} (seeds {FIRST_SEED}..{}), {} killed mid-run ({} after sending \
         changes), {} re-runs in all (at most {} for one run), {:.1}s",
        FIRST_SEED + runs,
        killed.load(Ordering::SeqCst),
        killed_mid_changes.load(Ordering::SeqCst),
        reruns.load(Ordering::SeqCst),
        most_reruns.load(Ordering::SeqCst),
        t0.elapsed().as_secs_f64()
    );
    let failures = failures.into_inner().unwrap_or_else(|p| p.into_inner());
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
    assert!(
        killed.load(Ordering::SeqCst) >= runs / 2,
        "most runs must actually be killed mid-run"
    );
}
