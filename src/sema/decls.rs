//! Declaration-level checks: each declaration against the schema of its
//! kind (or the parameter list of a module), on its own, before names are
//! resolved. Unknown kinds and attributes, wrong literal types and units,
//! missing or extra arguments, bad counts and duplicate attributes.

use std::collections::BTreeMap;

use crate::diag::{Code, Diagnostic, Diagnostics, did_you_mean};
use crate::schema::{self, ArgSchema, KindSchema, Place, Subject, Ty, ValueRule};
use crate::span::Span;
use crate::syntax::ast::{Decl, Expr, ExprKind, Item};

/// Module name -> its parameter names and whether each has a default.
pub type ModuleSigs = BTreeMap<String, Vec<(String, bool)>>;

pub fn check_items(
    text: &str,
    items: &[Item],
    place: Place,
    modules: &ModuleSigs,
    diags: &mut Diagnostics,
) {
    for item in items {
        match item {
            Item::Decl(d) => check_decl(text, d, place, modules, diags),
            Item::Attr(a) if place == Place::Top => diags.push(
                Diagnostic::new(
                    Code::NotAllowedHere,
                    format!("attribute `{}` outside a declaration", a.key.name),
                    a.key.span,
                    "not inside any declaration",
                )
                .with_help("attributes go inside a declaration's `{ }` body"),
            ),
            Item::Attr(_) => {} // checked with the enclosing declaration
        }
    }
}

fn check_decl(text: &str, d: &Decl, place: Place, modules: &ModuleSigs, diags: &mut Diagnostics) {
    let name = d.kind.name.as_str();
    if let Some(schema) = schema::kind(name, place) {
        check_against(text, d, schema, modules, diags);
        if name == "module"
            && let Some(body) = &d.body
        {
            check_items(text, &body.items, Place::Top, modules, diags);
            for inner in body.items.iter().filter_map(|i| match i {
                Item::Decl(x)
                    if matches!(
                        x.kind.name.as_str(),
                        "module" | "import" | "gce" | "loadtest"
                    ) =>
                {
                    Some(x)
                }
                _ => None,
            }) {
                diags.push(
                    Diagnostic::new(
                        Code::NotAllowedHere,
                        format!("`{}` is not allowed inside a module", inner.kind.name),
                        inner.kind.span,
                        "inside a module",
                    )
                    .with_help("declare modules, imports and `gce` at the top of a file"),
                );
            }
        }
        return;
    }
    if place == Place::Top
        && let Some(params) = modules.get(name)
    {
        check_instance(d, params, diags);
        return;
    }
    if let Some(other) = schema::kinds_named(name).next() {
        let where_ = other.place.describe();
        diags.push(
            Diagnostic::new(
                Code::NotAllowedHere,
                format!("`{name}` is not allowed here"),
                d.kind.span,
                "not allowed here",
            )
            .with_help(format!("`{name}` belongs {where_}")),
        );
        return;
    }
    let mut candidates: Vec<&str> = schema::kind_names(place).collect();
    if place == Place::Top {
        candidates.extend(modules.keys().map(String::as_str));
    }
    let help = did_you_mean(name, candidates.iter().copied()).unwrap_or_else(|| {
        let mut all = candidates.clone();
        all.sort_unstable();
        all.dedup();
        format!("known kinds here: {}", all.join(", "))
    });
    diags.push(
        Diagnostic::new(
            Code::UnknownKind,
            format!("unknown kind `{name}`"),
            d.kind.span,
            "unknown kind",
        )
        .with_help(help),
    );
}

