//! Request bodies, one builder per resource kind. Field names and JSON types
//! follow the compute v1 discovery schemas exactly: int64 fields
//! (`sizeGb`, `diskSizeGb`) are strings, URLs are partial resource paths
//! (`projects/P/zones/Z/diskTypes/pd-balanced`), and no output-only field
//! (`region` of an address, `zone` of a disk or instance) is sent.

use std::collections::BTreeMap;

use serde_json::{Map, Value, json};

use crate::graph::{DepGraph, NodeId};
use crate::model::{Address, Disk, Firewall, Model, Network, Vm};

use super::{InsertCall, names, owner, refs};

/// The disk type of boot disks.
const BOOT_DISK_TYPE: &str = "pd-balanced";

/// What every builder needs from the model.
pub(super) struct Ctx<'m> {
    project: String,
    model: &'m Model,
    stack_tag: String,
    graph: &'m DepGraph,
    /// The owner mark as a description prefix and as labels, made once.
    mark: String,
    mark_labels: [(String, String); 3],
}

impl<'m> Ctx<'m> {
    pub(super) fn new(model: &'m Model, graph: &'m DepGraph) -> Self {
        Ctx {
            project: model
                .gce
                .project
                .clone()
                .unwrap_or_else(|| String::from("{project}")),
            model,
            stack_tag: names::stack_tag(&model.stack),
            graph,
            mark: owner::description_prefix(&model.stack, owner::LINEAGE),
            mark_labels: owner::labels(&model.stack),
        }
    }

    /// The insert call making `node`, which waits for what the graph says.
    fn call(&self, node: NodeId, path: String, body: Value) -> InsertCall {
        let depends_on = self
            .graph
            .prerequisites(node.as_str())
            .into_iter()
            .cloned()
            .collect();
        InsertCall {
            node,
            method: String::from("POST"),
            path,
            query: BTreeMap::new(),
            body,
            depends_on,
        }
    }

    /// The owner mark and `WHAT`, for every resource (the only mark of
    /// those without labels): see [`owner`].
    fn description(&self, what: &str) -> String {
        format!("{}: {what}", self.mark)
    }

    /// The owner mark's labels and `extra`, all valid label pairs (the
    /// lineage as its placeholder).
    fn labels(&self, extra: &[(&str, &str)]) -> Value {
        let mut map = BTreeMap::new();
        for (k, v) in extra {
            map.insert(names::label_key(k), names::label_value(v));
        }
        map.extend(self.mark_labels.iter().cloned());
        Value::Object(
            map.into_iter()
                .map(|(k, v)| (k, Value::String(v)))
                .collect(),
        )
    }

    fn network_url(&self, name: &str) -> String {
        format!(
            "projects/{}/global/networks/{}",
            self.project,
            names::resource_name(name)
        )
    }

    fn region_of(&self, network: &str) -> &str {
        self.model
            .networks
            .iter()
            .find(|n| n.name == network)
            .map_or(self.model.gce.region.as_str(), |n| n.region.as_str())
    }

    pub(super) fn network(&self, net: &Network) -> InsertCall {
        let body = json!({
            "name": names::resource_name(&net.name),
            "description": self.description("network"),
            "autoCreateSubnetworks": false,
        });
        let path = format!("projects/{}/global/networks", self.project);
        self.call(NodeId::network(&net.name), path, body)
    }

    pub(super) fn subnetwork(&self, net: &Network) -> InsertCall {
        let body = json!({
            "name": names::resource_name(&net.name),
            "description": self.description("subnetwork"),
            "network": self.network_url(&net.name),
            "ipCidrRange": net.cidr,
            "region": net.region,
        });
        let path = format!(
            "projects/{}/regions/{}/subnetworks",
            self.project, net.region
        );
        self.call(NodeId::subnetwork(&net.name), path, body)
    }

    pub(super) fn firewall(&self, fw: &Firewall) -> InsertCall {
        let allowed: Vec<Value> = fw
            .allow
            .iter()
            .map(|r| {
                let mut rule = Map::new();
                rule.insert("IPProtocol".into(), json!(r.protocol));
                if !r.ports.is_empty() {
                    rule.insert("ports".into(), json!(r.ports));
                }
                Value::Object(rule)
            })
            .collect();
        let what = if fw.generated {
            "generated firewall"
        } else {
            "firewall"
        };
        let mut body = json!({
            "name": names::resource_name(&fw.name),
            "description": self.description(what),
            "network": self.network_url(&fw.network),
            "direction": "INGRESS",
            "allowed": allowed,
        });
        if fw.source_ranges.is_empty() {
            body["sourceTags"] = json!([self.stack_tag]);
        } else {
            body["sourceRanges"] = json!(fw.source_ranges);
        }
        if !fw.target_tags.is_empty() {
            let tags: Vec<String> = fw
                .target_tags
                .iter()
                .map(|t| names::resource_name(t))
                .collect();
            body["targetTags"] = json!(tags);
        }
        let path = format!("projects/{}/global/firewalls", self.project);
        self.call(NodeId::firewall(&fw.name), path, body)
    }

    pub(super) fn address(&self, addr: &Address) -> InsertCall {
        let mut extra = Vec::new();
        if let Some(vm) = &addr.vm {
            extra.push(("sdbc-vm", vm.as_str()));
        }
        let body = json!({
            "name": names::resource_name(&addr.name),
            "description": self.description("static external address"),
            "addressType": "EXTERNAL",
            "networkTier": "PREMIUM",
            "labels": self.labels(&extra),
        });
        let path = format!(
            "projects/{}/regions/{}/addresses",
            self.project, addr.region
        );
        self.call(NodeId::address(&addr.name), path, body)
    }

