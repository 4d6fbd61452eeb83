//! Waiting for a restarted manager to be back: its node `ready`, a
//! manager, and `reachable` to the other managers (or the leader). Called
//! between manager restarts, so the next one goes down only when the Raft
//! quorum has this one again (`docs/decisions/0019-managers-restart-in-turn.md`).

use std::time::{Duration, Instant};

use super::{NodeInfo, SwarmError, list_nodes};
use crate::exec::engine::Engine;

/// How long a restarted manager may take to be reachable again.
pub const REACHABLE_TIMEOUT: Duration = Duration::from_secs(120);

/// How often the managers are asked.
const POLL: Duration = Duration::from_millis(250);

/// Waits until the node of VM `vm` (its `sdbc.vm` label, else its hostname)
/// is `ready`, a manager, and `reachable` or the leader, as `manager` (a
/// manager that stayed up) lists the nodes. While the restarted manager is
/// away the Swarm may briefly have no leader or the engine may not answer;
/// both are asked again until `timeout`. Returns the node as it is then.
pub async fn wait_manager_reachable(
    manager: &Engine,
    vm: &str,
    timeout: Duration,
) -> Result<NodeInfo, SwarmError> {
    let start = Instant::now();
    loop {
        let now = match list_nodes(manager).await {
            Ok(nodes) => {
                let mine: Vec<&NodeInfo> = nodes
                    .iter()
                    .filter(|n| n.vm() == Some(vm) || (n.vm().is_none() && n.hostname == vm))
                    .collect();
                if let Some(back) = mine.iter().find(|n| is_back(n)) {
                    return Ok((*back).clone());
                }
                describe(&mine)
            }
            Err(e) => e.to_string(),
        };
        if start.elapsed() >= timeout {
            return Err(SwarmError::NotReachable {
                host: vm.to_string(),
                now,
                after: timeout.as_secs(),
            });
        }
        tokio::time::sleep(POLL).await;
    }
}

/// Ready, a manager, and reachable (the leader is reachable by definition).
fn is_back(n: &NodeInfo) -> bool {
    n.state == "ready"
        && n.role == "manager"
        && (n.leader || n.reachability.as_deref() == Some("reachable"))
}

fn describe(nodes: &[&NodeInfo]) -> String {
    if nodes.is_empty() {
        return "no node of the Swarm is this VM's".to_string();
    }
    let each: Vec<String> = nodes
        .iter()
        .map(|n| {
            format!(
                "node {} is {}, {}, {}",
                n.id,
                n.state,
                n.role,
                n.reachability.as_deref().unwrap_or("not a manager")
            )
        })
        .collect();
    each.join("; ")
}
