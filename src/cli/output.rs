//! `sdbc output FILE [NAME] [--json]`: the program's outputs, with the
//! values the state holds for those known only after apply. With NAME, just
//! that value (for scripts); exit 1 if it is not known yet.

use std::io::Write;
use std::path::PathBuf;

use super::common::{self, ExitStatus};
use crate::diag::ColorChoice;
use crate::plan::outputs::{self, ShownOutput};
use crate::state::StateStore;

#[derive(clap::Args, Debug)]
pub struct Args {
    /// The program whose outputs to show (its state file lives beside it).
    #[arg(value_name = "FILE")]
    pub file: PathBuf,
    /// Only this output, printed bare.
    #[arg(value_name = "NAME")]
    pub name: Option<String>,
    /// Print JSON: an object of every output (null when not known yet), or
    /// the one value.
    #[arg(long)]
    pub json: bool,
    /// Set a `param`: NAME=VALUE (repeatable).
    #[arg(long = "var", value_name = "NAME=VALUE", value_parser = common::parse_var)]
    pub vars: Vec<(String, String)>,
}

pub fn run(args: Args, color: ColorChoice) -> ExitStatus {
    let checked = match common::load_without_errors(&args.file, &args.vars, color) {
        Ok(c) => c,
        Err(status) => return status,
    };
    let model = &checked.analysis.model;
    let state = match StateStore::for_source(&args.file, &model.stack).load() {
        Ok(s) => s,
        Err(e) => {
            common::error_line(color, &e.to_string());
            return ExitStatus::Usage;
        }
    };
    let shown = outputs::resolve(&model.outputs, &state, &[]);
    match &args.name {
        Some(name) => one(&shown, name, args.json, color),
        None => all(&shown, args.json),
    }
}

fn all(shown: &[ShownOutput], json: bool) -> ExitStatus {
    let mut out = std::io::stdout().lock();
    if json {
        let map: serde_json::Map<String, serde_json::Value> = shown
            .iter()
            .map(|o| (o.name.clone(), o.value.clone().into()))
            .collect();
        let text = serde_json::to_string_pretty(&map).expect("a map of strings serializes");
        let _ = writeln!(out, "{text}");
    } else if shown.is_empty() {
        let _ = writeln!(std::io::stderr(), "the program declares no `output`");
    } else {
        let text = outputs::human(shown);
        let _ = out.write_all(text.trim_start_matches("\nOutputs:\n").as_bytes());
    }
    ExitStatus::Ok
}

fn one(shown: &[ShownOutput], name: &str, json: bool, color: ColorChoice) -> ExitStatus {
    let Some(o) = shown.iter().find(|o| o.name == name) else {
        let hint = crate::diag::did_you_mean(name, shown.iter().map(|o| o.name.as_str()))
            .map(|h| format!("; {h}"))
            .unwrap_or_default();
        common::error_line(color, &format!("the program has no output `{name}`{hint}"));
        return ExitStatus::Usage;
    };
    match (&o.value, &o.after_apply) {
        (Some(v), _) => {
            let text = if json {
                serde_json::Value::from(v.as_str()).to_string()
            } else {
                v.clone()
            };
            let _ = writeln!(std::io::stdout(), "{text}");
            ExitStatus::Ok
        }
        (None, from) => {
            let from = from.as_deref().unwrap_or("a resource not made yet");
            common::error_line(
                color,
                &format!("output `{name}` is known only after apply ({from}); run `sdbc apply`"),
            );
            ExitStatus::Errors
        }
    }
}
