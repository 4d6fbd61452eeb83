//! [`Body`]: a request body as the plan holds it, without a JSON tree.
//!
//! A body is kept as the compact JSON text of its *kept form*, the form a
//! state file keeps ([`digest`](super::digest): each long metadata item
//! value replaced by its digest), together with the long values it
//! replaced, in order. So:
//!
//! - comparing a wanted body with what the state last sent is a comparison
//!   of two texts ([`Body::kept_text`]);
//! - the members of a group share their boot configuration (one
//!   `Arc<str>`), not a copy each;
//! - the full body, as the API and the outputs want it, is made only when
//!   asked for ([`Body::to_value`], and [`Serialize`], which writes exactly
//!   what serializing that value writes).
//!
//! Builders that know their fields write the kept text directly
//! ([`Body::of_kept_text`], the instance builder); others build a JSON value
//! and convert it ([`Body::of_value`]).

use std::sync::Arc;

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::Value;

use super::digest::{Digested, Kept, Memo};

/// A request body: its kept form as JSON text, and the long values that
/// form stands for.
#[derive(Debug, Clone)]
pub struct Body {
    /// Written by serde_json, so valid JSON (not checked again).
    kept: Box<str>,
    long: Box<[Arc<str>]>,
}

impl Body {
    /// The body of a JSON value.
    pub fn of_value(body: &Value) -> Body {
        let memo = Memo::default();
        let text = serde_json::to_string(&Kept::body(body, &memo))
            .expect("a JSON value always serializes");
        let long = metadata_values(body)
            .filter(|v| memo.long(v).is_some())
            .map(Arc::from)
            .collect();
        Body {
            kept: text.into(),
            long,
        }
    }

    /// A body from its kept form written by a builder, and the long
    /// values its metadata digests stand for, in order of appearance.
    ///
    /// `kept` must be the compact JSON text serde_json writes for that
    /// form (what a state keeps, compared byte for byte with it): debug
    /// builds check that it is.
    pub fn of_kept_text(kept: String, long: Vec<Arc<str>>) -> Body {
        debug_assert_eq!(
            serde_json::from_str::<Value>(&kept)
                .and_then(|v| serde_json::to_string(&v))
                .ok()
                .as_deref(),
            Some(kept.as_str()),
            "a kept text as serde_json writes it"
        );
        Body {
            kept: kept.into(),
            long: long.into(),
        }
    }

    /// The kept form's compact JSON text, as a state file keeps it.
    pub fn kept_text(&self) -> &str {
        &self.kept
    }

    /// The kept form as a JSON value (long values as digests).
    pub fn kept_value(&self) -> Value {
        serde_json::from_str(&self.kept).expect("the kept text is valid JSON")
    }

    /// The full body, as sent.
    pub fn to_value(&self) -> Value {
        let mut body = self.kept_value();
        let mut long = self.long.iter();
        if let Some(items) = body
            .get_mut("metadata")
            .and_then(|m| m.get_mut("items"))
            .and_then(Value::as_array_mut)
        {
            for value in items.iter_mut().filter_map(|i| i.get_mut("value")) {
                // Metadata values are strings: a digest there stands for one.
                if Digested::from_value(value).is_some()
                    && let Some(text) = long.next()
                {
                    *value = Value::String(text.to_string());
                }
            }
        }
        body
    }

    /// The top-level `name` field. Builders write it first, and resource
    /// names need no escapes, so it is read from the text's start; any
    /// other text is parsed.
    pub fn name(&self) -> Option<String> {
        let text = &self.kept;
        if let Some(rest) = text.strip_prefix(r#"{"name":""#)
            && let Some((name, _)) = rest.split_once('"')
            && !name.contains('\\')
        {
            return Some(name.to_string());
        }
        #[derive(Deserialize)]
        struct Named {
            name: String,
        }
        serde_json::from_str::<Named>(text).ok().map(|n| n.name)
    }
}

/// The string values of the top-level `metadata.items`, where the kept
/// form puts digests.
fn metadata_values(body: &Value) -> impl Iterator<Item = &str> {
    body.get("metadata")
        .and_then(|m| m.get("items"))
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|i| i.get("value").and_then(Value::as_str))
}

impl Default for Body {
    fn default() -> Self {
        Body {
            kept: "null".into(),
            long: Box::default(),
        }
    }
}

impl PartialEq for Body {
    fn eq(&self, other: &Self) -> bool {
        self.kept == other.kept && self.long == other.long
    }
}

impl From<Value> for Body {
    fn from(v: Value) -> Body {
        Body::of_value(&v)
    }
}

impl Serialize for Body {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        // Through the value, so that pretty printers indent it like any
        // other (a raw value is written as it is).
        self.to_value().serialize(s)
    }
}

impl<'de> Deserialize<'de> for Body {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Value::deserialize(d).map(|v| Body::of_value(&v))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_body_gives_back_the_value_it_was_made_from() {
        let long = "#cloud-config\n".repeat(20);
        let body = json!({"name": "a", "labels": {"z": "1", "a": "2"},
            "metadata": {"items": [{"key": "x", "value": "TRUE"},
                                   {"key": "user-data", "value": long}]}});
        let b = Body::of_value(&body);
        assert!(!b.kept_text().contains("cloud-config"), "{}", b.kept_text());
        assert_eq!(b.kept_value(), super::super::digest::stored(&body));
        assert_eq!(b.to_value(), body);
        assert_eq!(
            serde_json::to_string_pretty(&b).expect("ser"),
            serde_json::to_string_pretty(&body).expect("ser")
        );
        let read: Body =
            serde_json::from_str(&serde_json::to_string(&b).expect("ser")).expect("de");
        assert_eq!(read, b);
        assert_eq!(b.name().as_deref(), Some("a"));
        let escaped = Body::of_value(&json!({"name": "b\"c", "kind": "x"}));
        assert_eq!(escaped.name().as_deref(), Some("b\"c"));
        let late = Body::of_value(&json!({"kind": "x", "name": "d"}));
        assert_eq!(late.name().as_deref(), Some("d"));
        assert_eq!(Body::of_value(&json!({"kind": "x"})).name(), None);
        let short = json!({"name": "b", "metadata": {"items": [{"key": "k", "value": "v"}]}});
        assert_eq!(Body::of_value(&short).to_value(), short);
        assert_eq!(Body::default().to_value(), Value::Null);
    }
}
