//! `sdbc scale FILE SERVICE=N ...`: changes only those services' replica
//! counts, live through a manager's Engine API, and writes the same
//! numbers into the program, so the file and the cluster agree and the next
//! plan is empty.
//!
//! Before anything changes: every name must be a replicated service of the
//! program (else an error naming the closest one), every `replicas=` must
//! be a number written in FILE (a `param` or an expression is refused,
//! saying how to set it instead), and the edited program must still check.
//! Then the services are scaled, the file is rewritten (only those numbers'
//! bytes; see `crate::syntax::edit`), and sdbc waits for the tasks.
//! The state is locked while it runs (an apply meanwhile would set the
//! counts back from the file). Exit 0 done, 1 refused or failed, 2 usage
//! or I/O.
//! See `docs/decisions/0020-scale-and-status.md`.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Duration;

use super::common::{self, DiagFormat, ExitStatus};
use crate::diag::ColorChoice;
use crate::model::{Model, ServiceMode};
use crate::span::FileId;
use crate::syntax::edit::{self, Edit, EditError};

#[derive(clap::Args, Debug)]
pub struct Args {
    /// The program.
    #[arg(value_name = "FILE")]
    pub file: PathBuf,
    /// The new replica counts: SERVICE=N (at least one).
    #[arg(value_name = "SERVICE=N", required = true, value_parser = parse_count)]
    pub counts: Vec<(String, u64)>,
    /// How long to wait for the tasks, in seconds.
    #[arg(long, default_value_t = 300, value_name = "SECONDS")]
    pub timeout: u64,
    /// Set a `param`: NAME=VALUE (repeatable).
    #[arg(long = "var", value_name = "NAME=VALUE", value_parser = common::parse_var)]
    pub vars: Vec<(String, String)>,
}

fn parse_count(s: &str) -> Result<(String, u64), String> {
    let (name, n) = s
        .split_once('=')
        .filter(|(k, _)| !k.is_empty())
        .ok_or_else(|| format!("`{s}` is not SERVICE=N"))?;
    let n = n
        .parse()
        .map_err(|_| format!("`{n}` in `{s}` is not a replica count"))?;
    Ok((name.to_string(), n))
}

pub fn run(args: Args, color: ColorChoice) -> ExitStatus {
    let checked = match common::load_without_errors(&args.file, &args.vars, color) {
        Ok(c) => c,
        Err(status) => return status,
    };
    let model = &checked.analysis.model;
    let mut counts = BTreeMap::new();
    for (name, n) in &args.counts {
        if counts.insert(name.clone(), *n).is_some() {
            common::error_line(color, &format!("`{name}` is given more than once"));
            return ExitStatus::Usage;
        }
    }
    if let Err(e) = check_services(model, &counts) {
        common::error_line(color, &e);
        return ExitStatus::Errors;
    }
    let text = match std::fs::read_to_string(&args.file) {
        Ok(t) => t,
        Err(e) => {
            let name = args.file.display();
            common::error_line(color, &format!("cannot read `{name}`: {e}"));
            return ExitStatus::Usage;
        }
    };
    let edited = match edits(&args.file, &text, &counts) {
        Ok(e) => e,
        Err(e) => {
            common::error_line(color, &e);
            return ExitStatus::Errors;
        }
    };
    if !still_checks(&args, &edited, color) {
        return ExitStatus::Errors;
    }
    let rt = match super::deploy::runtime(color) {
        Ok(rt) => rt,
        Err(status) => return status,
    };
    rt.block_on(scale(&args, model, &counts, &edited, color))
}

/// Every name a replicated service of the program.
fn check_services(model: &Model, counts: &BTreeMap<String, u64>) -> Result<(), String> {
    for name in counts.keys() {
        let Some(service) = model.services.iter().find(|s| &s.name == name) else {
            let names: Vec<&str> = model.services.iter().map(|s| s.name.as_str()).collect();
            let hint = match crate::exec::stack::closest_name(name, &names) {
                Some(c) => format!("; the closest is `{c}`"),
                None if names.is_empty() => String::from("; it has no services"),
                None => format!("; its services are {}", names.join(", ")),
            };
            return Err(format!("the program has no service `{name}`{hint}"));
        };
        if service.mode == ServiceMode::Global {
            return Err(format!(
                "service `{name}` is global (one task per node); only replicated services can be scaled"
            ));
        }
    }
    Ok(())
}

