//! `sdbc plan`, `apply` and `destroy` as a user runs them: the real binary
//! against an in-process fake Compute Engine. The misago example from
//! nothing to running, no-op runs that send nothing, single-attribute
//! changes that touch only what changed, scaling a group, destroy; saved
//! plans, confirmation, offline plans; the state lock.

mod support;

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use support::apply::{Fake, Work, body_differences, short, small_program};

fn mutations_of(fake: &Fake) -> Vec<String> {
    fake.mutations()
        .into_iter()
        .map(|(m, p)| format!("{m} {p}"))
        .collect()
}

/// The fake holds exactly what the program wants (boot disks aside), and
/// the state tracks exactly that.
fn assert_converged(fake: &Fake, work: &Work) {
    let desired: BTreeSet<String> = work.desired().into_keys().collect();
    let held = fake.keys_without_boot_disks();
    assert_eq!(held, desired, "the fake holds what the program wants");
    assert_eq!(work.state_keys(), desired, "the state tracks exactly that");
}

#[test]
fn misago_apply_noop_changes_scale_and_destroy() {
    let fake = Fake::quick(2, 1);
    let work = Work::misago(&fake);

    // From nothing: every resource exists with the body `build` shows.
    work.apply().expect_code(0, "first apply");
    let desired = work.desired();
    assert_eq!(desired.len(), 20, "misago: 20 Compute Engine resources");
    let held = fake.resources();
    for (key, body) in &desired {
        let actual = held
            .get(key)
            .unwrap_or_else(|| panic!("{} was not created", short(key)));
        let diffs = body_differences(body, actual);
        assert!(diffs.is_empty(), "{}: {diffs:#?}", short(key));
    }
    // Spot checks of what the comparison covers.
    let worker3 = &held["projects/demo/zones/europe-west1-b/instances/worker-3"];
    assert!(
        worker3["machineType"]
            .as_str()
            .is_some_and(|m| m.ends_with("/zones/europe-west1-b/machineTypes/e2-standard-2"))
    );
    assert_eq!(worker3["labels"]["sdbc-stack"], "misago");
    assert_converged(&fake, &work);
    let boot_disks = held.len() - desired.len();
    assert_eq!(boot_disks, 8, "one boot disk per VM");

    // Again: nothing to do, nothing sent.
    work.sdbc("plan", &["--detailed-exitcode"])
        .expect_code(0, "plan after apply");
    fake.clear_log();
    let again = work.apply();
    again.expect_code(0, "second apply");
    assert_eq!(mutations_of(&fake), Vec::<String>::new());
    assert!(again.stderr.contains("No changes"), "{}", again.stderr);

    let vm = "projects/demo/zones/europe-west1-b/instances";

    // A machine type: stop, set, start that VM and nothing else.
    work.edit("vm monitoring e2-standard-2", "vm monitoring e2-standard-4");
    let plan = work.sdbc("plan", &["--detailed-exitcode"]);
    plan.expect_code(2, "plan with a machine type change");
    assert!(
        plan.stdout.contains("update with restart"),
        "{}",
        plan.stdout
    );
    fake.clear_log();
    work.apply().expect_code(0, "apply machine type");
    assert_eq!(
        mutations_of(&fake),
        [
            format!("POST {vm}/monitoring/stop"),
            format!("POST {vm}/monitoring/setMachineType"),
            format!("POST {vm}/monitoring/start"),
        ]
    );
    let monitoring = &fake.resources()[&format!("{vm}/monitoring")];
    assert!(
        monitoring["machineType"]
            .as_str()
            .is_some_and(|m| m.ends_with("/e2-standard-4")),
        "{monitoring}"
    );
    assert_eq!(monitoring["status"], "RUNNING");

    // And back: a second stop/start of the same VM is sent again, not
    // answered from an earlier request id.
    work.edit("vm monitoring e2-standard-4", "vm monitoring e2-standard-2");
    fake.clear_log();
    work.apply().expect_code(0, "apply machine type back");
    assert_eq!(mutations_of(&fake).len(), 3);
    let monitoring = &fake.resources()[&format!("{vm}/monitoring")];
    assert!(
        monitoring["machineType"]
            .as_str()
            .is_some_and(|m| m.ends_with("/e2-standard-2")),
        "{monitoring}"
    );
    assert_eq!(monitoring["status"], "RUNNING");

    // A label: setLabels on that VM only.
    work.edit(
        "vm monitoring e2-standard-2 static_ip=true swarm=worker {",
        "vm monitoring e2-standard-2 static_ip=true swarm=worker labels={ team: \"ops\" } {",
    );
    fake.clear_log();
    work.apply().expect_code(0, "apply label");
    assert_eq!(
        mutations_of(&fake),
        [format!("POST {vm}/monitoring/setLabels")]
    );
    assert_eq!(
        fake.resources()[&format!("{vm}/monitoring")]["labels"]["team"],
        "ops"
    );
    work.sdbc("plan", &["--detailed-exitcode"])
        .expect_code(0, "plan after the label");

    // A group of 4 grows to 5: one VM is created.
    work.edit("vm worker[4]", "vm worker[5]");
    fake.clear_log();
    work.apply().expect_code(0, "apply worker[5]");
    assert_eq!(mutations_of(&fake), [format!("POST {vm}")]);
    assert!(fake.resources().contains_key(&format!("{vm}/worker-4")));
    assert_converged(&fake, &work);

    // ... and shrinks to 3: the highest indexes go.
    work.edit("vm worker[5]", "vm worker[3]");
    fake.clear_log();
    work.apply().expect_code(0, "apply worker[3]");
    let mut sent = mutations_of(&fake);
    sent.sort();
    assert_eq!(
        sent,
        [
            format!("DELETE {vm}/worker-3"),
            format!("DELETE {vm}/worker-4")
        ]
    );
    assert_converged(&fake, &work);
    work.sdbc("plan", &["--detailed-exitcode"])
        .expect_code(0, "plan after scaling");

    // Destroy: nothing left, in the fake or in the state.
    work.sdbc("destroy", &["--auto-approve", "--allow-data-loss"])
        .expect_code(0, "destroy");
    assert_eq!(
        fake.resources().keys().collect::<Vec<_>>(),
        Vec::<&String>::new()
    );
    assert!(work.state().resources.is_empty());

    // And up again from the same state (same lineage).
    work.apply().expect_code(0, "apply after destroy");
    assert_converged(&fake, &work);
}

