//! Strings and JSON bodies of load-test steps. `${NAME}` means a run-time
//! variable when NAME is one (extracted by an earlier step, `user.FIELD`,
//! `iteration`, `random`) and is evaluated now otherwise (a `param`, a
//! `let`), so both kinds of value share the language's one interpolation.

use std::collections::BTreeSet;

use super::eval::{Ctx, Evaluator};
use super::value::Value;
use crate::diag::{Code, did_you_mean};
use crate::model::loadtest::{BUILTIN_VARS, JsonTemplate, Part, Template, USER_FIELDS};
use crate::syntax::ast::{Expr, ExprKind, StrPart};

/// The run-time names a step may use.
pub struct RunVars {
    /// Extracted by earlier steps.
    pub known: BTreeSet<String>,
    /// Extracted by this step or later ones (an error to use here).
    pub later: BTreeSet<String>,
}

/// `Some(path)` when `e` names a run-time variable; `Some(None)` when it
/// does but wrongly (reported); `None` when it is an ordinary expression.
fn run_var(ev: &mut Evaluator, e: &Expr, vars: &RunVars) -> Option<Option<String>> {
    match &e.unparen().kind {
        ExprKind::Name(n) if vars.known.contains(&n.name) => Some(Some(n.name.clone())),
        ExprKind::Name(n) if n.name == "iteration" || n.name == "random" => {
            Some(Some(n.name.clone()))
        }
        ExprKind::Name(n) if n.name == "user" => {
            ev.error(
                Code::BadValue,
                "`user` is a set of fields, not a value",
                n.span,
                "a field is needed",
                format!("write one of {}", fields_list()),
            );
            Some(None)
        }
        ExprKind::Name(n) if vars.later.contains(&n.name) => {
            ev.error(
                Code::VarNotYetSet,
                format!("`{}` is used before a step extracts it", n.name),
                n.span,
                "not set yet",
                "a step sees only what earlier steps extracted; move the `extract` to an earlier step",
            );
            Some(None)
        }
        ExprKind::Field { base, field } if base.as_name().is_some_and(|b| b.name == "user") => {
            if USER_FIELDS.contains(&field.name.as_str()) {
                return Some(Some(format!("user.{}", field.name)));
            }
            let help = did_you_mean(&field.name, USER_FIELDS.iter().copied())
                .unwrap_or_else(|| format!("`user` has {}", fields_list()));
            ev.error(
                Code::UnknownField,
                format!("`user` has no field `{}`", field.name),
                field.span,
                "unknown field",
                help,
            );
            Some(None)
        }
        _ => None,
    }
}

fn fields_list() -> String {
    USER_FIELDS
        .iter()
        .map(|f| format!("`user.{f}`"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Whether a name is reserved for run-time values in load tests.
pub fn is_builtin(name: &str) -> bool {
    BUILTIN_VARS.contains(&name)
}

/// A text template from a string, a run-time name or any value.
pub fn template(ev: &mut Evaluator, e: &Expr, ctx: Ctx, vars: &RunVars) -> Option<Template> {
    if let Some(path) = run_var(ev, e, vars) {
        return path.map(|p| Template(vec![Part::Var(p)]));
    }
    let ExprKind::Str(parts) = &e.kind else {
        let v = ev.eval(e, ctx);
        return ev.text_of(&v, e.span).map(Template::text);
    };
    let mut out = Vec::new();
    let mut ok = true;
    for p in parts {
        match p {
            StrPart::Text(t) => push_text(&mut out, t),
            StrPart::Interp(inner) => match run_var(ev, inner, vars) {
                Some(Some(path)) => out.push(Part::Var(path)),
                Some(None) => ok = false,
                None => {
                    let v = ev.eval(inner, ctx);
                    match ev.text_of(&v, inner.span) {
                        Some(t) => push_text(&mut out, &t),
                        None => ok = false,
                    }
                }
            },
        }
    }
    ok.then_some(Template(out))
}

fn push_text(out: &mut Vec<Part>, t: &str) {
    match out.last_mut() {
        Some(Part::Text(prev)) => prev.push_str(t),
        _ => out.push(Part::Text(t.to_string())),
    }
}

/// `{ key: template, .. }` pairs of a map attribute (headers, query, form).
pub fn template_map(
    ev: &mut Evaluator,
    e: &Expr,
    ctx: Ctx,
    vars: &RunVars,
    key: &str,
) -> Vec<(String, Template)> {
    let ExprKind::Map(entries) = &e.unparen().kind else {
        let v = ev.eval(e, ctx);
        if !matches!(v, Value::Poison) {
            super::attrs::wrong::<()>(ev, &v, e.span, key, "a map");
        }
        return Vec::new();
    };
    entries
        .iter()
        .filter_map(|(k, v)| Some((k.name.clone(), template(ev, v, ctx, vars)?)))
        .collect()
}

/// A JSON body: maps, lists and scalars as written, strings as templates.
pub fn json(ev: &mut Evaluator, e: &Expr, ctx: Ctx, vars: &RunVars) -> Option<JsonTemplate> {
    if let Some(path) = run_var(ev, e, vars) {
        return path.map(JsonTemplate::Var);
    }
    Some(match &e.unparen().kind {
        ExprKind::Map(entries) => JsonTemplate::Object(
            entries
                .iter()
                .map(|(k, v)| Some((k.name.clone(), json(ev, v, ctx, vars)?)))
                .collect::<Option<_>>()?,
        ),
        ExprKind::List(items) => JsonTemplate::List(
            items
                .iter()
                .map(|v| json(ev, v, ctx, vars))
                .collect::<Option<_>>()?,
        ),
        ExprKind::Str(_) => JsonTemplate::Str(template(ev, e, ctx, vars)?),
        _ => {
            let v = ev.eval(e, ctx);
            JsonTemplate::Value(value_json(ev, &v, e)?)
        }
    })
}

fn value_json(ev: &mut Evaluator, v: &Value, e: &Expr) -> Option<serde_json::Value> {
    Some(match v {
        Value::Int(n) => (*n).into(),
        Value::Float(f) => (*f).into(),
        Value::Bool(b) => (*b).into(),
        Value::List(items) => serde_json::Value::Array(
            items
                .iter()
                .map(|i| value_json(ev, i, e))
                .collect::<Option<_>>()?,
        ),
        Value::Map(m) => serde_json::Value::Object(
            m.iter()
                .map(|(k, i)| Some((k.clone(), value_json(ev, i, e)?)))
                .collect::<Option<_>>()?,
        ),
        other => ev.text_of(other, e.span)?.into(),
    })
}