fn check_against(
    text: &str,
    d: &Decl,
    schema: &KindSchema,
    modules: &ModuleSigs,
    diags: &mut Diagnostics,
) {
    check_subject(d, schema, diags);
    check_value(d, schema, diags);
    if d.params.is_some() && schema.name != "module" {
        diags.push(
            Diagnostic::new(
                Code::NotAllowedHere,
                "only a `module` has parameters",
                d.kind.span,
                "not a module",
            )
            .with_help("remove the `( .. )` list"),
        );
    }
    if schema.name == "module" && d.body.is_none() {
        diags.push(
            Diagnostic::new(
                Code::MissingArgument,
                "a module needs a body",
                d.span,
                "no `{ }` body",
            )
            .with_help("declare what the module makes inside `{ }`"),
        );
    }
    check_positional(text, d, schema, diags);
    check_attrs(d, schema, diags);
    match (&d.body, schema.body) {
        (Some(body), false) => diags.push(
            Diagnostic::new(
                Code::NotAllowedHere,
                format!("`{}` has no body", schema.name),
                body.span,
                "unexpected body",
            )
            .with_help(format!(
                "write its attributes after the name, e.g. `{}`",
                schema.example
            )),
        ),
        (Some(body), true) if schema.name != "module" => {
            let inner = Place::inside(schema.name);
            if schema.name != "gce" {
                check_items(text, &body.items, inner, modules, diags);
            } else {
                check_items_no_decls(&body.items, diags);
            }
        }
        _ => {}
    }
}

fn check_items_no_decls(items: &[Item], diags: &mut Diagnostics) {
    for item in items {
        if let Item::Decl(d) = item {
            diags.push(
                Diagnostic::new(
                    Code::NotAllowedHere,
                    "`gce` holds only attributes",
                    d.kind.span,
                    "declaration in `gce`",
                )
                .with_help("write `key = value` lines"),
            );
        }
    }
}

fn check_subject(d: &Decl, schema: &KindSchema, diags: &mut Diagnostics) {
    let kind = schema.name;
    match schema.subject {
        Subject::None => {
            if let Some(s) = d.subjects.first() {
                diags.push(
                    Diagnostic::new(
                        Code::TooManyArguments,
                        format!("`{kind}` takes no name"),
                        s.span,
                        "unexpected name",
                    )
                    .with_help(format!("for example: `{}`", schema.example)),
                );
            }
        }
        Subject::Name | Subject::NameOrGroup | Subject::Names => {
            if d.subjects.is_empty() {
                diags.push(
                    Diagnostic::new(
                        Code::MissingName,
                        format!("`{kind}` needs a name"),
                        d.kind.span,
                        "no name follows",
                    )
                    .with_help(format!("for example: `{}`", schema.example)),
                );
            }
            if schema.subject != Subject::Names && d.subjects.len() > 1 {
                diags.push(
                    Diagnostic::new(
                        Code::TooManyArguments,
                        format!("`{kind}` declares one name"),
                        d.subjects[1].span,
                        "second name",
                    )
                    .with_help("declare each on its own line"),
                );
            }
            for s in &d.subjects {
                check_declared_name(s, schema, diags);
            }
        }
        Subject::Refs(_) => {
            if d.subjects.is_empty() {
                diags.push(
                    Diagnostic::new(
                        Code::MissingName,
                        format!("`{kind}` needs the name of what it uses"),
                        d.kind.span,
                        "nothing named",
                    )
                    .with_help(format!("for example: `{}`", schema.example)),
                );
            }
        }
    }
}

fn check_declared_name(s: &Expr, schema: &KindSchema, diags: &mut Diagnostics) {
    match &s.kind {
        ExprKind::Name(_) => {}
        ExprKind::Index { base, index } if matches!(base.kind, ExprKind::Name(_)) => {
            if schema.subject != Subject::NameOrGroup {
                diags.push(
                    Diagnostic::new(
                        Code::BadCount,
                        format!("a `{}` cannot be a group", schema.name),
                        index.span,
                        "count not allowed",
                    )
                    .with_help("only `vm` declares groups, e.g. `vm worker[4] e2-standard-2;`"),
                );
                return;
            }
            match &index.kind {
                ExprKind::Int(0) => diags.push(
                    Diagnostic::new(
                        Code::BadCount,
                        "a group needs at least one member",
                        index.span,
                        "count is 0",
                    )
                    .with_help("write a count of 1 or more, or remove the VM"),
                ),
                ExprKind::Int(n) if *n > 1000 => diags.push(
                    Diagnostic::new(
                        Code::BadCount,
                        format!("a group of {n} is more than 1000"),
                        index.span,
                        "too many",
                    )
                    .with_help("split it into several groups"),
                ),
                ExprKind::Int(_) | ExprKind::Name(_) => {}
                _ => diags.push(
                    Diagnostic::new(
                        Code::BadCount,
                        "a group count must be a whole number",
                        index.span,
                        "not a count",
                    )
                    .with_help("write e.g. `worker[4]`"),
                ),
            }
        }
        _ => diags.push(
            Diagnostic::new(
                Code::MissingName,
                format!("`{}` needs a plain name here", schema.name),
                s.span,
                "not a plain name",
            )
            .with_help(format!("for example: `{}`", schema.example)),
        ),
    }
}

