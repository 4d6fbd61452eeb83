//! `sdbc lsp` end to end: the real binary as a child process, spoken to in
//! JSON-RPC with Content-Length framing, every read under a timeout. Also
//! checks the TextMate grammar in `editors/`.

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc::{Receiver, RecvTimeoutError, channel};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

const TIMEOUT: Duration = Duration::from_secs(30);

const GOOD: &str = r#"gce {
  project = "demo"
  region  = "europe-west1"
  zone    = "europe-west1-b"
  image   = "ubuntu-os-cloud/ubuntu-2404-lts-amd64"
}

network net 10.10.0.0/24;
disk data 20GB;

vm monitoring e2-standard-2 swarm=worker {
  nfs_export data at "/srv/data";
}
vm manager[3] e2-standard-2 swarm=manager;

secret db_password;

service db image="postgres:16" on=manager[0] {
  volume pgdata at "/var/lib/postgresql/data";
  env POSTGRES_PASSWORD_FILE = db_password.path;
}

service web image="nginx:1.27" replicas=2 on=manager publish=80:80 {
  env DB_HOST = db;
}

output ip = manager[0].external_ip;
"#;

/// GOOD with a misspelt machine type, an undefined name, a syntax error
/// and an SSH port open to the world (a warning).
fn bad() -> String {
    GOOD.replace("vm manager[3] e2-standard-2", "vm manager[3] e2-standrd-2")
        .replace("on=manager publish", "on=managr publish")
        .replace(
            "disk data 20GB;",
            "disk data 20GB;\ndisk = = ;\nfirewall ssh tcp:22 from=\"0.0.0.0/0\";",
        )
}

struct Client {
    child: Child,
    stdin: ChildStdin,
    rx: Receiver<Value>,
    next_id: i64,
    /// Notifications read while waiting for something else.
    notes: Vec<Value>,
}

fn read_message(r: &mut impl BufRead) -> Option<Value> {
    let mut len = None;
    loop {
        let mut line = String::new();
        if r.read_line(&mut line).ok()? == 0 {
            return None;
        }
        let line = line.trim_end();
        if line.is_empty() {
            break;
        }
        if let Some(v) = line.strip_prefix("Content-Length:") {
            len = v.trim().parse::<usize>().ok();
        }
    }
    let mut body = vec![0; len?];
    r.read_exact(&mut body).ok()?;
    serde_json::from_slice(&body).ok()
}

impl Client {
    fn start() -> Client {
        let mut child = Command::new(env!("CARGO_BIN_EXE_sdbc"))
            .arg("lsp")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("start sdbc lsp");
        let stdin = child.stdin.take().expect("stdin");
        let stdout = child.stdout.take().expect("stdout");
        let (tx, rx) = channel();
        std::thread::spawn(move || {
            let mut r = BufReader::new(stdout);
            while let Some(msg) = read_message(&mut r) {
                if tx.send(msg).is_err() {
                    break;
                }
            }
        });
        let mut c = Client {
            child,
            stdin,
            rx,
            next_id: 0,
            notes: Vec::new(),
        };
        let init = c.request("initialize", json!({ "capabilities": {} }));
        assert!(
            init["capabilities"]["hoverProvider"]
                .as_bool()
                .unwrap_or(false)
        );
        c.notify("initialized", json!({}));
        c
    }

    fn send(&mut self, msg: Value) {
        let body = msg.to_string();
        write!(self.stdin, "Content-Length: {}\r\n\r\n{body}", body.len()).expect("write");
        self.stdin.flush().expect("flush");
    }

    fn notify(&mut self, method: &str, params: Value) {
        self.send(json!({ "jsonrpc": "2.0", "method": method, "params": params }));
    }

    fn recv(&mut self, deadline: Instant) -> Value {
        let left = deadline.saturating_duration_since(Instant::now());
        match self.rx.recv_timeout(left) {
            Ok(v) => v,
            Err(RecvTimeoutError::Timeout) => panic!("no message from the server in time"),
            Err(RecvTimeoutError::Disconnected) => panic!("the server closed its output"),
        }
    }

