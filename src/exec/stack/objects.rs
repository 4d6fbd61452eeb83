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

/// The stack's overlay network as the engine lists it, if it exists.
async fn network(manager: &Engine, objects: &StackObjects) -> Result<Option<Value>, EngineError> {
    let name = objects.network_name();
    let filters = query_value(&json!({ "name": [name] }).to_string());
    let list = manager.get(&format!("/networks?filters={filters}")).await?;
    // The name filter matches substrings: compare exactly.
    Ok(list
        .as_array()
        .into_iter()
        .flatten()
        .find(|n| n["Name"].as_str() == Some(name.as_str()))
        .cloned())
}

/// Whether the stack's overlay network exists.
pub(super) async fn network_exists(
    manager: &Engine,
    objects: &StackObjects,
) -> Result<bool, EngineError> {
    Ok(network(manager, objects).await?.is_some())
}

/// Creates the overlay network unless it exists. One under its name that
/// is not this stack's is an error naming it (the services would join it).
pub(super) async fn ensure_network(
    manager: &Engine,
    objects: &StackObjects,
    done: &mut Deployment,
) -> Result<(), DeployError> {
    match network(manager, objects).await? {
        Some(n) => owned_by(
            &n["Labels"],
            "network",
            &objects.network_name(),
            &objects.stack,
        ),
        None => {
            manager.post("/networks/create", &objects.network).await?;
            done.created
                .push(format!("network {}", objects.network_name()));
            Ok(())
        }
    }
}

/// `Ok` when `labels` name `stack` as the owner, else the error naming
/// the object and who holds it.
pub(super) fn owned_by(
    labels: &Value,
    kind: &str,
    name: &str,
    stack: &str,
) -> Result<(), DeployError> {
    let owner = labels[NAMESPACE_LABEL].as_str();
    if owner == Some(stack) {
        return Ok(());
    }
    Err(DeployError::NameTaken {
        kind: kind.to_string(),
        name: name.to_string(),
        owner: owner.map(str::to_string),
    })
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

/// Creates a secret or config. Their names are global to the Swarm: a name
/// taken by an object that is not this stack's (another stack's label, or
/// none) is an error naming it and its owner, and that object is left as it
/// is. One of this stack's own (made by a run cut short after the create)
/// is used.
pub(super) async fn create(
    manager: &Engine,
    kind: &str,
    stack: &str,
    name: &str,
    data: &[u8],
) -> Result<String, DeployError> {
    let body = json!({
        "Name": name,
        "Labels": { NAMESPACE_LABEL: stack },
        "Data": base64::engine::general_purpose::STANDARD.encode(data),
    });
    match manager.post(&format!("/{kind}/create"), &body).await {
        Ok(answer) => Ok(answer["ID"].as_str().unwrap_or_default().to_string()),
        Err(e) if e.status() == Some(409) => {
            let holder = by_name(manager, kind, name).await?.ok_or(e)?;
            owned_by(
                &holder["Spec"]["Labels"],
                kind.trim_end_matches('s'),
                name,
                stack,
            )?;
            Ok(holder["ID"].as_str().unwrap_or_default().to_string())
        }
        Err(e) => Err(e.into()),
    }
}

/// The object of `kind` named exactly `name` (the name filter matches
/// prefixes).
async fn by_name(manager: &Engine, kind: &str, name: &str) -> Result<Option<Value>, EngineError> {
    let filters = query_value(&json!({ "name": [name] }).to_string());
    let list = manager.get(&format!("/{kind}?filters={filters}")).await?;
    Ok(list
        .as_array()
        .into_iter()
        .flatten()
        .find(|o| o["Spec"]["Name"].as_str() == Some(name))
        .cloned())
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
