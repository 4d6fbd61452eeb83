//! The instance body, written directly in its kept form
//! ([`Body::of_kept`]): typed fields in the order of the compute v1
//! `Instance` schema as sdbc sends it, borrowed from the model where they
//! can be, so a VM costs one text and no JSON tree. Its boot configuration
//! (a long metadata value) stands there as a digest made once per distinct
//! text ([`Memo`]), and the [`Body`] keeps the shared text itself.

use std::borrow::Cow;
use std::cell::RefCell;
use std::collections::BTreeMap;
use std::rc::Rc;
use std::sync::Arc;

use serde::Serialize;
use serde_json::value::RawValue;

use crate::graph::NodeId;
use crate::model::{SwarmRole, Vm};
use crate::targets::body::Body;
use crate::targets::digest::{Digested, Memo};

use super::bodies::{BOOT_DISK_TYPE, Ctx};
use super::{SSH_KEYS, SSH_KEYS_ITEM, names, refs};

type Labels<'a> = BTreeMap<Cow<'a, str>, Cow<'a, str>>;

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Instance<'a> {
    name: String,
    description: &'a RawValue,
    machine_type: &'a RawValue,
    tags: Items<String>,
    labels: &'a RawValue,
    disks: Vec<AttachedDisk<'a>>,
    network_interfaces: [NetworkInterface<'a>; 1],
    metadata: &'a RawValue,
}

#[derive(Serialize)]
struct Items<T> {
    items: Vec<T>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct AttachedDisk<'a> {
    boot: bool,
    auto_delete: bool,
    #[serde(rename = "type")]
    kind: &'static str,
    mode: &'static str,
    device_name: Cow<'a, str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    initialize_params: Option<InitializeParams<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    source: Option<String>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct InitializeParams<'a> {
    source_image: &'a RawValue,
    disk_size_gb: &'a RawValue,
    disk_type: &'a RawValue,
    labels: Labels<'a>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct NetworkInterface<'a> {
    network: &'a RawValue,
    subnetwork: &'a RawValue,
    #[serde(rename = "networkIP")]
    network_ip: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    access_configs: Option<[AccessConfig; 1]>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct AccessConfig {
    name: &'static str,
    #[serde(rename = "type")]
    kind: &'static str,
    network_tier: &'static str,
    #[serde(rename = "natIP", skip_serializing_if = "Option::is_none")]
    nat_ip: Option<String>,
}

#[derive(Serialize)]
struct Item<'a> {
    key: &'a str,
    value: ItemValue<'a>,
}

/// A metadata value in the kept form: verbatim, or the digest of a long one.
#[derive(Serialize)]
#[serde(untagged)]
enum ItemValue<'a> {
    Text(&'a str),
    Digest(Rc<Digested>),
}

/// What VMs made alike (a group's members, and most often VMs declared
/// one by one too) share in their bodies, made once for the first of them
/// and reused while the next VM is alike: each part already written as
/// JSON, so it is copied rather than written again.
struct Shape<'m> {
    /// The VM it was made from.
    from: &'m Vm,
    machine_type: Box<RawValue>,
    source_image: Box<RawValue>,
    disk_size_gb: Box<RawValue>,
    disk_type: Box<RawValue>,
    network: Box<RawValue>,
    subnetwork: Box<RawValue>,
}

/// A VM's metadata in the kept form, shared by the VMs with the same boot
/// configuration (the same text), key and login keys.
struct Metadata {
    boot_config: Option<Arc<str>>,
    key: &'static str,
    ssh_keys: bool,
    kept: Box<RawValue>,
    /// The boot configuration, when the kept form has its digest.
    long: Option<Arc<str>>,
}

impl Metadata {
    fn fits(&self, boot_config: Option<&Arc<str>>, key: &str, ssh_keys: bool) -> bool {
        let same_config = match (&self.boot_config, boot_config) {
            (Some(a), Some(b)) => Arc::ptr_eq(a, b) || a == b,
            (None, None) => true,
            _ => false,
        };
        same_config && self.key == key && self.ssh_keys == ssh_keys
    }
}

/// `value` written as JSON.
fn raw<T: Serialize + ?Sized>(value: &T) -> Box<RawValue> {
    serde_json::value::to_raw_value(value).expect("strings and maps of strings serialize")
}

/// What the members of a group share that names the group.
struct GroupParts<'m> {
    /// The VM it was made from.
    from: &'m Vm,
    description: Box<RawValue>,
    labels: Box<RawValue>,
}

