//! Loading a program: the root file, every file it imports (relative paths
//! on disk, `std/NAME` from the standard library embedded in the binary),
//! each parsed once. Import cycles and missing files are diagnostics.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crate::diag::{Code, Diagnostic, Diagnostics};
use crate::span::{FileId, SourceFile, SourceMap, Span};
use crate::syntax::ParseCache;
use crate::syntax::ast::{ExprKind, Item, SourceAst};

/// The standard library, embedded: `(import path, file name, text)`.
pub const STDLIB: &[(&str, &str, &str)] = &[
    (
        "std/redis_ha",
        "std/redis_ha.sdb",
        include_str!("../../stdlib/redis_ha.sdb"),
    ),
    (
        "std/elastic",
        "std/elastic.sdb",
        include_str!("../../stdlib/elastic.sdb"),
    ),
    (
        "std/postgres",
        "std/postgres.sdb",
        include_str!("../../stdlib/postgres.sdb"),
    ),
];

/// Every parsed file of a program, root first.
#[derive(Debug, Default)]
pub struct Program {
    pub files: Vec<(FileId, SourceAst)>,
}

impl Program {
    pub fn root(&self) -> Option<FileId> {
        self.files.first().map(|(id, _)| *id)
    }
}

/// Reads a file from disk, for imports; tests and the LSP swap it.
pub trait FileReader {
    fn read(&self, path: &Path) -> std::io::Result<Vec<u8>>;
}

pub struct DiskReader;

impl FileReader for DiskReader {
    fn read(&self, path: &Path) -> std::io::Result<Vec<u8>> {
        std::fs::read(path)
    }
}

/// Turns bytes into text, reporting invalid UTF-8 as a diagnostic at the first bad byte.
pub fn decode(
    file_name: &str,
    path: Option<PathBuf>,
    bytes: Vec<u8>,
    sources: &mut SourceMap,
    diags: &mut Diagnostics,
) -> FileId {
    match String::from_utf8(bytes) {
        Ok(text) => sources.add(SourceFile::new(file_name, path, text)),
        Err(err) => {
            let bad = err.utf8_error().valid_up_to();
            let text = String::from_utf8_lossy(err.as_bytes()).into_owned();
            let id = sources.add(SourceFile::new(file_name, path, text));
            diags.push(
                Diagnostic::new(
                    Code::InvalidUtf8,
                    "source is not valid UTF-8",
                    Span::new(id, bad, bad + '\u{FFFD}'.len_utf8()),
                    "this byte is not UTF-8",
                )
                .with_help("save the file as UTF-8"),
            );
            id
        }
    }
}

/// Parses the root (already in `sources`) and, transitively, its imports.
pub fn load(
    root: FileId,
    sources: &mut SourceMap,
    reader: &dyn FileReader,
    parses: Option<&ParseCache>,
    diags: &mut Diagnostics,
) -> Program {
    let mut loader = Loader {
        sources,
        reader,
        parses,
        diags,
        program: Program::default(),
        by_key: BTreeMap::new(),
        stack: Vec::new(),
    };
    loader.visit(root, key_of(loader.sources.get(root)));
    loader.program
}

struct Loader<'a> {
    sources: &'a mut SourceMap,
    reader: &'a dyn FileReader,
    /// Earlier parses to reuse (the editor's), by file key.
    parses: Option<&'a ParseCache>,
    diags: &'a mut Diagnostics,
    program: Program,
    /// Canonical key (std name or path) -> file, for files already loaded.
    by_key: BTreeMap<String, FileId>,
    /// Keys of the files being loaded, for cycle detection.
    stack: Vec<String>,
}

/// The key a file is known by while loading (and in a parse cache).
pub fn key_of(file: &SourceFile) -> String {
    match &file.path {
        Some(p) => std::fs::canonicalize(p)
            .unwrap_or_else(|_| p.clone())
            .display()
            .to_string(),
        None => file.name.clone(),
    }
}

