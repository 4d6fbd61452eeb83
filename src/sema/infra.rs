//! Lowering the Compute Engine side: `gce` settings, networks, disks,
//! addresses, VMs (expanded into members with their internal addresses),
//! firewalls (the user's and the ones Swarm and NFS need).

use crate::model::names::gce_gb;
use crate::schema::defaults;
use std::collections::BTreeMap;

use super::attrs::{Attrs, word_of};
use super::checks;
use super::collect::TOP;
use super::eval::{Ctx, Evaluator};
use super::members::Range;
use super::scope::{EntityId, EntityKind};
use super::value::Value;
use crate::diag::Code;
use crate::model::*;
use crate::syntax::ast::Decl;

pub const DEFAULT_CIDR: &str = "10.128.0.0/20";
/// The first host number given to VMs in a subnetwork (lower ones are GCE's).
const FIRST_HOST: u32 = 10;

pub fn gce(
    ev: &mut Evaluator,
    decl: Option<(&Decl, crate::span::FileId)>,
    stack_default: &str,
) -> (GceSettings, String) {
    let mut g = GceSettings {
        region: defaults::text("gce", "region").into(),
        image: defaults::text("gce", "image").into(),
        ..GceSettings::default()
    };
    let mut stack = stack_default.to_string();
    if let Some((d, file)) = decl {
        let a = Attrs::new(
            d,
            Ctx {
                scope: TOP,
                file,
                index: None,
                owner: None,
            },
        );
        g.span = d.kind.span;
        g.project = a.string(ev, "project");
        if let Some(r) = a.word(ev, "region") {
            g.region = r;
        }
        g.zone = a.word(ev, "zone").unwrap_or_default();
        if let Some(i) = a.string(ev, "image") {
            g.image = i;
        }
        if let Some(s) = a.word(ev, "stack") {
            stack = s;
        }
        let region_ok = checks::region(ev, &g.region, a.span("region").unwrap_or(g.span));
        if let Some(span) = a.span("zone") {
            checks::zone(ev, &g.zone, region_ok.then_some(g.region.as_str()), span);
        }
        if let Some(span) = a.span("image") {
            checks::image(ev, &g.image, span);
        }
    }
    if g.zone.is_empty() {
        g.zone = format!("{}-b", g.region);
    }
    (g, stack)
}

pub fn networks(ev: &mut Evaluator, gce: &GceSettings, stack: &str) -> Vec<Network> {
    let mut out = Vec::new();
    for id in ev.sym.of_kind(EntityKind::Network).collect::<Vec<_>>() {
        let e = ev.sym.entity(id);
        let (d, name) = (e.decl, e.model_name.clone());
        let ctx = ev.ctx_for(id);
        let a = Attrs::new(d, ctx);
        let cidr = match d.positional_args().next().map(|p| ev.eval(p, ctx)) {
            Some(Value::Cidr(c)) => c,
            _ => continue,
        };
        let region = a.word(ev, "region").unwrap_or_else(|| gce.region.clone());
        out.push(Network {
            name,
            cidr,
            region,
            span: d.span,
        });
    }
    if out.is_empty() {
        out.push(Network {
            name: stack.to_string(),
            cidr: DEFAULT_CIDR.into(),
            region: gce.region.clone(),
            span: gce.span,
        });
    }
    out
}

pub fn disks(ev: &mut Evaluator, gce: &GceSettings) -> Vec<Disk> {
    let mut out = Vec::new();
    for id in ev.sym.of_kind(EntityKind::Disk).collect::<Vec<_>>() {
        let e = ev.sym.entity(id);
        let (d, name) = (e.decl, e.model_name.clone());
        let ctx = ev.ctx_for(id);
        let a = Attrs::new(d, ctx);
        let size_gb = match d.positional_args().next().map(|p| ev.eval(p, ctx)) {
            Some(Value::Size(bytes)) => gce_gb(bytes),
            _ => continue,
        };
        let disk_type = a
            .word(ev, "type")
            .unwrap_or_else(|| defaults::text("disk", "type").into());
        let zone = a.word(ev, "zone").unwrap_or_else(|| gce.zone.clone());
        if let Some(span) = a.span("type") {
            checks::disk_type(ev, &disk_type, span);
        }
        if let Some(span) = a.span("zone") {
            checks::zone(ev, &zone, None, span);
        }
        checks::gce_name(ev, &name, "disk", ev.sym.entity(id).span);
        out.push(Disk {
            name,
            size_gb,
            disk_type,
            zone,
            span: d.span,
        });
    }
    out
}

