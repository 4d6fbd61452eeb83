//! Evaluating expressions: resolving names in their scope, following
//! fields and indexes, calling the built-in functions (`env`, `file`,
//! `template`, `join`) and recording a dependency for every reference.

use std::collections::{BTreeMap, BTreeSet};

use super::funcs;
use super::scope::{EntityId, EntityKind, ScopeId, Symbols};
use super::value::Value;
use crate::diag::{Code, Diagnostic, Diagnostics, did_you_mean};
use crate::span::{FileId, SourceMap, Span};
use crate::syntax::ast::{BinaryOp, Expr, ExprKind, StrPart};

/// Reads an environment variable (swapped in tests and the editor).
pub type GetEnv<'r> = Box<dyn Fn(&str) -> Option<String> + 'r>;

/// The outside world a program may read: `--var`s, the environment, files.
pub struct Env<'r> {
    pub vars: BTreeMap<String, String>,
    pub getenv: GetEnv<'r>,
    pub reader: &'r dyn super::load::FileReader,
}

/// One dependency found while evaluating: `from` needs `to`.
#[derive(Debug, Clone)]
pub struct Dep {
    pub from: EntityId,
    pub to: EntityId,
    pub span: Span,
    pub reason: super::DepReason,
}

/// Where an expression is evaluated.
#[derive(Debug, Clone, Copy)]
pub struct Ctx {
    pub scope: ScopeId,
    pub file: FileId,
    /// The member index inside a VM group's declaration.
    pub index: Option<u32>,
    /// The declaration the expression belongs to (dependencies are recorded from it).
    pub owner: Option<EntityId>,
}

pub use super::members::VmFacts;

pub struct Evaluator<'a, 's> {
    pub sym: &'s Symbols<'a>,
    pub sources: &'s SourceMap,
    pub env: &'s Env<'s>,
    pub diags: Diagnostics,
    pub deps: Vec<Dep>,
    /// Every resolved reference: (where it is used, what it means).
    pub uses: Vec<(Span, EntityId)>,
    pub vms: VmFacts,
    memo: BTreeMap<EntityId, Value>,
    busy: BTreeSet<EntityId>,
    busy_params: BTreeSet<(ScopeId, String)>,
}

impl<'a, 's> Evaluator<'a, 's> {
    pub fn new(sym: &'s Symbols<'a>, sources: &'s SourceMap, env: &'s Env<'s>) -> Self {
        Evaluator {
            sym,
            sources,
            env,
            diags: Diagnostics::new(),
            deps: Vec::new(),
            uses: Vec::new(),
            vms: VmFacts::default(),
            memo: BTreeMap::new(),
            busy: BTreeSet::new(),
            busy_params: BTreeSet::new(),
        }
    }

    pub fn error(
        &mut self,
        code: Code,
        message: impl Into<String>,
        span: Span,
        label: impl Into<String>,
        help: impl Into<String>,
    ) -> Value {
        self.diags
            .push(Diagnostic::new(code, message, span, label).with_help(help));
        Value::Poison
    }

    pub fn ctx_for(&self, id: EntityId) -> Ctx {
        let e = self.sym.entity(id);
        Ctx {
            scope: e.scope,
            file: e.file,
            index: None,
            owner: Some(id),
        }
    }

