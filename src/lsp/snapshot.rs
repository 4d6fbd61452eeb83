//! One analysed buffer: exactly what `sdbc check` runs
//! (`pipeline::check(sema::analyze_*)`), on the buffer's text with imports
//! read through the open buffers, plus the root file's syntax tree, parsed
//! on demand for the requests that need it. Files are parsed incrementally
//! from their last parse.

use std::cell::OnceCell;
use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;

use lsp_types::Uri;

use super::convert;
use super::docs::{Document, Documents, OverlayReader};
use crate::sema::{Analysis, Env};
use crate::span::SourceFile;
use crate::syntax::ParseCache;
use crate::syntax::ast::SourceAst;

/// The analysis of one open buffer at one version.
#[derive(Debug)]
pub struct Snapshot {
    pub version: i32,
    /// When the analysis started, in the server's count of analyses: a
    /// higher stamp saw newer text.
    pub stamp: u64,
    pub analysis: Analysis,
    ast: OnceCell<SourceAst>,
    parses: Arc<ParseCache>,
}

impl Snapshot {
    /// Analyses `doc` as `sdbc check` would analyse the file it edits.
    pub fn new(
        uri: &Uri,
        doc: &Document,
        docs: &Documents,
        stamp: u64,
        parses: &Arc<ParseCache>,
    ) -> Snapshot {
        let reader = OverlayReader { docs };
        let env = Env {
            vars: BTreeMap::new(),
            getenv: Box::new(|k| std::env::var(k).ok()),
            reader: &reader,
        };
        let analysis = crate::sema::analyze_bytes_reusing(
            &doc.name(uri),
            doc.path.clone(),
            doc.text.as_bytes().to_vec(),
            &env,
            Some(parses),
        );
        Snapshot {
            version: doc.version,
            stamp,
            analysis: crate::pipeline::check(analysis),
            ast: OnceCell::new(),
            parses: Arc::clone(parses),
        }
    }

    /// The buffer's own file.
    pub fn root(&self) -> &SourceFile {
        self.analysis.sources.get(self.analysis.root)
    }

    pub fn text(&self) -> &str {
        &self.root().text
    }

    /// The buffer's syntax tree (what parsed of it), with the analysis's spans.
    pub fn ast(&self) -> &SourceAst {
        self.ast.get_or_init(|| {
            let key = crate::sema::load::key_of(self.root());
            self.parses.parse(&key, self.analysis.root, self.text()).0
        })
    }

    /// Whether the program read the file at `path` (as an import).
    pub fn reads(&self, path: &Path) -> bool {
        let wanted = convert::normalize(path);
        self.analysis
            .sources
            .files()
            .skip(1)
            .any(|(_, f)| f.path.as_deref().map(convert::normalize) == Some(wanted.clone()))
    }
}
