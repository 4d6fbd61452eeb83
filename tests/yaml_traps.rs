//! Every string a YAML 1.1 reader would turn into something else (a boolean,
//! a number, a date, null) must come back from PyYAML — the reader cloud-init
//! uses — as the same string, both as a value and as a map key.

use std::collections::BTreeMap;
use std::io::Write;
use std::process::{Command, Stdio};

use sdbc::targets::yaml::to_yaml;

/// The traps: YAML 1.1 booleans and nulls, numbers in every YAML 1.1 spelling,
/// timestamps, and strings whose spaces or indicators would be lost.
const TRAPS: &[&str] = &[
    "yes",
    "no",
    "on",
    "off",
    "y",
    "n",
    "Y",
    "N",
    "Yes",
    "NO",
    "On",
    "OFF",
    "true",
    "false",
    "True",
    "FALSE",
    "~",
    "null",
    "Null",
    "NULL",
    "",
    "22:22",
    "1:30:00",
    "190:20:30",
    "1_000",
    "-1_0",
    "0x10",
    "0o7",
    "0b1010",
    "012",
    "+12",
    "1e3",
    "1.5e-3",
    "1.",
    ".5",
    ".inf",
    "-.Inf",
    ".NaN",
    "2024-01-01",
    "2001-12-14t21:59:43.10-05:00",
    "2001-12-14 21:59:43.10 -5",
    " lead",
    "trail ",
    " both ",
    "a # b",
    "#comment",
    "a: b",
    "key:",
    "- item",
    "-",
    "?",
    "? x",
    "---",
    "...",
    "<<",
    "=",
    "*alias",
    "&anchor",
    "!tag",
    "%directive",
    "@at",
    "`tick",
    "|",
    ">",
    "'",
    "\"",
    "[a]",
    "{a: 1}",
    "a, b",
    "\t",
    "tab\there",
    "back\\slash",
    "line1\nline2",
    "line1\nline2\n",
    "  indented\nnext",
    "trailing\n\n",
    "\nleading newline",
    "crlf\r\n",
    "unicode é ü ✓",
    "0",
    "-0",
    "3.14",
    "1,000",
];

fn pyyaml_load_json(yaml: &str) -> serde_json::Value {
    let mut child = Command::new("python3")
        .args([
            "-c",
            "import yaml,sys,json; print(json.dumps(yaml.safe_load(sys.stdin)))",
        ])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| {
            panic!("cannot run python3 ({e}); install python3 and PyYAML (apt-get install python3-yaml)")
        });
    child
        .stdin
        .take()
        .expect("stdin is piped")
        .write_all(yaml.as_bytes())
        .expect("write to python3");
    let out = child.wait_with_output().expect("python3 runs");
    assert!(
        out.status.success(),
        "PyYAML could not read the document (is PyYAML installed? apt-get install python3-yaml):\n{}\n--- document ---\n{yaml}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("python printed JSON")
}

#[test]
fn trap_values_round_trip_through_pyyaml() {
    let yaml = to_yaml(&TRAPS);
    let back = pyyaml_load_json(&yaml);
    let expected: Vec<serde_json::Value> = TRAPS.iter().map(|s| serde_json::json!(s)).collect();
    assert_eq!(back, serde_json::Value::Array(expected), "\n{yaml}");
}

#[test]
fn trap_keys_round_trip_through_pyyaml() {
    let map: BTreeMap<&str, &str> = TRAPS.iter().map(|s| (*s, *s)).collect();
    let yaml = to_yaml(&map);
    let back = pyyaml_load_json(&yaml);
    let obj = back.as_object().expect("a mapping");
    assert_eq!(
        obj.len(),
        map.len(),
        "keys collapsed or were not strings:\n{yaml}"
    );
    for (k, v) in &map {
        assert_eq!(
            obj.get(*k),
            Some(&serde_json::json!(v)),
            "key {k:?}:\n{yaml}"
        );
    }
}

#[test]
fn nested_trap_values_round_trip_through_pyyaml() {
    // Inside sequences of maps, the indentation paths differ from the top level.
    let doc: Vec<BTreeMap<&str, Vec<&str>>> = vec![BTreeMap::from([("values", TRAPS.to_vec())])];
    let yaml = to_yaml(&doc);
    let back = pyyaml_load_json(&yaml);
    assert_eq!(back, serde_json::json!([{ "values": TRAPS }]), "\n{yaml}");
}

#[test]
fn the_checker_itself_can_fail() {
    // Unquoted `yes` must come back as a boolean: proves the round trip
    // detects an unquoted trap rather than passing vacuously.
    let back = pyyaml_load_json("- yes\n- 22:22\n- 012\n");
    assert_eq!(back, serde_json::json!([true, 1342, 10]));
}
