//! Node ids: the one name of every unit of work (`gce.vm.worker-2`,
//! `swarm.join.worker-2`, `stack.service.web`). The graph, the request
//! builder, plans, state keys, apply and the CLI all use [`NodeId`]; its
//! text form is written and read only here ([`Display`](fmt::Display) and
//! [`FromStr`]), so a new kind is added in one place.

use std::borrow::Borrow;
use std::fmt;
use std::str::FromStr;
use std::sync::Arc;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// The four layers of work, in the order they run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Layer {
    /// Networks, firewalls, addresses, disks.
    Cloud,
    /// The VMs.
    Hosts,
    /// Forming the Docker Swarm.
    Swarm,
    /// The stack's networks, secrets, configs and services.
    Stack,
}

impl Layer {
    pub const ALL: [Layer; 4] = [Layer::Cloud, Layer::Hosts, Layer::Swarm, Layer::Stack];

    pub fn as_str(self) -> &'static str {
        match self {
            Layer::Cloud => "cloud",
            Layer::Hosts => "hosts",
            Layer::Swarm => "swarm",
            Layer::Stack => "stack",
        }
    }
}

/// What a node is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum NodeKind {
    Network,
    Subnetwork,
    Firewall,
    Address,
    Disk,
    Vm,
    /// The first manager initialises the swarm (one per program, no name).
    SwarmInit,
    SwarmJoin,
    /// The stack's overlay network (one per program, no name).
    StackNetwork,
    StackSecret,
    StackConfig,
    StackService,
}

/// `(kind, id prefix, named)`; a named kind's id is `PREFIX.NAME`.
const KINDS: [(NodeKind, &str, bool); 12] = [
    (NodeKind::Network, "gce.network", true),
    (NodeKind::Subnetwork, "gce.subnetwork", true),
    (NodeKind::Firewall, "gce.firewall", true),
    (NodeKind::Address, "gce.address", true),
    (NodeKind::Disk, "gce.disk", true),
    (NodeKind::Vm, "gce.vm", true),
    (NodeKind::SwarmInit, "swarm.init", false),
    (NodeKind::SwarmJoin, "swarm.join", true),
    (NodeKind::StackNetwork, "stack.network", false),
    (NodeKind::StackSecret, "stack.secret", true),
    (NodeKind::StackConfig, "stack.config", true),
    (NodeKind::StackService, "stack.service", true),
];

/// Compute Engine resource kinds (as plans and state name them) and the node kinds they are.
const GCE_RESOURCES: [(NodeKind, &str); 6] = [
    (NodeKind::Network, "network"),
    (NodeKind::Subnetwork, "subnetwork"),
    (NodeKind::Firewall, "firewall"),
    (NodeKind::Address, "address"),
    (NodeKind::Disk, "disk"),
    (NodeKind::Vm, "instance"),
];

impl NodeKind {
    fn entry(self) -> (&'static str, bool) {
        KINDS
            .iter()
            .find(|(k, ..)| *k == self)
            .map(|(_, prefix, named)| (*prefix, *named))
            .expect("every kind is listed in KINDS")
    }

    pub fn layer(self) -> Layer {
        match self {
            NodeKind::Network
            | NodeKind::Subnetwork
            | NodeKind::Firewall
            | NodeKind::Address
            | NodeKind::Disk => Layer::Cloud,
            NodeKind::Vm => Layer::Hosts,
            NodeKind::SwarmInit | NodeKind::SwarmJoin => Layer::Swarm,
            NodeKind::StackNetwork
            | NodeKind::StackSecret
            | NodeKind::StackConfig
            | NodeKind::StackService => Layer::Stack,
        }
    }

    /// Whether Compute Engine holds it (the request builder makes it).
    pub fn is_gce(self) -> bool {
        self.gce_resource().is_some()
    }

    /// The Compute Engine resource kind (`instance` for a VM).
    pub fn gce_resource(self) -> Option<&'static str> {
        GCE_RESOURCES
            .iter()
            .find(|(k, _)| *k == self)
            .map(|(_, r)| *r)
    }

    /// The node kind of a Compute Engine resource kind.
    pub fn of_gce_resource(resource: &str) -> Option<NodeKind> {
        GCE_RESOURCES
            .iter()
            .find(|(_, r)| *r == resource)
            .map(|(k, _)| *k)
    }
}

/// A node's id; its text is the id `sdbc graph` prints. Compared, ordered
/// and hashed as that text, so a `NodeId` looks up `str`-keyed maps.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct NodeId {
    /// Shared: the graph's index, plans and schedules copy ids freely.
    text: Arc<str>,
    kind: NodeKind,
}

impl NodeId {
    /// The id of `kind` named `name` (the name is ignored by the unnamed kinds).
    pub fn new(kind: NodeKind, name: &str) -> NodeId {
        let (prefix, named) = kind.entry();
        // Written without `format!`: the graph makes a few ids per VM.
        let text: Arc<str> = if named {
            let mut text = String::with_capacity(prefix.len() + 1 + name.len());
            text.push_str(prefix);
            text.push('.');
            text.push_str(name);
            text.into()
        } else {
            prefix.into()
        };
        NodeId { text, kind }
    }

