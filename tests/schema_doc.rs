//! The kind tables of `docs/language.md` say what the schema says: for
//! every kind documented with a table, the same positional arguments and
//! attributes, each with its type, whether it is required, and its default
//! where the schema declares one. A kind of the schema with arguments or
//! attributes must have such a table, unless it is listed in [`UNTABLED`].

use std::collections::BTreeMap;
use std::path::Path;

use sdbc::schema::{ArgSchema, KINDS, KindSchema, Place, Ty};

/// Kinds the language reference describes in prose instead of a table.
const UNTABLED: &[&str] = &["import", "param", "let", "output", "module", "env"];

/// One row of a kind's table.
#[derive(Debug)]
struct Row {
    positional: bool,
    name: String,
    ty: String,
    /// The default column, if the table has one.
    default: Option<String>,
    line: usize,
}

/// `(kind, place)` -> rows of its table.
fn tables() -> BTreeMap<(String, &'static str), Vec<Row>> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/language.md");
    let text = std::fs::read_to_string(path).expect("docs/language.md");
    let mut out: BTreeMap<(String, &'static str), Vec<Row>> = BTreeMap::new();
    let mut section: Option<(String, &'static str)> = None;
    let mut header: Option<Vec<String>> = None;
    for (n, line) in text.lines().enumerate() {
        if line.starts_with('#') {
            section = heading(line);
            header = None;
            continue;
        }
        let Some(key) = &section else { continue };
        if !line.starts_with('|') {
            if header.is_some() {
                section = None; // only the first table of a section
            }
            continue;
        }
        let cells = cells(line);
        let Some(head) = &header else {
            header = Some(cells);
            continue;
        };
        if cells.iter().all(|c| c.chars().all(|ch| ch == '-')) {
            continue;
        }
        if let Some(row) = row(head, &cells, n + 1) {
            out.entry(key.clone()).or_default().push(row);
        }
    }
    out
}

/// `### `vm``, `#### `mount` (in a service body)` -> `(kind, place)`.
fn heading(line: &str) -> Option<(String, &'static str)> {
    let rest = line.trim_start_matches('#').trim();
    let name = rest.strip_prefix('`')?.split('`').next()?.to_string();
    let place = if rest.contains("(in a `vm` body)") {
        "vm"
    } else if rest.contains("(in a service body)") {
        "service"
    } else if rest.contains("(in a loadtest body)") {
        "loadtest"
    } else if rest.contains("(in a step body)") {
        "step"
    } else {
        "top"
    };
    Some((name, place))
}

fn cells(line: &str) -> Vec<String> {
    let inner = line.trim().trim_start_matches('|').trim_end_matches('|');
    inner.split(" | ").map(|c| c.trim().to_string()).collect()
}

fn row(head: &[String], cells: &[String], line: usize) -> Option<Row> {
    let col = |name: &str| head.iter().position(|h| h == name);
    let (positional, name) = if head[0].is_empty() {
        match cells[0].as_str() {
            "positional" => (true, cells.get(col("name")?)?.clone()),
            "attribute" => (false, cells.get(col("name")?)?.clone()),
            _ => return None, // the subject: `name`, `names`
        }
    } else {
        (false, cells[0].clone())
    };
    Some(Row {
        positional,
        name: name.trim_matches('`').to_string(),
        ty: cells.get(col("type")?)?.clone(),
        default: col("default").and_then(|c| cells.get(c)).cloned(),
        line,
    })
}

fn place_word(p: Place) -> &'static str {
    match p {
        Place::Top => "top",
        Place::Vm => "vm",
        Place::Service => "service",
        Place::Loadtest => "loadtest",
        Place::Step => "step",
    }
}

/// How the reference names a type.
fn type_words(ty: Ty) -> Option<String> {
    Some(match ty {
        Ty::Int => "integer".into(),
        Ty::Number => "number".into(),
        Ty::Bool => "boolean".into(),
        Ty::Str => "string".into(),
        Ty::Size => "size".into(),
        Ty::Duration => "duration".into(),
        Ty::Cidr => "address range".into(),
        Ty::Word => "name".into(),
        Ty::Enum([one]) => format!("the word `{one}`"),
        Ty::Enum(words) => words
            .iter()
            .map(|w| format!("`{w}`"))
            .collect::<Vec<_>>()
            .join(", "),
        Ty::PortSpec => "port spec".into(),
        Ty::PortMap => "port map".into(),
        Ty::Ref([kind]) => format!("reference to a `{kind}`"),
        Ty::ListOf(Ty::Ref(["service"])) => "list of services".into(),
        Ty::ListOf(inner) => format!("list of {}s", type_words(*inner)?),
        Ty::Map => "map".into(),
        Ty::Ref(_) | Ty::Any => return None,
    })
}

fn check_arg(kind: &KindSchema, a: &ArgSchema, row: &Row, problems: &mut Vec<String>) {
    let at = format!(
        "docs/language.md:{} (`{}` of `{}`)",
        row.line, a.name, kind.name
    );
    if let Some(words) = type_words(a.ty)
        && !row.ty.starts_with(&words)
    {
        problems.push(format!("{at}: type `{}`, the schema says {words}", row.ty));
    }
    match (&row.default, a.required, a.default) {
        (Some(d), true, _) if d != "required" => {
            problems.push(format!("{at}: default {d}, the schema says required"));
        }
        (Some(d), false, Some(want)) if *d != format!("`{want}`") => {
            problems.push(format!("{at}: default {d}, the schema says `{want}`"));
        }
        (Some(d), false, None) if d == "required" => {
            problems.push(format!("{at}: required, the schema says optional"));
        }
        (None, required, _) if required != row.ty.contains("required") => {
            problems.push(format!("{at}: required is {required} in the schema"));
        }
        _ => {}
    }
}

#[test]
fn kind_tables_match_the_schema() {
    let tables = tables();
    assert!(tables.len() >= 15, "the kind tables were not found");
    let mut problems = Vec::new();
    for kind in KINDS {
        let key = (kind.name.to_string(), place_word(kind.place));
        let args: Vec<(bool, &ArgSchema)> = kind
            .positional
            .iter()
            .map(|a| (true, a))
            .chain(kind.attrs.iter().map(|a| (false, a)))
            .collect();
        let Some(rows) = tables.get(&key) else {
            if !args.is_empty() && !UNTABLED.contains(&kind.name) {
                problems.push(format!("`{}` ({}) has no table", kind.name, key.1));
            }
            continue;
        };
        for (positional, a) in &args {
            match rows
                .iter()
                .find(|r| r.name == a.name && r.positional == *positional)
            {
                Some(row) => check_arg(kind, a, row, &mut problems),
                None => problems.push(format!(
                    "`{}` of `{}` is not in its table",
                    a.name, kind.name
                )),
            }
        }
        for r in rows {
            if !args
                .iter()
                .any(|(p, a)| a.name == r.name && *p == r.positional)
            {
                problems.push(format!(
                    "docs/language.md:{}: `{}` is not an argument of `{}`",
                    r.line, r.name, kind.name
                ));
            }
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}
