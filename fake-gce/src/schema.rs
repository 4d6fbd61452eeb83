//! Validation of request bodies against the vendored Compute Engine v1
//! discovery schemas (`data/gce/compute-v1-schemas.json`).
//!
//! The rules follow the discovery format:
//! - a field not declared in the schema is an error (the real API answers
//!   `Unknown name "x" at 'resource': Cannot find field.`);
//! - JSON types must match `type`; `format: int64`/`uint64` fields must be JSON
//!   strings holding digits, `int32`/`uint32` JSON numbers in range. (The real
//!   API's proto3 JSON parser is laxer: it also takes numbers for int64 and
//!   strings for int32. We are stricter on purpose, so sdbc emits the canonical
//!   form.);
//! - `enum` values must be listed;
//! - output-only fields (`readOnly: true`, or a description that says
//!   "[Output Only]" / starts with "Output only") must not be sent;
//! - `null` is rejected (omit the field instead);
//! - `$ref`, `items` and `additionalProperties` are followed.
//!
//! Required fields: the discovery document marks almost nothing as required
//! (only `name` of a few resources and metadata `key`/`value`, through
//! `annotations.required`). [`REQUIRED`] adds the fields the real API rejects
//! an insert without; see its doc comment for what each entry is based on.

use serde_json::Value;
use std::fmt;
use std::sync::OnceLock;

const VENDORED: &str = include_str!("../../data/gce/compute-v1-schemas.json");

/// One violation: where in the body (`$.disks[0].type`) and what is wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SchemaError {
    /// JSON path of the offending value, rooted at `$`.
    pub path: String,
    /// What is wrong with it.
    pub message: String,
}

impl fmt::Display for SchemaError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.path, self.message)
    }
}

impl std::error::Error for SchemaError {}

/// A requirement on a schema, checked wherever that schema is used in a body.
#[derive(Debug, Clone, Copy)]
pub enum Requirement {
    /// The field must be present (and, for arrays, non-empty).
    Field(&'static str),
    /// At least one of these fields must be present.
    AnyOf(&'static [&'static str]),
    /// Exactly one of these fields must be present.
    OneOf(&'static [&'static str]),
}

/// Fields required for request bodies, beyond the discovery annotations.
///
/// - `name` on every inserted resource: the API answers
///   `Required field 'resource.name' not specified`.
/// - Subnetwork `network` and `ipCidrRange`: required for a custom-mode
///   subnetwork (the only kind sdbc creates).
/// - Firewall: exactly one of `allowed`/`denied` ("Exactly one of allowed or
///   denied must be specified" in the firewall docs).
/// - Instance `machineType`, `disks`, `networkInterfaces`: an instance insert
///   without them is rejected (a boot disk and one interface are mandatory).
/// - AttachedDisk: `source` or `initializeParams` (the API needs to know which
///   disk to attach or create).
/// - Disk: one of `sizeGb`, `sourceImage`, `sourceSnapshot`, `sourceDisk`.
///   **Stricter than the real API**, which creates a default-sized blank disk;
///   sdbc always states the size or the source.
/// - InstancesSetMachineTypeRequest `machineType`.
/// - InstancesSetLabelsRequest `labelFingerprint`: the API answers 412 without
///   it once the resource has labels; sdbc must always send it.
pub const REQUIRED: &[(&str, Requirement)] = &[
    ("Network", Requirement::Field("name")),
    ("Subnetwork", Requirement::Field("name")),
    ("Subnetwork", Requirement::Field("network")),
    ("Subnetwork", Requirement::Field("ipCidrRange")),
    ("Firewall", Requirement::Field("name")),
    ("Firewall", Requirement::OneOf(&["allowed", "denied"])),
    ("Address", Requirement::Field("name")),
    (
        "Disk",
        Requirement::AnyOf(&["sizeGb", "sourceImage", "sourceSnapshot", "sourceDisk"]),
    ),
    ("Disk", Requirement::Field("name")),
    ("Instance", Requirement::Field("name")),
    ("Instance", Requirement::Field("machineType")),
    ("Instance", Requirement::Field("disks")),
    ("Instance", Requirement::Field("networkInterfaces")),
    (
        "AttachedDisk",
        Requirement::AnyOf(&["source", "initializeParams"]),
    ),
    (
        "InstancesSetMachineTypeRequest",
        Requirement::Field("machineType"),
    ),
    (
        "InstancesSetLabelsRequest",
        Requirement::Field("labelFingerprint"),
    ),
];

/// The whole vendored document (schemas, methods, revision, source).
pub fn document() -> &'static Value {
    static DOC: OnceLock<Value> = OnceLock::new();
    DOC.get_or_init(|| {
        // The file is vendored and checked by the unit tests: a parse failure
        // is a build defect, not a request error.
        serde_json::from_str(VENDORED).expect("vendored compute-v1-schemas.json is valid JSON")
    })
}

