//! The Swarm stack file: a Compose file (version 3.8) for
//! `docker stack deploy -c stack.yml STACK`, written from the resolved model.
//!
//! - Every service joins one attachable overlay network, [`STACK_NETWORK`].
//! - Placement uses the Swarm node labels sdbc sets when it forms the Swarm
//!   (`sdbc.group`, `sdbc.vm`; see [`crate::model::NODE_LABEL_GROUP`]), so a
//!   VM's placement can change without restarting its engine.
//! - Bind mounts of host folders are `type: bind` volumes.
//! - NFS exports become local-driver volumes of `type: nfs`. A read-write use
//!   and a read-only use of the same export are two volumes (`NAME` and
//!   `NAME-ro`), because a volume's mount options are fixed when a node first
//!   creates it; read-only uses are also mounted `read_only` in the container.
//! - Secrets and configs are `external: true` under stack-scoped,
//!   content-hashed names (`<stack>_<name>_<first 12 hex digits of sha256>`,
//!   see [`ObjectNames::for_model`], [`config_object_name`] and
//!   [`secret_object_name`]). Swarm refuses to change a secret or config in
//!   place ("only updates to Labels are allowed"); a new name per content
//!   makes a changed value roll out as a new object. sdbc creates the objects
//!   before deploying; the names come from the caller in [`ObjectNames`],
//!   because secret values are not in the model.
//! - Every free-form string the user wrote (image, command, entrypoint,
//!   environment values, healthcheck test, mount/secret/config targets) is
//!   escaped for Compose interpolation (`$` is written `$$`), so
//!   `docker stack deploy` passes it through unchanged.
//!
//! The output is byte-stable: services in source order, everything else
//! sorted by name.

mod compose;
pub mod engine;

use std::collections::BTreeMap;

use sha2::{Digest, Sha256};

use crate::model::{
    Model, NODE_LABEL_GROUP, NODE_LABEL_VM, NfsVolumeUse, Placement, Resources, Service,
    ServiceMode,
};
use crate::span::Span;
use crate::targets::yaml::to_yaml;
use compose::{
    ComposeFile, DeployDef, ExternalObject, HealthcheckDef, MountDef, NetworkDef, NfsOpts,
    ObjectRef, Ordered, PlacementDef, PortDef, ResourceSpec, ResourcesDef, RestartDef, ServiceDef,
    UpdateDef, VolumeDef,
};

/// The key of the overlay network every service joins (Docker names it
/// `<stack>_sdbc`).
pub const STACK_NETWORK: &str = "sdbc";

/// Hex digits of the SHA-256 kept in an object name.
const HASH_DIGITS: usize = 12;

/// Swarm's limit on secret and config names.
const MAX_OBJECT_NAME: usize = 64;

/// The content-hashed Swarm object names of a deployment's secrets and
/// configs, keyed by the model's secret/config name.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ObjectNames {
    pub secrets: BTreeMap<String, String>,
    pub configs: BTreeMap<String, String>,
}

impl ObjectNames {
    /// Names for every config of `model` (from its content) and every secret
    /// (from `secret_digests`: secret name to the hex SHA-256 of its value),
    /// scoped by the stack (`STACK_NAME_<hash>`): Swarm secret and config
    /// names are global to the Swarm, so two stacks with the same program
    /// names and values must not meet on one object.
    /// A secret without a digest gets no name; [`stack_file`] then reports it.
    pub fn for_model(model: &Model, secret_digests: &BTreeMap<String, String>) -> Self {
        let configs = model
            .configs
            .iter()
            .map(|c| {
                let name = config_object_name(&scoped(&model.stack, &c.name), &c.content);
                (c.name.clone(), name)
            })
            .collect();
        let secrets = model
            .secrets
            .iter()
            .filter_map(|s| {
                let digest = secret_digests.get(&s.name)?;
                let name = secret_object_name(&scoped(&model.stack, &s.name), digest);
                Some((s.name.clone(), name))
            })
            .collect();
        ObjectNames { secrets, configs }
    }
}

/// Why a stack file could not be written.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StackError {
    #[error("service `{service}` uses secret `{secret}`, which has no object name")]
    MissingSecret {
        service: String,
        secret: String,
        /// The service's declaration.
        span: Span,
    },
    #[error("service `{service}` uses config `{config}`, which has no object name")]
    MissingConfig {
        service: String,
        config: String,
        /// The service's declaration.
        span: Span,
    },
}