    pub fn eval(&mut self, e: &Expr, ctx: Ctx) -> Value {
        match &e.kind {
            ExprKind::Int(n) => Value::Int(*n),
            ExprKind::Float(f) => Value::Float(*f),
            ExprKind::Bool(b) => Value::Bool(*b),
            ExprKind::Size { bytes, .. } => Value::Size(*bytes),
            ExprKind::Duration { millis, .. } => Value::Duration(*millis),
            ExprKind::Cidr(c) => Value::Cidr(c.clone()),
            ExprKind::Ip(ip) => Value::Ip(ip.clone()),
            ExprKind::PortMap {
                published,
                target,
                protocol,
            } => Value::PortMap {
                published: *published,
                target: *target,
                protocol: protocol.clone(),
            },
            ExprKind::PortSpec { protocol, ports } => Value::PortSpec {
                protocol: protocol.clone(),
                ports: ports.clone(),
            },
            ExprKind::Str(parts) => self.string(parts, ctx),
            ExprKind::List(items) => Value::List(items.iter().map(|i| self.eval(i, ctx)).collect()),
            ExprKind::Map(entries) => Value::Map(
                entries
                    .iter()
                    .map(|(k, v)| (k.name.clone(), self.eval(v, ctx)))
                    .collect(),
            ),
            ExprKind::Paren(inner) => self.eval(inner, ctx),
            ExprKind::Name(n) => self.name(&n.name, n.span, ctx),
            ExprKind::Field { base, field } => {
                let b = self.eval(base, ctx);
                self.field(b, &field.name, field.span, ctx)
            }
            ExprKind::Index { base, index } => {
                let b = self.eval(base, ctx);
                let i = self.eval(index, ctx);
                self.index(b, i, index.span)
            }
            ExprKind::Call { func, args } => funcs::call(self, func, args, e.span, ctx),
            ExprKind::Not(inner) => match self.eval(inner, ctx) {
                Value::Bool(b) => Value::Bool(!b),
                Value::Poison => Value::Poison,
                v => self.type_error(inner.span, "`!` needs a boolean", &v),
            },
            ExprKind::Binary { op, lhs, rhs } => {
                let l = self.eval(lhs, ctx);
                let r = self.eval(rhs, ctx);
                self.binary(*op, l, r, e.span)
            }
        }
    }

    fn type_error(&mut self, span: Span, what: &str, found: &Value) -> Value {
        self.error(
            Code::TypeMismatch,
            format!("{what}, found {}", found.describe()),
            span,
            format!("this is {}", found.describe()),
            "see docs/language.md#expressions",
        )
    }

    fn binary(&mut self, op: BinaryOp, l: Value, r: Value, span: Span) -> Value {
        if l == Value::Poison || r == Value::Poison {
            return Value::Poison;
        }
        match op {
            BinaryOp::And | BinaryOp::Or => match (l, r) {
                (Value::Bool(a), Value::Bool(b)) => {
                    Value::Bool(if op == BinaryOp::And { a && b } else { a || b })
                }
                (l, _) => self.type_error(span, &format!("`{}` needs booleans", op.as_str()), &l),
            },
            BinaryOp::Eq => Value::Bool(l == r),
            BinaryOp::Ne => Value::Bool(l != r),
            _ => match (l, r) {
                (Value::Int(a), Value::Int(b)) => Value::Bool(match op {
                    BinaryOp::Lt => a < b,
                    BinaryOp::Le => a <= b,
                    BinaryOp::Gt => a > b,
                    _ => a >= b,
                }),
                (l, _) => {
                    self.type_error(span, &format!("`{}` compares integers", op.as_str()), &l)
                }
            },
        }
    }

    fn string(&mut self, parts: &[StrPart], ctx: Ctx) -> Value {
        let mut out = String::new();
        for p in parts {
            match p {
                StrPart::Text(t) => out.push_str(t),
                StrPart::Interp(e) => {
                    let v = self.eval(e, ctx);
                    match self.text_of(&v, e.span) {
                        Some(s) => out.push_str(&s),
                        None => return Value::Poison,
                    }
                }
            }
        }
        Value::Str(out)
    }

    /// The text a value stands for in a string, an env variable or an output.
    pub fn text_of(&mut self, v: &Value, span: Span) -> Option<String> {
        Some(match v {
            Value::Str(s) | Value::Cidr(s) | Value::Ip(s) => s.clone(),
            Value::Int(n) | Value::Size(n) => n.to_string(),
            Value::Float(f) => f.to_string(),
            Value::Bool(b) => b.to_string(),
            Value::Duration(ms) if ms % 1000 == 0 => format!("{}s", ms / 1000),
            Value::Duration(ms) => format!("{ms}ms"),
            Value::PortMap {
                published, target, ..
            } => format!("{published}:{target}"),
            Value::Entity(id) => return self.entity_text(*id, span),
            Value::Member(id, i) => return self.vms.ip(*id, *i),
            Value::Deferred(node, field) => {
                self.error(
                    Code::KnownAfterApply,
                    format!("`{field}` of `{node}` is known only after apply"),
                    span,
                    "not known yet",
                    "use it in an `output`, which is shown after apply",
                );
                return None;
            }
            Value::Poison => return None,
            other => {
                self.type_error(span, "expected text", other);
                return None;
            }
        })
    }