/// The discovery document's `revision` (e.g. `"20261106"`).
pub fn revision() -> &'static str {
    document()["revision"].as_str().unwrap_or("")
}

/// Whether the vendored subset holds a schema of that name.
pub fn has_schema(name: &str) -> bool {
    document()["schemas"].get(name).is_some()
}

/// Validate `body` as a request body of schema `schema_name`.
/// An empty vector means the body is acceptable.
pub fn validate(schema_name: &str, body: &Value) -> Vec<SchemaError> {
    let mut errors = Vec::new();
    match document()["schemas"].get(schema_name) {
        Some(schema) => check(schema, Some(schema_name), body, "$", &mut errors),
        None => errors.push(SchemaError {
            path: "$".into(),
            message: format!("unknown schema `{schema_name}`"),
        }),
    }
    errors
}

fn err(errors: &mut Vec<SchemaError>, path: &str, message: String) {
    errors.push(SchemaError {
        path: path.to_string(),
        message,
    });
}

fn is_output_only(field: &Value) -> bool {
    if field.get("readOnly").and_then(Value::as_bool) == Some(true) {
        return true;
    }
    let desc = field
        .get("description")
        .and_then(Value::as_str)
        .unwrap_or("");
    let lower = desc.to_ascii_lowercase();
    lower.starts_with("output only") || lower.contains("[output only]")
}

/// Check `value` against `schema` (a field or a schema body). `name` is the
/// schema's name when `schema` is a named schema (for the required table).
fn check(
    schema: &Value,
    name: Option<&str>,
    value: &Value,
    path: &str,
    errors: &mut Vec<SchemaError>,
) {
    if let Some(target) = schema.get("$ref").and_then(Value::as_str) {
        match document()["schemas"].get(target) {
            Some(resolved) => check(resolved, Some(target), value, path, errors),
            None => err(errors, path, format!("schema `{target}` is not vendored")),
        }
        return;
    }
    if value.is_null() {
        err(errors, path, "null is not allowed; omit the field".into());
        return;
    }
    let ty = schema.get("type").and_then(Value::as_str).unwrap_or("any");
    let format = schema.get("format").and_then(Value::as_str);
    match ty {
        "string" => check_string(schema, format, value, path, errors),
        "integer" => check_integer(format, value, path, errors),
        "number" if !value.is_number() => err(
            errors,
            path,
            format!("expected a number, got {}", kind(value)),
        ),
        "boolean" if !value.is_boolean() => err(
            errors,
            path,
            format!("expected a boolean, got {}", kind(value)),
        ),
        "array" => match value.as_array() {
            Some(items) => {
                if let Some(item_schema) = schema.get("items") {
                    for (i, item) in items.iter().enumerate() {
                        check(item_schema, None, item, &format!("{path}[{i}]"), errors);
                    }
                }
            }
            None => err(
                errors,
                path,
                format!("expected an array, got {}", kind(value)),
            ),
        },
        "object" => check_object(schema, name, value, path, errors),
        _ => {}
    }
}

fn kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

fn check_string(
    schema: &Value,
    format: Option<&str>,
    value: &Value,
    path: &str,
    errors: &mut Vec<SchemaError>,
) {
    let Some(s) = value.as_str() else {
        let hint = match format {
            Some(f @ ("int64" | "uint64")) => {
                format!(" ({f} values are sent as JSON strings, e.g. \"10\")")
            }
            _ => String::new(),
        };
        err(
            errors,
            path,
            format!("expected a string, got {}{hint}", kind(value)),
        );
        return;
    };
    let bad = match format {
        Some("int64") => s.parse::<i64>().is_err() || s.starts_with('+'),
        Some("uint64") => s.parse::<u64>().is_err() || s.starts_with('+'),
        _ => false,
    };
    if bad {
        err(
            errors,
            path,
            format!("expected {} in a string, got {s:?}", format.unwrap_or("")),
        );
    }
    if let Some(allowed) = schema.get("enum").and_then(Value::as_array)
        && !allowed.iter().any(|a| a.as_str() == Some(s))
    {
        let list: Vec<&str> = allowed.iter().filter_map(Value::as_str).collect();
        err(
            errors,
            path,
            format!("{s:?} is not one of {}", list.join(", ")),
        );
    }
}

fn check_integer(format: Option<&str>, value: &Value, path: &str, errors: &mut Vec<SchemaError>) {
    let ok = match format {
        Some("uint32") => value.as_u64().is_some_and(|n| n <= u64::from(u32::MAX)),
        Some("int32") | None => value.as_i64().is_some_and(|n| i32::try_from(n).is_ok()),
        Some(_) => value.as_i64().is_some() || value.as_u64().is_some(),
    };
    if !ok {
        let f = format.unwrap_or("int32");
        err(
            errors,
            path,
            format!("expected an {f} JSON number, got {value}"),
        );
    }
}

