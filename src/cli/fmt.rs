//! `sdbc fmt FILE... | -`: rewrite files in the canonical layout (or print
//! it, for `-`); `--check` changes nothing and exits 1 when a file would
//! change. A file with syntax errors is reported and left alone.

use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use super::common::{self, DiagFormat, ExitStatus};
use crate::diag::{ColorChoice, Diagnostics};
use crate::span::{FileId, SourceMap};

#[derive(clap::Args, Debug)]
pub struct Args {
    /// Files to format, or `-` for standard input (written to standard output).
    #[arg(required = true, value_name = "FILE")]
    pub files: Vec<PathBuf>,
    /// Change nothing; exit 1 if any file is not formatted.
    #[arg(long)]
    pub check: bool,
}

enum Outcome {
    Unchanged,
    Changed,
    Invalid,
}

pub fn run(args: Args, color: ColorChoice) -> ExitStatus {
    let mut status = ExitStatus::Ok;
    for path in &args.files {
        let outcome = if path == Path::new("-") {
            stdin(args.check, color)
        } else {
            file(path, args.check, color)
        };
        status = match (outcome, status) {
            (Err(()), _) => ExitStatus::Usage,
            (_, ExitStatus::Usage) => ExitStatus::Usage,
            (Ok(Outcome::Invalid), _) => ExitStatus::Errors,
            (Ok(Outcome::Changed), _) if args.check => ExitStatus::Errors,
            (Ok(_), s) => s,
        };
    }
    status
}

/// The formatted text, or `None` (after printing the syntax errors).
fn format_text(name: &str, bytes: Vec<u8>, color: ColorChoice) -> Option<(String, String)> {
    let mut sources = SourceMap::new();
    let mut diags = Diagnostics::new();
    let id: FileId = crate::sema::load::decode(name, None, bytes, &mut sources, &mut diags);
    let text = sources.get(id).text.to_string();
    let (ast, parse_diags) = crate::syntax::parse(id, &text);
    diags.extend(parse_diags);
    if diags.has_errors() {
        common::emit(&sources, &diags.into_sorted(), DiagFormat::Human, color);
        common::error_line(
            color,
            &format!("{name}: not formatted: fix the syntax errors first"),
        );
        return None;
    }
    let formatted = crate::syntax::fmt::format(&ast, &text);
    Some((text, formatted))
}

fn stdin(check: bool, color: ColorChoice) -> Result<Outcome, ()> {
    let mut bytes = Vec::new();
    if let Err(err) = std::io::stdin().read_to_end(&mut bytes) {
        common::error_line(color, &format!("cannot read standard input: {err}"));
        return Err(());
    }
    let Some((text, formatted)) = format_text("<stdin>", bytes, color) else {
        return Ok(Outcome::Invalid);
    };
    if !check && std::io::stdout().write_all(formatted.as_bytes()).is_err() {
        return Err(());
    }
    Ok(if text == formatted {
        Outcome::Unchanged
    } else {
        Outcome::Changed
    })
}

fn file(path: &Path, check: bool, color: ColorChoice) -> Result<Outcome, ()> {
    let bytes = std::fs::read(path).map_err(|err| {
        common::error_line(color, &format!("cannot read `{}`: {err}", path.display()))
    })?;
    let name = path.display().to_string();
    let Some((text, formatted)) = format_text(&name, bytes, color) else {
        return Ok(Outcome::Invalid);
    };
    if text == formatted {
        return Ok(Outcome::Unchanged);
    }
    if check {
        let _ = writeln!(std::io::stderr(), "would reformat {name}");
    } else {
        common::write_atomically(path, formatted.as_bytes())
            .map_err(|err| common::error_line(color, &format!("cannot write `{name}`: {err}")))?;
        let _ = writeln!(std::io::stderr(), "formatted {name}");
    }
    Ok(Outcome::Changed)
}
