//! The firewalls of a model: the user's, plus the ones sdbc generates.
//!
//! For each network on which the model has **no** firewall marked
//! `generated` (the resolver may generate them itself; if it does, it owns
//! all of them for that network), this module adds:
//! - `NET-swarm`: Docker Swarm between the stack's nodes: 2377/tcp (cluster
//!   management), 7946/tcp+udp (node gossip), 4789/udp (overlay VXLAN), from
//!   and to instances with the stack tag (`sdbc-STACK`, see
//!   [`super::names::stack_tag`]), when a VM on the network is a Swarm node;
//! - `NET-nfs`: NFS 2049/tcp and rpcbind 111/tcp+udp from the subnetwork's
//!   range to the groups of the VMs that export over NFS, when there is one.
//!
//! A firewall with no source ranges (the generated Swarm rule, or a user's
//! rule without `from=`) admits traffic only from the stack's own instances
//! (`sourceTags: [sdbc-STACK]`), never from everywhere.
//!
//! Names go through [`super::names::resource_name`], so a long network name
//! still gives a valid firewall name. A generated name already used by one of
//! the user's firewalls is not generated again.

use crate::model::{Firewall, Model, PortRule, SwarmRole, Vm};

use super::names;

/// The user's firewalls followed by the generated ones, in network order.
pub fn all(model: &Model) -> Vec<Firewall> {
    let mut out = model.firewalls.clone();
    for net in &model.networks {
        if model
            .firewalls
            .iter()
            .any(|f| f.generated && f.network == net.name)
        {
            continue;
        }
        let vms: Vec<&Vm> = model.vms.iter().filter(|v| v.network == net.name).collect();
        let generated = [
            swarm(model, &net.name, &vms),
            nfs(&net.name, &net.cidr, &vms),
        ];
        for fw in generated.into_iter().flatten() {
            if !out.iter().any(|f| f.name == fw.name) {
                out.push(fw);
            }
        }
    }
    out
}

fn rule(protocol: &str, ports: &[&str]) -> PortRule {
    PortRule {
        protocol: protocol.to_owned(),
        ports: ports.iter().map(|p| (*p).to_owned()).collect(),
    }
}

fn swarm(model: &Model, network: &str, vms: &[&Vm]) -> Option<Firewall> {
    if vms.iter().all(|v| v.swarm == SwarmRole::None) {
        return None;
    }
    let tag = names::stack_tag(&model.stack);
    Some(Firewall {
        name: names::resource_name(&format!("{network}-swarm")),
        network: network.to_owned(),
        allow: vec![
            rule("tcp", &["2377", "7946"]),
            rule("udp", &["7946", "4789"]),
        ],
        // No ranges: the body then admits only the stack-tagged instances.
        source_ranges: Vec::new(),
        target_tags: vec![tag],
        generated: true,
        span: model.gce.span,
    })
}

fn nfs(network: &str, cidr: &str, vms: &[&Vm]) -> Option<Firewall> {
    let mut targets: Vec<String> = vms
        .iter()
        .filter(|v| !v.nfs_exports.is_empty())
        .map(|v| v.group.clone())
        .collect();
    if targets.is_empty() {
        return None;
    }
    targets.sort();
    targets.dedup();
    let span = vms
        .iter()
        .find(|v| !v.nfs_exports.is_empty())
        .map(|v| v.span)
        .unwrap_or_default();
    Some(Firewall {
        name: names::resource_name(&format!("{network}-nfs")),
        network: network.to_owned(),
        allow: vec![rule("tcp", &["2049", "111"]), rule("udp", &["111"])],
        source_ranges: vec![cidr.to_owned()],
        target_tags: targets,
        generated: true,
        span,
    })
}
