//! What `plan`, `apply` and `destroy` need of the program's Swarm and
//! stack besides its Compute Engine resources: the members and the stack
//! objects for the cluster executor, the layers a run is limited to
//! (`SDBC_LAYERS`), the secrets generated before apply names their
//! objects, and the stack's SSH key when one exists.

use std::path::Path;

use crate::exec::cluster::MemberSpec;
use crate::graph::Layer;

/// The program's Swarm and stack, for the cluster executor.
pub struct ClusterProgram {
    pub objects: crate::targets::stack::engine::StackObjects,
    /// By VM name.
    pub members: std::collections::BTreeMap<String, MemberSpec>,
    pub first_manager: Option<String>,
    /// The model's secret names.
    pub secrets: Vec<String>,
}

/// The environment variable that limits a run to some layers.
pub const LAYERS_ENV: &str = "SDBC_LAYERS";

/// The layers named by `SDBC_LAYERS` (comma-separated), or all of them.
pub fn layers() -> Result<Vec<Layer>, String> {
    let Ok(text) = std::env::var(LAYERS_ENV) else {
        return Ok(Layer::ALL.to_vec());
    };
    text.split(',')
        .map(str::trim)
        .filter(|w| !w.is_empty())
        .map(|w| {
            Layer::ALL
                .into_iter()
                .find(|l| l.as_str() == w)
                .ok_or_else(|| {
                    format!("{LAYERS_ENV}: unknown layer `{w}` (cloud, hosts, swarm, stack)")
                })
        })
        .collect()
}

/// Generates a value for every secret of `model` that has none yet.
pub fn generate_secrets(path: &Path, model: &crate::model::Model) -> Result<(), String> {
    if model.secrets.is_empty() {
        return Ok(());
    }
    let store = crate::state::SecretStore::for_source(path, &model.stack)
        .map_err(|e| format!("the secrets store: {e}"))?;
    for s in &model.secrets {
        store
            .get_or_generate(&s.name)
            .map_err(|e| format!("secret `{}`: {e}", s.name))?;
    }
    Ok(())
}

/// The Swarm members and the stack objects of `model`.
pub fn cluster_program(
    model: &crate::model::Model,
    objects: crate::targets::stack::engine::StackObjects,
) -> ClusterProgram {
    use crate::exec::swarm::Role;
    use crate::model::SwarmRole;
    let first_manager = model
        .vms
        .iter()
        .find(|v| v.swarm == SwarmRole::Manager)
        .map(|v| v.name.clone());
    let members = model
        .vms
        .iter()
        .filter_map(|v| {
            let role = match v.swarm {
                SwarmRole::Manager => Role::Manager,
                SwarmRole::Worker => Role::Worker,
                SwarmRole::None => return None,
            };
            let spec = MemberSpec {
                group: v.group.clone(),
                role,
                zone: v.zone.clone(),
                internal_ip: v.internal_ip.clone(),
                first: first_manager.as_deref() == Some(v.name.as_str()),
            };
            Some((v.name.clone(), spec))
        })
        .collect();
    ClusterProgram {
        objects,
        members,
        first_manager,
        secrets: model.secrets.iter().map(|s| s.name.clone()).collect(),
    }
}

/// The stack's SSH key if one was made (a plan never makes one).
pub fn stack_key_if_any(l: &super::deploy::Loaded) -> Option<russh::keys::ssh_key::PrivateKey> {
    let store = crate::state::SecretStore::for_source(&l.source, &l.stack).ok()?;
    let text = store.get(crate::exec::reach::STACK_KEY_SECRET).ok()??;
    crate::exec::ssh::private_key_from_openssh(text.expose()).ok()
}