fn check_object(
    schema: &Value,
    name: Option<&str>,
    value: &Value,
    path: &str,
    errors: &mut Vec<SchemaError>,
) {
    let Some(map) = value.as_object() else {
        err(
            errors,
            path,
            format!("expected an object, got {}", kind(value)),
        );
        return;
    };
    let props = schema.get("properties").and_then(Value::as_object);
    let extra = schema.get("additionalProperties");
    for (key, v) in map {
        let child = format!("{path}.{key}");
        match (props.and_then(|p| p.get(key)), extra) {
            (Some(field), _) => {
                if is_output_only(field) {
                    err(errors, &child, "output-only field must not be sent".into());
                } else {
                    check(field, None, v, &child, errors);
                }
            }
            (None, Some(extra)) => check(extra, None, v, &child, errors),
            (None, None) => err(errors, &child, "unknown field".into()),
        }
    }
    // Required by the discovery annotations.
    if let Some(props) = props {
        for (key, field) in props {
            let annotated = field
                .pointer("/annotations/required")
                .and_then(Value::as_array)
                .is_some_and(|a| !a.is_empty());
            if annotated && !present(map.get(key)) {
                err(
                    errors,
                    &format!("{path}.{key}"),
                    "required field is missing".into(),
                );
            }
        }
    }
    let Some(name) = name else { return };
    for (schema_name, req) in REQUIRED {
        if *schema_name != name {
            continue;
        }
        match req {
            Requirement::Field(f) => {
                let annotated = props
                    .and_then(|p| p.get(*f))
                    .and_then(|fd| fd.pointer("/annotations/required"))
                    .is_some();
                if !annotated && !present(map.get(*f)) {
                    err(
                        errors,
                        &format!("{path}.{f}"),
                        "required field is missing".into(),
                    );
                }
            }
            Requirement::AnyOf(fields) => {
                if !fields.iter().any(|f| present(map.get(*f))) {
                    err(
                        errors,
                        path,
                        format!("one of {} is required", fields.join(", ")),
                    );
                }
            }
            Requirement::OneOf(fields) => {
                let n = fields.iter().filter(|f| present(map.get(**f))).count();
                if n != 1 {
                    err(
                        errors,
                        path,
                        format!("exactly one of {} is required", fields.join(", ")),
                    );
                }
            }
        }
    }
}

