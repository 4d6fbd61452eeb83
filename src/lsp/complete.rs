//! Completion: kinds at the start of a statement, attributes of the
//! current kind after its subject or in its body, catalog values (machine
//! types, zones, regions, images, disk types) and enum words where the
//! schema's type wants them, and the names in scope elsewhere.

use lsp_types::{
    CompletionItem, CompletionItemKind, CompletionTextEdit, Documentation, MarkupContent,
    MarkupKind, Range, TextEdit,
};

use super::context::{self, Context, Tok};
use super::{convert, symbols};
use crate::schema::{self, ArgSchema, KindSchema, Place, Subject, Ty};
use crate::sema::Analysis;

/// What the cursor's place asks for.
#[derive(Debug)]
enum Spot {
    Nothing,
    StatementStart,
    Subject(String),
    Member(String),
    Value { kind: Option<String>, key: String },
    Args { kind: String, positional: usize },
    Expr,
}

/// Completion items at byte `offset` of `text`.
pub fn complete(analysis: &Analysis, text: &str, offset: usize) -> Vec<CompletionItem> {
    let ctx = context::at(text, offset);
    let range = Range::new(
        convert::position_at(text, ctx.prefix_start),
        convert::position_at(text, offset),
    );
    let mut out = Out {
        items: Vec::new(),
        range,
        in_string: ctx.in_string,
    };
    match spot(&ctx) {
        Spot::Nothing => {}
        Spot::StatementStart => statement_start(analysis, &ctx, &mut out),
        Spot::Subject(kind) => subject(analysis, &ctx, &kind, &mut out),
        Spot::Member(base) => members(analysis, &base, &mut out),
        Spot::Value { kind, key } => value(analysis, &ctx, kind.as_deref(), &key, &mut out),
        Spot::Args { kind, positional } => args(analysis, &ctx, &kind, positional, &mut out),
        Spot::Expr => names(analysis, None, &mut out),
    }
    out.items
}

fn spot(ctx: &Context) -> Spot {
    let s = &ctx.stmt;
    if ctx.in_comment {
        return Spot::Nothing;
    }
    if let [.., Tok::Ident(_), Tok::Punct('.')] = s.as_slice() {
        return Spot::Member(dotted_base(s));
    }
    let Some(head) = ctx.head() else {
        return if s.is_empty() && !ctx.in_string {
            Spot::StatementStart
        } else {
            Spot::Expr
        };
    };
    let attr_line = s.get(1) == Some(&Tok::Punct('='));
    let kind = (!attr_line).then(|| head.to_string());
    if let Some(key) = last_key(s, ctx.nesting > 0) {
        let kind = if attr_line { None } else { kind };
        return Spot::Value { kind, key };
    }
    if attr_line || ctx.nesting > 0 || ctx.in_string && s.len() < 2 {
        return Spot::Expr;
    }
    if s.len() == 1 && !ctx.in_string {
        return Spot::Subject(head.to_string());
    }
    let has_subject = kind_schema(ctx, head).is_none_or(|k| k.subject != Subject::None);
    Spot::Args {
        kind: head.to_string(),
        positional: count_positional(s, has_subject),
    }
}

/// `a.b.` before the cursor, as `a.b`.
fn dotted_base(s: &[Tok]) -> String {
    let mut parts = Vec::new();
    let mut i = s.len() - 1;
    while i >= 1 && s[i] == Tok::Punct('.') {
        match &s[i - 1] {
            Tok::Ident(n) => parts.push(n.as_str()),
            _ => break,
        }
        if i < 2 {
            break;
        }
        i -= 2;
    }
    parts.reverse();
    parts.join(".")
}

/// The key whose value the cursor is in: just after `key =`, or anywhere
/// inside brackets opened after it.
fn last_key(s: &[Tok], nested: bool) -> Option<String> {
    let pair = |w: &[Tok]| match w {
        [Tok::Ident(k), Tok::Punct('=')] => Some(k.clone()),
        _ => None,
    };
    match s {
        [.., Tok::Ident(k), Tok::Punct('=')] => Some(k.clone()),
        [.., Tok::Ident(k)] if k == "at" && s.len() > 1 => Some(k.clone()),
        _ if nested => s.windows(2).rev().find_map(pair),
        _ => None,
    }
}

