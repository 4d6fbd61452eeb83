//! `sdbc graph FILE [--format dot|json]`: the dependency graph, as Graphviz
//! DOT (one cluster per layer) or JSON (nodes, edges with reasons, levels).

use std::io::Write;
use std::path::PathBuf;

use super::common::{self, ExitStatus};
use crate::diag::ColorChoice;

#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum GraphFormat {
    Dot,
    Json,
}

#[derive(clap::Args, Debug)]
pub struct Args {
    /// The program.
    #[arg(value_name = "FILE")]
    pub file: PathBuf,
    /// Output format: dot (Graphviz, one cluster per layer) or json (nodes,
    /// edges with reasons, levels).
    #[arg(long, value_enum, default_value_t = GraphFormat::Dot)]
    pub format: GraphFormat,
    /// Set a `param`: NAME=VALUE (repeatable).
    #[arg(long = "var", value_name = "NAME=VALUE", value_parser = common::parse_var)]
    pub vars: Vec<(String, String)>,
}

pub fn run(args: Args, color: ColorChoice) -> ExitStatus {
    let checked = match common::load_without_errors(&args.file, &args.vars, color) {
        Ok(c) => c,
        Err(status) => return status,
    };
    let text = match args.format {
        GraphFormat::Dot => checked.graph.to_dot(),
        GraphFormat::Json => checked.graph.to_json(),
    };
    match std::io::stdout().write_all(text.as_bytes()) {
        Ok(()) => ExitStatus::Ok,
        Err(_) => ExitStatus::Usage,
    }
}