pub fn explicit_addresses(ev: &mut Evaluator, gce: &GceSettings) -> Vec<Address> {
    let mut out = Vec::new();
    for id in ev.sym.of_kind(EntityKind::Address).collect::<Vec<_>>() {
        let e = ev.sym.entity(id);
        let (d, name) = (e.decl, e.model_name.clone());
        let a = Attrs::new(d, ev.ctx_for(id));
        let region = a.word(ev, "region").unwrap_or_else(|| gce.region.clone());
        out.push(Address {
            name,
            region,
            vm: None,
            span: d.span,
        });
    }
    out
}

/// The network a VM or firewall is in: its `network` attribute, else the first.
fn network_of(ev: &mut Evaluator, a: &Attrs, networks: &[Network]) -> Option<usize> {
    match a.value(ev, "network") {
        Some(Value::Entity(n)) => {
            let name = ev.sym.entity(n).model_name.clone();
            networks.iter().position(|x| x.name == name)
        }
        Some(Value::Poison) => None,
        Some(other) => {
            let span = a.span("network").unwrap_or_default();
            ev.error(
                Code::WrongReference,
                format!("`network` must name a network, found {}", other.describe()),
                span,
                "not a network",
                "write `network=NAME`",
            );
            None
        }
        None => (!networks.is_empty()).then_some(0),
    }
}

/// Group counts, member names, static flags and internal addresses: facts the
/// evaluator needs before any field of a VM is read.
pub fn vm_facts(ev: &mut Evaluator, networks: &[Network]) {
    let mut next_host: BTreeMap<usize, u32> = BTreeMap::new();
    let ranges: Vec<Option<Range>> = networks.iter().map(|n| Range::parse(&n.cidr)).collect();
    let static_default = defaults::boolean("vm", "static_ip");
    for id in ev.sym.of_kind(EntityKind::Vm).collect::<Vec<_>>() {
        let e = ev.sym.entity(id);
        let (d, name) = (e.decl, e.model_name.clone());
        let ctx = ev.ctx_for(id);
        let count = match d.count() {
            None => None,
            Some(c) => match ev.eval(c, Ctx { owner: None, ..ctx }) {
                Value::Int(n) if (1..=1000).contains(&n) => Some(n as u32),
                Value::Int(_) | Value::Poison => Some(0),
                other => {
                    ev.error(
                        Code::BadCount,
                        format!(
                            "a group count must be a whole number, found {}",
                            other.describe()
                        ),
                        c.span,
                        "not a count",
                        "write e.g. `worker[4]`",
                    );
                    Some(0)
                }
            },
        };
        ev.vms.start(id, name, count);
        let a = Attrs::new(d, ctx);
        let net = network_of(ev, &a, networks);
        if let Some(n) = net {
            let first = *next_host.entry(n).or_insert(FIRST_HOST);
            if let Some(range) = ranges[n] {
                ev.vms.place(id, range, first);
            }
        }
        for i in 0..count.unwrap_or(1) {
            let index_ctx = Ctx {
                index: count.map(|_| i),
                ..ctx
            };
            let member_attrs = Attrs {
                map: a.map.clone(),
                ctx: index_ctx,
            };
            let is_static = member_attrs.bool(ev, "static_ip").unwrap_or(static_default);
            ev.vms.settle(id, is_static);
            if let Some(n) = net {
                let host = next_host.entry(n).or_insert(FIRST_HOST);
                if ranges[n].and_then(|r| r.host(*host)).is_none() {
                    ev.error(
                        Code::BadValue,
                        format!(
                            "network `{}` has no room for `{}`",
                            networks[n].name,
                            ev.vms.name(id, i).unwrap_or_default()
                        ),
                        d.span,
                        "no address left",
                        "use a larger range, e.g. a /20",
                    );
                }
                *host += 1;
            }
        }
    }
}

