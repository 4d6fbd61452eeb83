//! The dependency graph: one node per unit of work (each Compute Engine
//! resource, each VM, each Swarm formation step, each stack object), one
//! edge per dependency, carrying why it exists and where the source says
//! so. Edges point from prerequisite to dependent, so a topological order
//! is an order of execution. `plan` and `apply` walk this graph.

mod build;
mod reason;
mod render;

use petgraph::graph::{DiGraph, NodeIndex};
use petgraph::visit::EdgeRef;

use crate::diag::{Code, Diagnostic};
use crate::span::Span;

pub use crate::model::{Layer, NodeId, NodeKind};
pub use build::build;
pub use reason::EdgeReason;

/// Items `0..n`, given each one's dependents, grouped into levels: an item
/// is in the level after the last of its prerequisites; each level sorted
/// by `key`. Items on a cycle (and after one) are left out. This is the
/// one order of the program: `sdbc graph` prints it and apply starts its
/// steps in it.
pub fn levels_of<K: Ord>(dependents: &[Vec<usize>], key: impl Fn(usize) -> K) -> Vec<Vec<usize>> {
    let mut indegree = vec![0usize; dependents.len()];
    for ds in dependents {
        for &d in ds {
            indegree[d] += 1;
        }
    }
    let mut current: Vec<usize> = (0..dependents.len())
        .filter(|&i| indegree[i] == 0)
        .collect();
    let mut levels = Vec::new();
    while !current.is_empty() {
        current.sort_by_cached_key(|&i| key(i));
        let mut next = Vec::new();
        for &n in &current {
            for &m in &dependents[n] {
                indegree[m] -= 1;
                if indegree[m] == 0 {
                    next.push(m);
                }
            }
        }
        levels.push(std::mem::replace(&mut current, next));
    }
    levels
}

#[derive(Debug, Clone)]
pub struct Node {
    /// Stable id, e.g. `gce.vm.worker-2`, `swarm.join.worker-2`, `stack.service.web`.
    pub id: NodeId,
    pub span: Span,
}

impl Node {
    pub fn layer(&self) -> Layer {
        self.id.layer()
    }
}

#[derive(Debug, Clone)]
pub struct Edge {
    /// Why the edge exists.
    pub reason: EdgeReason,
    pub span: Span,
}

#[derive(Debug, Default)]
pub struct DepGraph {
    pub graph: DiGraph<Node, Edge>,
    /// Node ids to nodes (hashed: the graph is built with many look-ups).
    index: foldhash::HashMap<NodeId, NodeIndex>,
    /// Edges already present (petgraph's `find_edge` walks a node's edges,
    /// which is slow for hubs such as `swarm.init`); only while building.
    edges: foldhash::HashSet<(NodeIndex, NodeIndex)>,
}

impl DepGraph {
    pub fn node(&self, id: &str) -> Option<NodeIndex> {
        self.index.get(id).copied()
    }

    pub(crate) fn add_node(&mut self, id: NodeId, span: Span) -> NodeIndex {
        if let Some(&ix) = self.index.get(&id) {
            return ix;
        }
        let ix = self.graph.add_node(Node {
            id: id.clone(),
            span,
        });
        self.index.insert(id, ix);
        ix
    }

    /// `before` must be done before `after`.
    pub(crate) fn add_edge(
        &mut self,
        before: &NodeId,
        after: &NodeId,
        reason: EdgeReason,
        span: Span,
    ) {
        if let (Some(b), Some(a)) = (self.node(before.as_str()), self.node(after.as_str())) {
            self.link(b, a, reason, span);
        }
    }

    /// [`DepGraph::add_edge`] between nodes already looked up.
    pub(crate) fn link(
        &mut self,
        before: NodeIndex,
        after: NodeIndex,
        reason: EdgeReason,
        span: Span,
    ) {
        if before != after && self.edges.insert((before, after)) {
            self.graph.add_edge(before, after, Edge { reason, span });
        }
    }

    /// The graph is complete: drop what only building needs and the room
    /// the node and edge lists grew into (shrinking in place), since the
    /// graph lives as long as the plan and apply that read it.
    pub(crate) fn finish(&mut self) {
        self.edges = Default::default();
        self.graph.shrink_to_fit();
    }

    /// Every node id, sorted.
    pub fn ids(&self) -> impl Iterator<Item = &NodeId> {
        let mut ids: Vec<&NodeId> = self.index.keys().collect();
        ids.sort_unstable();
        ids.into_iter()
    }

    /// What `id` waits for, in the order the edges were drawn.
    pub fn prerequisites(&self, id: &str) -> Vec<&NodeId> {
        let Some(n) = self.node(id) else {
            return Vec::new();
        };
        let mut edges: Vec<_> = self
            .graph
            .edges_directed(n, petgraph::Incoming)
            .map(|e| (e.id(), e.source()))
            .collect();
        edges.sort_unstable();
        edges.into_iter().map(|(_, m)| &self.graph[m].id).collect()
    }

    /// Every edge as `(before, after, reason)`, sorted.
    pub fn edge_list(&self) -> Vec<(&NodeId, &NodeId, &EdgeReason)> {
        let mut out: Vec<_> = self
            .graph
            .edge_references()
            .map(|e| {
                let g = &self.graph;
                (&g[e.source()].id, &g[e.target()].id, &e.weight().reason)
            })
            .collect();
        out.sort_unstable_by(|a, b| (a.0, a.1).cmp(&(b.0, b.1)));
        out
    }

    /// `ids` (each at most once) reordered so that every node comes after
    /// the nodes among them it depends on, and otherwise keeps its place
    /// (ids not in the graph wait for nothing). Nodes on a cycle go last,
    /// in the given order.
    pub fn stable_order<'a>(&self, ids: &[&'a str]) -> Vec<&'a str> {
        let pos: foldhash::HashMap<NodeIndex, usize> = ids
            .iter()
            .enumerate()
            .filter_map(|(i, id)| self.node(id).map(|n| (n, i)))
            .collect();
        let mut waiting = vec![0usize; ids.len()];
        let mut dependents: Vec<Vec<usize>> = vec![Vec::new(); ids.len()];
        for (&n, &i) in &pos {
            for m in self.graph.neighbors_directed(n, petgraph::Outgoing) {
                if let Some(&j) = pos.get(&m) {
                    waiting[j] += 1;
                    dependents[i].push(j);
                }
            }
        }
        let mut ready: std::collections::BTreeSet<usize> =
            (0..ids.len()).filter(|&i| waiting[i] == 0).collect();
        let mut placed = vec![false; ids.len()];
        let mut out = Vec::with_capacity(ids.len());
        while let Some(i) = ready.pop_first() {
            out.push(ids[i]);
            placed[i] = true;
            for &j in &dependents[i] {
                waiting[j] -= 1;
                if waiting[j] == 0 {
                    ready.insert(j);
                }
            }
        }
        out.extend((0..ids.len()).filter(|&i| !placed[i]).map(|i| ids[i]));
        out
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
        let dependents: Vec<Vec<usize>> = g
            .node_indices()
            .map(|n| {
                g.neighbors_directed(n, petgraph::Outgoing)
                    .map(NodeIndex::index)
                    .collect()
            })
            .collect();
        let levels = levels_of(&dependents, |i| &g[NodeIndex::new(i)].id);
        let seen: usize = levels.iter().map(Vec::len).sum();
        (seen == g.node_count()).then(|| {
            levels
                .into_iter()
                .map(|l| l.into_iter().map(NodeIndex::new).collect())
                .collect()
        })
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
