//! The stack's network, secrets and configs: created when missing (a
//! changed value has a new content-hashed name, so objects are never
//! updated), referenced by id in the service specs, and removed once no
//! longer in the program.

use std::collections::{BTreeMap, BTreeSet};

use base64::Engine as _;
use serde_json::{Value, json};

use super::{DeployError, Deployment, stack_filter};
use crate::exec::engine::{Engine, EngineError, query_value};
use crate::targets::stack::engine::{NAMESPACE_LABEL, StackObjects};

/// Object ids by name.
#[derive(Debug, Default)]
pub(super) struct ObjectIds {
    pub(super) secrets: BTreeMap<String, String>,
    pub(super) configs: BTreeMap<String, String>,
}

/// Whether the stack's overlay network exists.
pub(super) async fn network_exists(
    manager: &Engine,
    objects: &StackObjects,
) -> Result<bool, EngineError> {
    let name = objects.network_name();
    let filters = query_value(&json!({ "name": [name] }).to_string());
    let list = manager.get(&format!("/networks?filters={filters}")).await?;
    // The name filter matches substrings: compare exactly.
    Ok(list
        .as_array()
        .into_iter()
        .flatten()
        .any(|n| n["Name"].as_str() == Some(name.as_str())))
}

/// Creates the overlay network unless it exists.
pub(super) async fn ensure_network(
    manager: &Engine,
    objects: &StackObjects,
    done: &mut Deployment,
) -> Result<(), EngineError> {
    if !network_exists(manager, objects).await? {
        manager.post("/networks/create", &objects.network).await?;
        done.created
            .push(format!("network {}", objects.network_name()));
    }
    Ok(())
}

/// The stack's objects of one kind (`secrets`, `configs`), name to id.
pub(super) async fn listed(
    manager: &Engine,
    kind: &str,
    stack: &str,
) -> Result<BTreeMap<String, String>, EngineError> {
    let list = manager
        .get(&format!("/{kind}?filters={}", stack_filter(stack)))
        .await?;
    Ok(list
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|o| {
            Some((
                o["Spec"]["Name"].as_str()?.to_string(),
                o["ID"].as_str()?.to_string(),
            ))
        })
        .collect())
}

/// The stack's secrets and configs as they are (one call per kind).
pub(super) async fn current_ids(manager: &Engine, stack: &str) -> Result<ObjectIds, EngineError> {
    Ok(ObjectIds {
        secrets: listed(manager, "secrets", stack).await?,
        configs: listed(manager, "configs", stack).await?,
    })
}

/// Creates the missing secrets and configs; every object's id by name.
pub(super) async fn ensure_secrets_and_configs(
    manager: &Engine,
    objects: &StackObjects,
    secret_values: &BTreeMap<String, Vec<u8>>,
    done: &mut Deployment,
) -> Result<ObjectIds, DeployError> {
    let mut ids = current_ids(manager, &objects.stack).await?;
    for (secret, name) in &objects.secrets {
        if ids.secrets.contains_key(name) {
            continue;
        }
        let value = secret_values
            .get(secret)
            .ok_or_else(|| DeployError::MissingSecretValue(secret.clone()))?;
        let id = create(manager, "secrets", &objects.stack, name, value).await?;
        ids.secrets.insert(name.clone(), id);
        done.created.push(format!("secret {name}"));
    }
    for (name, content) in &objects.configs {
        if ids.configs.contains_key(name) {
            continue;
        }
        let id = create(manager, "configs", &objects.stack, name, content.as_bytes()).await?;
        ids.configs.insert(name.clone(), id);
        done.created.push(format!("config {name}"));
    }
    Ok(ids)
}

pub(super) async fn create(
    manager: &Engine,
    kind: &str,
    stack: &str,
    name: &str,
    data: &[u8],
) -> Result<String, EngineError> {
    let body = json!({
        "Name": name,
        "Labels": { NAMESPACE_LABEL: stack },
        "Data": base64::engine::general_purpose::STANDARD.encode(data),
    });
    let answer = manager.post(&format!("/{kind}/create"), &body).await?;
    Ok(answer["ID"].as_str().unwrap_or_default().to_string())
}

/// The spec with `SecretID`/`ConfigID` next to every name.
pub(super) fn with_ids(spec: &Value, ids: &ObjectIds) -> Value {
    let mut spec = spec.clone();
    let container = &mut spec["TaskTemplate"]["ContainerSpec"];
    for (list, name_key, id_key, map) in [
        ("Secrets", "SecretName", "SecretID", &ids.secrets),
        ("Configs", "ConfigName", "ConfigID", &ids.configs),
    ] {
        if let Some(refs) = container[list].as_array_mut() {
            for r in refs {
                let id = r[name_key].as_str().and_then(|n| map.get(n)).cloned();
                r[id_key] = json!(id.unwrap_or_default());
            }
        }
    }
    spec
}

/// Removes the stack's secrets and configs the program no longer has (after
/// the services moved to the new ones).
pub(super) async fn remove_unused(
    manager: &Engine,
    objects: &StackObjects,
    done: &mut Deployment,
) -> Result<(), EngineError> {
    let wanted_secrets: BTreeSet<&String> = objects.secrets.values().collect();
    let wanted_configs: BTreeSet<&String> = objects.configs.keys().collect();
    for (kind, wanted) in [("secrets", wanted_secrets), ("configs", wanted_configs)] {
        for (name, id) in listed(manager, kind, &objects.stack).await? {
            if !wanted.contains(&name) {
                manager.delete(&format!("/{kind}/{id}")).await?;
                done.removed
                    .push(format!("{} {name}", kind.trim_end_matches('s')));
            }
        }
    }
    Ok(())
}
