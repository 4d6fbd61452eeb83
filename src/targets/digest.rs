//! Long values the state keeps by digest (state format 2).
//!
//! A VM's boot configuration, its `user-data` metadata item, is most of
//! its insert body, and a state that held it verbatim for every VM was
//! mostly boot configurations. The state keeps, in place of each metadata
//! item value that a plan never shows in full ([`is_long`]), the sha256 of
//! the value's JSON text and that text's length:
//! `{"sha256": "<64 hex digits>", "bytes": N}`. Compute Engine's metadata
//! item values are strings, so an object there can only be such a digest.
//!
//! Everything else of the sent body stays verbatim, for the readers that
//! need the values themselves: the keys of metadata items (keeping items
//! others added, `exec::apply::keep`), labels, references and placeholders
//! (refresh fills them before comparing), and every short value a plan
//! shows. Comparing a kept body with a wanted or an actual one goes
//! through [`same`], which takes a digest as equal to the value it was
//! made from; a plan shows a digest exactly as it shows the long value
//! itself (by size and digest, `plan::render::show`).

use std::cell::RefCell;
use std::rc::Rc;

use serde_json::{Map, Value};
use sha2::{Digest as _, Sha256};

use crate::state::util;

/// The longest JSON text a plan shows in full (a line break aside).
pub const SHOWN_IN_FULL: usize = 80;

/// Whether a value with this JSON text is shown by size and digest rather
/// than in full: longer than [`SHOWN_IN_FULL`] bytes, or spanning lines.
pub fn is_long(json_text: &str) -> bool {
    json_text.len() > SHOWN_IN_FULL || json_text.contains("\\n")
}

/// A long value as the state keeps it: the sha256 of its JSON text and
/// that text's length in bytes (serialized as [`Digested::to_value`]).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Digested {
    /// 64 lowercase hex digits.
    pub sha256: String,
    pub bytes: u64,
}

impl Digested {
    /// The digest of a value's JSON text.
    pub fn of_text(json_text: &str) -> Digested {
        Digested {
            sha256: util::hex(&Sha256::digest(json_text.as_bytes())),
            bytes: json_text.len() as u64,
        }
    }

    /// The digest of a string value (of its JSON text, quotes and escapes included).
    pub fn of_str(s: &str) -> Digested {
        Self::of_text(&Value::from(s).to_string())
    }

    /// The digest as it stands in a state file.
    pub fn to_value(&self) -> Value {
        let mut m = Map::new();
        m.insert("sha256".into(), Value::from(self.sha256.as_str()));
        m.insert("bytes".into(), Value::from(self.bytes));
        Value::Object(m)
    }

    /// Reads a digest as it stands in a state file; `None` for any other value.
    pub fn from_value(v: &Value) -> Option<Digested> {
        digest_parts(v).map(|(sha256, bytes)| Digested {
            sha256: sha256.to_string(),
            bytes,
        })
    }
}

/// `body` as the state keeps it: each long metadata item value replaced
/// by its digest, everything else as it is (the value of [`Kept`]).
pub fn stored(body: &Value) -> Value {
    let memo = Memo::default();
    serde_json::to_value(Kept::body(body, &memo)).expect("a JSON value always serializes")
}

/// [`stored`] in place, for a body read from a state of format 1.
pub fn shrink(body: &mut Value) {
    *body = stored(body);
}

/// Where a value stands in a body, as far as keeping it goes.
#[derive(Clone, Copy, PartialEq, Eq)]
enum At {
    Body,
    Metadata,
    Items,
    Item,
    Other,
}

/// A body serialized as the state keeps it: the one definition of that
/// form, used to write it ([`stored`], [`super::Attributes`]) and to
/// compare a wanted body with it without building a copy.
pub(crate) struct Kept<'v, 'm> {
    value: &'v Value,
    at: At,
    memo: &'m Memo<'v>,
}

impl<'v, 'm> Kept<'v, 'm> {
    pub(crate) fn body(value: &'v Value, memo: &'m Memo<'v>) -> Self {
        Kept {
            value,
            at: At::Body,
            memo,
        }
    }

    fn child(&self, value: &'v Value, at: At) -> Self {
        Kept {
            value,
            at,
            memo: self.memo,
        }
    }
}

impl serde::Serialize for Kept<'_, '_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::{SerializeMap, SerializeSeq};
        match (self.at, self.value) {
            (At::Other, v) => v.serialize(s),
            (At::Items, Value::Array(items)) => {
                let mut seq = s.serialize_seq(Some(items.len()))?;
                for item in items {
                    seq.serialize_element(&self.child(item, At::Item))?;
                }
                seq.end()
            }
            (at, Value::Object(fields)) if at != At::Items => {
                let mut map = s.serialize_map(Some(fields.len()))?;
                for (k, v) in fields {
                    let next = match (at, k.as_str(), v) {
                        (At::Body, "metadata", _) => At::Metadata,
                        (At::Metadata, "items", _) => At::Items,
                        (At::Item, "value", Value::String(text)) => {
                            if let Some(d) = self.memo.long(text) {
                                map.serialize_entry(k, &*d)?;
                                continue;
                            }
                            At::Other
                        }
                        _ => At::Other,
                    };
                    map.serialize_entry(k, &self.child(v, next))?;
                }
                map.end()
            }
            (_, v) => v.serialize(s),
        }
    }
}