/// Positional arguments already written after the subject.
fn count_positional(s: &[Tok], has_subject: bool) -> usize {
    let mut i = 1;
    if has_subject {
        i = skip_term(s, 1);
        while s.get(i) == Some(&Tok::Punct(',')) {
            i = skip_term(s, i + 1);
        }
    }
    if s.get(i) == Some(&Tok::Punct('=')) {
        i = skip_term(s, i + 1);
    }
    let mut n = 0;
    while i < s.len() {
        match (&s[i], s.get(i + 1)) {
            (Tok::Ident(_), Some(Tok::Punct('='))) => i = skip_term(s, i + 2),
            (Tok::Ident(k), _) if k == "at" => i = skip_term(s, i + 1),
            _ => {
                n += 1;
                i = skip_term(s, i);
            }
        }
    }
    n
}

/// The index after one term (a name or literal with its postfixes, or a bracketed group).
fn skip_term(s: &[Tok], mut i: usize) -> usize {
    if i >= s.len() {
        return i;
    }
    i = skip_group(s, i);
    loop {
        match (s.get(i), s.get(i + 1)) {
            (Some(Tok::Punct('.')), Some(Tok::Ident(_))) => i += 2,
            (Some(Tok::Punct('[' | '(')), _) => i = skip_group(s, i),
            _ => return i,
        }
    }
}

fn skip_group(s: &[Tok], i: usize) -> usize {
    if !matches!(s[i], Tok::Punct('(' | '[' | '{')) {
        return i + 1;
    }
    let mut depth = 0usize;
    for (j, t) in s.iter().enumerate().skip(i) {
        match t {
            Tok::Punct('(' | '[' | '{') => depth += 1,
            Tok::Punct(')' | ']' | '}') => {
                depth = depth.saturating_sub(1);
                if depth == 0 {
                    return j + 1;
                }
            }
            _ => {}
        }
    }
    s.len()
}

/// Where the statements of the innermost block stand.
fn place(ctx: &Context) -> Place {
    ctx.block().map_or(Place::Top, Place::inside)
}

/// The schema of the innermost block the cursor is in.
fn block_schema(ctx: &Context) -> Option<&'static KindSchema> {
    let outer = ctx
        .blocks
        .len()
        .checked_sub(2)
        .map_or(Place::Top, |i| Place::inside(&ctx.blocks[i]));
    ctx.block().and_then(|b| schema::kind(b, outer))
}

/// The schema of a top-level kind, whatever block the cursor is in.
fn kind_schema(ctx: &Context, kind: &str) -> Option<&'static KindSchema> {
    schema::kind(kind, place(ctx)).or_else(|| schema::kind(kind, Place::Top))
}

struct Out {
    items: Vec<CompletionItem>,
    range: Range,
    in_string: bool,
}

impl Out {
    fn push(&mut self, label: &str, kind: CompletionItemKind, detail: String, insert: String) {
        self.items.push(CompletionItem {
            label: label.to_string(),
            kind: Some(kind),
            detail: (!detail.is_empty()).then_some(detail),
            text_edit: Some(CompletionTextEdit::Edit(TextEdit::new(self.range, insert))),
            ..CompletionItem::default()
        });
    }

    fn doc(&mut self, doc: &str) {
        if let Some(last) = self.items.last_mut() {
            last.documentation = Some(Documentation::MarkupContent(MarkupContent {
                kind: MarkupKind::Markdown,
                value: doc.to_string(),
            }));
        }
    }

    /// A value written as a quoted string (bare inside a string already).
    fn quoted(&mut self, label: &str, kind: CompletionItemKind, detail: String) {
        let insert = if self.in_string {
            label.to_string()
        } else {
            format!("\"{label}\"")
        };
        self.push(label, kind, detail, insert);
    }
}

