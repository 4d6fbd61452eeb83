//! Syntax: the grammar (`grammar/sdb.pest`), the typed AST, error recovery
//! and the formatter. This phase knows nothing of Compute Engine, Swarm or
//! the LSP; it turns text into an [`ast::SourceAst`] plus diagnostics.

pub mod ast;
mod chunks;
pub mod edit;
mod fast;
pub mod fmt;
mod lower;
mod parser;
mod recover;
mod relocate;
pub mod reparse;
mod scan;

pub use lower::{DURATION_UNITS, SIZE_UNITS, duration_unit_millis};
pub use parser::{MAX_NESTING, parse, parse_in_chunks};
pub use reparse::{ParseCache, ParseMemo, Reuse, reparse};