    /// The full response (result or error) to a request.
    fn call(&mut self, method: &str, params: Value) -> Value {
        self.next_id += 1;
        let id = self.next_id;
        self.send(json!({ "jsonrpc": "2.0", "id": id, "method": method, "params": params }));
        let deadline = Instant::now() + TIMEOUT;
        loop {
            let msg = self.recv(deadline);
            if msg["id"] == json!(id) && msg.get("method").is_none() {
                return msg;
            }
            self.notes.push(msg);
        }
    }

    fn request(&mut self, method: &str, params: Value) -> Value {
        let resp = self.call(method, params);
        assert!(resp.get("error").is_none(), "{method} failed: {resp}");
        resp["result"].clone()
    }

    /// The next diagnostics published for `uri`.
    fn diagnostics(&mut self, uri: &str) -> Vec<Value> {
        let is_for = |m: &Value| {
            m["method"] == "textDocument/publishDiagnostics" && m["params"]["uri"] == uri
        };
        if let Some(i) = self.notes.iter().position(is_for) {
            let m = self.notes.remove(i);
            return m["params"]["diagnostics"]
                .as_array()
                .cloned()
                .unwrap_or_default();
        }
        let deadline = Instant::now() + TIMEOUT;
        loop {
            let m = self.recv(deadline);
            if is_for(&m) {
                return m["params"]["diagnostics"]
                    .as_array()
                    .cloned()
                    .unwrap_or_default();
            }
            self.notes.push(m);
        }
    }

    fn open(&mut self, uri: &str, text: &str) {
        let doc = json!({ "uri": uri, "languageId": "sdb", "version": 1, "text": text });
        self.notify("textDocument/didOpen", json!({ "textDocument": doc }));
    }

    fn at(&mut self, method: &str, uri: &str, line: u32, character: u32) -> Value {
        let params = json!({
            "textDocument": { "uri": uri },
            "position": { "line": line, "character": character },
            "context": { "includeDeclaration": true, "triggerKind": 1 },
        });
        self.request(method, params)
    }

    /// shutdown + exit; the process must exit 0.
    fn finish(mut self) {
        self.request("shutdown", Value::Null);
        self.notify("exit", Value::Null);
        let deadline = Instant::now() + TIMEOUT;
        loop {
            if let Some(status) = self.child.try_wait().expect("wait") {
                assert!(status.success(), "sdbc lsp exited with {status}");
                return;
            }
            assert!(Instant::now() < deadline, "sdbc lsp did not exit");
            std::thread::sleep(Duration::from_millis(10));
        }
    }
}

