//! Deploying the stack through a manager's Engine API: the overlay
//! network, then the secrets and configs (content-hashed names, created
//! when missing), then the services, each created or updated only when the
//! services it depends on are ready (every desired task running, and a task
//! with a healthcheck is only `running` once healthy). A service that does
//! not get ready in time is reported with the engine's task error and stops
//! only its dependents. Afterwards, the stack's services, secrets and
//! configs the program no longer has are removed.
//!
//! Idempotent: every service carries the hash of its spec in a label; an
//! unchanged service is not sent again, so a second run sends nothing but
//! one listing call per object kind (and a status poll).
//!
//! The input is [`crate::targets::stack::engine::StackObjects`], derived
//! from the model by the targets phase; nothing here derives it again.

mod objects;
mod wait;

use std::collections::{BTreeMap, BTreeSet};
use std::time::{Duration, Instant};

use serde_json::Value;
use sha2::{Digest, Sha256};

use super::engine::{Engine, EngineError, query_value};
use crate::state::util::hex;
use crate::targets::stack::engine::{NAMESPACE_LABEL, ServiceObject, StackObjects};

pub use wait::{ServiceStatus, service_status};

/// The service label holding the hash of the spec sdbc sent.
pub const SPEC_LABEL: &str = "sdbc.spec";

/// How long a service may take to get ready, and how often to look.
#[derive(Debug, Clone)]
pub struct DeployOptions {
    pub service_timeout: Duration,
    pub poll: Duration,
}

impl Default for DeployOptions {
    fn default() -> Self {
        DeployOptions {
            service_timeout: Duration::from_secs(300),
            poll: Duration::from_millis(250),
        }
    }
}

/// What happened to one service.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ServiceOutcome {
    /// Already as the program says (and ready).
    Unchanged,
    Created,
    Updated,
    /// Not ready in time; the engine's latest task error.
    Failed(String),
    /// Not started because a dependency failed.
    Skipped {
        dependency: String,
    },
}

/// The result of [`deploy`].
#[derive(Debug, Clone, Default)]
pub struct Deployment {
    /// Networks, secrets and configs created (`secret NAME`, ...).
    pub created: Vec<String>,
    /// Per model service name.
    pub services: BTreeMap<String, ServiceOutcome>,
    /// When each service was created or updated (or found unchanged), from
    /// the start of the deployment.
    pub started_after: BTreeMap<String, Duration>,
    /// When each service became ready, from the start of the deployment.
    pub ready_after: BTreeMap<String, Duration>,
    /// Objects removed because the program no longer has them.
    pub removed: Vec<String>,
}

impl Deployment {
    /// Whether nothing was created, changed or removed.
    pub fn is_noop(&self) -> bool {
        self.created.is_empty()
            && self.removed.is_empty()
            && self
                .services
                .values()
                .all(|o| *o == ServiceOutcome::Unchanged)
    }

    /// The failed and skipped services.
    pub fn failures(&self) -> impl Iterator<Item = (&str, &ServiceOutcome)> {
        self.services.iter().filter_map(|(n, o)| {
            matches!(
                o,
                ServiceOutcome::Failed(_) | ServiceOutcome::Skipped { .. }
            )
            .then_some((n.as_str(), o))
        })
    }
}

/// Why a deployment could not run at all.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DeployError {
    #[error(transparent)]
    Engine(#[from] EngineError),
    #[error("secret `{0}` has no value")]
    MissingSecretValue(String),
}

/// `{"label": ["com.docker.stack.namespace=STACK"]}`, as a query value.
fn stack_filter(stack: &str) -> String {
    let filter = serde_json::json!({ "label": [format!("{NAMESPACE_LABEL}={stack}")] });
    query_value(&filter.to_string())
}

