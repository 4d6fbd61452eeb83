//! Compute Engine v1 requests: the ordered `insert` calls that create every
//! resource of a [`Model`] (networks, subnetworks, firewalls, regional static
//! addresses, disks, instances).
//!
//! Each call is an [`ApiCall`]: a graph node id (`gce.vm.worker-2`), the HTTP
//! method, a path relative to `https://compute.googleapis.com/compute/v1/`,
//! the query, the JSON body and the node ids it depends on. Bodies use the
//! discovery document's exact field names and types (int64 fields such as
//! `sizeGb` are JSON strings); they are checked against the vendored schemas
//! by the fake's validator.
//!
//! Conventions (see `docs/decisions/0004-cloud-init.md` for the why):
//! - **Project**: when `model.gce.project` is `None`, the literal `{project}`
//!   stands in every path and URL; `apply` substitutes it.
//! - **Dependencies**: a call depends on every node whose URL or value its
//!   body uses (network, subnetwork, address, disks), plus ordering-only edges:
//!   an instance waits for the firewalls of its network and for the VMs whose
//!   NFS exports it mounts.
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
//! - **Generated firewalls** (Swarm's ports between the stack's nodes, NFS
//!   from the subnetwork to exporters) are made here for every network on
//!   which the model has no firewall marked `generated`; see [`firewalls`].

mod bodies;
pub mod firewalls;
pub use crate::model::names;
mod order;
pub mod owner;
pub mod refs;
#[cfg(test)]
mod tests;

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::model::Model;

/// One Compute Engine v1 API call.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ApiCall {
    /// The graph node id of the resource it creates, e.g. `gce.vm.worker-2`.
    pub node: String,
    /// HTTP method (`POST` for inserts).
    pub method: String,
    /// Path relative to `.../compute/v1/`, e.g. `projects/P/zones/Z/instances`.
    pub path: String,
    pub query: BTreeMap<String, String>,
    /// The request body (a discovery schema object).
    pub body: Value,
    /// Node ids that must exist before this call is made.
    pub depends_on: Vec<String>,
}

/// Graph node id prefixes, one per resource kind.
pub mod node {
    /// `gce.network.NAME`
    pub fn network(name: &str) -> String {
        format!("gce.network.{name}")
    }
    /// `gce.subnetwork.NAME` (one subnetwork per network, same name).
    pub fn subnetwork(name: &str) -> String {
        format!("gce.subnetwork.{name}")
    }
    /// `gce.firewall.NAME`
    pub fn firewall(name: &str) -> String {
        format!("gce.firewall.{name}")
    }
    /// `gce.address.NAME`
    pub fn address(name: &str) -> String {
        format!("gce.address.{name}")
    }
    /// `gce.disk.NAME`
    pub fn disk(name: &str) -> String {
        format!("gce.disk.{name}")
    }
    /// `gce.vm.NAME`
    pub fn vm(name: &str) -> String {
        format!("gce.vm.{name}")
    }
}

/// The ordered insert calls for every Compute Engine resource of `model`.
///
/// `user_data` maps a VM name to its rendered boot configuration
/// ([`crate::targets::cloud_init::render_all`]): it goes into metadata under
/// `user-data` when the VM runs cloud-init, `startup-script` otherwise. A VM
/// missing from the map gets no boot configuration.
///
/// The order is a stable topological order of `depends_on`: kinds in the
/// order network, subnetwork, firewall, address, disk, instance, each in model
/// order, with a call moved later only when a dependency requires it.
pub fn requests(model: &Model, user_data: &BTreeMap<String, String>) -> Vec<ApiCall> {
    let ctx = bodies::Ctx::new(model);
    let mut calls = Vec::new();
    for net in &model.networks {
        calls.push(ctx.network(net));
    }
    for net in &model.networks {
        calls.push(ctx.subnetwork(net));
    }
    let fws = firewalls::all(model);
    for fw in &fws {
        calls.push(ctx.firewall(fw));
    }
    for addr in &model.addresses {
        calls.push(ctx.address(addr));
    }
    for disk in &model.disks {
        calls.push(ctx.disk(disk));
    }
    for vm in &model.vms {
        calls.push(ctx.instance(vm, &fws, user_data.get(&vm.name)));
    }
    order::topological(calls)
}

/// The calls as pretty JSON with a trailing newline (`gce/requests.json`).
pub fn requests_json(calls: &[ApiCall]) -> String {
    // Serializing plain data (strings, maps, JSON values) cannot fail.
    let mut out = serde_json::to_string_pretty(calls).unwrap_or_default();
    out.push('\n');
    out
}