    fn entity_text(&mut self, id: EntityId, span: Span) -> Option<String> {
        let e = self.sym.entity(id);
        match e.kind {
            EntityKind::Service => Some(e.model_name.clone()),
            EntityKind::Vm if self.vms.count(id) == Some(None) => self.vms.ip(id, 0),
            EntityKind::Secret => {
                let name = e.qual_name.clone();
                self.error(
                    Code::SecretPrinted,
                    format!("secret `{name}` would be printed"),
                    span,
                    "the secret's value would end up in plain text here",
                    format!("give the service `secret {name};` and read `{name}.path`, the file holding it"),
                );
                None
            }
            EntityKind::Disk
            | EntityKind::Network
            | EntityKind::Config
            | EntityKind::Address
            | EntityKind::Firewall => Some(e.model_name.clone()),
            _ => {
                let word = e.kind.word();
                self.error(
                    Code::TypeMismatch,
                    format!("a {word} has no text form"),
                    span,
                    format!("this is a {word}"),
                    "use one of its fields, e.g. `.name`",
                );
                None
            }
        }
    }

    fn name(&mut self, name: &str, span: Span, ctx: Ctx) -> Value {
        if name == "index" {
            return match ctx.index {
                Some(i) => Value::Int(u64::from(i)),
                None => self.error(
                    Code::IndexOutsideGroup,
                    "`index` outside a VM group",
                    span,
                    "no group here",
                    "`index` means the member's number inside `vm NAME[COUNT] ..`",
                ),
            };
        }
        if let Some(id) = self.sym.lookup(ctx.scope, name) {
            return self.use_entity(id, span, ctx);
        }
        if let Some(binding) = self.sym.scope(ctx.scope).params.get(name).copied() {
            let key = (ctx.scope, name.to_string());
            if !self.busy_params.insert(key.clone()) {
                return self.error(
                    Code::Cycle,
                    format!("parameter `{name}` depends on itself"),
                    span,
                    "used in its own value",
                    "give it a value that does not refer to itself",
                );
            }
            let inner = Ctx {
                scope: binding.scope,
                file: self.file_of_scope(binding.scope, ctx.file),
                index: ctx.index,
                owner: ctx.owner,
            };
            let v = self.eval(binding.expr, inner);
            self.busy_params.remove(&key);
            return v;
        }
        if self.sym.scope(ctx.scope).unset.contains(name) {
            return Value::Poison;
        }
        let help = did_you_mean(name, self.sym.visible(ctx.scope))
            .unwrap_or_else(|| String::from("declare it, or check the spelling"));
        self.error(
            Code::UndefinedName,
            format!("`{name}` is not defined"),
            span,
            "not defined",
            help,
        )
    }

    fn file_of_scope(&self, scope: ScopeId, fallback: FileId) -> FileId {
        match self.sym.scope(scope).owner {
            Some(owner) => self.sym.entity(owner).file,
            None => fallback,
        }
    }

    /// The value of a reference to an entity, recording the dependency.
    pub fn use_entity(&mut self, id: EntityId, span: Span, ctx: Ctx) -> Value {
        self.uses.push((span, id));
        let kind = self.sym.entity(id).kind;
        match kind {
            EntityKind::Let | EntityKind::Param => {
                let v = self.value_of(id, span);
                let mut refs = Vec::new();
                v.entities(&mut refs);
                for to in refs {
                    self.dep(ctx, to, span, super::DepReason::Reference);
                }
                v
            }
            EntityKind::Output | EntityKind::Module => {
                let word = kind.word();
                self.error(
                    Code::WrongReference,
                    format!("an {word} cannot be referred to"),
                    span,
                    format!("this is an {word}"),
                    "refer to the declarations it is made of",
                )
            }
            _ => {
                self.dep(ctx, id, span, super::DepReason::Reference);
                Value::Entity(id)
            }
        }
    }

    pub fn dep(&mut self, ctx: Ctx, to: EntityId, span: Span, reason: super::DepReason) {
        if let Some(from) = ctx.owner
            && from != to
        {
            self.deps.push(Dep {
                from,
                to,
                span,
                reason,
            });
        }
    }

