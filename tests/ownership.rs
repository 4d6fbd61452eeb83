//! sdbc changes only what it made for this stack and this state: against
//! the fake, a second program with the same names, hand-made resources
//! under the program's names, and states that belong elsewhere are all
//! refused, and everything that is not the stack's stays exactly as it was.

mod support;

use serde_json::{Value, json};
use support::apply::{Fake, PROJECT, Work, small_program};

const ZONE: &str = "europe-west1-b";

#[test]
fn two_stacks_with_the_same_names_stay_apart() {
    let fake = Fake::quick(2, 21);
    let a = Work::program(&fake, "a", &small_program(2));
    a.apply().expect_code(0, "apply a");
    let after_a = fake.resources();

    let b = Work::program(&fake, "b", &small_program(2));
    let plan = b.sdbc("plan", &[]);
    plan.expect_code(1, "plan b over a's names");
    assert!(
        plan.stdout.contains("belongs to stack `a`"),
        "{}",
        plan.stdout
    );
    let apply = b.apply();
    apply.expect_code(1, "apply b over a's names");
    assert!(
        apply.stderr.contains("belongs to stack `a`"),
        "{}",
        apply.stderr
    );
    assert!(b.state().resources.is_empty(), "b took nothing");
    let destroy = b.sdbc("destroy", &["--auto-approve"]);
    destroy.expect_code(0, "destroy b, which owns nothing");
    // a is whole, resource by resource, and its plan is empty.
    assert_eq!(fake.resources(), after_a);
    a.sdbc("plan", &["--detailed-exitcode"])
        .expect_code(0, "a's plan after b");
}

#[test]
fn hand_made_resources_under_the_programs_names_are_never_taken() {
    let fake = Fake::quick(2, 22);
    let disks = format!("projects/{PROJECT}/zones/{ZONE}/disks");
    fake.insert(&disks, json!({"name": "data", "sizeGb": "10"}));
    let networks = format!("projects/{PROJECT}/global/networks");
    fake.insert(
        &networks,
        json!({"name": "hand-net", "autoCreateSubnetworks": false}),
    );
    fake.insert(
        &format!("projects/{PROJECT}/global/firewalls"),
        json!({
            "name": "ssh",
            "network": format!("{networks}/hand-net"),
            "allowed": [{"IPProtocol": "tcp", "ports": ["22"]}],
            "sourceRanges": ["192.0.2.0/24"],
        }),
    );
    let hand_made = fake.resources();

    let work = Work::program(&fake, "small", &small_program(1));
    let plan = work.sdbc("plan", &[]);
    plan.expect_code(1, "plan over hand-made resources");
    for node in ["gce.disk.data", "gce.firewall.ssh"] {
        assert!(
            plan.stdout.contains(&format!("`{node}`")) && plan.stdout.contains("not made by sdbc"),
            "{node}: {}",
            plan.stdout
        );
    }
    let apply = work.apply();
    apply.expect_code(1, "apply over hand-made resources");
    assert!(
        apply.stderr.contains("not made by sdbc"),
        "{}",
        apply.stderr
    );
    // Independent steps finished: the network is the stack's now.
    let state = work.state();
    assert!(state.resources.contains_key("gce.network.small-net"));
    assert!(!state.resources.contains_key("gce.disk.data"));
    assert!(!state.resources.contains_key("gce.firewall.ssh"));

    work.sdbc("destroy", &["--auto-approve"])
        .expect_code(0, "destroy");
    // Exactly the hand-made resources are left, unchanged.
    assert_eq!(fake.resources(), hand_made);
}

/// Runs `apply` and `destroy` over a state that must be refused: both exit
/// 2 with a message holding every one of `needles`, and neither the fake
/// nor the state file changes.
fn refused_everywhere(fake: &Fake, work: &Work, project: &str, needles: &[&str]) {
    let before = fake.resources();
    let text = std::fs::read(work.store().path()).expect("state file");
    fake.clear_log();
    for verb in ["plan", "apply", "destroy"] {
        let file = work.file_name();
        let out = work
            .command(&[verb, &file, "--auto-approve"][..if verb == "plan" { 2 } else { 3 }])
            .env("GOOGLE_CLOUD_PROJECT", project)
            .output()
            .expect("run sdbc");
        let run = support::apply::Run::from_output(out);
        run.expect_code(2, verb);
        for n in needles {
            assert!(run.stderr.contains(n), "{verb}: `{n}` in {}", run.stderr);
        }
    }
    assert!(fake.mutations().is_empty(), "{:?}", fake.mutations());
    assert_eq!(fake.resources(), before);
    assert_eq!(std::fs::read(work.store().path()).expect("state"), text);
}

