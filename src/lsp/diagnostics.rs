//! Diagnostics for the editor: the analysis's own [`crate::diag::Diagnostic`]s
//! (the very ones `sdbc check --format json` prints), each sent to the URI of
//! the file its primary span lies in. Those in the embedded standard
//! library, which has no URI, are shown on the line that imports it.

use std::collections::BTreeMap;

use lsp_types::{DiagnosticRelatedInformation, DiagnosticSeverity, NumberOrString, Range, Uri};

use super::convert;
use crate::diag::{Diagnostic, Severity};
use crate::sema::Analysis;
use crate::span::{FileId, SourceMap};

/// Every file of the program with a URI, mapped to its diagnostics
/// (possibly none, so that stale ones are cleared).
pub fn by_uri(analysis: &Analysis, root_uri: &Uri) -> BTreeMap<Uri, Vec<lsp_types::Diagnostic>> {
    let sources = &analysis.sources;
    let mut uris: BTreeMap<FileId, Uri> = BTreeMap::new();
    for (id, file) in sources.files() {
        let uri = if id == analysis.root {
            Some(root_uri.clone())
        } else {
            file.path.as_deref().and_then(convert::path_to_uri)
        };
        if let Some(uri) = uri {
            uris.insert(id, uri);
        }
    }
    let mut out: BTreeMap<Uri, Vec<lsp_types::Diagnostic>> =
        uris.values().map(|u| (u.clone(), Vec::new())).collect();
    for d in &analysis.diagnostics {
        let file = d.primary.span.file;
        match uris.get(&file) {
            Some(uri) => {
                let range = match sources.try_get(file) {
                    Some(f) => convert::span_range(f, d.primary.span),
                    None => Range::default(),
                };
                let lsp = to_lsp(sources, d, range, d.message.clone(), Some(uri));
                out.entry(uri.clone()).or_default().push(lsp);
            }
            None => {
                let lsp = embedded(analysis, d, root_uri);
                out.entry(root_uri.clone()).or_default().push(lsp);
            }
        }
    }
    out
}

/// A diagnostic in a file without a URI, placed on the import that brought it in.
fn embedded(analysis: &Analysis, d: &Diagnostic, root_uri: &Uri) -> lsp_types::Diagnostic {
    let sources = &analysis.sources;
    let (name, line, col) = match sources.try_get(d.primary.span.file) {
        Some(f) => {
            let (l, c) = f.line_col(d.primary.span.start as usize);
            (f.name.clone(), l, c)
        }
        None => (String::from("<unknown>"), 1, 1),
    };
    let root = sources.get(analysis.root);
    let key = format!("\"{}\"", name.trim_end_matches(".sdb"));
    let at = root
        .text
        .find(&key)
        .or_else(|| root.text.find("import"))
        .unwrap_or(0);
    let start = convert::position_at(&root.text, at);
    let end = match root.text[at..].find('\n') {
        Some(n) => convert::position_at(&root.text, at + n),
        None => convert::position_at(&root.text, root.text.len()),
    };
    let message = format!("{name}:{line}:{col}: {}", d.message);
    to_lsp(sources, d, Range::new(start, end), message, Some(root_uri))
}

fn to_lsp(
    sources: &SourceMap,
    d: &Diagnostic,
    range: Range,
    message: String,
    uri: Option<&Uri>,
) -> lsp_types::Diagnostic {
    let mut related: Vec<DiagnosticRelatedInformation> = d
        .secondary
        .iter()
        .filter_map(|l| {
            Some(DiagnosticRelatedInformation {
                location: convert::span_location(sources, l.span)?,
                message: l.message.clone(),
            })
        })
        .collect();
    if let (Some(help), Some(uri)) = (&d.help, uri) {
        related.push(DiagnosticRelatedInformation {
            location: lsp_types::Location::new(uri.clone(), range),
            message: format!("help: {help}"),
        });
    }
    lsp_types::Diagnostic {
        range,
        severity: Some(match d.severity {
            Severity::Error => DiagnosticSeverity::ERROR,
            Severity::Warning => DiagnosticSeverity::WARNING,
        }),
        code: Some(NumberOrString::String(d.code.as_str().to_string())),
        source: Some(String::from("sdbc")),
        message,
        related_information: (!related.is_empty()).then_some(related),
        ..lsp_types::Diagnostic::default()
    }
}
