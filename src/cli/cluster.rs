//! What `status` and `scale` share: reaching a manager of the program's
//! Swarm from the state (the managers' addresses and pinned host keys) and
//! the stack's SSH key in the secrets store, without Compute Engine.

use std::io::Write;
use std::path::Path;

use super::common::{self, ExitStatus};
use crate::diag::ColorChoice;
use crate::exec::engine::Engine;
use crate::exec::reach::STACK_KEY_SECRET;
use crate::model::{Model, SwarmRole};
use crate::state::{SecretStore, StateStore};

/// A manager's engine for the program at `path` (model `model`), or the
/// exit status after saying why not: no state, no key (nothing applied
/// yet: status 1), or no manager answering (1). Managers skipped on the
/// way are named on stderr, each with its reason.
pub async fn manager(path: &Path, model: &Model, color: ColorChoice) -> Result<Engine, ExitStatus> {
    let state = StateStore::for_source(path, &model.stack)
        .load()
        .map_err(|e| {
            common::error_line(color, &e.to_string());
            ExitStatus::Usage
        })?;
    let names: Vec<&str> = model
        .vms
        .iter()
        .filter(|vm| vm.swarm == SwarmRole::Manager)
        .map(|vm| vm.name.as_str())
        .collect();
    let managers = crate::exec::status::manager_targets(&state, &names);
    if managers.is_empty() {
        common::error_line(
            color,
            &format!(
                "the state of stack `{}` has no Swarm manager VM: run `sdbc apply {}` first",
                model.stack,
                path.display()
            ),
        );
        return Err(ExitStatus::Errors);
    }
    let key = SecretStore::for_source(path, &model.stack)
        .and_then(|store| store.get(STACK_KEY_SECRET))
        .map_err(|e| {
            common::error_line(color, &format!("the stack's SSH key: {e}"));
            ExitStatus::Usage
        })?
        .ok_or_else(|| {
            common::error_line(
                color,
                "the secrets store has no SSH key for this stack: run `sdbc apply` first",
            );
            ExitStatus::Errors
        })?;
    let key = crate::exec::ssh::private_key_from_openssh(key.expose()).map_err(|e| {
        common::error_line(color, &format!("the stack's SSH key: {e}"));
        ExitStatus::Usage
    })?;
    let connected = crate::exec::status::connect_manager(&managers, &key)
        .await
        .map_err(|e| {
            common::error_line(color, &e.to_string());
            ExitStatus::Errors
        })?;
    // Which manager answers, and why the ones before it did not, go to
    // stderr: stdout stays the command's own output.
    let mut err = std::io::stderr();
    for reason in &connected.skipped {
        let _ = writeln!(err, "skipped a manager: {reason}");
    }
    if !connected.skipped.is_empty() {
        let _ = writeln!(err, "asking manager {}", connected.engine.host());
    }
    Ok(connected.engine)
}
