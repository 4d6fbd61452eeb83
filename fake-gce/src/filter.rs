//! The subset of the list `filter` syntax the fake understands, and paging.
//!
//! Supported: `FIELD = VALUE`, `FIELD != VALUE` (exact, `*` as a wildcard),
//! `FIELD eq VALUE`, `FIELD ne VALUE` (the value is an RE2 regular expression
//! matched against the whole field; only literals, `.` and `.*` are supported),
//! with `FIELD` a dotted path (`labels.sdbc-stack`, `name`, `status`),
//! values optionally quoted, clauses joined by `AND` or written as
//! `(a = b) (c = d)`. Anything else (OR, `:`, other regex syntax) is refused
//! with 400 rather than guessed.

use crate::error::ApiError;
use serde_json::Value;

#[derive(Debug, PartialEq)]
enum Op {
    Eq,
    Ne,
    Re,
    NotRe,
}

/// A parsed filter: all clauses must hold.
#[derive(Debug)]
pub struct Filter {
    clauses: Vec<(Vec<String>, Op, String)>,
}

impl Filter {
    /// Parse a filter expression; an empty one matches everything.
    pub fn parse(text: &str) -> Result<Filter, ApiError> {
        let text = text.trim();
        let unsupported = |why: &str| {
            ApiError::invalid(format!(
                "Invalid value for field 'filter': '{text}'. {why} (fake-gce supports \
                 'FIELD = VALUE', '!=', 'eq', 'ne' joined by AND or parentheses)"
            ))
        };
        let raw: Vec<String> = if text.is_empty() {
            Vec::new()
        } else if text.starts_with('(') {
            let mut out = Vec::new();
            let mut rest = text;
            while let Some(start) = rest.find('(') {
                if !rest[..start].trim().is_empty() && rest[..start].trim() != "AND" {
                    return Err(unsupported("Unexpected text between clauses"));
                }
                let end = rest[start..]
                    .find(')')
                    .ok_or_else(|| unsupported("Unbalanced parenthesis"))?;
                out.push(rest[start + 1..start + end].to_string());
                rest = &rest[start + end + 1..];
            }
            if !rest.trim().is_empty() {
                return Err(unsupported("Unexpected text after clauses"));
            }
            out
        } else {
            text.split(" AND ").map(str::to_string).collect()
        };
        let mut clauses = Vec::new();
        for clause in raw {
            let clause = clause.trim();
            if clause.contains(" OR ") || clause.contains('(') {
                return Err(unsupported("OR and nesting are not supported"));
            }
            let (field, op, value) = if let Some((f, v)) = clause.split_once(" eq ") {
                (f, Op::Re, v)
            } else if let Some((f, v)) = clause.split_once(" ne ") {
                (f, Op::NotRe, v)
            } else if let Some((f, v)) = clause.split_once("!=") {
                (f, Op::Ne, v)
            } else if let Some((f, v)) = clause.split_once('=') {
                (f, Op::Eq, v)
            } else {
                return Err(unsupported("Expected an operator"));
            };
            let field = field.trim();
            if field.is_empty() || field.contains(char::is_whitespace) {
                return Err(unsupported("Bad field name"));
            }
            let value = unquote(value.trim());
            if matches!(op, Op::Re | Op::NotRe)
                && value.chars().any(|c| "[](){}+?|^$\\".contains(c))
            {
                return Err(unsupported(
                    "Only '.' and '.*' regular expressions are supported",
                ));
            }
            clauses.push((field.split('.').map(str::to_string).collect(), op, value));
        }
        Ok(Filter { clauses })
    }

    /// Whether a resource matches.
    pub fn matches(&self, resource: &Value) -> bool {
        self.clauses.iter().all(|(path, op, want)| {
            let mut v = resource;
            for p in path {
                v = &v[p.as_str()];
            }
            let have = match v {
                Value::String(s) => s.clone(),
                Value::Null => String::new(),
                other => other.to_string(),
            };
            match op {
                Op::Eq => glob(want, &have),
                Op::Ne => !glob(want, &have),
                Op::Re => regex_lite(want.as_bytes(), have.as_bytes()),
                Op::NotRe => !regex_lite(want.as_bytes(), have.as_bytes()),
            }
        })
    }
}

fn unquote(v: &str) -> String {
    v.strip_prefix('"')
        .and_then(|s| s.strip_suffix('"'))
        .or_else(|| v.strip_prefix('\'').and_then(|s| s.strip_suffix('\'')))
        .unwrap_or(v)
        .to_string()
}

fn glob(pattern: &str, s: &str) -> bool {
    match pattern.split_once('*') {
        None => pattern == s,
        Some((head, tail)) => {
            s.starts_with(head)
                && (0..=s.len() - head.len())
                    .any(|i| s.is_char_boundary(head.len() + i) && glob(tail, &s[head.len() + i..]))
        }
    }
}

/// Full match of a pattern made of literals, `.` and `.*`.
fn regex_lite(p: &[u8], s: &[u8]) -> bool {
    match p {
        [] => s.is_empty(),
        [b'.', b'*', rest @ ..] => (0..=s.len()).any(|i| regex_lite(rest, &s[i..])),
        [b'.', rest @ ..] => !s.is_empty() && regex_lite(rest, &s[1..]),
        [c, rest @ ..] => s.first() == Some(c) && regex_lite(rest, &s[1..]),
    }
}

/// Parse `maxResults` (0..=500, default 500; 0 means 500 as in the API).
pub fn max_results(given: Option<&str>) -> Result<usize, ApiError> {
    match given {
        None => Ok(500),
        Some(s) => match s.parse::<usize>() {
            Ok(0) => Ok(500),
            Ok(n) if n <= 500 => Ok(n),
            _ => Err(ApiError::invalid(format!(
                "Invalid value for field 'maxResults': '{s}'. Must be less than or equal to 500"
            ))),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn label_forms() {
        let r = json!({"name": "web-1", "labels": {"sdbc-stack": "misago"}, "status": "RUNNING"});
        for f in [
            "labels.sdbc-stack=misago",
            "labels.sdbc-stack = \"misago\"",
            "labels.sdbc-stack eq misago",
            "labels.sdbc-stack eq mis.*",
            "(labels.sdbc-stack = misago) (name = web-*)",
            "labels.sdbc-stack=misago AND status != TERMINATED",
            "",
        ] {
            assert!(Filter::parse(f).unwrap().matches(&r), "{f}");
        }
        for f in [
            "labels.sdbc-stack=other",
            "labels.x=misago",
            "name ne web-.",
            "name eq web",
        ] {
            assert!(!Filter::parse(f).unwrap().matches(&r), "{f}");
        }
        for f in ["a = b OR c = d", "name eq (a|b)", "nonsense", "(a = b"] {
            assert!(Filter::parse(f).is_err(), "{f}");
        }
    }

    #[test]
    fn paging_limits() {
        assert_eq!(max_results(None).unwrap(), 500);
        assert_eq!(max_results(Some("2")).unwrap(), 2);
        assert!(max_results(Some("501")).is_err());
        assert!(max_results(Some("x")).is_err());
    }
}
