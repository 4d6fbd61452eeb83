//! Hover: for a reference, what it resolves to; for a kind or an attribute,
//! its documentation, type and default from the schema; for a catalog value,
//! what it is (a machine type's vCPUs and memory, a zone's region, whether
//! an image runs cloud-init, a disk type's sizes).

use lsp_types::{Hover, HoverContents, MarkupContent, MarkupKind};

use super::complete::{attr_doc, memory};
use super::snapshot::Snapshot;
use super::{convert, find, symbols};
use crate::schema::{self, KindSchema};
use crate::sema::Analysis;
use crate::span::Span;
use crate::syntax::ast::Decl;

/// The hover at byte `offset` of the analysed buffer.
pub fn hover(a: &Snapshot, offset: usize) -> Option<Hover> {
    let analysis = &a.analysis;
    let (text, span) = reference(analysis, offset).or_else(|| syntax(a, offset))?;
    let root = a.root();
    Some(Hover {
        contents: HoverContents::Markup(MarkupContent {
            kind: MarkupKind::Markdown,
            value: text,
        }),
        range: Some(convert::span_range(root, span)),
    })
}

/// A use of a name, or a declared name, under the cursor.
fn reference(analysis: &Analysis, offset: usize) -> Option<(String, Span)> {
    let root = analysis.root;
    let used = analysis
        .references
        .iter()
        .filter(|r| r.use_span.file == root && r.use_span.contains(offset))
        .min_by_key(|r| r.use_span.len());
    if let Some(r) = used {
        let text = format!(
            "`{}` **{}**\n\n{}",
            r.kind,
            r.name,
            declared_at(analysis, r.def_span)
        );
        return Some((text, r.use_span));
    }
    let def = analysis
        .definitions
        .iter()
        .find(|d| d.span.file == root && d.span.contains(offset))?;
    let mut text = format!("`{}` **{}**", def.kind, def.name);
    if let Some(k) = schema::kinds_named(def.kind).next() {
        text.push_str(&format!("\n\n{}", k.doc));
    }
    Some((text, def.span))
}

/// "Declared on line 12" (of another file, if it is in one).
fn declared_at(analysis: &Analysis, span: Span) -> String {
    match analysis.sources.try_get(span.file) {
        Some(f) => {
            let (line, _) = f.line_col(span.start as usize);
            if span.file == analysis.root {
                format!("declared on line {line}")
            } else {
                format!("declared in `{}` on line {line}", f.name)
            }
        }
        None => String::from("declared elsewhere"),
    }
}

/// A kind, an attribute key or a catalog value under the cursor.
fn syntax(a: &Snapshot, offset: usize) -> Option<(String, Span)> {
    let chain = find::decl_chain(&a.ast().items, offset);
    let decl = *chain.last()?;
    let place = find::place_of(&chain);
    let schema = schema::kind(&decl.kind.name, place);
    if decl.kind.span.contains(offset) {
        let text = match schema {
            Some(k) => kind_doc(k),
            None => module_doc(&a.analysis, &decl.kind.name)?,
        };
        return Some((text, decl.kind.span));
    }
    if let Some(found) = attr_key(decl, schema, offset) {
        return Some(found);
    }
    let expr = find::expr_in_decl(decl, offset)?;
    let word = find::catalog_word(expr)?;
    Some((catalog(&word)?, expr.span))
}

fn attr_key(decl: &Decl, schema: Option<&KindSchema>, offset: usize) -> Option<(String, Span)> {
    let key = decl
        .named_args()
        .map(|(k, _)| k)
        .chain(decl.body_attrs().map(|a| &a.key))
        .find(|k| k.span.contains(offset))?;
    let text = match schema.and_then(|k| k.attr(&key.name)) {
        Some(attr) => format!(
            "**{}** (attribute of `{}`)\n\n{}",
            key.name,
            decl.kind.name,
            attr_doc(attr)
        ),
        None => format!("**{}**: parameter of module `{}`", key.name, decl.kind.name),
    };
    Some((text, key.span))
}

fn kind_doc(k: &KindSchema) -> String {
    let mut s = format!("**{}**: {}", k.name, k.doc);
    for p in k.positional {
        s.push_str(&format!("\n\n- positional `{}`: {}", p.name, p.doc));
    }
    if !k.attrs.is_empty() {
        s.push_str("\n\nAttributes:");
        for at in k.attrs {
            let def = at
                .default
                .map(|d| format!(" (default `{d}`)"))
                .unwrap_or_default();
            s.push_str(&format!("\n- `{}`: {}{def}", at.name, at.doc));
        }
    }
    if !k.example.is_empty() {
        s.push_str(&format!("\n\n```sdb\n{}\n```", k.example));
    }
    s
}

fn module_doc(analysis: &Analysis, name: &str) -> Option<String> {
    let sig = symbols::module_sig(analysis, name)?;
    let params: Vec<String> = sig
        .params
        .iter()
        .map(|(p, d)| match d {
            Some(d) => format!("{p} = {d}"),
            None => p.clone(),
        })
        .collect();
    Some(format!(
        "module **{name}**({})\n\n{}",
        params.join(", "),
        declared_at(analysis, sig.span)
    ))
}

/// What a catalog name is, if it is one.
pub fn catalog(word: &str) -> Option<String> {
    use crate::catalog as c;
    if let Some(m) = c::machine_type(word) {
        let family = c::family(&m.family)
            .map(|f| format!(" ({})", f.description))
            .unwrap_or_default();
        let shared = if m.is_shared_core() {
            format!(", shared core ({} sustained)", m.sustained_cpus())
        } else {
            String::new()
        };
        return Some(format!(
            "**{}**: machine type, {} vCPUs, {} memory{shared}\n\nfamily `{}`{family}",
            m.name,
            m.vcpus,
            memory(m.memory_mb),
            m.family
        ));
    }
    if let Some(z) = c::zone(word) {
        let location = c::region(&z.region)
            .map(|r| format!(" ({})", r.location))
            .unwrap_or_default();
        return Some(format!(
            "**{}**: zone in region `{}`{location}",
            z.name, z.region
        ));
    }
    if let Some(r) = c::region(word) {
        return Some(format!(
            "**{}**: region, {}\n\nzones: {}",
            r.name,
            r.location,
            r.zones.join(", ")
        ));
    }
    if let Some(i) = c::image(word) {
        let ci = if i.cloud_init {
            "runs cloud-init"
        } else {
            "does **not** run cloud-init"
        };
        return Some(format!(
            "**{}**: image family, {}\n\n{ci}; {}",
            i.path, i.description, i.arch
        ));
    }
    let d = c::disk_type(word)?;
    Some(format!(
        "**{}**: disk type, {} ({} to {} GB)",
        d.name, d.description, d.min_gb, d.max_gb
    ))
}
