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
//! See `docs/decisions/0013-swarm-and-stack.md`.

mod diff;
mod objects;
mod scale;
mod schedule;
pub mod step;
mod wait;

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use serde_json::Value;
use sha2::{Digest, Sha256};

use super::engine::{Engine, EngineError, query_value};
use crate::state::util::hex;
use crate::targets::stack::engine::{NAMESPACE_LABEL, StackObjects};

pub use diff::service_diffs;
pub use scale::{ScaleError, Scaled, closest_name, scale, wait_scaled};
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
    /// Secret, config and service names are global to the Swarm.
    #[error(
        "the Swarm already has a {kind} named `{name}` that is not this stack's ({}); \
         sdbc leaves it alone: remove or rename it, or use another stack name",
        owner_words(.owner)
    )]
    NameTaken {
        kind: String,
        name: String,
        /// The stack its `com.docker.stack.namespace` label names, if any.
        owner: Option<String>,
    },
}

fn owner_words(owner: &Option<String>) -> String {
    match owner {
        Some(stack) => format!("it belongs to stack `{stack}`"),
        None => "it carries no stack label".to_string(),
    }
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
    let mut done = Deployment::default();
    objects::ensure_network(manager, objects, &mut done).await?;
    let ids =
        objects::ensure_secrets_and_configs(manager, objects, secret_values, &mut done).await?;
    let existing = existing_services(manager, &objects.stack).await?;

    schedule::Scheduler::new(manager, objects, &ids, &existing)
        .run(&mut done, options)
        .await?;
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

/// The spec with its hash label, and whether `existing` carries the same
/// hash and the same replica count (nothing to send).
///
/// The hash leaves the replica count out: it is the one field changed live
/// (`sdbc scale`), and it is compared with the engine's own value instead,
/// so a service scaled live and then written with that count in the file is
/// unchanged, and a count changed behind sdbc's back shows as a change.
fn labelled(mut spec: Value, existing: Option<&Value>) -> (Value, bool) {
    let digest = spec_hash(&without_replicas(&spec));
    let unchanged = existing.is_some_and(|e| {
        e["Spec"]["Labels"][SPEC_LABEL].as_str() == Some(digest.as_str())
            && replicas(&e["Spec"]) == replicas(&spec)
    });
    spec["Labels"][SPEC_LABEL] = Value::String(digest);
    (spec, unchanged)
}

/// A service spec's replica count (`None` for a global service).
pub(super) fn replicas(spec: &Value) -> Option<u64> {
    spec.pointer("/Mode/Replicated/Replicas")
        .and_then(Value::as_u64)
}

/// The spec without its replica count, for the hash.
fn without_replicas(spec: &Value) -> Value {
    let mut spec = spec.clone();
    if let Some(r) = spec.pointer_mut("/Mode/Replicated")
        && let Some(o) = r.as_object_mut()
    {
        o.remove("Replicas");
    }
    spec
}

/// What [`deploy`] would change, as `kind name` strings.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct StackChanges {
    pub create: Vec<String>,
    pub update: Vec<String>,
    pub remove: Vec<String>,
    /// How each updated service changes (see [`service_diffs`]), by its
    /// entry in `update`.
    pub diffs: BTreeMap<String, Vec<crate::plan::AttrDiff>>,
}

impl StackChanges {
    pub fn is_empty(&self) -> bool {
        self.create.is_empty() && self.update.is_empty() && self.remove.is_empty()
    }
}

/// What [`deploy`] would change, changing nothing: one listing call per
/// object kind (network, secrets, configs, services), whatever the number
/// of objects. A service whose secret or config is still to be created
/// shows as updated (its spec names the new object), with its attribute
/// differences (replicas, image, env by name, secret and config by digest).
pub async fn changes(
    manager: &Engine,
    objects: &StackObjects,
) -> Result<StackChanges, EngineError> {
    let mut out = StackChanges::default();
    if !objects::network_exists(manager, objects).await? {
        out.create
            .push(format!("network {}", objects.network_name()));
    }
    let ids = objects::current_ids(manager, &objects.stack).await?;
    for name in objects.secrets.values() {
        if !ids.secrets.contains_key(name) {
            out.create.push(format!("secret {name}"));
        }
    }
    for name in objects.configs.keys() {
        if !ids.configs.contains_key(name) {
            out.create.push(format!("config {name}"));
        }
    }
    let existing = existing_services(manager, &objects.stack).await?;
    for s in &objects.services {
        let current = existing.get(&s.full_name);
        let (spec, unchanged) = labelled(objects::with_ids(&s.spec, &ids), current);
        let what = format!("service {}", s.full_name);
        match current {
            None => out.create.push(what),
            Some(c) if !unchanged => {
                out.diffs
                    .insert(what.clone(), service_diffs(&c["Spec"], &spec));
                out.update.push(what);
            }
            Some(_) => {}
        }
    }
    let wanted: BTreeSet<&str> = objects
        .services
        .iter()
        .map(|s| s.full_name.as_str())
        .collect();
    out.remove.extend(
        existing
            .keys()
            .filter(|n| !wanted.contains(n.as_str()))
            .map(|n| format!("service {n}")),
    );
    let secrets: BTreeSet<&String> = objects.secrets.values().collect();
    out.remove.extend(
        ids.secrets
            .keys()
            .filter(|n| !secrets.contains(n))
            .map(|n| format!("secret {n}")),
    );
    out.remove.extend(
        ids.configs
            .keys()
            .filter(|n| !objects.configs.contains_key(*n))
            .map(|n| format!("config {n}")),
    );
    Ok(out)
}

/// The SHA-256 of a spec's JSON text (its keys in a fixed order), 16 hex
/// digits: equal specs give equal hashes across runs.
pub(super) fn spec_hash(spec: &Value) -> String {
    let text = serde_json::to_string(spec).expect("a JSON value always serializes");
    hex(&Sha256::digest(text.as_bytes())[..8])
}
