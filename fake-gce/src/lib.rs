//! An in-memory fake of the Compute Engine v1 API (see the crate README).

pub mod schema;
