//! The stack one object at a time, for `apply`'s scheduler: each of the
//! graph's `stack.*` nodes is one step, started when the graph's edges
//! allow, so the graph (not [`super::deploy`]'s own scheduler) orders them.
//! Every step is idempotent: an object that exists is left alone, a
//! service whose spec hash is unchanged is not sent again, and removing
//! what is gone is done.

use std::time::{Duration, Instant};

use super::objects::{self, current_ids, owned_by};
use super::wait::{self, service_status};
use super::{DeployError, DeployOptions, ServiceOutcome, labelled};
use crate::exec::engine::{Engine, EngineError};
use crate::targets::stack::engine::{ServiceObject, StackObjects};

/// A secret or a config.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ObjectKind {
    Secret,
    Config,
}

impl ObjectKind {
    /// The Engine API's path segment (`secrets`, `configs`).
    fn path(self) -> &'static str {
        match self {
            ObjectKind::Secret => "secrets",
            ObjectKind::Config => "configs",
        }
    }
}

/// Creates the stack's overlay network unless it exists; whether it was created.
pub async fn ensure_network(manager: &Engine, objects: &StackObjects) -> Result<bool, DeployError> {
    let mut done = super::Deployment::default();
    objects::ensure_network(manager, objects, &mut done).await?;
    Ok(!done.created.is_empty())
}

/// How long a removed network may still be listed (its tasks detaching).
const NETWORK_GONE_TIMEOUT: Duration = Duration::from_secs(60);

