//! The `sdbc` binary: a thin shell over the library (see `sdbc::cli`).
fn main() {}