/// The digests of the strings seen so far, by content (`None`: short,
/// kept verbatim): the members of a group share one boot configuration,
/// so one is hashed per group.
#[derive(Default)]
pub struct Memo<'a> {
    seen: RefCell<foldhash::HashMap<&'a str, Option<Rc<Digested>>>>,
}

impl<'a> Memo<'a> {
    /// The digest that stands for `s` in a state, if `s` is long.
    pub(crate) fn long(&self, s: &'a str) -> Option<Rc<Digested>> {
        let mut seen = self.seen.borrow_mut();
        seen.entry(s)
            .or_insert_with(|| {
                let text = Value::from(s).to_string();
                is_long(&text).then(|| Rc::new(Digested::of_text(&text)))
            })
            .clone()
    }
}

/// Whether `kept` (a body, or part of one, as the state keeps it) stands
/// for `value`: equal, with a digest equal to the string it was made from.
pub fn same<'a>(kept: &Value, value: &'a Value, memo: &Memo<'a>) -> bool {
    match (kept, value) {
        (Value::Object(_), Value::String(s)) => {
            digest_parts(kept).is_some_and(|(sha256, bytes)| {
                memo.long(s)
                    .is_some_and(|d| d.bytes == bytes && d.sha256 == sha256)
            })
        }
        (Value::Object(k), Value::Object(v)) => {
            // Both come from the same code, so keys are most often in the
            // same order: compared in step, looked up only when they are not.
            k.len() == v.len()
                && k.iter().zip(v.iter()).all(|((kk, kv), (vk, vv))| {
                    if kk == vk {
                        same(kv, vv, memo)
                    } else {
                        v.get(kk).is_some_and(|vv| same(kv, vv, memo))
                    }
                })
        }
        (Value::Array(k), Value::Array(v)) => {
            k.len() == v.len() && k.iter().zip(v).all(|(kv, vv)| same(kv, vv, memo))
        }
        _ => kept == value,
    }
}

/// The hex digits and the length of a digest as it stands in a state file.
fn digest_parts(v: &Value) -> Option<(&str, u64)> {
    let m = v.as_object()?;
    if m.len() != 2 {
        return None;
    }
    let sha256 = m.get("sha256")?.as_str()?;
    let bytes = m.get("bytes")?.as_u64()?;
    let hex = sha256.len() == 64 && sha256.bytes().all(|b| b.is_ascii_hexdigit());
    hex.then_some((sha256, bytes))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn body(user_data: &str) -> Value {
        json!({
            "name": "vm-1",
            "labels": {"sdbc-group": "vm"},
            "metadata": {"items": [
                {"key": "enable-guest-attributes", "value": "TRUE"},
                {"key": "user-data", "value": user_data},
            ]},
        })
    }

    #[test]
    fn only_long_item_values_become_digests() {
        let long = "#cloud-config\n".repeat(20);
        let kept = stored(&body(&long));
        assert_eq!(kept["metadata"]["items"][0]["value"], json!("TRUE"));
        assert_eq!(kept["metadata"]["items"][1]["key"], json!("user-data"));
        let d = Digested::from_value(&kept["metadata"]["items"][1]["value"]).expect("a digest");
        assert_eq!(d, Digested::of_str(&long));
        assert_eq!(
            d.bytes as usize,
            Value::from(long.as_str()).to_string().len()
        );
        assert_eq!(
            (kept["name"].clone(), kept["labels"].clone()),
            (json!("vm-1"), json!({"sdbc-group": "vm"}))
        );
        // A short value on one line stays verbatim.
        assert_eq!(stored(&body("short")), body("short"));
        let mut migrated = body(&long);
        shrink(&mut migrated);
        assert_eq!(migrated, kept);
    }

    #[test]
    fn a_digest_equals_only_the_value_it_was_made_from() {
        let long = "#cloud-config\n".repeat(20);
        let kept = stored(&body(&long));
        let (wanted, other) = (body(&long), body(&format!("{long}x")));
        let memo = Memo::default();
        assert!(same(&kept, &wanted, &memo));
        assert!(!same(&kept, &other, &memo));
        let (a, b) = (body("a"), body("b"));
        assert!(same(&a, &a, &memo));
        assert!(!same(&a, &b, &memo));
        // A digest is not the string of its own text.
        let text = body(&kept["metadata"]["items"][1]["value"].to_string());
        assert!(!same(&kept, &text, &Memo::default()));
        // Other objects are not digests.
        assert_eq!(
            Digested::from_value(&json!({"sha256": "zz", "bytes": 1})),
            None
        );
        assert_eq!(Digested::from_value(&json!({"a": 1, "b": 2})), None);
    }
}
