//! What the analysis knows about names, shaped for the editor: the names
//! in scope (optionally of some kinds), the members of module instances,
//! the fields a reference has, and the signature of user modules.

use crate::sema::{Analysis, Definition};
use crate::span::Span;

/// Kinds a plain reference can never usefully name.
const NOT_REFERABLE: &[&str] = &["module", "output"];

/// Definitions a reference may name, of `kinds` if given.
pub fn names<'a>(
    analysis: &'a Analysis,
    kinds: Option<&'a [&'a str]>,
) -> impl Iterator<Item = &'a Definition> + 'a {
    analysis.definitions.iter().filter(move |d| match kinds {
        Some(ks) => ks.contains(&d.kind),
        None => !NOT_REFERABLE.contains(&d.kind),
    })
}

/// The next name component of every definition under `base.` (`redis.` gives `proxy`).
pub fn members<'a>(analysis: &'a Analysis, base: &str) -> Vec<(&'a str, &'a Definition)> {
    let prefix = format!("{base}.");
    let mut out: Vec<(&str, &Definition)> = analysis
        .definitions
        .iter()
        .filter_map(|d| {
            let rest = d.name.strip_prefix(&prefix)?;
            Some((rest.split('.').next().unwrap_or(rest), d))
        })
        .collect();
    out.sort_by_key(|(n, _)| *n);
    out.dedup_by_key(|(n, _)| *n);
    out
}

/// The fields a reference to this kind of entity has.
pub fn fields_of(kind: &str) -> &'static [&'static str] {
    match kind {
        "vm" => &["internal_ip", "external_ip", "name", "nfs"],
        "secret" => &["path", "name"],
        "service" => &["host", "name"],
        "address" => &["address", "name"],
        "module instance" => &[],
        _ => &["name"],
    }
}

/// The definition called exactly `name`.
pub fn definition<'a>(analysis: &'a Analysis, name: &str) -> Option<&'a Definition> {
    analysis.definitions.iter().find(|d| d.name == name)
}

/// A user module: its parameters (`name`, default as written) and where it is declared.
#[derive(Debug, Clone)]
pub struct ModuleSig {
    pub params: Vec<(String, Option<String>)>,
    pub span: Span,
}

/// The signature of the module called `name`, if one is declared.
pub fn module_sig(analysis: &Analysis, name: &str) -> Option<ModuleSig> {
    let def = analysis
        .definitions
        .iter()
        .find(|d| d.kind == "module" && d.name == name)?;
    let text = analysis.sources.snippet(def.decl_span);
    let (ast, _) = crate::syntax::parse(def.decl_span.file, text);
    let decl = ast.items.iter().find_map(|i| match i {
        crate::syntax::ast::Item::Decl(d) if d.kind.name == "module" => Some(d),
        _ => None,
    })?;
    let params = decl
        .params
        .iter()
        .flatten()
        .map(|p| {
            let default = p
                .default
                .as_ref()
                .and_then(|e| text.get(e.span.range()))
                .map(str::to_string);
            (p.name.name.clone(), default)
        })
        .collect();
    Some(ModuleSig {
        params,
        span: def.span,
    })
}

/// Every module declared in the program.
pub fn modules(analysis: &Analysis) -> impl Iterator<Item = &Definition> {
    analysis.definitions.iter().filter(|d| d.kind == "module")
}
