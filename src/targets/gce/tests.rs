//! Unit tests of the Compute Engine requests, on the two-VM model.

use std::collections::BTreeMap;

use serde_json::json;

use super::*;
use crate::graph::NodeId;
use crate::model::SwarmRole;
use crate::targets::testutil::{two_vm_model, vm};

fn user_data() -> BTreeMap<String, std::sync::Arc<str>> {
    let mut m = BTreeMap::new();
    m.insert(String::from("manager-0"), "#cloud-config\n".into());
    m.insert(String::from("worker-0"), "#cloud-config\n".into());
    m
}

/// The calls of `model`, with the graph its checks would build.
fn calls_of(
    model: &crate::model::Model,
    user_data: &BTreeMap<String, std::sync::Arc<str>>,
) -> Vec<InsertCall> {
    let graph = crate::graph::build(model, &[]);
    requests(model, &graph, user_data)
}

fn call<'a>(calls: &'a [InsertCall], node: &str) -> &'a InsertCall {
    let found = calls.iter().find(|c| c.node == node);
    found.unwrap_or_else(|| panic!("no call for {node}"))
}

#[test]
fn snapshot_two_vms() {
    let calls = calls_of(&two_vm_model(), &user_data());
    insta::assert_snapshot!(requests_json(&calls));
}

#[test]
fn order_is_topological_and_by_kind() {
    let calls = calls_of(&two_vm_model(), &user_data());
    let nodes: Vec<&str> = calls.iter().map(|c| c.node.as_str()).collect();
    assert_eq!(
        nodes,
        [
            "gce.network.misago",
            "gce.subnetwork.misago",
            "gce.firewall.public",
            "gce.firewall.misago-swarm",
            "gce.firewall.misago-nfs",
            "gce.address.manager-0",
            "gce.disk.static-files",
            "gce.vm.manager-0",
            "gce.vm.worker-0",
        ]
    );
    for (i, c) in calls.iter().enumerate() {
        for d in &c.depends_on {
            let j = nodes.iter().position(|n| d == n);
            assert!(j.is_some_and(|j| j < i), "{} depends on {d}", c.node);
        }
    }
}

#[test]
fn nfs_client_waits_for_its_server_even_if_declared_first() {
    let mut model = two_vm_model();
    model.vms.reverse();
    let calls = calls_of(&model, &user_data());
    let nodes: Vec<&str> = calls.iter().map(|c| c.node.as_str()).collect();
    assert_eq!(
        nodes[nodes.len() - 2..],
        ["gce.vm.manager-0", "gce.vm.worker-0"]
    );
    assert!(
        call(&calls, "gce.vm.worker-0")
            .depends_on
            .contains(&NodeId::vm("manager-0"))
    );
}

#[test]
fn instance_body_fields() {
    let calls = calls_of(&two_vm_model(), &user_data());
    let m = &call(&calls, "gce.vm.manager-0").body.to_value();
    assert_eq!(
        m["machineType"],
        "zones/europe-west1-b/machineTypes/e2-standard-2"
    );
    let boot = &m["disks"][0]["initializeParams"];
    assert_eq!(
        boot["sourceImage"],
        "projects/ubuntu-os-cloud/global/images/family/ubuntu-2404-lts-amd64"
    );
    assert_eq!(boot["diskSizeGb"], "20");
    assert_eq!(
        m["disks"][1]["source"],
        "projects/demo-project/zones/europe-west1-b/disks/static-files"
    );
    assert_eq!(m["disks"][1]["deviceName"], "static-files");
    let nic = &m["networkInterfaces"][0];
    assert_eq!(nic["networkIP"], "10.10.0.2");
    assert_eq!(
        nic["accessConfigs"][0]["natIP"],
        "${gce.address.manager-0.address}"
    );
    assert_eq!(m["labels"]["sdbc-managed"], "true");
    assert_eq!(m["labels"]["sdbc-stack"], "misago");
    assert_eq!(m["tags"]["items"], json!(["manager", "sdbc-misago"]));
    let items = &m["metadata"]["items"];
    assert_eq!(
        items[0],
        json!({"key": "enable-guest-attributes", "value": "TRUE"})
    );
    assert_eq!(
        items[1],
        json!({"key": "user-data", "value": "#cloud-config\n"})
    );
    let refs = refs::references(m);
    assert_eq!(
        refs,
        [("gce.address.manager-0".to_owned(), "address".to_owned())]
    );
    assert!(
        call(&calls, "gce.vm.manager-0")
            .depends_on
            .iter()
            .any(|d| d == refs[0].0.as_str())
    );
    let w = &call(&calls, "gce.vm.worker-0").body.to_value();
    assert_eq!(
        w["networkInterfaces"][0]["accessConfigs"][0].get("natIP"),
        None
    );
}

