//! Taking values out of a response: JSON pointers with `*` for every
//! element of a list, regular expressions, cookies and headers.

use serde_json::Value;

use crate::model::loadtest::{Extract, ExtractSource, Pick};

/// What one response offers to extractions.
pub struct Response<'a> {
    pub body: &'a [u8],
    pub headers: &'a reqwest::header::HeaderMap,
    /// The user's cookies after the response's `Set-Cookie`s.
    pub cookies: &'a std::collections::BTreeMap<String, String>,
}

/// Every value at a pointer; `*` stands for each element of an array (or
/// each value of an object).
pub fn pointer_all<'v>(root: &'v Value, pointer: &str) -> Vec<&'v Value> {
    let mut current = vec![root];
    for seg in pointer.split('/').skip(1) {
        let seg = seg.replace("~1", "/").replace("~0", "~");
        current = current
            .into_iter()
            .flat_map(|v| -> Vec<&Value> {
                match (v, seg.as_str()) {
                    (Value::Array(items), "*") => items.iter().collect(),
                    (Value::Object(m), "*") => m.values().collect(),
                    (Value::Array(items), i) => i
                        .parse::<usize>()
                        .ok()
                        .and_then(|i| items.get(i))
                        .into_iter()
                        .collect(),
                    (Value::Object(m), k) => m.get(k).into_iter().collect(),
                    _ => Vec::new(),
                }
            })
            .collect();
    }
    current
}

/// The candidates an extraction finds, in document order.
fn candidates(
    x: &Extract,
    re: Option<&regex::Regex>,
    r: &Response,
    json: &mut Option<Option<Value>>,
) -> Vec<Value> {
    match &x.source {
        ExtractSource::Json(p) => {
            let doc = json.get_or_insert_with(|| serde_json::from_slice(r.body).ok());
            doc.as_ref()
                .map(|d| pointer_all(d, p).into_iter().cloned().collect())
                .unwrap_or_default()
        }
        ExtractSource::Regex(_) => {
            let Some(re) = re else {
                return Vec::new();
            };
            let text = String::from_utf8_lossy(r.body);
            re.captures_iter(&text)
                .filter_map(|c| c.get(1).or_else(|| c.get(0)))
                .map(|m| Value::String(m.as_str().to_string()))
                .collect()
        }
        ExtractSource::Cookie(name) => r
            .cookies
            .get(name)
            .map(|v| Value::String(v.clone()))
            .into_iter()
            .collect(),
        ExtractSource::Header(name) => r
            .headers
            .get_all(name.as_str())
            .iter()
            .filter_map(|v| v.to_str().ok())
            .map(|v| Value::String(v.to_string()))
            .collect(),
    }
}

/// The regular expressions of a step's extractions, compiled once.
pub fn compile(extracts: &[Extract]) -> Vec<Option<regex::Regex>> {
    extracts
        .iter()
        .map(|x| match &x.source {
            ExtractSource::Regex(re) => regex::Regex::new(re).ok(),
            _ => None,
        })
        .collect()
}

/// The extracted values, or the name of the first one with no match.
/// `regexes` is [`compile`] of `extracts`.
pub fn extract_all(
    extracts: &[Extract],
    regexes: &[Option<regex::Regex>],
    r: &Response,
    pick_random: &mut dyn FnMut(usize) -> usize,
) -> Result<Vec<(String, Value)>, String> {
    let mut json = None;
    let mut out = Vec::new();
    for (i, x) in extracts.iter().enumerate() {
        let re = regexes.get(i).and_then(Option::as_ref);
        let mut found = candidates(x, re, r, &mut json);
        if found.is_empty() {
            return Err(x.name.clone());
        }
        let i = match x.pick {
            Pick::First => 0,
            Pick::Last => found.len() - 1,
            Pick::Random => pick_random(found.len()),
        };
        out.push((x.name.clone(), found.swap_remove(i)));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pointers_with_stars() {
        let doc: Value = serde_json::from_str(
            r#"{"results":[{"id":1,"t":"a"},{"id":2},{"x":3}],"a/b":{"~":true}}"#,
        )
        .expect("valid JSON");
        let ids: Vec<&Value> = pointer_all(&doc, "/results/*/id");
        assert_eq!(ids, [&Value::from(1), &Value::from(2)]);
        assert_eq!(pointer_all(&doc, "/results/1/id"), [&Value::from(2)]);
        assert_eq!(pointer_all(&doc, "/a~1b/~0"), [&Value::from(true)]);
        assert!(pointer_all(&doc, "/nothing/*").is_empty());
        assert_eq!(pointer_all(&doc, ""), [&doc]);
    }
}
