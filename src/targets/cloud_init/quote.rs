//! Quoting for the templates: every value that comes from the model goes
//! through the `yaml` filter (in `#cloud-config`) or the `sh` filter (in the
//! startup script), so nothing a user writes can change the document's
//! structure.
//!
//! `yaml` always emits a *quoted* scalar, so YAML 1.1 readers such as PyYAML
//! (which cloud-init uses) never resolve `yes`, `on`, `22:22`, `1_000`,
//! `0x10`, `~` or `2024-01-01` to a boolean, number, null or date. With an
//! `indent` argument, a multi-line value becomes a literal block scalar (`|`)
//! indented by that many spaces when that reads back exactly, which keeps
//! generated files readable; otherwise it is double-quoted with escapes.

use std::collections::HashMap;

use tera::Value;

/// Whether PyYAML reads `c` literally inside a scalar: printable, and not a
/// line break (NEL, LS, PS) or a byte-order mark.
fn is_plain_char(c: char) -> bool {
    matches!(c,
        '\t' | ' '..='~'
        | '\u{a0}'..='\u{2027}'
        | '\u{202a}'..='\u{d7ff}'
        | '\u{e000}'..='\u{fefe}'
        | '\u{ff00}'..='\u{fffd}'
        | '\u{10000}'..)
}

/// `s` as a YAML double-quoted scalar.
pub fn yaml_double_quoted(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            c if is_plain_char(c) => out.push(c),
            c if u32::from(c) <= 0xffff => out.push_str(&format!("\\u{:04X}", u32::from(c))),
            c => out.push_str(&format!("\\U{:08X}", u32::from(c))),
        }
    }
    out.push('"');
    out
}

/// `s` as a literal block scalar indented by `indent` spaces, if it reads
/// back as exactly `s`: more than one line, at most one trailing newline,
/// plain characters only, no trailing blanks, and a first non-empty line that
/// does not start with a blank (block indentation is taken from it).
fn yaml_literal_block(s: &str, indent: usize) -> Option<String> {
    let body = s.strip_suffix('\n').unwrap_or(s);
    let chomp = if body.len() == s.len() { "|-" } else { "|" };
    let lines: Vec<&str> = body.split('\n').collect();
    let first = lines.iter().find(|l| !l.is_empty())?;
    let ok = lines.len() > 1
        && !body.ends_with('\n')
        && !first.starts_with([' ', '\t'])
        && body.chars().all(|c| c == '\n' || is_plain_char(c))
        && lines.iter().all(|l| !l.ends_with([' ', '\t']));
    if !ok {
        return None;
    }
    let pad = " ".repeat(indent);
    let mut out = String::from(chomp);
    for line in lines {
        out.push('\n');
        if !line.is_empty() {
            out.push_str(&pad);
            out.push_str(line);
        }
    }
    Some(out)
}

/// `s` as a quoted YAML scalar; a literal block when `indent` is given and
/// the value suits one.
pub fn yaml_quote(s: &str, indent: Option<usize>) -> String {
    indent
        .filter(|_| s.contains('\n'))
        .and_then(|i| yaml_literal_block(s, i))
        .unwrap_or_else(|| yaml_double_quoted(s))
}

/// `s` as one POSIX shell word (single-quoted).
pub fn sh_quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', "'\\''"))
}

/// The value as text: strings as they are, anything else as JSON.
fn text(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// The tera filter `yaml(indent=N?)`.
pub fn yaml_filter(value: &Value, args: &HashMap<String, Value>) -> tera::Result<Value> {
    let indent = match args.get("indent") {
        None => None,
        Some(v) => Some(
            v.as_u64()
                .and_then(|n| usize::try_from(n).ok())
                .ok_or_else(|| tera::Error::msg("yaml: `indent` must be a non-negative integer"))?,
        ),
    };
    Ok(Value::String(yaml_quote(&text(value), indent)))
}

/// The tera filter `sh`.
pub fn sh_filter(value: &Value, _args: &HashMap<String, Value>) -> tera::Result<Value> {
    let s = text(value);
    if s.contains('\0') {
        return Err(tera::Error::msg("sh: a shell word cannot hold a NUL byte"));
    }
    Ok(Value::String(sh_quote(&s)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn double_quoted_escapes() {
        assert_eq!(yaml_double_quoted("yes"), "\"yes\"");
        assert_eq!(yaml_double_quoted("a\"b\\c\nd"), "\"a\\\"b\\\\c\\nd\"");
        assert_eq!(yaml_double_quoted("\u{7f}\u{2028}é"), "\"\\u007F\\u2028é\"");
        assert_eq!(yaml_double_quoted("\u{1}"), "\"\\u0001\"");
    }

    #[test]
    fn literal_blocks_only_when_exact() {
        assert_eq!(yaml_quote("a\nb\n", Some(4)), "|\n    a\n    b");
        assert_eq!(yaml_quote("a\n\nb", Some(2)), "|-\n  a\n\n  b");
        assert_eq!(yaml_quote(" a\nb\n", Some(2)), "\" a\\nb\\n\"");
        assert_eq!(yaml_quote("a \nb\n", Some(2)), "\"a \\nb\\n\"");
        assert_eq!(yaml_quote("a\nb\n\n", Some(2)), "\"a\\nb\\n\\n\"");
        assert_eq!(yaml_quote("one line", Some(2)), "\"one line\"");
    }

    #[test]
    fn shell_words() {
        assert_eq!(sh_quote("it's"), "'it'\\''s'");
        assert_eq!(sh_quote("$(x)"), "'$(x)'");
    }
}
