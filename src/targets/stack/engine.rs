//! The stack as Docker Engine API objects (what `docker stack deploy`
//! makes from a Compose file, see docker/cli's `cli/compose/convert`),
//! written from the same model as the stack file and with its names and
//! rules ([`super::scoped`], [`super::placement_constraints`],
//! [`super::nfs_volume`], the content-hashed object names): the network
//! create body, and a `ServiceSpec` per service.
//!
//! Differences from the Compose file: values are not escaped (the Engine
//! API does no interpolation); secrets and configs are referenced by name
//! only (`SecretName`, `ConfigName`): the executor adds the ids the engine
//! gave them. Every object carries the `com.docker.stack.namespace` label,
//! so `docker stack ps STACK` and `docker stack rm STACK` see it.

use std::collections::BTreeMap;

use serde_json::{Map, Value, json};

use super::{ObjectNames, STACK_NETWORK, StackError, nfs_volume, placement_constraints, scoped};
use crate::model::{Healthcheck, Model, Resources, Service, ServiceMode};

/// The label `docker stack` groups a stack's objects by.
pub const NAMESPACE_LABEL: &str = "com.docker.stack.namespace";

/// The label `docker stack` puts the image in.
const IMAGE_LABEL: &str = "com.docker.stack.image";

/// The mode of secret and config files in the tasks (0444).
const FILE_MODE: u32 = 0o444;

/// One service, ready to create.
#[derive(Debug, Clone, PartialEq)]
pub struct ServiceObject {
    /// The model's name (`web`).
    pub name: String,
    /// The Swarm name (`misago_web`).
    pub full_name: String,
    /// The model names of the services that must be ready first.
    pub after: Vec<String>,
    /// Whether it has a healthcheck (ready means healthy then).
    pub has_healthcheck: bool,
    /// The `ServiceSpec` body, secrets and configs by name only.
    pub spec: Value,
}

/// Everything of the stack the Engine API creates, in model order.
#[derive(Debug, Clone, PartialEq)]
pub struct StackObjects {
    pub stack: String,
    /// The overlay network's create body.
    pub network: Value,
    /// Secret object names in use, by model secret name.
    pub secrets: BTreeMap<String, String>,
    /// Config object names with their content.
    pub configs: BTreeMap<String, String>,
    pub services: Vec<ServiceObject>,
}

impl StackObjects {
    /// The network's Swarm name (`STACK_sdbc`).
    pub fn network_name(&self) -> String {
        scoped(&self.stack, STACK_NETWORK)
    }
}

/// The Engine API objects of `model`'s stack; `names` must name every
/// secret and config a service uses.
pub fn stack_objects(model: &Model, names: &ObjectNames) -> Result<StackObjects, StackError> {
    let stack = model.stack.as_str();
    let labels = json!({ NAMESPACE_LABEL: stack });
    let network = json!({
        "Name": scoped(stack, STACK_NETWORK),
        "Driver": "overlay",
        "Attachable": true,
        "CheckDuplicate": true,
        "Labels": labels,
    });
    let mut services = Vec::with_capacity(model.services.len());
    for s in &model.services {
        services.push(ServiceObject {
            name: s.name.clone(),
            full_name: scoped(stack, &s.name),
            after: s.after.clone(),
            has_healthcheck: s.healthcheck.is_some(),
            spec: service_spec(stack, s, names)?,
        });
    }
    let configs = model
        .configs
        .iter()
        .filter_map(|c| Some((names.configs.get(&c.name)?.clone(), c.content.clone())))
        .collect();
    Ok(StackObjects {
        stack: stack.to_string(),
        network,
        secrets: names.secrets.clone(),
        configs,
        services,
    })
}

