//! Compute Engine v1 requests: the ordered `insert` calls that create every
//! resource of a [`Model`] (networks, subnetworks, firewalls, regional static
//! addresses, disks, instances).
//!
//! Each call is an [`InsertCall`]: a graph node id (`gce.vm.worker-2`), the HTTP
//! method, a path relative to `https://compute.googleapis.com/compute/v1/`,
//! the query, the JSON body and the node ids it depends on. Bodies use the
//! discovery document's exact field names and types (int64 fields such as
//! `sizeGb` are JSON strings); they are checked against the vendored schemas
//! by the fake's validator.
//!
//! Conventions (see `docs/decisions/0004-cloud-init.md` for the why):
//! - **Project**: when `model.gce.project` is `None`, the literal `{project}`
//!   stands in every path and URL; `apply` substitutes it.
//! - **Dependencies** are the dependency graph's edges ([`crate::graph`]),
//!   not worked out again here: a call depends on exactly the nodes the graph
//!   says its node waits for (for an instance: its network, subnetwork,
//!   address and disks, the firewalls of its network, the VMs whose NFS
//!   exports it mounts, and whatever the program lists in `after`).
//! - **Values known only after apply** are placeholders occupying a whole
//!   string value, `${NODE.FIELD}`, e.g. an instance's
//!   `"natIP": "${gce.address.manager-0.address}"`: `apply` reads `FIELD` of
//!   the created resource of `NODE` (always in `depends_on`) and substitutes it
//!   before sending; see [`refs`].
//! - **Ownership**: labels `sdbc-managed: "true"`, `sdbc-stack: STACK` and
//!   `sdbc-lineage: {lineage}` on every labelable resource (addresses,
//!   disks, instances and their boot disks); every `description` starts
//!   with `sdbc-managed sdbc-stack=STACK sdbc-lineage={lineage}` (the only
//!   mark of networks, subnetworks and firewalls, which have no labels).
//!   `apply` puts the state's lineage in place of `{lineage}`; see [`owner`].
//! - **The stack's SSH key**: every Swarm VM's metadata carries
//!   `ssh-keys` = [`SSH_KEYS`], a placeholder `apply` fills with the public
//!   half of the stack's key (`sdbc:ssh-ed25519 AAAA… sdbc`, made at the
//!   first apply and kept in the secrets store), so `build` output does not
//!   depend on a key; the guest environment creates the `sdbc` login with
//!   it. See `docs/decisions/0021-stack-key-on-vms.md`.
//! - **Generated firewalls** (Swarm's ports between the stack's nodes, NFS
//!   from the subnetwork to exporters) are in the model already: the
//!   resolver adds them (see [`crate::model::firewalls`]).

mod bodies;
pub use crate::model::names;

/// The placeholder for the value of a Swarm VM's `ssh-keys` metadata item.
pub const SSH_KEYS: &str = "{ssh-keys}";
/// The metadata key the guest environment reads login keys from.
pub const SSH_KEYS_ITEM: &str = "ssh-keys";
mod instance;
pub mod owner;
pub mod refs;
#[cfg(test)]
mod tests;

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::graph::{DepGraph, NodeId};
use crate::model::Model;
use crate::targets::body::Body;

/// One Compute Engine v1 insert call, as `build` writes it and `plan` reads it
/// (the HTTP request itself is [`crate::exec::ApiCall`]).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct InsertCall {
    /// The graph node id of the resource it creates, e.g. `gce.vm.worker-2`.
    pub node: NodeId,
    /// HTTP method (`POST` for inserts).
    pub method: String,
    /// Path relative to `.../compute/v1/`, e.g. `projects/P/zones/Z/instances`.
    pub path: String,
    pub query: BTreeMap<String, String>,
    /// The request body (a discovery schema object).
    pub body: Body,
    /// Node ids that must exist before this call is made: the node's
    /// prerequisites in the dependency graph.
    pub depends_on: Vec<NodeId>,
}

/// The ordered insert calls for every Compute Engine resource of `model`.
///
/// `user_data` maps a VM name to its rendered boot configuration
/// ([`crate::targets::cloud_init::render_all`]): it goes into metadata under
/// `user-data` when the VM runs cloud-init, `startup-script` otherwise. A VM
/// missing from the map gets no boot configuration.
///
/// `graph` is the program's dependency graph: each call's `depends_on` is
/// what the graph says its node waits for. The order is the graph's
/// [stable order](DepGraph::stable_order) of kinds in the order network,
/// subnetwork, firewall, address, disk, instance, each in model order: a
/// call moves later only when a dependency requires it.
pub fn requests(
    model: &Model,
    graph: &DepGraph,
    user_data: &BTreeMap<String, std::sync::Arc<str>>,
) -> Vec<InsertCall> {
    let ctx = bodies::Ctx::new(model, graph);
    let shared = instance::Shared::default();
    let mut calls = Vec::new();
    for net in &model.networks {
        calls.push(ctx.network(net));
    }
    for net in &model.networks {
        calls.push(ctx.subnetwork(net));
    }
    for fw in &model.firewalls {
        calls.push(ctx.firewall(fw));
    }
    for addr in &model.addresses {
        calls.push(ctx.address(addr));
    }
    for disk in &model.disks {
        calls.push(ctx.disk(disk));
    }
    for vm in &model.vms {
        calls.push(ctx.instance(vm, user_data.get(&vm.name), &shared));
    }
    in_graph_order(calls, graph)
}

/// `calls` in the graph's stable order of their nodes.
fn in_graph_order(calls: Vec<InsertCall>, graph: &DepGraph) -> Vec<InsertCall> {
    let ids: Vec<&str> = calls.iter().map(|c| c.node.as_str()).collect();
    let order: Vec<usize> = {
        let position: foldhash::HashMap<&str, usize> =
            ids.iter().enumerate().map(|(i, id)| (*id, i)).collect();
        graph
            .stable_order(&ids)
            .into_iter()
            .filter_map(|id| position.get(id).copied())
            .collect()
    };
    let mut slots: Vec<Option<InsertCall>> = calls.into_iter().map(Some).collect();
    order.into_iter().filter_map(|i| slots[i].take()).collect()
}

/// The calls as pretty JSON with a trailing newline (`gce/requests.json`).
pub fn requests_json(calls: &[InsertCall]) -> String {
    // Serializing plain data (strings, maps, JSON values) cannot fail.
    let mut out = serde_json::to_string_pretty(calls).unwrap_or_default();
    out.push('\n');
    out
}
