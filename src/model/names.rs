//! Compute Engine naming rules: resource names (`[a-z]([-a-z0-9]*[a-z0-9])?`,
//! at most 63 characters) and label keys and values (lowercase letters,
//! digits, `_` and `-`, at most 63 characters; keys start with a letter).
//!
//! The checker rejects invalid user-written names with a diagnostic; these
//! functions make *generated* names (`misago-swarm`, the stack tag) and
//! copied label values valid no matter what, deterministically. A valid
//! input is returned unchanged.

use std::borrow::Cow;

use sha2::{Digest, Sha256};

/// The longest name or label Compute Engine accepts.
pub const MAX_LEN: usize = 63;

/// Compute Engine sizes are whole GB: binary sizes are taken as GiB, decimal ones rounded up.
pub fn gce_gb(bytes: u64) -> u64 {
    if bytes.is_multiple_of(1 << 30) {
        bytes >> 30
    } else {
        bytes.div_ceil(1_000_000_000)
    }
}

/// The static external address of the VM `vm` (`static_ip = true`).
pub fn static_address(vm: &str) -> String {
    format!("{vm}-ip")
}

/// Whether `s` is a valid resource name (also the rule for network tags).
pub fn is_valid_name(s: &str) -> bool {
    let b = s.as_bytes();
    !b.is_empty()
        && b.len() <= MAX_LEN
        && b[0].is_ascii_lowercase()
        && b.iter()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || *c == b'-')
        && b[b.len() - 1] != b'-'
}

/// `s` if it is a valid resource name, else a valid name derived from it:
/// lowercased, other characters replaced by `-`, prefixed with `x` if it does
/// not start with a letter, and, if that changed it or it is too long,
/// shortened with 8 hex digits of its SHA-256 appended so that distinct
/// inputs stay distinct.
pub fn resource_name(s: &str) -> String {
    resource_name_of(s).into_owned()
}

/// [`resource_name`], borrowing `s` when it is valid as it is.
pub fn resource_name_of(s: &str) -> Cow<'_, str> {
    if is_valid_name(s) {
        return Cow::Borrowed(s);
    }
    let mut base: String = s
        .chars()
        .map(|c| match c.to_ascii_lowercase() {
            c @ ('a'..='z' | '0'..='9') => c,
            _ => '-',
        })
        .collect();
    if !base.starts_with(|c: char| c.is_ascii_lowercase()) {
        base.insert(0, 'x');
    }
    base.truncate(MAX_LEN - 9);
    let base = base.trim_end_matches('-');
    Cow::Owned(format!("{base}-{}", short_hash(s)))
}

/// The network tag every instance of the stack carries (`sdbc-STACK`): the
/// source and target of the generated Swarm firewall.
pub fn stack_tag(stack: &str) -> String {
    resource_name(&format!("sdbc-{stack}"))
}

/// A label key: lowercase letters, digits, `_`, `-`, starting with a letter.
pub fn label_key(s: &str) -> String {
    let mut k = label_chars(s);
    if !k.starts_with(|c: char| c.is_ascii_lowercase()) {
        k.insert(0, 'l');
    }
    truncate_label(k, s)
}

/// A label value: lowercase letters, digits, `_`, `-` (may be empty).
pub fn label_value(s: &str) -> String {
    label_value_of(s).into_owned()
}

/// [`label_value`], borrowing `s` when it is valid as it is.
pub fn label_value_of(s: &str) -> Cow<'_, str> {
    let valid = |c: u8| c.is_ascii_lowercase() || c.is_ascii_digit() || c == b'_' || c == b'-';
    if s.len() <= MAX_LEN && s.bytes().all(valid) {
        return Cow::Borrowed(s);
    }
    Cow::Owned(truncate_label(label_chars(s), s))
}

fn label_chars(s: &str) -> String {
    s.chars()
        .map(|c| match c.to_ascii_lowercase() {
            c @ ('a'..='z' | '0'..='9' | '_' | '-') => c,
            _ => '_',
        })
        .collect()
}

fn truncate_label(mut out: String, original: &str) -> String {
    if out.len() > MAX_LEN {
        out.truncate(MAX_LEN - 9);
        out.push('-');
        out.push_str(&short_hash(original));
    }
    out
}

/// The first 8 hex digits of the SHA-256 of `s`.
fn short_hash(s: &str) -> String {
    let digest = Sha256::digest(s.as_bytes());
    digest.iter().take(4).map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn valid_names_are_kept() {
        assert_eq!(resource_name("worker-2"), "worker-2");
        assert!(!is_valid_name("Worker"));
        assert!(!is_valid_name("a-"));
        assert!(!is_valid_name("2a"));
        assert!(!is_valid_name(&"a".repeat(64)));
    }

    #[test]
    fn invalid_names_become_valid_and_distinct() {
        let long = "a".repeat(80);
        for s in ["Misago_Stack", "2fast", &long, "a-", "ünïcode"] {
            let n = resource_name(s);
            assert!(is_valid_name(&n), "{s} -> {n}");
        }
        assert_ne!(resource_name("A_b"), resource_name("a-b"));
    }

    #[test]
    fn borrowed_forms_agree_with_the_owned_ones() {
        let long = "a".repeat(80);
        for s in [
            "worker-2",
            "Misago_Stack",
            "2fast",
            &long,
            "a-",
            "ünïcode",
            "",
            "x_y-z",
        ] {
            assert_eq!(resource_name_of(s), resource_name(s), "{s}");
            assert_eq!(label_value_of(s), label_value(s), "{s}");
            assert_eq!(label_value(s), truncate_label(label_chars(s), s), "{s}");
        }
        assert!(matches!(resource_name_of("worker-2"), Cow::Borrowed(_)));
        assert!(matches!(label_value_of("web_ops-1"), Cow::Borrowed(_)));
    }

    #[test]
    fn labels_are_valid() {
        assert_eq!(label_key("sdbc-stack"), "sdbc-stack");
        assert_eq!(label_key("9lives"), "l9lives");
        assert_eq!(label_value("Misago.Forum"), "misago_forum");
        assert_eq!(label_value(""), "");
        assert_eq!(label_value(&"x".repeat(100)).len(), MAX_LEN);
    }
}
