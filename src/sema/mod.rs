//! Whole-program semantics: load the file and its imports, check each
//! declaration against the schema, resolve every name, expand modules and
//! groups, and lower the program into the [`crate::model::Model`] with the
//! dependencies between its parts. The front end never gives up: the
//! result always carries every diagnostic found, and a model as complete
//! as the errors allow.

mod attrs;
mod checks;
mod collect;
mod decls;
mod eval;
mod fields;
mod fit;
mod funcs;
mod infra;
mod limits;
pub mod load;
mod loadtest;
mod members;
mod scope;
mod services;
mod ssh;
mod templates;
mod value;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crate::diag::{Diagnostic, Diagnostics};
use crate::model::{Model, SharedStr};
use crate::schema::Place;
use crate::span::{FileId, SourceMap, Span};
use crate::syntax::ParseCache;
use crate::syntax::ast::Item;

pub use eval::Env;
pub use load::{DiskReader, FileReader, STDLIB};
pub use scope::EntityKind;

/// A dependency between two parts of the model, with why it exists.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ModelDep {
    /// `(kind, model name)` of the part that waits (the name shared by
    /// every dependency of that part).
    pub from: (EntityKind, SharedStr),
    /// `(kind, model name)` of the part it waits for.
    pub to: (EntityKind, SharedStr),
    pub reason: DepReason,
    pub span: Span,
}

/// How the program says one part needs another.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DepReason {
    /// Listed in `after`.
    After,
    /// Named in a value.
    Reference,
    /// Mounts an NFS export of the disk.
    MountsNfs,
}

/// A name used somewhere and what it means (for the editor).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reference {
    pub use_span: Span,
    pub def_span: Span,
    pub name: String,
    pub kind: &'static str,
}

/// A declared name (for the editor's outline and go-to-definition).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Definition {
    pub name: String,
    pub kind: &'static str,
    pub span: Span,
    pub decl_span: Span,
}

/// What analysing a program produced.
#[derive(Debug, Default)]
pub struct Analysis {
    pub sources: SourceMap,
    pub root: FileId,
    pub model: Model,
    pub deps: Vec<ModelDep>,
    pub references: Vec<Reference>,
    pub definitions: Vec<Definition>,
    pub diagnostics: Vec<Diagnostic>,
}

impl Analysis {
    pub fn has_errors(&self) -> bool {
        self.diagnostics.iter().any(Diagnostic::is_error)
    }
}

/// Analyses a file on disk.
pub fn analyze_path(path: &Path, vars: &BTreeMap<String, String>) -> std::io::Result<Analysis> {
    let bytes = std::fs::read(path)?;
    let env = Env {
        vars: vars.clone(),
        getenv: Box::new(|k| std::env::var(k).ok()),
        reader: &DiskReader,
    };
    Ok(analyze_bytes(
        &path.display().to_string(),
        Some(path.to_path_buf()),
        bytes,
        &env,
    ))
}

/// Analyses a source given as bytes (from disk, stdin or an editor buffer).
pub fn analyze_bytes(name: &str, path: Option<PathBuf>, bytes: Vec<u8>, env: &Env) -> Analysis {
    analyze_bytes_reusing(name, path, bytes, env, None)
}

/// [`analyze_bytes`], parsing each file incrementally from its last parse
/// in `parses` (the editor's case: same result, less work after an edit).
pub fn analyze_bytes_reusing(
    name: &str,
    path: Option<PathBuf>,
    bytes: Vec<u8>,
    env: &Env,
    parses: Option<&ParseCache>,
) -> Analysis {
    let mut sources = SourceMap::new();
    let mut diags = Diagnostics::new();
    let root = load::decode(name, path.clone(), bytes, &mut sources, &mut diags);
    let program = load::load(root, &mut sources, env.reader, parses, &mut diags);
    let stack_default = path
        .as_ref()
        .and_then(|p| p.file_stem())
        .map(|s| s.to_string_lossy().to_string())
        .unwrap_or_else(|| String::from("stack"));
    let mut analysis = Analysis {
        root,
        ..Analysis::default()
    };
    run(
        &program,
        &sources,
        env,
        &stack_default,
        &mut analysis,
        &mut diags,
    );
    analysis.sources = sources;
    analysis.diagnostics = diags.into_sorted();
    analysis
}

