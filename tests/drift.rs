//! Changes made outside sdbc to fields it manages are found by refresh,
//! planned back to the program naming the field, and reverted by apply;
//! labels and metadata keys others added are left alone.

mod support;

use serde_json::{Value, json};
use support::apply::{Fake, PROJECT, Work, small_program};

#[test]
fn drift_on_each_managed_field_is_found_and_reverted() {
    let fake = Fake::quick(2, 31);
    let work = Work::program(&fake, "small", &small_program(1));
    work.apply().expect_code(0, "apply");
    let zone = format!("projects/{PROJECT}/zones/europe-west1-b");
    let head = format!("{zone}/instances/head");
    let node = format!("{zone}/instances/node-0");
    let ssh = format!("projects/{PROJECT}/global/firewalls/ssh");
    let edit = |key: &str, f: &dyn Fn(&mut Value)| {
        assert!(fake.handle().edit_resource(key, f), "{key}");
    };
    edit(&head, &|r| {
        r["labels"]["sdbc-group"] = json!("edited");
        r["labels"]["team"] = json!("theirs");
        let items = r["metadata"]["items"].as_array_mut().expect("items");
        for i in items.iter_mut() {
            if i["key"] == "enable-guest-attributes" {
                i["value"] = json!("FALSE");
            }
        }
        items.push(json!({"key": "ssh-keys", "value": "theirs"}));
    });
    edit(&node, &|r| {
        let mt = r["machineType"].as_str().expect("machine type");
        r["machineType"] = json!(mt.replace("e2-small", "e2-medium"));
    });
    edit(&ssh, &|r| r["sourceRanges"] = json!(["0.0.0.0/0"]));

    let plan = work.sdbc("plan", &["--detailed-exitcode"]);
    plan.expect_code(2, "plan after changes outside sdbc");
    for (node, fields) in [
        (
            "gce.vm.head",
            "labels.sdbc-group, metadata.items[enable-guest-attributes]",
        ),
        ("gce.vm.node-0", "machineType"),
        ("gce.firewall.ssh", "sourceRanges[0]"),
    ] {
        let line = plan
            .stdout
            .lines()
            .find(|l| l.contains(node))
            .unwrap_or_default();
        assert!(
            line.contains(&format!("changed outside sdbc: {fields}")),
            "{node}: {}",
            plan.stdout
        );
    }
    assert!(
        !plan.stdout.contains("team"),
        "others' labels are not sdbc's: {}",
        plan.stdout
    );
    assert!(!plan.stdout.contains("ssh-keys"), "{}", plan.stdout);

    work.apply().expect_code(0, "apply back to the program");
    work.sdbc("plan", &["--detailed-exitcode"])
        .expect_code(0, "plan after reverting");
    let all = fake.resources();
    assert_eq!(
        all[&head]["labels"]["sdbc-group"],
        work.desired()[&head]["labels"]["sdbc-group"]
    );
    assert_eq!(all[&head]["labels"]["team"], "theirs", "kept");
    let items = all[&head]["metadata"]["items"]
        .as_array()
        .expect("items")
        .clone();
    assert!(
        items.contains(&json!({"key": "ssh-keys", "value": "theirs"})),
        "{items:?}"
    );
    assert!(items.contains(&json!({"key": "enable-guest-attributes", "value": "TRUE"})));
    assert!(
        all[&node]["machineType"]
            .as_str()
            .is_some_and(|m| m.ends_with("/e2-small"))
    );
    assert_eq!(all[&node]["status"], "RUNNING");
    assert_eq!(
        all[&ssh]["sourceRanges"],
        work.desired()[&ssh]["sourceRanges"]
    );
}
