//! The desired Compute Engine resources, read from the insert calls that
//! `targets::gce` generates: each call names its node, its collection and
//! its body, which is exactly what a resource should look like.

use serde::{Deserialize, Serialize};

use crate::graph::{NodeId, NodeKind};
use crate::targets::body::Body;
use crate::targets::gce::InsertCall;

/// Where a resource lives.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(tag = "scope", content = "name", rename_all = "lowercase")]
pub enum Location {
    Global,
    Region(String),
    Zone(String),
}

impl Location {
    pub fn label(&self) -> String {
        self.name().to_string()
    }

    /// `global`, or the region's or zone's name.
    pub fn name(&self) -> &str {
        match self {
            Location::Global => "global",
            Location::Region(r) | Location::Zone(r) => r,
        }
    }
}

/// One resource as the program wants it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Desired {
    /// Graph node id, e.g. `gce.vm.worker-2`.
    pub node: NodeId,
    /// `instance`, `disk`, `address`, `network`, `subnetwork`, `firewall`.
    pub kind: String,
    pub name: String,
    /// `projects/P/zones/Z/instances`.
    pub collection: String,
    pub location: Location,
    pub body: Body,
    pub depends_on: Vec<NodeId>,
}

impl Desired {
    pub fn from_call(call: &InsertCall) -> Option<Desired> {
        let (kind, location) = parse_collection(&call.path)?;
        let name = call.body.name()?;
        Some(Desired {
            node: call.node.clone(),
            kind: kind.to_string(),
            name,
            collection: call.path.clone(),
            location,
            body: call.body.clone(),
            depends_on: call.depends_on.clone(),
        })
    }

    /// `collection/name`: the resource's own path.
    pub fn path(&self) -> String {
        format!("{}/{}", self.collection, self.name)
    }
}

/// `(kind, location)` of a collection path such as `projects/P/zones/Z/disks`.
pub fn parse_collection(path: &str) -> Option<(&'static str, Location)> {
    let mut parts = path.split('/');
    let mut next = || parts.next();
    let (location, last) = match (next(), next(), next(), next(), next(), next()) {
        (Some("projects"), Some(_), Some("global"), Some(last), None, None) => {
            (Location::Global, last)
        }
        (Some("projects"), Some(_), Some("regions"), Some(r), Some(last), None) => {
            (Location::Region(r.to_string()), last)
        }
        (Some("projects"), Some(_), Some("zones"), Some(z), Some(last), None) => {
            (Location::Zone(z.to_string()), last)
        }
        _ => return None,
    };
    let kind = match last {
        "networks" => "network",
        "subnetworks" => "subnetwork",
        "firewalls" => "firewall",
        "addresses" => "address",
        "disks" => "disk",
        "instances" => "instance",
        _ => return None,
    };
    Some((kind, location))
}

/// The graph node id of a Compute Engine resource of `kind` (as
/// [`parse_collection`] names it) named `name`.
pub fn node_id(kind: &str, name: &str) -> Option<NodeId> {
    NodeKind::of_gce_resource(kind).map(|k| NodeId::new(k, name))
}

pub fn desired(calls: &[InsertCall]) -> Vec<Desired> {
    calls.iter().filter_map(Desired::from_call).collect()
}

/// [`desired`], moving the bodies out of the calls instead of copying them.
pub fn into_desired(calls: Vec<InsertCall>) -> Vec<Desired> {
    calls
        .into_iter()
        .filter_map(|call| {
            let (kind, location) = parse_collection(&call.path)?;
            let name = call.body.name()?;
            Some(Desired {
                node: call.node,
                kind: kind.to_string(),
                name,
                collection: call.path,
                location,
                body: call.body,
                depends_on: call.depends_on,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn collections_parse() {
        assert_eq!(
            parse_collection("projects/p/zones/europe-west1-b/instances"),
            Some(("instance", Location::Zone("europe-west1-b".into())))
        );
        assert_eq!(
            parse_collection("projects/p/global/firewalls"),
            Some(("firewall", Location::Global))
        );
        assert_eq!(
            parse_collection("projects/p/regions/r/addresses"),
            Some(("address", Location::Region("r".into())))
        );
        assert_eq!(parse_collection("projects/p/zones/z/bogus"), None);
        assert_eq!(parse_collection("projects/p/global/networks/extra"), None);
        assert_eq!(parse_collection("projects/p/zones/z/disks/extra"), None);
        assert_eq!(parse_collection("projects/p/zones/disks"), None);
        assert_eq!(parse_collection("folders/p/global/networks"), None);
        assert_eq!(
            node_id("instance", "worker-0"),
            Some(NodeId::vm("worker-0"))
        );
    }
}