/// The program's text with the new counts, or why it cannot be edited.
fn edits(path: &Path, text: &str, counts: &BTreeMap<String, u64>) -> Result<String, String> {
    let (ast, diags) = crate::syntax::parse(FileId(0), text);
    if diags.iter().any(crate::diag::Diagnostic::is_error) {
        return Err(format!("`{}` does not parse", path.display()));
    }
    let mut all: Vec<Edit> = Vec::new();
    for (name, n) in counts {
        match edit::set_int_arg(text, &ast, "service", name, "replicas", *n) {
            Ok(e) => all.push(e),
            Err(EditError::NotLiteral { written, line, .. }) => {
                return Err(format!(
                    "`replicas` of service `{name}` is `{written}` ({}:{line}), not a number, so \
                     sdbc cannot write {n} there and the file and the cluster would disagree: \
                     make it a number there, or set it for `sdbc apply` (e.g. \
                     `--var {written}={n}` when it is a param)",
                    path.display()
                ));
            }
            Err(e) => {
                return Err(format!(
                    "service `{name}`: {e} (`{}`): edit its `replicas` where it is declared \
                     and run `sdbc apply`",
                    path.display()
                ));
            }
        }
    }
    Ok(edit::apply(text, &all))
}

/// Whether the edited program has no errors (a count can break a check,
/// e.g. the tasks no longer fit the VMs); prints them when it does.
fn still_checks(args: &Args, edited: &str, color: ColorChoice) -> bool {
    let env = crate::sema::Env {
        vars: common::vars(&args.vars),
        getenv: Box::new(|k| std::env::var(k).ok()),
        reader: &crate::sema::DiskReader,
    };
    let analysis = crate::sema::analyze_bytes(
        &args.file.display().to_string(),
        Some(args.file.clone()),
        edited.as_bytes().to_vec(),
        &env,
    );
    let checked = crate::pipeline::check_all(analysis);
    if !checked.analysis.has_errors() {
        return true;
    }
    let errors: Vec<_> = checked
        .analysis
        .diagnostics
        .iter()
        .filter(|d| d.is_error())
        .cloned()
        .collect();
    common::emit(&checked.analysis.sources, &errors, DiagFormat::Human, color);
    common::error_line(
        color,
        "with these replica counts the program has errors; nothing was changed",
    );
    false
}

async fn scale(
    args: &Args,
    model: &Model,
    counts: &BTreeMap<String, u64>,
    edited: &str,
    color: ColorChoice,
) -> ExitStatus {
    let manager = match super::cluster::manager(&args.file, model, color).await {
        Ok(m) => m,
        Err(status) => return status,
    };
    // An apply running meanwhile would set the counts back from the file.
    let store = crate::state::StateStore::for_source(&args.file, &model.stack);
    let _lock = match store.lock("sdbc scale") {
        Ok(lock) => lock,
        Err(e) => {
            common::error_line(color, &e.to_string());
            return ExitStatus::Errors;
        }
    };
    let scaled = match crate::exec::stack::scale(&manager, &model.stack, counts).await {
        Ok(s) => s,
        Err(e) => {
            common::error_line(color, &format!("{e}; nothing was changed"));
            return ExitStatus::Errors;
        }
    };
    let mut err = std::io::stderr();
    for s in &scaled {
        let _ = if s.from == s.to {
            writeln!(err, "{}: already {} replicas", s.service, s.to)
        } else {
            writeln!(err, "scaled {}: replicas {} -> {}", s.service, s.from, s.to)
        };
    }
    if let Err(e) = common::write_atomically(&args.file, edited.as_bytes()) {
        common::error_line(
            color,
            &format!(
                "the services are scaled, but `{}` could not be written ({e}): write the same \
                 numbers there, or the next apply sets them back",
                args.file.display()
            ),
        );
        return ExitStatus::Usage;
    }
    let _ = writeln!(err, "wrote the new counts into {}", args.file.display());
    let names: Vec<String> = counts.keys().cloned().collect();
    let timeout = Duration::from_secs(args.timeout);
    match crate::exec::stack::wait_scaled(&manager, &model.stack, &names, timeout).await {
        Ok(()) => ExitStatus::Ok,
        Err(e) => {
            common::error_line(color, &e.to_string());
            ExitStatus::Errors
        }
    }
}
