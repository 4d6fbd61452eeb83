//! The subset of the Compose file format (version 3.8, as read by
//! `docker stack deploy`) that sdbc writes, as serde types.
//!
//! Field order here is the order in the written file. Optional fields are
//! skipped when absent, so the output carries only what the model says.
//! Maps keyed by name are `BTreeMap`s, except the services, which keep the
//! model's source order through [`Ordered`].

use std::collections::BTreeMap;

use serde::Serialize;
use serde::ser::SerializeMap;

/// A map that keeps insertion order (for the services, written in source order).
#[derive(Debug)]
pub struct Ordered<T>(pub Vec<(String, T)>);

impl<T: Serialize> Serialize for Ordered<T> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(self.0.len()))?;
        for (key, value) in &self.0 {
            map.serialize_entry(key, value)?;
        }
        map.end()
    }
}

/// The whole file.
#[derive(Debug, Serialize)]
pub struct ComposeFile {
    pub version: &'static str,
    pub services: Ordered<ServiceDef>,
    pub networks: BTreeMap<String, NetworkDef>,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub volumes: BTreeMap<String, VolumeDef>,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub secrets: BTreeMap<String, ExternalObject>,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub configs: BTreeMap<String, ExternalObject>,
}

#[derive(Debug, Serialize)]
pub struct ServiceDef {
    pub image: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub entrypoint: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub command: Option<Vec<String>>,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub environment: BTreeMap<String, String>,
    pub networks: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub ports: Vec<PortDef>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub volumes: Vec<MountDef>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub secrets: Vec<ObjectRef>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub configs: Vec<ObjectRef>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub healthcheck: Option<HealthcheckDef>,
    pub deploy: DeployDef,
}

/// A published port, long syntax.
#[derive(Debug, Serialize)]
pub struct PortDef {
    pub target: u16,
    pub published: u16,
    pub protocol: String,
    /// Always `ingress`: the routing mesh answers on every node.
    pub mode: &'static str,
}

/// A service's volume mount, long syntax.
#[derive(Debug, Serialize)]
pub struct MountDef {
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub source: String,
    pub target: String,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub read_only: bool,
}

/// A secret or config granted to a service.
#[derive(Debug, Serialize)]
pub struct ObjectRef {
    /// The content-hashed object name.
    pub source: String,
    pub target: String,
}

#[derive(Debug, Serialize)]
pub struct HealthcheckDef {
    pub test: Vec<String>,
    pub interval: String,
    pub timeout: String,
    pub retries: u32,
    pub start_period: String,
}

#[derive(Debug, Serialize)]
pub struct DeployDef {
    pub mode: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub replicas: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub placement: Option<PlacementDef>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub resources: Option<ResourcesDef>,
    pub update_config: UpdateDef,
    pub restart_policy: RestartDef,
}

#[derive(Debug, Serialize)]
pub struct PlacementDef {
    pub constraints: Vec<String>,
}

#[derive(Debug, Serialize)]
pub struct ResourcesDef {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reservations: Option<ResourceSpec>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub limits: Option<ResourceSpec>,
}

#[derive(Debug, Serialize)]
pub struct ResourceSpec {
    /// A decimal string (`"0.5"`), as the Compose schema requires.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cpus: Option<String>,
    /// With a binary unit (`512M`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub memory: Option<String>,
}

#[derive(Debug, Serialize)]
pub struct UpdateDef {
    pub parallelism: u32,
    pub delay: String,
    pub order: String,
}

#[derive(Debug, Serialize)]
pub struct RestartDef {
    pub condition: String,
    pub delay: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_attempts: Option<u32>,
}

#[derive(Debug, Serialize)]
pub struct NetworkDef {
    pub driver: &'static str,
    pub attachable: bool,
}

/// A top-level volume: a plain named volume (all fields absent, written `{}`)
/// or an NFS volume through the local driver.
#[derive(Debug, Default, Serialize)]
pub struct VolumeDef {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub driver: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub driver_opts: Option<NfsOpts>,
}

/// `driver_opts` of a local-driver NFS volume.
#[derive(Debug, Serialize)]
pub struct NfsOpts {
    #[serde(rename = "type")]
    pub kind: &'static str,
    /// `addr=IP,nfsvers=4,ro` or `...,rw`.
    pub o: String,
    /// `:/export/path`.
    pub device: String,
}

/// A secret or config created outside the stack file (by sdbc) under a
/// content-hashed name.
#[derive(Debug, Serialize)]
pub struct ExternalObject {
    pub external: bool,
}
