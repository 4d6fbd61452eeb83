//! Limits Compute Engine enforces that would otherwise fail only at apply
//! time, checked on the lowered model: an attached disk in the VM's zone,
//! a subnetwork range no smaller than /29, at most 64 labels and 64 network
//! tags per instance, ports only for protocols that have them.
//!
//! Names (E0304) and user-data size (E0305) are checked where they are
//! lowered. Label keys and values and network tags that Compute Engine
//! would reject are made valid by `model::names` rather than refused; a
//! warning (E0314) says what is sent instead.

use crate::diag::{Code, Diagnostic, Diagnostics};
use crate::model::{Model, names};

/// The smallest subnetwork range Compute Engine accepts (prefix length).
pub const MAX_SUBNET_PREFIX: u32 = 29;
/// Labels per resource, and network tags per instance.
pub const MAX_LABELS: usize = 64;
pub const MAX_TAGS: usize = 64;
/// Labels sdbc adds to an instance (`sdbc-managed`, `sdbc-stack`,
/// `sdbc-group`; see `targets::gce`).
const SDBC_LABELS: usize = 3;
/// Tags sdbc adds to an instance beyond the model's (its group and name,
/// already in `Vm::tags`): the stack tag.
const SDBC_TAGS: usize = 1;
/// Protocols whose firewall rules may list ports.
pub const PROTOCOLS_WITH_PORTS: &[&str] = &["tcp", "udp", "sctp"];

pub fn check(model: &Model, diags: &mut Diagnostics) {
    disk_zones(model, diags);
    subnets(model, diags);
    labels_and_tags(model, diags);
    ports(model, diags);
}

fn disk_zones(model: &Model, diags: &mut Diagnostics) {
    for vm in &model.vms {
        for name in &vm.disks {
            let Some(disk) = model.disks.iter().find(|d| &d.name == name) else {
                continue;
            };
            if disk.zone != vm.zone {
                diags.push(
                    Diagnostic::new(
                        Code::DiskInOtherZone,
                        format!(
                            "disk `{}` is in `{}` but VM `{}` is in `{}`",
                            disk.name, disk.zone, vm.name, vm.zone
                        ),
                        vm.span,
                        format!("in `{}`", vm.zone),
                    )
                    .with_label(disk.span, format!("in `{}`", disk.zone))
                    .with_help("a disk can be attached only to VMs in its own zone: give both the same `zone`"),
                );
            }
        }
    }
}

fn subnets(model: &Model, diags: &mut Diagnostics) {
    for net in &model.networks {
        let prefix = net
            .cidr
            .split_once('/')
            .and_then(|(_, p)| p.parse::<u32>().ok());
        if let Some(p) = prefix.filter(|&p| p > MAX_SUBNET_PREFIX) {
            diags.push(
                Diagnostic::new(
                    Code::SubnetTooSmall,
                    format!("network `{}` has a /{p} range; Compute Engine's smallest is /{MAX_SUBNET_PREFIX}", net.name),
                    net.span,
                    format!("`{}` is too small", net.cidr),
                )
                .with_help(format!("use a prefix length of at most {MAX_SUBNET_PREFIX}, e.g. `/24`")),
            );
        }
    }
}

fn labels_and_tags(model: &Model, diags: &mut Diagnostics) {
    for vm in &model.vms {
        rewritten(vm, diags);
        let labels = vm.labels.len() + SDBC_LABELS;
        if labels > MAX_LABELS {
            diags.push(
                Diagnostic::new(
                    Code::OverApiLimit,
                    format!(
                        "VM `{}` would carry {labels} labels; Compute Engine allows {MAX_LABELS}",
                        vm.name
                    ),
                    vm.span,
                    "too many labels",
                )
                .with_help(format!(
                    "sdbc adds {SDBC_LABELS} labels of its own; give at most {}",
                    MAX_LABELS - SDBC_LABELS
                )),
            );
        }
        let tags = vm.tags.len() + SDBC_TAGS;
        if tags > MAX_TAGS {
            diags.push(
                Diagnostic::new(
                    Code::OverApiLimit,
                    format!(
                        "VM `{}` would carry {tags} network tags; Compute Engine allows {MAX_TAGS}",
                        vm.name
                    ),
                    vm.span,
                    "too many network tags",
                )
                .with_help(
                    "sdbc tags each VM with its group, its name and the stack; give fewer `tags`",
                ),
            );
        }
    }
}

/// Warns about the labels and tags of `vm` that are sent changed.
fn rewritten(vm: &crate::model::Vm, diags: &mut Diagnostics) {
    let mut changed = Vec::new();
    for (k, v) in &vm.labels {
        let (key, value) = (names::label_key(k), names::label_value(v));
        if key != *k || value != *v {
            changed.push(format!("label `{k}: {v}` is sent as `{key}: {value}`"));
        }
    }
    // The group and member tags are names, checked as such (E0304).
    for tag in vm.tags.iter().filter(|t| **t != vm.group && **t != vm.name) {
        let sent = names::resource_name(tag);
        if sent != *tag {
            changed.push(format!("tag `{tag}` is sent as `{sent}`"));
        }
    }
    if !changed.is_empty() {
        diags.push(
            Diagnostic::new(
                Code::RewrittenForApi,
                format!("VM `{}`: {}", vm.name, changed.join("; ")),
                vm.span,
                "changed to what Compute Engine accepts",
            )
            .with_help("label keys and values are lower-case letters, digits, `_` and `-` (keys start with a letter), tags lower-case letters, digits and `-`, at most 63 characters; write them so to send them as written"),
        );
    }
}

fn ports(model: &Model, diags: &mut Diagnostics) {
    for fw in model.firewalls.iter().filter(|f| !f.generated) {
        for rule in &fw.allow {
            if !rule.ports.is_empty() && !PROTOCOLS_WITH_PORTS.contains(&rule.protocol.as_str()) {
                diags.push(
                    Diagnostic::new(
                        Code::OverApiLimit,
                        format!(
                            "firewall `{}` lists ports for `{}`, which has none",
                            fw.name, rule.protocol
                        ),
                        fw.span,
                        "ports on a protocol without ports",
                    )
                    .with_help(format!(
                        "only {} take ports; write the bare protocol, e.g. `{}`",
                        PROTOCOLS_WITH_PORTS.join(", "),
                        rule.protocol
                    )),
                );
            }
        }
    }
}
