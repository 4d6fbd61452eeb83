//! Building the graph from the model: nodes for every unit of work, edges
//! for the orders the platform implies (a disk before the VM that attaches
//! it, the Swarm before its services) and for every reference and `after`
//! the program writes.

use petgraph::graph::NodeIndex;

use super::{DepGraph, Layer};
use crate::model::{Model, SwarmRole, VmIndex};
use crate::sema::ModelDep;
use crate::span::Span;

/// VM name -> the Swarm step that makes it a node.
type SwarmSteps = foldhash::HashMap<String, NodeIndex>;

pub fn build(model: &Model, deps: &[ModelDep]) -> DepGraph {
    let mut g = DepGraph::default();
    cloud(&mut g, model);
    let swarm_nodes = swarm(&mut g, model);
    let vms = VmIndex::new(model);
    stack(&mut g, model, &vms, &swarm_nodes);
    references(&mut g, &vms, deps, &swarm_nodes);
    g
}

fn cloud(g: &mut DepGraph, m: &Model) {
    for n in &m.networks {
        let net = format!("gce.network.{}", n.name);
        let sub = format!("gce.subnetwork.{}", n.name);
        g.add_node(net.clone(), Layer::Cloud, n.span);
        g.add_node(sub.clone(), Layer::Cloud, n.span);
        g.add_edge(&net, &sub, "the subnetwork is part of the network", n.span);
    }
    for f in &m.firewalls {
        let id = format!("gce.firewall.{}", f.name);
        g.add_node(id.clone(), Layer::Cloud, f.span);
        g.add_edge(
            &format!("gce.network.{}", f.network),
            &id,
            "the rule belongs to the network",
            f.span,
        );
    }
    for a in &m.addresses {
        g.add_node(format!("gce.address.{}", a.name), Layer::Cloud, a.span);
    }
    for d in &m.disks {
        g.add_node(format!("gce.disk.{}", d.name), Layer::Cloud, d.span);
    }
    for vm in &m.vms {
        let id = format!("gce.vm.{}", vm.name);
        g.add_node(id.clone(), Layer::Hosts, vm.span);
        g.add_edge(
            &format!("gce.subnetwork.{}", vm.network),
            &id,
            "the VM's interface is in the subnetwork",
            vm.span,
        );
        for d in &vm.disks {
            g.add_edge(
                &format!("gce.disk.{d}"),
                &id,
                "the disk exists before the VM that attaches it",
                vm.span,
            );
        }
        if let Some(a) = &vm.address {
            g.add_edge(
                &format!("gce.address.{a}"),
                &id,
                "the static address is reserved before the VM uses it",
                vm.span,
            );
        }
        for mount in &vm.nfs_mounts {
            g.add_edge(
                &format!("gce.vm.{}", mount.server),
                &id,
                "the NFS server boots before the VMs that mount it",
                vm.span,
            );
        }
    }
}

/// The Swarm formation steps; returns the step that makes each VM a node.
fn swarm(g: &mut DepGraph, m: &Model) -> SwarmSteps {
    let mut steps = SwarmSteps::default();
    let Some(first) = m.vms.iter().find(|v| v.swarm == SwarmRole::Manager) else {
        return steps;
    };
    let init = g.add_node("swarm.init".into(), Layer::Swarm, first.span);
    g.add_edge(
        &format!("gce.vm.{}", first.name),
        "swarm.init",
        "the first manager initialises the swarm",
        first.span,
    );
    steps.insert(first.name.clone(), init);
    for vm in m
        .vms
        .iter()
        .filter(|v| v.swarm != SwarmRole::None && v.name != first.name)
    {
        let join = g.add_node(format!("swarm.join.{}", vm.name), Layer::Swarm, vm.span);
        g.link(init, join, "a node joins an existing swarm", vm.span);
        if let Some(host) = g.node(&format!("gce.vm.{}", vm.name)) {
            g.link(host, join, "the VM is up before it joins", vm.span);
        }
        steps.insert(vm.name.clone(), join);
    }
    steps
}