fn run(
    program: &load::Program,
    sources: &SourceMap,
    env: &Env,
    stack_default: &str,
    out: &mut Analysis,
    diags: &mut Diagnostics,
) {
    let modules = decls::module_sigs(program.files.iter().flat_map(|(_, ast)| ast.items.iter()));
    for (file, ast) in &program.files {
        decls::check_items(
            &sources.get(*file).text,
            &ast.items,
            Place::Top,
            &modules,
            diags,
        );
    }
    let (symbols, _modules) = collect::collect(program, diags);
    let gce_decls: Vec<(&crate::syntax::ast::Decl, FileId)> = program
        .files
        .iter()
        .flat_map(|(file, ast)| {
            ast.items.iter().filter_map(move |i| match i {
                Item::Decl(d) if d.kind.name == "gce" => Some((d, *file)),
                _ => None,
            })
        })
        .collect();
    for (d, _) in gce_decls.iter().skip(1) {
        diags.push(
            Diagnostic::new(
                crate::diag::Code::DuplicateName,
                "`gce` is declared twice",
                d.kind.span,
                "declared again here",
            )
            .with_label(gce_decls[0].0.kind.span, "first declared here")
            .with_help("a program has one `gce` block; merge their settings"),
        );
    }
    let gce_decl = gce_decls.first().copied();
    let mut ev = eval::Evaluator::new(&symbols, sources, env);
    let (gce, stack) = infra::gce(&mut ev, gce_decl, stack_default);
    let mut model = Model {
        stack: sanitize_stack(&stack),
        gce,
        ..Model::default()
    };
    model.networks = infra::networks(&mut ev, &model.gce, &model.stack);
    infra::vm_facts(&mut ev, &model.networks);
    model.disks = infra::disks(&mut ev, &model.gce);
    model.addresses = infra::explicit_addresses(&mut ev, &model.gce);
    let lowered = infra::vms(&mut ev, &model.gce, &model.networks);
    model.vms = lowered.vms;
    model.addresses.extend(lowered.addresses);
    infra::nfs_mounts(&ev, &mut model.vms, &lowered.exports);
    model.firewalls = infra::firewalls(&mut ev, &model.networks);
    model.secrets = services::secrets(&mut ev);
    model.configs = services::configs(&mut ev);
    let (svcs, host_sysctl, service_spans) = services::services(&mut ev, &lowered.exports);
    model.services = svcs;
    services::apply_host_sysctl(&mut model.vms, &host_sysctl);
    model.outputs = services::outputs(&mut ev);
    model.loadtests = loadtest::loadtests(&mut ev, program);
    // Report problems in `let`s and `param`s even when nothing uses them.
    for id in symbols.ids().collect::<Vec<_>>() {
        let e = symbols.entity(id);
        if matches!(e.kind, scope::EntityKind::Let | scope::EntityKind::Param) {
            ev.value_of(id, e.span);
        }
    }
    let generated = crate::model::firewalls::generated(&model);
    model.firewalls.extend(generated);
    let mut names: BTreeMap<scope::EntityId, SharedStr> = BTreeMap::new();
    let mut kind_word = |id: scope::EntityId| -> (EntityKind, SharedStr) {
        let e = symbols.entity(id);
        let name = names
            .entry(id)
            .or_insert_with(|| SharedStr::from(&e.model_name));
        (e.kind, name.clone())
    };
    out.deps = ev
        .deps
        .iter()
        .map(|d| ModelDep {
            from: kind_word(d.from),
            to: kind_word(d.to),
            reason: d.reason,
            span: d.span,
        })
        .collect();
    out.references = ev
        .uses
        .iter()
        .map(|(span, id)| {
            let e = symbols.entity(*id);
            Reference {
                use_span: *span,
                def_span: e.span,
                name: e.qual_name.clone(),
                kind: e.kind.word(),
            }
        })
        .collect();
    out.definitions = symbols
        .ids()
        .map(|id| {
            let e = symbols.entity(id);
            Definition {
                name: e.qual_name.clone(),
                kind: e.kind.word(),
                span: e.span,
                decl_span: e.decl.span,
            }
        })
        .collect();
    diags.extend(ev.diags);
    checks::swarm(&model, &service_spans, diags);
    limits::check(&model, diags);
    out.model = model;
}

/// A stack name usable as a GCE label value and name prefix.
fn sanitize_stack(s: &str) -> String {
    let mut out: String = s
        .to_ascii_lowercase()
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' {
                c
            } else {
                '-'
            }
        })
        .collect();
    if !out.starts_with(|c: char| c.is_ascii_lowercase()) {
        out.insert_str(0, "s-");
    }
    out.truncate(40);
    out.trim_end_matches('-').to_string()
}
