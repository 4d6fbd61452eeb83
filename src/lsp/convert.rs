//! Conversions at the protocol edge: `file://` URIs to paths and back, and
//! LSP positions (0-based line, UTF-16 column) to byte offsets and back.

use std::path::{Component, Path, PathBuf};
use std::str::FromStr;

use lsp_types::{Position, Range, Uri};

use crate::span::{SourceFile, SourceMap, Span};

/// The local path a `file://` URI names, if it names one.
pub fn uri_to_path(uri: &Uri) -> Option<PathBuf> {
    let rest = uri.as_str().strip_prefix("file://")?;
    let rest = rest.strip_prefix("localhost").unwrap_or(rest);
    if !rest.starts_with('/') {
        return None;
    }
    let decoded = percent_decode(rest)?;
    Some(PathBuf::from(decoded))
}

/// The `file://` URI of an absolute path.
pub fn path_to_uri(path: &Path) -> Option<Uri> {
    let abs = if path.is_absolute() {
        path.to_path_buf()
    } else {
        std::env::current_dir().ok()?.join(path)
    };
    let text = abs.to_str()?;
    let mut out = String::from("file://");
    for b in text.bytes() {
        if b.is_ascii_alphanumeric() || b"/-_.~".contains(&b) {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    Uri::from_str(&out).ok()
}

fn percent_decode(s: &str) -> Option<String> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = s.get(i + 1..i + 3)?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

/// A path with `.` and `..` removed, without touching the disk.
pub fn normalize(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for c in path.components() {
        match c {
            Component::CurDir => {}
            Component::ParentDir => {
                out.pop();
            }
            other => out.push(other),
        }
    }
    out
}

/// The byte offset of an LSP position in `text` (clamped to the text).
pub fn offset_at(text: &str, pos: Position) -> usize {
    let mut line_start = 0;
    for _ in 0..pos.line {
        match text[line_start..].find('\n') {
            Some(i) => line_start += i + 1,
            None => return text.len(),
        }
    }
    let mut units = 0usize;
    for (i, ch) in text[line_start..].char_indices() {
        if units >= pos.character as usize || ch == '\n' {
            return line_start + i;
        }
        units += ch.len_utf16();
    }
    text.len()
}

/// The LSP position of a byte offset in `text`.
pub fn position_at(text: &str, offset: usize) -> Position {
    let mut offset = offset.min(text.len());
    while !text.is_char_boundary(offset) {
        offset -= 1;
    }
    let before = &text[..offset];
    let line = before.bytes().filter(|b| *b == b'\n').count();
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    let col = before[line_start..].encode_utf16().count();
    Position::new(to_u32(line), to_u32(col))
}

/// The LSP range of a span, using its file's line index.
pub fn span_range(file: &SourceFile, span: Span) -> Range {
    let pos = |off: u32| {
        let (line, col) = file.utf16_position(off as usize);
        Position::new(to_u32(line), to_u32(col))
    };
    Range::new(pos(span.start), pos(span.end))
}

/// The URI of the file a span lies in, when it is a file on disk.
pub fn span_uri(sources: &SourceMap, span: Span) -> Option<Uri> {
    let file = sources.try_get(span.file)?;
    path_to_uri(file.path.as_ref()?)
}

/// A location for a span in a file on disk.
pub fn span_location(sources: &SourceMap, span: Span) -> Option<lsp_types::Location> {
    let file = sources.try_get(span.file)?;
    Some(lsp_types::Location::new(
        span_uri(sources, span)?,
        span_range(file, span),
    ))
}

pub fn to_u32(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uri_round_trip() {
        let p = Path::new("/tmp/a b/ç.sdb");
        let uri = path_to_uri(p).expect("uri");
        assert_eq!(uri.as_str(), "file:///tmp/a%20b/%C3%A7.sdb");
        assert_eq!(uri_to_path(&uri).as_deref(), Some(p));
    }

    #[test]
    fn positions_round_trip() {
        let text = "x\n😀y\nz";
        let off = offset_at(text, Position::new(1, 2));
        assert_eq!(&text[off..off + 1], "y");
        assert_eq!(position_at(text, off), Position::new(1, 2));
        assert_eq!(offset_at(text, Position::new(9, 0)), text.len());
    }
}