fn stack(g: &mut DepGraph, m: &Model, vms: &VmIndex, swarm_nodes: &SwarmSteps) {
    if m.services.is_empty() && m.secrets.is_empty() && m.configs.is_empty() {
        return;
    }
    let init_span = g
        .node("swarm.init")
        .map_or(Span::default(), |n| g.graph[n].span);
    g.add_node("stack.network".into(), Layer::Stack, init_span);
    g.add_edge(
        "swarm.init",
        "stack.network",
        "the overlay network lives in the swarm",
        init_span,
    );
    for s in &m.secrets {
        let id = format!("stack.secret.{}", s.name);
        g.add_node(id.clone(), Layer::Stack, s.span);
        g.add_edge("swarm.init", &id, "secrets are stored by the swarm", s.span);
    }
    for c in &m.configs {
        let id = format!("stack.config.{}", c.name);
        g.add_node(id.clone(), Layer::Stack, c.span);
        g.add_edge("swarm.init", &id, "configs are stored by the swarm", c.span);
    }
    for s in &m.services {
        let id = format!("stack.service.{}", s.name);
        let service = g.add_node(id.clone(), Layer::Stack, s.span);
        g.add_edge(
            "stack.network",
            &id,
            "the service joins the stack network",
            s.span,
        );
        for u in &s.secrets {
            g.add_edge(
                &format!("stack.secret.{}", u.secret),
                &id,
                "the service reads the secret",
                s.span,
            );
        }
        for u in &s.configs {
            g.add_edge(
                &format!("stack.config.{}", u.config),
                &id,
                "the service reads the config",
                s.span,
            );
        }
        for vm in vms.placed(&s.placement) {
            if let Some(&step) = swarm_nodes.get(&vm.name) {
                g.link(step, service, "the service runs on this node", s.span);
            }
        }
    }
}

/// The nodes a model part stands for (a VM group stands for its members).
fn nodes_of(
    g: &DepGraph,
    vms: &VmIndex,
    (kind, name): (&str, &str),
    as_swarm_node: Option<&SwarmSteps>,
) -> Vec<NodeIndex> {
    let id = match kind {
        "service" => format!("stack.service.{name}"),
        "config" => format!("stack.config.{name}"),
        "secret" => format!("stack.secret.{name}"),
        "disk" => format!("gce.disk.{name}"),
        "network" => format!("gce.network.{name}"),
        "address" => format!("gce.address.{name}"),
        "firewall" => format!("gce.firewall.{name}"),
        "vm" => {
            return vms
                .group(name)
                .filter_map(|v| match as_swarm_node.and_then(|s| s.get(&v.name)) {
                    Some(&step) => Some(step),
                    None => g.node(&format!("gce.vm.{}", v.name)),
                })
                .collect();
        }
        _ => return Vec::new(),
    };
    g.node(&id).into_iter().collect()
}

fn references(g: &mut DepGraph, vms: &VmIndex, deps: &[ModelDep], swarm_nodes: &SwarmSteps) {
    for d in deps {
        // A firewall names its targets by tag: it needs no VM to exist.
        if d.from.0 == "firewall" && d.to.0 == "vm" {
            continue;
        }
        let in_stack = matches!(d.from.0, "service" | "config" | "secret");
        let froms = nodes_of(g, vms, (d.from.0, &d.from.1), None);
        let tos = nodes_of(g, vms, (d.to.0, &d.to.1), in_stack.then_some(swarm_nodes));
        let reason = match d.reason.as_str() {
            "after" => format!("`after` lists {}", d.to.1),
            "reference" => format!("refers to {}", d.to.1),
            other => format!("{other} {}", d.to.1),
        };
        for &from in &froms {
            for &to in &tos {
                g.link(to, from, reason.clone(), d.span);
            }
        }
    }
}
