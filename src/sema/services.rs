//! Lowering the Swarm side: secrets, configs, services (with their env,
//! secrets, configs, volumes, NFS mounts, healthcheck and placement) and
//! outputs.

use crate::schema::defaults;
use std::collections::BTreeMap;

use super::attrs::Attrs;
use super::checks::ServiceSpans;
use super::eval::{Ctx, Evaluator};
use super::scope::{EntityId, EntityKind};
use super::value::Value;
use crate::diag::Code;
use crate::model::*;
use crate::syntax::ast::Decl;

pub fn secrets(ev: &mut Evaluator) -> Vec<Secret> {
    ev.sym
        .of_kind(EntityKind::Secret)
        .map(|id| {
            let e = ev.sym.entity(id);
            Secret {
                name: e.model_name.clone(),
                span: e.span,
            }
        })
        .collect()
}

pub fn configs(ev: &mut Evaluator) -> Vec<Config> {
    let mut out = Vec::new();
    for id in ev.sym.of_kind(EntityKind::Config).collect::<Vec<_>>() {
        let e = ev.sym.entity(id);
        let (d, name) = (e.decl, e.model_name.clone());
        let ctx = ev.ctx_for(id);
        let Some(p) = d.positional_args().next() else {
            continue;
        };
        let v = ev.eval(p, ctx);
        if let Some(content) = ev.text_of(&v, p.span) {
            out.push(Config {
                name,
                content,
                span: d.span,
            });
        }
    }
    out
}

/// (service name, kernel settings) of services that ask for them.
pub type HostSysctl = Vec<(Placement, BTreeMap<String, String>)>;

pub fn services(
    ev: &mut Evaluator,
    exports: &[(EntityId, String, String)],
) -> (Vec<Service>, HostSysctl, Vec<ServiceSpans>) {
    let ids = ev.sym.of_kind(EntityKind::Service).collect::<Vec<_>>();
    // Sized once: the model keeps these.
    let mut out = Vec::with_capacity(ids.len());
    let mut sysctl = Vec::new();
    let mut spans = Vec::with_capacity(ids.len());
    for id in ids {
        let e = ev.sym.entity(id);
        let (d, name) = (e.decl, e.model_name.clone());
        let ctx = ev.ctx_for(id);
        let a = Attrs::new(d, ctx);
        let service = service(ev, id, d, &a, name, ctx, exports);
        spans.push(ServiceSpans {
            decl: ev.sym.entity(id).span,
            on: a.span("on"),
            replicas: a.span("replicas"),
            publish: a.span("publish"),
            volume: d
                .body_decls()
                .find(|b| b.kind.name == "volume")
                .map(|b| b.span),
        });
        let host = a.text_map(ev, "host_sysctl");
        if !host.is_empty() {
            sysctl.push((service.placement.clone(), host));
        }
        out.push(service);
    }
    (out, sysctl, spans)
}

