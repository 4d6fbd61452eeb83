//! Lowering `loadtest` declarations to [`crate::model::loadtest`]: the load
//! model, the steps with their request templates and extractions, and the
//! assertions. Names of steps and extracted variables are checked here
//! (duplicates, use before extraction, unknown steps in asserts).

use std::collections::{BTreeMap, BTreeSet};

use super::attrs::Attrs;
use super::collect::TOP;
use super::eval::{Ctx, Evaluator};
use super::load::Program;
use super::templates::{self, RunVars};
use super::value::Value;
use crate::diag::{Code, Diagnostic, did_you_mean};
use crate::model::loadtest::*;
use crate::schema::{HTTP_METHODS, LOAD_MODELS, METRICS, PICKS};
use crate::span::Span;
use crate::syntax::ast::{Decl, Item};

pub fn loadtests(ev: &mut Evaluator, program: &Program) -> Vec<LoadTest> {
    let mut out = Vec::new();
    let mut seen: BTreeMap<String, Span> = BTreeMap::new();
    for (file, ast) in &program.files {
        let ctx = Ctx {
            scope: TOP,
            file: *file,
            index: None,
            owner: None,
        };
        for item in &ast.items {
            let Item::Decl(d) = item else { continue };
            if d.kind.name != "loadtest" {
                continue;
            }
            let Some(name) = d.name() else { continue };
            if let Some(first) = seen.get(&name.name) {
                duplicate(ev, "load test", &name.name, name.span, *first);
                continue;
            }
            seen.insert(name.name.clone(), name.span);
            if let Some(t) = loadtest(ev, d, &name.name, ctx) {
                out.push(t);
            }
        }
    }
    out
}

fn duplicate(ev: &mut Evaluator, what: &str, name: &str, span: Span, first: Span) {
    ev.diags.push(
        Diagnostic::new(
            Code::DuplicateName,
            format!("{what} `{name}` is declared twice"),
            span,
            "declared again here",
        )
        .with_label(first, "first declared here")
        .with_help("give it another name"),
    );
}

fn loadtest(ev: &mut Evaluator, d: &Decl, name: &str, ctx: Ctx) -> Option<LoadTest> {
    let a = Attrs::new(d, ctx);
    let model = match a.one_of(ev, "model", LOAD_MODELS).as_deref() {
        Some("open") => {
            let Some(rate) = a.number(ev, "rate") else {
                ev.error(
                    Code::MissingArgument,
                    format!("the open load test `{name}` needs a `rate`"),
                    d.kind.span,
                    "no `rate`",
                    "add `rate=N`: flows started per second",
                );
                return None;
            };
            LoadModel::Open {
                rate,
                connections: a.int(ev, "connections").unwrap_or(100).max(1),
            }
        }
        _ => LoadModel::Closed {
            users: a.int(ev, "users").unwrap_or(1),
        },
    };
    let steps = steps(ev, d, ctx);
    let asserts = asserts(ev, d, ctx, &steps);
    Some(LoadTest {
        name: name.to_string(),
        target: a.string(ev, "target"),
        model,
        ramp_ms: a.duration_ms(ev, "ramp").unwrap_or(0),
        duration_ms: a.duration_ms(ev, "duration"),
        iterations: a.int(ev, "iterations").unwrap_or(1),
        think_ms: a.duration_ms(ev, "think").unwrap_or(0),
        timeout_ms: a.duration_ms(ev, "timeout").unwrap_or(30_000),
        steps,
        asserts,
        span: d.span,
    })
}

