//! Building the graph from the model: nodes for every unit of work, edges
//! for the orders the platform implies (a disk before the VM that attaches
//! it, the Swarm before its services) and for every reference and `after`
//! the program writes.

use petgraph::graph::NodeIndex;

use super::{DepGraph, EdgeReason as R, NodeId, NodeKind};
use crate::model::{Model, SwarmRole, VmIndex};
use crate::sema::{EntityKind, ModelDep};
use crate::span::Span;

/// VM name -> the Swarm step that makes it a node.
type SwarmSteps<'m> = foldhash::HashMap<&'m str, NodeIndex>;

/// The nodes of each VM, by its position in the model's VMs (so the many
/// look-ups of services and references hash no names).
struct Members {
    /// The VM's own node.
    host: Vec<NodeIndex>,
    /// The Swarm step that makes it a node, if it is in the Swarm.
    step: Vec<Option<NodeIndex>>,
}

pub fn build(model: &Model, deps: &[ModelDep]) -> DepGraph {
    let mut g = DepGraph::default();
    let vms = VmIndex::new(model);
    // Room for the edges at once: a list grown by doubling holds the old
    // and the new list together at its last growth, the build's peak.
    let edges = edge_estimate(model, &vms, deps);
    g.graph.reserve_edges(edges);
    g.edges.reserve(edges);
    cloud(&mut g, model);
    let host = hosts(&mut g, model);
    let swarm_nodes = swarm(&mut g, model);
    let step = model
        .vms
        .iter()
        .map(|v| swarm_nodes.get(v.name.as_str()).copied())
        .collect();
    drop(swarm_nodes);
    let members = Members { host, step };
    stack(&mut g, model, &vms, &members);
    references(&mut g, &vms, deps, &members);
    managers_in_turn(&mut g, model, &members);
    g.finish();
    g
}

/// About how many edges the program makes (the usual case exactly; a
/// reference to a group counts once), so the edge list grows once.
fn edge_estimate(m: &Model, vms: &VmIndex, deps: &[ModelDep]) -> usize {
    let mut rules: foldhash::HashMap<&str, usize> = Default::default();
    for f in &m.firewalls {
        *rules.entry(f.network.as_str()).or_default() += 1;
    }
    let per_vm: usize = m
        .vms
        .iter()
        .map(|v| {
            let in_network = rules.get(v.network.as_str()).copied().unwrap_or(0);
            2 + usize::from(v.address.is_some()) + v.disks.len() + in_network + v.nfs_mounts.len()
        })
        .sum();
    let swarm_vms = m.vms.iter().filter(|v| v.swarm != SwarmRole::None).count();
    let placed = |p: &crate::model::Placement| match (&p.member, &p.group) {
        (Some(_), _) => 1,
        (None, Some(g)) => vms.group_positions(g).len(),
        (None, None) => swarm_vms,
    };
    let per_service: usize = m
        .services
        .iter()
        .map(|s| 1 + s.secrets.len() + s.configs.len() + placed(&s.placement))
        .sum();
    let swarm = 2 * swarm_vms;
    let stack = 1 + m.secrets.len() + m.configs.len() + per_service;
    2 * m.networks.len() + m.firewalls.len() + per_vm + swarm + stack + deps.len()
}

fn cloud(g: &mut DepGraph, m: &Model) {
    for n in &m.networks {
        let net = NodeId::network(&n.name);
        let sub = NodeId::subnetwork(&n.name);
        g.add_node(net.clone(), n.span);
        g.add_node(sub.clone(), n.span);
        g.add_edge(&net, &sub, R::SubnetworkInNetwork, n.span);
    }
    for f in &m.firewalls {
        let id = NodeId::firewall(&f.name);
        g.add_node(id.clone(), f.span);
        g.add_edge(&NodeId::network(&f.network), &id, R::RuleInNetwork, f.span);
    }
    for a in &m.addresses {
        g.add_node(NodeId::address(&a.name), a.span);
    }
    for d in &m.disks {
        g.add_node(NodeId::disk(&d.name), d.span);
    }
}

