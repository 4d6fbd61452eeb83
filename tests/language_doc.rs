//! The examples in the documentation are programs, and they are checked.
//!
//! Every fenced block marked ```` ```sdb ```` in `docs/language.md` and in
//! `docs/errors/*.md` must check with no error (warnings allowed); every
//! block marked ```` ```sdb,fails ```` must report at least one error. Any
//! other `sdb…` fence is a mistake and fails the test.
//!
//! Each block is checked on its own, exactly as written: there is no
//! preamble, so a block declares everything it uses. The outside world is
//! fixed so that results do not depend on the machine:
//!
//! - no `--var`s and no environment variables (`env("X", "default")` takes
//!   its default, `env("X")` is an error);
//! - `file()`, `template()` and relative `import`s read from the small
//!   in-memory tree [`FILES`] below, never from disk;
//! - `std/…` imports come from the standard library built into sdbc.
//!
//! The error pages also show the diagnostic of their fixture: the first
//! ```` ```text ```` block with the page's code on a line must equal the
//! fixture's snapshot, so a changed message cannot leave a stale page.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use sdbc::diag::{ColorChoice, render_human};
use sdbc::sema::{Env, FileReader, analyze_bytes};

/// The files the documentation's examples read, by the path they name.
const FILES: &[(&str, &str)] = &[
    ("misago/nginx.conf", "server {{ app_host }}:8000;\n"),
    (
        "misago/gunicorn.conf.py",
        "bind = \"0.0.0.0:80\"\nworkers = 5\n",
    ),
    (
        "lib/cache.sdb",
        "module small_cache(on) {\n  service redis image=\"redis:7.4\" on=on;\n}\n",
    ),
];

struct MemoryReader;

impl FileReader for MemoryReader {
    fn read(&self, path: &Path) -> std::io::Result<Vec<u8>> {
        let wanted = path.to_string_lossy().replace('\\', "/");
        FILES
            .iter()
            .find(|(p, _)| *p == wanted)
            .map(|(_, text)| text.as_bytes().to_vec())
            .ok_or_else(|| std::io::Error::new(std::io::ErrorKind::NotFound, wanted))
    }
}

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// One fenced example.
struct Block {
    /// `docs/language.md:123` (the line of the opening fence).
    place: String,
    fails: bool,
    text: String,
}

/// Every ```sdb and ```sdb,fails block of a Markdown file.
fn blocks(path: &Path) -> Vec<Block> {
    let text = std::fs::read_to_string(path).expect("doc is readable");
    let shown = path
        .strip_prefix(root())
        .unwrap_or(path)
        .display()
        .to_string();
    let mut out = Vec::new();
    let mut open: Option<Block> = None;
    for (n, line) in text.lines().enumerate() {
        if open.is_some() {
            if line.trim_start().starts_with("```") {
                out.extend(open.take());
            } else if let Some(block) = open.as_mut() {
                block.text.push_str(line);
                block.text.push('\n');
            }
            continue;
        }
        let Some(info) = line.trim_start().strip_prefix("```sdb") else {
            continue;
        };
        let fails = match info.trim() {
            "" => false,
            ",fails" => true,
            other => panic!("{shown}:{}: unknown fence `sdb{other}`", n + 1),
        };
        open = Some(Block {
            place: format!("{shown}:{}", n + 1),
            fails,
            text: String::new(),
        });
    }
    assert!(open.is_none(), "{shown}: a ```sdb block is not closed");
    out
}

fn check(block: &Block) -> Result<(), String> {
    let env = Env {
        vars: BTreeMap::new(),
        getenv: Box::new(|_| None),
        reader: &MemoryReader,
    };
    let analysis = sdbc::pipeline::check(analyze_bytes(
        "example.sdb",
        None,
        block.text.clone().into_bytes(),
        &env,
    ));
    let rendered = render_human(
        &analysis.sources,
        &analysis.diagnostics,
        ColorChoice::Never,
        80,
    );
    match (block.fails, analysis.has_errors()) {
        (false, true) => Err(format!(
            "{}: should check clean:\n{}\n{rendered}",
            block.place, block.text
        )),
        (true, false) => Err(format!(
            "{}: marked `sdb,fails` but reports no error:\n{}",
            block.place, block.text
        )),
        _ => Ok(()),
    }
}

fn check_all(blocks: &[Block]) {
    let failures: Vec<String> = blocks.iter().filter_map(|b| check(b).err()).collect();
    assert!(
        failures.is_empty(),
        "{} of {} examples are wrong:\n\n{}",
        failures.len(),
        blocks.len(),
        failures.join("\n\n")
    );
}