fn service_spec(stack: &str, s: &Service, names: &ObjectNames) -> Result<Value, StackError> {
    let mut container = Map::new();
    container.insert("Image".into(), json!(s.image));
    container.insert("Labels".into(), json!({ NAMESPACE_LABEL: stack }));
    if let Some(entrypoint) = &s.entrypoint {
        container.insert("Command".into(), json!(entrypoint));
    }
    if let Some(command) = &s.command {
        container.insert("Args".into(), json!(command));
    }
    if !s.env.is_empty() {
        let env: Vec<String> = s.env.iter().map(|(k, v)| format!("{k}={v}")).collect();
        container.insert("Env".into(), json!(env));
    }
    container.insert("Mounts".into(), Value::Array(mounts(stack, s)));
    container.insert("Secrets".into(), Value::Array(secrets(s, names)?));
    container.insert("Configs".into(), Value::Array(configs(s, names)?));
    if let Some(h) = &s.healthcheck {
        container.insert("Healthcheck".into(), healthcheck(h));
    }
    let mode = match s.mode {
        ServiceMode::Replicated => json!({ "Replicated": { "Replicas": s.replicas } }),
        ServiceMode::Global => json!({ "Global": {} }),
    };
    let ports: Vec<Value> = s
        .publish
        .iter()
        .map(|p| {
            json!({
                "Protocol": p.protocol,
                "TargetPort": p.target,
                "PublishedPort": p.published,
                "PublishMode": "ingress",
            })
        })
        .collect();
    let update = json!({
        "Parallelism": s.update.parallelism,
        "Delay": nanos(s.update.delay_s),
        "Order": s.update.order,
        "FailureAction": "rollback",
    });
    Ok(json!({
        "Name": scoped(stack, &s.name),
        "Labels": { NAMESPACE_LABEL: stack, IMAGE_LABEL: s.image },
        "TaskTemplate": {
            "ContainerSpec": container,
            "Resources": {
                "Limits": resources(&s.limit),
                "Reservations": resources(&s.reserve),
            },
            "RestartPolicy": restart(s),
            "Placement": { "Constraints": placement_constraints(&s.placement) },
            "Networks": [{
                "Target": scoped(stack, STACK_NETWORK),
                "Aliases": [s.name],
            }],
        },
        "Mode": mode,
        "UpdateConfig": update,
        "RollbackConfig": {
            "Parallelism": s.update.parallelism,
            "Order": s.update.order,
        },
        "EndpointSpec": { "Mode": "vip", "Ports": ports },
    }))
}

fn mounts(stack: &str, s: &Service) -> Vec<Value> {
    let labels = json!({ NAMESPACE_LABEL: stack });
    let mut out = Vec::new();
    for v in &s.volumes {
        out.push(json!({
            "Type": "volume",
            "Source": scoped(stack, &v.volume),
            "Target": v.target,
            "VolumeOptions": { "Labels": labels },
        }));
    }
    for n in &s.nfs_mounts {
        let nfs = nfs_volume(n);
        out.push(json!({
            "Type": "volume",
            "Source": scoped(stack, &nfs.name),
            "Target": n.target,
            "ReadOnly": n.readonly,
            "VolumeOptions": {
                "Labels": labels,
                "DriverConfig": {
                    "Name": "local",
                    "Options": { "type": "nfs", "o": nfs.options, "device": nfs.device },
                },
            },
        }));
    }
    for b in &s.binds {
        out.push(json!({
            "Type": "bind",
            "Source": b.source,
            "Target": b.target,
            "ReadOnly": b.readonly,
        }));
    }
    out
}

fn file(target: &str) -> Value {
    json!({ "Name": target, "UID": "0", "GID": "0", "Mode": FILE_MODE })
}

fn secrets(s: &Service, names: &ObjectNames) -> Result<Vec<Value>, StackError> {
    s.secrets
        .iter()
        .map(|u| {
            let name = names
                .secrets
                .get(&u.secret)
                .ok_or_else(|| StackError::MissingSecret {
                    service: s.name.clone(),
                    secret: u.secret.clone(),
                    span: s.span,
                })?;
            Ok(json!({ "File": file(&u.target), "SecretName": name }))
        })
        .collect()
}

fn configs(s: &Service, names: &ObjectNames) -> Result<Vec<Value>, StackError> {
    s.configs
        .iter()
        .map(|u| {
            let name = names
                .configs
                .get(&u.config)
                .ok_or_else(|| StackError::MissingConfig {
                    service: s.name.clone(),
                    config: u.config.clone(),
                    span: s.span,
                })?;
            Ok(json!({ "File": file(&u.target), "ConfigName": name }))
        })
        .collect()
}

fn healthcheck(h: &Healthcheck) -> Value {
    json!({
        "Test": h.test,
        "Interval": nanos(h.interval_s),
        "Timeout": nanos(h.timeout_s),
        "Retries": h.retries,
        "StartPeriod": nanos(h.start_period_s),
    })
}

fn restart(s: &Service) -> Value {
    let mut r = json!({
        "Condition": s.restart.condition,
        "Delay": nanos(s.restart.delay_s),
    });
    if let Some(n) = s.restart.max_attempts {
        r["MaxAttempts"] = json!(n);
    }
    r
}

fn resources(r: &Resources) -> Value {
    let mut out = Map::new();
    if let Some(cpus) = r.cpus {
        // Whole nanoCPUs; the model keeps CPUs to at most 9 decimals.
        out.insert("NanoCPUs".into(), json!((cpus * 1e9).round() as i64));
    }
    if let Some(bytes) = r.memory_bytes {
        out.insert("MemoryBytes".into(), json!(bytes));
    }
    Value::Object(out)
}

/// Seconds as the Engine API's nanoseconds.
fn nanos(seconds: u64) -> u64 {
    seconds.saturating_mul(1_000_000_000)
}

#[cfg(test)]
mod tests;
