//! Rendering diagnostics: graphical (miette) for people, JSON for tools.
//!
//! The graphical form uses colour only when asked to (`ColorChoice`), which
//! the CLI resolves from the terminal and `NO_COLOR`. Labels that point into
//! another file than the primary one are shown as notes, since a miette
//! report has one source.

use std::fmt::Write as _;
use std::sync::Arc;

use miette::{GraphicalReportHandler, GraphicalTheme, LabeledSpan, NamedSource, SourceSpan};
use serde::Serialize;

use super::{Diagnostic, Severity};
use crate::span::{SourceMap, Span};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ColorChoice {
    Always,
    Never,
}

/// One diagnostic in the `--format json` shape (1-based lines and columns).
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct JsonDiagnostic {
    pub code: &'static str,
    pub severity: Severity,
    pub message: String,
    pub help: Option<String>,
    pub file: String,
    pub line: usize,
    pub column: usize,
    pub end_line: usize,
    pub end_column: usize,
    pub labels: Vec<JsonLabel>,
}

#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct JsonLabel {
    pub message: String,
    pub primary: bool,
    pub file: String,
    pub line: usize,
    pub column: usize,
    pub end_line: usize,
    pub end_column: usize,
}

struct Position {
    file: String,
    line: usize,
    column: usize,
    end_line: usize,
    end_column: usize,
}

fn position(sources: &SourceMap, span: Span) -> Position {
    match sources.try_get(span.file) {
        Some(f) => {
            let (line, column) = f.line_col(span.start as usize);
            let (end_line, end_column) = f.line_col(span.end as usize);
            Position {
                file: f.name.clone(),
                line,
                column,
                end_line,
                end_column,
            }
        }
        None => Position {
            file: String::from("<unknown>"),
            line: 1,
            column: 1,
            end_line: 1,
            end_column: 1,
        },
    }
}

pub fn to_json(sources: &SourceMap, d: &Diagnostic) -> JsonDiagnostic {
    let p = position(sources, d.primary.span);
    let label = |l: &super::Label, primary: bool| {
        let p = position(sources, l.span);
        JsonLabel {
            message: l.message.clone(),
            primary,
            file: p.file,
            line: p.line,
            column: p.column,
            end_line: p.end_line,
            end_column: p.end_column,
        }
    };
    let mut labels = vec![label(&d.primary, true)];
    labels.extend(d.secondary.iter().map(|l| label(l, false)));
    JsonDiagnostic {
        code: d.code.as_str(),
        severity: d.severity,
        message: d.message.clone(),
        help: d.help.clone(),
        file: p.file,
        line: p.line,
        column: p.column,
        end_line: p.end_line,
        end_column: p.end_column,
        labels,
    }
}

/// All diagnostics as one pretty JSON array, ending in a newline.
pub fn render_json(sources: &SourceMap, diags: &[Diagnostic]) -> String {
    let all: Vec<JsonDiagnostic> = diags.iter().map(|d| to_json(sources, d)).collect();
    let mut out = serde_json::to_string_pretty(&all).expect("diagnostics always serialize");
    out.push('\n');
    out
}

/// The graphical form of every diagnostic, `width` columns wide.
pub fn render_human(
    sources: &SourceMap,
    diags: &[Diagnostic],
    color: ColorChoice,
    width: usize,
) -> String {
    let theme = match color {
        ColorChoice::Always => GraphicalTheme::unicode(),
        ColorChoice::Never => GraphicalTheme::unicode_nocolor(),
    };
    let handler = GraphicalReportHandler::new_themed(theme)
        .with_width(width)
        .with_links(false);
    let mut out = String::new();
    for d in diags {
        let report = MietteReport::new(sources, d);
        if handler.render_report(&mut out, &report).is_err() {
            let _ = writeln!(out, "{}: {}", d.code, d.message);
        }
        out.push('\n');
    }
    out
}

/// Adapter from our model to miette's trait.
#[derive(Debug)]
struct MietteReport {
    code: &'static str,
    severity: miette::Severity,
    message: String,
    help: Option<String>,
    labels: Vec<LabeledSpan>,
    source: NamedSource<Arc<str>>,
}

impl MietteReport {
    fn new(sources: &SourceMap, d: &Diagnostic) -> Self {
        let file = d.primary.span.file;
        let (name, text) = match sources.try_get(file) {
            Some(f) => (f.name.clone(), f.text.clone()),
            None => (String::from("<unknown>"), Arc::from("")),
        };
        let mut labels = vec![LabeledSpan::new_primary_with_span(
            non_empty(&d.primary.message),
            source_span(d.primary.span),
        )];
        let mut notes = Vec::new();
        for l in &d.secondary {
            if l.span.file == file {
                labels.push(LabeledSpan::new_with_span(
                    non_empty(&l.message),
                    source_span(l.span),
                ));
            } else {
                let p = position(sources, l.span);
                notes.push(format!("{}:{}:{}: {}", p.file, p.line, p.column, l.message));
            }
        }
        let mut help = d.help.clone();
        if !notes.is_empty() {
            let joined = notes.join("\n");
            help = Some(match help {
                Some(h) => format!("{h}\n{joined}"),
                None => joined,
            });
        }
        MietteReport {
            code: d.code.as_str(),
            severity: match d.severity {
                Severity::Error => miette::Severity::Error,
                Severity::Warning => miette::Severity::Warning,
            },
            message: d.message.clone(),
            help,
            labels,
            source: NamedSource::new(name, text),
        }
    }
}

fn non_empty(s: &str) -> Option<String> {
    (!s.is_empty()).then(|| s.to_string())
}

fn source_span(span: Span) -> SourceSpan {
    SourceSpan::new((span.start as usize).into(), span.len())
}

impl std::fmt::Display for MietteReport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for MietteReport {}

impl miette::Diagnostic for MietteReport {
    fn code<'a>(&'a self) -> Option<Box<dyn std::fmt::Display + 'a>> {
        Some(Box::new(self.code))
    }
    fn severity(&self) -> Option<miette::Severity> {
        Some(self.severity)
    }
    fn help<'a>(&'a self) -> Option<Box<dyn std::fmt::Display + 'a>> {
        self.help
            .as_ref()
            .map(|h| Box::new(h) as Box<dyn std::fmt::Display>)
    }
    fn source_code(&self) -> Option<&dyn miette::SourceCode> {
        Some(&self.source)
    }
    fn labels(&self) -> Option<Box<dyn Iterator<Item = LabeledSpan> + '_>> {
        Some(Box::new(self.labels.iter().cloned()))
    }
}
