//! The stack's steps: the network, a secret, a config or a service made
//! what the program says through the first manager that answers, and
//! removed when the program no longer has it. A service step returns once
//! the service is ready (every desired task running, healthy where it has
//! a healthcheck), so the graph's edges make its dependents wait for that.

use super::ClusterCtx;
use crate::exec::stack::ServiceOutcome;
use crate::exec::stack::step::{self, ObjectKind};
use crate::graph::NodeKind;
use crate::plan::Change;
use crate::state::ResourceState;

impl ClusterCtx {
    /// Creates or updates the stack object of `change` (idempotent).
    pub(super) async fn stack_step(&self, change: &Change) -> Result<ResourceState, String> {
        let manager = self.manager().await?;
        let objects = &self.objects;
        let stack = objects.stack.as_str();
        let name = change.name.as_str();
        let err = |e: crate::exec::stack::DeployError| e.to_string();
        match change.node.kind() {
            NodeKind::StackNetwork => {
                step::ensure_network(&manager, objects).await.map_err(err)?;
            }
            NodeKind::StackSecret => {
                let value = self.secret_values.get(change.node.name()).ok_or_else(|| {
                    format!(
                        "secret `{}` has no value in the secrets store",
                        change.node.name()
                    )
                })?;
                step::ensure_object(&manager, ObjectKind::Secret, stack, name, value)
                    .await
                    .map_err(err)?;
            }
            NodeKind::StackConfig => {
                let content = objects
                    .configs
                    .get(name)
                    .ok_or_else(|| format!("config object `{name}` is not in the program"))?;
                step::ensure_object(
                    &manager,
                    ObjectKind::Config,
                    stack,
                    name,
                    content.as_bytes(),
                )
                .await
                .map_err(err)?;
            }
            NodeKind::StackService => {
                let service = objects
                    .services
                    .iter()
                    .find(|s| s.name == change.node.name())
                    .ok_or_else(|| {
                        format!("service `{}` is not in the program", change.node.name())
                    })?;
                let outcome = step::deploy_service(&manager, objects, service, &self.deploy)
                    .await
                    .map_err(err)?;
                if let ServiceOutcome::Failed(why) = outcome {
                    return Err(format!("service `{}` is not ready: {why}", service.name));
                }
                // Secrets and configs the program replaced, once no service
                // uses them any more (the engine refuses while one does).
                step::remove_unused_quietly(&manager, objects).await;
            }
            other => return Err(format!("no stack step for a {other:?} node")),
        }
        Ok(super::state_entry(change, Default::default()))
    }

    /// Removes the stack object of `change` (gone already is done).
    pub(super) async fn stack_delete(&self, change: &Change) -> Result<(), String> {
        let manager = match self.manager().await {
            Ok(m) => m,
            // No manager left in the state: the Swarm, and the stack with
            // it, is gone.
            Err(_) if self.known_managers().is_empty() => return Ok(()),
            Err(e) => return Err(e),
        };
        let name = change.name.as_str();
        let done = match change.node.kind() {
            NodeKind::StackNetwork => step::remove_network(&manager, &self.objects).await,
            NodeKind::StackSecret => step::remove_object(&manager, ObjectKind::Secret, name).await,
            NodeKind::StackConfig => step::remove_object(&manager, ObjectKind::Config, name).await,
            NodeKind::StackService => step::remove_service(&manager, name).await,
            other => return Err(format!("no stack step for a {other:?} node")),
        };
        match done {
            // A secret or config a service still uses until its update
            // (which does not wait for this delete) is removed after that
            // update, by the service's step.
            Err(e) if e.status() == Some(400) && e.to_string().contains("in use") => Ok(()),
            other => other.map_err(|e| e.to_string()),
        }
    }
}
