//! Per-resource limits the real API enforces beyond the schema, answered
//! with 400 `invalid` as it does: at most 64 labels, at most 64 network
//! tags each an RFC 1035 name, a subnetwork range no smaller than /29,
//! attached disks in the instance's zone, firewall ports only for the
//! protocols that have them and within 0–65535. (Names and label
//! characters are checked in `util`, metadata size in `instance`.)

use crate::error::ApiError;
use serde_json::Value;

const MAX_LABELS: usize = 64;
const MAX_TAGS: usize = 64;
const MAX_SUBNET_PREFIX: u32 = 29;
const PROTOCOLS_WITH_PORTS: &[&str] = &["tcp", "udp", "sctp", "6", "17", "132"];

/// Checks an insert body of `collection` at `location` (zone, region or "").
pub fn check(collection: &str, location: &str, body: &Value) -> Result<(), ApiError> {
    labels(body)?;
    match collection {
        "instances" => {
            tags(body)?;
            disk_zones(location, body)
        }
        "subnetworks" => subnet_range(body),
        "firewalls" => ports(body),
        _ => Ok(()),
    }
}

fn invalid(field: &str, value: &str, why: &str) -> ApiError {
    ApiError::invalid(format!(
        "Invalid value for field '{field}': '{value}'. {why}"
    ))
}

fn labels(body: &Value) -> Result<(), ApiError> {
    let n = body["labels"].as_object().map_or(0, serde_json::Map::len);
    if n > MAX_LABELS {
        return Err(invalid(
            "resource.labels",
            &n.to_string(),
            &format!("Too many labels; the maximum is {MAX_LABELS}."),
        ));
    }
    Ok(())
}

fn tags(body: &Value) -> Result<(), ApiError> {
    let items = body["tags"]["items"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    if items.len() > MAX_TAGS {
        return Err(invalid(
            "resource.tags.items",
            &items.len().to_string(),
            &format!("Too many tags; the maximum is {MAX_TAGS}."),
        ));
    }
    for (i, tag) in items.iter().enumerate() {
        let tag = tag.as_str().unwrap_or_default();
        if crate::util::check_name(tag).is_err() {
            return Err(invalid(
                &format!("resource.tags.items[{i}]"),
                tag,
                "Must be a match of regex '(?:[a-z](?:[-a-z0-9]{0,61}[a-z0-9])?)'",
            ));
        }
    }
    Ok(())
}

/// `zones/Z/disks/D` (or a full link): the zone Z.
fn zone_of(link: &str) -> Option<&str> {
    let mut parts = link.split('/');
    parts.find(|p| *p == "zones")?;
    parts.next()
}

fn disk_zones(zone: &str, body: &Value) -> Result<(), ApiError> {
    let disks = body["disks"].as_array().cloned().unwrap_or_default();
    for (i, disk) in disks.iter().enumerate() {
        let Some(source) = disk["source"].as_str() else {
            continue;
        };
        if zone_of(source).is_some_and(|z| z != zone) {
            return Err(invalid(
                &format!("resource.disks[{i}].source"),
                source,
                &format!("Disk must be in the same zone as the instance ({zone})."),
            ));
        }
    }
    Ok(())
}

fn subnet_range(body: &Value) -> Result<(), ApiError> {
    let cidr = body["ipCidrRange"].as_str().unwrap_or_default();
    let prefix = cidr
        .split_once('/')
        .and_then(|(_, p)| p.parse::<u32>().ok());
    if prefix.is_some_and(|p| p > MAX_SUBNET_PREFIX) {
        return Err(invalid(
            "resource.ipCidrRange",
            cidr,
            &format!("The prefix length must be at most {MAX_SUBNET_PREFIX}."),
        ));
    }
    Ok(())
}

fn ports(body: &Value) -> Result<(), ApiError> {
    let rules = body["allowed"].as_array().cloned().unwrap_or_default();
    for (i, rule) in rules.iter().enumerate() {
        let protocol = rule["IPProtocol"].as_str().unwrap_or_default();
        let ports = rule["ports"].as_array().cloned().unwrap_or_default();
        if !ports.is_empty() && !PROTOCOLS_WITH_PORTS.contains(&protocol) {
            return Err(invalid(
                &format!("resource.allowed[{i}].ports"),
                protocol,
                "Ports may be given only for the tcp, udp and sctp protocols.",
            ));
        }
        for (j, port) in ports.iter().enumerate() {
            let text = port.as_str().unwrap_or_default();
            if !port_range_ok(text) {
                return Err(invalid(
                    &format!("resource.allowed[{i}].ports[{j}]"),
                    text,
                    "Ports must be a number or a range N-M within 0-65535.",
                ));
            }
        }
    }
    Ok(())
}

fn port_range_ok(text: &str) -> bool {
    let port = |s: &str| {
        !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()) && s.parse::<u16>().is_ok()
    };
    match text.split_once('-') {
        Some((lo, hi)) => port(lo) && port(hi) && lo.parse::<u16>().ok() <= hi.parse::<u16>().ok(),
        None => port(text),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn limits() {
        assert!(check("subnetworks", "r", &json!({"ipCidrRange": "10.0.0.0/29"})).is_ok());
        assert!(check("subnetworks", "r", &json!({"ipCidrRange": "10.0.0.0/30"})).is_err());
        let disk =
            |z: &str| json!({"disks": [{"source": format!("projects/p/zones/{z}/disks/d")}]});
        assert!(check("instances", "us-central1-b", &disk("us-central1-b")).is_ok());
        assert!(check("instances", "us-central1-b", &disk("us-central1-c")).is_err());
        let fw = |p: &str, ports: Value| json!({"allowed": [{"IPProtocol": p, "ports": ports}]});
        assert!(check("firewalls", "", &fw("tcp", json!(["80", "8000-8100"]))).is_ok());
        assert!(check("firewalls", "", &fw("esp", json!([]))).is_ok());
        assert!(check("firewalls", "", &fw("icmp", json!(["8"]))).is_err());
        assert!(check("firewalls", "", &fw("tcp", json!(["70000"]))).is_err());
        assert!(check("firewalls", "", &fw("tcp", json!(["90-80"]))).is_err());
        let tags: Vec<String> = (0..65).map(|i| format!("t{i}")).collect();
        assert!(check("instances", "z", &json!({"tags": {"items": tags}})).is_err());
        assert!(check("instances", "z", &json!({"tags": {"items": ["Web"]}})).is_err());
        let labels: serde_json::Map<String, Value> =
            (0..65).map(|i| (format!("l{i}"), json!("v"))).collect();
        assert!(check("networks", "", &json!({"labels": labels})).is_err());
    }
}