fn check_value(d: &Decl, schema: &KindSchema, diags: &mut Diagnostics) {
    match (schema.value, &d.value) {
        (ValueRule::Required, None) => diags.push(
            Diagnostic::new(
                Code::MissingArgument,
                format!("`{}` needs a value", schema.name),
                d.span,
                "no `= value`",
            )
            .with_help(format!("for example: `{}`", schema.example)),
        ),
        (ValueRule::Forbidden, Some(v)) => diags.push(
            Diagnostic::new(
                Code::TooManyArguments,
                format!("`{}` takes no `= value`", schema.name),
                v.span,
                "unexpected value",
            )
            .with_help(format!("for example: `{}`", schema.example)),
        ),
        _ => {}
    }
}

fn check_positional(text: &str, d: &Decl, schema: &KindSchema, diags: &mut Diagnostics) {
    let given: Vec<&Expr> = d.positional_args().collect();
    for (i, arg) in schema.positional.iter().enumerate() {
        match given.get(i) {
            Some(e) => check_type(e, arg, diags),
            None if arg.required => diags.push(
                Diagnostic::new(
                    Code::MissingArgument,
                    format!(
                        "`{}` needs its {} ({})",
                        schema.name,
                        arg.name.replace('_', " "),
                        arg.ty.describe()
                    ),
                    d.span,
                    format!("no {}", arg.name.replace('_', " ")),
                )
                .with_help(format!("for example: `{}`", schema.example)),
            ),
            None => {}
        }
    }
    // One diagnostic for the first extra argument: the rest usually follow
    // from the same slip (a missing `;`).
    if let Some(extra) = given.get(schema.positional.len()) {
        let mut diag = Diagnostic::new(
            Code::TooManyArguments,
            format!("too many arguments for `{}`", schema.name),
            extra.span,
            "unexpected argument",
        );
        diag = if on_later_line(text, d.kind.span, extra.span) {
            diag.with_help("is a `;` missing at the end of the previous line?")
        } else {
            diag.with_help(format!(
                "`{}` takes {}; other settings are `key=value`",
                schema.name,
                count_words(schema.positional.len())
            ))
        };
        diags.push(diag);
    }
}

/// Whether `extra` starts on a later line than the declaration's kind.
fn on_later_line(text: &str, kind: Span, extra: Span) -> bool {
    text.get(kind.start as usize..extra.start as usize)
        .is_some_and(|between| between.contains('\n'))
}

fn count_words(n: usize) -> String {
    match n {
        0 => String::from("no positional argument"),
        1 => String::from("one positional argument"),
        n => format!("{n} positional arguments"),
    }
}

fn check_attrs(d: &Decl, schema: &KindSchema, diags: &mut Diagnostics) {
    let mut seen: BTreeMap<&str, Span> = BTreeMap::new();
    let mut given: Vec<(&crate::syntax::ast::Ident, &Expr)> = d.named_args().collect();
    given.extend(d.body_attrs().map(|a| (&a.key, &a.value)));
    for (key, value) in given {
        let Some(attr) = schema.attr(&key.name) else {
            let help =
                did_you_mean(&key.name, schema.attrs.iter().map(|a| a.name)).unwrap_or_else(|| {
                    if schema.attrs.is_empty() {
                        format!("`{}` has no attributes", schema.name)
                    } else {
                        format!(
                            "`{}` has {}",
                            schema.name,
                            schema
                                .attrs
                                .iter()
                                .map(|a| format!("`{}`", a.name))
                                .collect::<Vec<_>>()
                                .join(", ")
                        )
                    }
                });
            diags.push(
                Diagnostic::new(
                    Code::UnknownAttribute,
                    format!("unknown attribute `{}` for `{}`", key.name, schema.name),
                    key.span,
                    "unknown attribute",
                )
                .with_help(help),
            );
            continue;
        };
        if let Some(first) = seen.insert(attr.name, key.span) {
            diags.push(set_twice(&key.name, key.span, first));
            continue;
        }
        check_type(value, attr, diags);
    }
    for attr in schema.attrs.iter().filter(|a| a.required) {
        if !seen.contains_key(attr.name) {
            let what = if attr.name == "at" {
                String::from("at \"/path\"")
            } else {
                format!("{}=…", attr.name)
            };
            diags.push(
                Diagnostic::new(
                    Code::MissingArgument,
                    format!("`{}` needs `{}`", schema.name, attr.name),
                    d.kind
                        .span
                        .to(d.subjects.first().map_or(d.kind.span, |s| s.span)),
                    format!("no `{}`", attr.name),
                )
                .with_help(format!(
                    "add `{what}` ({}): {}",
                    attr.ty.describe(),
                    attr.doc
                )),
            );
        }
    }
}