    pub(super) fn disk(&self, disk: &Disk) -> InsertCall {
        let body = json!({
            "name": names::resource_name(&disk.name),
            "description": self.description("disk"),
            "sizeGb": disk.size_gb.to_string(),
            "type": format!("projects/{}/zones/{}/diskTypes/{}", self.project, disk.zone, disk.disk_type),
            "labels": self.labels(&[]),
        });
        let path = format!("projects/{}/zones/{}/disks", self.project, disk.zone);
        self.call(NodeId::disk(&disk.name), path, body)
    }

    /// The `projects/P/global/images/family/F` URL of `PROJECT/FAMILY`.
    fn image_url(&self, image: &str) -> String {
        match image.split_once('/') {
            Some((project, family)) => format!("projects/{project}/global/images/family/{family}"),
            None => format!("projects/{}/global/images/family/{image}", self.project),
        }
    }

    fn boot_disk(&self, vm: &Vm) -> Value {
        let disk_type = format!(
            "projects/{}/zones/{}/diskTypes/{BOOT_DISK_TYPE}",
            self.project, vm.zone
        );
        let init = obj([
            ("sourceImage", self.image_url(&vm.image).into()),
            ("diskSizeGb", vm.boot_disk_gb.to_string().into()),
            ("diskType", disk_type.into()),
            ("labels", self.labels(&[("sdbc-vm", &vm.name)])),
        ]);
        obj([
            ("boot", true.into()),
            ("autoDelete", true.into()),
            ("type", "PERSISTENT".into()),
            ("mode", "READ_WRITE".into()),
            ("deviceName", "boot".into()),
            ("initializeParams", init),
        ])
    }

    /// An attached persistent disk; `deviceName` is the disk's name, so the
    /// guest sees it as `/dev/disk/by-id/google-NAME`.
    fn attached_disk(&self, vm: &Vm, disk: &str) -> Value {
        let zone = self
            .model
            .disks
            .iter()
            .find(|d| d.name == disk)
            .map_or(vm.zone.as_str(), |d| d.zone.as_str());
        let name = names::resource_name(disk);
        json!({
            "boot": false,
            "autoDelete": false,
            "type": "PERSISTENT",
            "mode": "READ_WRITE",
            "deviceName": name,
            "source": format!("projects/{}/zones/{zone}/disks/{name}", self.project),
        })
    }

    fn network_interface(&self, vm: &Vm) -> Value {
        let region = self.region_of(&vm.network);
        let mut nic = json!({
            "network": self.network_url(&vm.network),
            "subnetwork": format!(
                "projects/{}/regions/{region}/subnetworks/{}",
                self.project,
                names::resource_name(&vm.network)
            ),
            "networkIP": vm.internal_ip,
        });
        if vm.external_access || vm.address.is_some() {
            let mut access = json!({
                "name": "external-nat",
                "type": "ONE_TO_ONE_NAT",
                "networkTier": "PREMIUM",
            });
            if let Some(addr) = &vm.address {
                access["natIP"] = json!(refs::placeholder(&NodeId::address(addr), "address"));
            }
            nic["accessConfigs"] = Value::Array(vec![access]);
        }
        nic
    }

    fn metadata(&self, vm: &Vm, boot_config: Option<&str>) -> Value {
        let mut items = vec![json!({ "key": "enable-guest-attributes", "value": "TRUE" })];
        if let Some(value) = boot_config {
            let key = crate::targets::cloud_init::metadata_key(vm);
            items.push(obj([("key", key.into()), ("value", value.into())]));
        }
        if vm.swarm != crate::model::SwarmRole::None {
            items.push(json!({ "key": super::SSH_KEYS_ITEM, "value": super::SSH_KEYS }));
        }
        obj([("items", Value::Array(items))])
    }

    fn tags(&self, vm: &Vm) -> Value {
        let mut tags: Vec<String> = vm.tags.iter().map(|t| names::resource_name(t)).collect();
        tags.push(names::resource_name(&vm.group));
        tags.push(self.stack_tag.clone());
        tags.sort();
        tags.dedup();
        obj([("items", tags.into())])
    }

    pub(super) fn instance(&self, vm: &Vm, boot_config: Option<&str>) -> InsertCall {
        let mut labels: Vec<(&str, &str)> = vm
            .labels
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        labels.push(("sdbc-group", &vm.group));
        let mut disks = vec![self.boot_disk(vm)];
        disks.extend(vm.disks.iter().map(|d| self.attached_disk(vm, d)));
        let description = self.description(&format!("instance of group {}", vm.group));
        let machine_type = format!("zones/{}/machineTypes/{}", vm.zone, vm.machine_type);
        let body = obj([
            ("name", names::resource_name(&vm.name).into()),
            ("description", description.into()),
            ("machineType", machine_type.into()),
            ("tags", self.tags(vm)),
            ("labels", self.labels(&labels)),
            ("disks", Value::Array(disks)),
            (
                "networkInterfaces",
                Value::Array(vec![self.network_interface(vm)]),
            ),
            ("metadata", self.metadata(vm, boot_config)),
        ]);
        let path = format!("projects/{}/zones/{}/instances", self.project, vm.zone);
        self.call(NodeId::vm(&vm.name), path, body)
    }
}

/// A JSON object of `pairs`, in order, moving the values in (unlike
/// `json!`, which copies an interpolated `Value` through serialization).
fn obj<const N: usize>(pairs: [(&str, Value); N]) -> Value {
    Value::Object(pairs.into_iter().map(|(k, v)| (k.to_owned(), v)).collect())
}
