//! The firewalls the cluster itself needs, generated for every network:
//!
//! - `NET-swarm`: Docker Swarm between the stack's nodes: 2377/tcp (cluster
//!   management), 7946/tcp+udp (node gossip), 4789/udp (overlay VXLAN), ESP
//!   (IP protocol 50, which carries encrypted overlay networks), from and to
//!   instances with the stack tag (`sdbc-STACK`, see
//!   [`super::names::stack_tag`]), when a VM on the network is a Swarm node;
//! - `NET-nfs`: NFS 2049/tcp and rpcbind 111/tcp+udp from the subnetwork's
//!   range to the groups of the VMs that export over NFS, when there is one.
//!
//! A firewall with no source ranges admits traffic only from the stack's own
//! instances (`sourceTags: [sdbc-STACK]` in the request), never from
//! everywhere. A generated name a user's firewall already has is skipped.

use super::{Firewall, Model, PortRule, SwarmRole, Vm};

/// The generated firewalls of every network of `model`.
pub fn generated(model: &Model) -> Vec<Firewall> {
    let mut out: Vec<Firewall> = Vec::new();
    for net in &model.networks {
        let vms: Vec<&Vm> = model.vms.iter().filter(|v| v.network == net.name).collect();
        for fw in [
            swarm(model, &net.name, &vms),
            nfs(&net.name, &net.cidr, &vms),
        ]
        .into_iter()
        .flatten()
        {
            if !model
                .firewalls
                .iter()
                .chain(&out)
                .any(|f| f.name == fw.name)
            {
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
    let tag = super::names::stack_tag(&model.stack);
    Some(Firewall {
        name: super::names::resource_name(&format!("{network}-swarm")),
        network: network.to_owned(),
        allow: vec![
            rule("tcp", &["2377", "7946"]),
            rule("udp", &["7946", "4789"]),
            rule("esp", &[]),
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
        .map(|v| v.group.to_string())
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
        name: super::names::resource_name(&format!("{network}-nfs")),
        network: network.to_owned(),
        allow: vec![rule("tcp", &["2049", "111"]), rule("udp", &["111"])],
        source_ranges: vec![cidr.to_owned()],
        target_tags: targets,
        generated: true,
        span,
    })
}
