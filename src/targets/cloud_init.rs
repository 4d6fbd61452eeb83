//! Per-VM boot configuration: `#cloud-config` user-data, or, for an image
//! that does not run cloud-init, an equivalent `startup-script` (bash), so
//! that no VM ever gets user-data that nothing would read.
//!
//! Both are rendered with tera from the templates in `data/cloud-init/`
//! (embedded in the binary), from a context computed and validated in
//! [`view`]. Autoescaping is off; every model value goes through the `yaml`
//! or `sh` quoting filter ([`quote`]). What the configuration does, in order:
//! install packages (`curl`, `nfs-common`; `docker.io` from the distribution
//! archive on Swarm nodes; `nfs-kernel-server` on an exporter), write
//! `/etc/docker/daemon.json` (log rotation, engine labels for placement),
//! `/etc/sysctl.d/90-sdbc.conf` and `/etc/exports`, format blank attached
//! disks and mount them, enable the NFS server and Docker, mount other VMs'
//! exports (retrying while the server boots), and finally write the guest
//! attribute `sdbc/ready` through the metadata server: `ready` when Docker,
//! the NFS server and every mount are up, `failed` otherwise. `apply` waits
//! on it (the instance has `enable-guest-attributes: TRUE`). See
//! `docs/decisions/0004-cloud-init.md`.

pub mod quote;
#[cfg(test)]
mod tests;
mod view;

use std::collections::BTreeMap;
use std::sync::{Arc, OnceLock};

use crate::model::{Model, Vm};
use crate::span::Span;

/// Compute Engine's limit on one metadata value (256 KiB).
pub const USER_DATA_LIMIT: usize = 256 * 1024;

const CLOUD_CONFIG: &str = "cloud-config.yaml.tera";
const STARTUP_SCRIPT: &str = "startup-script.sh.tera";

/// Why a VM's boot configuration could not be rendered. Each carries the
/// span of the declaration that caused it, for a diagnostic.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RenderError {
    #[error(
        "the boot configuration of `{vm}` is {size} bytes, over Compute Engine's {limit}-byte metadata limit"
    )]
    TooLarge {
        vm: String,
        size: usize,
        limit: usize,
        span: Span,
    },
    #[error("template `{template}` failed to render for `{vm}`: {message}")]
    Template {
        template: &'static str,
        vm: String,
        message: String,
        span: Span,
    },
    #[error("`{path}` (on `{vm}`) must be an absolute path of letters, digits and `/._-+@:,=~`")]
    BadPath {
        vm: String,
        path: String,
        span: Span,
    },
    #[error("invalid {what} `{}` on `{vm}`", short(value))]
    BadValue {
        vm: String,
        what: String,
        value: String,
        span: Span,
    },
    #[error("`{vm}` is on network `{network}`, which is not declared")]
    UnknownNetwork {
        vm: String,
        network: String,
        span: Span,
    },
}

/// A value cut to fit in a message.
fn short(value: &str) -> String {
    match value.char_indices().nth(60) {
        Some((i, _)) => format!("{}…", &value[..i]),
        None => value.to_string(),
    }
}

impl RenderError {
    /// The declaration the error points at.
    pub fn span(&self) -> Span {
        match self {
            RenderError::TooLarge { span, .. }
            | RenderError::Template { span, .. }
            | RenderError::BadPath { span, .. }
            | RenderError::BadValue { span, .. }
            | RenderError::UnknownNetwork { span, .. } => *span,
        }
    }
}

/// Whether images of the family `PROJECT/FAMILY` run cloud-init on first
/// boot: Ubuntu's do; Debian's Compute Engine images (and the rest) rely on
/// the guest agent's startup scripts only.
pub fn image_runs_cloud_init(image: &str) -> bool {
    let project = image.split_once('/').map_or("", |(p, _)| p);
    matches!(project, "ubuntu-os-cloud" | "ubuntu-os-pro-cloud")
}

/// The instance metadata key of `vm`'s boot configuration.
pub fn metadata_key(vm: &Vm) -> &'static str {
    if vm.cloud_init {
        "user-data"
    } else {
        "startup-script"
    }
}

