//! YAML 1.1 traps survive the trip through PyYAML (what cloud-init reads
//! user-data with) as the very same strings: both the quoting filter on its
//! own and whole generated user-data with trap values in labels, sysctl
//! values and paths.

mod support;

use serde_json::{Value, json};

use sdbc::targets::cloud_init::{quote::yaml_quote, user_data};
use support::{model, run};

const PYYAML: &str = "import yaml,sys,json; print(json.dumps(yaml.safe_load(sys.stdin)))";
const INSTALL: &str = "python3 with PyYAML is required (apt-get install python3-yaml)";

/// `text` loaded by PyYAML's `safe_load`, as JSON.
fn pyyaml(text: &str) -> Value {
    let out = run("python3", &["-c", PYYAML], Some(text), INSTALL);
    assert!(
        out.status.success(),
        "PyYAML rejected:\n{text}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    match serde_json::from_slice(&out.stdout) {
        Ok(v) => v,
        Err(e) => panic!("PyYAML printed no JSON ({e}) for:\n{text}"),
    }
}

const TRAPS: &[&str] = &[
    "yes",
    "Yes",
    "YES",
    "no",
    "on",
    "On",
    "off",
    "y",
    "n",
    "true",
    "False",
    "~",
    "null",
    "Null",
    "",
    "22:22",
    "1:20:30",
    "1_000",
    "0x10",
    "0o17",
    "017",
    "1e3",
    "+1",
    ".inf",
    "-.inf",
    ".nan",
    "2024-01-01",
    "2024-01-01T10:00:00Z",
    "@x",
    "`x",
    "- x",
    "a: b",
    "# c",
    "&a",
    "*a",
    "!tag",
    "%x",
    "|",
    ">",
    "'q'",
    "\"dq\"",
    "\\",
    "{a: 1}",
    "[1]",
    "tab\there",
    "  lead",
    "trail  ",
    "line1\nline2",
    "two\n",
    "\n",
    "a\n\nb\n",
    "x\n  indented\n",
    "  lead\nx",
    "crlf\r\n",
    "nel\u{85}x",
    "ls\u{2028}x",
    "del\u{7f}",
    "bom\u{feff}",
    "\u{1}ctl",
    "é ü 字 🦀",
];

#[test]
fn quoted_traps_read_back_unchanged() {
    let mut doc = String::new();
    for t in TRAPS {
        doc.push_str(&format!(
            "- flat: {}\n  block: {}\n",
            yaml_quote(t, None),
            yaml_quote(t, Some(4))
        ));
    }
    let parsed = pyyaml(&doc);
    let items = parsed.as_array().cloned().unwrap_or_default();
    assert_eq!(items.len(), TRAPS.len(), "document:\n{doc}");
    let wrong: Vec<String> = TRAPS
        .iter()
        .zip(&items)
        .filter(|(t, got)| **got != json!({"flat": t, "block": t}))
        .map(|(t, got)| format!("{t:?} came back as {got}"))
        .collect();
    assert!(wrong.is_empty(), "{wrong:#?}\ndocument:\n{doc}");
}

/// Every scalar of `v` under `path` is a string, except where `allowed`.
fn only_strings(v: &Value, path: &str, bad: &mut Vec<String>) {
    match v {
        Value::String(_) => {}
        Value::Array(a) => a
            .iter()
            .enumerate()
            .for_each(|(i, x)| only_strings(x, &format!("{path}[{i}]"), bad)),
        Value::Object(o) => o
            .iter()
            .for_each(|(k, x)| only_strings(x, &format!("{path}.{k}"), bad)),
        other if path == "$.package_update" && other.is_boolean() => {}
        other => bad.push(format!("{path} = {other}")),
    }
}

#[test]
fn user_data_with_traps_reads_back_as_strings() {
    let mut model = model();
    for (i, vm) in model.vms.iter_mut().enumerate() {
        for (j, t) in TRAPS
            .iter()
            .filter(|t| !t.contains(['\n', '\r']))
            .enumerate()
        {
            vm.engine_labels
                .insert(format!("trap.{j}"), (*t).to_owned());
            vm.labels.insert(format!("trap{j}"), (*t).to_owned());
        }
        vm.sysctl
            .insert(String::from("net.trap.on"), String::from("yes"));
        vm.sysctl
            .insert(String::from("net.trap.time"), String::from("22:22"));
        if i > 0 {
            vm.nfs_mounts[0].mount_path = format!("/mnt/22:22/0x10/{}", vm.name);
        }
    }
    for vm in &model.vms {
        let text = match user_data(&model, vm) {
            Ok(t) => t,
            Err(e) => panic!("{}: {e}", vm.name),
        };
        let parsed = pyyaml(&text);
        let mut bad = Vec::new();
        only_strings(&parsed, "$", &mut bad);
        assert!(
            bad.is_empty(),
            "{}: non-string scalars {bad:?} in\n{text}",
            vm.name
        );
        let sysctl = parsed["write_files"].as_array().and_then(|files| {
            files
                .iter()
                .find(|f| f["path"] == "/etc/sysctl.d/90-sdbc.conf")
        });
        let content = sysctl
            .and_then(|f| f["content"].as_str())
            .unwrap_or_default();
        assert!(
            content.contains("net.trap.on = yes\nnet.trap.time = 22:22\n"),
            "{content}"
        );
        if vm.name != "storage" {
            let path = format!("/mnt/22:22/0x10/{}", vm.name);
            assert_eq!(parsed["mounts"][0][1], json!(path));
            let daemon = &parsed["write_files"][0];
            assert_eq!(daemon["path"], "/etc/docker/daemon.json");
            let labels: Value = serde_json::from_str(daemon["content"].as_str().unwrap_or("null"))
                .unwrap_or_default();
            assert!(
                labels["labels"]
                    .as_array()
                    .is_some_and(|l| l.contains(&json!("trap.0=yes")))
            );
        }
    }
}