impl GroupParts<'_> {
    fn fits(&self, vm: &Vm) -> bool {
        self.from.group == vm.group && self.from.labels == vm.labels
    }
}

impl Shape<'_> {
    /// Whether `vm`'s body would have this shape: every field it is made of is equal.
    fn fits(&self, vm: &Vm) -> bool {
        let a = self.from;
        a.zone == vm.zone
            && a.machine_type == vm.machine_type
            && a.image == vm.image
            && a.boot_disk_gb == vm.boot_disk_gb
            && a.network == vm.network
    }
}

/// What the instance bodies of one program share: the digests of their
/// boot configurations and the shape of the last VM.
#[derive(Default)]
pub(super) struct Shared<'m> {
    memo: Memo<'m>,
    shape: RefCell<Option<Rc<Shape<'m>>>>,
    group: RefCell<Option<Rc<GroupParts<'m>>>>,
    metadata: RefCell<Option<Rc<Metadata>>>,
}

impl<'m> Ctx<'m> {
    /// The body of `vm`'s insert call; `boot_config` is its boot
    /// configuration, shared with the VMs that have the same one.
    pub(super) fn instance_body(
        &self,
        vm: &'m Vm,
        boot_config: Option<&'m Arc<str>>,
        shared: &Shared<'m>,
    ) -> Body {
        let shape = self.shape(vm, shared);
        let group = self.group_parts(vm, shared);
        let metadata = metadata(vm, boot_config, shared);
        let mut disks = vec![self.boot_disk(vm, &shape)];
        disks.extend(vm.disks.iter().map(|d| self.attached_disk(vm, d)));
        let body = Instance {
            name: names::resource_name(&vm.name),
            description: &group.description,
            machine_type: &shape.machine_type,
            tags: Items {
                items: self.tags(vm),
            },
            labels: &group.labels,
            disks,
            network_interfaces: [network_interface(vm, &shape)],
            metadata: &metadata.kept,
        };
        Body::of_kept(&body, metadata.long.iter().cloned().collect())
    }