pub struct VmLowering {
    pub vms: Vec<Vm>,
    pub addresses: Vec<Address>,
    /// (VM entity, disk name, path) of every NFS export.
    pub exports: Vec<(EntityId, String, String)>,
}

pub fn vms(ev: &mut Evaluator, gce: &GceSettings, networks: &[Network]) -> VmLowering {
    let ids = ev.sym.of_kind(EntityKind::Vm).collect::<Vec<_>>();
    let members = ids
        .iter()
        .map(|id| ev.vms.count(*id).flatten().unwrap_or(1) as usize)
        .sum();
    // Sized once: the model keeps this vector, and one grown by doubling
    // holds up to twice the room it needs.
    let mut out = VmLowering {
        vms: Vec::with_capacity(members),
        addresses: Vec::new(),
        exports: Vec::new(),
    };
    let mut lw = Lowering {
        gce,
        networks,
        texts: Texts::default(),
        swarm_words: defaults::words("vm", "swarm"),
    };
    for id in ids {
        let e = ev.sym.entity(id);
        let (d, group) = (e.decl, SharedStr::from(&e.model_name));
        let ctx = ev.ctx_for(id);
        let count = ev.vms.count(id).flatten();
        let exports = nfs_exports(ev, id, d, ctx, count.is_some());
        let machine_type = match d.positional_args().next() {
            Some(p) => {
                let mt = word_of(ev, p, ctx, "machine_type").unwrap_or_default();
                checks::machine_type(ev, &mt, p.span);
                lw.texts.take(mt)
            }
            None => continue,
        };
        vm_decl_checks(ev, id, d, ctx, gce, networks, count);
        for i in 0..count.unwrap_or(1) {
            let index_ctx = Ctx {
                index: count.map(|_| i),
                ..ctx
            };
            let a = Attrs::new(d, index_ctx);
            let name = ev.vms.name(id, i).unwrap_or_default();
            let vm = member(
                ev,
                &mut lw,
                &a,
                (id, i),
                &group,
                &name,
                &machine_type,
                &exports,
            );
            if ev.vms.is_static(id, i) {
                out.addresses.push(Address {
                    name: crate::model::names::static_address(&name),
                    region: gce.region.clone(),
                    vm: Some(name.clone()),
                    span: d.span,
                });
            }
            out.vms.push(vm);
        }
        out.exports
            .extend(exports.into_iter().map(|x| (id, x.disk, x.path)));
    }
    out
}

/// Checks made once per VM declaration (not per member).
fn vm_decl_checks(
    ev: &mut Evaluator,
    id: EntityId,
    d: &Decl,
    ctx: Ctx,
    gce: &GceSettings,
    networks: &[Network],
    count: Option<u32>,
) {
    let a = Attrs::new(
        d,
        Ctx {
            index: count.map(|_| 0),
            ..ctx
        },
    );
    let name_span = ev.sym.entity(id).span;
    let last = count.unwrap_or(1).saturating_sub(1);
    if let Some(longest) = ev.vms.name(id, last) {
        checks::gce_name(ev, &longest, "VM", name_span);
        if ev.vms.is_static(id, last) {
            checks::gce_name(
                ev,
                &crate::model::names::static_address(&longest),
                "address",
                name_span,
            );
        }
    }
    let region = network_of(ev, &a, networks).map(|n| networks[n].region.clone());
    if let Some(span) = a.span("zone") {
        let zone = a.word(ev, "zone").unwrap_or_default();
        checks::zone(ev, &zone, region.as_deref(), span);
    } else if let Some(r) = region.filter(|r| *r != gce.region) {
        let zone = gce.zone.clone();
        checks::zone(ev, &zone, Some(&r), d.kind.span);
    }
    if let Some(span) = a.span("image") {
        let image = a.string(ev, "image").unwrap_or_default();
        checks::image(ev, &image, span);
    }
}

