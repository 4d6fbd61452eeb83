//! Deterministic `requestId`s for mutating calls, so that a retried or
//! resumed call is recognised by Compute Engine instead of done twice.

use sha2::{Digest, Sha256};

/// A UUID-formatted (version 8, RFC 9562) id derived from the state
/// lineage, the node's address and a digest of the change. The same inputs
/// always give the same id; any different input gives a different one.
pub fn request_id(lineage: &str, address: &str, change_digest: &str) -> String {
    let mut h = Sha256::new();
    for part in ["sdbc-request-id:v1", lineage, address, change_digest] {
        // Length-prefix each part so ("ab","c") and ("a","bc") differ.
        h.update((part.len() as u64).to_be_bytes());
        h.update(part.as_bytes());
    }
    let digest = h.finalize();
    let mut b = [0u8; 16];
    b.copy_from_slice(&digest[..16]);
    b[6] = (b[6] & 0x0f) | 0x80;
    b[8] = (b[8] & 0x3f) | 0x80;
    crate::state::util::uuid_string(&b)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stable_distinct_and_uuid_shaped() {
        let a = request_id("lin", "vm.worker[2]", "sha256:abc");
        assert_eq!(a, request_id("lin", "vm.worker[2]", "sha256:abc"));
        assert_ne!(a, request_id("lin2", "vm.worker[2]", "sha256:abc"));
        assert_ne!(a, request_id("lin", "vm.worker[3]", "sha256:abc"));
        assert_ne!(a, request_id("lin", "vm.worker[2]", "sha256:abd"));
        assert_ne!(request_id("ab", "c", ""), request_id("a", "bc", ""));
        let parts: Vec<usize> = a.split('-').map(str::len).collect();
        assert_eq!(parts, [8, 4, 4, 4, 12]);
        assert!(
            a.chars()
                .all(|c| c == '-' || c.is_ascii_hexdigit() && !c.is_ascii_uppercase())
        );
        assert_eq!(&a[14..15], "8", "version nibble");
        assert!(matches!(&a[19..20], "8" | "9" | "a" | "b"), "RFC variant");
        assert_ne!(a, "00000000-0000-0000-0000-000000000000");
    }
}