impl Drop for Client {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn uri_of(path: &Path) -> String {
    format!("file://{}", path.display())
}

fn write(dir: &Path, name: &str, text: &str) -> (PathBuf, String) {
    let path = dir.join(name);
    std::fs::write(&path, text).expect("write fixture");
    let uri = uri_of(&path);
    (path, uri)
}

/// `sdbc check --format json PATH`, only the diagnostics in PATH itself.
fn check_json(path: &Path) -> Vec<Value> {
    let out = Command::new(env!("CARGO_BIN_EXE_sdbc"))
        .args(["check", "--format", "json"])
        .arg(path)
        .output()
        .expect("run sdbc check");
    let all: Vec<Value> = serde_json::from_slice(&out.stdout).expect("check prints JSON");
    let name = path.display().to_string();
    all.into_iter()
        .filter(|d| d["file"] == name.as_str())
        .collect()
}

/// The (code, message, range) of a `check --format json` diagnostic, as LSP would say it.
fn from_check(d: &Value) -> (String, String, [u64; 4]) {
    let n = |k: &str| d[k].as_u64().expect("number") - 1;
    (
        d["code"].as_str().unwrap_or_default().to_string(),
        d["message"].as_str().unwrap_or_default().to_string(),
        [n("line"), n("column"), n("end_line"), n("end_column")],
    )
}

fn from_lsp(d: &Value) -> (String, String, [u64; 4]) {
    let r = &d["range"];
    let n = |v: &Value| v.as_u64().expect("number");
    (
        d["code"].as_str().unwrap_or_default().to_string(),
        d["message"].as_str().unwrap_or_default().to_string(),
        [
            n(&r["start"]["line"]),
            n(&r["start"]["character"]),
            n(&r["end"]["line"]),
            n(&r["end"]["character"]),
        ],
    )
}

fn hover_text(v: &Value) -> String {
    v["contents"]["value"]
        .as_str()
        .unwrap_or_default()
        .to_string()
}

fn labels(v: &Value) -> Vec<String> {
    let items = v.as_array().or_else(|| v["items"].as_array());
    items
        .map(|xs| {
            xs.iter()
                .filter_map(|i| i["label"].as_str().map(String::from))
                .collect()
        })
        .unwrap_or_default()
}

/// Line and column of the first occurrence of `needle` (plus `delta` columns).
fn pos(text: &str, needle: &str, delta: usize) -> (u32, u32) {
    let off = text.find(needle).expect("needle in text") + delta;
    let line = text[..off].matches('\n').count();
    let col = off - text[..off].rfind('\n').map_or(0, |i| i + 1);
    (line as u32, col as u32)
}

#[test]
fn diagnostics_equal_check_and_clear_when_fixed() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (path, uri) = write(dir.path(), "bad.sdb", &bad());
    let expected: Vec<_> = check_json(&path).iter().map(from_check).collect();
    assert!(expected.len() >= 3, "fixture has errors: {expected:?}");
    assert!(
        expected.iter().any(|d| d.0 == "E0001"),
        "a syntax error too"
    );
    let mut c = Client::start();
    c.open(&uri, &bad());
    let got: Vec<_> = c.diagnostics(&uri).iter().map(from_lsp).collect();
    assert_eq!(got, expected);

    // Fix everything with a full-text change: the diagnostics clear.
    let change = json!({ "textDocument": { "uri": uri, "version": 2 }, "contentChanges": [{ "text": GOOD }] });
    c.notify("textDocument/didChange", change);
    assert_eq!(c.diagnostics(&uri), Vec::<Value>::new());

    // An incremental change brings one back, as check sees it.
    let (line, col) = pos(GOOD, "e2-standard-2 swarm=manager", 0);
    let edit = json!({
        "range": { "start": { "line": line, "character": col }, "end": { "line": line, "character": col + 13 } },
        "text": "e2-standard-99",
    });
    let change = json!({ "textDocument": { "uri": uri, "version": 3 }, "contentChanges": [edit] });
    c.notify("textDocument/didChange", change);
    let edited = GOOD.replacen(
        "vm manager[3] e2-standard-2",
        "vm manager[3] e2-standard-99",
        1,
    );
    std::fs::write(&path, &edited).expect("write");
    let expected: Vec<_> = check_json(&path).iter().map(from_check).collect();
    let got: Vec<_> = c.diagnostics(&uri).iter().map(from_lsp).collect();
    assert_eq!(got, expected);
    assert_eq!(got.len(), 1);

    c.notify(
        "textDocument/didClose",
        json!({ "textDocument": { "uri": uri } }),
    );
    assert_eq!(c.diagnostics(&uri), Vec::<Value>::new());
    c.finish();
}

