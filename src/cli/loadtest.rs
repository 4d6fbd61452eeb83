//! `sdbc loadtest FILE [NAME]`: run a load test declared in a program,
//! print the per-step table and the assertions, and write the report;
//! `sdbc loadtest --compare A.json B.json` compares two runs. Exit 0 (ran,
//! assertions held), 1 (errors in the program, or an assertion failed),
//! 2 (usage, unreadable files), 130 (interrupted).

use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};

use super::common::{self, DiagFormat, ExitStatus};
use crate::diag::ColorChoice;
use crate::loadreport::{self, Recording, Summary};
use crate::model::loadtest::{LoadModel, LoadTest};

#[derive(clap::Args, Debug)]
pub struct Args {
    /// The program declaring the load test.
    #[arg(value_name = "FILE", required_unless_present = "compare")]
    pub file: Option<PathBuf>,
    /// Which `loadtest` to run (needed when the program declares several).
    #[arg(value_name = "NAME")]
    pub name: Option<String>,
    /// Users of the closed model (overrides `users`).
    #[arg(long)]
    pub users: Option<u64>,
    /// Flows started per second (overrides `rate`, and makes the test open).
    #[arg(long)]
    pub rate: Option<f64>,
    /// Time over which users start, e.g. `30s` (overrides `ramp`).
    #[arg(long, value_parser = parse_duration)]
    pub ramp: Option<u64>,
    /// How long to run, e.g. `2m` (overrides `duration`).
    #[arg(long, value_parser = parse_duration)]
    pub duration: Option<u64>,
    /// Flows per user, or in all for the open model (overrides `iterations`).
    #[arg(long)]
    pub iterations: Option<u64>,
    /// Base URL of the requests (overrides `target`).
    #[arg(long, value_name = "URL")]
    pub target: Option<String>,
    /// Write `index.html`, `samples.jtl` and `summary.json` here.
    #[arg(long, value_name = "DIR")]
    pub report: Option<PathBuf>,
    /// Compare two `summary.json` files instead of running.
    #[arg(long, num_args = 2, value_names = ["A", "B"], conflicts_with = "file")]
    pub compare: Option<Vec<PathBuf>>,
    /// Set a `param`: NAME=VALUE (repeatable).
    #[arg(long = "var", value_name = "NAME=VALUE", value_parser = common::parse_var)]
    pub vars: Vec<(String, String)>,
}

/// `30s`, `500ms`, `2m` in milliseconds.
fn parse_duration(s: &str) -> Result<u64, String> {
    let digits = s.trim_end_matches(|c: char| c.is_ascii_alphabetic());
    let unit = crate::syntax::duration_unit_millis(&s[digits.len()..]);
    match (digits.parse::<u64>(), unit) {
        (Ok(n), Some(f)) => n.checked_mul(f).ok_or_else(|| format!("`{s}` is too long")),
        _ => Err(format!("`{s}` is not a duration such as `30s` or `500ms`")),
    }
}

pub fn run(args: Args, color: ColorChoice) -> ExitStatus {
    if let Some(files) = &args.compare {
        return compare(&files[0], &files[1], color);
    }
    let Some(path) = &args.file else {
        return ExitStatus::Usage; // clap requires FILE without --compare
    };
    let Some(checked) = common::load_checked(path, &args.vars, color) else {
        return ExitStatus::Usage;
    };
    let analysis = &checked.analysis;
    common::emit(
        &analysis.sources,
        &analysis.diagnostics,
        DiagFormat::Human,
        color,
    );
    if analysis.has_errors() {
        return ExitStatus::Errors;
    }
    let test = match choose(&analysis.model.loadtests, args.name.as_deref()) {
        Ok(t) => overridden(t, &args),
        Err(msg) => {
            common::error_line(color, &format!("{}: {msg}", path.display()));
            return ExitStatus::Usage;
        }
    };
    let Some(target) = args.target.clone().or_else(|| test.target.clone()) else {
        common::error_line(
            color,
            &format!(
                "load test `{}` has no `target`: give --target URL",
                test.name
            ),
        );
        return ExitStatus::Usage;
    };
    let rt = match super::deploy::runtime(color) {
        Ok(rt) => rt,
        Err(status) => return status,
    };
    let live = std::io::stderr().is_terminal();
    let outcome = rt.block_on(async {
        tokio::select! {
            r = crate::exec::loadtest::run(&test, &target, |p| progress(p, live)) => Some(r),
            _ = tokio::signal::ctrl_c() => None,
        }
    });
    if live {
        let _ = writeln!(std::io::stderr());
    }
    let recording = match outcome {
        None => {
            common::error_line(color, "interrupted");
            return ExitStatus::Interrupted;
        }
        Some(Err(e)) => {
            common::error_line(color, &e.to_string());
            return ExitStatus::Usage;
        }
        Some(Ok(r)) => r,
    };
    finish(&test, &recording, args.report.as_deref(), color)
}

