//! Program checks against the Compute Engine catalog and the rules of
//! Swarm: machine types, zones, images and disk types that exist; names
//! Compute Engine accepts; services placed on Swarm nodes, ports published
//! once, reservations that fit the machines, stateful services run once,
//! sensitive ports not open to the internet, Swarm nodes reachable over SSH
//! (`ssh.rs`).

use std::collections::BTreeMap;

use super::eval::Evaluator;
use crate::catalog;
use crate::diag::{Code, Diagnostic, Diagnostics, did_you_mean};
use crate::model::{Model, Service, ServiceMode, SwarmRole, VmIndex};
use crate::span::Span;

pub fn machine_type(ev: &mut Evaluator, name: &str, span: Span) {
    if catalog::machine_type(name).is_none() {
        let help = did_you_mean(name, catalog::machine_types().map(|m| m.name.as_str()))
            .unwrap_or_else(|| {
                String::from("see data/gce/CATALOG.md for the machine types sdbc knows")
            });
        ev.error(
            Code::UnknownMachineType,
            format!("unknown machine type `{name}`"),
            span,
            "not a Compute Engine machine type",
            help,
        );
    }
}

pub fn region(ev: &mut Evaluator, name: &str, span: Span) -> bool {
    if catalog::region(name).is_some() {
        return true;
    }
    let help = did_you_mean(name, catalog::regions().map(|r| r.name.as_str()))
        .unwrap_or_else(|| String::from("regions look like `europe-west1`"));
    ev.error(
        Code::UnknownLocation,
        format!("unknown region `{name}`"),
        span,
        "not a Compute Engine region",
        help,
    );
    false
}

/// Checks a zone exists and, when a region is given, lies in it.
pub fn zone(ev: &mut Evaluator, name: &str, region: Option<&str>, span: Span) {
    match catalog::zone(name) {
        None => {
            let help = did_you_mean(name, catalog::zones().map(|z| z.name.as_str()))
                .unwrap_or_else(|| String::from("zones look like `europe-west1-b`"));
            ev.error(
                Code::UnknownLocation,
                format!("unknown zone `{name}`"),
                span,
                "not a Compute Engine zone",
                help,
            );
        }
        Some(z) => {
            if let Some(r) = region.filter(|r| *r != z.region && catalog::region(r).is_some()) {
                let zones = catalog::region(r)
                    .map(|x| x.zones.join(", "))
                    .unwrap_or_default();
                ev.error(
                    Code::ZoneNotInRegion,
                    format!("zone `{name}` is in `{}`, not in `{r}`", z.region),
                    span,
                    format!("outside `{r}`"),
                    format!("VMs must be in their subnetwork's region; zones of `{r}`: {zones}"),
                );
            }
        }
    }
}

pub fn image(ev: &mut Evaluator, path: &str, span: Span) {
    match catalog::image(path) {
        None => {
            let help = did_you_mean(path, catalog::images().map(|i| i.path.as_str()))
                .unwrap_or_else(|| {
                    String::from(
                        "images are `PROJECT/FAMILY`, e.g. `ubuntu-os-cloud/ubuntu-2404-lts-amd64`",
                    )
                });
            ev.error(
                Code::UnknownImage,
                format!("unknown image family `{path}`"),
                span,
                "not an image family sdbc knows",
                help,
            );
        }
        Some(img) if !img.cloud_init => {
            ev.diags.push(
                Diagnostic::new(Code::NoCloudInit, format!("`{path}` does not run cloud-init"), span, "no cloud-init on this image")
                    .with_help("sdbc sets it up with a startup script instead; an image with cloud-init (Ubuntu, COS) is checked more strictly"),
            );
        }
        Some(_) => {}
    }
}

