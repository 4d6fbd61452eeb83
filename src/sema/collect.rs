//! Collecting names: every named declaration of every file becomes an
//! entity of the top scope; every module instance gets a scope of its own
//! holding what the module's body declares. Duplicate names and recursive
//! modules are reported here.

use std::collections::BTreeMap;

use super::load::Program;
use super::scope::{Binding, Entity, EntityId, EntityKind, Scope, ScopeId, Symbols};
use crate::diag::{Code, Diagnostic, Diagnostics};
use crate::span::FileId;
use crate::syntax::ast::{Decl, Item};

pub const TOP: ScopeId = ScopeId(0);

/// How deep module instances may nest (instances inside module bodies).
const MAX_MODULE_DEPTH: usize = 16;

pub fn collect<'a>(
    program: &'a Program,
    diags: &mut Diagnostics,
) -> (Symbols<'a>, BTreeMap<String, (&'a Decl, FileId)>) {
    let mut symbols = Symbols::default();
    symbols.add_scope(Scope::default());
    let mut modules: BTreeMap<String, (&'a Decl, FileId)> = BTreeMap::new();
    for (file, ast) in &program.files {
        for item in &ast.items {
            if let Item::Decl(d) = item
                && d.kind.name == "module"
                && let Some(name) = d.name()
            {
                modules.entry(name.name.clone()).or_insert((d, *file));
            }
        }
    }
    let mut c = Collector {
        symbols,
        modules: &modules,
        diags,
        stack: Vec::new(),
    };
    for (file, ast) in &program.files {
        c.items(*file, &ast.items, TOP);
    }
    (c.symbols, modules)
}

struct Collector<'a, 'm, 'd> {
    symbols: Symbols<'a>,
    modules: &'m BTreeMap<String, (&'a Decl, FileId)>,
    diags: &'d mut Diagnostics,
    /// Modules being expanded, for recursion detection.
    stack: Vec<String>,
}

impl<'a> Collector<'a, '_, '_> {
    fn items(&mut self, file: FileId, items: &'a [Item], scope: ScopeId) {
        for item in items {
            let Item::Decl(d) = item else { continue };
            if let Some(kind) = EntityKind::from_kind(&d.kind.name) {
                if kind == EntityKind::Module && scope != TOP {
                    continue; // reported by the declaration checks
                }
                for subject in &d.subjects {
                    let Some(name) = subject_name(subject) else {
                        continue;
                    };
                    self.declare(file, d, kind, name, subject.span, scope);
                }
            } else if self.modules.contains_key(&d.kind.name) {
                self.instance(file, d, scope);
            }
        }
    }

    fn declare(
        &mut self,
        file: FileId,
        d: &'a Decl,
        kind: EntityKind,
        name: &'a crate::syntax::ast::Ident,
        _span: crate::span::Span,
        scope: ScopeId,
    ) -> Option<EntityId> {
        if let Some(prev) = self.symbols.lookup(scope, &name.name) {
            let prev = self.symbols.entity(prev);
            self.diags.push(
                Diagnostic::new(
                    Code::DuplicateName,
                    format!("`{}` is declared twice", name.name),
                    name.span,
                    "declared again here",
                )
                .with_label(
                    prev.span,
                    format!("first declared here as a {}", prev.kind.word()),
                )
                .with_help("give each declaration its own name"),
            );
            return None;
        }
        let s = self.symbols.scope(scope);
        let (qual_name, model_name) = (
            prefixed(&s.qual_prefix, &name.name),
            prefixed(&s.model_prefix, &name.name),
        );
        let id = self.symbols.add_entity(Entity {
            kind,
            qual_name,
            model_name,
            decl: d,
            file,
            scope,
            inner: None,
            span: name.span,
        });
        self.symbols
            .scope_mut(scope)
            .names
            .insert(name.name.as_str(), id);
        Some(id)
    }

    fn instance(&mut self, file: FileId, d: &'a Decl, scope: ScopeId) {
        let Some(name) = d.name() else { return };
        let Some(id) = self.declare(file, d, EntityKind::Instance, name, name.span, scope) else {
            return;
        };
        let module_name = d.kind.name.clone();
        let Some(&(module, module_file)) = self.modules.get(&module_name) else {
            return;
        };
        if self.stack.contains(&module_name) || self.stack.len() >= MAX_MODULE_DEPTH {
            let chain = self.stack.join(" -> ");
            self.diags.push(
                Diagnostic::new(
                    Code::ModuleRecursion,
                    format!(
                        "module `{module_name}` instantiates itself ({chain} -> {module_name})"
                    ),
                    d.kind.span,
                    "recursive instance",
                )
                .with_help(
                    "a module cannot contain an instance of itself, directly or through others",
                ),
            );
            return;
        }
        let (qual, model) = {
            let e = self.symbols.entity(id);
            (format!("{}.", e.qual_name), format!("{}-", e.model_name))
        };
        let mut inner = Scope {
            qual_prefix: qual,
            model_prefix: model,
            owner: Some(id),
            ..Scope::default()
        };
        let inner_id = ScopeId(self.symbols.scopes.len() as u32);
        for p in module.params.iter().flatten() {
            let given = d
                .named_args()
                .find(|(k, _)| k.name == p.name.name)
                .map(|(_, v)| Binding { expr: v, scope });
            let default = p.default.as_ref().map(|e| Binding {
                expr: e,
                scope: inner_id,
            });
            match given.or(default) {
                Some(b) => {
                    inner.params.insert(p.name.name.clone(), b);
                }
                None => {
                    inner.unset.insert(p.name.name.clone());
                }
            }
        }
        let inner_id = self.symbols.add_scope(inner);
        self.symbols.entities[id.0 as usize].inner = Some(inner_id);
        self.stack.push(module_name);
        if let Some(body) = &module.body {
            self.items(module_file, &body.items, inner_id);
        }
        self.stack.pop();
    }
}

/// `prefix` then `name` (an entity's qualified or model name), without
/// `format!`: collection names every declaration.
fn prefixed(prefix: &str, name: &str) -> String {
    let mut out = String::with_capacity(prefix.len() + name.len());
    out.push_str(prefix);
    out.push_str(name);
    out
}

fn subject_name(e: &crate::syntax::ast::Expr) -> Option<&crate::syntax::ast::Ident> {
    use crate::syntax::ast::ExprKind;
    match &e.kind {
        ExprKind::Name(n) => Some(n),
        ExprKind::Index { base, .. } => base.as_name(),
        _ => None,
    }
}