impl StackError {
    /// The declaration of the service that caused it.
    pub fn span(&self) -> Span {
        match self {
            StackError::MissingSecret { span, .. } | StackError::MissingConfig { span, .. } => {
                *span
            }
        }
    }
}

/// The Swarm name of config `name` with this content:
/// `<name>_<first 12 hex digits of sha256(content)>`.
pub fn config_object_name(name: &str, content: &str) -> String {
    let digest = Sha256::digest(content.as_bytes());
    let hex: String = digest.iter().map(|b| format!("{b:02x}")).collect();
    object_name(name, &hex)
}

/// The Swarm name of secret `name` whose value has SHA-256 `digest_hex`:
/// `<name>_<first 12 hex digits>`. The value itself never reaches this module.
pub fn secret_object_name(name: &str, digest_hex: &str) -> String {
    object_name(name, &digest_hex.to_ascii_lowercase())
}

/// `<name>_<hash prefix>`, with `name` shortened so the whole fits Swarm's
/// 64-character limit (the hash keeps shortened names distinct).
fn object_name(name: &str, hex: &str) -> String {
    let hash: String = hex.chars().take(HASH_DIGITS).collect();
    let keep = MAX_OBJECT_NAME.saturating_sub(hash.len() + 1);
    let base: String = name.chars().take(keep).collect();
    format!("{base}_{hash}")
}

/// Writes the stack file for `model`. `names` must hold an object name for
/// every secret and config a service uses.
pub fn stack_file(model: &Model, names: &ObjectNames) -> Result<String, StackError> {
    let mut file = ComposeFile {
        version: "3.8",
        services: Ordered(Vec::with_capacity(model.services.len())),
        networks: BTreeMap::from([(
            STACK_NETWORK.to_string(),
            NetworkDef {
                driver: "overlay",
                attachable: true,
            },
        )]),
        volumes: BTreeMap::new(),
        secrets: BTreeMap::new(),
        configs: BTreeMap::new(),
    };
    for service in &model.services {
        let def = service_def(service, names, &mut file)?;
        file.services.0.push((service.name.clone(), def));
    }
    Ok(to_yaml(&file))
}

/// One service; declares the volumes, secrets and configs it uses in `file`.
fn service_def(
    service: &Service,
    names: &ObjectNames,
    file: &mut ComposeFile,
) -> Result<ServiceDef, StackError> {
    let mut volumes = Vec::new();
    for v in &service.volumes {
        file.volumes.entry(v.volume.clone()).or_default();
        volumes.push(MountDef {
            kind: "volume",
            source: v.volume.clone(),
            target: escape(&v.target),
            read_only: false,
        });
    }
    for n in &service.nfs_mounts {
        let nfs = nfs_volume(n);
        let name = nfs.name.clone();
        file.volumes
            .entry(name.clone())
            .or_insert_with(|| VolumeDef {
                driver: Some("local"),
                driver_opts: Some(NfsOpts {
                    kind: "nfs",
                    o: nfs.options,
                    device: nfs.device,
                }),
            });
        volumes.push(MountDef {
            kind: "volume",
            source: name,
            target: escape(&n.target),
            read_only: n.readonly,
        });
    }
    for b in &service.binds {
        volumes.push(MountDef {
            kind: "bind",
            source: escape(&b.source),
            target: escape(&b.target),
            read_only: b.readonly,
        });
    }

    let mut secrets = Vec::new();
    for s in &service.secrets {
        let object = names
            .secrets
            .get(&s.secret)
            .ok_or_else(|| StackError::MissingSecret {
                service: service.name.clone(),
                secret: s.secret.clone(),
                span: service.span,
            })?;
        file.secrets
            .insert(object.clone(), ExternalObject { external: true });
        secrets.push(ObjectRef {
            source: object.clone(),
            target: escape(&s.target),
        });
    }
    let mut configs = Vec::new();
    for c in &service.configs {
        let object = names
            .configs
            .get(&c.config)
            .ok_or_else(|| StackError::MissingConfig {
                service: service.name.clone(),
                config: c.config.clone(),
                span: service.span,
            })?;
        file.configs
            .insert(object.clone(), ExternalObject { external: true });
        configs.push(ObjectRef {
            source: object.clone(),
            target: escape(&c.target),
        });
    }

    Ok(ServiceDef {
        image: escape(&service.image),
        entrypoint: service.entrypoint.as_deref().map(escape_all),
        command: service.command.as_deref().map(escape_all),
        environment: service
            .env
            .iter()
            .map(|(k, v)| (k.clone(), escape(v)))
            .collect(),
        networks: vec![STACK_NETWORK.to_string()],
        ports: service
            .publish
            .iter()
            .map(|p| PortDef {
                target: p.target,
                published: p.published,
                protocol: p.protocol.clone(),
                mode: "ingress",
            })
            .collect(),
        volumes,
        secrets,
        configs,
        healthcheck: service.healthcheck.as_ref().map(|h| HealthcheckDef {
            test: escape_all(&h.test),
            interval: duration(h.interval_s),
            timeout: duration(h.timeout_s),
            retries: h.retries,
            start_period: duration(h.start_period_s),
        }),
        deploy: deploy_def(service),
    })
}

