//! The open editor buffers: their text (kept in step with full and
//! incremental changes) and a [`FileReader`] that serves imports from open
//! buffers first and from disk otherwise, so an unsaved edit to an imported
//! file shows at once in the files that import it.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use lsp_types::{TextDocumentContentChangeEvent, Uri};

use super::convert;
use crate::sema::FileReader;

/// One open buffer.
#[derive(Debug, Clone)]
pub struct Document {
    pub text: String,
    pub version: i32,
    /// The file on disk it edits, for `file://` URIs.
    pub path: Option<PathBuf>,
}

impl Document {
    /// The name diagnostics use for it: the path, else the URI.
    pub fn name(&self, uri: &Uri) -> String {
        match &self.path {
            Some(p) => p.display().to_string(),
            None => uri.as_str().to_string(),
        }
    }

    /// Applies changes in order; a change without a range replaces the text.
    pub fn apply(&mut self, changes: Vec<TextDocumentContentChangeEvent>, version: i32) {
        for change in changes {
            match change.range {
                None => self.text = change.text,
                Some(range) => {
                    let start = convert::offset_at(&self.text, range.start);
                    let end = convert::offset_at(&self.text, range.end).max(start);
                    self.text.replace_range(start..end, &change.text);
                }
            }
        }
        self.version = version;
    }
}

/// Every open buffer, by URI and by (normalised) path.
#[derive(Debug, Default, Clone)]
pub struct Documents {
    docs: HashMap<Uri, Document>,
    by_path: HashMap<PathBuf, Uri>,
}

impl Documents {
    pub fn open(&mut self, uri: Uri, text: String, version: i32) {
        let path = convert::uri_to_path(&uri);
        if let Some(p) = &path {
            self.by_path.insert(convert::normalize(p), uri.clone());
        }
        self.docs.insert(
            uri,
            Document {
                text,
                version,
                path,
            },
        );
    }

    pub fn close(&mut self, uri: &Uri) {
        if let Some(p) = self.docs.remove(uri).and_then(|doc| doc.path) {
            self.by_path.remove(&convert::normalize(&p));
        }
    }

    pub fn get(&self, uri: &Uri) -> Option<&Document> {
        self.docs.get(uri)
    }

    pub fn get_mut(&mut self, uri: &Uri) -> Option<&mut Document> {
        self.docs.get_mut(uri)
    }

    pub fn is_open(&self, uri: &Uri) -> bool {
        self.docs.contains_key(uri)
    }

    /// The open buffer editing `path`, if any.
    pub fn by_path(&self, path: &Path) -> Option<&Document> {
        let uri = self.by_path.get(&convert::normalize(path))?;
        self.docs.get(uri)
    }
}

/// Reads imports from open buffers first, then from disk.
pub struct OverlayReader<'a> {
    pub docs: &'a Documents,
}

impl FileReader for OverlayReader<'_> {
    fn read(&self, path: &Path) -> std::io::Result<Vec<u8>> {
        match self.docs.by_path(path) {
            Some(doc) => Ok(doc.text.as_bytes().to_vec()),
            None => std::fs::read(path),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use lsp_types::{Position, Range};

    #[test]
    fn incremental_changes_apply_in_order() {
        let mut d = Document {
            text: "ab\ncd\n".into(),
            version: 1,
            path: None,
        };
        let edit = |l1, c1, l2, c2, t: &str| TextDocumentContentChangeEvent {
            range: Some(Range::new(Position::new(l1, c1), Position::new(l2, c2))),
            range_length: None,
            text: t.into(),
        };
        d.apply(vec![edit(0, 1, 1, 1, "X"), edit(0, 0, 0, 0, ">")], 2);
        assert_eq!(d.text, ">aXd\n");
        assert_eq!(d.version, 2);
    }
}