fn service(
    ev: &mut Evaluator,
    id: EntityId,
    d: &Decl,
    a: &Attrs,
    name: String,
    ctx: Ctx,
    exports: &[(EntityId, String, String)],
) -> Service {
    let first_dep = ev.deps.len();
    let mode = a
        .one_of(ev, "mode", defaults::words("service", "mode"))
        .unwrap_or_else(|| defaults::text("service", "mode").into());
    let mode = match mode.as_str() {
        "global" => ServiceMode::Global,
        _ => ServiceMode::Replicated,
    };
    let mut s = Service {
        name,
        image: a.string(ev, "image").unwrap_or_default(),
        command: a.text_list(ev, "command"),
        entrypoint: a.text_list(ev, "entrypoint"),
        env: BTreeMap::new(),
        mode,
        replicas: u32::try_from(
            a.int(ev, "replicas")
                .unwrap_or_else(|| defaults::int("service", "replicas")),
        )
        .unwrap_or(u32::MAX),
        placement: placement(ev, a),
        reserve: Resources {
            cpus: a.number(ev, "cpus"),
            memory_bytes: a.size(ev, "memory"),
        },
        limit: Resources {
            cpus: a.number(ev, "limit_cpus"),
            memory_bytes: a.size(ev, "limit_memory"),
        },
        publish: publish(ev, a),
        secrets: Vec::new(),
        configs: Vec::new(),
        volumes: Vec::new(),
        nfs_mounts: Vec::new(),
        binds: Vec::new(),
        healthcheck: None,
        update: UpdatePolicy {
            parallelism: a
                .int(ev, "update_parallelism")
                .map_or(UpdatePolicy::default().parallelism, |n| n as u32),
            order: a
                .one_of(
                    ev,
                    "update_order",
                    defaults::words("service", "update_order"),
                )
                .unwrap_or_else(|| UpdatePolicy::default().order),
            ..UpdatePolicy::default()
        },
        restart: RestartPolicy {
            condition: a
                .one_of(ev, "restart", defaults::words("service", "restart"))
                .unwrap_or_else(|| RestartPolicy::default().condition),
            ..RestartPolicy::default()
        },
        after: after(ev, a, ctx),
        span: d.span,
    };
    for item in d.body_decls() {
        let ia = Attrs::new(item, ctx);
        match item.kind.name.as_str() {
            "env" => env(ev, item, ctx, &mut s),
            "secret" => uses(ev, item, ctx, EntityKind::Secret, |ev, target| {
                let n = ev.sym.entity(target).model_name.clone();
                let at = ia.string(ev, "at").unwrap_or_else(|| n.clone());
                s.secrets.push(SecretUse {
                    secret: n,
                    target: at,
                });
            }),
            "config" => uses(ev, item, ctx, EntityKind::Config, |ev, target| {
                let n = ev.sym.entity(target).model_name.clone();
                let at = ia.string(ev, "at").unwrap_or_default();
                s.configs.push(ConfigUse {
                    config: n,
                    target: at,
                });
            }),
            "volume" => {
                let prefix = ev.sym.scope(ctx.scope).model_prefix.clone();
                if let Some(n) = item.name() {
                    let target = ia.string(ev, "at").unwrap_or_default();
                    s.volumes.push(VolumeUse {
                        volume: format!("{prefix}{}", n.name),
                        target,
                    });
                }
            }
            "mount" => mount(ev, item, &ia, ctx, exports, &mut s),
            "healthcheck" => s.healthcheck = healthcheck(ev, item, &ia, ctx),
            "bind" => {
                let readonly = item
                    .positional_args()
                    .skip(1)
                    .any(|p| p.as_name().is_some_and(|n| n.name == "readonly"));
                let source = item.positional_args().next().map(|p| ev.eval(p, ctx));
                if let Some(Value::Str(source)) = source {
                    let target = ia.string(ev, "at").unwrap_or_default();
                    s.binds.push(BindMount {
                        source,
                        target,
                        readonly,
                    });
                }
            }
            _ => {}
        }
    }
    auto_secrets(ev, id, first_dep, &mut s);
    s
}

/// A service that reads `secret.path` gets that secret even without `secret x;`.
/// `first_dep` is where the service's own dependencies start in `ev.deps`.
fn auto_secrets(ev: &Evaluator, id: EntityId, first_dep: usize, s: &mut Service) {
    for dep in ev.deps[first_dep..].iter().filter(|d| d.from == id) {
        let e = ev.sym.entity(dep.to);
        if e.kind == EntityKind::Secret && !s.secrets.iter().any(|u| u.secret == e.model_name) {
            s.secrets.push(SecretUse {
                secret: e.model_name.clone(),
                target: e.model_name.clone(),
            });
        }
    }
}

fn placement(ev: &mut Evaluator, a: &Attrs) -> Placement {
    let span = a.span("on").unwrap_or_default();
    match a.value(ev, "on") {
        None | Some(Value::Poison) => Placement::default(),
        Some(Value::Entity(vm)) if ev.sym.entity(vm).kind == EntityKind::Vm => {
            let group = ev.sym.entity(vm).model_name.clone();
            let single = ev.vms.count(vm) == Some(None);
            Placement {
                member: single.then(|| group.clone()),
                group: Some(group),
            }
        }
        Some(Value::Member(vm, i)) => Placement {
            group: Some(ev.sym.entity(vm).model_name.clone()),
            member: ev.vms.name(vm, i),
        },
        Some(other) => {
            ev.error(
                Code::WrongReference,
                format!(
                    "`on` must name a VM, a group or a member, found {}",
                    other.describe()
                ),
                span,
                "not a VM",
                "write `on=GROUP` or `on=GROUP[N]`",
            );
            Placement::default()
        }
    }
}

