//! sdbc changes only what it made for this stack and this state: against
//! the fake, a second program with the same names, hand-made resources
//! under the program's names, and states that belong elsewhere are all
//! refused, and everything that is not the stack's stays exactly as it was.

mod support_apply;

use serde_json::json;
use support_apply::{Fake, PROJECT, Work, small_program};

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