impl Loader<'_> {
    fn visit(&mut self, id: FileId, key: String) {
        self.by_key.insert(key.clone(), id);
        let text = self.sources.get(id).text.clone();
        let (ast, parse_diags) = match self.parses {
            Some(cache) => cache.parse(&key, id, &text),
            None => crate::syntax::parse(id, &text),
        };
        self.stack.push(key);
        self.diags.extend(parse_diags);
        let imports: Vec<(String, Span)> = ast
            .items
            .iter()
            .filter_map(|item| match item {
                Item::Decl(d) if d.kind.name == "import" => {
                    let arg = d.positional_args().next()?;
                    match &arg.kind {
                        ExprKind::Str(_) => Some((arg.as_plain_str()?, arg.span)),
                        _ => None,
                    }
                }
                _ => None,
            })
            .collect();
        self.program.files.push((id, ast));
        for (path, span) in imports {
            self.import(id, &path, span);
        }
        self.stack.pop();
    }

    fn import(&mut self, from: FileId, path: &str, span: Span) {
        let Some((key, name, file_path, text)) = self.resolve(from, path, span) else {
            return;
        };
        if self.stack.contains(&key) {
            let chain: Vec<&str> = self.stack.iter().map(|k| short(k)).collect();
            self.diags.push(
                Diagnostic::new(
                    Code::ImportCycle,
                    format!("import cycle: {} -> {}", chain.join(" -> "), short(&key)),
                    span,
                    "this import closes the cycle",
                )
                .with_help("move what both files need into a third file that neither imports"),
            );
            return;
        }
        if self.by_key.contains_key(&key) {
            return;
        }
        let id = match text {
            Ok(bytes) => decode(&name, file_path, bytes, self.sources, self.diags),
            Err(()) => return,
        };
        self.visit(id, key);
    }

    #[allow(clippy::type_complexity)]
    fn resolve(
        &mut self,
        from: FileId,
        path: &str,
        span: Span,
    ) -> Option<(String, String, Option<PathBuf>, Result<Vec<u8>, ()>)> {
        if let Some(stdname) = path.strip_prefix("std/") {
            let wanted = format!("std/{}", stdname.trim_end_matches(".sdb"));
            return match STDLIB.iter().find(|(k, _, _)| *k == wanted) {
                Some((k, name, text)) => Some((
                    k.to_string(),
                    name.to_string(),
                    None,
                    Ok(text.as_bytes().to_vec()),
                )),
                None => {
                    let names = STDLIB.iter().map(|(k, _, _)| *k);
                    let mut d = Diagnostic::new(
                        Code::ImportNotFound,
                        format!("no standard module `{path}`"),
                        span,
                        "not in the standard library",
                    );
                    d = d.with_help(crate::diag::did_you_mean(&wanted, names).unwrap_or_else(
                        || {
                            format!(
                                "the standard library has {}",
                                STDLIB
                                    .iter()
                                    .map(|(k, _, _)| format!("`{k}`"))
                                    .collect::<Vec<_>>()
                                    .join(", ")
                            )
                        },
                    ));
                    self.diags.push(d);
                    None
                }
            };
        }
        let base = self
            .sources
            .get(from)
            .path
            .as_ref()
            .and_then(|p| p.parent().map(Path::to_path_buf))
            .unwrap_or_default();
        let mut full = base.join(path);
        if full.extension().is_none() {
            full.set_extension("sdb");
        }
        let key = std::fs::canonicalize(&full)
            .unwrap_or_else(|_| full.clone())
            .display()
            .to_string();
        if self.by_key.contains_key(&key) || self.stack.contains(&key) {
            return Some((key, String::new(), None, Err(())));
        }
        match self.reader.read(&full) {
            Ok(bytes) => Some((key, full.display().to_string(), Some(full), Ok(bytes))),
            Err(err) => {
                self.diags.push(
                    Diagnostic::new(Code::ImportNotFound, format!("cannot read `{}`: {err}", full.display()), span, "imported here")
                        .with_help("import paths are relative to the importing file; `std/NAME` is the standard library"),
                );
                None
            }
        }
    }
}

fn short(key: &str) -> &str {
    key.rsplit('/').next().unwrap_or(key)
}
