//! Fields of references: `monitoring.internal_ip`, `worker[0].external_ip`,
//! `monitoring.nfs.static-files`, `db_password.path`, `redis.proxy`.

use super::eval::{Ctx, Evaluator};
use super::scope::{EntityId, EntityKind};
use super::value::Value;
use crate::diag::{Code, did_you_mean};
use crate::model::NodeId;
use crate::span::Span;
use crate::syntax::ast::ExprKind;

pub fn field(ev: &mut Evaluator, base: Value, field: &str, span: Span, ctx: Ctx) -> Value {
    match base {
        Value::Poison => Value::Poison,
        Value::Member(id, i) => member_field(ev, id, i, field, span),
        Value::NfsOf(vm) => nfs_export(ev, vm, field, span, ctx),
        Value::Entity(id) => entity_field(ev, id, field, span, ctx),
        other => {
            let what = other.describe();
            ev.error(
                Code::UnknownField,
                format!("{what} has no field `{field}`"),
                span,
                "no such field",
                "only references have fields",
            )
        }
    }
}

const VM_FIELDS: &[&str] = &["internal_ip", "external_ip", "name", "nfs"];

fn member_field(ev: &mut Evaluator, id: EntityId, i: u32, field: &str, span: Span) -> Value {
    let name = ev.vms.name(id, i).unwrap_or_default();
    match field {
        "internal_ip" => ev.vms.ip(id, i).map_or(Value::Poison, Value::Str),
        "external_ip" => {
            if ev.vms.is_static(id, i) {
                let address = crate::model::names::static_address(&name);
                Value::Deferred(NodeId::address(&address), String::from("address"))
            } else {
                Value::Deferred(NodeId::vm(&name), String::from("external_ip"))
            }
        }
        "name" => Value::Str(name),
        "nfs" => Value::NfsOf(id),
        _ => unknown(ev, "a VM", field, VM_FIELDS, span),
    }
}

fn entity_field(ev: &mut Evaluator, id: EntityId, field: &str, span: Span, ctx: Ctx) -> Value {
    let e = ev.sym.entity(id);
    let (kind, model_name, qual) = (e.kind, e.model_name.clone(), e.qual_name.clone());
    match kind {
        EntityKind::Vm => match ev.vms.count(id).flatten() {
            None => member_field(ev, id, 0, field, span),
            Some(_) if field == "name" => Value::Str(model_name),
            Some(n) => ev.error(
                Code::UnknownField,
                format!("`{qual}` is a group of {n}; `{field}` belongs to one member"),
                span,
                "field of a whole group",
                format!("pick a member, e.g. `{qual}[0].{field}`"),
            ),
        },
        EntityKind::Secret => match field {
            "path" => Value::Str(format!("/run/secrets/{model_name}")),
            "name" => Value::Str(model_name),
            _ => unknown(ev, "a secret", field, &["path", "name"], span),
        },
        EntityKind::Service => match field {
            "name" | "host" => Value::Str(model_name),
            _ => unknown(ev, "a service", field, &["host", "name"], span),
        },
        EntityKind::Address => match field {
            "address" => Value::Deferred(NodeId::address(&model_name), String::from("address")),
            "name" => Value::Str(model_name),
            _ => unknown(ev, "an address", field, &["address", "name"], span),
        },
        EntityKind::Instance => {
            let inner = ev.sym.entity(id).inner;
            match inner.and_then(|s| ev.sym.lookup(s, field)) {
                Some(target) => ev.use_entity(target, span, ctx),
                None => {
                    let help = inner
                        .and_then(|s| {
                            let names = ev.sym.scope(s).sorted_names();
                            did_you_mean(field, names.into_iter().map(|(name, _)| name))
                        })
                        .unwrap_or_else(|| {
                            format!(
                                "`{qual}` declares: {}",
                                inner
                                    .map(|s| ev
                                        .sym
                                        .scope(s)
                                        .sorted_names()
                                        .into_iter()
                                        .map(|(name, _)| name)
                                        .collect::<Vec<_>>()
                                        .join(", "))
                                    .unwrap_or_default()
                            )
                        });
                    ev.error(
                        Code::UnknownField,
                        format!("`{qual}` declares no `{field}`"),
                        span,
                        "not in this module instance",
                        help,
                    )
                }
            }
        }
        _ => match field {
            "name" => Value::Str(model_name),
            _ => unknown(ev, &format!("a {}", kind.word()), field, &["name"], span),
        },
    }
}

fn nfs_export(ev: &mut Evaluator, vm: EntityId, disk_name: &str, span: Span, ctx: Ctx) -> Value {
    let decl = ev.sym.entity(vm).decl;
    let qual = ev.sym.entity(vm).qual_name.clone();
    let exports: Vec<&str> = decl
        .body_decls()
        .filter(|d| d.kind.name == "nfs_export")
        .flat_map(|d| d.subjects.iter())
        .filter_map(|s| match &s.kind {
            ExprKind::Name(n) => Some(n.name.as_str()),
            _ => None,
        })
        .collect();
    if !exports.contains(&disk_name) {
        let help = did_you_mean(disk_name, exports.iter().copied()).unwrap_or_else(|| {
            if exports.is_empty() {
                format!("`{qual}` exports nothing; add `nfs_export DISK at \"/path\";` to its body")
            } else {
                format!("`{qual}` exports {}", exports.join(", "))
            }
        });
        return ev.error(
            Code::UnknownField,
            format!("`{qual}` does not export `{disk_name}`"),
            span,
            "no such NFS export",
            help,
        );
    }
    let vm_scope = ev.sym.entity(vm).scope;
    match ev.sym.lookup(vm_scope, disk_name) {
        Some(disk) => {
            ev.dep(ctx, disk, span, super::DepReason::MountsNfs);
            Value::NfsExport { vm, disk }
        }
        None => Value::Poison, // the export itself reports the undefined disk
    }
}

fn unknown(ev: &mut Evaluator, what: &str, field: &str, known: &[&str], span: Span) -> Value {
    let help = did_you_mean(field, known.iter().copied()).unwrap_or_else(|| {
        format!(
            "{what} has {}",
            known
                .iter()
                .map(|k| format!("`{k}`"))
                .collect::<Vec<_>>()
                .join(", ")
        )
    });
    ev.error(
        Code::UnknownField,
        format!("{what} has no field `{field}`"),
        span,
        "no such field",
        help,
    )
}