fn present(v: Option<&Value>) -> bool {
    match v {
        None | Some(Value::Null) => false,
        Some(Value::Array(a)) => !a.is_empty(),
        Some(Value::String(s)) => !s.is_empty(),
        Some(_) => true,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn good_instance() -> Value {
        json!({
            "name": "manager-0",
            "machineType": "zones/europe-west1-b/machineTypes/e2-standard-2",
            "labels": {"sdbc-managed": "true", "sdbc-stack": "misago"},
            "tags": {"items": ["manager"]},
            "disks": [{
                "boot": true,
                "autoDelete": true,
                "initializeParams": {
                    "sourceImage": "projects/ubuntu-os-cloud/global/images/family/ubuntu-2404-lts-amd64",
                    "diskSizeGb": "20"
                }
            }, {"source": "zones/europe-west1-b/disks/static-files", "mode": "READ_WRITE"}],
            "networkInterfaces": [{
                "subnetwork": "regions/europe-west1/subnetworks/misago",
                "accessConfigs": [{"type": "ONE_TO_ONE_NAT", "natIP": "34.1.2.3"}]
            }],
            "metadata": {"items": [{"key": "user-data", "value": "#cloud-config\n"}]},
            "scheduling": {"automaticRestart": true, "onHostMaintenance": "MIGRATE"}
        })
    }

    fn messages(errors: &[SchemaError]) -> Vec<String> {
        errors.iter().map(ToString::to_string).collect()
    }

    #[test]
    fn vendored_document_loads() {
        assert_eq!(revision(), "20261106");
        for s in [
            "Instance",
            "Disk",
            "Operation",
            "GuestAttributes",
            "InstancesSetLabelsRequest",
        ] {
            assert!(has_schema(s), "{s}");
        }
    }

    #[test]
    fn good_bodies_pass() {
        assert_eq!(
            messages(&validate("Instance", &good_instance())),
            Vec::<String>::new()
        );
        let disk = json!({"name": "static-files", "sizeGb": "20", "type": "zones/z/diskTypes/pd-balanced"});
        assert!(validate("Disk", &disk).is_empty());
        let fw = json!({"name": "swarm", "network": "global/networks/misago",
            "allowed": [{"IPProtocol": "tcp", "ports": ["2377", "7946"]}], "priority": 1000,
            "sourceTags": ["swarm"], "direction": "INGRESS"});
        assert_eq!(messages(&validate("Firewall", &fw)), Vec::<String>::new());
    }

    #[test]
    fn unknown_field_fails() {
        let mut body = good_instance();
        body["networkInterfaces"][0]["bogus"] = json!(1);
        let e = validate("Instance", &body);
        assert_eq!(
            messages(&e),
            vec!["$.networkInterfaces[0].bogus: unknown field"]
        );
    }

    #[test]
    fn wrong_types_fail() {
        let mut body = good_instance();
        body["disks"][0]["initializeParams"]["diskSizeGb"] = json!(20); // int64 as number
        body["canIpForward"] = json!("yes");
        body["tags"]["items"] = json!("manager");
        body["labels"]["n"] = json!(3);
        let e = messages(&validate("Instance", &body));
        assert_eq!(e.len(), 4, "{e:?}");
        assert!(e[0].starts_with("$.labels.n: expected a string"), "{e:?}");
        assert!(
            e.iter()
                .any(|m| m.starts_with("$.canIpForward: expected a boolean"))
        );
        assert!(
            e.iter().any(
                |m| m.contains("$.disks[0].initializeParams.diskSizeGb") && m.contains("int64")
            )
        );
        assert!(
            e.iter()
                .any(|m| m.starts_with("$.tags.items: expected an array"))
        );
    }

    #[test]
    fn int64_strings_must_hold_digits_and_int32_must_be_numbers() {
        let disk = json!({"name": "d", "sizeGb": "20GB"});
        assert_eq!(validate("Disk", &disk).len(), 1);
        let fw = json!({"name": "f", "allowed": [{"IPProtocol": "tcp"}], "priority": "1000"});
        let e = messages(&validate("Firewall", &fw));
        assert_eq!(
            e,
            vec!["$.priority: expected an int32 JSON number, got \"1000\""]
        );
        let fw =
            json!({"name": "f", "allowed": [{"IPProtocol": "tcp"}], "priority": 4_294_967_296u64});
        assert_eq!(validate("Firewall", &fw).len(), 1);
    }

    #[test]
    fn enum_violation_fails() {
        let mut body = good_instance();
        body["scheduling"]["onHostMaintenance"] = json!("REBOOT");
        let e = messages(&validate("Instance", &body));
        assert_eq!(e.len(), 1);
        assert!(e[0].starts_with("$.scheduling.onHostMaintenance: \"REBOOT\" is not one of"));
    }

    #[test]
    fn output_only_fields_fail() {
        let mut body = good_instance();
        body["status"] = json!("RUNNING");
        body["id"] = json!("123");
        body["networkInterfaces"][0]["networkIP"] = json!("10.0.0.2");
        let e = messages(&validate("Instance", &body));
        // networkIP is settable; status and id are output only.
        assert_eq!(
            e,
            vec![
                "$.status: output-only field must not be sent",
                "$.id: output-only field must not be sent"
            ]
        );
    }

    #[test]
    fn missing_required_fields_fail() {
        let e = messages(&validate("Instance", &json!({"name": "x"})));
        assert_eq!(
            e,
            vec![
                "$.machineType: required field is missing",
                "$.disks: required field is missing",
                "$.networkInterfaces: required field is missing"
            ]
        );
        let e = messages(&validate("Disk", &json!({"name": "d"})));
        assert_eq!(e.len(), 1);
        assert!(e[0].contains("one of sizeGb"));
        let e = messages(&validate("Network", &json!({})));
        assert_eq!(e, vec!["$.name: required field is missing"]);
        let fw = json!({"name": "f", "allowed": [], "denied": [{"IPProtocol": "tcp"}]});
        assert!(validate("Firewall", &fw).is_empty());
        let fw = json!({"name": "f", "allowed": [{"IPProtocol": "tcp"}], "denied": [{"IPProtocol": "tcp"}]});
        assert_eq!(validate("Firewall", &fw).len(), 1);
        // Annotated in the discovery document: metadata item key/value.
        let md = json!({"items": [{"key": "a"}]});
        assert_eq!(
            messages(&validate("Metadata", &md)),
            vec!["$.items[0].value: required field is missing"]
        );
        let mut body = good_instance();
        body["disks"][1] = json!({"mode": "READ_ONLY"});
        assert_eq!(validate("Instance", &body).len(), 1);
    }

    #[test]
    fn null_and_unknown_schema_fail() {
        let e = validate("Network", &json!({"name": "n", "description": null}));
        assert_eq!(e.len(), 1);
        assert_eq!(validate("Nope", &json!({})).len(), 1);
        assert_eq!(validate("Network", &json!([])).len(), 1);
    }
}