fn error_pages() -> Vec<PathBuf> {
    let mut pages: Vec<PathBuf> = std::fs::read_dir(root().join("docs/errors"))
        .expect("docs/errors exists")
        .map(|e| e.expect("dir entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "md") && !p.ends_with("README.md"))
        .collect();
    pages.sort();
    pages
}

#[test]
fn language_reference_examples_check() {
    let blocks = blocks(&root().join("docs/language.md"));
    // The reference has an example per construct; far fewer means the
    // extraction broke, not that the examples vanished.
    assert!(blocks.len() >= 50, "only {} examples found", blocks.len());
    assert!(blocks.iter().any(|b| b.fails) && blocks.iter().any(|b| !b.fails));
    check_all(&blocks);
}

#[test]
fn error_page_examples_check() {
    let pages = error_pages();
    assert!(!pages.is_empty(), "no error pages");
    let all: Vec<Block> = pages.iter().flat_map(|p| blocks(p)).collect();
    check_all(&all);
}

#[test]
fn error_pages_show_their_fixture_output() {
    let mut stale = Vec::new();
    for page in error_pages() {
        let code = page
            .file_stem()
            .expect("page has a name")
            .to_string_lossy()
            .to_string();
        let text = std::fs::read_to_string(&page).expect("page is readable");
        let fixture = text
            .lines()
            .find_map(|l| l.strip_prefix("<!-- fixture: ")?.strip_suffix(" -->"))
            .unwrap_or_else(|| panic!("{code}.md names no fixture (`<!-- fixture: PATH -->`)"));
        let fixture = Path::new(fixture);
        let snap_path = fixture
            .parent()
            .expect("fixture in a folder")
            .join("snapshots")
            .join(fixture.file_stem().expect("fixture name"))
            .with_extension("snap");
        let snap = std::fs::read_to_string(root().join(&snap_path))
            .unwrap_or_else(|_| panic!("{code}.md: no snapshot {}", snap_path.display()));
        // An insta snapshot is `---`, a header, `---`, then the content.
        let expected = snap
            .splitn(3, "---\n")
            .nth(2)
            .expect("snapshot has a header")
            .trim_end();
        let shown = shown_output(&text, &code)
            .unwrap_or_else(|| panic!("{code}.md has no ```text block showing {code}"));
        if shown.trim_end() != expected {
            stale.push(format!(
                "{code}.md: output differs from {}:\n--- page\n{shown}\n--- snapshot\n{expected}",
                snap_path.display()
            ));
        }
    }
    assert!(stale.is_empty(), "{}", stale.join("\n\n"));
}

/// The first ```text block with a line that is just the code.
fn shown_output(page: &str, code: &str) -> Option<String> {
    let mut lines = page.lines();
    while let Some(line) = lines.next() {
        if line.trim() != "```text" {
            continue;
        }
        let body: Vec<&str> = lines.by_ref().take_while(|l| l.trim() != "```").collect();
        if body.contains(&code) {
            return Some(body.join("\n"));
        }
    }
    None
}

/// Values the reference states in prose, checked against the model:
/// `(program, what, expected)` where `what` is `config NAME`,
/// `output NAME` or `env SERVICE VARIABLE`.
const STATED_VALUES: &[(&str, &str, &str)] = &[
    // Raw strings: dedented, `${}` interpolated, `$${` literal, no escapes.
    (
        "let port = 6379;\nconfig redis_conf \"\"\"\n  port ${port}\n  # a literal dollar-brace: $${NOT_INTERPOLATED}\n  dir /data\\backslashes\\stay\n  \"\"\";\n",
        "config redis_conf",
        "port 6379\n# a literal dollar-brace: ${NOT_INTERPOLATED}\ndir /data\\backslashes\\stay\n",
    ),
    (
        "let shell = \"echo $${HOME}\";\noutput o = shell;\n",
        "output o",
        "echo ${HOME}",
    ),
    (
        "output o = \"say \\\"hi\\\"\\t!\";\n",
        "output o",
        "say \"hi\"\t!",
    ),
    (
        "let name = \"misago\";\noutput o = \"hello from ${name}\";\n",
        "output o",
        "hello from misago",
    ),
    // template() sees top-level lets and params.
    (
        "let app_host = \"misago\";\nconfig nginx template(\"misago/nginx.conf\");\n",
        "config nginx",
        "server misago:8000;\n",
    ),
    (
        "output o = join([\"a\", \"b\", \"c\"], \",\");\n",
        "output o",
        "a,b,c",
    ),
    (
        "param region = env(\"SDBC_REGION\", \"europe-west1\");\noutput o = region;\n",
        "output o",
        "europe-west1",
    ),
    // Groups, members, internal addresses from `.10`.
    (
        "network net 10.0.0.0/24;\nvm worker[2] e2-small;\noutput o = worker[1].name;\n",
        "output o",
        "worker-1",
    ),
    (
        "network net 10.0.0.0/24;\nvm a e2-small;\nvm b e2-small;\noutput o = b.internal_ip;\n",
        "output o",
        "10.0.0.11",
    ),
    (
        "network net 10.0.0.0/24;\nvm worker[2] e2-small;\noutput o = worker.name;\n",
        "output o",
        "worker",
    ),
    // Text forms: a service is its host name, a VM its internal IP.
    (
        "network net 10.0.0.0/24;\nvm m e2-small swarm=manager;\nservice api image=\"a\";\nservice web image=\"w\" {\n  env API = api;\n  env M = m;\n  env N = 4;\n}\n",
        "env web API",
        "api",
    ),
    (
        "network net 10.0.0.0/24;\nvm m e2-small swarm=manager;\nservice web image=\"w\" {\n  env M = m;\n}\n",
        "env web M",
        "10.0.0.10",
    ),
    (
        "service web image=\"w\" {\n  env N = 4;\n}\n",
        "env web N",
        "4",
    ),
    // Module members: `INSTANCE.NAME` in sdb, `INSTANCE-NAME` in Swarm.
    (
        "module cache(on) {\n  service redis image=\"redis:7.4\" on=on;\n}\nnetwork net 10.0.0.0/24;\nvm m e2-small swarm=manager;\ncache sessions on=m;\nservice app image=\"a\" {\n  env R = sessions.redis;\n}\n",
        "env app R",
        "sessions-redis",
    ),
    (
        "secret db_password;\nservice app image=\"a\" {\n  secret db_password;\n  env F = db_password.path;\n}\n",
        "env app F",
        "/run/secrets/db_password",
    ),
];

#[test]
fn stated_values_hold() {
    let env = Env {
        vars: BTreeMap::new(),
        getenv: Box::new(|_| None),
        reader: &MemoryReader,
    };
    let mut wrong = Vec::new();
    for (program, what, expected) in STATED_VALUES {
        let analysis = sdbc::pipeline::check(analyze_bytes(
            "example.sdb",
            None,
            program.as_bytes().to_vec(),
            &env,
        ));
        if analysis.has_errors() {
            wrong.push(format!(
                "{program}\nhas errors:\n{}",
                render_human(
                    &analysis.sources,
                    &analysis.diagnostics,
                    ColorChoice::Never,
                    80
                )
            ));
            continue;
        }
        let m = &analysis.model;
        let words: Vec<&str> = what.split(' ').collect();
        let found: Option<String> = match words.as_slice() {
            ["config", name] => m
                .configs
                .iter()
                .find(|c| c.name == *name)
                .map(|c| c.content.clone()),
            ["output", name] => {
                m.outputs
                    .iter()
                    .find(|o| o.name == *name)
                    .map(|o| match &o.value {
                        sdbc::model::OutputValue::Known(t) => t.clone(),
                        other => format!("{other:?}"),
                    })
            }
            ["env", service, var] => m
                .services
                .iter()
                .find(|s| s.name == *service)
                .and_then(|s| s.env.get(*var).cloned()),
            _ => panic!("unknown check `{what}`"),
        };
        if found.as_deref() != Some(*expected) {
            wrong.push(format!(
                "{program}\n{what}: expected {expected:?}, found {found:?}"
            ));
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n\n"));
}

/// Kinds whose section is headed by a word rather than `` `kind` ``.
const HEADINGS: &[(&str, &str)] = &[("module", "Modules")];

/// Every built-in kind has a section in `docs/language.md` (a heading
/// naming it) that names each of its arguments and attributes.
#[test]
fn every_kind_and_attribute_is_documented() {
    let text = std::fs::read_to_string(root().join("docs/language.md")).expect("doc is readable");
    let mut missing = Vec::new();
    for k in sdbc::schema::KINDS {
        let heading = HEADINGS
            .iter()
            .find(|(kind, _)| *kind == k.name)
            .map_or_else(|| format!("`{}`", k.name), |(_, h)| h.to_string());
        let sections: Vec<&str> = text
            .split("\n#")
            .filter(|s| {
                s.lines()
                    .next()
                    .is_some_and(|h| h.trim_start_matches('#').trim().starts_with(&heading))
            })
            .collect();
        if sections.is_empty() {
            missing.push(format!("kind `{}`", k.name));
            continue;
        }
        for a in k.positional.iter().chain(k.attrs) {
            let named = format!("`{}`", a.name);
            if !sections.iter().any(|s| s.contains(&named)) {
                missing.push(format!("`{}` of `{}`", a.name, k.name));
            }
        }
    }
    assert!(missing.is_empty(), "not in docs/language.md: {missing:?}");
}