/// A run of incremental edits (the server reparses only what each one can
/// have changed): after every edit the diagnostics are still `check`'s.
#[test]
fn typing_keeps_diagnostics_equal_to_check() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut text = GOOD.to_string();
    for i in 0..30 {
        text.push_str(&format!(
            "vm extra{i} e2-standard-2 swarm=worker;\nservice s{i} image=\"nginx:1.27\" on=extra{i};\n"
        ));
    }
    let (path, uri) = write(dir.path(), "typing.sdb", &text);
    let mut c = Client::start();
    c.open(&uri, &text);
    assert_eq!(c.diagnostics(&uri), Vec::<Value>::new());
    // (what to find, where in it, how many bytes to replace, the new text)
    let edits: [(&str, usize, usize, &str); 8] = [
        ("vm extra15 e2-standard-2", 23, 1, "9"),
        ("service s20 image", 12, 0, "{"),
        ("service s20 {image", 12, 1, ""),
        ("gce {", 0, 0, "# a comment first\n"),
        ("vm extra15 e2-standard-9", 23, 1, "2"),
        ("on=extra29;", 3, 7, "nowhere"),
        ("network net", 0, 0, "disk = = ;\n"),
        ("disk = = ;\n", 0, 11, ""),
    ];
    for (n, (find, delta, len, new)) in edits.into_iter().enumerate() {
        let at = text.find(find).expect("edit target") + delta;
        let (line, col) = pos(&text, find, delta);
        let (end_line, end_col) = pos(&text, find, delta + len);
        text.replace_range(at..at + len, new);
        let edit = json!({
            "range": {
                "start": { "line": line, "character": col },
                "end": { "line": end_line, "character": end_col },
            },
            "text": new,
        });
        let version = n + 2;
        let change = json!({
            "textDocument": { "uri": uri, "version": version },
            "contentChanges": [edit],
        });
        c.notify("textDocument/didChange", change);
        std::fs::write(&path, &text).expect("write");
        let expected: Vec<_> = check_json(&path).iter().map(from_check).collect();
        let got: Vec<_> = c.diagnostics(&uri).iter().map(from_lsp).collect();
        assert_eq!(got, expected, "after edit {n} ({find:?})");
    }
    c.finish();
}

#[test]
fn diagnostics_of_an_imported_file_go_to_its_uri() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (_, lib_uri) = write(dir.path(), "lib.sdb", "disk data 20GB type=pd-nonsense;\n");
    let main = "import \"lib.sdb\";\nnetwork net 10.10.0.0/24;\n";
    let (_, uri) = write(dir.path(), "main.sdb", main);
    let mut c = Client::start();
    c.open(&uri, main);
    assert_eq!(c.diagnostics(&uri), Vec::<Value>::new());
    let lib = c.diagnostics(&lib_uri);
    assert_eq!(lib.len(), 1, "{lib:?}");
    assert_eq!(lib[0]["range"]["start"]["line"], 0);
    c.finish();
}

#[test]
fn hover_explains_kinds_attributes_references_and_catalog_values() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (_, uri) = write(dir.path(), "good.sdb", GOOD);
    let mut c = Client::start();
    c.open(&uri, GOOD);

    let (l, col) = pos(GOOD, "vm manager", 0);
    let kind = hover_text(&c.at("textDocument/hover", &uri, l, col));
    assert!(kind.contains("Compute Engine VM"), "{kind}");

    let (l, col) = pos(GOOD, "replicas=2", 1);
    let attr = hover_text(&c.at("textDocument/hover", &uri, l, col));
    assert!(
        attr.contains("number of tasks") && attr.contains("Default: `1`"),
        "{attr}"
    );

    let (l, col) = pos(GOOD, "on=manager publish", 4);
    let reference = hover_text(&c.at("textDocument/hover", &uri, l, col));
    assert!(
        reference.contains("`vm` **manager**") && reference.contains("line 14"),
        "{reference}"
    );

    let (l, col) = pos(GOOD, "e2-standard-2 swarm=worker", 3);
    let machine = hover_text(&c.at("textDocument/hover", &uri, l, col));
    assert!(
        machine.contains("2 vCPUs") && machine.contains("8 GB"),
        "{machine}"
    );

    let (l, col) = pos(GOOD, "europe-west1-b", 2);
    let zone = hover_text(&c.at("textDocument/hover", &uri, l, col));
    assert!(zone.contains("region `europe-west1`"), "{zone}");

    let (l, col) = pos(GOOD, "ubuntu-os-cloud", 2);
    let image = hover_text(&c.at("textDocument/hover", &uri, l, col));
    assert!(image.contains("runs cloud-init"), "{image}");
    c.finish();
}

