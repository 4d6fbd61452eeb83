//! The graph as Graphviz DOT (one cluster per layer) and as JSON for tools.

use std::fmt::Write as _;

use serde::Serialize;

use super::{DepGraph, Layer};

fn quote(s: &str) -> String {
    format!("\"{}\"", s.replace('\\', "\\\\").replace('"', "\\\""))
}

pub fn dot(g: &DepGraph) -> String {
    let mut out = String::from(
        "digraph sdbc {\n  rankdir=LR;\n  node [shape=box, fontname=\"Helvetica\", fontsize=10];\n  edge [fontname=\"Helvetica\", fontsize=8];\n",
    );
    for layer in Layer::ALL {
        let _ = writeln!(
            out,
            "  subgraph cluster_{} {{\n    label={};",
            layer.as_str(),
            quote(layer.as_str())
        );
        let mut nodes: Vec<&str> = g
            .graph
            .node_weights()
            .filter(|n| n.layer() == layer)
            .map(|n| n.id.as_str())
            .collect();
        nodes.sort_unstable();
        for id in nodes {
            let _ = writeln!(out, "    {};", quote(id));
        }
        out.push_str("  }\n");
    }
    for (from, to, reason) in g.edge_list() {
        let _ = writeln!(
            out,
            "  {} -> {} [label={}];",
            quote(from.as_str()),
            quote(to.as_str()),
            quote(&reason.to_string())
        );
    }
    out.push_str("}\n");
    out
}

#[derive(Serialize)]
struct JsonGraph<'a> {
    nodes: Vec<JsonNode<'a>>,
    edges: Vec<JsonEdge<'a>>,
    /// Groups of nodes that may run in parallel, in order; empty if there is a cycle.
    levels: Vec<Vec<&'a str>>,
}

#[derive(Serialize)]
struct JsonNode<'a> {
    id: &'a str,
    layer: Layer,
}

#[derive(Serialize)]
struct JsonEdge<'a> {
    from: &'a str,
    to: &'a str,
    reason: String,
}

pub fn json(g: &DepGraph) -> String {
    let mut nodes: Vec<JsonNode> = g
        .graph
        .node_weights()
        .map(|n| JsonNode {
            id: n.id.as_str(),
            layer: n.layer(),
        })
        .collect();
    nodes.sort_by(|a, b| a.id.cmp(b.id));
    let edges = g
        .edge_list()
        .into_iter()
        .map(|(from, to, reason)| JsonEdge {
            from: from.as_str(),
            to: to.as_str(),
            reason: reason.to_string(),
        })
        .collect();
    let levels = g
        .levels()
        .unwrap_or_default()
        .into_iter()
        .map(|level| level.into_iter().map(|n| g.graph[n].id.as_str()).collect())
        .collect();
    let mut out = serde_json::to_string_pretty(&JsonGraph {
        nodes,
        edges,
        levels,
    })
    .expect("the graph always serializes");
    out.push('\n');
    out
}