/// The VMs, with edges in the order the request builder lists an
/// instance's prerequisites: what its body names, then the rules of its
/// network, then the NFS servers it mounts.
fn hosts(g: &mut DepGraph, m: &Model) -> Vec<NodeIndex> {
    let hosts: Vec<NodeIndex> = m
        .vms
        .iter()
        .map(|vm| g.add_node(NodeId::vm(&vm.name), vm.span))
        .collect();
    // Per network (few; many VMs each): its node, its subnetwork's, its rules'.
    let mut networks: foldhash::HashMap<&str, NetworkNodes> = Default::default();
    for (vm, &host) in m.vms.iter().zip(&hosts) {
        let span = vm.span;
        let net = networks
            .entry(vm.network.as_str())
            .or_insert_with(|| NetworkNodes::of(g, m, &vm.network));
        let net = (net.network, net.subnetwork, net.rules.clone());
        if let Some(n) = net.0 {
            g.link(n, host, R::VmOnNetwork, span);
        }
        if let Some(s) = net.1 {
            g.link(s, host, R::VmInSubnetwork, span);
        }
        let named = |g: &DepGraph, id: NodeId| g.node(id.as_str());
        if let Some(a) = vm
            .address
            .as_deref()
            .and_then(|a| named(g, NodeId::address(a)))
        {
            g.link(a, host, R::AddressReserved, span);
        }
        for d in &vm.disks {
            if let Some(d) = named(g, NodeId::disk(d)) {
                g.link(d, host, R::DiskAttached, span);
            }
        }
        for &rule in net.2.iter() {
            g.link(rule, host, R::VmBehindRules, span);
        }
        for mount in &vm.nfs_mounts {
            if let Some(server) = named(g, NodeId::vm(&mount.server)) {
                g.link(server, host, R::NfsServerFirst, span);
            }
        }
    }
    hosts
}

/// The nodes a VM's network gives it edges from.
struct NetworkNodes {
    network: Option<NodeIndex>,
    subnetwork: Option<NodeIndex>,
    /// The network's firewall rules, in program order.
    rules: std::rc::Rc<[NodeIndex]>,
}

impl NetworkNodes {
    fn of(g: &DepGraph, m: &Model, network: &str) -> NetworkNodes {
        let rules = m
            .firewalls
            .iter()
            .filter(|f| f.network == network)
            .filter_map(|f| g.node(NodeId::firewall(&f.name).as_str()))
            .collect();
        NetworkNodes {
            network: g.node(NodeId::network(network).as_str()),
            subnetwork: g.node(NodeId::subnetwork(network).as_str()),
            rules,
        }
    }
}

/// Chains the Swarm managers in program order through their Swarm steps:
/// manager i+1's VM waits for manager i's member step (`swarm.init` or
/// `swarm.join.VM`), so a change that restarts several managers (a
/// machine-type change) restarts one at a time, each back in the Swarm and
/// reachable before the next goes down, and the Swarm keeps its quorum.
/// Without a Swarm step (none in the program) the VMs are chained directly.
/// Added last, and skipped where the program already orders the two the
/// other way (an NFS server among the managers), so it never makes a cycle.
fn managers_in_turn(g: &mut DepGraph, m: &Model, members: &Members) {
    let managers: Vec<(NodeIndex, NodeIndex)> = (0..m.vms.len())
        .filter(|&i| m.vms[i].swarm == SwarmRole::Manager)
        .map(|i| {
            let vm = members.host[i];
            (vm, members.step[i].unwrap_or(vm))
        })
        .collect();
    for pair in managers.windows(2) {
        let (before, after) = (pair[0].1, pair[1].0);
        if !petgraph::algo::has_path_connecting(&g.graph, after, before, None) {
            let span = g.graph[after].span;
            g.link(before, after, R::ManagersInTurn, span);
        }
    }
}

/// The Swarm formation steps; returns the step that makes each VM a node.
fn swarm<'m>(g: &mut DepGraph, m: &'m Model) -> SwarmSteps<'m> {
    let mut steps = SwarmSteps::default();
    let Some(first) = m.vms.iter().find(|v| v.swarm == SwarmRole::Manager) else {
        return steps;
    };
    let init_id = NodeId::new(NodeKind::SwarmInit, "");
    let init = g.add_node(init_id.clone(), first.span);
    g.add_edge(
        &NodeId::vm(&first.name),
        &init_id,
        R::FirstManagerInits,
        first.span,
    );
    steps.insert(first.name.as_str(), init);
    for vm in m
        .vms
        .iter()
        .filter(|v| v.swarm != SwarmRole::None && v.name != first.name)
    {
        let join = g.add_node(NodeId::new(NodeKind::SwarmJoin, &vm.name), vm.span);
        g.link(init, join, R::JoinsExistingSwarm, vm.span);
        if let Some(host) = g.node(NodeId::vm(&vm.name).as_str()) {
            g.link(host, join, R::VmUpBeforeJoin, vm.span);
        }
        steps.insert(vm.name.as_str(), join);
    }
    steps
}

