//! Source files and the one span type used by every phase.
//!
//! A [`Span`] is a file id plus a byte range. Spans are made from pest
//! positions in exactly one place (`syntax::lower`) and moved in one place
//! (`syntax::relocate`, for items reused after an edit); every later phase
//! only copies them. [`SourceMap`] owns the text of every file read in a run and
//! turns byte offsets into 1-based line/column pairs for rendering.

use std::path::PathBuf;
use std::sync::Arc;

/// Index of a file in a [`SourceMap`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct FileId(pub u32);

/// A byte range in one source file.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Span {
    pub file: FileId,
    pub start: u32,
    pub end: u32,
}

impl Span {
    pub fn new(file: FileId, start: usize, end: usize) -> Self {
        Span {
            file,
            start: saturate(start),
            end: saturate(end.max(start)),
        }
    }

    /// The smallest span covering both (which must be in the same file).
    pub fn to(self, other: Span) -> Span {
        Span {
            file: self.file,
            start: self.start.min(other.start),
            end: self.end.max(other.end),
        }
    }

    pub fn len(self) -> usize {
        (self.end - self.start) as usize
    }

    pub fn is_empty(self) -> bool {
        self.start == self.end
    }

    pub fn range(self) -> std::ops::Range<usize> {
        self.start as usize..self.end as usize
    }

    pub fn contains(self, offset: usize) -> bool {
        (self.start as usize) <= offset && offset <= (self.end as usize)
    }
}

fn saturate(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

/// One source text with its display name and line index.
#[derive(Debug, Clone)]
pub struct SourceFile {
    /// The name shown to users (the path as given, or `<stdin>`, or `std/x.sdb`).
    pub name: String,
    /// Where it was read from, if from disk (used to resolve relative paths).
    pub path: Option<PathBuf>,
    pub text: Arc<str>,
    line_starts: Vec<u32>,
}

impl SourceFile {
    pub fn new(name: impl Into<String>, path: Option<PathBuf>, text: impl Into<Arc<str>>) -> Self {
        let text: Arc<str> = text.into();
        let mut line_starts = vec![0u32];
        line_starts.extend(
            text.bytes()
                .enumerate()
                .filter(|(_, b)| *b == b'\n')
                .map(|(i, _)| saturate(i + 1)),
        );
        SourceFile {
            name: name.into(),
            path,
            text,
            line_starts,
        }
    }

    /// 1-based line and column (in characters) of a byte offset.
    pub fn line_col(&self, offset: usize) -> (usize, usize) {
        let offset = offset.min(self.text.len());
        let line = match self.line_starts.binary_search(&saturate(offset)) {
            Ok(i) => i,
            Err(i) => i - 1,
        };
        let start = self.line_starts[line] as usize;
        let col = self
            .text
            .get(start..offset)
            .map(|s| s.chars().count())
            .unwrap_or(offset - start);
        (line + 1, col + 1)
    }

    /// Byte offset of a 0-based line and UTF-16 column (as LSP counts them).
    pub fn offset_of_utf16(&self, line: usize, col16: usize) -> usize {
        let Some(&start) = self.line_starts.get(line) else {
            return self.text.len();
        };
        let start = start as usize;
        let mut units = 0;
        for (i, ch) in self.text[start..].char_indices() {
            if units >= col16 || ch == '\n' {
                return start + i;
            }
            units += ch.len_utf16();
        }
        self.text.len()
    }

    /// 0-based line and UTF-16 column of a byte offset (as LSP counts them).
    pub fn utf16_position(&self, offset: usize) -> (usize, usize) {
        let (line, _) = self.line_col(offset);
        let start = self.line_starts[line - 1] as usize;
        let offset = offset.min(self.text.len());
        let col = self
            .text
            .get(start..offset)
            .map(|s| s.encode_utf16().count())
            .unwrap_or(0);
        (line - 1, col)
    }
}

/// Every file read during one run, addressed by [`FileId`].
#[derive(Debug, Default, Clone)]
pub struct SourceMap {
    files: Vec<SourceFile>,
}

impl SourceMap {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn add(&mut self, file: SourceFile) -> FileId {
        self.files.push(file);
        FileId(saturate(self.files.len() - 1))
    }

    pub fn get(&self, id: FileId) -> &SourceFile {
        &self.files[id.0 as usize]
    }

    pub fn try_get(&self, id: FileId) -> Option<&SourceFile> {
        self.files.get(id.0 as usize)
    }

    pub fn files(&self) -> impl Iterator<Item = (FileId, &SourceFile)> {
        self.files
            .iter()
            .enumerate()
            .map(|(i, f)| (FileId(saturate(i)), f))
    }

    /// The text a span covers.
    pub fn snippet(&self, span: Span) -> &str {
        self.try_get(span.file)
            .and_then(|f| f.text.get(span.range()))
            .unwrap_or("")
    }

    pub fn find(&self, name: &str) -> Option<FileId> {
        self.files().find(|(_, f)| f.name == name).map(|(id, _)| id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_col_is_one_based_and_counts_chars() {
        let f = SourceFile::new("a", None, "ab\nçd\n");
        assert_eq!(f.line_col(0), (1, 1));
        assert_eq!(f.line_col(3), (2, 1));
        assert_eq!(f.line_col(5), (2, 2)); // after the two-byte ç
        assert_eq!(f.line_col(100), (3, 1));
    }

    #[test]
    fn utf16_round_trip() {
        let f = SourceFile::new("a", None, "x\n😀y\n");
        let off = f.offset_of_utf16(1, 2);
        assert_eq!(&f.text[off..off + 1], "y");
        assert_eq!(f.utf16_position(off), (1, 2));
    }
}
