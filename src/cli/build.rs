//! `sdbc build FILE -o DIR`: write the Compute Engine calls
//! (`gce/requests.json`), the boot configuration of every VM
//! (`cloud-init/NAME.yaml`, or `NAME.sh` for a startup script) and the Swarm
//! stack file (`stack.yml`). Byte-identical on every run. The files are
//! written to a temporary directory beside DIR and moved into place at the
//! end, so DIR is never left half-written.
//!
//! DIR is replaced only when it is new, empty, or holds exactly a previous
//! build: every build writes a manifest ([`MANIFEST`], the files it wrote),
//! and a directory with anything else in it is refused with nothing
//! deleted (pointed at a project folder, it would hold the program and its
//! secrets key).

use std::io::Write;
use std::path::{Path, PathBuf};

use super::common::{self, DiagFormat, ExitStatus};
use crate::diag::ColorChoice;
use crate::pipeline::Outputs;

#[derive(clap::Args, Debug)]
pub struct Args {
    /// The program.
    #[arg(value_name = "FILE")]
    pub file: PathBuf,
    /// The directory to write: new, empty, or a previous build (replaced
    /// as a whole); anything else is refused.
    #[arg(short = 'o', long = "out", value_name = "DIR")]
    pub out: PathBuf,
    /// Set a `param`: NAME=VALUE (repeatable).
    #[arg(long = "var", value_name = "NAME=VALUE", value_parser = common::parse_var)]
    pub vars: Vec<(String, String)>,
}

pub fn run(args: Args, color: ColorChoice) -> ExitStatus {
    let Some(checked) = common::load_checked(&args.file, &args.vars, color) else {
        return ExitStatus::Usage;
    };
    let sources = &checked.analysis.sources;
    if checked.analysis.has_errors() {
        common::emit(
            sources,
            &checked.analysis.diagnostics,
            DiagFormat::Human,
            color,
        );
        return ExitStatus::Errors;
    }
    common::emit(
        sources,
        &checked.analysis.diagnostics,
        DiagFormat::Human,
        color,
    );
    let digests = common::secret_digests(&args.file, &checked.analysis.model);
    let outputs = match crate::pipeline::build(&checked, &digests) {
        Ok(o) => o,
        Err(diags) => {
            common::emit(sources, &diags, DiagFormat::Human, color);
            return ExitStatus::Errors;
        }
    };
    if let Err(why) = replaceable(&args.out) {
        common::error_line(
            color,
            &format!(
                "refusing to write `{}`: {why}; nothing was deleted. Give an empty or new directory",
                args.out.display()
            ),
        );
        return ExitStatus::Usage;
    }
    match write_all(&args.out, &outputs) {
        Ok(n) => {
            let _ = writeln!(
                std::io::stderr(),
                "wrote {n} files to {}",
                args.out.display()
            );
            ExitStatus::Ok
        }
        Err(err) => {
            common::error_line(
                color,
                &format!("cannot write `{}`: {err}", args.out.display()),
            );
            ExitStatus::Usage
        }
    }
}

/// The file listing what a build wrote, in every build directory.
pub const MANIFEST: &str = ".sdbc-build";

/// Files under `dir`, relative, `/`-separated, sorted.
fn files_under(dir: &Path) -> std::io::Result<Vec<String>> {
    let mut out = Vec::new();
    let mut todo = vec![PathBuf::new()];
    while let Some(rel) = todo.pop() {
        for entry in std::fs::read_dir(dir.join(&rel))? {
            let entry = entry?;
            let path = rel.join(entry.file_name());
            if entry.file_type()?.is_dir() {
                todo.push(path);
            } else {
                out.push(path.to_string_lossy().replace('\\', "/"));
            }
        }
    }
    out.sort();
    Ok(out)
}

/// `Ok` when `out` may be replaced: missing, an empty directory, or a
/// directory holding only the files its build manifest lists.
fn replaceable(out: &Path) -> Result<(), String> {
    let meta = match std::fs::symlink_metadata(out) {
        Ok(m) => m,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(e.to_string()),
    };
    if !meta.is_dir() {
        return Err(String::from("it is not a directory"));
    }
    let files = files_under(out).map_err(|e| e.to_string())?;
    if files.is_empty() {
        return Ok(());
    }
    let Ok(manifest) = std::fs::read_to_string(out.join(MANIFEST)) else {
        return Err(format!(
            "it holds {} that no sdbc build wrote (no {MANIFEST} manifest), e.g. `{}`",
            common::plural(files.len(), "file"),
            files[0]
        ));
    };
    let listed: std::collections::BTreeSet<&str> = manifest.lines().collect();
    match files
        .iter()
        .find(|f| f.as_str() != MANIFEST && !listed.contains(f.as_str()))
    {
        Some(other) => Err(format!(
            "`{other}` was not written by the previous build (not in {MANIFEST})"
        )),
        None => Ok(()),
    }
}

fn write_all(out: &Path, o: &Outputs) -> std::io::Result<usize> {
    let parent = out
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    std::fs::create_dir_all(parent)?;
    let name = out
        .file_name()
        .map(|n| n.to_string_lossy().to_string())
        .unwrap_or_else(|| "out".into());
    let tmp = parent.join(format!(".{name}.sdbc-tmp-{}", std::process::id()));
    let result = write_tree(&tmp, o).and_then(|n| {
        let old = parent.join(format!(".{name}.sdbc-old-{}", std::process::id()));
        if out.exists() {
            std::fs::rename(out, &old)?;
        }
        std::fs::rename(&tmp, out)?;
        if old.exists() {
            std::fs::remove_dir_all(&old)?;
        }
        Ok(n)
    });
    if result.is_err() {
        let _ = std::fs::remove_dir_all(&tmp);
    }
    result
}

fn write_tree(dir: &Path, o: &Outputs) -> std::io::Result<usize> {
    std::fs::create_dir_all(dir.join("gce"))?;
    std::fs::create_dir_all(dir.join("cloud-init"))?;
    std::fs::write(
        dir.join("gce/requests.json"),
        crate::targets::gce::requests_json(&o.requests),
    )?;
    for (file, content) in o.boot.values() {
        std::fs::write(dir.join("cloud-init").join(file), content.as_bytes())?;
    }
    std::fs::write(dir.join("stack.yml"), &o.stack)?;
    let mut manifest = files_under(dir)?.join("\n");
    manifest.push('\n');
    std::fs::write(dir.join(MANIFEST), manifest)?;
    Ok(2 + o.boot.len())
}