#[test]
fn definition_and_references() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (_, uri) = write(dir.path(), "good.sdb", GOOD);
    let mut c = Client::start();
    c.open(&uri, GOOD);
    let decl = pos(GOOD, "manager[3]", 0);
    let (l, col) = pos(GOOD, "on=manager publish", 4);
    let def = c.at("textDocument/definition", &uri, l, col);
    assert_eq!(def["uri"], uri.as_str());
    assert_eq!(
        def["range"]["start"],
        json!({ "line": decl.0, "character": decl.1 })
    );

    let refs = c.at("textDocument/references", &uri, decl.0, decl.1 + 1);
    let lines: Vec<u64> = refs
        .as_array()
        .expect("locations")
        .iter()
        .map(|r| r["range"]["start"]["line"].as_u64().unwrap_or(0))
        .collect();
    // The declaration, `on=manager[0]`, `on=manager` and the output.
    assert_eq!(lines, [13, 17, 22, 26]);
    c.finish();
}

#[test]
fn completion_of_kinds_attributes_catalog_values_and_names() {
    let dir = tempfile::tempdir().expect("tempdir");
    let text = format!("{GOOD}\nvm extra e2-st\n");
    let (_, uri) = write(dir.path(), "c.sdb", &text);
    let mut c = Client::start();
    c.open(&uri, &text);
    let last = text.lines().count() as u32 - 1;

    let kinds = labels(&c.at("textDocument/completion", &uri, last, 0));
    for k in ["vm", "service", "disk", "network", "firewall", "secret"] {
        assert!(kinds.contains(&k.to_string()), "{k} in {kinds:?}");
    }
    let machines = labels(&c.at("textDocument/completion", &uri, last, 14));
    assert!(
        machines.contains(&"e2-standard-2".to_string()),
        "{machines:?}"
    );
    assert!(
        machines.contains(&"swarm".to_string()),
        "attributes too: {machines:?}"
    );

    let (l, col) = pos(GOOD, "replicas=2", 0);
    let attrs = labels(&c.at("textDocument/completion", &uri, l, col));
    assert!(
        attrs.contains(&"replicas".to_string()) && attrs.contains(&"on".to_string()),
        "{attrs:?}"
    );

    let (l, col) = pos(GOOD, "on=manager publish", 3);
    let vms = labels(&c.at("textDocument/completion", &uri, l, col));
    assert!(vms.contains(&"manager".to_string()) && vms.contains(&"monitoring".to_string()));
    assert!(
        !vms.contains(&"db".to_string()),
        "only VMs for `on`: {vms:?}"
    );

    let (l, col) = pos(GOOD, "europe-west1-b", 0);
    let zones = labels(&c.at("textDocument/completion", &uri, l, col));
    assert!(zones.contains(&"europe-west1-b".to_string()), "{zones:?}");

    let (l, col) = pos(GOOD, "  volume", 2);
    let body = labels(&c.at("textDocument/completion", &uri, l, col));
    assert!(
        body.contains(&"env".to_string()) && body.contains(&"image".to_string()),
        "{body:?}"
    );
    c.finish();
}

