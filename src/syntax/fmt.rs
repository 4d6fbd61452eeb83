//! fmt
//!
//! Placeholder until the formatter (branch `fmt`, `src/syntax/fmt/mod.rs`)
//! is merged: the same signature, returning the source unchanged.

use super::ast::SourceAst;

/// The canonical layout of a parsed file (for now: the source as it is).
pub fn format(_ast: &SourceAst, source: &str) -> String {
    source.to_string()
}
