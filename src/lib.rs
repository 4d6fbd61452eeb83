//! sdbc: a compiler and executor for the sdb infrastructure language.
//!
//! See `ARCHITECTURE.md` for the bird's-eye view. Phases depend one way:
//! syntax -> semantics/model -> graph -> targets -> plan -> exec.

pub mod diag;
pub mod model;
pub mod span;
pub mod targets;
