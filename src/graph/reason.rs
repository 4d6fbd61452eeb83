//! Why an edge exists: one variant per rule of the platform, and the
//! program's own `after` entries and references. The sentences `sdbc graph`
//! prints (and cycle diagnostics quote) are written only in `Display`.

use std::fmt;

use crate::sema::DepReason;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EdgeReason {
    SubnetworkInNetwork,
    RuleInNetwork,
    /// The instance body names the network.
    VmOnNetwork,
    VmInSubnetwork,
    /// Firewall rules (Swarm ports, NFS) hold before the VM boots and mounts or joins.
    VmBehindRules,
    DiskAttached,
    AddressReserved,
    NfsServerFirst,
    /// Swarm managers in turn (a manager's Swarm step before the next
    /// manager's VM): a restart of several (a machine-type change) takes one
    /// at a time, each back in the Swarm first, so it keeps its quorum.
    ManagersInTurn,
    FirstManagerInits,
    JoinsExistingSwarm,
    VmUpBeforeJoin,
    OverlayInSwarm,
    SecretInSwarm,
    ConfigInSwarm,
    ServiceOnStackNetwork,
    ServiceReadsSecret,
    ServiceReadsConfig,
    ServiceOnNode,
    /// The program says so: `target` is the model name of what is waited for
    /// (shared by every edge one reference draws).
    Program {
        how: DepReason,
        target: std::sync::Arc<str>,
    },
}

impl fmt::Display for EdgeReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let fixed = match self {
            EdgeReason::SubnetworkInNetwork => "the subnetwork is part of the network",
            EdgeReason::RuleInNetwork => "the rule belongs to the network",
            EdgeReason::VmOnNetwork => "the VM's interface is on the network",
            EdgeReason::VmInSubnetwork => "the VM's interface is in the subnetwork",
            EdgeReason::VmBehindRules => "the network's firewall rules hold before the VM boots",
            EdgeReason::DiskAttached => "the disk exists before the VM that attaches it",
            EdgeReason::AddressReserved => "the static address is reserved before the VM uses it",
            EdgeReason::NfsServerFirst => "the NFS server boots before the VMs that mount it",
            EdgeReason::ManagersInTurn => {
                "Swarm managers restart one at a time, each back in the swarm and reachable before the next, so the swarm keeps its quorum"
            }
            EdgeReason::FirstManagerInits => "the first manager initialises the swarm",
            EdgeReason::JoinsExistingSwarm => "a node joins an existing swarm",
            EdgeReason::VmUpBeforeJoin => "the VM is up before it joins",
            EdgeReason::OverlayInSwarm => "the overlay network lives in the swarm",
            EdgeReason::SecretInSwarm => "secrets are stored by the swarm",
            EdgeReason::ConfigInSwarm => "configs are stored by the swarm",
            EdgeReason::ServiceOnStackNetwork => "the service joins the stack network",
            EdgeReason::ServiceReadsSecret => "the service reads the secret",
            EdgeReason::ServiceReadsConfig => "the service reads the config",
            EdgeReason::ServiceOnNode => "the service runs on this node",
            EdgeReason::Program { how, target } => {
                return match how {
                    DepReason::After => write!(f, "`after` lists {target}"),
                    DepReason::Reference => write!(f, "refers to {target}"),
                    DepReason::MountsNfs => write!(f, "mounts the NFS export of {target}"),
                };
            }
        };
        f.write_str(fixed)
    }
}