fn nfs_exports(
    ev: &mut Evaluator,
    id: EntityId,
    d: &Decl,
    ctx: Ctx,
    is_group: bool,
) -> Vec<NfsExport> {
    let mut out = Vec::new();
    for x in d.body_decls().filter(|x| x.kind.name == "nfs_export") {
        if is_group {
            ev.error(
                Code::BadValue,
                "an NFS export needs a single VM, not a group",
                x.kind.span,
                "in a group",
                "export from a VM declared without `[COUNT]`",
            );
            continue;
        }
        let path = Attrs::new(x, ctx).string(ev, "at").unwrap_or_default();
        for s in &x.subjects {
            match ev.eval(
                s,
                Ctx {
                    owner: Some(id),
                    ..ctx
                },
            ) {
                Value::Entity(disk) if ev.sym.entity(disk).kind == EntityKind::Disk => {
                    out.push(NfsExport {
                        disk: ev.sym.entity(disk).model_name.clone(),
                        path: path.clone(),
                    });
                }
                Value::Poison => {}
                other => {
                    ev.error(
                        Code::WrongReference,
                        format!("`nfs_export` needs a disk, found {}", other.describe()),
                        s.span,
                        "not a disk",
                        "declare it with `disk NAME SIZE;`",
                    );
                }
            }
        }
    }
    out
}

/// What lowering every member reads, and the one copy of each text the
/// members hold alike.
struct Lowering<'x> {
    gce: &'x GceSettings,
    networks: &'x [Network],
    texts: Texts,
    /// The words `swarm` takes, from the schema.
    swarm_words: &'static [&'static str],
}

/// One shared copy of each text (zone, image, network, machine type).
#[derive(Default)]
struct Texts(foldhash::HashSet<SharedStr>);

impl Texts {
    fn get(&mut self, s: &str) -> SharedStr {
        match self.0.get(s) {
            Some(t) => t.clone(),
            None => self.take(s.to_string()),
        }
    }

    fn take(&mut self, s: String) -> SharedStr {
        if let Some(t) = self.0.get(s.as_str()) {
            return t.clone();
        }
        let t = SharedStr::from(s);
        self.0.insert(t.clone());
        t
    }
}

#[allow(clippy::too_many_arguments)]
fn member(
    ev: &mut Evaluator,
    lw: &mut Lowering,
    a: &Attrs,
    key: (EntityId, u32),
    group: &SharedStr,
    name: &str,
    machine_type: &SharedStr,
    exports: &[NfsExport],
) -> Vm {
    let mut base = Vm::new(name, group.clone(), machine_type.clone());
    let swarm = a
        .one_of(ev, "swarm", lw.swarm_words)
        .map_or(base.swarm, |role| SwarmRole::of_word(&role));
    let network = match network_of(ev, a, lw.networks) {
        Some(n) => lw.texts.get(&lw.networks[n].name),
        None => SharedStr::default(),
    };
    let mut tags = std::mem::take(&mut base.tags);
    let more = a.text_list(ev, "tags").unwrap_or_default();
    tags.extend(more.into_iter().map(|t| lw.texts.take(t)));
    tags.dedup();
    let is_static = ev.vms.is_static(key.0, key.1);
    let image = match a.string(ev, "image") {
        Some(image) => lw.texts.take(image),
        None => lw.texts.get(&lw.gce.image),
    };
    let zone = match a.word(ev, "zone") {
        Some(zone) => lw.texts.take(zone),
        None => lw.texts.get(&lw.gce.zone),
    };
    Vm {
        index: (*name != **group).then_some(key.1),
        zone,
        cloud_init: crate::catalog::image(&image).is_none_or(|i| i.cloud_init),
        image,
        boot_disk_gb: a.size(ev, "disk_size").map_or(base.boot_disk_gb, gce_gb),
        network,
        internal_ip: ev.vms.ip(key.0, key.1).unwrap_or_default(),
        address: is_static.then(|| crate::model::names::static_address(name)),
        external_access: is_static || a.bool(ev, "external_ip").unwrap_or(base.external_access),
        swarm,
        tags,
        labels: a.text_map(ev, "labels"),
        disks: exports.iter().map(|x| x.disk.clone()).collect(),
        nfs_exports: exports.to_vec(),
        sysctl: a.text_map(ev, "sysctl"),
        span: ev.sym.entity(key.0).decl.span,
        ..base
    }
}