fn publish(ev: &mut Evaluator, a: &Attrs) -> Vec<PortMapping> {
    let span = a.span("publish").unwrap_or_default();
    let items = match a.value(ev, "publish") {
        None | Some(Value::Poison) => return Vec::new(),
        Some(Value::List(items)) => items,
        Some(v) => vec![v],
    };
    let mut out = Vec::new();
    for v in items {
        match v {
            Value::PortMap {
                published,
                target,
                protocol,
            } => out.push(PortMapping {
                published,
                target,
                protocol,
            }),
            Value::Int(p) if (1..=65535).contains(&p) => out.push(PortMapping {
                published: p as u16,
                target: p as u16,
                protocol: "tcp".into(),
            }),
            Value::Poison => {}
            other => {
                ev.error(
                    Code::WrongType,
                    format!(
                        "`publish` expects port mappings such as `80:8080`, found {}",
                        other.describe()
                    ),
                    span,
                    "not a port mapping",
                    "write `PUBLISHED:TARGET`, e.g. `80:8080`",
                );
            }
        }
    }
    out
}

fn after(ev: &mut Evaluator, a: &Attrs, ctx: Ctx) -> Vec<String> {
    let span = a.span("after").unwrap_or_default();
    let Some(e) = a.map.get("after") else {
        return Vec::new();
    };
    let Some(id) = ctx.owner else {
        return Vec::new();
    };
    let before = ev.deps.len();
    let v = ev.eval(e, ctx);
    for d in &mut ev.deps[before..] {
        d.reason = super::DepReason::After;
    }
    let items = match v {
        Value::List(items) => items,
        Value::Poison => return Vec::new(),
        v => vec![v],
    };
    let mut out = Vec::new();
    for v in items {
        match v {
            Value::Entity(s) if ev.sym.entity(s).kind == EntityKind::Service && s != id => {
                out.push(ev.sym.entity(s).model_name.clone())
            }
            Value::Poison => {}
            other => {
                let found = match &other {
                    Value::Entity(s) if *s == id => String::from("the service itself"),
                    Value::Entity(s) | Value::Member(s, _) => {
                        let e = ev.sym.entity(*s);
                        format!("{} `{}`", e.kind.word(), e.qual_name)
                    }
                    other => other.describe().to_string(),
                };
                ev.error(
                    Code::WrongReference,
                    format!("`after` lists services, found {found}"),
                    span,
                    "not a service",
                    "write `after = [SERVICE, ..]`",
                );
            }
        }
    }
    out
}

fn env(ev: &mut Evaluator, item: &Decl, ctx: Ctx, s: &mut Service) {
    let (Some(name), Some(value)) = (item.name(), item.value.as_ref()) else {
        return;
    };
    let v = ev.eval(value, ctx);
    if let Some(text) = ev.text_of(&v, value.span) {
        s.env.insert(name.name.clone(), text);
    }
}

fn uses(
    ev: &mut Evaluator,
    item: &Decl,
    ctx: Ctx,
    kind: EntityKind,
    mut add: impl FnMut(&mut Evaluator, EntityId),
) {
    for subject in &item.subjects {
        match ev.eval(subject, ctx) {
            Value::Entity(target) if ev.sym.entity(target).kind == kind => add(ev, target),
            Value::Poison => {}
            other => {
                let word = kind.word();
                ev.error(
                    Code::WrongReference,
                    format!("expected a {word}, found {}", other.describe()),
                    subject.span,
                    format!("not a {word}"),
                    format!("declare it with `{word} NAME ..;`"),
                );
            }
        }
    }
}

