//! Writing compact JSON text by hand, exactly as serde_json writes it.
//!
//! The instance builder writes its kept body field by field into one
//! `String` (no tree, no serializer), and the plan compares that text with
//! the one a state keeps, which serde_json wrote. So every string here is
//! escaped as serde_json escapes it: a string that needs no escape is
//! copied; any other goes through serde_json itself. `tests` hold the two
//! equal on every character class that matters.

/// Appends `s` as a JSON string, quotes included.
pub fn push_str(out: &mut String, s: &str) {
    out.push('"');
    push_escaped(out, s);
    out.push('"');
}

/// Appends the inside of `s` as a JSON string: its escaped characters,
/// without the quotes.
pub fn push_escaped(out: &mut String, s: &str) {
    if !needs_escape(s.as_bytes()) {
        out.push_str(s);
        return;
    }
    let quoted = serde_json::to_string(s).expect("a string always serializes");
    out.push_str(&quoted[1..quoted.len() - 1]);
}

/// Whether `bytes` hold a control character, `"` or `\\`: the bytes a JSON
/// string escapes. Eight bytes at a time (the usual bit tricks: a byte of
/// `x` is below `n` when `x - n` borrows into its high bit).
fn needs_escape(bytes: &[u8]) -> bool {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    let zero_byte = |x: u64| x.wrapping_sub(ONES) & !x & HIGH != 0;
    let mut chunks = bytes.chunks_exact(8);
    for chunk in &mut chunks {
        let x = u64::from_le_bytes(chunk.try_into().expect("chunks of eight"));
        let below_space = x.wrapping_sub(ONES * 0x20) & !x & HIGH != 0;
        if below_space
            || zero_byte(x ^ (ONES * u64::from(b'"')))
            || zero_byte(x ^ (ONES * u64::from(b'\\')))
        {
            return true;
        }
    }
    chunks
        .remainder()
        .iter()
        .any(|&b| b < 0x20 || b == b'"' || b == b'\\')
}

/// Appends an object of string pairs, in the order given: `{"k":"v",...}`.
pub fn push_pairs<'a>(out: &mut String, pairs: impl IntoIterator<Item = (&'a str, &'a str)>) {
    out.push('{');
    push_members(out, pairs);
    out.push('}');
}

/// Appends string pairs as an object's members, without the braces:
/// `"k":"v",...`.
pub fn push_members<'a>(out: &mut String, pairs: impl IntoIterator<Item = (&'a str, &'a str)>) {
    for (i, (k, v)) in pairs.into_iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        push_str(out, k);
        out.push(':');
        push_str(out, v);
    }
}

/// Appends an array of strings: `["a","b"]`.
pub fn push_strs<'a>(out: &mut String, items: impl IntoIterator<Item = &'a str>) {
    out.push('[');
    for (i, s) in items.into_iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        push_str(out, s);
    }
    out.push(']');
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strings_are_written_as_serde_json_writes_them() {
        let mut samples: Vec<String> = (0u32..0x80)
            .filter_map(char::from_u32)
            .map(|c| format!("a{c}b"))
            .collect();
        samples.extend(
            [
                "",
                "plain",
                "é ü \u{2028} \u{FEFF} 😀",
                "\"q\"",
                "back\\slash",
                "/slash",
            ]
            .map(String::from),
        );
        for s in &samples {
            let mut out = String::new();
            push_str(&mut out, s);
            assert_eq!(out, serde_json::to_string(s).expect("ser"), "{s:?}");
        }
    }

    #[test]
    fn every_byte_that_needs_an_escape_is_found_at_every_position() {
        for len in 0..20 {
            for at in 0..len {
                for b in 0u8..=0x7f {
                    let mut bytes = vec![b'a'; len];
                    bytes[at] = b;
                    let expected = b < 0x20 || b == b'"' || b == b'\\';
                    assert_eq!(needs_escape(&bytes), expected, "{b:#x} at {at} of {len}");
                }
                let mut high = vec![b'a'; len];
                high[at] = 0xC3;
                assert!(!needs_escape(&high));
            }
        }
    }

    #[test]
    fn pairs_and_arrays_are_compact_json() {
        let mut out = String::new();
        push_pairs(&mut out, [("k", "v\n"), ("a", "b")]);
        push_strs(&mut out, ["x", "y\"z"]);
        push_strs(&mut out, []);
        push_pairs(&mut out, []);
        assert_eq!(out, r#"{"k":"v\n","a":"b"}["x","y\"z"][]{}"#);
    }
}
