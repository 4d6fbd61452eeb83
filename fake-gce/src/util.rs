//! Small helpers: timestamps, fingerprints, ids, name and label checks,
//! resource references.

use crate::error::ApiError;
use std::time::{SystemTime, UNIX_EPOCH};

/// RFC 3339 timestamp with milliseconds, in UTC (`2026-01-02T03:04:05.678+00:00`).
pub fn now_rfc3339() -> String {
    let d = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default();
    rfc3339(d.as_secs() as i64, d.subsec_millis())
}

/// Format seconds since the epoch.
pub fn rfc3339(secs: i64, millis: u32) -> String {
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    // Howard Hinnant's civil_from_days.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}.{millis:03}+00:00",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

/// Standard base64 with padding (fingerprints look like `42WmSpB8rSM=`).
pub fn base64(bytes: &[u8]) -> String {
    const T: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            chunk.get(1).copied().unwrap_or(0),
            chunk.get(2).copied().unwrap_or(0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(T[(n >> (18 - 6 * i) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// A random 8-byte fingerprint.
pub fn fingerprint(rng: &mut fastrand::Rng) -> String {
    base64(&rng.u64(..).to_be_bytes())
}

/// RFC 1035 name as Compute Engine requires: `[a-z]([-a-z0-9]{0,61}[a-z0-9])?`.
pub fn check_name(name: &str) -> Result<(), ApiError> {
    let b = name.as_bytes();
    let ok = !b.is_empty()
        && b.len() <= 63
        && b[0].is_ascii_lowercase()
        && b.iter()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || *c == b'-')
        && b[b.len() - 1] != b'-';
    if ok {
        Ok(())
    } else {
        Err(ApiError::invalid(format!(
            "Invalid value for field 'resource.name': '{name}'. Must be a match of regex \
             '(?:[a-z](?:[-a-z0-9]{{0,61}}[a-z0-9])?)'"
        )))
    }
}

/// Label keys `[a-z][a-z0-9_-]{0,62}`, values `[a-z0-9_-]{0,63}`.
pub fn check_labels(labels: Option<&serde_json::Value>) -> Result<(), ApiError> {
    let Some(map) = labels.and_then(serde_json::Value::as_object) else {
        return Ok(());
    };
    let ok_char = |c: u8| c.is_ascii_lowercase() || c.is_ascii_digit() || c == b'_' || c == b'-';
    for (k, v) in map {
        let v = v.as_str().unwrap_or("");
        let key_ok = k.len() <= 63
            && k.as_bytes().first().is_some_and(u8::is_ascii_lowercase)
            && k.bytes().all(ok_char);
        let value_ok = v.len() <= 63 && v.bytes().all(ok_char);
        if !key_ok || !value_ok {
            return Err(ApiError::invalid(format!(
                "Invalid value for field 'labels': label '{k}' = '{v}'. Keys must match \
                 [a-z][a-z0-9_-]{{0,62}} and values [a-z0-9_-]{{0,63}}"
            )));
        }
    }
    Ok(())
}

/// `requestId` must be a UUID other than the zero UUID.
pub fn check_request_id(id: &str) -> Result<(), ApiError> {
    let groups: Vec<&str> = id.split('-').collect();
    let shape = [8, 4, 4, 4, 12];
    let ok = groups.len() == 5
        && groups
            .iter()
            .zip(shape)
            .all(|(g, n)| g.len() == n && g.bytes().all(|c| c.is_ascii_hexdigit()))
        && id.bytes().any(|c| c != b'0' && c != b'-');
    if ok {
        Ok(())
    } else {
        Err(ApiError::invalid(format!(
            "Invalid value for field 'requestId': '{id}'. The request ID must be a valid UUID \
             with the exception that zero UUID is not supported"
        )))
    }
}

/// Turn a reference (full URL, `projects/p/...`, or `global/...`, `regions/...`,
/// `zones/...` relative to the project) into a resource key
/// `projects/p/<scope>/<collection>/<name>`.
pub fn reference_key(reference: &str, project: &str) -> Option<String> {
    let rest = if reference.starts_with("https://") || reference.starts_with("http://") {
        let at = reference.find("/projects/")?;
        &reference[at + 1..]
    } else {
        reference
    };
    let key = if rest.starts_with("projects/") {
        rest.to_string()
    } else if rest.starts_with("global/")
        || rest.starts_with("regions/")
        || rest.starts_with("zones/")
    {
        format!("projects/{project}/{rest}")
    } else {
        return None;
    };
    let parts: Vec<&str> = key.split('/').collect();
    let shape_ok = match parts.get(2) {
        Some(&"global") => parts.len() == 5,
        Some(&"regions") | Some(&"zones") => parts.len() == 6,
        _ => false,
    };
    (shape_ok && parts.iter().all(|p| !p.is_empty())).then_some(key)
}

/// The region of a zone (`europe-west1-b` -> `europe-west1`).
pub fn region_of_zone(zone: &str) -> &str {
    zone.rsplit_once('-').map_or(zone, |(r, _)| r)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats() {
        assert_eq!(rfc3339(0, 0), "1970-01-01T00:00:00.000+00:00");
        assert_eq!(rfc3339(1_709_251_199, 5), "2024-02-29T23:59:59.005+00:00");
        assert_eq!(base64(b"hello"), "aGVsbG8=");
        assert_eq!(base64(b"hi!"), "aGkh");
        assert_eq!(base64(b"h"), "aA==");
    }

    #[test]
    fn checks() {
        assert!(check_name("manager-0").is_ok());
        for bad in ["", "Manager", "1vm", "vm-", "vm_0"] {
            assert!(check_name(bad).is_err(), "{bad}");
        }
        assert!(check_request_id("123e4567-e89b-12d3-a456-426614174000").is_ok());
        assert!(check_request_id("00000000-0000-0000-0000-000000000000").is_err());
        assert!(check_request_id("not-a-uuid").is_err());
        let good = serde_json::json!({"sdbc-stack": "misago", "k": ""});
        assert!(check_labels(Some(&good)).is_ok());
        let bad = serde_json::json!({"sdbc-stack": "Misago"});
        assert!(check_labels(Some(&bad)).is_err());
    }

    #[test]
    fn references() {
        let k = Some("projects/p/global/networks/n".to_string());
        assert_eq!(reference_key("global/networks/n", "p"), k);
        assert_eq!(reference_key("projects/p/global/networks/n", "q"), k);
        assert_eq!(
            reference_key(
                "https://www.googleapis.com/compute/v1/projects/p/global/networks/n",
                "q"
            ),
            k
        );
        assert_eq!(reference_key("n", "p"), None);
        assert_eq!(reference_key("zones/z/machineTypes", "p"), None);
        assert_eq!(region_of_zone("europe-west1-b"), "europe-west1");
    }
}