#[test]
fn states_that_belong_elsewhere_are_refused() {
    let fake = Fake::quick(2, 23);
    let work = Work::program(&fake, "small", &small_program(1));
    work.apply().expect_code(0, "apply");
    let path = work.store().path().to_path_buf();
    let good = std::fs::read_to_string(&path).expect("state");
    // Named as the command line names them (sdbc runs in the work directory).
    let shown = ".sdbc/small.state.json";
    let backup = ".sdbc/small.state.json.backup";

    // Another project: the state says where its resources are.
    assert!(
        good.contains(&format!("\"project\": \"{PROJECT}\"")),
        "{good}"
    );
    refused_everywhere(&fake, &work, "other", &["`demo`", "`other`", shown]);

    // A state copied from another program.
    std::fs::write(
        &path,
        good.replace("\"stack\": \"small\"", "\"stack\": \"misago\""),
    )
    .expect("w");
    refused_everywhere(&fake, &work, PROJECT, &["`misago`", "`small`", shown]);

    // A truncated state and one from a newer sdbc: the path and the backup.
    std::fs::write(&path, &good[..good.len() / 2]).expect("truncate");
    refused_everywhere(&fake, &work, PROJECT, &["not valid", shown, backup]);
    let current = format!("\"version\": {}", sdbc::state::STATE_VERSION);
    std::fs::write(&path, good.replacen(&current, "\"version\": 99", 1)).expect("w");
    refused_everywhere(&fake, &work, PROJECT, &["newer", shown, backup]);

    std::fs::write(&path, &good).expect("restore");
    work.sdbc("plan", &["--detailed-exitcode"])
        .expect_code(0, "the restored state");
}

#[test]
fn build_never_deletes_files_it_did_not_write() {
    let fake = Fake::quick(2, 24);
    let work = Work::program(&fake, "small", &small_program(1));
    let dir = work.dir.path();
    std::fs::create_dir_all(dir.join(".sdbc")).expect("mkdir");
    std::fs::write(dir.join(".sdbc/key"), "secret key").expect("key");
    std::fs::write(dir.join("notes.txt"), "my notes").expect("notes");
    let listing = |d: &std::path::Path| {
        let mut v: Vec<String> = walk(d);
        v.sort();
        v
    };
    let before = listing(dir);

    // The project folder itself, and a folder with a stray file: refused.
    let run = work.run(&["build", "small.sdb", "-o", "."]);
    run.expect_code(2, "build into the project folder");
    assert!(run.stderr.contains("nothing was deleted"), "{}", run.stderr);
    assert_eq!(listing(dir), before);
    assert_eq!(
        std::fs::read_to_string(dir.join(".sdbc/key")).expect("key"),
        "secret key"
    );

    // A new folder, then the same again (a previous build): fine.
    work.run(&["build", "small.sdb", "-o", "out"])
        .expect_code(0, "build into a new folder");
    work.run(&["build", "small.sdb", "-o", "out"])
        .expect_code(0, "build over a previous build");
    assert!(dir.join("out/gce/requests.json").exists());
    // A file added by hand makes it someone's folder again.
    std::fs::write(dir.join("out/mine.txt"), "mine").expect("write");
    let run = work.run(&["build", "small.sdb", "-o", "out"]);
    run.expect_code(2, "build over a folder with a hand-made file");
    assert!(run.stderr.contains("mine.txt"), "{}", run.stderr);
    assert_eq!(
        std::fs::read_to_string(dir.join("out/mine.txt")).expect("kept"),
        "mine"
    );
    // An empty folder is fine.
    std::fs::create_dir(dir.join("empty")).expect("mkdir");
    work.run(&["build", "small.sdb", "-o", "empty"])
        .expect_code(0, "build into an empty folder");
}

fn walk(d: &std::path::Path) -> Vec<String> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(d).expect("read_dir") {
        let e = e.expect("entry");
        let p = e.path();
        if p.is_dir() {
            out.extend(walk(&p));
        } else {
            out.push(p.display().to_string());
        }
    }
    out
}