#[test]
fn saved_plan_is_refused_once_the_state_moved() {
    let fake = Fake::quick(2, 2);
    let work = Work::program(&fake, "small", &small_program(2));
    work.apply().expect_code(0, "first apply");

    // A saved plan applies exactly what it says.
    work.edit("vm node[2]", "vm node[3]");
    work.sdbc("plan", &["--out", "grow.json"])
        .expect_code(0, "plan --out");
    fake.clear_log();
    work.run(&["apply", "grow.json", "--auto-approve"])
        .expect_code(0, "apply the saved plan");
    assert_eq!(
        mutations_of(&fake),
        ["POST projects/demo/zones/europe-west1-b/instances"]
    );

    // One made before another apply moved the state is refused.
    work.edit("vm node[3]", "vm node[4]");
    work.sdbc("plan", &["--out", "stale.json"])
        .expect_code(0, "plan --out");
    work.apply().expect_code(0, "apply moving the state");
    let serial = work.state().serial;
    fake.clear_log();
    let refused = work.run(&["apply", "stale.json", "--auto-approve"]);
    refused.expect_code(1, "stale saved plan");
    assert!(
        refused
            .stderr
            .contains("the state moved since this plan was made"),
        "{}",
        refused.stderr
    );
    assert_eq!(mutations_of(&fake), Vec::<String>::new());
    assert_eq!(work.state().serial, serial, "the state is untouched");
    assert_converged(&fake, &work);
}

#[test]
fn apply_and_destroy_refuse_without_a_terminal_or_auto_approve() {
    let fake = Fake::quick(2, 3);
    let work = Work::program(&fake, "small", &small_program(1));
    let refused = work.sdbc("apply", &[]);
    refused.expect_code(1, "apply without --auto-approve");
    assert!(
        refused.stderr.contains("--auto-approve"),
        "{}",
        refused.stderr
    );
    assert_eq!(mutations_of(&fake), Vec::<String>::new());
    assert!(fake.resources().is_empty());
    assert!(work.state().resources.is_empty());

    work.apply().expect_code(0, "apply");
    let before = fake.resources();
    fake.clear_log();
    work.sdbc("destroy", &[])
        .expect_code(1, "destroy without --auto-approve");
    assert_eq!(mutations_of(&fake), Vec::<String>::new());
    assert_eq!(fake.resources(), before);
}

