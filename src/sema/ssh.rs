//! Can sdbc reach the Swarm's hosts? It forms the Swarm and deploys the
//! stack over SSH from the machine it runs on (decision 0015), so every
//! Swarm node of a program with services needs an external address and a
//! firewall that admits SSH (tcp:22) to it. Whether the admitted ranges are
//! narrow enough is `firewall_exposure`'s business (E0307); here only
//! whether any path exists. Reported once per VM group (E0407), and only
//! for a program without errors (the pipeline's choice): one that does not
//! check is never applied, and the warnings would bury its errors.

use crate::diag::{Code, Diagnostic};
use crate::model::{Firewall, Model, SwarmRole, Vm};

use super::checks::rule_admits;

const SSH_PORT: u16 = 22;

/// One warning per Swarm VM group sdbc could not reach over SSH.
pub fn reach(model: &Model) -> Vec<Diagnostic> {
    let mut diags = Vec::new();
    if model.services.is_empty() || !model.vms.iter().any(|v| v.swarm == SwarmRole::Manager) {
        return diags;
    }
    let mut seen: Vec<&str> = Vec::new();
    for vm in model.vms.iter().filter(|v| v.swarm != SwarmRole::None) {
        if seen.contains(&vm.group.as_str()) {
            continue;
        }
        if let Some(d) = unreachable(model, vm) {
            seen.push(&vm.group);
            diags.push(d);
        }
    }
    diags
}

/// Why SSH to `vm` is impossible, if it is.
fn unreachable(model: &Model, vm: &Vm) -> Option<Diagnostic> {
    let role = if vm.swarm == SwarmRole::Manager {
        "manager"
    } else {
        "worker"
    };
    if !vm.external_access {
        return Some(
            Diagnostic::new(
                Code::NoSshPath,
                format!(
                    "sdbc cannot reach Swarm {role} `{}` over SSH: it has no external address",
                    vm.group
                ),
                vm.span,
                "external_ip=false",
            )
            .with_help(
                "sdbc forms the Swarm and deploys over SSH from the machine it runs on, \
                 with no bastion: give the VM an external address (leave `external_ip` \
                 at `true`, or `static_ip=true`)",
            ),
        );
    }
    if model.firewalls.iter().any(|f| admits_ssh(f, vm)) {
        return None;
    }
    Some(
        Diagnostic::new(
            Code::NoSshPath,
            format!(
                "sdbc cannot reach Swarm {role} `{}` over SSH: no firewall admits tcp:22 to it",
                vm.group
            ),
            vm.span,
            "SSH blocked",
        )
        .with_help(format!(
            "sdbc forms the Swarm and deploys over SSH from the machine it runs on: admit SSH \
             from your own range, e.g. `param admin_cidr = \"YOUR.RANGE/24\";` and \
             `firewall admin tcp:22 from=admin_cidr to={};`",
            vm.group
        )),
    )
}

/// A user's firewall on the VM's network that admits SSH to it from
/// somewhere outside (generated firewalls admit only the stack's own
/// instances).
fn admits_ssh(f: &Firewall, vm: &Vm) -> bool {
    !f.generated
        && f.network == vm.network
        && !f.source_ranges.is_empty()
        && (f.target_tags.is_empty() || f.target_tags.iter().any(|t| vm.tags.contains(t)))
        && f.allow.iter().any(|r| rule_admits(r, "tcp", SSH_PORT))
}