/// Every VM but the exporter mounts each NFS export at the same path.
pub fn nfs_mounts(ev: &Evaluator, vms: &mut [Vm], exports: &[(EntityId, String, String)]) {
    for (server, _disk, path) in exports {
        let server_name = ev.vms.name(*server, 0).unwrap_or_default();
        let server_ip = ev.vms.ip(*server, 0).unwrap_or_default();
        for vm in vms.iter_mut().filter(|v| v.name != server_name) {
            let mount = NfsMount {
                server: server_name.clone(),
                server_ip: server_ip.clone(),
                export_path: path.clone(),
                mount_path: path.clone(),
            };
            if !vm.nfs_mounts.contains(&mount) {
                vm.nfs_mounts.push(mount);
            }
        }
    }
}

pub fn firewalls(ev: &mut Evaluator, networks: &[Network]) -> Vec<Firewall> {
    let mut out = Vec::new();
    for id in ev.sym.of_kind(EntityKind::Firewall).collect::<Vec<_>>() {
        let e = ev.sym.entity(id);
        let (d, name) = (e.decl, e.model_name.clone());
        let ctx = ev.ctx_for(id);
        let a = Attrs::new(d, ctx);
        let mut allow = Vec::new();
        if let Some(p) = d.positional_args().next() {
            // A bare protocol (`icmp`) allows all of it.
            let v = match p.as_name().map(|n| n.name.as_str()) {
                Some(proto @ ("icmp" | "tcp" | "udp" | "esp" | "sctp"))
                    if ev.sym.lookup(ctx.scope, proto).is_none() =>
                {
                    Value::Str(proto.to_string())
                }
                _ => ev.eval(p, ctx),
            };
            port_rules(ev, v, p.span, &mut allow);
        }
        if let Some(v) = a.value(ev, "also") {
            port_rules(ev, v, a.span("also").unwrap_or_default(), &mut allow);
        }
        let source_ranges = match a.value(ev, "from") {
            None => vec![defaults::text("firewall", "from").to_string()],
            Some(Value::List(items)) => items
                .iter()
                .filter_map(|v| ev.text_of(v, a.span("from").unwrap_or_default()))
                .collect(),
            Some(v) => ev
                .text_of(&v, a.span("from").unwrap_or_default())
                .into_iter()
                .collect(),
        };
        let target_tags = match a.value(ev, "to") {
            None | Some(Value::Poison) => Vec::new(),
            Some(Value::Entity(vm)) if ev.sym.entity(vm).kind == EntityKind::Vm => {
                vec![ev.sym.entity(vm).model_name.clone()]
            }
            Some(Value::Member(vm, i)) => ev.vms.name(vm, i).into_iter().collect(),
            Some(other) => {
                let span = a.span("to").unwrap_or_default();
                ev.error(
                    Code::WrongReference,
                    format!("`to` must name a VM or group, found {}", other.describe()),
                    span,
                    "not a VM",
                    "write `to=GROUP` or `to=GROUP[N]`",
                );
                Vec::new()
            }
        };
        let network = network_of(ev, &a, networks)
            .map(|n| networks[n].name.clone())
            .unwrap_or_default();
        checks::gce_name(ev, &name, "firewall", ev.sym.entity(id).span);
        checks::firewall_exposure(ev, &name, &allow, &source_ranges, d.span);
        let from = a.span("from").unwrap_or(d.span);
        checks::documentation_sources(ev, &name, &source_ranges, from);
        out.push(Firewall {
            name,
            network,
            allow,
            source_ranges,
            target_tags,
            generated: false,
            span: d.span,
        });
    }
    out
}

fn port_rules(ev: &mut Evaluator, v: Value, span: crate::span::Span, out: &mut Vec<PortRule>) {
    match v {
        Value::PortSpec { protocol, ports } => out.push(PortRule { protocol, ports }),
        Value::Str(s) if matches!(s.as_str(), "icmp" | "tcp" | "udp" | "esp" | "sctp") => {
            out.push(PortRule {
                protocol: s,
                ports: Vec::new(),
            })
        }
        Value::List(items) => items.into_iter().for_each(|i| port_rules(ev, i, span, out)),
        Value::Poison => {}
        other => {
            ev.error(
                Code::WrongType,
                format!(
                    "expected ports such as `tcp:80,443`, found {}",
                    other.describe()
                ),
                span,
                "not ports",
                "write `PROTOCOL:PORT,PORT`, e.g. `tcp:80,443`",
            );
        }
    }
}