fn steps(ev: &mut Evaluator, d: &Decl, ctx: Ctx) -> Vec<Step> {
    let decls: Vec<&Decl> = d.body_decls().filter(|s| s.kind.name == "step").collect();
    // Every extracted name, with the index of the first step that extracts it.
    let mut first_extract: BTreeMap<String, usize> = BTreeMap::new();
    for (i, s) in decls.iter().enumerate() {
        for x in s.body_decls().filter(|x| x.kind.name == "extract") {
            if let Some(n) = x.name() {
                first_extract.entry(n.name.clone()).or_insert(i);
            }
        }
    }
    let mut out: Vec<Step> = Vec::new();
    let mut names: BTreeMap<String, Span> = BTreeMap::new();
    for (i, s) in decls.iter().enumerate() {
        let Some(name) = s.name() else { continue };
        if let Some(first) = names.get(&name.name) {
            duplicate(ev, "step", &name.name, name.span, *first);
            continue;
        }
        names.insert(name.name.clone(), name.span);
        let vars = RunVars {
            known: first_extract
                .iter()
                .filter(|(_, at)| **at < i)
                .map(|(n, _)| n.clone())
                .collect(),
            later: first_extract
                .iter()
                .filter(|(_, at)| **at >= i)
                .map(|(n, _)| n.clone())
                .collect(),
        };
        if let Some(step) = step(ev, s, &name.name, ctx, &vars) {
            out.push(step);
        }
    }
    out
}

fn step(ev: &mut Evaluator, d: &Decl, name: &str, ctx: Ctx, vars: &RunVars) -> Option<Step> {
    let mut pos = d.positional_args();
    let method_expr = pos.next()?;
    let path_expr = pos.next()?;
    let method = super::attrs::word_of(ev, method_expr, ctx, "method")?;
    if !HTTP_METHODS.contains(&method.as_str()) {
        let help = did_you_mean(&method, HTTP_METHODS.iter().copied())
            .unwrap_or_else(|| format!("one of {}", HTTP_METHODS.join(", ")));
        ev.error(
            Code::BadValue,
            format!("`{method}` is not an HTTP method sdbc sends"),
            method_expr.span,
            "unknown method",
            help,
        );
        return None;
    }
    // Check everything before giving up on one part.
    let path = templates::template(ev, path_expr, ctx, vars);
    let a = Attrs::new(d, ctx);
    let map = |ev: &mut Evaluator, key: &str| {
        a.map
            .get(key)
            .map(|e| templates::template_map(ev, e, ctx, vars, key))
            .unwrap_or_default()
    };
    let headers = map(ev, "headers");
    let query = map(ev, "query");
    let body = match (a.map.get("json"), a.map.get("form")) {
        (Some(_), Some(f)) => {
            ev.error(
                Code::BadValue,
                "a step has one body: `json` or `form`",
                f.span,
                "second body",
                "keep one of `json` and `form`",
            );
            Body::None
        }
        (Some(j), None) => match templates::json(ev, j, ctx, vars) {
            Some(t) => Body::Json(t),
            None => Body::None,
        },
        (None, Some(_)) => Body::Form(map(ev, "form")),
        (None, None) => Body::None,
    };
    let expect = expect(ev, &a);
    let think_ms = a.duration_ms(ev, "think");
    let extracts = extracts(ev, d, ctx);
    Some(Step {
        name: name.to_string(),
        method,
        path: path?,
        headers,
        query,
        body,
        expect,
        think_ms,
        extracts,
        span: d.span,
    })
}

fn expect(ev: &mut Evaluator, a: &Attrs) -> Vec<u16> {
    let Some(v) = a.value(ev, "expect") else {
        return Vec::new();
    };
    let span = a.span("expect").unwrap_or_default();
    let items = match v {
        Value::List(items) => items,
        Value::Poison => return Vec::new(),
        one => vec![one],
    };
    let mut out = Vec::new();
    for v in items {
        match v {
            Value::Int(n @ 100..=599) => out.push(n as u16),
            Value::Poison => {}
            other => {
                super::attrs::wrong::<()>(ev, &other, span, "expect", "HTTP statuses (100 to 599)");
            }
        }
    }
    out
}