fn statement_start(analysis: &Analysis, ctx: &Context, out: &mut Out) {
    let block = ctx.block();
    if block != Some("gce") {
        for k in schema::KINDS.iter().filter(|k| k.place == place(ctx)) {
            out.push(
                k.name,
                CompletionItemKind::KEYWORD,
                k.doc.to_string(),
                k.name.to_string(),
            );
            out.doc(&format!("{}\n\n```sdb\n{}\n```", k.doc, k.example));
        }
    }
    if place(ctx) == Place::Top && block != Some("gce") {
        for m in symbols::modules(analysis) {
            let detail = format!("module {}", m.name);
            out.push(&m.name, CompletionItemKind::CLASS, detail, m.name.clone());
        }
    }
    if let Some(k) = block_schema(ctx) {
        for a in k.attrs {
            out.push(
                a.name,
                CompletionItemKind::PROPERTY,
                a.ty.describe(),
                format!("{} = ", a.name),
            );
            out.doc(&attr_doc(a));
        }
    }
}

fn subject(analysis: &Analysis, ctx: &Context, kind: &str, out: &mut Out) {
    if let Some(k) = kind_schema(ctx, kind) {
        match k.subject {
            Subject::Refs(kinds) => names(analysis, Some(kinds), out),
            Subject::None => args(analysis, ctx, kind, 0, out),
            _ => {}
        }
    }
}

fn members(analysis: &Analysis, base: &str, out: &mut Out) {
    for (name, def) in symbols::members(analysis, base) {
        out.push(
            name,
            CompletionItemKind::FIELD,
            def.kind.to_string(),
            name.to_string(),
        );
    }
    let root = base.split('[').next().unwrap_or(base);
    if let Some(def) = symbols::definition(analysis, root) {
        for f in symbols::fields_of(def.kind) {
            out.push(
                f,
                CompletionItemKind::FIELD,
                format!("field of a {}", def.kind),
                f.to_string(),
            );
        }
    }
}

fn value(analysis: &Analysis, ctx: &Context, kind: Option<&str>, key: &str, out: &mut Out) {
    let schema = match kind {
        Some(k) => kind_schema(ctx, k),
        None => block_schema(ctx),
    };
    match schema.and_then(|k| k.attr(key).map(|a| (k, a))) {
        Some((k, a)) => typed_values(analysis, k, a, out),
        None if !ctx.in_string => names(analysis, None, out),
        None => {}
    }
}

fn args(analysis: &Analysis, ctx: &Context, kind: &str, positional: usize, out: &mut Out) {
    if let Some(k) = kind_schema(ctx, kind) {
        if let Some(a) = k.positional.get(positional) {
            typed_values(analysis, k, a, out);
        }
        if !ctx.in_string {
            for a in k.attrs {
                let insert = if a.name == "at" {
                    String::from("at ")
                } else {
                    format!("{}=", a.name)
                };
                out.push(
                    a.name,
                    CompletionItemKind::PROPERTY,
                    a.ty.describe(),
                    insert,
                );
                out.doc(&attr_doc(a));
            }
        }
    } else if let Some(sig) = symbols::module_sig(analysis, kind) {
        for (p, default) in &sig.params {
            let detail = match default {
                Some(d) => format!("parameter of {kind} (default {d})"),
                None => format!("parameter of {kind}"),
            };
            out.push(p, CompletionItemKind::PROPERTY, detail, format!("{p}="));
        }
    }
}

/// Values of the type an argument wants.
fn typed_values(analysis: &Analysis, k: &KindSchema, a: &ArgSchema, out: &mut Out) {
    match (k.name, a.name, a.ty) {
        (_, "machine_type", _) => machine_types(out),
        (_, "zone", _) => zones(out),
        (_, "region", _) => regions(out),
        ("vm" | "gce", "image", _) => images(out),
        ("disk", "type", _) => disk_types(out),
        (_, _, Ty::Enum(words)) if !out.in_string => {
            for w in words {
                out.push(
                    w,
                    CompletionItemKind::ENUM_MEMBER,
                    a.doc.to_string(),
                    w.to_string(),
                );
            }
        }
        (_, _, Ty::Bool) if !out.in_string => {
            for w in ["true", "false"] {
                out.push(w, CompletionItemKind::VALUE, String::new(), w.to_string());
            }
        }
        (_, _, Ty::Ref(kinds)) => names(analysis, Some(kinds), out),
        (_, _, Ty::ListOf(Ty::Ref(kinds))) => names(analysis, Some(kinds), out),
        _ if !out.in_string => names(analysis, None, out),
        _ => {}
    }
}

