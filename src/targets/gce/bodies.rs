//! Request bodies, one builder per resource kind. Field names and JSON types
//! follow the compute v1 discovery schemas exactly: int64 fields
//! (`sizeGb`, `diskSizeGb`) are strings, URLs are partial resource paths
//! (`projects/P/zones/Z/diskTypes/pd-balanced`), and no output-only field
//! (`region` of an address, `zone` of a disk or instance) is sent.

use std::collections::BTreeMap;

use serde_json::{Map, Value, json};

use crate::graph::{DepGraph, NodeId};
use crate::model::{Address, Disk, Firewall, Model, Network, Vm};
use crate::targets::body::Body;

use super::{InsertCall, names, owner};

/// The disk type of boot disks.
pub(super) const BOOT_DISK_TYPE: &str = "pd-balanced";

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
    fn call(&self, node: NodeId, path: String, body: impl Into<Body>) -> InsertCall {
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
            body: body.into(),
            depends_on,
        }
    }

    /// The owner mark and `WHAT`, for every resource (the only mark of
    /// those without labels): see [`owner`].
    pub(super) fn description(&self, what: &str) -> String {
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

    pub(super) fn network_url(&self, name: &str) -> String {
        format!(
            "projects/{}/global/networks/{}",
            self.project,
            names::resource_name(name)
        )
    }

    pub(super) fn region_of(&self, network: &str) -> &str {
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
    pub(super) fn image_url(&self, image: &str) -> String {
        match image.split_once('/') {
            Some((project, family)) => format!("projects/{project}/global/images/family/{family}"),
            None => format!("projects/{}/global/images/family/{image}", self.project),
        }
    }

    pub(super) fn instance(
        &self,
        vm: &'m Vm,
        boot_config: Option<&'m std::sync::Arc<str>>,
        shared: &super::instance::Shared<'m>,
    ) -> InsertCall {
        let (body, path) = self.instance_body(vm, boot_config, shared);
        self.call(NodeId::vm(&vm.name), path, body)
    }

    pub(super) fn project(&self) -> &str {
        &self.project
    }

    pub(super) fn stack_tag(&self) -> &str {
        &self.stack_tag
    }

    pub(super) fn mark_labels(&self) -> &[(String, String); 3] {
        &self.mark_labels
    }

    /// The zone of a declared disk.
    pub(super) fn zone_of_disk(&self, disk: &str) -> Option<&str> {
        self.model
            .disks
            .iter()
            .find(|d| d.name == disk)
            .map(|d| d.zone.as_str())
    }
}
