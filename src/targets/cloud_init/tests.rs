//! Unit tests of the boot configuration, on the two-VM model.

use super::*;
use crate::targets::testutil::two_vm_model;

fn render(model: &Model, name: &str) -> Result<String, RenderError> {
    let vm = model.vms.iter().find(|v| v.name == name);
    let vm = vm.unwrap_or_else(|| panic!("no vm {name}"));
    user_data(model, vm)
}

#[test]
fn snapshot_exporter() {
    let out = render(&two_vm_model(), "manager-0");
    insta::assert_snapshot!(out.unwrap_or_else(|e| e.to_string()));
}

#[test]
fn snapshot_client() {
    let out = render(&two_vm_model(), "worker-0");
    insta::assert_snapshot!(out.unwrap_or_else(|e| e.to_string()));
}

#[test]
fn snapshot_startup_script() {
    let mut model = two_vm_model();
    for vm in &mut model.vms {
        vm.cloud_init = false;
    }
    let manager = render(&model, "manager-0").unwrap_or_else(|e| e.to_string());
    let worker = render(&model, "worker-0").unwrap_or_else(|e| e.to_string());
    insta::assert_snapshot!(format!("{manager}\n==== worker-0 ====\n{worker}"));
}

#[test]
fn contents() {
    let model = two_vm_model();
    let m = render(&model, "manager-0").unwrap_or_default();
    assert!(m.starts_with("#cloud-config\n"));
    for needle in [
        "\"nfs-kernel-server\"",
        "\"docker.io\"",
        "/srv/static 10.10.0.0/24(rw,sync,no_subtree_check,no_root_squash)",
        "vm.max_map_count = 262144",
        "\"sdbc.group=manager\"",
        "\"/dev/disk/by-id/google-static-files\"",
        "guest-attributes/sdbc/ready",
    ] {
        assert!(m.contains(needle), "manager-0 lacks {needle}");
    }
    let w = render(&model, "worker-0").unwrap_or_default();
    assert!(w.contains("[\"10.10.0.2:/srv/static\", \"/mnt/static\", \"nfs\", \"defaults,_netdev,nofail\", \"0\", \"0\"]"));
    assert!(!w.contains("nfs-kernel-server"));
}

#[test]
fn metadata_keys_and_images() {
    let mut model = two_vm_model();
    assert_eq!(metadata_key(&model.vms[0]), "user-data");
    model.vms[0].cloud_init = false;
    assert_eq!(metadata_key(&model.vms[0]), "startup-script");
    assert!(
        render(&model, "manager-0")
            .unwrap_or_default()
            .starts_with("#!/bin/bash\n")
    );
    assert!(image_runs_cloud_init(
        "ubuntu-os-cloud/ubuntu-2404-lts-amd64"
    ));
    assert!(!image_runs_cloud_init("debian-cloud/debian-12"));
}

#[test]
fn too_large_is_a_typed_error() {
    let mut model = two_vm_model();
    let big = "1".repeat(USER_DATA_LIMIT);
    model.vms[0].sysctl.insert(String::from("kernel.big"), big);
    match render(&model, "manager-0") {
        Err(RenderError::TooLarge {
            vm, size, limit, ..
        }) => {
            assert_eq!(vm, "manager-0");
            assert!(size > limit && limit == USER_DATA_LIMIT);
        }
        other => panic!("expected TooLarge, got {other:?}"),
    }
}

#[test]
fn unsafe_paths_and_values_are_refused() {
    let mut model = two_vm_model();
    model.vms[1].nfs_mounts[0].mount_path = String::from("/mnt/a b");
    assert!(matches!(
        render(&model, "worker-0"),
        Err(RenderError::BadPath { .. })
    ));
    model.vms[1].nfs_mounts[0].mount_path = String::from("relative");
    assert!(matches!(
        render(&model, "worker-0"),
        Err(RenderError::BadPath { .. })
    ));
    model.vms[1].nfs_mounts[0].mount_path = String::from("/mnt/static");
    model.vms[1].nfs_mounts[0].server_ip = String::from("10.0.0.1; rm -rf /");
    assert!(matches!(
        render(&model, "worker-0"),
        Err(RenderError::BadValue { .. })
    ));
    model.vms[0]
        .sysctl
        .insert(String::from("a\nb"), String::from("1"));
    assert!(matches!(
        render(&model, "manager-0"),
        Err(RenderError::BadValue { .. })
    ));
}

#[test]
fn render_all_collects_every_error() {
    let mut model = two_vm_model();
    model.networks.clear();
    model.vms[1].nfs_mounts[0].mount_path = String::from("no");
    let errors = render_all(&model).err().unwrap_or_default();
    assert_eq!(errors.len(), 2);
    assert!(render_all(&two_vm_model()).is_ok_and(|m| m.len() == 2));
}

#[test]
fn render_rest_keeps_the_texts_given() {
    let model = two_vm_model();
    let out = render_rest(&model, &[Some(Arc::from("given"))]).unwrap_or_default();
    assert_eq!(out.get(&model.vms[0].name).map(|t| &**t), Some("given"));
    let second = render(&model, &model.vms[1].name).unwrap_or_default();
    assert_eq!(
        out.get(&model.vms[1].name).map(|t| t.to_string()),
        Some(second)
    );
}

#[test]
fn trap_values_stay_quoted() {
    let mut model = two_vm_model();
    model.vms[0]
        .sysctl
        .insert(String::from("net.x"), String::from("yes"));
    model.vms[0]
        .engine_labels
        .insert(String::from("on"), String::from("22:22"));
    let m = render(&model, "manager-0").unwrap_or_default();
    assert!(m.contains("net.x = yes"));
    assert!(m.contains("\"on=22:22\""));
}