/// Checks a literal against the expected type; references and calls are checked later.
pub fn check_type(e: &Expr, arg: &ArgSchema, diags: &mut Diagnostics) {
    if let Some(problem) = literal_mismatch(e, arg.ty) {
        let code = if matches!(arg.ty, Ty::Enum(_))
            && matches!(e.unparen().kind, ExprKind::Name(_) | ExprKind::Str(_))
        {
            Code::BadValue
        } else {
            Code::WrongType
        };
        let help = match (arg.ty, &e.unparen().kind) {
            (Ty::Enum(words), ExprKind::Name(n)) => did_you_mean(&n.name, words.iter().copied())
                .unwrap_or_else(|| format!("`{}` is {}", arg.name, arg.ty.describe())),
            (Ty::Size, ExprKind::Int(n)) => format!("give a unit, e.g. `{n}GB`"),
            (Ty::Duration, ExprKind::Int(n)) => format!("give a unit, e.g. `{n}s`"),
            _ => format!("`{}` is {}", arg.name, arg.ty.describe()),
        };
        diags.push(
            Diagnostic::new(
                code,
                format!(
                    "`{}` expects {}, found {problem}",
                    arg.name,
                    arg.ty.describe()
                ),
                e.span,
                format!("this is {problem}"),
            )
            .with_help(help),
        );
    }
}

/// What the literal is, if it cannot be of type `ty`; `None` if it can (or is not a literal).
fn literal_mismatch(e: &Expr, ty: Ty) -> Option<String> {
    let e = e.unparen();
    let found = describe_literal(e)?;
    let ok = match (ty, &e.kind) {
        (Ty::Any, _) => true,
        (Ty::Int, ExprKind::Int(_)) => true,
        (Ty::Number, ExprKind::Int(_) | ExprKind::Float(_)) => true,
        (Ty::Bool, ExprKind::Bool(_)) => true,
        (Ty::Str, ExprKind::Str(_)) => true,
        (Ty::Size, ExprKind::Size { .. }) => true,
        (Ty::Duration, ExprKind::Duration { .. }) => true,
        (Ty::Cidr, ExprKind::Cidr(_)) => true,
        (Ty::Word, ExprKind::Str(_)) => true,
        (Ty::Enum(words), ExprKind::Str(_)) => {
            e.as_plain_str().is_none_or(|s| words.contains(&s.as_str()))
        }
        (Ty::PortSpec, ExprKind::PortSpec { .. }) => true,
        (Ty::PortSpec, ExprKind::List(items)) => items
            .iter()
            .all(|i| literal_mismatch(i, Ty::PortSpec).is_none()),
        (Ty::PortMap, ExprKind::PortMap { .. }) => true,
        (Ty::PortMap, ExprKind::List(items)) => items
            .iter()
            .all(|i| literal_mismatch(i, Ty::PortMap).is_none()),
        (Ty::ListOf(inner), ExprKind::List(items)) => {
            items.iter().all(|i| literal_mismatch(i, *inner).is_none())
        }
        (Ty::Map, ExprKind::Map(_)) => true,
        _ => false,
    };
    (!ok).then_some(found)
}