#[test]
fn disk_and_address_bodies() {
    let calls = calls_of(&two_vm_model(), &user_data());
    let d = &call(&calls, "gce.disk.static-files");
    assert_eq!(d.path, "projects/demo-project/zones/europe-west1-b/disks");
    assert_eq!(d.body.to_value()["sizeGb"], "20");
    assert_eq!(
        d.body.to_value()["type"],
        "projects/demo-project/zones/europe-west1-b/diskTypes/pd-balanced"
    );
    let a = &call(&calls, "gce.address.manager-0");
    assert_eq!(
        a.path,
        "projects/demo-project/regions/europe-west1/addresses"
    );
    assert_eq!(a.body.to_value()["addressType"], "EXTERNAL");
    assert_eq!(
        a.body.to_value().get("region"),
        None,
        "region is output-only in the body"
    );
}

#[test]
fn generated_firewalls() {
    let mut model = two_vm_model();
    let generated = crate::model::firewalls::generated(&model);
    model.firewalls.extend(generated);
    let calls = calls_of(&model, &user_data());
    let swarm = &call(&calls, "gce.firewall.misago-swarm").body.to_value();
    assert_eq!(swarm["sourceTags"], json!(["sdbc-misago"]));
    assert_eq!(swarm["targetTags"], json!(["sdbc-misago"]));
    assert_eq!(
        swarm["allowed"],
        json!([{"IPProtocol": "tcp", "ports": ["2377", "7946"]}, {"IPProtocol": "udp", "ports": ["7946", "4789"]}, {"IPProtocol": "esp"}])
    );
    let nfs = &call(&calls, "gce.firewall.misago-nfs").body.to_value();
    assert_eq!(nfs["sourceRanges"], json!(["10.10.0.0/24"]));
    assert_eq!(nfs["targetTags"], json!(["manager"]));
}

#[test]
fn no_swarm_no_swarm_firewall() {
    let mut model = two_vm_model();
    model.vms = vec![vm("solo", "solo", None, SwarmRole::None, "10.10.0.9")];
    model.firewalls.retain(|f| !f.generated);
    let generated = crate::model::firewalls::generated(&model);
    model.firewalls.extend(generated);
    let calls = calls_of(&model, &BTreeMap::new());
    assert!(
        !calls
            .iter()
            .any(|c| c.node.as_str().starts_with("gce.firewall.misago-"))
    );
    let items = &call(&calls, "gce.vm.solo").body.to_value()["metadata"]["items"];
    assert_eq!(items.as_array().map(Vec::len), Some(1));
}

#[test]
fn project_placeholder_when_unset() {
    let mut model = two_vm_model();
    model.gce.project = None;
    let calls = calls_of(&model, &user_data());
    assert!(
        calls
            .iter()
            .all(|c| c.path.starts_with("projects/{project}/"))
    );
    let m = &call(&calls, "gce.vm.manager-0").body.to_value();
    assert_eq!(
        m["networkInterfaces"][0]["network"],
        "projects/{project}/global/networks/misago"
    );
}

#[test]
fn startup_script_key_without_cloud_init() {
    let mut model = two_vm_model();
    model.vms[1].cloud_init = false;
    let calls = calls_of(&model, &user_data());
    let items = &call(&calls, "gce.vm.worker-0").body.to_value()["metadata"]["items"];
    assert_eq!(items[1]["key"], "startup-script");
}