/// An NFS export as a local-driver volume: its stack-level name and the
/// driver options.
pub struct NfsVolume {
    /// `NAME`, or `NAME-ro` for a read-only use (a volume's options are
    /// fixed when a node first creates it, so the two uses are two volumes).
    pub name: String,
    /// `addr=IP,nfsvers=4,rw` or `...,ro`.
    pub options: String,
    /// `:/export/path`.
    pub device: String,
}

pub fn nfs_volume(n: &NfsVolumeUse) -> NfsVolume {
    let (name, access) = if n.readonly {
        (format!("{}-ro", n.volume), "ro")
    } else {
        (n.volume.clone(), "rw")
    };
    NfsVolume {
        name,
        options: format!("addr={},nfsvers=4,{access}", n.server_ip),
        device: format!(":{}", n.export_path),
    }
}

/// The Swarm placement constraints of a placement, on the node labels.
pub fn placement_constraints(p: &Placement) -> Vec<String> {
    let mut constraints = Vec::new();
    if let Some(group) = &p.group {
        constraints.push(format!("node.labels.{NODE_LABEL_GROUP} == {group}"));
    }
    if let Some(member) = &p.member {
        constraints.push(format!("node.labels.{NODE_LABEL_VM} == {member}"));
    }
    constraints
}

/// A stack-scoped Swarm name, as `docker stack deploy` makes them
/// (`STACK_NAME`): services, networks, volumes.
pub fn scoped(stack: &str, name: &str) -> String {
    format!("{stack}_{name}")
}

fn deploy_def(service: &Service) -> DeployDef {
    let constraints = placement_constraints(&service.placement);
    let reservations = resource_spec(&service.reserve);
    let limits = resource_spec(&service.limit);
    let resources = (reservations.is_some() || limits.is_some()).then_some(ResourcesDef {
        reservations,
        limits,
    });
    let (mode, replicas) = match service.mode {
        ServiceMode::Replicated => ("replicated", Some(service.replicas)),
        ServiceMode::Global => ("global", None),
    };
    DeployDef {
        mode,
        replicas,
        placement: (!constraints.is_empty()).then_some(PlacementDef { constraints }),
        resources,
        update_config: UpdateDef {
            parallelism: service.update.parallelism,
            delay: duration(service.update.delay_s),
            order: service.update.order.clone(),
        },
        restart_policy: RestartDef {
            condition: service.restart.condition.clone(),
            delay: duration(service.restart.delay_s),
            max_attempts: service.restart.max_attempts,
        },
    }
}

fn resource_spec(r: &Resources) -> Option<ResourceSpec> {
    if r.cpus.is_none() && r.memory_bytes.is_none() {
        return None;
    }
    Some(ResourceSpec {
        cpus: r.cpus.map(|c| c.to_string()),
        memory: r.memory_bytes.map(memory),
    })
}

/// Bytes with the largest binary unit that divides them exactly (`512M`),
/// as Docker reads them (`K` = 1024).
fn memory(bytes: u64) -> String {
    const UNITS: [(u64, &str); 3] = [(1 << 30, "G"), (1 << 20, "M"), (1 << 10, "K")];
    for (size, unit) in UNITS {
        if bytes >= size && bytes.is_multiple_of(size) {
            return format!("{}{unit}", bytes / size);
        }
    }
    bytes.to_string()
}

/// A Go duration string in seconds (`10s`).
fn duration(seconds: u64) -> String {
    format!("{seconds}s")
}

/// Escapes Compose variable interpolation: `$` is written `$$`.
fn escape(s: &str) -> String {
    s.replace('$', "$$")
}

fn escape_all(items: &[String]) -> Vec<String> {
    items.iter().map(|s| escape(s)).collect()
}

#[cfg(test)]
mod tests;