fn stack(g: &mut DepGraph, m: &Model, vms: &VmIndex, members: &Members) {
    if m.services.is_empty() && m.secrets.is_empty() && m.configs.is_empty() {
        return;
    }
    let init = NodeId::new(NodeKind::SwarmInit, "");
    let init_span = g
        .node(init.as_str())
        .map_or(Span::default(), |n| g.graph[n].span);
    let network = NodeId::new(NodeKind::StackNetwork, "");
    g.add_node(network.clone(), init_span);
    g.add_edge(&init, &network, R::OverlayInSwarm, init_span);
    for s in &m.secrets {
        let id = NodeId::new(NodeKind::StackSecret, &s.name);
        g.add_node(id.clone(), s.span);
        g.add_edge(&init, &id, R::SecretInSwarm, s.span);
    }
    for c in &m.configs {
        let id = NodeId::new(NodeKind::StackConfig, &c.name);
        g.add_node(id.clone(), c.span);
        g.add_edge(&init, &id, R::ConfigInSwarm, c.span);
    }
    for s in &m.services {
        let id = NodeId::new(NodeKind::StackService, &s.name);
        let service = g.add_node(id.clone(), s.span);
        g.add_edge(&network, &id, R::ServiceOnStackNetwork, s.span);
        for u in &s.secrets {
            let secret = NodeId::new(NodeKind::StackSecret, &u.secret);
            g.add_edge(&secret, &id, R::ServiceReadsSecret, s.span);
        }
        for u in &s.configs {
            let config = NodeId::new(NodeKind::StackConfig, &u.config);
            g.add_edge(&config, &id, R::ServiceReadsConfig, s.span);
        }
        for i in vms.placed_positions(&s.placement) {
            if let Some(step) = members.step[i] {
                g.link(step, service, R::ServiceOnNode, s.span);
            }
        }
    }
}

/// The node kind of a model part, except VMs (a VM group stands for its members).
fn node_kind(kind: EntityKind) -> Option<NodeKind> {
    Some(match kind {
        EntityKind::Service => NodeKind::StackService,
        EntityKind::Config => NodeKind::StackConfig,
        EntityKind::Secret => NodeKind::StackSecret,
        EntityKind::Disk => NodeKind::Disk,
        EntityKind::Network => NodeKind::Network,
        EntityKind::Address => NodeKind::Address,
        EntityKind::Firewall => NodeKind::Firewall,
        _ => return None,
    })
}

/// The nodes a model part stands for (a VM group stands for its members).
fn nodes_of(
    g: &DepGraph,
    vms: &VmIndex,
    (kind, name): (EntityKind, &str),
    members: &Members,
    as_swarm_node: bool,
) -> Vec<NodeIndex> {
    if kind == EntityKind::Vm {
        return vms
            .group_positions(name)
            .iter()
            .map(|&i| match members.step[i].filter(|_| as_swarm_node) {
                Some(step) => step,
                None => members.host[i],
            })
            .collect();
    }
    node_kind(kind)
        .and_then(|k| g.node(NodeId::new(k, name).as_str()))
        .into_iter()
        .collect()
}

fn references(g: &mut DepGraph, vms: &VmIndex, deps: &[ModelDep], members: &Members) {
    for d in deps {
        // A firewall names its targets by tag: it needs no VM to exist.
        if d.from.0 == EntityKind::Firewall && d.to.0 == EntityKind::Vm {
            continue;
        }
        let in_stack = matches!(
            d.from.0,
            EntityKind::Service | EntityKind::Config | EntityKind::Secret
        );
        let froms = nodes_of(g, vms, (d.from.0, &d.from.1), members, false);
        let tos = nodes_of(g, vms, (d.to.0, &d.to.1), members, in_stack);
        let reason = R::Program {
            how: d.reason,
            target: d.to.1.clone().into(),
        };
        for &from in &froms {
            for &to in &tos {
                g.link(to, from, reason.clone(), d.span);
            }
        }
    }
}