    /// The (memoised) value of a `let` or `param`.
    pub fn value_of(&mut self, id: EntityId, use_span: Span) -> Value {
        if let Some(v) = self.memo.get(&id) {
            return v.clone();
        }
        let e = self.sym.entity(id);
        let (name, decl_span) = (e.qual_name.clone(), e.span);
        if !self.busy.insert(id) {
            return self.error(
                Code::Cycle,
                format!("`{name}` depends on itself"),
                use_span,
                "used in its own value",
                "give it a value that does not refer to itself",
            );
        }
        let ctx = Ctx {
            scope: e.scope,
            file: e.file,
            index: None,
            owner: None,
        };
        let v = if e.kind == EntityKind::Param {
            self.param_value(id, &name, decl_span, ctx)
        } else {
            self.decl_value(id, ctx)
        };
        self.busy.remove(&id);
        self.memo.insert(id, v.clone());
        v
    }

    fn decl_value(&mut self, id: EntityId, ctx: Ctx) -> Value {
        match &self.sym.entity(id).decl.value {
            Some(expr) => self.eval(expr, ctx),
            None => Value::Poison,
        }
    }

    fn param_value(&mut self, id: EntityId, name: &str, span: Span, ctx: Ctx) -> Value {
        let env_name = format!("SDB_VAR_{name}");
        let given = self
            .env
            .vars
            .get(name)
            .cloned()
            .or_else(|| (self.env.getenv)(&env_name));
        let default = self.sym.entity(id).decl.value.as_ref();
        match (given, default) {
            (Some(text), Some(d)) => {
                let default = self.eval(d, ctx);
                let v = coerce_like(&text, &default);
                if matches!(default, Value::Int(_) | Value::Bool(_)) && matches!(v, Value::Str(_)) {
                    return self.error(
                        Code::WrongType,
                        format!("parameter `{name}` is {}, but was given `{text}`", default.describe()),
                        span,
                        "declared here",
                        format!("pass `--var {name}=…` (or `{env_name}`) as {}", default.describe()),
                    );
                }
                v
            }
            (Some(text), None) => Value::Str(text),
            (None, Some(d)) => self.eval(d, ctx),
            (None, None) => self.error(
                Code::ParamMissing,
                format!("parameter `{name}` has no value"),
                span,
                "no default",
                format!("pass `--var {name}=VALUE`, set `{env_name}`, or give it a default: `param {name} = …;`"),
            ),
        }
    }

    fn index(&mut self, base: Value, index: Value, span: Span) -> Value {
        let i = match index {
            Value::Int(i) => i,
            Value::Poison => return Value::Poison,
            other => return self.type_error(span, "an index must be an integer", &other),
        };
        match base {
            Value::Entity(id) if self.sym.entity(id).kind == EntityKind::Vm => {
                match self.vms.count(id).flatten() {
                    Some(n) if i < u64::from(n) => Value::Member(id, i as u32),
                    Some(0) => Value::Poison, // a bad count, already reported
                    Some(n) => {
                        let name = self.sym.entity(id).qual_name.clone();
                        self.error(
                            Code::IndexOutOfRange,
                            format!("`{name}[{i}]` is out of range"),
                            span,
                            format!("`{name}` has {n} members"),
                            format!("members are numbered 0 to {}", n - 1),
                        )
                    }
                    None => {
                        let name = self.sym.entity(id).qual_name.clone();
                        self.error(
                            Code::IndexOutOfRange,
                            format!("`{name}` is a single VM, not a group"),
                            span,
                            "cannot index",
                            format!("refer to it as `{name}`"),
                        )
                    }
                }
            }
            Value::List(items) => match items.get(i as usize) {
                Some(v) => v.clone(),
                None => self.error(
                    Code::IndexOutOfRange,
                    format!("index {i} is out of range"),
                    span,
                    format!("the list has {} items", items.len()),
                    "lists are numbered from 0",
                ),
            },
            Value::Poison => Value::Poison,
            other => self.type_error(span, "only a VM group or a list can be indexed", &other),
        }
    }

    fn field(&mut self, base: Value, field: &str, span: Span, ctx: Ctx) -> Value {
        super::fields::field(self, base, field, span, ctx)
    }
}

/// A `--var` string read as the same type as the default.
fn coerce_like(text: &str, default: &Value) -> Value {
    match default {
        Value::Int(_) => text
            .parse()
            .map(Value::Int)
            .unwrap_or_else(|_| Value::Str(text.to_string())),
        Value::Bool(_) => match text {
            "true" => Value::Bool(true),
            "false" => Value::Bool(false),
            _ => Value::Str(text.to_string()),
        },
        _ => Value::Str(text.to_string()),
    }
}
