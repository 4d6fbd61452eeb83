//! `sdbc plan FILE`: what `apply` would change, refreshed from Compute
//! Engine when credentials and a project are configured, offline otherwise
//! (everything to create, the project shown as not yet set).
//! `--detailed-exitcode`: 0 no changes, 1 error, 2 changes. A plan that
//! cannot succeed (resources under the program's names that are not this
//! stack's, a refused change) exits 1 whatever the flags.

use std::io::{IsTerminal, Write};
use std::path::PathBuf;

use super::common::{self, ExitStatus};
use super::deploy;
use crate::diag::ColorChoice;

#[derive(clap::Args, Debug)]
pub struct Args {
    /// The program.
    #[arg(value_name = "FILE")]
    pub file: PathBuf,
    /// Print the plan as JSON on stdout.
    #[arg(long)]
    pub json: bool,
    /// Read the current resources from Compute Engine first (`--refresh=false` to skip).
    #[arg(long, default_value_t = true, action = clap::ArgAction::Set, value_name = "BOOL")]
    pub refresh: bool,
    /// Exit 2 when there are changes, 0 when there are none.
    #[arg(long)]
    pub detailed_exitcode: bool,
    /// Save the plan to this file, for `sdbc apply FILE`.
    #[arg(long = "out", short = 'o', value_name = "PLANFILE")]
    pub out: Option<PathBuf>,
    /// Set a `param`: NAME=VALUE (repeatable).
    #[arg(long = "var", value_name = "NAME=VALUE", value_parser = common::parse_var)]
    pub vars: Vec<(String, String)>,
}

pub fn run(args: Args, color: ColorChoice) -> ExitStatus {
    let mut loaded = match deploy::load(&args.file, &args.vars, color) {
        Ok(l) => l,
        Err(status) => return status,
    };
    let rt = match deploy::runtime(color) {
        Ok(rt) => rt,
        Err(status) => return status,
    };
    let online = args.refresh && loaded.project.is_some() && deploy::credentials_configured();
    let plan = rt.block_on(async {
        let client = match (&loaded.project, online) {
            (Some(project), true) => Some(deploy::connect(project, 8, None).await?),
            _ => None,
        };
        deploy::make_plan(&mut loaded, client.as_deref(), crate::plan::Goal::Apply).await
    });
    let plan = match plan {
        Ok(p) => p,
        Err(e) => {
            common::error_line(color, &e);
            return ExitStatus::Errors;
        }
    };
    if args.refresh && !online {
        let why = if loaded.project.is_none() {
            "no project is set (GOOGLE_CLOUD_PROJECT or gce { project })"
        } else {
            "no credentials are configured"
        };
        let _ = writeln!(
            std::io::stderr(),
            "note: planned offline from the state file: {why}"
        );
    }
    if args.json {
        let _ = std::io::stdout().write_all(plan.to_json().as_bytes());
    } else {
        let painted = color == ColorChoice::Always && std::io::stdout().is_terminal();
        let _ = std::io::stdout().write_all(crate::plan::render::human(&plan, painted).as_bytes());
    }
    if let Some(out) = &args.out {
        if let Err(e) = std::fs::write(out, plan.to_json()) {
            common::error_line(color, &format!("cannot write `{}`: {e}", out.display()));
            return ExitStatus::Usage;
        }
        let _ = writeln!(
            std::io::stderr(),
            "saved the plan to {}; run `sdbc apply {}` to apply exactly it",
            out.display(),
            out.display()
        );
    }
    let status = if plan.blocked() {
        ExitStatus::Errors
    } else if args.detailed_exitcode && plan.has_changes() {
        ExitStatus::Changes
    } else {
        ExitStatus::Ok
    };
    // The process ends here: freeing the model, the state and the plan one
    // allocation at a time would take a quarter of a large plan's time.
    std::mem::forget(loaded);
    std::mem::forget(plan);
    status
}