/// Removes the stack's overlay network (gone already is done) and waits
/// until the engine no longer lists it: a network whose services were just
/// removed is listed a while longer, and an apply meanwhile would take it
/// for present and then fail to create services on it.
pub async fn remove_network(manager: &Engine, objects: &StackObjects) -> Result<(), EngineError> {
    gone_is_done(
        manager
            .delete(&format!("/networks/{}", objects.network_name()))
            .await,
    )?;
    let start = Instant::now();
    while objects::network_exists(manager, objects).await? {
        if start.elapsed() > NETWORK_GONE_TIMEOUT {
            return Err(EngineError::Decode {
                host: manager.host().to_string(),
                method: String::from("DELETE"),
                path: format!("/networks/{}", objects.network_name()),
                message: format!(
                    "the network is still listed {}s after its removal",
                    NETWORK_GONE_TIMEOUT.as_secs()
                ),
            });
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
        // A removal refused while tasks were still attached is asked again.
        let _ = manager
            .delete(&format!("/networks/{}", objects.network_name()))
            .await;
    }
    Ok(())
}

/// Creates the secret or config `name` with `data` unless the stack has
/// one of that name (names are content-hashed: same name, same content);
/// whether it was created.
pub async fn ensure_object(
    manager: &Engine,
    kind: ObjectKind,
    stack: &str,
    name: &str,
    data: &[u8],
) -> Result<bool, DeployError> {
    let ids = current_ids(manager, stack).await?;
    let existing = match kind {
        ObjectKind::Secret => &ids.secrets,
        ObjectKind::Config => &ids.configs,
    };
    if existing.contains_key(name) {
        return Ok(false);
    }
    objects::create(manager, kind.path(), stack, name, data).await?;
    Ok(true)
}

/// Removes the secret or config `name` (gone already is done).
pub async fn remove_object(
    manager: &Engine,
    kind: ObjectKind,
    name: &str,
) -> Result<(), EngineError> {
    gone_is_done(manager.delete(&format!("/{}/{name}", kind.path())).await)
}

/// Removes the stack's secrets and configs the program no longer has and
/// no service uses: the engine refuses to remove one in use, and that
/// refusal is not an error here (a later run removes it).
pub async fn remove_unused_quietly(manager: &Engine, objects: &StackObjects) {
    let wanted_secrets: std::collections::BTreeSet<&String> = objects.secrets.values().collect();
    for kind in [ObjectKind::Secret, ObjectKind::Config] {
        let Ok(present) = objects::listed(manager, kind.path(), &objects.stack).await else {
            continue;
        };
        for (name, id) in present {
            let wanted = match kind {
                ObjectKind::Secret => wanted_secrets.contains(&name),
                ObjectKind::Config => objects.configs.contains_key(&name),
            };
            if !wanted {
                let _ = manager.delete(&format!("/{}/{id}", kind.path())).await;
            }
        }
    }
}

/// Removes the service `full_name` (gone already is done).
pub async fn remove_service(manager: &Engine, full_name: &str) -> Result<(), EngineError> {
    gone_is_done(manager.delete(&format!("/services/{full_name}")).await)
}

fn gone_is_done(r: Result<(), EngineError>) -> Result<(), EngineError> {
    match r {
        Err(e) if e.status() == Some(404) => Ok(()),
        other => other,
    }
}

/// Creates or updates `service` (unless its spec hash is unchanged) and
/// waits until it is ready: every desired task running (healthy, with a
/// healthcheck) and, after an update, running the new spec. A service not
/// ready in time, or whose update rolled back, is `Failed` with the
/// engine's reason.
pub async fn deploy_service(
    manager: &Engine,
    objects: &StackObjects,
    service: &ServiceObject,
    options: &DeployOptions,
) -> Result<ServiceOutcome, DeployError> {
    let ids = current_ids(manager, &objects.stack).await?;
    let existing = match manager
        .get(&format!("/services/{}", service.full_name))
        .await
    {
        Ok(v) => Some(v),
        Err(e) if e.status() == Some(404) => None,
        Err(e) => return Err(e.into()),
    };
    let spec = objects::with_ids(&service.spec, &ids);
    let outcome = apply(manager, &objects.stack, service, spec, existing.as_ref()).await?;
    let updated = outcome == ServiceOutcome::Updated;
    let since = Instant::now();
    let full = service.full_name.as_str();
    loop {
        let status = service_status(manager, &objects.stack).await?;
        let st = status.get(full);
        // A rollback left from an earlier run is not this run's failure:
        // the service is back on the spec it had then.
        let failed = st.and_then(super::ServiceStatus::failed_update);
        if let Some(reason) = failed.filter(|_| updated) {
            let error = wait::task_error(manager, full).await?;
            return Ok(ServiceOutcome::Failed(format!(
                "{reason} (latest task: {error})"
            )));
        }
        if st.is_some_and(super::ServiceStatus::is_ready)
            && (!updated || wait::runs_current_spec(manager, full).await?)
        {
            return Ok(outcome);
        }
        if since.elapsed() > options.service_timeout {
            return Ok(ServiceOutcome::Failed(
                wait::task_error(manager, full).await?,
            ));
        }
        tokio::time::sleep(options.poll).await;
    }
}

/// Creates the service, updates it if its spec hash differs, or leaves it.
/// Service names are global to the Swarm: one under this name that is not
/// `stack`'s (another stack's label, or none) is an error naming it and its
/// owner, and it is left as it is.
pub(super) async fn apply(
    manager: &Engine,
    stack: &str,
    service: &ServiceObject,
    spec: serde_json::Value,
    existing: Option<&serde_json::Value>,
) -> Result<ServiceOutcome, DeployError> {
    let (spec, unchanged) = labelled(spec, existing);
    let Some(existing) = existing else {
        return match manager.post("/services/create", &spec).await {
            Ok(_) => Ok(ServiceOutcome::Created),
            Err(e) if e.status() == Some(409) => {
                let holder = manager
                    .get(&format!("/services/{}", service.full_name))
                    .await?;
                owned_by(
                    &holder["Spec"]["Labels"],
                    "service",
                    &service.full_name,
                    stack,
                )?;
                Err(e.into())
            }
            Err(e) => Err(e.into()),
        };
    };
    owned_by(
        &existing["Spec"]["Labels"],
        "service",
        &service.full_name,
        stack,
    )?;
    if unchanged {
        return Ok(ServiceOutcome::Unchanged);
    }
    let id = existing["ID"].as_str().unwrap_or(&service.full_name);
    let version = existing["Version"]["Index"].as_u64().unwrap_or_default();
    manager
        .post(&format!("/services/{id}/update?version={version}"), &spec)
        .await?;
    Ok(ServiceOutcome::Updated)
}
