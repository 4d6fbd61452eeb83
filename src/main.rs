//! The `sdbc` binary: a thin shell over the library (see `sdbc::cli`).

fn main() -> std::process::ExitCode {
    sdbc::cli::main()
}