#[test]
fn force_unlock_spares_a_live_holder_and_unknown_targets_are_errors() {
    let fake = Fake::quick(2, 25);
    let work = Work::program(&fake, "small", &small_program(1));
    work.apply().expect_code(0, "apply");

    // A holder alive on this host.
    let mut alive = std::process::Command::new("sleep")
        .arg("30")
        .spawn()
        .expect("spawn sleep");
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname").expect("hostname");
    let record = json!({"holder": "sdbc apply", "pid": alive.id(), "host": host.trim(),
                        "created": "2025-01-01T00:00:00Z"});
    let lock = work.store().lock_path();
    std::fs::write(&lock, record.to_string()).expect("write lock");
    let refused = work.sdbc("force-unlock", &[]);
    refused.expect_code(1, "force-unlock of a live holder");
    assert!(
        refused.stderr.contains(&format!("kill {}", alive.id())),
        "{}",
        refused.stderr
    );
    assert!(lock.exists(), "the lock stays");
    work.sdbc("force-unlock", &["--force"])
        .expect_code(0, "force-unlock --force");
    assert!(!lock.exists());
    let _ = alive.kill();
    let _ = alive.wait();

    // Targets that name nothing.
    fake.clear_log();
    let destroy = work.sdbc("destroy", &["--target", "node-0", "--auto-approve"]);
    destroy.expect_code(1, "destroy --target of a bare name");
    assert!(
        destroy.stderr.contains("unknown --target `node-0`")
            && destroy.stderr.contains("`gce.vm.node-0`"),
        "{}",
        destroy.stderr
    );
    let stop = work.sdbc("stop", &["--target", "gce.vm.nope"]);
    stop.expect_code(1, "stop --target of nothing");
    assert!(
        stop.stderr.contains("unknown --target `gce.vm.nope`"),
        "{}",
        stop.stderr
    );
    assert!(fake.mutations().is_empty(), "{:?}", fake.mutations());
}

#[test]
fn a_disk_grows_in_place_never_shrinks_and_deleting_data_asks() {
    let fake = Fake::quick(2, 26);
    let work = Work::program(&fake, "small", &small_program(1));
    work.apply().expect_code(0, "apply");
    let disk = format!("projects/{PROJECT}/zones/{ZONE}/disks/data");
    let head = format!("projects/{PROJECT}/zones/{ZONE}/instances/head");
    let head_before = fake.resources()[&head].clone();

    work.edit("disk data 10GB", "disk data 20GB");
    let plan = work.sdbc("plan", &[]);
    plan.expect_code(0, "plan a bigger disk");
    assert!(
        plan.stdout.contains("gce.disk.data") && plan.stdout.contains("update in place"),
        "{}",
        plan.stdout
    );
    assert!(!plan.stdout.contains("DATA LOSS"), "{}", plan.stdout);
    fake.clear_log();
    work.apply().expect_code(0, "grow the disk");
    assert_eq!(
        fake.mutations(),
        vec![("POST".to_string(), format!("{disk}/resize"))]
    );
    assert_eq!(fake.resources()[&disk]["sizeGb"], "20");
    assert_eq!(
        fake.resources()[&head],
        head_before,
        "the VM using it is untouched"
    );
    work.sdbc("plan", &["--detailed-exitcode"])
        .expect_code(0, "plan after growing");

    // Smaller: refused, never a replace.
    work.edit("disk data 20GB", "disk data 15GB");
    let plan = work.sdbc("plan", &[]);
    plan.expect_code(1, "plan a smaller disk");
    assert!(
        plan.stdout.contains("from 20 GB to 15 GB"),
        "{}",
        plan.stdout
    );
    fake.clear_log();
    work.apply().expect_code(1, "apply a smaller disk");
    assert!(fake.mutations().is_empty(), "{:?}", fake.mutations());
    work.edit("disk data 15GB", "disk data 20GB");

    // Deleting the disk destroys data: --auto-approve is not enough.
    let destroy = work.sdbc("destroy", &["--auto-approve"]);
    destroy.expect_code(1, "destroy without --allow-data-loss");
    assert!(
        destroy.stderr.contains("--allow-data-loss") && destroy.stderr.contains("gce.disk.data"),
        "{}",
        destroy.stderr
    );
    assert!(destroy.stderr.contains("DATA LOSS"), "{}", destroy.stderr);
    assert!(fake.mutations().is_empty(), "{:?}", fake.mutations());
    work.sdbc("destroy", &["--auto-approve", "--allow-data-loss"])
        .expect_code(0, "destroy with --allow-data-loss");
    assert!(fake.resources().is_empty());
}

