//! Reading a declaration's attributes as typed values: `key=value` after the
//! subject and `key = value` in the body are the same thing.

use std::collections::BTreeMap;

use super::eval::{Ctx, Evaluator};
use super::scope::EntityKind;
use super::value::Value;
use crate::diag::Code;
use crate::span::Span;
use crate::syntax::ast::{Decl, Expr};

/// The attributes of a declaration by name (the first wins; duplicates were reported).
pub fn attr_map(d: &Decl) -> BTreeMap<&str, &Expr> {
    let mut out = BTreeMap::new();
    for (k, v) in d
        .named_args()
        .chain(d.body_attrs().map(|a| (&a.key, &a.value)))
    {
        out.entry(k.name.as_str()).or_insert(v);
    }
    out
}

/// Typed access to one declaration's attributes.
pub struct Attrs<'d> {
    pub map: BTreeMap<&'d str, &'d Expr>,
    pub ctx: Ctx,
}

impl<'d> Attrs<'d> {
    pub fn new(d: &'d Decl, ctx: Ctx) -> Self {
        Attrs {
            map: attr_map(d),
            ctx,
        }
    }

    pub fn span(&self, key: &str) -> Option<Span> {
        self.map.get(key).map(|e| e.span)
    }

    pub fn value(&self, ev: &mut Evaluator, key: &str) -> Option<Value> {
        let e = self.map.get(key)?;
        Some(ev.eval(e, self.ctx))
    }

    pub fn string(&self, ev: &mut Evaluator, key: &str) -> Option<String> {
        let e = self.map.get(key)?;
        let v = ev.eval(e, self.ctx);
        expect_text(ev, v, e.span, key)
    }

    /// A word: a bare name that is not a declared name stands for itself.
    pub fn word(&self, ev: &mut Evaluator, key: &str) -> Option<String> {
        let e = self.map.get(key)?;
        word_of(ev, e, self.ctx, key)
    }

    /// A word that must be one of `allowed` (reported with "did you mean" if not).
    pub fn one_of(&self, ev: &mut Evaluator, key: &str, allowed: &[&str]) -> Option<String> {
        let w = self.word(ev, key)?;
        if allowed.contains(&w.as_str()) {
            return Some(w);
        }
        let span = self.span(key).unwrap_or_default();
        let help = crate::diag::did_you_mean(&w, allowed.iter().copied()).unwrap_or_else(|| {
            format!(
                "`{key}` is one of {}",
                allowed
                    .iter()
                    .map(|a| format!("`{a}`"))
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        });
        ev.error(
            Code::BadValue,
            format!("`{w}` is not a valid `{key}`"),
            span,
            "not allowed here",
            help,
        );
        None
    }

    pub fn int(&self, ev: &mut Evaluator, key: &str) -> Option<u64> {
        match self.value(ev, key)? {
            Value::Int(n) => Some(n),
            Value::Poison => None,
            other => wrong(ev, &other, self.map[key].span, key, "an integer"),
        }
    }

    pub fn bool(&self, ev: &mut Evaluator, key: &str) -> Option<bool> {
        match self.value(ev, key)? {
            Value::Bool(b) => Some(b),
            Value::Poison => None,
            other => wrong(ev, &other, self.map[key].span, key, "`true` or `false`"),
        }
    }

    pub fn size(&self, ev: &mut Evaluator, key: &str) -> Option<u64> {
        match self.value(ev, key)? {
            Value::Size(n) => Some(n),
            Value::Poison => None,
            other => wrong(ev, &other, self.map[key].span, key, "a size such as `20GB`"),
        }
    }

    pub fn duration_s(&self, ev: &mut Evaluator, key: &str) -> Option<u64> {
        self.duration_ms(ev, key).map(|ms| ms.div_ceil(1000))
    }

    pub fn duration_ms(&self, ev: &mut Evaluator, key: &str) -> Option<u64> {
        match self.value(ev, key)? {
            Value::Duration(ms) => Some(ms),
            Value::Poison => None,
            other => wrong(
                ev,
                &other,
                self.map[key].span,
                key,
                "a duration such as `30s`",
            ),
        }
    }

    pub fn number(&self, ev: &mut Evaluator, key: &str) -> Option<f64> {
        match self.value(ev, key)? {
            Value::Int(n) => Some(n as f64),
            Value::Float(f) => Some(f),
            Value::Poison => None,
            other => wrong(ev, &other, self.map[key].span, key, "a number"),
        }
    }

    /// A map of texts (labels, sysctl).
    pub fn text_map(&self, ev: &mut Evaluator, key: &str) -> BTreeMap<String, String> {
        let Some(e) = self.map.get(key) else {
            return BTreeMap::new();
        };
        match ev.eval(e, self.ctx) {
            Value::Map(m) => m
                .into_iter()
                .filter_map(|(k, v)| Some((k, ev.text_of(&v, e.span)?)))
                .collect(),
            Value::Poison => BTreeMap::new(),
            other => {
                wrong::<()>(ev, &other, e.span, key, "a map");
                BTreeMap::new()
            }
        }
    }

    /// A list of texts; a single text is a list of one.
    pub fn text_list(&self, ev: &mut Evaluator, key: &str) -> Option<Vec<String>> {
        let e = self.map.get(key)?;
        match ev.eval(e, self.ctx) {
            Value::List(items) => items.iter().map(|v| ev.text_of(v, e.span)).collect(),
            Value::Poison => None,
            other => wrong(ev, &other, e.span, key, "a list of strings"),
        }
    }
}

pub fn word_of(ev: &mut Evaluator, e: &Expr, ctx: Ctx, key: &str) -> Option<String> {
    if let Some(n) = e.unparen().as_name() {
        let is_value = match ev.sym.lookup(ctx.scope, &n.name) {
            Some(id) => matches!(ev.sym.entity(id).kind, EntityKind::Let | EntityKind::Param),
            None => ev.sym.scope(ctx.scope).params.contains_key(&n.name),
        };
        if !is_value {
            return Some(n.name.clone());
        }
    }
    let v = ev.eval(e, ctx);
    expect_text(ev, v, e.span, key)
}

fn expect_text(ev: &mut Evaluator, v: Value, span: Span, key: &str) -> Option<String> {
    match v {
        Value::Str(s) => Some(s),
        Value::Poison => None,
        other => wrong(ev, &other, span, key, "a string"),
    }
}

pub fn wrong<T>(
    ev: &mut Evaluator,
    found: &Value,
    span: Span,
    key: &str,
    expected: &str,
) -> Option<T> {
    ev.error(
        Code::WrongType,
        format!("`{key}` expects {expected}, found {}", found.describe()),
        span,
        format!("this is {}", found.describe()),
        format!("`{key}` is {expected}"),
    );
    None
}
