//! What every subcommand shares: exit statuses, colour, `--var` parsing and
//! printing diagnostics.

use std::collections::BTreeMap;
use std::io::{IsTerminal, Write};

use crate::diag::{ColorChoice, Diagnostic, render_human, render_json};
use crate::span::SourceMap;

/// The process exit status.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExitStatus {
    /// Success; no errors (warnings allowed).
    Ok = 0,
    /// The input has errors, or an operation failed.
    Errors = 1,
    /// Bad usage, or a file could not be read or written.
    Usage = 2,
    /// `plan --detailed-exitcode`: there are changes.
    Changes = 3,
    /// Interrupted by Ctrl-C.
    Interrupted = 130,
}

impl From<ExitStatus> for std::process::ExitCode {
    fn from(s: ExitStatus) -> Self {
        // `--detailed-exitcode` reports changes as 2, as Terraform does.
        let code = if s == ExitStatus::Changes { 2 } else { s as u8 };
        std::process::ExitCode::from(code)
    }
}

#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum Color {
    Auto,
    Always,
    Never,
}

impl Color {
    /// `auto` means colour when stderr is a terminal and `NO_COLOR` is unset or empty.
    pub fn resolve(self) -> ColorChoice {
        match self {
            Color::Always => ColorChoice::Always,
            Color::Never => ColorChoice::Never,
            Color::Auto => {
                let no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
                if !no_color && std::io::stderr().is_terminal() {
                    ColorChoice::Always
                } else {
                    ColorChoice::Never
                }
            }
        }
    }
}

#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum DiagFormat {
    Human,
    Json,
}

/// Parses a `--var NAME=VALUE`.
pub fn parse_var(s: &str) -> Result<(String, String), String> {
    match s.split_once('=') {
        Some((k, v)) if !k.is_empty() => Ok((k.to_string(), v.to_string())),
        _ => Err(format!("`{s}` is not NAME=VALUE")),
    }
}

pub fn vars(list: &[(String, String)]) -> BTreeMap<String, String> {
    list.iter().cloned().collect()
}

/// Terminal width for diagnostics (80 when unknown).
pub fn width() -> usize {
    std::env::var("COLUMNS")
        .ok()
        .and_then(|c| c.parse().ok())
        .filter(|w| *w >= 40)
        .unwrap_or(100)
}

/// Prints diagnostics: human ones to stderr, JSON to stdout.
pub fn emit(sources: &SourceMap, diags: &[Diagnostic], format: DiagFormat, color: ColorChoice) {
    match format {
        DiagFormat::Human => {
            if !diags.is_empty() {
                let text = render_human(sources, diags, color, width());
                let _ = std::io::stderr().write_all(text.as_bytes());
            }
        }
        DiagFormat::Json => {
            let _ = std::io::stdout().write_all(render_json(sources, diags).as_bytes());
        }
    }
}

/// `error: message` on stderr, in red on a terminal.
pub fn error_line(color: ColorChoice, message: &str) {
    let prefix = if color == ColorChoice::Always {
        "\x1b[1;31merror\x1b[0m"
    } else {
        "error"
    };
    let _ = writeln!(std::io::stderr(), "{prefix}: {message}");
}

/// "1 VM", "2 VMs", "0 services".
pub fn plural(n: usize, word: &str) -> String {
    if n == 1 {
        format!("1 {word}")
    } else {
        format!("{n} {word}s")
    }
}

/// "2 errors, 1 warning"
pub fn count_words(errors: usize, warnings: usize) -> String {
    match (errors, warnings) {
        (0, 0) => String::from("no problems"),
        (e, 0) => plural(e, "error"),
        (0, w) => plural(w, "warning"),
        (e, w) => format!("{}, {}", plural(e, "error"), plural(w, "warning")),
    }
}

/// Says which `--var`s name no `param` of the program (with the closest
/// names); whether there was any.
pub fn unknown_vars(
    analysis: &crate::sema::Analysis,
    vars: &[(String, String)],
    color: ColorChoice,
) -> bool {
    let params: Vec<&str> = analysis
        .definitions
        .iter()
        .filter(|d| d.kind == "param")
        .map(|d| d.name.as_str())
        .collect();
    let mut any = false;
    for (name, _) in vars {
        if params.contains(&name.as_str()) {
            continue;
        }
        any = true;
        let hint = match crate::diag::did_you_mean(name, params.iter().copied()) {
            Some(hint) => format!("; {hint}"),
            None if params.is_empty() => String::from("; it declares no `param`"),
            None => format!("; its parameters: {}", params.join(", ")),
        };
        error_line(
            color,
            &format!("`--var {name}`: the program has no parameter `{name}`{hint}"),
        );
    }
    any
}

/// Reads, analyses and checks one program; `None` (after saying why) if it cannot be read.
pub fn load_checked(
    path: &std::path::Path,
    vars: &[(String, String)],
    color: ColorChoice,
) -> Option<crate::pipeline::Checked> {
    match crate::sema::analyze_path(path, &self::vars(vars)) {
        Ok(a) if unknown_vars(&a, vars, color) => None,
        Ok(a) => Some(crate::pipeline::check_all(a)),
        Err(err) => {
            error_line(color, &format!("cannot read `{}`: {err}", path.display()));
            None
        }
    }
}

/// [`load_checked`], and on errors the diagnostics shown and the status
/// to exit with.
pub fn load_without_errors(
    path: &std::path::Path,
    vars: &[(String, String)],
    color: ColorChoice,
) -> Result<crate::pipeline::Checked, ExitStatus> {
    let checked = load_checked(path, vars, color).ok_or(ExitStatus::Usage)?;
    if checked.analysis.has_errors() {
        emit(
            &checked.analysis.sources,
            &checked.analysis.diagnostics,
            DiagFormat::Human,
            color,
        );
        return Err(ExitStatus::Errors);
    }
    Ok(checked)
}

/// The digest of each secret's value from the encrypted store beside the
/// source, or a placeholder for secrets not generated yet.
pub fn secret_digests(
    source: &std::path::Path,
    model: &crate::model::Model,
) -> BTreeMap<String, String> {
    let mut out = crate::pipeline::pending_secret_digests(model);
    let Ok(store) = crate::state::SecretStore::for_source(source, &model.stack) else {
        return out;
    };
    if !store.path().exists() {
        return out;
    }
    for s in &model.secrets {
        if let Ok(Some(v)) = store.get(&s.name) {
            out.insert(
                s.name.clone(),
                v.digest().trim_start_matches("sha256:").to_string(),
            );
        }
    }
    out
}

/// Writes beside the file and renames over it, so a crash never leaves half a file.
pub fn write_atomically(path: &std::path::Path, bytes: &[u8]) -> std::io::Result<()> {
    let mut tmp = path.as_os_str().to_owned();
    tmp.push(".sdbc.tmp");
    let tmp = std::path::PathBuf::from(tmp);
    let result = (|| {
        let mut f = std::fs::File::create(&tmp)?;
        if let Ok(meta) = std::fs::metadata(path) {
            f.set_permissions(meta.permissions())?;
        }
        f.write_all(bytes)?;
        f.sync_all()?;
        std::fs::rename(&tmp, path)
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}
