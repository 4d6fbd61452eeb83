//! `sdbc state list|show FILE` and `sdbc force-unlock FILE`.

use std::io::Write;
use std::path::PathBuf;

use super::common::{self, ExitStatus};
use crate::diag::ColorChoice;
use crate::state::StateStore;

#[derive(clap::Subcommand, Debug)]
pub enum StateCmd {
    /// List the resources in the state.
    List {
        /// The program whose state to read (it lives beside it, in `.sdbc/`).
        #[arg(value_name = "FILE")]
        file: PathBuf,
    },
    /// Show one resource as JSON.
    Show {
        /// The program whose state to read (it lives beside it, in `.sdbc/`).
        #[arg(value_name = "FILE")]
        file: PathBuf,
        /// The resource, e.g. `gce.vm.worker-0`.
        node: String,
    },
}

#[derive(clap::Args, Debug)]
pub struct UnlockArgs {
    /// The program whose state lock to remove.
    #[arg(value_name = "FILE")]
    pub file: PathBuf,
    /// Remove the lock even if its holder is still running on this host.
    #[arg(long)]
    pub force: bool,
}

fn store_for(file: &std::path::Path, color: ColorChoice) -> Option<StateStore> {
    // The stack name is the model's; read it from the program when possible.
    let stack = match crate::sema::analyze_path(file, &Default::default()) {
        Ok(a) => a.model.stack,
        Err(e) => {
            common::error_line(color, &format!("cannot read `{}`: {e}", file.display()));
            return None;
        }
    };
    Some(StateStore::for_source(file, &stack))
}

pub fn run(cmd: StateCmd, color: ColorChoice) -> ExitStatus {
    let file = match &cmd {
        StateCmd::List { file } | StateCmd::Show { file, .. } => file.clone(),
    };
    let Some(store) = store_for(&file, color) else {
        return ExitStatus::Usage;
    };
    let state = match store.load() {
        Ok(s) => s,
        Err(e) => {
            common::error_line(color, &e.to_string());
            return ExitStatus::Usage;
        }
    };
    let mut out = std::io::stdout().lock();
    match cmd {
        StateCmd::List { .. } => {
            if state.resources.is_empty() {
                let _ = writeln!(
                    std::io::stderr(),
                    "the state of `{}` holds no resources: nothing is applied",
                    file.display()
                );
            }
            for (node, r) in &state.resources {
                let _ = writeln!(
                    out,
                    "{node}\t{}\t{}",
                    r.location.as_deref().unwrap_or("-"),
                    r.id.as_deref().unwrap_or("-")
                );
            }
            ExitStatus::Ok
        }
        StateCmd::Show { node, .. } => match state.resources.get(&node) {
            Some(r) => {
                let _ = writeln!(
                    out,
                    "{}",
                    // Through a tree, so that the body (one line in the file) is indented too.
                    serde_json::to_value(r)
                        .and_then(|v| serde_json::to_string_pretty(&v))
                        .unwrap_or_default()
                );
                ExitStatus::Ok
            }
            None => {
                common::error_line(
                    color,
                    &format!("`{node}` is not in the state; `sdbc state list` shows what is"),
                );
                ExitStatus::Errors
            }
        },
    }
}

pub fn force_unlock(args: UnlockArgs, color: ColorChoice) -> ExitStatus {
    let Some(store) = store_for(&args.file, color) else {
        return ExitStatus::Usage;
    };
    match store.force_unlock(args.force) {
        Ok(Some(info)) => {
            let _ = writeln!(std::io::stderr(), "removed the lock held by {info}");
            ExitStatus::Ok
        }
        Ok(None) => {
            let _ = writeln!(std::io::stderr(), "the state was not locked");
            ExitStatus::Ok
        }
        Err(e) => {
            common::error_line(color, &e.to_string());
            ExitStatus::Errors
        }
    }
}
