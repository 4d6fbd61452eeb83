//! Do the services' reservations fit the machines they are placed on? For
//! every VM, sum the CPU and memory reserved by each task that may land on
//! it; a group must hold the sum of its services, and every single task
//! must fit one machine.

use std::collections::BTreeMap;

use super::checks::ServiceSpans;
use crate::catalog;
use crate::diag::{Code, Diagnostic, Diagnostics};
use crate::model::{Model, Service, ServiceMode, SwarmRole, Vm, VmIndex};

#[derive(Default, Clone, Copy)]
struct Load {
    cpus: f64,
    memory: u64,
}

fn targets<'m>(vms: &VmIndex<'m>, s: &Service) -> Vec<&'m Vm> {
    vms.placed(&s.placement)
        .into_iter()
        .filter(|v| v.swarm != SwarmRole::None)
        .collect()
}

pub fn check(model: &Model, spans: &[ServiceSpans], diags: &mut Diagnostics) {
    // Capacity and load per placement target (a group, or one member).
    let index = VmIndex::new(model);
    let mut groups: BTreeMap<String, (Load, Load, Vec<usize>)> = BTreeMap::new();
    for (i, s) in model.services.iter().enumerate() {
        let (cpus, memory) = (
            s.reserve.cpus.unwrap_or(0.0),
            s.reserve.memory_bytes.unwrap_or(0),
        );
        if cpus == 0.0 && memory == 0 {
            continue;
        }
        let vms = targets(&index, s);
        // Unknown machine types are reported elsewhere; their size is unknown.
        if vms.is_empty()
            || vms
                .iter()
                .any(|v| catalog::machine_type(&v.machine_type).is_none())
        {
            continue;
        }
        single_task(model, s, &vms, spans[i], diags);
        let tasks = match s.mode {
            ServiceMode::Global => vms.len() as f64,
            ServiceMode::Replicated => f64::from(s.replicas),
        };
        let key = s
            .placement
            .member
            .clone()
            .or_else(|| s.placement.group.clone())
            .unwrap_or_else(|| String::from("the swarm"));
        let entry = groups
            .entry(key)
            .or_insert_with(|| (capacity(&vms), Load::default(), Vec::new()));
        entry.1.cpus += cpus * tasks;
        entry.1.memory += memory.saturating_mul(tasks as u64);
        entry.2.push(i);
    }
    for (target, (cap, load, users)) in groups {
        let over_cpu = load.cpus > cap.cpus + 1e-9;
        let over_mem = load.memory > cap.memory;
        if !(over_cpu || over_mem) {
            continue;
        }
        let Some(&last) = users.last() else { continue };
        let what = if over_cpu {
            format!(
                "{} CPUs, but its machines have {}",
                fmt_num(load.cpus),
                fmt_num(cap.cpus)
            )
        } else {
            format!(
                "{} of memory, but its machines have {}",
                fmt_bytes(load.memory),
                fmt_bytes(cap.memory)
            )
        };
        let mut d = Diagnostic::new(
            Code::DoesNotFit,
            format!("services on `{target}` reserve {what}"),
            spans[last].replicas.unwrap_or(spans[last].decl),
            "does not fit",
        )
        .with_help("lower replicas or reservations, or use more or larger machines");
        for &u in users.iter().rev().skip(1).take(6) {
            d = d.with_label(
                spans[u].decl,
                format!("`{}` also reserves here", model.services[u].name),
            );
        }
        diags.push(d);
    }
}

fn capacity(vms: &[&Vm]) -> Load {
    vms.iter()
        .filter_map(|v| catalog::machine_type(&v.machine_type))
        .fold(Load::default(), |acc, m| Load {
            cpus: acc.cpus + f64::from(m.vcpus),
            memory: acc.memory + m.memory_bytes(),
        })
}

fn single_task(
    model: &Model,
    s: &Service,
    vms: &[&Vm],
    spans: ServiceSpans,
    diags: &mut Diagnostics,
) {
    let biggest = vms
        .iter()
        .filter_map(|v| catalog::machine_type(&v.machine_type))
        .fold(Load::default(), |acc, m| Load {
            cpus: acc.cpus.max(f64::from(m.vcpus)),
            memory: acc.memory.max(m.memory_bytes()),
        });
    let (cpus, memory) = (
        s.reserve.cpus.unwrap_or(0.0),
        s.reserve.memory_bytes.unwrap_or(0),
    );
    if biggest.memory == 0 || (cpus <= biggest.cpus && memory <= biggest.memory) {
        return;
    }
    let _ = model;
    diags.push(
        Diagnostic::new(
            Code::DoesNotFit,
            format!(
                "one task of `{}` reserves more than a whole machine has",
                s.name
            ),
            spans.decl,
            "no machine can hold one task",
        )
        .with_help(format!(
            "the largest machine here has {} CPUs and {}",
            fmt_num(biggest.cpus),
            fmt_bytes(biggest.memory)
        )),
    );
}

fn fmt_num(n: f64) -> String {
    let s = format!("{n:.2}");
    s.trim_end_matches('0').trim_end_matches('.').to_string()
}

fn fmt_bytes(b: u64) -> String {
    const GIB: f64 = (1u64 << 30) as f64;
    format!("{} GiB", fmt_num(b as f64 / GIB))
}
