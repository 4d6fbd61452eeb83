//! sdbc: a compiler and executor for the sdb infrastructure language.
//!
//! See `ARCHITECTURE.md` for the bird's-eye view. Phases depend one way:
//! syntax -> semantics/model -> graph -> targets -> plan -> exec.

pub mod catalog;
pub mod cli;
pub mod diag;
pub mod exec;
pub mod graph;
pub mod loadreport;
pub mod lsp;
pub mod model;
pub mod pipeline;
pub mod plan;
pub mod schema;
pub mod sema;
pub mod span;
pub mod state;
pub mod syntax;
pub mod targets;