    /// The shape of `vm`: the last one when it fits, else a new one.
    fn shape(&self, vm: &'m Vm, shared: &Shared<'m>) -> Rc<Shape<'m>> {
        let mut last = shared.shape.borrow_mut();
        if let Some(shape) = last.as_ref().filter(|s| s.fits(vm)) {
            return Rc::clone(shape);
        }
        let project = self.project();
        let region = self.region_of(&vm.network);
        let shape = Rc::new(Shape {
            from: vm,
            machine_type: raw(&format!(
                "zones/{}/machineTypes/{}",
                vm.zone, vm.machine_type
            )),
            source_image: raw(&self.image_url(&vm.image)),
            disk_size_gb: raw(&vm.boot_disk_gb.to_string()),
            disk_type: raw(&format!(
                "projects/{project}/zones/{}/diskTypes/{BOOT_DISK_TYPE}",
                vm.zone
            )),
            network: raw(&self.network_url(&vm.network)),
            subnetwork: raw(&format!(
                "projects/{project}/regions/{region}/subnetworks/{}",
                names::resource_name(&vm.network)
            )),
        });
        *last = Some(Rc::clone(&shape));
        shape
    }

    /// The parts that name `vm`'s group: the last ones when they fit, else new ones.
    fn group_parts(&self, vm: &'m Vm, shared: &Shared<'m>) -> Rc<GroupParts<'m>> {
        let mut last = shared.group.borrow_mut();
        if let Some(parts) = last.as_ref().filter(|p| p.fits(vm)) {
            return Rc::clone(parts);
        }
        let extra = vm
            .labels
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .chain([("sdbc-group", vm.group.as_str())]);
        let parts = Rc::new(GroupParts {
            from: vm,
            description: raw(&self.description(&format!("instance of group {}", vm.group))),
            labels: raw(&self.label_map(extra)),
        });
        *last = Some(Rc::clone(&parts));
        parts
    }

    /// The owner mark's labels and `extra` as label pairs (the mark wins).
    fn label_map<'a>(&'a self, extra: impl Iterator<Item = (&'a str, &'a str)>) -> Labels<'a> {
        let mut map: Labels<'a> = extra
            .map(|(k, v)| {
                (
                    Cow::from(names::label_key(k)),
                    Cow::from(names::label_value(v)),
                )
            })
            .collect();
        for (k, v) in self.mark_labels() {
            map.insert(Cow::from(k.as_str()), Cow::from(v.as_str()));
        }
        map
    }

    fn tags(&self, vm: &Vm) -> Vec<String> {
        let mut tags: Vec<String> = vm.tags.iter().map(|t| names::resource_name(t)).collect();
        tags.push(names::resource_name(&vm.group));
        tags.push(self.stack_tag().to_string());
        tags.sort();
        tags.dedup();
        tags
    }

    fn boot_disk<'a>(&'a self, vm: &'a Vm, shape: &'a Shape<'_>) -> AttachedDisk<'a> {
        AttachedDisk {
            boot: true,
            auto_delete: true,
            kind: "PERSISTENT",
            mode: "READ_WRITE",
            device_name: Cow::from("boot"),
            initialize_params: Some(InitializeParams {
                source_image: &shape.source_image,
                disk_size_gb: &shape.disk_size_gb,
                disk_type: &shape.disk_type,
                labels: self.label_map([("sdbc-vm", vm.name.as_str())].into_iter()),
            }),
            source: None,
        }
    }

    /// An attached persistent disk; `deviceName` is the disk's name, so the
    /// guest sees it as `/dev/disk/by-id/google-NAME`.
    fn attached_disk<'a>(&'a self, vm: &'a Vm, disk: &str) -> AttachedDisk<'a> {
        let zone = self.zone_of_disk(disk).unwrap_or(vm.zone.as_str());
        let name = names::resource_name(disk);
        let source = format!("projects/{}/zones/{zone}/disks/{name}", self.project());
        AttachedDisk {
            boot: false,
            auto_delete: false,
            kind: "PERSISTENT",
            mode: "READ_WRITE",
            device_name: Cow::from(name),
            initialize_params: None,
            source: Some(source),
        }
    }
}

fn network_interface<'a>(vm: &'a Vm, shape: &'a Shape<'_>) -> NetworkInterface<'a> {
    let access_configs = (vm.external_access || vm.address.is_some()).then(|| {
        [AccessConfig {
            name: "external-nat",
            kind: "ONE_TO_ONE_NAT",
            network_tier: "PREMIUM",
            nat_ip: vm
                .address
                .as_ref()
                .map(|addr| refs::placeholder(&NodeId::address(addr), "address")),
        }]
    });
    NetworkInterface {
        network: &shape.network,
        subnetwork: &shape.subnetwork,
        network_ip: &vm.internal_ip,
        access_configs,
    }
}

/// `vm`'s metadata: the last VM's when it fits, else written anew.
fn metadata<'m>(
    vm: &'m Vm,
    boot_config: Option<&'m Arc<str>>,
    shared: &Shared<'m>,
) -> Rc<Metadata> {
    let key = crate::targets::cloud_init::metadata_key(vm);
    let ssh_keys = vm.swarm != SwarmRole::None;
    let mut last = shared.metadata.borrow_mut();
    if let Some(m) = last.as_ref().filter(|m| m.fits(boot_config, key, ssh_keys)) {
        return Rc::clone(m);
    }
    let mut items = vec![Item {
        key: "enable-guest-attributes",
        value: ItemValue::Text("TRUE"),
    }];
    let mut long = None;
    if let Some(text) = boot_config {
        let value = match shared.memo.long(text) {
            Some(digest) => {
                long = Some(Arc::clone(text));
                ItemValue::Digest(digest)
            }
            None => ItemValue::Text(text),
        };
        items.push(Item { key, value });
    }
    if ssh_keys {
        items.push(Item {
            key: SSH_KEYS_ITEM,
            value: ItemValue::Text(SSH_KEYS),
        });
    }
    let m = Rc::new(Metadata {
        boot_config: boot_config.cloned(),
        key,
        ssh_keys,
        kept: raw(&Items { items }),
        long,
    });
    *last = Some(Rc::clone(&m));
    m
}