fn machine_types(out: &mut Out) {
    for m in crate::catalog::machine_types() {
        let detail = format!("{} vCPU, {}", m.vcpus, memory(m.memory_mb));
        out.push(
            &m.name,
            CompletionItemKind::ENUM_MEMBER,
            detail,
            m.name.clone(),
        );
    }
}

fn zones(out: &mut Out) {
    for z in crate::catalog::zones() {
        out.quoted(
            &z.name,
            CompletionItemKind::ENUM_MEMBER,
            format!("zone in {}", z.region),
        );
    }
}

fn regions(out: &mut Out) {
    for r in crate::catalog::regions() {
        out.quoted(&r.name, CompletionItemKind::ENUM_MEMBER, r.location.clone());
    }
}

fn images(out: &mut Out) {
    for i in crate::catalog::images() {
        let ci = if i.cloud_init {
            "cloud-init"
        } else {
            "no cloud-init"
        };
        out.quoted(
            &i.path,
            CompletionItemKind::ENUM_MEMBER,
            format!("{} ({ci})", i.description),
        );
    }
}

fn disk_types(out: &mut Out) {
    for d in crate::catalog::disk_types() {
        let detail = format!("{} ({}-{} GB)", d.description, d.min_gb, d.max_gb);
        out.push(
            &d.name,
            CompletionItemKind::ENUM_MEMBER,
            detail,
            d.name.clone(),
        );
    }
}

fn names(analysis: &Analysis, kinds: Option<&[&str]>, out: &mut Out) {
    if out.in_string {
        return;
    }
    let mut seen = std::collections::HashSet::new();
    for d in symbols::names(analysis, kinds) {
        if seen.insert(d.name.as_str()) {
            out.push(
                &d.name,
                CompletionItemKind::VARIABLE,
                d.kind.to_string(),
                d.name.clone(),
            );
        }
    }
}

/// `8 GB`, `614 MB`: memory as people read it.
pub fn memory(mb: u64) -> String {
    if mb >= 1024 && mb.is_multiple_of(1024) {
        format!("{} GB", mb / 1024)
    } else if mb >= 1024 {
        format!("{:.1} GB", mb as f64 / 1024.0)
    } else {
        format!("{mb} MB")
    }
}

/// The documentation of an attribute: what it is, its type and default.
pub fn attr_doc(a: &ArgSchema) -> String {
    let mut s = format!("{}\n\nType: {}", a.doc, a.ty.describe());
    if let Some(d) = a.default {
        s.push_str(&format!("\n\nDefault: `{d}`"));
    } else if a.required {
        s.push_str("\n\nRequired.");
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spot_of(text: &str) -> String {
        format!("{:?}", spot(&context::at(text, text.len())))
    }

    #[test]
    fn spots() {
        assert_eq!(spot_of("vm a e2"), "Args { kind: \"vm\", positional: 0 }");
        assert_eq!(
            spot_of("vm a[2] e2-micro sw"),
            "Args { kind: \"vm\", positional: 1 }"
        );
        assert_eq!(
            spot_of("vm a e2-micro swarm="),
            "Value { kind: Some(\"vm\"), key: \"swarm\" }"
        );
        assert_eq!(
            spot_of("service s after=[a, "),
            "Value { kind: Some(\"service\"), key: \"after\" }"
        );
        assert_eq!(
            spot_of("gce {\n region = "),
            "Value { kind: None, key: \"region\" }"
        );
        assert_eq!(spot_of("env X = redis."), "Member(\"redis\")");
        assert_eq!(spot_of("service s image=\"x\" {\n  "), "StatementStart");
        assert_eq!(spot_of("nfs_export "), "Subject(\"nfs_export\")");
    }
}
