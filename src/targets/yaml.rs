//! YAML output shared by every target that writes YAML (the Swarm stack file,
//! cloud-init user-data).
//!
//! The consumers read YAML 1.1: cloud-init parses user-data with PyYAML, and
//! many tools in the Docker ecosystem do the same. A YAML 1.1 reader turns
//! plain scalars such as `yes`, `on`, `22:22` (sexagesimal), `1_000`, `012`
//! or `2024-01-01` into booleans, numbers and dates, so every string that a
//! YAML 1.1 (or 1.2) reader would resolve to anything but the same string
//! must be quoted. serde-saphyr does that by default (`yaml_12: false`); see
//! `docs/decisions/0003-yaml.md`, and the round-trip test through PyYAML in
//! `tests/yaml_traps.rs`.
//!
//! The one option changed from the default: single-line strings are never
//! folded into `>` block scalars, however long, so that a long command line
//! or URL stays on one line and reads back byte for byte in every reader.
//! Multi-line strings are written as literal (`|`) block scalars.

use serde::Serialize;

/// Why a value could not be written as YAML. Only values whose `Serialize`
/// implementation itself fails (a custom error) produce one; the model's
/// types never do.
#[derive(Debug, thiserror::Error)]
#[error("cannot write YAML: {0}")]
pub struct YamlError(String);

/// The serializer settings every sdbc YAML file is written with.
fn options() -> serde_saphyr::SerializerOptions {
    serde_saphyr::ser_options! {
        // Keep YAML 1.1 quoting heuristics on (the default, stated here on purpose).
        yaml_12: false,
        indent_step: 2,
        // Never fold long single-line strings into `>` blocks.
        folded_wrap_chars: usize::MAX,
    }
}

/// Writes `value` as a YAML document, quoting every string a YAML 1.1 reader
/// would read as something else.
pub fn try_to_yaml<T: Serialize>(value: &T) -> Result<String, YamlError> {
    serde_saphyr::to_string_with_options(value, options()).map_err(|e| YamlError(e.to_string()))
}

/// Writes `value` as a YAML document; see [`try_to_yaml`].
///
/// # Panics
///
/// Only if `value`'s `Serialize` implementation fails, which is a programming
/// error (the types sdbc writes are plain structs, maps with string keys,
/// sequences and scalars), never a property of the user's input.
pub fn to_yaml<T: Serialize>(value: &T) -> String {
    match try_to_yaml(value) {
        Ok(text) => text,
        Err(e) => panic!("sdbc bug: a generated document is not serializable: {e}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    #[test]
    fn quotes_yaml11_booleans_and_numbers() {
        for trap in [
            "yes",
            "on",
            "off",
            "n",
            "22:22",
            "1_000",
            "0x10",
            "012",
            "2024-01-01",
        ] {
            let text = to_yaml(&BTreeMap::from([("k", trap)]));
            assert!(
                text == format!("k: \"{trap}\"\n") || text == format!("k: '{trap}'\n"),
                "{trap:?} written as {text:?}"
            );
        }
    }

    #[test]
    fn plain_strings_stay_plain() {
        let text = to_yaml(&BTreeMap::from([("image", "nginx:1.27"), ("name", "web")]));
        assert_eq!(text, "image: nginx:1.27\nname: web\n");
    }

    #[test]
    fn long_strings_are_not_folded() {
        let long = "word ".repeat(40);
        let long = long.trim_end();
        let text = to_yaml(&BTreeMap::from([("k", long)]));
        assert_eq!(text, format!("k: {long}\n"));
    }

    #[test]
    fn multi_line_strings_are_literal_blocks() {
        let text = to_yaml(&BTreeMap::from([("k", "a\nb\n")]));
        assert_eq!(text, "k: |\n  a\n  b\n");
    }

    /// A value whose `Serialize` fails, as a custom implementation might.
    struct Failing;

    impl Serialize for Failing {
        fn serialize<S: serde::Serializer>(&self, _: S) -> Result<S::Ok, S::Error> {
            Err(serde::ser::Error::custom("refused"))
        }
    }

    #[test]
    fn a_failing_serialize_is_an_error_not_a_panic() {
        let err = try_to_yaml(&Failing).map(|_| ()).map_err(|e| e.to_string());
        assert_eq!(err, Err(String::from("cannot write YAML: refused")));
    }
}