/// `vm`'s boot configuration: `#cloud-config` user-data when `vm.cloud_init`,
/// else a bash startup script doing the same; at most [`USER_DATA_LIMIT`]
/// bytes.
pub fn user_data(model: &Model, vm: &Vm) -> Result<String, RenderError> {
    Renderer::default()
        .user_data(model, vm)
        .map(|text| text.to_string())
}

/// Renders boot configurations, each distinct one once. The templates see
/// only a VM's [`view::View`], which holds nothing of its name or index, so
/// VMs with equal views (the members of a group, most often) get the same
/// text: it is rendered for the first and shared with the others.
#[derive(Default)]
pub struct Renderer {
    done: foldhash::HashMap<(bool, view::View), Arc<str>>,
}

impl Renderer {
    /// [`user_data`], rendered only if no VM before had the same view;
    /// VMs with the same view share one text.
    pub fn user_data(&mut self, model: &Model, vm: &Vm) -> Result<Arc<str>, RenderError> {
        let key = (vm.cloud_init, view::View::new(model, vm)?);
        if let Some(text) = self.done.get(&key) {
            return Ok(text.clone());
        }
        let text: Arc<str> = render(vm, &key.1)?.into();
        self.done.insert(key, text.clone());
        Ok(text)
    }
}

fn render(vm: &Vm, view: &view::View) -> Result<String, RenderError> {
    let template = if vm.cloud_init {
        CLOUD_CONFIG
    } else {
        STARTUP_SCRIPT
    };
    let template_error = |message: String| RenderError::Template {
        template,
        vm: vm.name.clone(),
        message,
        span: vm.span,
    };
    let tera = templates()
        .as_ref()
        .map_err(|e| template_error(e.clone()))?;
    let ctx = tera::Context::from_serialize(view).map_err(|e| template_error(chain(&e)))?;
    let out = tera
        .render(template, &ctx)
        .map_err(|e| template_error(chain(&e)))?;
    if out.len() > USER_DATA_LIMIT {
        return Err(RenderError::TooLarge {
            vm: vm.name.clone(),
            size: out.len(),
            limit: USER_DATA_LIMIT,
            span: vm.span,
        });
    }
    Ok(out)
}

/// The boot configuration of every VM, by VM name (the input of
/// [`crate::targets::gce::requests`]), or every error.
pub fn render_all(model: &Model) -> Result<BTreeMap<String, Arc<str>>, Vec<RenderError>> {
    render_rest(model, &[])
}

/// [`render_all`], given the texts already rendered by VM position in the
/// model (`None`, or a slice shorter than the VMs, where none was): only
/// the others are rendered.
pub fn render_rest(
    model: &Model,
    done: &[Option<Arc<str>>],
) -> Result<BTreeMap<String, Arc<str>>, Vec<RenderError>> {
    let mut out = BTreeMap::new();
    let mut errors = Vec::new();
    let mut renderer = Renderer::default();
    for (i, vm) in model.vms.iter().enumerate() {
        let known = done.get(i).cloned().flatten();
        match known.map_or_else(|| renderer.user_data(model, vm), Ok) {
            Ok(s) => {
                out.insert(vm.name.clone(), s);
            }
            Err(e) => errors.push(e),
        }
    }
    if errors.is_empty() {
        Ok(out)
    } else {
        Err(errors)
    }
}

/// The templates, parsed once per process.
fn templates() -> &'static Result<tera::Tera, String> {
    static TERA: OnceLock<Result<tera::Tera, String>> = OnceLock::new();
    TERA.get_or_init(|| {
        let mut tera = tera::Tera::default();
        tera.autoescape_on(Vec::new());
        tera.register_filter("yaml", quote::yaml_filter);
        tera.register_filter("sh", quote::sh_filter);
        tera.add_raw_templates([
            (
                CLOUD_CONFIG,
                include_str!("../../data/cloud-init/cloud-config.yaml.tera"),
            ),
            (
                STARTUP_SCRIPT,
                include_str!("../../data/cloud-init/startup-script.sh.tera"),
            ),
        ])
        .map_err(|e| chain(&e))?;
        Ok(tera)
    })
}

/// An error and its sources, joined with `: ` (tera's own message is terse).
fn chain(e: &dyn std::error::Error) -> String {
    let mut s = e.to_string();
    let mut source = e.source();
    while let Some(inner) = source {
        s.push_str(": ");
        s.push_str(&inner.to_string());
        source = inner.source();
    }
    s
}
