//! A VM's Docker engine labels: a short list in key order whose text is
//! shared. Every VM has two (`sdbc.group`, `sdbc.member`); as a
//! `BTreeMap<String, String>` they took a node of eleven slots and four
//! strings per VM (about 700 bytes), here one small vector and one string
//! (the member's name), the keys and the group's name being shared.

use std::sync::{Arc, LazyLock};

use serde::ser::{Serialize, SerializeMap, Serializer};

/// The label naming a VM's group.
pub const ENGINE_LABEL_GROUP: &str = "sdbc.group";
/// The label naming the VM itself.
pub const ENGINE_LABEL_MEMBER: &str = "sdbc.member";

static GROUP_KEY: LazyLock<Arc<str>> = LazyLock::new(|| Arc::from(ENGINE_LABEL_GROUP));
static MEMBER_KEY: LazyLock<Arc<str>> = LazyLock::new(|| Arc::from(ENGINE_LABEL_MEMBER));

/// Label key to value, listed (and serialized) in key order, as a
/// `BTreeMap` lists them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EngineLabels(Vec<(Arc<str>, Arc<str>)>);

impl EngineLabels {
    /// The labels of a member of `group` (shared by its members) named `member`.
    pub fn of_member(group: Arc<str>, member: Arc<str>) -> EngineLabels {
        EngineLabels(vec![
            (GROUP_KEY.clone(), group),
            (MEMBER_KEY.clone(), member),
        ])
    }

    /// Sets `key` to `value`; returns the value it replaces, if any.
    pub fn insert(
        &mut self,
        key: impl Into<Arc<str>>,
        value: impl Into<Arc<str>>,
    ) -> Option<Arc<str>> {
        let (key, value) = (key.into(), value.into());
        match self.0.binary_search_by(|(k, _)| (**k).cmp(&*key)) {
            Ok(i) => Some(std::mem::replace(&mut self.0[i].1, value)),
            Err(i) => {
                self.0.insert(i, (key, value));
                None
            }
        }
    }

    pub fn get(&self, key: &str) -> Option<&str> {
        self.0
            .binary_search_by(|(k, _)| (**k).cmp(key))
            .ok()
            .map(|i| &*self.0[i].1)
    }

    /// `(key, value)` pairs in key order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.0.iter().map(|(k, v)| (&**k, &**v))
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl Serialize for EngineLabels {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut map = s.serialize_map(Some(self.0.len()))?;
        for (k, v) in self.iter() {
            map.serialize_entry(k, v)?;
        }
        map.end()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    #[test]
    fn lists_and_serializes_as_a_map_would() {
        let mut labels = EngineLabels::of_member(Arc::from("web"), Arc::from("web-2"));
        let mut map = BTreeMap::from([
            (String::from(ENGINE_LABEL_GROUP), String::from("web")),
            (String::from(ENGINE_LABEL_MEMBER), String::from("web-2")),
        ]);
        for (k, v) in [("on", "22:22"), ("a", "1"), ("sdbc.zz", "2"), ("on", "no")] {
            assert_eq!(
                labels.insert(k, v).map(|x| x.to_string()),
                map.insert(k.to_string(), v.to_string())
            );
        }
        let listed: Vec<(String, String)> = labels
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        assert_eq!(listed, map.clone().into_iter().collect::<Vec<_>>());
        assert_eq!(
            serde_json::to_string(&labels).ok(),
            serde_json::to_string(&map).ok()
        );
        assert_eq!(labels.get("on"), Some("no"));
        assert_eq!(labels.get("sdbc.group"), Some("web"));
        assert_eq!(labels.get("missing"), None);
        assert_eq!(labels.len(), map.len());
    }
}
