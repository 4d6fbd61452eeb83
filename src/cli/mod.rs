//! The command line: one file per subcommand. This is the edge where errors
//! become messages and exit statuses; the library below never prints.

mod check;
mod common;
mod graph;
mod lsp;

use clap::{Parser, Subcommand};

pub use common::ExitStatus;

#[derive(Parser, Debug)]
#[command(name = "sdbc", version, about = "Compile and run sdb infrastructure programs on Compute Engine and Docker Swarm", long_about = None)]
pub struct Cli {
    /// When to use colour: auto (on a terminal, unless NO_COLOR is set), always, never.
    #[arg(long, global = true, value_enum, default_value_t = common::Color::Auto)]
    pub color: common::Color,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Check programs and report every problem found.
    Check(check::Args),
    /// Print the dependency graph (DOT for Graphviz, or JSON).
    Graph(graph::Args),
    /// Run the language server on stdin/stdout.
    Lsp,
}

pub fn main() -> std::process::ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(err) => {
            let _ = err.print();
            return match err.kind() {
                clap::error::ErrorKind::DisplayHelp | clap::error::ErrorKind::DisplayVersion => {
                    ExitStatus::Ok.into()
                }
                _ => ExitStatus::Usage.into(),
            };
        }
    };
    let color = cli.color.resolve();
    let status = match cli.command {
        Command::Check(args) => check::run(args, color),
        Command::Graph(args) => graph::run(args, color),
        Command::Lsp => lsp::run(),
    };
    status.into()
}