#[test]
fn plan_works_offline_on_a_fresh_machine() {
    let fake = Fake::quick(2, 4);
    let work = Work::misago(&fake);
    let offline = |extra: &[&str]| {
        let file = work.file_name();
        let mut args = vec!["plan", file.as_str()];
        args.extend_from_slice(extra);
        let mut cmd = work.command(&args);
        cmd.env_remove("GOOGLE_CLOUD_PROJECT")
            .env_remove("GOOGLE_OAUTH_ACCESS_TOKEN")
            .env_remove("GOOGLE_COMPUTE_CUSTOM_ENDPOINT");
        support::apply::Run::from_output(cmd.output().expect("run sdbc plan"))
    };
    let plan = offline(&[]);
    plan.expect_code(0, "offline plan");
    assert_eq!(
        plan.stdout
            .lines()
            .filter(|l| l.trim_start().starts_with("+ "))
            .count(),
        20,
        "{}",
        plan.stdout
    );
    assert!(plan.stdout.contains("20 to create"), "{}", plan.stdout);
    offline(&["--detailed-exitcode"]).expect_code(2, "offline plan, detailed");
    let json = offline(&["--json"]);
    json.expect_code(0, "offline plan --json");
    let v: serde_json::Value = serde_json::from_str(&json.stdout).expect("plan JSON");
    assert_eq!(v["project"], serde_json::Value::Null);
    assert_eq!(v["refreshed"], false);
    assert!(
        fake.handle().requests().is_empty(),
        "no request reached the API"
    );
    assert!(!work.store().path().exists(), "a plan writes no state");
}

fn wait_for_lock_record(work: &Work) {
    let path = work.store().lock_path();
    let deadline = Instant::now() + Duration::from_secs(20);
    while std::fs::read_to_string(&path).map_or(true, |t| !t.contains("\"pid\"")) {
        assert!(
            Instant::now() < deadline,
            "the first apply never took the lock"
        );
        std::thread::sleep(Duration::from_millis(10));
    }
}

#[test]
fn a_second_apply_is_refused_while_the_first_runs() {
    // Slow operations keep the first apply busy for a few seconds.
    let fake = Fake::quick(400, 5);
    let work = Work::program(&fake, "small", &small_program(2));
    let first = work.spawn_apply(&[]);
    wait_for_lock_record(&work);
    let second = work.apply();
    second.expect_code(1, "second apply");
    assert!(
        second.stderr.contains("state is locked by sdbc apply (pid"),
        "{}",
        second.stderr
    );
    let first = support::apply::Run::from_output(first.wait_with_output().expect("first apply"));
    first.expect_code(0, "first apply");
    // Only the first apply's inserts reached the API.
    let desired = work.desired();
    assert_eq!(fake.mutations().len(), desired.len());
    assert_converged(&fake, &work);
    assert!(!work.store().lock_path().exists(), "released");
    fake.clear_log();
    work.apply().expect_code(0, "apply after");
    assert_eq!(mutations_of(&fake), Vec::<String>::new());
}

fn write_lock(work: &Work, pid: u32, host: &str) {
    let record = serde_json::json!({
        "holder": "sdbc apply",
        "pid": pid,
        "host": host,
        "created": "2025-01-01T00:00:00Z",
    });
    let path = work.store().lock_path();
    std::fs::create_dir_all(path.parent().expect("dir")).expect("mkdir .sdbc");
    std::fs::write(path, record.to_string()).expect("write lock");
}

fn this_host() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|h| h.trim().to_string())
        .expect("hostname")
}

#[test]
fn a_stale_lock_is_taken_over_and_force_unlock_removes_a_live_one() {
    let fake = Fake::quick(2, 6);
    let work = Work::program(&fake, "small", &small_program(1));

    // The holder was killed: same host, process gone.
    let mut gone = std::process::Command::new("true")
        .spawn()
        .expect("spawn true");
    let dead = gone.id();
    gone.wait().expect("reap");
    write_lock(&work, dead, &this_host());
    let run = work.apply();
    run.expect_code(0, "apply over a stale lock");
    assert!(
        run.stderr.contains("warning: took over a stale state lock")
            && run.stderr.contains(&format!("pid {dead}")),
        "{}",
        run.stderr
    );
    assert_converged(&fake, &work);
    assert!(!work.store().lock_path().exists());

    // Another host's lock is never guessed stale: refused until force-unlock.
    write_lock(&work, 4242, "elsewhere.example");
    work.edit("vm node[1]", "vm node[2]");
    fake.clear_log();
    let refused = work.apply();
    refused.expect_code(1, "apply under another host's lock");
    assert!(
        refused.stderr.contains("sdbc force-unlock"),
        "{}",
        refused.stderr
    );
    assert_eq!(mutations_of(&fake), Vec::<String>::new());
    let unlock = work.sdbc("force-unlock", &[]);
    unlock.expect_code(0, "force-unlock");
    assert!(
        unlock.stderr.contains("elsewhere.example"),
        "{}",
        unlock.stderr
    );
    work.apply().expect_code(0, "apply after force-unlock");
    assert_converged(&fake, &work);
}

