//! Go to definition, find references (both from the analysis's record of
//! every name use), document symbols (an outline of the declarations, with
//! nested bodies) and formatting through `syntax::fmt`.

use lsp_types::{DocumentSymbol, Location, Position, Range, SymbolKind, TextEdit};

use super::snapshot::Snapshot;
use super::{convert, find};
use crate::sema::Analysis;
use crate::span::{SourceFile, Span};
use crate::syntax::ast::{Decl, Item};

/// The declaration the name under the cursor means.
pub fn definition(a: &Snapshot, offset: usize) -> Option<Location> {
    let (target, name) = target(a, offset)?;
    locate(&a.analysis, target, &name)
}

/// Every use of the name under the cursor (and its declaration, if asked).
pub fn references(a: &Snapshot, offset: usize, with_decl: bool) -> Vec<Location> {
    let analysis = &a.analysis;
    let Some((target, name)) = target(a, offset) else {
        return Vec::new();
    };
    let mut spans: Vec<Span> = Vec::new();
    if with_decl {
        spans.push(target);
    }
    spans.extend(
        analysis
            .references
            .iter()
            .filter(|r| r.def_span == target)
            .map(|r| r.use_span),
    );
    spans.sort();
    spans.dedup();
    let mut out: Vec<Location> = spans
        .into_iter()
        .filter_map(|s| convert::span_location(&analysis.sources, s))
        .collect();
    if out.is_empty() && with_decl {
        out.extend(locate(analysis, target, &name));
    }
    out
}

/// The declaration span (and name) that the cursor's name means.
fn target(a: &Snapshot, offset: usize) -> Option<(Span, String)> {
    let analysis = &a.analysis;
    let root = analysis.root;
    if let Some(r) = analysis
        .references
        .iter()
        .filter(|r| r.use_span.file == root && r.use_span.contains(offset))
        .min_by_key(|r| r.use_span.len())
    {
        return Some((r.def_span, r.name.clone()));
    }
    if let Some(d) = analysis
        .definitions
        .iter()
        .find(|d| d.span.file == root && d.span.contains(offset))
    {
        return Some((d.span, d.name.clone()));
    }
    // The kind of a module instance means the module.
    let chain = find::decl_chain(&a.ast().items, offset);
    let decl = chain.last().filter(|d| d.kind.span.contains(offset))?;
    let m = analysis
        .definitions
        .iter()
        .find(|d| d.kind == "module" && d.name == decl.kind.name)?;
    Some((m.span, m.name.clone()))
}

/// A location for a declaration; one in the embedded standard library
/// (which has no URI) is shown at the module instance that declares it.
fn locate(analysis: &Analysis, span: Span, name: &str) -> Option<Location> {
    if let Some(l) = convert::span_location(&analysis.sources, span) {
        return Some(l);
    }
    let mut prefix = name;
    while let Some((head, _)) = prefix.rsplit_once('.') {
        prefix = head;
        let found = analysis.definitions.iter().find(|d| d.name == prefix);
        if let Some(l) = found.and_then(|d| convert::span_location(&analysis.sources, d.span)) {
            return Some(l);
        }
    }
    None
}

/// The outline of the buffer's declarations.
pub fn symbols(a: &Snapshot) -> Vec<DocumentSymbol> {
    let root = a.root();
    a.ast()
        .items
        .iter()
        .filter_map(|i| match i {
            Item::Decl(d) => Some(symbol(d, root)),
            Item::Attr(_) => None,
        })
        .collect()
}

#[allow(deprecated)] // `DocumentSymbol::deprecated` must still be written.
fn symbol(d: &Decl, root: &SourceFile) -> DocumentSymbol {
    let (name, selection) = match (d.subjects.first(), d.subjects.last()) {
        (Some(first), Some(last)) => {
            let span = first.span.to(last.span);
            (snippet(root, span), span)
        }
        _ => match d.positional_args().next() {
            Some(e) if d.kind.name == "import" => (snippet(root, e.span), e.span),
            _ => (d.kind.name.clone(), d.kind.span),
        },
    };
    let children: Vec<DocumentSymbol> = d.body_decls().map(|c| symbol(c, root)).collect();
    DocumentSymbol {
        name: if name.trim().is_empty() {
            d.kind.name.clone()
        } else {
            name
        },
        detail: Some(d.kind.name.clone()),
        kind: symbol_kind(&d.kind.name),
        tags: None,
        deprecated: None,
        range: convert::span_range(root, d.span),
        selection_range: convert::span_range(root, selection),
        children: (!children.is_empty()).then_some(children),
    }
}

fn snippet(root: &SourceFile, span: Span) -> String {
    root.text.get(span.range()).unwrap_or("").to_string()
}

fn symbol_kind(kind: &str) -> SymbolKind {
    match kind {
        "import" => SymbolKind::PACKAGE,
        "param" => SymbolKind::PROPERTY,
        "let" => SymbolKind::VARIABLE,
        "output" => SymbolKind::EVENT,
        "module" => SymbolKind::CLASS,
        "gce" => SymbolKind::NAMESPACE,
        "network" | "firewall" | "address" => SymbolKind::INTERFACE,
        "vm" | "disk" => SymbolKind::STRUCT,
        "secret" | "config" => SymbolKind::KEY,
        "service" => SymbolKind::FUNCTION,
        "env" => SymbolKind::CONSTANT,
        "volume" | "mount" | "bind" | "nfs_export" => SymbolKind::FILE,
        "healthcheck" => SymbolKind::METHOD,
        _ => SymbolKind::OBJECT,
    }
}

/// The edit that formats the whole buffer; none when it has syntax errors
/// (formatting what did not parse would lose text) or is already formatted.
pub fn format(text: &str) -> Option<Vec<TextEdit>> {
    let (ast, diags) = crate::syntax::parse(crate::span::FileId(0), text);
    if diags.iter().any(|d| d.is_error()) {
        return None;
    }
    let formatted = crate::syntax::fmt::format(&ast, text);
    if formatted == text {
        return Some(Vec::new());
    }
    let end = convert::position_at(text, text.len());
    Some(vec![TextEdit::new(
        Range::new(Position::new(0, 0), end),
        formatted,
    )])
}
