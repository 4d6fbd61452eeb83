//! The command line: one file per subcommand. This is the edge where errors
//! become messages and exit statuses; the library below never prints.

mod apply;
mod build;
mod check;
mod cluster;
mod cluster_program;
mod common;
mod deploy;
mod fmt;
mod graph;
mod import;
mod loadtest;
mod lsp;
mod output;
mod plan;
mod power;
mod progress;
mod retries;
mod scale;
mod state;
mod status;

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
    /// Write the Compute Engine calls, cloud-init user-data and the stack file.
    Build(build::Args),
    /// Check programs and report every problem found.
    Check(check::Args),
    /// Format programs in the canonical layout.
    Fmt(fmt::Args),
    /// Print the dependency graph (DOT for Graphviz, or JSON).
    Graph(graph::Args),
    /// Show what `apply` would change.
    Plan(plan::Args),
    /// Show the program's outputs (values known after apply from the state).
    Output(output::Args),
    /// Make the resources match the program (or apply a saved plan).
    Apply(apply::Args),
    /// Delete the resources of a program, in reverse dependency order.
    Destroy(apply::DestroyArgs),
    /// Start the program's VMs.
    Start(power::Args),
    /// Stop the program's VMs.
    Stop(power::Args),
    /// Take over an existing resource under one of the program's names.
    Import(import::Args),
    /// Inspect the state.
    #[command(subcommand)]
    State(state::StateCmd),
    /// Remove the state lock left by a run that is gone.
    ForceUnlock(state::UnlockArgs),
    /// Run the language server on stdin/stdout.
    Lsp,
    /// Run a load test declared in a program, or compare two runs.
    Loadtest(loadtest::Args),
    /// Show the Swarm's nodes and the stack's services, as a manager reports them.
    Status(status::Args),
    /// Change services' replica counts live, and in the program when they are numbers there.
    Scale(scale::Args),
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
        Command::Build(args) => build::run(args, color),
        Command::Check(args) => check::run(args, color),
        Command::Fmt(args) => fmt::run(args, color),
        Command::Graph(args) => graph::run(args, color),
        Command::Plan(args) => plan::run(args, color),
        Command::Output(args) => output::run(args, color),
        Command::Apply(args) => apply::run(args, color),
        Command::Destroy(args) => apply::destroy(args, color),
        Command::Start(args) => power::run(args, "start", color),
        Command::Stop(args) => power::run(args, "stop", color),
        Command::Import(args) => import::run(args, color),
        Command::State(cmd) => state::run(cmd, color),
        Command::ForceUnlock(args) => state::force_unlock(args, color),
        Command::Lsp => lsp::run(),
        Command::Loadtest(args) => loadtest::run(args, color),
        Command::Status(args) => status::run(args, color),
        Command::Scale(args) => scale::run(args, color),
    };
    status.into()
}
