//! The built-in functions: `env(NAME[, DEFAULT])`, `file(PATH)`,
//! `template(PATH)` and `join(LIST, SEP)`. They are the only ways a program
//! reads the outside world; each failure is a diagnostic at the call.

use std::path::PathBuf;

use super::eval::{Ctx, Evaluator};
use super::value::Value;
use crate::diag::{Code, did_you_mean};
use crate::span::Span;
use crate::syntax::ast::{Expr, Ident};

const FUNCS: &[&str] = &["env", "file", "template", "join"];

pub fn call(ev: &mut Evaluator, func: &Ident, args: &[Expr], span: Span, ctx: Ctx) -> Value {
    let values: Vec<Value> = args.iter().map(|a| ev.eval(a, ctx)).collect();
    if values.contains(&Value::Poison) {
        return Value::Poison;
    }
    let arity = match func.name.as_str() {
        "env" => 1..=2,
        "file" | "template" => 1..=1,
        "join" => 2..=2,
        other => {
            let help = did_you_mean(other, FUNCS.iter().copied())
                .unwrap_or_else(|| format!("functions: {}", FUNCS.join(", ")));
            return ev.error(
                Code::UndefinedName,
                format!("no function `{other}`"),
                func.span,
                "unknown function",
                help,
            );
        }
    };
    if !arity.contains(&values.len()) {
        return ev.error(
            Code::WrongType,
            format!(
                "`{}` takes {} arguments, not {}",
                func.name,
                arity_words(&arity),
                values.len()
            ),
            span,
            "wrong number of arguments",
            format!("see docs/language.md#{}", func.name),
        );
    }
    let strings: Option<Vec<String>> = values
        .iter()
        .map(|v| {
            if let Value::Str(s) = v {
                Some(s.clone())
            } else {
                None
            }
        })
        .collect();
    match (func.name.as_str(), strings) {
        ("env", Some(s)) => match ((ev.env.getenv)(&s[0]), s.get(1)) {
            (Some(v), _) => Value::Str(v),
            (None, Some(default)) => Value::Str(default.clone()),
            (None, None) => ev.error(
                Code::EnvMissing,
                format!("environment variable `{}` is not set", s[0]),
                span,
                "read here",
                format!(
                    "set `{}`, or give a default: `env(\"{}\", \"value\")`",
                    s[0], s[0]
                ),
            ),
        },
        ("file", Some(s)) => read(ev, &s[0], span, ctx).map_or(Value::Poison, Value::Str),
        ("template", Some(s)) => match read(ev, &s[0], span, ctx) {
            Some(text) => render(ev, &s[0], &text, span),
            None => Value::Poison,
        },
        ("join", _) => match (&values[0], &values[1]) {
            (Value::List(items), Value::Str(sep)) => {
                let parts: Option<Vec<String>> =
                    items.iter().map(|i| ev.text_of(i, span)).collect();
                parts.map_or(Value::Poison, |p| Value::Str(p.join(sep)))
            }
            _ => ev.error(
                Code::WrongType,
                "`join` takes a list and a string",
                span,
                "wrong arguments",
                "e.g. `join([\"a\", \"b\"], \",\")`",
            ),
        },
        (name, _) => ev.error(
            Code::WrongType,
            format!("`{name}` takes strings"),
            span,
            "not a string",
            format!("e.g. `{name}(\"path\")`"),
        ),
    }
}

fn arity_words(r: &std::ops::RangeInclusive<usize>) -> String {
    if r.start() == r.end() {
        r.start().to_string()
    } else {
        format!("{} or {}", r.start(), r.end())
    }
}

/// A file relative to the file the call is in.
fn resolve(ev: &Evaluator, path: &str, ctx: Ctx) -> PathBuf {
    let base = ev
        .sources
        .get(ctx.file)
        .path
        .as_ref()
        .and_then(|p| p.parent().map(PathBuf::from));
    let root_base = ev
        .sources
        .try_get(crate::span::FileId(0))
        .and_then(|f| f.path.as_ref())
        .and_then(|p| p.parent().map(PathBuf::from));
    base.or(root_base).unwrap_or_default().join(path)
}

fn read(ev: &mut Evaluator, path: &str, span: Span, ctx: Ctx) -> Option<String> {
    let full = resolve(ev, path, ctx);
    match ev.env.reader.read(&full) {
        Ok(bytes) => match String::from_utf8(bytes) {
            Ok(text) => Some(text),
            Err(e) => {
                let at = e.utf8_error().valid_up_to();
                ev.error(
                    Code::FileNotUtf8,
                    format!("`{}` is not UTF-8 (byte {at})", full.display()),
                    span,
                    "read here",
                    "configs and templates must be UTF-8 text",
                );
                None
            }
        },
        Err(err) => {
            ev.error(
                Code::FileUnreadable,
                format!("cannot read `{}`: {err}", full.display()),
                span,
                "read here",
                "paths are relative to the file that names them",
            );
            None
        }
    }
}

/// Renders a template with the program's top-level `param`s and `let`s as variables.
fn render(ev: &mut Evaluator, path: &str, text: &str, span: Span) -> Value {
    let mut context = tera::Context::new();
    for id in ev
        .sym
        .scope(super::collect::TOP)
        .sorted_names()
        .into_iter()
        .map(|(_, id)| id)
        .collect::<Vec<_>>()
    {
        let e = ev.sym.entity(id);
        if matches!(
            e.kind,
            super::scope::EntityKind::Let | super::scope::EntityKind::Param
        ) {
            let name = e.model_name.clone();
            let v = ev.value_of(id, span);
            if let Some(json) = to_json(ev, &v, span) {
                context.insert(name, &json);
            }
        }
    }
    match tera::Tera::one_off(text, &context, false) {
        Ok(s) => Value::Str(s),
        Err(err) => {
            let mut reason = err.to_string();
            let mut source = std::error::Error::source(&err);
            while let Some(s) = source {
                reason = format!("{reason}: {s}");
                source = s.source();
            }
            ev.error(
                Code::TemplateError,
                format!("template `{path}` does not render"),
                span,
                "rendered here",
                reason,
            )
        }
    }
}

fn to_json(ev: &mut Evaluator, v: &Value, span: Span) -> Option<serde_json::Value> {
    Some(match v {
        Value::Int(n) => serde_json::json!(n),
        Value::Bool(b) => serde_json::json!(b),
        Value::List(items) => {
            serde_json::Value::Array(items.iter().filter_map(|i| to_json(ev, i, span)).collect())
        }
        Value::Map(m) => serde_json::Value::Object(
            m.iter()
                .filter_map(|(k, v)| Some((k.clone(), to_json(ev, v, span)?)))
                .collect(),
        ),
        Value::Poison | Value::Deferred(..) => return None,
        Value::Entity(id) if ev.sym.entity(*id).kind == super::scope::EntityKind::Secret => {
            return None;
        }
        other => serde_json::Value::String(ev.text_of(other, span)?),
    })
}
