//! Whether `apply` will be able to reach the Swarm's VMs over SSH (it forms
//! the Swarm and deploys the stack through them): a VM with no external
//! address cannot be reached from outside its network (sdbc has no
//! bastion), and one that no firewall rule admits on tcp:22 cannot be
//! reached at all (said only when the program has firewall rules of its
//! own: one with none is a sketch, or relies on rules made elsewhere).
//! Said by `check`, as a warning, rather than at apply.

use std::collections::BTreeSet;

use crate::diag::{Code, Diagnostic, Diagnostics};
use crate::model::{Firewall, Model, SwarmRole, Vm};

/// The SSH port.
const SSH_PORT: u16 = 22;

/// One warning per group whose members sdbc could not reach.
pub fn check(model: &Model, diags: &mut Diagnostics) {
    if model.services.is_empty() {
        return;
    }
    let mut warned = BTreeSet::new();
    for vm in model.vms.iter().filter(|v| v.swarm != SwarmRole::None) {
        let Some(why) = unreachable(model, vm) else {
            continue;
        };
        if !warned.insert(vm.group.as_str()) {
            continue;
        }
        let (why, help) = why;
        diags.push(
            Diagnostic::new(
                Code::NoSsh,
                format!(
                    "`apply` cannot reach `{}` over SSH to form the Swarm and deploy the stack: {why}",
                    vm.name
                ),
                vm.span,
                "a Swarm node sdbc cannot reach",
            )
            .with_help(help),
        );
    }
}

/// Why `vm` cannot be reached, and what to do about it.
fn unreachable(model: &Model, vm: &Vm) -> Option<(&'static str, &'static str)> {
    if !vm.external_access {
        return Some((
            "it has no external address",
            "give it one (`external_ip=true` or `static_ip=true`), or run sdbc inside its network",
        ));
    }
    // A program without any firewall is a sketch (or relies on rules made
    // elsewhere); one that has rules but none for SSH is a mistake.
    let user_rules = model.firewalls.iter().any(|f| !f.generated);
    let admitted = model.firewalls.iter().any(|f| admits_ssh(f, vm));
    (user_rules && !admitted).then_some((
        "no firewall admits tcp:22 to it",
        "add a rule from your administrators' addresses, e.g. `firewall admin tcp:22 from=admin_cidr;`",
    ))
}

/// Whether `f` lets SSH through to `vm`.
fn admits_ssh(f: &Firewall, vm: &Vm) -> bool {
    let targets_it =
        f.target_tags.is_empty() || f.target_tags.iter().any(|t| vm.tags.iter().any(|v| v == t));
    let ssh = f.allow.iter().any(|rule| {
        rule.protocol == "tcp"
            && (rule.ports.is_empty() || rule.ports.iter().any(|r| covers(r, SSH_PORT)))
    });
    f.network == vm.network && targets_it && ssh
}

/// Whether the port or range `range` (`"22"`, `"20-30"`) holds `port`.
fn covers(range: &str, port: u16) -> bool {
    let (lo, hi) = range.split_once('-').unwrap_or((range, range));
    match (lo.trim().parse::<u16>(), hi.trim().parse::<u16>()) {
        (Ok(lo), Ok(hi)) => (lo..=hi).contains(&port),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::covers;

    #[test]
    fn port_ranges_cover_their_ends() {
        assert!(covers("22", 22));
        assert!(covers("20-22", 22));
        assert!(covers("22-30", 22));
        assert!(!covers("23-30", 22));
        assert!(!covers("80", 22));
        assert!(!covers("x", 22));
    }
}