#[test]
fn formatting_uses_fmt_and_refuses_broken_files() {
    let dir = tempfile::tempdir().expect("tempdir");
    let messy = GOOD.replace("disk data 20GB;", "disk   data    20GB ;");
    let (_, uri) = write(dir.path(), "f.sdb", &messy);
    let (_, bad_uri) = write(dir.path(), "b.sdb", &bad());
    let mut c = Client::start();
    c.open(&uri, &messy);
    c.open(&bad_uri, &bad());
    let opts = json!({ "tabSize": 2, "insertSpaces": true });
    let edits = c.request(
        "textDocument/formatting",
        json!({ "textDocument": { "uri": uri }, "options": opts }),
    );
    let (ast, _) = sdbc::syntax::parse(sdbc::span::FileId(0), &messy);
    let want = sdbc::syntax::fmt::format(&ast, &messy);
    let got = match edits.as_array().map(Vec::as_slice) {
        Some([]) => messy.clone(),
        Some([edit]) => {
            assert_eq!(edit["range"]["start"], json!({ "line": 0, "character": 0 }));
            edit["newText"].as_str().expect("text").to_string()
        }
        other => panic!("one whole-document edit expected: {other:?}"),
    };
    assert_eq!(got, want);
    let refused = c.request(
        "textDocument/formatting",
        json!({ "textDocument": { "uri": bad_uri }, "options": opts }),
    );
    assert_eq!(refused, json!([]));
    c.finish();
}

#[test]
fn document_symbols_outline_nested_declarations() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (_, uri) = write(dir.path(), "s.sdb", GOOD);
    let mut c = Client::start();
    c.open(&uri, GOOD);
    let syms = c.request(
        "textDocument/documentSymbol",
        json!({ "textDocument": { "uri": uri } }),
    );
    let names = labels_of(&syms, "name");
    assert_eq!(
        names,
        [
            "gce",
            "net",
            "data",
            "monitoring",
            "manager[3]",
            "db_password",
            "db",
            "web",
            "ip"
        ]
    );
    let db = &syms[6];
    assert_eq!(
        labels_of(&db["children"], "name"),
        ["pgdata", "POSTGRES_PASSWORD_FILE"]
    );
    assert_eq!(labels_of(&syms[3]["children"], "name"), ["data"]);
    c.finish();
}

fn labels_of(v: &Value, key: &str) -> Vec<String> {
    v.as_array()
        .map(|xs| {
            xs.iter()
                .filter_map(|x| x[key].as_str().map(String::from))
                .collect()
        })
        .unwrap_or_default()
}

#[test]
fn broken_input_never_kills_the_server() {
    let dir = tempfile::tempdir().expect("tempdir");
    let junk = "vm {{{ [[[ \"unterminated\n service ${ = ; } } } ] 😀 \u{0}\n#";
    let (_, uri) = write(dir.path(), "j.sdb", junk);
    let mut c = Client::start();
    c.open(&uri, junk);
    let _ = c.diagnostics(&uri);
    for (l, col) in [(0, 0), (0, 5), (1, 3), (1, 200), (99, 99), (2, 1)] {
        for m in [
            "textDocument/hover",
            "textDocument/definition",
            "textDocument/references",
            "textDocument/completion",
        ] {
            let resp = c.call(
                m,
                json!({
                    "textDocument": { "uri": uri },
                    "position": { "line": l, "character": col },
                    "context": { "includeDeclaration": true, "triggerKind": 1 },
                }),
            );
            assert!(resp.get("error").is_none(), "{m} at {l}:{col}: {resp}");
        }
    }
    // Unknown documents, bad parameters and unknown methods answer, too.
    let unknown = c.at("textDocument/hover", "file:///nowhere.sdb", 0, 0);
    assert_eq!(unknown, Value::Null);
    assert!(
        c.call("textDocument/hover", json!({ "bogus": 1 }))
            .get("error")
            .is_some()
    );
    assert!(c.call("sdbc/unknown", json!({})).get("error").is_some());
    let edit = json!({
        "range": { "start": { "line": 50, "character": 9 }, "end": { "line": 0, "character": 0 } },
        "text": "x",
    });
    c.notify(
        "textDocument/didChange",
        json!({ "textDocument": { "uri": uri, "version": 2 }, "contentChanges": [edit] }),
    );
    let _ = c.diagnostics(&uri);
    c.finish();
}