#[test]
fn import_takes_over_a_hand_made_disk_and_the_next_plan_is_empty() {
    let fake = Fake::quick(2, 27);
    let disks = format!("projects/{PROJECT}/zones/{ZONE}/disks");
    let key = format!("{disks}/data");
    fake.insert(
        &disks,
        json!({"name": "data", "sizeGb": "10", "labels": {"team": "web"},
               "type": format!("{disks}Types/pd-balanced")}),
    );
    let id = fake.resources()[&key]["id"].clone();
    let work = Work::program(&fake, "small", &small_program(1));
    work.sdbc("plan", &[]).expect_code(1, "plan over the disk");

    let wrong = work.sdbc("import", &["gce.disk.dta", "--auto-approve"]);
    wrong.expect_code(1, "import of a name not in the program");
    assert!(wrong.stderr.contains("`gce.disk.data`"), "{}", wrong.stderr);
    let network = work.sdbc("import", &["gce.network.small-net", "--auto-approve"]);
    network.expect_code(1, "import of a kind without labels");
    assert!(network.stderr.contains("description"), "{}", network.stderr);

    let import = work.sdbc("import", &["gce.disk.data", "--auto-approve"]);
    import.expect_code(0, "import the disk");
    assert!(
        import.stderr.contains("not made by sdbc"),
        "{}",
        import.stderr
    );
    let disk = fake.resources()[&key].clone();
    assert_eq!(disk["labels"]["team"], "web", "its own labels stay");
    assert_eq!(disk["labels"]["sdbc-stack"], "small");
    assert_eq!(
        disk["labels"]["sdbc-lineage"],
        work.state().lineage.as_str()
    );
    assert!(work.state().resources.contains_key("gce.disk.data"));

    fake.clear_log();
    work.apply().expect_code(0, "apply after the import");
    let touched: Vec<_> = fake
        .mutations()
        .into_iter()
        .filter(|(_, p)| p.contains("/disks/data"))
        .collect();
    assert!(
        touched.is_empty(),
        "the disk is used, not made again: {touched:?}"
    );
    assert_eq!(
        fake.resources()[&key]["id"],
        id,
        "the same disk, data and all"
    );
    work.sdbc("plan", &["--detailed-exitcode"])
        .expect_code(0, "the plan after import and apply");
}

/// `v` without the lineage part of its owner mark, as sdbc wrote marks
/// before they carried lineages.
fn strip_lineage(v: &mut Value) {
    if let Some(labels) = v.get_mut("labels").and_then(Value::as_object_mut) {
        labels.remove("sdbc-lineage");
    }
    if let Some(d) = v.get("description").and_then(Value::as_str)
        && let Some(start) = d.find(" sdbc-lineage=")
    {
        let end = d[start..].find(':').map_or(d.len(), |i| start + i);
        v["description"] = json!(format!("{}{}", &d[..start], &d[end..]));
    }
}

#[test]
fn resources_marked_before_lineages_stay_the_stacks_and_get_the_lineage() {
    let fake = Fake::quick(2, 28);
    let work = Work::program(&fake, "small", &small_program(1));
    work.apply().expect_code(0, "apply");
    for key in fake.keys_without_boot_disks() {
        assert!(fake.handle().edit_resource(&key, strip_lineage));
    }
    let mut state = work.state();
    for r in state.resources.values_mut() {
        let mut body = r.attributes.value();
        strip_lineage(&mut body);
        r.attributes = sdbc::state::Attributes::of_sent(&body);
    }
    work.store().save(&mut state).expect("save the older state");

    let plan = work.sdbc("plan", &["--detailed-exitcode"]);
    plan.expect_code(2, "plan over older marks");
    assert!(!plan.stdout.contains("conflict"), "{}", plan.stdout);
    assert!(!plan.stdout.contains("-/+"), "{}", plan.stdout);
    assert!(
        plan.stdout.contains("+ labels.sdbc-lineage"),
        "{}",
        plan.stdout
    );
    work.apply().expect_code(0, "apply adds the lineage");
    let lineage = work.state().lineage;
    let vm = &fake.resources()[&format!("projects/{PROJECT}/zones/{ZONE}/instances/head")];
    assert_eq!(vm["labels"]["sdbc-lineage"], lineage.as_str());
    work.sdbc("plan", &["--detailed-exitcode"])
        .expect_code(0, "plan after the upgrade");
    work.sdbc("destroy", &["--auto-approve", "--allow-data-loss"])
        .expect_code(0, "destroy, older marks on networks and firewalls included");
    assert!(fake.resources().is_empty());
}