/// The test named, or the only one.
fn choose<'a>(tests: &'a [LoadTest], name: Option<&str>) -> Result<&'a LoadTest, String> {
    let names = || {
        tests
            .iter()
            .map(|t| format!("`{}`", t.name))
            .collect::<Vec<_>>()
            .join(", ")
    };
    match (name, tests) {
        (_, []) => Err("declares no `loadtest`".into()),
        (None, [one]) => Ok(one),
        (None, _) => Err(format!(
            "declares several load tests ({}): name one",
            names()
        )),
        (Some(n), _) => tests
            .iter()
            .find(|t| t.name == n)
            .ok_or_else(|| format!("no load test `{n}` (there is {})", names())),
    }
}

fn overridden(t: &LoadTest, args: &Args) -> LoadTest {
    let mut t = t.clone();
    if let Some(rate) = args.rate {
        let connections = match t.model {
            LoadModel::Open { connections, .. } => connections,
            LoadModel::Closed { users } => users.max(1),
        };
        t.model = LoadModel::Open { rate, connections };
    }
    if let (Some(n), LoadModel::Closed { users }) = (args.users, &mut t.model) {
        *users = n;
    }
    if let (Some(n), LoadModel::Open { connections, .. }) = (args.users, &mut t.model) {
        *connections = n.max(1);
    }
    t.ramp_ms = args.ramp.unwrap_or(t.ramp_ms);
    t.duration_ms = args.duration.or(t.duration_ms);
    t.iterations = args.iterations.unwrap_or(t.iterations);
    t
}

fn progress(p: &crate::exec::loadtest::Progress, live: bool) {
    let line = format!(
        "{:>6.1}s  users {:>5}  requests {:>8}  errors {:>6}  {:>7} req/s  p95 {:>8.1} ms",
        p.elapsed_s, p.active, p.requests, p.errors, p.per_second, p.p95_ms
    );
    let mut err = std::io::stderr();
    if live {
        let _ = write!(err, "\r{line}");
    } else if (p.elapsed_s.round() as u64).is_multiple_of(10) {
        let _ = writeln!(err, "{line}");
    }
}

fn finish(
    test: &LoadTest,
    rec: &Recording,
    report: Option<&Path>,
    color: ColorChoice,
) -> ExitStatus {
    let summary = loadreport::summarize(rec);
    let mut out = std::io::stdout();
    let _ = write!(out, "{}", loadreport::table(&summary));
    let outcomes = loadreport::check_asserts(&summary, &test.asserts);
    for o in &outcomes {
        let verdict = if o.passed { "ok" } else { "FAILED" };
        let _ = writeln!(out, "assert {} {}: {} {verdict}", o.what, o.limit, o.figure);
    }
    if let Some(dir) = report
        && let Err(e) = write_report(dir, rec, &summary)
    {
        common::error_line(
            color,
            &format!("cannot write the report to `{}`: {e}", dir.display()),
        );
        return ExitStatus::Usage;
    }
    if outcomes.iter().any(|o| !o.passed) {
        ExitStatus::Errors
    } else {
        ExitStatus::Ok
    }
}

fn write_report(dir: &Path, rec: &Recording, summary: &Summary) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)?;
    let json = serde_json::to_string_pretty(summary).expect("a summary always serializes");
    std::fs::write(dir.join("summary.json"), json + "\n")?;
    std::fs::write(dir.join("samples.jtl"), loadreport::jtl(rec))?;
    std::fs::write(dir.join("index.html"), loadreport::html(rec, summary))
}

fn compare(a: &Path, b: &Path, color: ColorChoice) -> ExitStatus {
    let read = |p: &Path| -> Result<Summary, String> {
        let text = std::fs::read_to_string(p)
            .map_err(|e| format!("cannot read `{}`: {e}", p.display()))?;
        serde_json::from_str(&text)
            .map_err(|e| format!("`{}` is not a summary.json: {e}", p.display()))
    };
    match (read(a), read(b)) {
        (Ok(x), Ok(y)) => {
            let _ = write!(std::io::stdout(), "{}", loadreport::compare(&x, &y));
            ExitStatus::Ok
        }
        (Err(e), _) | (_, Err(e)) => {
            common::error_line(color, &e);
            ExitStatus::Usage
        }
    }
}