/// Deploys `objects` through `manager`. `secret_values` holds the value of
/// every secret by model secret name (from the encrypted secrets store).
pub async fn deploy(
    manager: &Engine,
    objects: &StackObjects,
    secret_values: &BTreeMap<String, Vec<u8>>,
    options: &DeployOptions,
) -> Result<Deployment, DeployError> {
    let start = Instant::now();
    let mut done = Deployment::default();
    objects::ensure_network(manager, objects, &mut done).await?;
    let ids =
        objects::ensure_secrets_and_configs(manager, objects, secret_values, &mut done).await?;
    let existing = existing_services(manager, &objects.stack).await?;

    let mut pending: Vec<&ServiceObject> = objects.services.iter().collect();
    // Started services not yet ready: when they started, and whether the
    // engine must report a finished update first.
    let mut in_flight: BTreeMap<String, (Instant, bool)> = BTreeMap::new();
    let known: BTreeSet<&str> = objects.services.iter().map(|s| s.name.as_str()).collect();
    loop {
        // Start what can start: every dependency ready.
        let mut still = Vec::new();
        for s in pending {
            let deps: Vec<&str> = s
                .after
                .iter()
                .map(String::as_str)
                .filter(|d| known.contains(d))
                .collect();
            if let Some(failed) = deps.iter().find(|d| is_failed(&done, d)) {
                let dependency = failed.to_string();
                done.services
                    .insert(s.name.clone(), ServiceOutcome::Skipped { dependency });
                continue;
            }
            if !deps.iter().all(|d| done.ready_after.contains_key(*d)) {
                still.push(s);
                continue;
            }
            let spec = objects::with_ids(&s.spec, &ids);
            let outcome = apply_service(manager, s, spec, existing.get(&s.full_name)).await?;
            let updated = outcome == ServiceOutcome::Updated;
            done.started_after.insert(s.name.clone(), start.elapsed());
            done.services.insert(s.name.clone(), outcome);
            in_flight.insert(s.name.clone(), (Instant::now(), updated));
        }
        pending = still;
        if in_flight.is_empty() && pending.is_empty() {
            break;
        }
        if in_flight.is_empty() {
            // Only possible with a dependency cycle, which `check` rejects.
            for s in pending.drain(..) {
                let dependency = s.after.first().cloned().unwrap_or_default();
                done.services
                    .insert(s.name.clone(), ServiceOutcome::Skipped { dependency });
            }
            break;
        }
        tokio::time::sleep(options.poll).await;
        let by_name: BTreeMap<&str, &ServiceObject> = objects
            .services
            .iter()
            .map(|s| (s.name.as_str(), s))
            .collect();
        let status = service_status(manager, &objects.stack).await?;
        let mut finished = Vec::new();
        for (name, (since, updated)) in &in_flight {
            let full = &by_name[name.as_str()].full_name;
            let st = status.get(full);
            if let Some(reason) = st.and_then(ServiceStatus::failed_update) {
                done.services
                    .insert(name.clone(), ServiceOutcome::Failed(reason));
                finished.push(name.clone());
            } else if st.is_some_and(ServiceStatus::is_ready)
                && (!updated || wait::runs_current_spec(manager, full).await?)
            {
                done.ready_after.insert(name.clone(), start.elapsed());
                finished.push(name.clone());
            } else if since.elapsed() > options.service_timeout {
                let error = wait::task_error(manager, full).await?;
                done.services
                    .insert(name.clone(), ServiceOutcome::Failed(error));
                finished.push(name.clone());
            }
        }
        for name in finished {
            in_flight.remove(&name);
        }
    }
    let wanted: BTreeSet<&str> = objects
        .services
        .iter()
        .map(|s| s.full_name.as_str())
        .collect();
    for (name, service) in &existing {
        if !wanted.contains(name.as_str()) {
            let id = service["ID"].as_str().unwrap_or(name);
            manager.delete(&format!("/services/{id}")).await?;
            done.removed.push(format!("service {name}"));
        }
    }
    objects::remove_unused(manager, objects, &mut done).await?;
    Ok(done)
}

fn is_failed(done: &Deployment, name: &str) -> bool {
    matches!(
        done.services.get(name),
        Some(ServiceOutcome::Failed(_) | ServiceOutcome::Skipped { .. })
    )
}

/// The stack's services, by Swarm name (one listing call).
async fn existing_services(
    manager: &Engine,
    stack: &str,
) -> Result<BTreeMap<String, Value>, EngineError> {
    let list = manager
        .get(&format!("/services?filters={}", stack_filter(stack)))
        .await?;
    Ok(list
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|s| Some((s["Spec"]["Name"].as_str()?.to_string(), s.clone())))
        .collect())
}

/// Creates the service, updates it if its spec hash differs, or leaves it.
async fn apply_service(
    manager: &Engine,
    service: &ServiceObject,
    mut spec: Value,
    existing: Option<&Value>,
) -> Result<ServiceOutcome, EngineError> {
    let digest = spec_hash(&spec);
    spec["Labels"][SPEC_LABEL] = Value::String(digest.clone());
    let Some(existing) = existing else {
        manager.post("/services/create", &spec).await?;
        return Ok(ServiceOutcome::Created);
    };
    if existing["Spec"]["Labels"][SPEC_LABEL].as_str() == Some(digest.as_str()) {
        return Ok(ServiceOutcome::Unchanged);
    }
    let id = existing["ID"].as_str().unwrap_or(&service.full_name);
    let version = existing["Version"]["Index"].as_u64().unwrap_or_default();
    manager
        .post(&format!("/services/{id}/update?version={version}"), &spec)
        .await?;
    Ok(ServiceOutcome::Updated)
}

/// The SHA-256 of a spec's JSON text (its keys in a fixed order), 16 hex
/// digits: equal specs give equal hashes across runs.
fn spec_hash(spec: &Value) -> String {
    let text = serde_json::to_string(spec).expect("a JSON value always serializes");
    hex(&Sha256::digest(text.as_bytes())[..8])
}
