//! Span-exact edits of a program's text through its syntax tree, as
//! `cargo add` edits `Cargo.toml`: only the bytes of one value change (or
//! one `key=value` is inserted), every other byte of the file, comments and
//! layout included, stays as it was.
//!
//! [`set_int_arg`] finds a top-level declaration `KIND NAME` and its
//! argument `key=VALUE` (or body attribute `key = VALUE`): a literal integer
//! is replaced, an absent key is added after the name, and anything else
//! (a `param`, an expression) is refused with what was written there, so
//! the caller can say how to set it instead. Used by `sdbc scale`.

use super::ast::{Decl, Expr, ExprKind, Item, SourceAst};

/// One replacement of a byte range of the text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Edit {
    pub start: usize,
    pub end: usize,
    pub replacement: String,
    /// The integer written there before, if the key was there.
    pub before: Option<u64>,
}

/// Why a value cannot be set by editing the text.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EditError {
    #[error("no top-level `{kind} {name}` is declared in this file")]
    NotDeclared { kind: String, name: String },
    #[error("`{kind} {name}` is declared more than once in this file")]
    Ambiguous { kind: String, name: String },
    #[error("`{key}` of `{kind} {name}` is `{written}` (line {line}), not a number")]
    NotLiteral {
        kind: String,
        name: String,
        key: String,
        /// The text written as the value.
        written: String,
        line: usize,
    },
}

/// The edit that sets `key` of the top-level declaration `kind name` in
/// `text` (parsed as `ast`) to `value`.
pub fn set_int_arg(
    text: &str,
    ast: &SourceAst,
    kind: &str,
    name: &str,
    key: &str,
    value: u64,
) -> Result<Edit, EditError> {
    let decl = find_decl(ast, kind, name)?;
    let Some(expr) = arg_value(decl, key) else {
        let subject = decl.subjects.first().map_or(decl.kind.span, |s| s.span);
        let at = subject.end as usize;
        return Ok(Edit {
            start: at,
            end: at,
            replacement: format!(" {key}={value}"),
            before: None,
        });
    };
    match expr.kind {
        ExprKind::Int(before) => Ok(Edit {
            start: expr.span.start as usize,
            end: expr.span.end as usize,
            replacement: value.to_string(),
            before: Some(before),
        }),
        _ => {
            let range = expr.span.range();
            Err(EditError::NotLiteral {
                kind: kind.to_string(),
                name: name.to_string(),
                key: key.to_string(),
                written: text.get(range.clone()).unwrap_or_default().to_string(),
                line: text
                    .get(..range.start)
                    .map_or(0, |t| t.matches('\n').count())
                    + 1,
            })
        }
    }
}

fn find_decl<'a>(ast: &'a SourceAst, kind: &str, name: &str) -> Result<&'a Decl, EditError> {
    let mut found = ast.items.iter().filter_map(|i| match i {
        Item::Decl(d) if d.kind.name == kind && d.name().is_some_and(|n| n.name == name) => Some(d),
        _ => None,
    });
    let first = found.next().ok_or_else(|| EditError::NotDeclared {
        kind: kind.to_string(),
        name: name.to_string(),
    })?;
    if found.next().is_some() {
        return Err(EditError::Ambiguous {
            kind: kind.to_string(),
            name: name.to_string(),
        });
    }
    Ok(first)
}

/// The value of `key=` among the arguments, else of `key =` in the body.
fn arg_value<'a>(decl: &'a Decl, key: &str) -> Option<&'a Expr> {
    decl.named_args()
        .find(|(k, _)| k.name == key)
        .map(|(_, v)| v)
        .or_else(|| {
            decl.body_attrs()
                .find(|a| a.key.name == key)
                .map(|a| &a.value)
        })
}

/// `text` with `edits` applied (they must not overlap).
pub fn apply(text: &str, edits: &[Edit]) -> String {
    let mut sorted: Vec<&Edit> = edits.iter().collect();
    sorted.sort_by_key(|e| std::cmp::Reverse(e.start));
    let mut out = text.to_string();
    for e in sorted {
        out.replace_range(e.start..e.end, &e.replacement);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::span::FileId;

    fn edit(text: &str, name: &str, value: u64) -> Result<String, EditError> {
        let (ast, diags) = crate::syntax::parse(FileId(0), text);
        assert!(diags.is_empty(), "{diags:?}");
        let e = set_int_arg(text, &ast, "service", name, "replicas", value)?;
        Ok(apply(text, &[e]))
    }

    const PROGRAM: &str = "# the app\nparam n = 2;\n\
        service web image=\"nginx\"  replicas=2 on=worker;   # keep me\n\
        service api image=\"api\" {\n  replicas = 4;\n  env A = \"replicas=2\";\n}\n\
        service celery image=\"c\" replicas=n;\n\
        service bare image=\"b\";\n";

    #[test]
    fn a_literal_is_replaced_and_nothing_else_moves() {
        let out = edit(PROGRAM, "web", 13).expect("edit");
        assert_eq!(
            out,
            PROGRAM.replace("\"nginx\"  replicas=2 on", "\"nginx\"  replicas=13 on")
        );
    }

    #[test]
    fn a_body_attribute_is_replaced() {
        let out = edit(PROGRAM, "api", 1).expect("edit");
        assert_eq!(out, PROGRAM.replace("replicas = 4;", "replicas = 1;"));
    }

    #[test]
    fn an_absent_key_is_added_after_the_name() {
        let out = edit(PROGRAM, "bare", 3).expect("edit");
        assert_eq!(
            out,
            PROGRAM.replace("service bare image", "service bare replicas=3 image")
        );
        let (_, diags) = crate::syntax::parse(FileId(0), &out);
        assert!(diags.is_empty(), "{diags:?}");
    }

    #[test]
    fn a_param_is_refused_with_what_is_written() {
        let err = edit(PROGRAM, "celery", 3).unwrap_err();
        assert_eq!(
            err,
            EditError::NotLiteral {
                kind: "service".into(),
                name: "celery".into(),
                key: "replicas".into(),
                written: "n".into(),
                line: 8,
            }
        );
        assert!(matches!(
            edit(PROGRAM, "nope", 1),
            Err(EditError::NotDeclared { .. })
        ));
    }

    #[test]
    fn edits_apply_from_the_end() {
        let (ast, _) = crate::syntax::parse(FileId(0), PROGRAM);
        let a = set_int_arg(PROGRAM, &ast, "service", "web", "replicas", 5).expect("web");
        let b = set_int_arg(PROGRAM, &ast, "service", "bare", "replicas", 6).expect("bare");
        let out = apply(PROGRAM, &[a, b]);
        assert!(out.contains("replicas=5 on=worker;   # keep me"), "{out}");
        assert!(out.contains("service bare replicas=6 image"), "{out}");
    }
}