    pub fn network(name: &str) -> NodeId {
        NodeId::new(NodeKind::Network, name)
    }
    /// One subnetwork per network, same name.
    pub fn subnetwork(name: &str) -> NodeId {
        NodeId::new(NodeKind::Subnetwork, name)
    }
    pub fn firewall(name: &str) -> NodeId {
        NodeId::new(NodeKind::Firewall, name)
    }
    pub fn address(name: &str) -> NodeId {
        NodeId::new(NodeKind::Address, name)
    }
    pub fn disk(name: &str) -> NodeId {
        NodeId::new(NodeKind::Disk, name)
    }
    pub fn vm(name: &str) -> NodeId {
        NodeId::new(NodeKind::Vm, name)
    }

    pub fn kind(&self) -> NodeKind {
        self.kind
    }

    pub fn layer(&self) -> Layer {
        self.kind.layer()
    }

    /// The name after the kind's prefix (empty for the unnamed kinds).
    pub fn name(&self) -> &str {
        let (prefix, named) = self.kind.entry();
        if named {
            &self.text[prefix.len() + 1..]
        } else {
            ""
        }
    }

    pub fn as_str(&self) -> &str {
        &self.text
    }
}

impl fmt::Display for NodeId {
    /// The text, padded as asked (`{:<40}`).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(&self.text)
    }
}

// Hashed as its text alone, as `Borrow<str>` requires.
impl std::hash::Hash for NodeId {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.text.hash(state);
    }
}

impl Borrow<str> for NodeId {
    fn borrow(&self) -> &str {
        &self.text
    }
}

impl PartialEq<str> for NodeId {
    fn eq(&self, other: &str) -> bool {
        &*self.text == other
    }
}

impl PartialEq<String> for NodeId {
    fn eq(&self, other: &String) -> bool {
        *self.text == **other
    }
}

impl PartialEq<&str> for NodeId {
    fn eq(&self, other: &&str) -> bool {
        &*self.text == *other
    }
}

/// A text that is no node id.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{0}` is not a node id (such as `gce.vm.worker-0` or `stack.service.web`)")]
pub struct BadNodeId(pub String);

impl FromStr for NodeId {
    type Err = BadNodeId;

    fn from_str(s: &str) -> Result<NodeId, BadNodeId> {
        for (kind, prefix, named) in KINDS {
            let matches = match s.strip_prefix(prefix) {
                Some("") => !named,
                Some(rest) => named && rest.len() > 1 && rest.starts_with('.'),
                None => false,
            };
            if matches {
                return Ok(NodeId {
                    text: s.into(),
                    kind,
                });
            }
        }
        Err(BadNodeId(s.to_string()))
    }
}

impl Serialize for NodeId {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.text)
    }
}

impl<'de> Deserialize<'de> for NodeId {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<NodeId, D::Error> {
        let text = String::deserialize(d)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_round_trip_through_text() {
        for (kind, ..) in KINDS {
            let id = NodeId::new(kind, "worker-2");
            let back: NodeId = id.as_str().parse().expect("own text parses");
            assert_eq!(back, id);
            assert_eq!(back.kind(), kind);
        }
        assert_eq!(NodeId::vm("worker-2").as_str(), "gce.vm.worker-2");
        assert_eq!(NodeId::vm("worker-2").name(), "worker-2");
        assert_eq!(NodeId::new(NodeKind::SwarmInit, "x").as_str(), "swarm.init");
        let net: NodeId = "stack.network".parse().expect("unnamed kind");
        assert_eq!(net.kind(), NodeKind::StackNetwork);
        assert!("gce.vm.".parse::<NodeId>().is_err());
        assert!("gce.vmx".parse::<NodeId>().is_err());
        assert!("swarm.init.x".parse::<NodeId>().is_err());
        assert!("worker-2".parse::<NodeId>().is_err());
    }

    #[test]
    fn order_is_the_text_order() {
        let mut ids = [
            NodeId::vm("a"),
            NodeId::new(NodeKind::SwarmInit, ""),
            NodeId::network("z"),
            NodeId::address("b"),
        ];
        ids.sort();
        let text: Vec<&str> = ids.iter().map(NodeId::as_str).collect();
        let mut sorted = text.clone();
        sorted.sort_unstable();
        assert_eq!(text, sorted);
    }

    #[test]
    fn gce_resource_kinds_map_both_ways() {
        for (kind, resource) in GCE_RESOURCES {
            assert_eq!(kind.gce_resource(), Some(resource));
            assert_eq!(NodeKind::of_gce_resource(resource), Some(kind));
        }
        assert!(!NodeKind::StackService.is_gce());
    }
}