fn mount(
    ev: &mut Evaluator,
    item: &Decl,
    ia: &Attrs,
    ctx: Ctx,
    exports: &[(EntityId, String, String)],
    s: &mut Service,
) {
    let readonly = item
        .positional_args()
        .any(|p| p.as_name().is_some_and(|n| n.name == "readonly"));
    let target = ia.string(ev, "at").unwrap_or_default();
    for subject in &item.subjects {
        match ev.eval(subject, ctx) {
            Value::NfsExport { vm, disk } => {
                let disk_name = ev.sym.entity(disk).model_name.clone();
                let path = exports
                    .iter()
                    .find(|(v, d, _)| *v == vm && *d == disk_name)
                    .map(|(_, _, p)| p.clone())
                    .unwrap_or_default();
                let server_ip = ev.vms.ip(vm, 0).unwrap_or_default();
                s.nfs_mounts.push(NfsVolumeUse {
                    volume: disk_name,
                    server_ip,
                    export_path: path,
                    target: target.clone(),
                    readonly,
                });
            }
            Value::Poison => {}
            other => {
                ev.error(Code::WrongReference, format!("`mount` needs an NFS export such as `vm.nfs.DISK`, found {}", other.describe()), subject.span, "not an NFS export", "export a disk with `nfs_export DISK at \"/path\";` in a VM, then mount `VM.nfs.DISK`");
            }
        }
    }
}

fn healthcheck(ev: &mut Evaluator, item: &Decl, ia: &Attrs, ctx: Ctx) -> Option<Healthcheck> {
    let test_expr = item.positional_args().next()?;
    let test = match ev.eval(test_expr, ctx) {
        Value::Str(cmd) => vec!["CMD-SHELL".to_string(), cmd],
        Value::List(items) => {
            let mut words: Vec<String> = items
                .iter()
                .filter_map(|v| ev.text_of(v, test_expr.span))
                .collect();
            if !matches!(
                words.first().map(String::as_str),
                Some("CMD" | "CMD-SHELL" | "NONE")
            ) {
                words.insert(0, "CMD".into());
            }
            words
        }
        Value::Poison => return None,
        other => {
            ev.error(
                Code::WrongType,
                format!(
                    "a healthcheck test is a list or a shell string, found {}",
                    other.describe()
                ),
                test_expr.span,
                "not a test",
                "e.g. `healthcheck [\"CMD\", \"redis-cli\", \"ping\"];`",
            );
            return None;
        }
    };
    Some(Healthcheck {
        test,
        interval_s: seconds(ev, ia, "interval"),
        timeout_s: seconds(ev, ia, "timeout"),
        retries: ia
            .int(ev, "retries")
            .unwrap_or_else(|| defaults::int("healthcheck", "retries")) as u32,
        start_period_s: seconds(ev, ia, "start_period"),
    })
}

/// A healthcheck duration in whole seconds, the schema's default if unset.
fn seconds(ev: &mut Evaluator, a: &Attrs, key: &str) -> u64 {
    a.duration_s(ev, key)
        .unwrap_or_else(|| defaults::duration_ms("healthcheck", key).div_ceil(1000))
}

pub fn outputs(ev: &mut Evaluator) -> Vec<Output> {
    let mut out = Vec::new();
    for id in ev.sym.of_kind(EntityKind::Output).collect::<Vec<_>>() {
        let e = ev.sym.entity(id);
        let (d, name) = (e.decl, e.model_name.clone());
        let Some(expr) = &d.value else { continue };
        let ctx = ev.ctx_for(id);
        let value = match ev.eval(expr, ctx) {
            Value::Deferred(resource, field) => OutputValue::AfterApply { resource, field },
            Value::Poison => continue,
            v => match ev.text_of(&v, expr.span) {
                Some(t) => OutputValue::Known(t),
                None => continue,
            },
        };
        out.push(Output {
            name,
            value,
            span: d.span,
        });
    }
    out
}

/// Kernel settings asked for by services go to every VM they may run on.
pub fn apply_host_sysctl(vms: &mut [Vm], wanted: &HostSysctl) {
    for (placement, settings) in wanted {
        for vm in vms.iter_mut() {
            let on = match (&placement.member, &placement.group) {
                (Some(m), _) => &vm.name == m,
                (None, Some(g)) => &vm.group == g,
                (None, None) => vm.swarm != SwarmRole::None,
            };
            if on {
                vm.sysctl
                    .extend(settings.iter().map(|(k, v)| (k.clone(), v.clone())));
            }
        }
    }
}
