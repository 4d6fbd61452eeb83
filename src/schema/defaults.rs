//! The schema's defaults as typed values: what lowering (and the model's
//! own defaults) fall back to when a program leaves an attribute out, so a
//! default is written once, in [`super::KINDS`], and `docs/language.md`,
//! hovers and the compiled output all follow it.
//!
//! Asking for a default the schema does not declare is a bug in sdbc, not
//! in the program: these functions panic then, and a test reads every
//! declared default through them.

use super::{ArgSchema, KINDS, Ty};
use crate::syntax::{DURATION_UNITS, SIZE_UNITS};

/// Kind name -> attribute name -> the first such attribute of a kind of that name.
type ArgIndex =
    foldhash::HashMap<&'static str, foldhash::HashMap<&'static str, &'static ArgSchema>>;

/// The attribute `attr` of the kind `kind` (the first kind of that name that has it).
/// Looked up in an index made once: lowering asks per VM and per service.
fn arg(kind: &str, attr: &str) -> &'static ArgSchema {
    static INDEX: std::sync::OnceLock<ArgIndex> = std::sync::OnceLock::new();
    let index = INDEX.get_or_init(|| {
        let mut index = ArgIndex::default();
        for k in KINDS {
            let attrs = index.entry(k.name).or_default();
            for a in k.positional.iter().chain(k.attrs) {
                attrs.entry(a.name).or_insert(a);
            }
        }
        index
    });
    index
        .get(kind)
        .and_then(|attrs| attrs.get(attr))
        .copied()
        .unwrap_or_else(|| panic!("the schema has no attribute `{attr}` of `{kind}`"))
}

/// The default as written in the schema (a quoted default without its quotes).
pub fn text(kind: &str, attr: &str) -> &'static str {
    let d = arg(kind, attr)
        .default
        .unwrap_or_else(|| panic!("the schema gives `{attr}` of `{kind}` no default"));
    d.strip_prefix('"')
        .and_then(|d| d.strip_suffix('"'))
        .unwrap_or(d)
}

fn parsed<T: std::str::FromStr>(kind: &str, attr: &str) -> T {
    text(kind, attr)
        .parse()
        .unwrap_or_else(|_| panic!("the default of `{attr}` of `{kind}` does not parse"))
}

pub fn int(kind: &str, attr: &str) -> u64 {
    parsed(kind, attr)
}

pub fn boolean(kind: &str, attr: &str) -> bool {
    parsed(kind, attr)
}

/// `20GB` and the like, in bytes.
pub fn size_bytes(kind: &str, attr: &str) -> u64 {
    with_unit(SIZE_UNITS, kind, attr)
}

/// `10s` and the like, in milliseconds.
pub fn duration_ms(kind: &str, attr: &str) -> u64 {
    with_unit(DURATION_UNITS, kind, attr)
}

fn with_unit(units: &[(&str, u64)], kind: &str, attr: &str) -> u64 {
    let t = text(kind, attr);
    let digits = t.len() - t.trim_start_matches(|c: char| c.is_ascii_digit()).len();
    let (n, unit) = t.split_at(digits);
    let factor = units
        .iter()
        .find(|(u, _)| *u == unit)
        .map(|(_, f)| *f)
        .unwrap_or_else(|| panic!("the default of `{attr}` of `{kind}` has no known unit"));
    n.parse::<u64>()
        .ok()
        .and_then(|n| n.checked_mul(factor))
        .unwrap_or_else(|| panic!("the default of `{attr}` of `{kind}` is no number"))
}

/// The words an `Enum` attribute accepts.
pub fn words(kind: &str, attr: &str) -> &'static [&'static str] {
    match arg(kind, attr).ty {
        Ty::Enum(words) => words,
        _ => panic!("`{attr}` of `{kind}` is not one of a set of words"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every declared default reads as a value of its type.
    #[test]
    fn every_default_reads_as_its_type() {
        for k in KINDS {
            for a in k.positional.iter().chain(k.attrs) {
                if a.default.is_none() {
                    continue;
                }
                let (kind, attr) = (k.name, a.name);
                match a.ty {
                    Ty::Int => {
                        int(kind, attr);
                    }
                    Ty::Bool => {
                        boolean(kind, attr);
                    }
                    Ty::Size => {
                        size_bytes(kind, attr);
                    }
                    Ty::Duration => {
                        duration_ms(kind, attr);
                    }
                    Ty::Enum(w) => assert!(w.contains(&text(kind, attr)), "{kind}.{attr}"),
                    _ => assert!(!text(kind, attr).is_empty(), "{kind}.{attr}"),
                }
            }
        }
        assert_eq!(size_bytes("vm", "disk_size"), 20_000_000_000);
        assert_eq!(duration_ms("healthcheck", "interval"), 10_000);
        assert_eq!(text("firewall", "from"), "0.0.0.0/0");
    }
}