#[test]
fn a_lost_state_is_adopted_by_apply_and_found_by_destroy() {
    let fake = Fake::quick(2, 7);
    let work = Work::program(&fake, "small", &small_program(3));
    work.apply().expect_code(0, "apply");
    // A run killed between its calls and its save: the state (same
    // lineage) has lost its records of what the run made.
    let lose_records = || {
        let mut state = work.state();
        state.resources.clear();
        work.store().save(&mut state).expect("save");
    };

    // apply: everything is adopted, nothing made twice.
    lose_records();
    let before = fake.resources();
    fake.clear_log();
    let adopt = work.apply();
    adopt.expect_code(0, "apply with a state that lost its records");
    assert!(adopt.stderr.contains("10 to adopt"), "{}", adopt.stderr);
    assert_eq!(mutations_of(&fake), Vec::<String>::new());
    assert_eq!(fake.resources(), before);
    assert_converged(&fake, &work);

    // destroy: everything of the stack is found and deleted, VMs before
    // the network they use.
    lose_records();
    let destroy = work.sdbc("destroy", &["--auto-approve", "--allow-data-loss"]);
    destroy.expect_code(0, "destroy with a state that lost its records");
    assert_eq!(
        fake.resources().keys().collect::<Vec<_>>(),
        Vec::<&String>::new()
    );
    assert!(work.state().resources.is_empty());
}

#[test]
fn a_new_state_does_not_take_over_what_an_old_one_made() {
    let fake = Fake::quick(2, 7);
    let work = Work::program(&fake, "small", &small_program(1));
    work.apply().expect_code(0, "apply");
    let old = work.state().lineage;
    std::fs::remove_file(work.store().path()).expect("remove state");
    let _ = std::fs::remove_file(work.store().backup_path());
    let before = fake.resources();
    fake.clear_log();
    let plan = work.sdbc("plan", &[]);
    plan.expect_code(1, "plan with another state's resources under its names");
    assert!(plan.stdout.contains("conflict"), "{}", plan.stdout);
    assert!(
        plan.stdout.contains(&old),
        "names the owner: {}",
        plan.stdout
    );
    let apply = work.apply();
    apply.expect_code(1, "apply with another state's resources under its names");
    assert!(apply.stderr.contains("sdbc import"), "{}", apply.stderr);
    assert_eq!(fake.resources(), before, "nothing changed");
    let destroy = work.sdbc("destroy", &["--auto-approve"]);
    destroy.expect_code(0, "destroy of a state that owns nothing");
    assert_eq!(fake.resources(), before, "nothing deleted");
}

#[test]
fn ctrl_c_finishes_the_steps_in_flight_saves_and_exits_130() {
    let fake = Fake::quick(300, 8);
    let work = Work::program(&fake, "small", &small_program(6));
    let child = work.spawn_apply(&["--parallel", "2"]);
    let deadline = Instant::now() + Duration::from_secs(20);
    while fake.mutations().is_empty() {
        assert!(Instant::now() < deadline, "apply never started changing");
        std::thread::sleep(Duration::from_millis(5));
    }
    let pid = child.id().to_string();
    // Twice: the second says what it is waiting for.
    for _ in 0..2 {
        let sent = std::process::Command::new("kill")
            .args(["-INT", &pid])
            .status()
            .expect("kill -INT");
        assert!(sent.success());
        std::thread::sleep(Duration::from_millis(30));
    }
    let run = support::apply::Run::from_output(child.wait_with_output().expect("apply"));
    run.expect_code(130, "interrupted apply");
    assert!(run.stderr.contains("interrupted"), "{}", run.stderr);
    assert!(
        run.stderr.contains(
            "still waiting for the steps in flight to finish their operations: creating gce."
        ),
        "{}",
        run.stderr
    );
    // What was started was finished and saved; nothing else was started.
    assert!(fake.settle());
    let held = fake.keys_without_boot_disks();
    assert_eq!(work.state_keys(), held, "everything made is in state");
    assert!(held.len() < work.desired().len(), "it stopped early");
    assert!(!work.store().lock_path().exists(), "lock released");
    work.apply().expect_code(0, "apply after the interruption");
    assert_converged(&fake, &work);
}

