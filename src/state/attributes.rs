//! [`Attributes`]: the body sdbc last sent for a resource, as the state
//! keeps it (state format 2).
//!
//! The body is kept as the JSON text of its kept form
//! ([`digest::stored`](super::digest::stored): long metadata values by
//! digest), compact, on one line of the state file. Reading a state does
//! not build a JSON tree for each resource: a plan compares the text with
//! the wanted body written the same way ([`Attributes::matches`]) and
//! parses it only for a resource that changed, to list the differences.

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::Value;
use serde_json::value::RawValue;

use super::digest::{Kept, Memo};
use crate::targets::body::Body;

/// A resource's last sent body as the state keeps it.
#[derive(Debug, Clone)]
pub struct Attributes(Box<RawValue>);

impl Attributes {
    /// The kept form of a sent `body`.
    pub fn of_sent(body: &Value) -> Attributes {
        Self::kept(body, &Memo::default())
    }

    fn kept<'v>(body: &'v Value, memo: &Memo<'v>) -> Attributes {
        let text =
            serde_json::to_string(&Kept::body(body, memo)).expect("a JSON value always serializes");
        Attributes(RawValue::from_string(text).expect("serde_json writes valid JSON"))
    }

    /// The kept body as a JSON tree (long values as digests).
    pub fn value(&self) -> Value {
        serde_json::from_str(self.0.get()).expect("the text was read or written as valid JSON")
    }

    /// The kept body's JSON text.
    pub fn text(&self) -> &str {
        self.0.get()
    }

    /// The kept form of a planned `body` (already in that form: no work).
    pub fn of_body(body: &Body) -> Attributes {
        Attributes(
            RawValue::from_string(body.kept_text().to_string())
                .expect("a body's kept text is valid JSON"),
        )
    }

    /// Whether this is the kept form of `body`, written the same way: the
    /// common case of a resource that did not change, decided by comparing
    /// two texts. `false` can still mean equal (a file edited by hand):
    /// compare [`value`](Self::value) with `digest::same` then.
    pub fn matches(&self, body: &Body) -> bool {
        self.text() == body.kept_text()
    }
}

impl Default for Attributes {
    fn default() -> Self {
        Attributes(RawValue::NULL.to_owned())
    }
}

impl PartialEq for Attributes {
    fn eq(&self, other: &Self) -> bool {
        self.text() == other.text()
    }
}

impl Serialize for Attributes {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.0.serialize(s)
    }
}

impl<'de> Deserialize<'de> for Attributes {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Box::<RawValue>::deserialize(d).map(Attributes)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn kept_text_matches_the_body_it_was_made_from() {
        let long = "#cloud-config\n".repeat(20);
        let body = json!({"name": "a", "labels": {"z": "1", "a": "2"},
                          "metadata": {"items": [{"key": "user-data", "value": long}]}});
        let kept = Attributes::of_sent(&body);
        assert!(!kept.text().contains("cloud-config"), "{}", kept.text());
        let at = |k: &str| kept.text().find(k);
        assert!(
            at("\"z\":\"1\"") < at("\"a\":\"2\""),
            "order kept: {}",
            kept.text()
        );
        assert_eq!(kept.value(), super::super::digest::stored(&body));
        assert!(kept.matches(&Body::of_value(&body)));
        assert_eq!(Attributes::of_body(&Body::of_value(&body)), kept);
        let mut other = body.clone();
        other["labels"]["z"] = json!("2");
        assert!(!kept.matches(&Body::of_value(&other)));
        let read: Attributes =
            serde_json::from_str(&serde_json::to_string(&kept).expect("ser")).expect("reads back");
        assert_eq!(read, kept);
        assert_eq!(Attributes::default().value(), Value::Null);
    }
}
