//! The phases in order, as `check`, `build`, `plan` and the LSP run them:
//! semantics, then the dependency graph and the program checks, each adding
//! its diagnostics to the analysis.

use crate::graph::DepGraph;
use crate::sema::Analysis;

/// Everything `check` knows about a program.
pub struct Checked {
    pub analysis: Analysis,
    pub graph: DepGraph,
}

/// Every check that needs no network: semantics, the graph, program checks.
pub fn check_all(mut analysis: Analysis) -> Checked {
    let graph = crate::graph::build(&analysis.model, &analysis.deps);
    let mut diags = std::mem::take(&mut analysis.diagnostics);
    diags.extend(graph.cycle_diagnostics());
    diags.sort_by(|a, b| {
        (a.primary.span, a.code, &a.message).cmp(&(b.primary.span, b.code, &b.message))
    });
    diags.dedup();
    analysis.diagnostics = diags;
    Checked { analysis, graph }
}

/// [`check_all`] when only the diagnostics and the model matter.
pub fn check(analysis: Analysis) -> Analysis {
    check_all(analysis).analysis
}
