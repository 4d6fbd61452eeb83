//! The phases in order, as `check`, `build`, `plan` and the LSP run them:
//! semantics, then the dependency graph and the program checks, each adding
//! its diagnostics to the analysis.

use crate::diag::{Code, Diagnostic};
use crate::graph::DepGraph;
use crate::sema::Analysis;
use std::sync::Arc;

/// Everything `check` knows about a program.
pub struct Checked {
    pub analysis: Analysis,
    pub graph: DepGraph,
    /// The boot configurations the check rendered, by VM position in the
    /// model (`None` where it rendered none): [`build`] renders only the rest.
    boot: Vec<Option<Arc<str>>>,
}

/// Every check that needs no network: semantics, the graph, program checks.
pub fn check_all(mut analysis: Analysis) -> Checked {
    let graph = crate::graph::build(&analysis.model, &analysis.deps);
    let mut diags = std::mem::take(&mut analysis.diagnostics);
    diags.extend(graph.cycle_diagnostics());
    let (problems, boot) = boot_configuration_problems(&analysis.model);
    diags.extend(problems);
    diags.sort_by(|a, b| {
        (a.primary.span, a.code, &a.message).cmp(&(b.primary.span, b.code, &b.message))
    });
    diags.dedup_by(|a, b| a.code == b.code && a.primary.span == b.primary.span);
    analysis.diagnostics = diags;
    Checked {
        analysis,
        graph,
        boot,
    }
}

/// [`check_all`] when only the diagnostics and the model matter.
pub fn check(analysis: Analysis) -> Analysis {
    check_all(analysis).analysis
}

/// What `sdbc build` writes: the Compute Engine calls, the boot
/// configuration of every VM and the Swarm stack file.
#[derive(Debug, Clone)]
pub struct Outputs {
    pub requests: Vec<crate::targets::gce::InsertCall>,
    /// VM name -> (file name, content): `NAME.yaml` for cloud-init, `NAME.sh` for a startup script.
    /// VMs with the same boot configuration share one text.
    pub boot: std::collections::BTreeMap<String, (String, std::sync::Arc<str>)>,
    pub stack: String,
}

/// Generates every output of a program that checked without errors; the
/// failures of generation are diagnostics pointing at the declaration.
/// `secret_digests` names each secret's current value (hex SHA-256).
pub fn build(
    checked: &Checked,
    secret_digests: &std::collections::BTreeMap<String, String>,
) -> Result<Outputs, Vec<Diagnostic>> {
    use crate::targets::{cloud_init, gce, stack};
    let model = &checked.analysis.model;
    let user_data = cloud_init::render_rest(model, &checked.boot)
        .map_err(|errs| errs.iter().map(render_diag).collect::<Vec<_>>())?;
    let requests = gce::requests(model, &checked.graph, &user_data);
    let names = stack::ObjectNames::for_model(model, secret_digests);
    let stack = stack::stack_file(model, &names).map_err(|e| {
        vec![
            Diagnostic::new(
                Code::BadValue,
                e.to_string(),
                e.span(),
                "this service's stack entry cannot be written",
            )
            .with_help("declare every secret and config that a service uses"),
        ]
    })?;
    let mut boot = std::collections::BTreeMap::new();
    for vm in &model.vms {
        if let Some(content) = user_data.get(&vm.name) {
            let ext = if cloud_init::metadata_key(vm) == "user-data" {
                "yaml"
            } else {
                "sh"
            };
            boot.insert(
                vm.name.clone(),
                (format!("{}.{ext}", vm.name), content.clone()),
            );
        }
    }
    Ok(Outputs {
        requests,
        boot,
        stack,
    })
}

/// Placeholder digests for secrets not generated yet, so `build` works
/// before `apply` has made them (the object names change once they exist).
pub fn pending_secret_digests(
    model: &crate::model::Model,
) -> std::collections::BTreeMap<String, String> {
    use sha2::{Digest, Sha256};
    model
        .secrets
        .iter()
        .map(|s| {
            let d = Sha256::digest(format!("sdbc-secret-not-yet-generated:{}", s.name).as_bytes());
            (
                s.name.clone(),
                d.iter().map(|b| format!("{b:02x}")).collect(),
            )
        })
        .collect()
}

/// The boot configurations must render and fit Compute Engine's metadata.
/// Members of a group differ only in names, addresses and index-dependent
/// values, so one member per group is rendered, and the whole group only
/// when that one comes within a margin of the limit; a configuration equal
/// to one rendered before is not rendered again. Also returns what it
/// rendered, by VM position, for [`build`].
fn boot_configuration_problems(
    model: &crate::model::Model,
) -> (Vec<Diagnostic>, Vec<Option<Arc<str>>>) {
    use crate::targets::cloud_init::{Renderer, USER_DATA_LIMIT};
    let mut renderer = Renderer::default();
    const MARGIN: usize = 16 * 1024;
    let mut out = Vec::new();
    let mut seen_groups = std::collections::BTreeSet::new();
    let mut render_group = std::collections::BTreeSet::new();
    let mut rendered = vec![None; model.vms.len()];
    for (vm, kept) in model.vms.iter().zip(&mut rendered) {
        let first_of_group = seen_groups.insert(vm.group.as_str());
        if !first_of_group && !render_group.contains(vm.group.as_str()) {
            continue;
        }
        match renderer.user_data(model, vm) {
            Ok(text) => {
                if text.len() + MARGIN > USER_DATA_LIMIT {
                    render_group.insert(vm.group.as_str());
                }
                *kept = Some(text);
            }
            Err(e) => {
                render_group.insert(vm.group.as_str());
                out.push(render_diag(&e));
            }
        }
    }
    (out, rendered)
}

fn render_diag(e: &crate::targets::cloud_init::RenderError) -> Diagnostic {
    use crate::targets::cloud_init::RenderError;
    let (code, label, help) = match e {
        RenderError::TooLarge { .. } => (
            Code::UserDataTooLarge,
            "its boot configuration is too large",
            "move large files into `config`s given to services, or split the VM's exports",
        ),
        RenderError::Template { .. } => (
            Code::TemplateError,
            "its boot configuration failed to render",
            "this is a bug in sdbc's templates; please report it with this program",
        ),
        _ => (
            Code::BadValue,
            "this value cannot go into the boot configuration",
            "use plain absolute paths and simple values",
        ),
    };
    Diagnostic::new(code, e.to_string(), e.span(), label).with_help(help)
}