#[test]
fn textmate_grammar_is_json_with_every_token_class() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("editors/sdb.tmLanguage.json");
    let text = std::fs::read_to_string(&path).expect("read the grammar");
    let grammar: Value = serde_json::from_str(&text).expect("the grammar is JSON");
    assert_eq!(grammar["scopeName"], "source.sdb");
    let mut names = Vec::new();
    collect_names(&grammar, &mut names);
    for scope in [
        "comment.line.number-sign",
        "comment.line.double-slash",
        "string.quoted.double",
        "string.quoted.triple",
        "meta.embedded.interpolation",
        "constant.numeric.integer",
        "constant.numeric.size",
        "constant.numeric.duration",
        "constant.numeric.cidr",
        "constant.numeric.ip",
        "constant.other.port",
        "constant.language.boolean",
        "keyword.control.import",
        "storage.type.kind",
        "variable.other.property",
        "entity.name.function",
        "keyword.operator",
    ] {
        assert!(
            names.iter().any(|n| n.starts_with(scope)),
            "no scope {scope} in {names:?}"
        );
    }
    for kind in [
        "vm",
        "nfs_export",
        "healthcheck",
        "bind",
        "service",
        "module",
    ] {
        assert!(text.contains(kind), "kind {kind} not highlighted");
    }
}

fn collect_names(v: &Value, out: &mut Vec<String>) {
    match v {
        Value::Object(m) => {
            for (k, x) in m {
                match (k.as_str(), x) {
                    ("name" | "contentName", Value::String(s)) => {
                        out.extend(s.split(' ').map(String::from))
                    }
                    _ => collect_names(x, out),
                }
            }
        }
        Value::Array(xs) => xs.iter().for_each(|x| collect_names(x, out)),
        _ => {}
    }
}

const LOAD: &str = r#"loadtest smoke target="http://127.0.0.1:8000" users=2 {
  step home GET "/" expect=200 {
    extract csrf cookie="csrftoken";
  }
  assert p95 max=500ms;
  
}
"#;

#[test]
fn hover_and_completion_inside_a_load_test() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (_, uri) = write(dir.path(), "load.sdb", LOAD);
    let mut c = Client::start();
    c.open(&uri, LOAD);
    assert_eq!(c.diagnostics(&uri), Vec::<Value>::new());

    let (l, col) = pos(LOAD, "step home", 1);
    let step = hover_text(&c.at("textDocument/hover", &uri, l, col));
    assert!(step.contains("One request of the flow"), "{step}");
    let (l, col) = pos(LOAD, "expect=200", 1);
    let expect = hover_text(&c.at("textDocument/hover", &uri, l, col));
    assert!(
        expect.contains("statuses that count as success"),
        "{expect}"
    );
    let (l, col) = pos(LOAD, "cookie=", 1);
    let cookie = hover_text(&c.at("textDocument/hover", &uri, l, col));
    assert!(cookie.contains("value of this cookie"), "{cookie}");
    let (l, col) = pos(LOAD, "users=2", 1);
    let users = hover_text(&c.at("textDocument/hover", &uri, l, col));
    assert!(users.contains("concurrent users"), "{users}");

    // The empty line in the loadtest body: its kinds and attributes.
    let body = labels(&c.at("textDocument/completion", &uri, 5, 2));
    for k in ["step", "assert", "ramp", "think", "users"] {
        assert!(body.contains(&k.to_string()), "{k} in {body:?}");
    }
    assert!(!body.contains(&"vm".to_string()), "{body:?}");
    // The start of the `extract` line, in the step body.
    let in_step = labels(&c.at("textDocument/completion", &uri, 2, 4));
    for k in ["extract", "headers", "json"] {
        assert!(in_step.contains(&k.to_string()), "{k} in {in_step:?}");
    }
    let (l, col) = pos(LOAD, "GET \"/\"", 0);
    let methods = labels(&c.at("textDocument/completion", &uri, l, col));
    assert!(methods.contains(&"POST".to_string()), "{methods:?}");
    c.finish();
}
