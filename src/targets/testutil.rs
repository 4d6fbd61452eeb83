//! Small hand-built models for the targets' unit tests.

use crate::model::*;

/// A VM on network `misago` with the given name, group and role; every other
/// field empty or typical.
pub(crate) fn vm(name: &str, group: &str, index: Option<u32>, swarm: SwarmRole, ip: &str) -> Vm {
    let mut vm = Vm::new(name, group, "e2-standard-2");
    vm.index = index;
    vm.zone = "europe-west1-b".into();
    vm.image = "ubuntu-os-cloud/ubuntu-2404-lts-amd64".into();
    vm.network = "misago".into();
    vm.internal_ip = ip.to_owned();
    vm.swarm = swarm;
    vm.tags = vec![group.into()];
    vm
}

/// Two VMs: `manager-0` (Swarm manager, static address, exports the disk
/// `static-files` at `/srv/static`, runs Elasticsearch so has
/// `vm.max_map_count`) and `worker-0` (Swarm worker, ephemeral address,
/// mounts the export at `/mnt/static`), one network, one user firewall.
pub(crate) fn two_vm_model() -> Model {
    let mut manager = vm(
        "manager-0",
        "manager",
        Some(0),
        SwarmRole::Manager,
        "10.10.0.2",
    );
    manager.address = Some(String::from("manager-0"));
    manager.disks = vec![String::from("static-files")];
    manager.nfs_exports = vec![NfsExport {
        disk: String::from("static-files"),
        path: String::from("/srv/static"),
    }];
    manager
        .sysctl
        .insert(String::from("vm.max_map_count"), String::from("262144"));
    let mut worker = vm(
        "worker-0",
        "worker",
        Some(0),
        SwarmRole::Worker,
        "10.10.0.3",
    );
    worker.nfs_mounts = vec![NfsMount {
        server: String::from("manager-0"),
        server_ip: String::from("10.10.0.2"),
        export_path: String::from("/srv/static"),
        mount_path: String::from("/mnt/static"),
    }];
    let mut model = Model {
        stack: String::from("misago"),
        gce: GceSettings {
            project: Some(String::from("demo-project")),
            region: String::from("europe-west1"),
            zone: String::from("europe-west1-b"),
            image: String::from("ubuntu-os-cloud/ubuntu-2404-lts-amd64"),
            span: Default::default(),
        },
        networks: vec![Network {
            name: String::from("misago"),
            cidr: String::from("10.10.0.0/24"),
            region: String::from("europe-west1"),
            span: Default::default(),
        }],
        firewalls: vec![Firewall {
            name: String::from("public"),
            network: String::from("misago"),
            allow: vec![PortRule {
                protocol: String::from("tcp"),
                ports: vec![String::from("80"), String::from("443")],
            }],
            source_ranges: vec![String::from("0.0.0.0/0")],
            target_tags: vec![String::from("worker")],
            generated: false,
            span: Default::default(),
        }],
        addresses: vec![Address {
            name: String::from("manager-0"),
            region: String::from("europe-west1"),
            vm: Some(String::from("manager-0")),
            span: Default::default(),
        }],
        disks: vec![Disk {
            name: String::from("static-files"),
            size_gb: 20,
            disk_type: String::from("pd-balanced"),
            zone: String::from("europe-west1-b"),
            span: Default::default(),
        }],
        vms: vec![manager, worker],
        ..Default::default()
    };
    let generated = crate::model::firewalls::generated(&model);
    model.firewalls.extend(generated);
    model
}
