//! The one-step quorum rule for changing the number of managers.

use super::SwarmError;

/// Managers needed for a majority of `n`.
fn quorum(n: usize) -> usize {
    n / 2 + 1
}

/// How many managers one step may take away from `n`: as many as the Swarm
/// tolerates losing, and at least one (demoting a single manager is a Raft
/// membership change the rest agree on, so it is always safe).
fn max_removed(n: usize) -> usize {
    (n - quorum(n)).max(1)
}

/// Refuses going from `from` managers to `to` in one step when that removes
/// more managers than the Swarm can lose at once; the error lists steps
/// that work. Growing, or keeping the count, is always allowed.
pub fn check_manager_change(from: usize, to: usize) -> Result<(), SwarmError> {
    if to >= from || from - to <= max_removed(from) || from == 0 {
        return Ok(());
    }
    let mut steps = vec![from.to_string()];
    let mut n = from;
    while n > to {
        n = (n - max_removed(n)).max(to);
        steps.push(n.to_string());
    }
    Err(SwarmError::QuorumLoss {
        from,
        to,
        steps: steps.join(" -> "),
    })
}