/// Starts `verb` with slow operations, kills it once the state records an
/// operation still running, and returns what it left in flight.
fn kill_in_flight(work: &Work, verb: &str) -> Vec<String> {
    let file = work.file_name();
    let mut child = work
        .command(&[verb, &file, "--auto-approve", "--allow-data-loss"])
        .spawn()
        .expect("spawn sdbc");
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let noted = work.store().path().exists()
            && work.store().load().is_ok_and(|s| !s.operations.is_empty());
        if noted {
            break;
        }
        assert!(Instant::now() < deadline, "no operation was ever recorded");
        std::thread::sleep(Duration::from_millis(5));
    }
    child.kill().expect("SIGKILL");
    child.wait().expect("reap");
    work.state()
        .operations
        .values()
        .map(|op| op.kind.clone())
        .collect()
}

#[test]
fn a_resumed_run_settles_what_the_killed_one_left_in_flight() {
    use fake_gce::Appearance::{WhenAccepted, WhenDone};
    // Both behaviours of the real API, and a killed run whose last save
    // missed its operations (the re-run then meets them as conflicts:
    // RESOURCE_ALREADY_EXISTS or RESOURCE_NOT_FOUND in the operation, or
    // 409): all settle without a failure.
    for (appearance, late_conflicts, forget) in [
        (WhenDone, true, false),
        (WhenDone, true, true),
        (WhenAccepted, false, true),
    ] {
        let what = format!("{appearance:?}, late conflicts {late_conflicts}, forget {forget}");
        let fake = Fake::start(fake_gce::FakeConfig {
            op_pending: Duration::from_millis(1),
            op_running: Duration::from_millis(1000),
            appearance,
            late_conflicts,
            ..fake_gce::FakeConfig::default()
        });
        let work = Work::program(&fake, "small", &small_program(1));
        for verb in ["apply", "destroy"] {
            let left = kill_in_flight(&work, verb);
            let kind = if verb == "apply" { "insert" } else { "delete" };
            assert!(left.iter().all(|k| k == kind), "{what}: {left:?}");
            if forget {
                let mut state = work.state();
                state.operations.clear();
                work.store().save(&mut state).expect("save");
            }
            let rerun = work.sdbc(verb, &["--auto-approve", "--allow-data-loss"]);
            rerun.expect_code(0, &format!("{what}: {verb} after the kill"));
            assert_eq!(
                rerun.stderr.contains("left running by an earlier run"),
                !forget,
                "{what}: {}",
                rerun.stderr
            );
            assert!(work.state().operations.is_empty());
            assert!(fake.settle());
            if verb == "apply" {
                assert_converged(&fake, &work);
            } else {
                assert_eq!(fake.resources().len(), 0, "{what}: destroyed");
            }
        }
    }
}

/// A machine-type change of the three managers restarts them in turn
/// (the graph chains them), never two at once, and the plan says so.
#[test]
fn managers_restart_one_at_a_time() {
    let fake = Fake::quick(2, 1);
    let work = Work::misago(&fake);
    work.apply().expect_code(0, "first apply");
    work.edit("vm manager[3] e2-standard-2", "vm manager[3] e2-standard-4");
    let plan = work.sdbc("plan", &[]);
    plan.expect_code(0, "plan with the managers' machine type changed");
    for first in ["gce.vm.manager-0", "gce.vm.manager-1"] {
        let line = format!("restarts after {first} is back up (one at a time)");
        assert!(plan.stdout.contains(&line), "{line}\n{}", plan.stdout);
    }
    fake.clear_log();
    work.apply().expect_code(0, "apply the machine type");
    let vm = "projects/demo/zones/europe-west1-b/instances";
    let expected: Vec<String> = (0..3)
        .flat_map(|i| {
            ["stop", "setMachineType", "start"].map(|verb| format!("POST {vm}/manager-{i}/{verb}"))
        })
        .collect();
    assert_eq!(mutations_of(&fake), expected);
}
