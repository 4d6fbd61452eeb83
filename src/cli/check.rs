//! `sdbc check FILE...`: report every problem; exit 0 (no errors, warnings
//! allowed), 1 (errors) or 2 (a file could not be read).

use std::io::Write;
use std::path::PathBuf;

use super::common::{self, DiagFormat, ExitStatus};
use crate::diag::ColorChoice;

#[derive(clap::Args, Debug)]
pub struct Args {
    /// The programs to check.
    #[arg(required = true, value_name = "FILE")]
    pub files: Vec<PathBuf>,
    /// Output format for diagnostics: human (stderr) or json (stdout).
    #[arg(long, value_enum, default_value_t = DiagFormat::Human)]
    pub format: DiagFormat,
    /// Set a `param`: NAME=VALUE (repeatable).
    #[arg(long = "var", value_name = "NAME=VALUE", value_parser = common::parse_var)]
    pub vars: Vec<(String, String)>,
}

pub fn run(args: Args, color: ColorChoice) -> ExitStatus {
    let vars = common::vars(&args.vars);
    let mut status = ExitStatus::Ok;
    let mut all_json = Vec::new();
    for path in &args.files {
        let analysis = match crate::sema::analyze_path(path, &vars) {
            Ok(a) => a,
            Err(err) => {
                common::error_line(color, &format!("cannot read `{}`: {err}", path.display()));
                status = ExitStatus::Usage;
                continue;
            }
        };
        if common::unknown_vars(&analysis, &args.vars, color) {
            status = ExitStatus::Usage;
            continue;
        }
        let analysis = crate::pipeline::check(analysis);
        let errors = analysis.diagnostics.iter().filter(|d| d.is_error()).count();
        let warnings = analysis.diagnostics.len() - errors;
        match args.format {
            DiagFormat::Json => all_json.extend(
                analysis
                    .diagnostics
                    .iter()
                    .map(|d| crate::diag::to_json(&analysis.sources, d)),
            ),
            DiagFormat::Human => {
                common::emit(
                    &analysis.sources,
                    &analysis.diagnostics,
                    DiagFormat::Human,
                    color,
                );
                let summary = common::count_words(errors, warnings);
                let m = &analysis.model;
                let _ = writeln!(
                    std::io::stderr(),
                    "{}: {summary} ({}, {})",
                    path.display(),
                    common::plural(m.vms.len(), "VM"),
                    common::plural(m.services.len(), "service")
                );
            }
        }
        if errors > 0 && status == ExitStatus::Ok {
            status = ExitStatus::Errors;
        }
    }
    if args.format == DiagFormat::Json {
        let mut out =
            serde_json::to_string_pretty(&all_json).expect("diagnostics always serialize");
        out.push('\n');
        let _ = std::io::stdout().write_all(out.as_bytes());
    }
    status
}