fn extracts(ev: &mut Evaluator, step: &Decl, ctx: Ctx) -> Vec<Extract> {
    let mut out = Vec::new();
    for x in step.body_decls().filter(|x| x.kind.name == "extract") {
        let Some(name) = x.name() else { continue };
        if templates::is_builtin(&name.name) {
            ev.error(
                Code::BadValue,
                format!("`{}` is a built-in variable of load tests", name.name),
                name.span,
                "reserved name",
                "choose another name",
            );
            continue;
        }
        let a = Attrs::new(x, ctx);
        let sources: Vec<ExtractSource> = [
            a.string(ev, "json").map(ExtractSource::Json),
            a.string(ev, "regex").map(ExtractSource::Regex),
            a.string(ev, "cookie").map(ExtractSource::Cookie),
            a.string(ev, "header").map(ExtractSource::Header),
        ]
        .into_iter()
        .flatten()
        .collect();
        if sources.len() != 1 {
            ev.error(
                Code::BadValue,
                format!("`extract {}` needs exactly one source", name.name),
                x.span,
                format!("{} sources", sources.len()),
                "give one of `json=`, `regex=`, `cookie=`, `header=`",
            );
            continue;
        }
        if let ExtractSource::Regex(re) = &sources[0]
            && let Err(e) = regex::Regex::new(re)
        {
            let span = a.span("regex").unwrap_or_default();
            let first = e.to_string();
            let first = first.lines().last().unwrap_or("invalid").trim().to_string();
            ev.error(
                Code::BadValue,
                "invalid regular expression",
                span,
                first,
                "see the `regex` crate's syntax",
            );
            continue;
        }
        let pick = match a.one_of(ev, "pick", PICKS).as_deref() {
            Some("last") => Pick::Last,
            Some("random") => Pick::Random,
            _ => Pick::First,
        };
        out.extend(sources.into_iter().map(|source| Extract {
            name: name.name.clone(),
            source,
            pick,
        }));
    }
    out
}

fn asserts(ev: &mut Evaluator, d: &Decl, ctx: Ctx, steps: &[Step]) -> Vec<Assertion> {
    let step_names: BTreeSet<&str> = steps.iter().map(|s| s.name.as_str()).collect();
    let mut out = Vec::new();
    for x in d.body_decls().filter(|x| x.kind.name == "assert") {
        let Some(word) = x.name() else { continue };
        let Some(metric) = Metric::from_word(&word.name) else {
            let help = did_you_mean(&word.name, METRICS.iter().copied())
                .unwrap_or_else(|| format!("one of {}", METRICS.join(", ")));
            ev.error(
                Code::BadValue,
                format!("`{}` is not a load-test metric", word.name),
                word.span,
                "unknown metric",
                help,
            );
            continue;
        };
        let a = Attrs::new(x, ctx);
        let step = a.word(ev, "step");
        if let Some(s) = &step
            && !step_names.contains(s.as_str())
        {
            let help = did_you_mean(s, step_names.iter().copied())
                .unwrap_or_else(|| String::from("name a step of this load test"));
            ev.error(
                Code::UndefinedName,
                format!("no step `{s}` in this load test"),
                a.span("step").unwrap_or_default(),
                "unknown step",
                help,
            );
            continue;
        }
        let Some(limit) = limit(ev, &a, metric) else {
            continue;
        };
        out.push(Assertion {
            metric,
            limit,
            step,
            span: x.span,
        });
    }
    out
}

fn limit(ev: &mut Evaluator, a: &Attrs, metric: Metric) -> Option<Limit> {
    let span = a.span("max")?;
    let v = a.value(ev, "max")?;
    let parsed = match (&v, metric) {
        (Value::Poison, _) => return None,
        (Value::Duration(ms), m) if m != Metric::Errors => Some(Limit::Millis(*ms)),
        (Value::Int(n), Metric::Errors) => Some(Limit::Count(*n)),
        (Value::Str(s), Metric::Errors) => s
            .strip_suffix('%')
            .and_then(|p| p.trim().parse::<f64>().ok())
            .filter(|p| (0.0..=100.0).contains(p))
            .map(Limit::Percent),
        _ => None,
    };
    if parsed.is_none() {
        let expected = if metric == Metric::Errors {
            "a percentage such as `\"0.1%\"` or a count"
        } else {
            "a duration such as `500ms`"
        };
        super::attrs::wrong::<()>(ev, &v, span, "max", expected);
    }
    parsed
}
