//! The dependency graph: one node per unit of work (each Compute Engine
//! resource, each VM, each Swarm formation step, each stack object), one
//! edge per dependency, carrying why it exists and where the source says
//! so. Edges point from prerequisite to dependent, so a topological order
//! is an order of execution. `plan` and `apply` walk this graph.

mod build;
mod render;

use std::borrow::Cow;

use petgraph::graph::{DiGraph, NodeIndex};
use serde::Serialize;

use crate::diag::{Code, Diagnostic};
use crate::span::Span;

pub use build::build;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
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
    pub fn as_str(self) -> &'static str {
        match self {
            Layer::Cloud => "cloud",
            Layer::Hosts => "hosts",
            Layer::Swarm => "swarm",
            Layer::Stack => "stack",
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct Node {
    /// Stable id, e.g. `gce.vm.worker-2`, `swarm.join.worker-2`, `stack.service.web`.
    pub id: String,
    pub layer: Layer,
    #[serde(skip)]
    pub span: Span,
}

#[derive(Debug, Clone, Serialize)]
pub struct Edge {
    /// Why the edge exists; most reasons are fixed sentences.
    pub reason: Cow<'static, str>,
    #[serde(skip)]
    pub span: Span,
}

#[derive(Debug, Default)]
pub struct DepGraph {
    pub graph: DiGraph<Node, Edge>,
    /// Node ids to nodes (hashed: the graph is built with many look-ups).
    index: foldhash::HashMap<String, NodeIndex>,
    /// Edges already present (petgraph's `find_edge` walks a node's edges,
    /// which is slow for hubs such as `swarm.init`).
    edges: foldhash::HashSet<(NodeIndex, NodeIndex)>,
}

impl DepGraph {
    pub fn node(&self, id: &str) -> Option<NodeIndex> {
        self.index.get(id).copied()
    }

    pub fn add_node(&mut self, id: String, layer: Layer, span: Span) -> NodeIndex {
        if let Some(&ix) = self.index.get(&id) {
            return ix;
        }
        let ix = self.graph.add_node(Node {
            id: id.clone(),
            layer,
            span,
        });
        self.index.insert(id, ix);
        ix
    }

    /// `before` must be done before `after`.
    pub fn add_edge(
        &mut self,
        before: &str,
        after: &str,
        reason: impl Into<Cow<'static, str>>,
        span: Span,
    ) {
        if let (Some(b), Some(a)) = (self.node(before), self.node(after)) {
            self.link(b, a, reason, span);
        }
    }

    /// [`DepGraph::add_edge`] between nodes already looked up.
    pub fn link(
        &mut self,
        before: NodeIndex,
        after: NodeIndex,
        reason: impl Into<Cow<'static, str>>,
        span: Span,
    ) {
        if before != after && self.edges.insert((before, after)) {
            let reason = reason.into();
            self.graph.add_edge(before, after, Edge { reason, span });
        }
    }

    /// Every node id, sorted.
    pub fn ids(&self) -> impl Iterator<Item = &str> {
        let mut ids: Vec<&str> = self.index.keys().map(String::as_str).collect();
        ids.sort_unstable();
        ids.into_iter()
    }

    /// Nodes in dependency order, ties broken by id; `None` if there is a cycle.
    pub fn topo_order(&self) -> Option<Vec<NodeIndex>> {
        self.levels()
            .map(|levels| levels.into_iter().flatten().collect())
    }

    /// Nodes grouped by how many steps of prerequisites they have: every node
    /// of a level can run in parallel once the levels before it are done.
    pub fn levels(&self) -> Option<Vec<Vec<NodeIndex>>> {
        let g = &self.graph;
        let mut indegree: Vec<usize> = g
            .node_indices()
            .map(|n| g.neighbors_directed(n, petgraph::Incoming).count())
            .collect();
        let mut current: Vec<NodeIndex> = g
            .node_indices()
            .filter(|n| indegree[n.index()] == 0)
            .collect();
        let mut levels = Vec::new();
        let mut seen = 0;
        while !current.is_empty() {
            current.sort_by(|a, b| g[*a].id.cmp(&g[*b].id));
            let mut next = Vec::new();
            for &n in &current {
                for m in g.neighbors_directed(n, petgraph::Outgoing) {
                    indegree[m.index()] -= 1;
                    if indegree[m.index()] == 0 {
                        next.push(m);
                    }
                }
            }
            seen += current.len();
            levels.push(std::mem::replace(&mut current, next));
        }
        (seen == g.node_count()).then_some(levels)
    }

    /// Every cycle (one per strongly connected component), as diagnostics
    /// that label each edge with its reason.
    pub fn cycle_diagnostics(&self) -> Vec<Diagnostic> {
        let mut out = Vec::new();
        for scc in petgraph::algo::tarjan_scc(&self.graph) {
            if scc.len() < 2 {
                continue;
            }
            if let Some(cycle) = self.cycle_in(&scc) {
                out.push(self.cycle_diagnostic(&cycle));
            }
        }
        out
    }

    /// One cycle through the nodes of a strongly connected component.
    fn cycle_in(&self, scc: &[NodeIndex]) -> Option<Vec<NodeIndex>> {
        let start = *scc
            .iter()
            .min_by(|a, b| self.graph[**a].id.cmp(&self.graph[**b].id))?;
        let members: std::collections::BTreeSet<NodeIndex> = scc.iter().copied().collect();
        let mut path = vec![start];
        let mut visited = std::collections::BTreeSet::from([start]);
        let mut current = start;
        loop {
            let mut nexts: Vec<NodeIndex> = self
                .graph
                .neighbors(current)
                .filter(|n| members.contains(n))
                .collect();
            nexts.sort_by(|a, b| self.graph[*a].id.cmp(&self.graph[*b].id));
            if nexts.contains(&start) && path.len() > 1 {
                return Some(path);
            }
            let next = nexts
                .into_iter()
                .find(|n| !visited.contains(n))
                .or_else(|| self.graph.neighbors(current).find(|n| *n == start))?;
            if next == start {
                return Some(path);
            }
            visited.insert(next);
            path.push(next);
            current = next;
        }
    }

    fn cycle_diagnostic(&self, cycle: &[NodeIndex]) -> Diagnostic {
        let names: Vec<&str> = cycle.iter().map(|n| self.graph[*n].id.as_str()).collect();
        let mut labels = Vec::new();
        for (i, &from) in cycle.iter().enumerate() {
            let to = cycle[(i + 1) % cycle.len()];
            if let Some(e) = self.graph.find_edge(from, to) {
                let edge = &self.graph[e];
                labels.push((
                    edge.span,
                    format!(
                        "{} before {}: {}",
                        self.graph[from].id, self.graph[to].id, edge.reason
                    ),
                ));
            }
        }
        let (first_span, first_label) = labels
            .first()
            .cloned()
            .unwrap_or((self.graph[cycle[0]].span, String::from("here")));
        let mut d = Diagnostic::new(
            Code::Cycle,
            format!("dependency cycle: {} -> {}", names.join(" -> "), names[0]),
            first_span,
            first_label,
        )
        .with_help(
            "remove one of these references or `after` entries; nothing in a cycle can start first",
        );
        for (span, label) in labels.into_iter().skip(1) {
            d = d.with_label(span, label);
        }
        d
    }

    pub fn to_dot(&self) -> String {
        render::dot(self)
    }

    pub fn to_json(&self) -> String {
        render::json(self)
    }
}