/// A description of a literal expression; `None` for names, calls and operators.
fn describe_literal(e: &Expr) -> Option<String> {
    Some(match &e.kind {
        ExprKind::Int(_) => "an integer".into(),
        ExprKind::Float(_) => "a decimal number".into(),
        ExprKind::Bool(_) => "a boolean".into(),
        ExprKind::Str(_) => "a string".into(),
        ExprKind::Size { .. } => "a size".into(),
        ExprKind::Duration { .. } => "a duration".into(),
        ExprKind::Cidr(_) => "an address range".into(),
        ExprKind::Ip(_) => "an IP address".into(),
        ExprKind::PortMap { .. } => "a port mapping".into(),
        ExprKind::PortSpec { .. } => "a port spec".into(),
        ExprKind::List(_) => "a list".into(),
        ExprKind::Map(_) => "a map".into(),
        _ => return None,
    })
}

fn check_instance(d: &Decl, params: &[(String, bool)], diags: &mut Diagnostics) {
    let module = d.kind.name.as_str();
    if d.name().is_none() {
        diags.push(
            Diagnostic::new(
                Code::MissingName,
                format!("`{module}` needs a name"),
                d.kind.span,
                "no name follows",
            )
            .with_help(format!("for example: `{module} mine;`")),
        );
    }
    if let Some(v) = &d.value {
        diags.push(
            Diagnostic::new(
                Code::TooManyArguments,
                format!("module `{module}` takes no `= value`"),
                v.span,
                "unexpected value",
            )
            .with_help("pass parameters as `key=value`"),
        );
    }
    for p in d.positional_args() {
        diags.push(
            Diagnostic::new(
                Code::TooManyArguments,
                format!("module `{module}` takes parameters by name"),
                p.span,
                "positional argument",
            )
            .with_help(format!(
                "write `NAME=value`; parameters: {}",
                param_list(params)
            )),
        );
    }
    if let Some(body) = &d.body {
        diags.push(
            Diagnostic::new(
                Code::NotAllowedHere,
                format!("an instance of `{module}` has no body"),
                body.span,
                "unexpected body",
            )
            .with_help("pass parameters as `key=value`"),
        );
    }
    let mut seen: BTreeMap<&str, Span> = BTreeMap::new();
    for (key, _) in d.named_args() {
        if !params.iter().any(|(p, _)| *p == key.name) {
            let help = did_you_mean(&key.name, params.iter().map(|(p, _)| p.as_str()))
                .unwrap_or_else(|| format!("parameters: {}", param_list(params)));
            diags.push(
                Diagnostic::new(
                    Code::UnknownParameter,
                    format!("module `{module}` has no parameter `{}`", key.name),
                    key.span,
                    "unknown parameter",
                )
                .with_help(help),
            );
        } else if let Some(first) = seen.insert(&key.name, key.span) {
            diags.push(set_twice(&key.name, key.span, first));
        }
    }
    for (p, has_default) in params {
        if !has_default && !seen.contains_key(p.as_str()) {
            diags.push(
                Diagnostic::new(
                    Code::MissingParameter,
                    format!("module `{module}` needs parameter `{p}`"),
                    d.kind.span,
                    format!("no `{p}`"),
                )
                .with_help(format!("add `{p}=…`")),
            );
        }
    }
}

fn param_list(params: &[(String, bool)]) -> String {
    if params.is_empty() {
        return String::from("none");
    }
    params
        .iter()
        .map(|(p, _)| format!("`{p}`"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The parameter list of every `module` declaration among these items.
pub fn module_sigs<'a>(items: impl IntoIterator<Item = &'a Item>) -> ModuleSigs {
    let mut out = ModuleSigs::new();
    for item in items {
        if let Item::Decl(d) = item
            && d.kind.name == "module"
            && let Some(name) = d.name()
        {
            let params = d
                .params
                .iter()
                .flatten()
                .map(|p| (p.name.name.clone(), p.default.is_some()))
                .collect();
            out.insert(name.name.clone(), params);
        }
    }
    out
}

/// `key` given a second time at `again`, first at `first`.
fn set_twice(key: &str, again: Span, first: Span) -> Diagnostic {
    Diagnostic::new(
        Code::DuplicateAttribute,
        format!("`{key}` is set twice"),
        again,
        "set again here",
    )
    .with_label(first, "first set here")
    .with_help("remove one of them")
}