#[test]
fn labels_and_names_are_valid() {
    let mut model = two_vm_model();
    model.stack = String::from("Misago.Forum");
    model.vms[0]
        .labels
        .insert(String::from("Team"), String::from("Web Ops"));
    let calls = calls_of(&model, &user_data());
    for c in &calls {
        let body = c.body.to_value();
        let name = body["name"].as_str().unwrap_or_default();
        assert!(names::is_valid_name(name), "{name}");
        if let Some(labels) = body["labels"].as_object() {
            for (k, v) in labels {
                // As apply sends it: with a state's lineage in the owner mark.
                let v = super::owner::with_lineage(
                    v.as_str().unwrap_or("!"),
                    "0b6f5d7e-1111-4222-8333-944455556666",
                );
                assert_eq!(names::label_key(k), *k);
                assert_eq!(names::label_value(&v), v);
            }
        }
    }
    let m = &call(&calls, "gce.vm.manager-0").body.to_value();
    assert_eq!(m["labels"]["team"], "web_ops");
    assert_eq!(m["labels"]["sdbc-stack"], "misago_forum");
}

#[test]
fn labels_are_sorted_and_the_owner_mark_wins() {
    let mut model = two_vm_model();
    let labels = &mut model.vms[0].labels;
    labels.insert(String::from("zone-tier"), String::from("a"));
    labels.insert(String::from("sdbc-stack"), String::from("someone-else"));
    labels.insert(String::from("Sdbc_Managed"), String::from("no"));
    let calls = calls_of(&model, &user_data());
    let m = &call(&calls, "gce.vm.manager-0").body.to_value()["labels"];
    let keys: Vec<&String> = m
        .as_object()
        .map(|o| o.keys().collect())
        .unwrap_or_default();
    let mut sorted = keys.clone();
    sorted.sort();
    sorted.dedup();
    assert_eq!(keys, sorted, "sorted, each key once");
    assert_eq!(m["sdbc-stack"], "misago");
    assert_eq!(m["sdbc_managed"], "no", "another key than the mark's");
    assert_eq!(m["sdbc-managed"], "true");
    assert_eq!(m["zone-tier"], "a");
}

#[test]
fn output_is_deterministic_and_round_trips() {
    let a = requests_json(&calls_of(&two_vm_model(), &user_data()));
    let b = requests_json(&calls_of(&two_vm_model(), &user_data()));
    assert_eq!(a, b);
    assert!(a.ends_with("}\n]\n"));
    let back: Vec<InsertCall> = serde_json::from_str(&a).unwrap_or_default();
    assert_eq!(back, calls_of(&two_vm_model(), &user_data()));
}

/// What the members of a group share is made once and reused while the
/// next VM is alike: every field it is made of, changed alone, must give
/// the same body as the VM made on its own.
#[test]
fn shared_parts_never_leak_between_vms_that_differ() {
    let base = two_vm_model();
    type Change = Box<dyn Fn(&mut crate::model::Vm)>;
    let variants: Vec<Change> = vec![
        Box::new(|v| v.zone = "europe-west1-c".into()),
        Box::new(|v| v.machine_type = "e2-small".into()),
        Box::new(|v| v.image = "debian-cloud/debian-12".into()),
        Box::new(|v| v.boot_disk_gb = 99),
        Box::new(|v| v.group = "other".into()),
        Box::new(|v| {
            v.labels.insert(String::from("team"), String::from("web"));
        }),
        Box::new(|v| v.swarm = SwarmRole::None),
        Box::new(|v| v.cloud_init = !v.cloud_init),
    ];
    let mut data = user_data();
    data.insert(
        String::from("twin"),
        "#cloud-config\n# twin\n".repeat(9).into(),
    );
    for change in &variants {
        let mut model = base.clone();
        let mut twin = model.vms[1].clone();
        twin.name = String::from("twin");
        change(&mut twin);
        model.vms.push(twin.clone());
        let calls = calls_of(&model, &data);
        let mut alone = base.clone();
        alone.vms = vec![twin];
        let expected = calls_of(&alone, &data);
        assert_eq!(
            call(&calls, "gce.vm.twin").body.to_value(),
            call(&expected, "gce.vm.twin").body.to_value()
        );
    }
}