pub fn disk_type(ev: &mut Evaluator, name: &str, span: Span) {
    if catalog::disk_type(name).is_none() {
        let help = did_you_mean(name, catalog::disk_types().map(|d| d.name.as_str()))
            .unwrap_or_else(|| {
                format!(
                    "disk types: {}",
                    catalog::disk_types()
                        .map(|d| d.name.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                )
            });
        ev.error(
            Code::BadDiskType,
            format!("unknown disk type `{name}`"),
            span,
            "not a disk type",
            help,
        );
    }
}

/// Compute Engine names: `[a-z]([-a-z0-9]*[a-z0-9])?`, at most 63 characters.
pub fn gce_name(ev: &mut Evaluator, name: &str, what: &str, span: Span) {
    if let Some(problem) = gce_name_problem(name) {
        ev.error(Code::BadGceName, format!("{what} name `{name}` {problem}"), span, "Compute Engine would reject this name", "names are lower-case letters, digits and `-`, start with a letter, end with a letter or digit, at most 63 characters (a group adds `-N`)");
    }
}

pub fn gce_name_problem(name: &str) -> Option<&'static str> {
    let bytes = name.as_bytes();
    if name.len() > 63 {
        Some("is longer than 63 characters")
    } else if !bytes.first().is_some_and(u8::is_ascii_lowercase) {
        Some("must start with a lower-case letter")
    } else if !bytes
        .iter()
        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || *b == b'-')
    {
        Some("may hold only lower-case letters, digits and `-`")
    } else if name.ends_with('-') {
        Some("must not end with `-`")
    } else {
        None
    }
}

/// Ports that should not face the whole internet.
const SENSITIVE: &[(u16, &str)] = &[
    (22, "SSH"),
    (2375, "the Docker API"),
    (2376, "the Docker API"),
    (2377, "Swarm management"),
    (3306, "MySQL"),
    (5432, "PostgreSQL"),
    (6379, "Redis"),
    (9200, "Elasticsearch"),
    (26379, "Redis Sentinel"),
    (27017, "MongoDB"),
];

pub fn firewall_exposure(
    ev: &mut Evaluator,
    name: &str,
    rules: &[crate::model::PortRule],
    sources: &[String],
    span: Span,
) {
    if !sources.iter().any(|s| s == "0.0.0.0/0") {
        return;
    }
    for rule in rules.iter().filter(|r| r.protocol == "tcp") {
        for range in &rule.ports {
            let (lo, hi) = range.split_once('-').unwrap_or((range, range));
            let (Ok(lo), Ok(hi)) = (lo.parse::<u16>(), hi.parse::<u16>()) else {
                continue;
            };
            if let Some((port, what)) = SENSITIVE.iter().find(|(p, _)| (lo..=hi).contains(p)) {
                ev.diags.push(
                    Diagnostic::new(
                        Code::OpenToWorld,
                        format!(
                            "firewall `{name}` opens port {port} ({what}) to the whole internet"
                        ),
                        span,
                        "from 0.0.0.0/0",
                    )
                    .with_help(
                        "restrict `from` to the addresses that need it, e.g. `from=admin_cidr`",
                    ),
                );
            }
        }
    }
}

/// Address ranges reserved for documentation (RFC 5737, RFC 3849): no
/// real client has them, so a firewall admitting only them admits no one.
const DOCUMENTATION_RANGES: &[(&str, &str)] = &[
    ("192.0.2.", "RFC 5737 TEST-NET-1"),
    ("198.51.100.", "RFC 5737 TEST-NET-2"),
    ("203.0.113.", "RFC 5737 TEST-NET-3"),
    ("2001:db8:", "RFC 3849"),
];

/// The documentation range `range` lies in, if any.
pub fn documentation_range(range: &str) -> Option<&'static str> {
    let addr = range
        .split('/')
        .next()
        .unwrap_or(range)
        .to_ascii_lowercase();
    let addr = addr.replace("2001:0db8:", "2001:db8:");
    DOCUMENTATION_RANGES
        .iter()
        .find(|(prefix, _)| addr.starts_with(prefix))
        .map(|(_, rfc)| *rfc)
}

/// Warns about source ranges that are documentation examples (left over
/// from an example program): the rule would admit no one.
pub fn documentation_sources(ev: &mut Evaluator, name: &str, sources: &[String], span: Span) {
    for range in sources {
        if let Some(rfc) = documentation_range(range) {
            ev.diags.push(
                Diagnostic::new(
                    Code::DocumentationRange,
                    format!("firewall `{name}` admits `{range}`, a documentation range ({rfc})"),
                    span,
                    "no real address is in this range",
                )
                .with_help("put your own address range here (for a `param`: `--var NAME=RANGE` or `SDB_VAR_NAME`), or nobody can connect"),
            );
        }
    }
}

