//! The one diagnostic model shared by `check`, `build`, `plan` and the LSP.
//!
//! A [`Diagnostic`] has a stable [`Code`] from the table of codes, a severity, a
//! terse message, one primary label, any number of secondary labels and an
//! optional help sentence. Phases never stop at the first problem: they push
//! into a [`Diagnostics`] sink and carry on. Output is sorted (file, offset,
//! code) so that it is byte-stable.

mod codes;
mod render;

pub use codes::{CODES, Code, CodeInfo};
pub use render::{ColorChoice, JsonDiagnostic, JsonLabel, render_human, render_json, to_json};

use crate::span::Span;

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Error,
    Warning,
}

/// A span with a short message attached to it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Label {
    pub span: Span,
    pub message: String,
}

impl Label {
    pub fn new(span: Span, message: impl Into<String>) -> Self {
        Label {
            span,
            message: message.into(),
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Diagnostic {
    pub code: Code,
    pub severity: Severity,
    pub message: String,
    pub primary: Label,
    pub secondary: Vec<Label>,
    pub help: Option<String>,
}

impl Diagnostic {
    /// A diagnostic with the code's default severity.
    pub fn new(
        code: Code,
        message: impl Into<String>,
        span: Span,
        label: impl Into<String>,
    ) -> Self {
        Diagnostic {
            code,
            severity: code.info().severity,
            message: message.into(),
            primary: Label::new(span, label),
            secondary: Vec::new(),
            help: None,
        }
    }

    pub fn with_help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(help.into());
        self
    }

    pub fn with_label(mut self, span: Span, message: impl Into<String>) -> Self {
        self.secondary.push(Label::new(span, message));
        self
    }

    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }

    fn sort_key(&self) -> (Span, &'static str, &str) {
        (self.primary.span, self.code.as_str(), &self.message)
    }
}

/// A sink that phases push diagnostics into.
#[derive(Clone, Debug, Default)]
pub struct Diagnostics {
    items: Vec<Diagnostic>,
}

impl Diagnostics {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn push(&mut self, d: Diagnostic) {
        self.items.push(d);
    }

    pub fn extend(&mut self, other: impl IntoIterator<Item = Diagnostic>) {
        self.items.extend(other);
    }

    pub fn has_errors(&self) -> bool {
        self.items.iter().any(Diagnostic::is_error)
    }

    pub fn error_count(&self) -> usize {
        self.items.iter().filter(|d| d.is_error()).count()
    }

    pub fn warning_count(&self) -> usize {
        self.items.len() - self.error_count()
    }

    pub fn len(&self) -> usize {
        self.items.len()
    }

    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    pub fn iter(&self) -> impl Iterator<Item = &Diagnostic> {
        self.items.iter()
    }

    /// Sorted by file, position and code, with exact duplicates removed.
    pub fn into_sorted(mut self) -> Vec<Diagnostic> {
        self.items.sort_by(|a, b| a.sort_key().cmp(&b.sort_key()));
        // One problem per code and place: a check reached twice (for each
        // member of a group, or by two phases) reports once.
        self.items
            .dedup_by(|a, b| a.code == b.code && a.primary.span == b.primary.span);
        self.items
    }
}

impl IntoIterator for Diagnostics {
    type Item = Diagnostic;
    type IntoIter = std::vec::IntoIter<Diagnostic>;
    fn into_iter(self) -> Self::IntoIter {
        self.into_sorted().into_iter()
    }
}

/// The closest candidate to `name` (for "did you mean" help), if any is close.
///
/// Scores by normalised Damerau-Levenshtein similarity, counting a
/// candidate that starts with `name` as close (`n2-standard` finds
/// `n2-standard-2`).
pub fn closest<'a>(name: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    let mut best: Option<(f64, &'a str)> = None;
    for candidate in candidates {
        // Edit distance finds dropped letters; Jaro-Winkler finds swapped ones.
        let mut score = strsim::normalized_damerau_levenshtein(name, candidate)
            .max(strsim::jaro_winkler(name, candidate) * 0.9);
        if !name.is_empty() && candidate.starts_with(name) {
            score = score.max(0.7);
        }
        if score >= 0.7 && best.is_none_or(|(b, _)| score > b) {
            best = Some((score, candidate));
        }
    }
    best.map(|(_, c)| c)
}

/// `help: did you mean `x`?` when a close candidate exists.
pub fn did_you_mean<'a>(
    name: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> Option<String> {
    closest(name, candidates).map(|c| format!("did you mean `{c}`?"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn closest_finds_typos_only() {
        let c = ["e2-standard-2", "e2-standard-4", "n2-standard-2"];
        assert_eq!(closest("e2-standrd-2", c), Some("e2-standard-2"));
        assert_eq!(closest("zzz", c), None);
    }
}
