//! The `sdbc` binary: a thin shell over the library (see `sdbc::cli`).

fn main() -> std::process::ExitCode {
    sdbc::cli::main()
}

/// mimalloc: the front end allocates many small strings and nodes, and
/// glibc's allocator took a third of a `check` (see
/// `docs/decisions/0012-front-end-speed.md`).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;