/// Where a service's spans are, for the Swarm checks.
#[derive(Debug, Clone, Copy, Default)]
pub struct ServiceSpans {
    pub decl: Span,
    pub on: Option<Span>,
    pub replicas: Option<Span>,
    pub publish: Option<Span>,
    /// The first `volume` line of its body.
    pub volume: Option<Span>,
}

pub fn swarm(model: &Model, spans: &[ServiceSpans], diags: &mut Diagnostics) {
    // A program without VMs may target an existing swarm (`sdbc build`).
    let has_manager = model.vms.iter().any(|v| v.swarm == SwarmRole::Manager);
    if !has_manager
        && !model.vms.is_empty()
        && let (Some(s), Some(sp)) = (model.services.first(), spans.first())
    {
        diags.push(
            Diagnostic::new(
                Code::NoManager,
                format!("service `{}` needs a swarm, but no VM is a manager", s.name),
                sp.decl,
                "no swarm to run on",
            )
            .with_help(
                "make at least one VM a manager: `vm manager[3] e2-standard-2 swarm=manager;`",
            ),
        );
    }
    let vms = VmIndex::new(model);
    let mut published: BTreeMap<(u16, &str), (&str, Span)> = BTreeMap::new();
    for (s, sp) in model.services.iter().zip(spans) {
        placement(&vms, s, sp, diags);
        stateful(s, sp, diags);
        for p in &s.publish {
            let span = sp.publish.unwrap_or(sp.decl);
            if let Some((other, first)) =
                published.insert((p.published, p.protocol.as_str()), (&s.name, span))
            {
                diags.push(
                    Diagnostic::new(Code::PortPublishedTwice, format!("port {}/{} is published by `{other}` and `{}`", p.published, p.protocol, s.name), span, "published again here")
                        .with_label(first, format!("first published by `{other}`"))
                        .with_help("Swarm's routing mesh gives each published port to one service; pick another port"),
                );
            }
        }
    }
    super::fit::check(model, spans, diags);
    super::ssh::check(model, diags);
}

fn placement(vms: &VmIndex, s: &Service, sp: &ServiceSpans, diags: &mut Diagnostics) {
    let on = if s.placement.member.is_none() && s.placement.group.is_none() {
        Vec::new()
    } else {
        vms.placed(&s.placement)
    };
    if !on.is_empty() && on.iter().all(|v| v.swarm == SwarmRole::None) {
        let name = s
            .placement
            .member
            .as_ref()
            .or(s.placement.group.as_ref())
            .cloned()
            .unwrap_or_default();
        diags.push(
            Diagnostic::new(
                Code::NoSwarmNodes,
                format!(
                    "service `{}` is placed on `{name}`, which is not in the swarm",
                    s.name
                ),
                sp.on.unwrap_or(sp.decl),
                "no Swarm node here",
            )
            .with_help(format!(
                "give `{name}` a role: `swarm=worker` or `swarm=manager`"
            )),
        );
    }
}

fn stateful(s: &Service, sp: &ServiceSpans, diags: &mut Diagnostics) {
    if s.volumes.is_empty() {
        return;
    }
    let many = match s.mode {
        ServiceMode::Global => true,
        ServiceMode::Replicated => s.replicas > 1,
    };
    if many {
        let what = if s.mode == ServiceMode::Global {
            String::from("runs on every node")
        } else {
            format!("has {} replicas", s.replicas)
        };
        diags.push(
            Diagnostic::new(Code::StatefulReplicas, format!("service `{}` keeps data in a volume but {what}", s.name), sp.replicas.unwrap_or(sp.decl), "more than one task")
                .with_label(sp.volume.unwrap_or(sp.decl), format!("volume `{}` is local to each node", s.volumes[0].volume))
                .with_help("each task would get its own, different data; run one replica, or replicate inside the service (as `std/postgres` does)"),
        );
    }
}
