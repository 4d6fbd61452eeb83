//! What `plan`, `apply`, `destroy`, `start` and `stop` share: loading the
//! program (its Compute Engine resources, its Swarm members and its stack)
//! and its state, connecting to Compute Engine when credentials exist,
//! refreshing, asking the Swarm's first manager about the stack, planning,
//! and asking before changing anything. `SDBC_LAYERS` (e.g. `cloud,hosts`)
//! limits a run to some layers of the graph.

use std::io::{BufRead, IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use super::common::{self, DiagFormat};
use crate::diag::ColorChoice;
use crate::exec::{ClientConfig, Endpoint, GceClient, TokenSource};
use crate::graph::Layer;
use crate::plan::{Desired, Found, Goal, Inputs, Plan};
use crate::state::{State, StateStore};

/// A program, checked and built, with its state.
pub struct Loaded {
    pub source: PathBuf,
    pub stack: String,
    pub project: Option<String>,
    /// The program's default region and zone (recorded in the state).
    pub region: String,
    pub zone: String,
    /// Every wanted resource of the run's layers: Compute Engine's, then
    /// the Swarm members and the stack objects. [`make_plan`] moves the
    /// bodies its plan sends into the plan (leaving `null` here).
    pub desired: Vec<Desired>,
    /// The Swarm and the stack as the executor needs them.
    pub cluster: super::cluster_program::ClusterProgram,
    /// The layers this run plans and runs (`SDBC_LAYERS`, default all).
    pub layers: Vec<Layer>,
    pub store: StateStore,
    pub state: State,
    /// The program's `output`s (values not resolved against state).
    pub outputs: Vec<crate::model::Output>,
}

/// Loads, checks and builds the program; `Err(status)` after saying why.
pub fn load(
    path: &Path,
    vars: &[(String, String)],
    color: ColorChoice,
) -> Result<Loaded, super::ExitStatus> {
    load_with(path, vars, color, false)
}

/// [`load`]; with `generate`, the secrets that have no value yet are
/// generated first (apply), so the stack's object names are final.
pub fn load_with(
    path: &Path,
    vars: &[(String, String)],
    color: ColorChoice,
    generate: bool,
) -> Result<Loaded, super::ExitStatus> {
    let Some(checked) = common::load_checked(path, vars, color) else {
        return Err(super::ExitStatus::Usage);
    };
    let sources = &checked.analysis.sources;
    common::emit(
        sources,
        &checked.analysis.diagnostics,
        DiagFormat::Human,
        color,
    );
    if checked.analysis.has_errors() {
        return Err(super::ExitStatus::Errors);
    }
    let model = &checked.analysis.model;
    if generate {
        super::cluster_program::generate_secrets(path, model).map_err(|e| {
            common::error_line(color, &e);
            super::ExitStatus::Usage
        })?;
    }
    let digests = common::secret_digests(path, model);
    let built = crate::pipeline::build(&checked, &digests).map_err(|d| {
        common::emit(sources, &d, DiagFormat::Human, color);
        super::ExitStatus::Errors
    })?;
    let store = StateStore::for_source(path, &model.stack);
    let state = store.load().map_err(|e| {
        common::error_line(color, &e.to_string());
        super::ExitStatus::Usage
    })?;
    let layers = super::cluster_program::layers().map_err(|e| {
        common::error_line(color, &e);
        super::ExitStatus::Usage
    })?;
    let names = crate::targets::stack::ObjectNames::for_model(model, &digests);
    // `build` wrote the stack file from the same names, so this succeeds.
    let objects = crate::targets::stack::engine::stack_objects(model, &names).map_err(|e| {
        common::error_line(color, &e.to_string());
        super::ExitStatus::Errors
    })?;
    let mut desired = crate::plan::into_desired(built.requests);
    desired.extend(crate::plan::cluster::cluster_desired(
        &checked.graph,
        model,
        &names,
        &objects,
    ));
    crate::plan::limit_desired(&mut desired, &layers);
    let cluster = super::cluster_program::cluster_program(model, objects);
    let project = std::env::var(crate::exec::PROJECT_ENV)
        .ok()
        .filter(|p| !p.trim().is_empty())
        .or_else(|| model.gce.project.clone());
    if let Some(p) = &project {
        store.check_project(&state, p).map_err(|e| {
            common::error_line(color, &e.to_string());
            super::ExitStatus::Usage
        })?;
    }
    let loaded = Loaded {
        source: path.to_path_buf(),
        stack: model.stack.clone(),
        project,
        region: model.gce.region.clone(),
        zone: model.gce.zone.clone(),
        desired,
        cluster,
        layers,
        store,
        state,
        outputs: model.outputs.clone(),
    };
    // The command ends soon after: freeing the model and the graph one
    // allocation at a time would cost a large program several percent.
    std::mem::forget(checked);
    Ok(loaded)
}

/// Whether any credentials are configured, or needed none (a loopback
/// endpoint), so plan can stay offline otherwise.
pub fn credentials_configured() -> bool {
    let set = |k: &str| std::env::var(k).is_ok_and(|v| !v.trim().is_empty());
    if set(crate::exec::ACCESS_TOKEN_ENV) || set("GOOGLE_APPLICATION_CREDENTIALS") {
        return true;
    }
    if set(crate::exec::ENDPOINT_ENV) && Endpoint::from_env(None).is_ok_and(|e| e.is_loopback()) {
        return true;
    }
    let home = std::env::var_os("HOME")
        .map(PathBuf::from)
        .unwrap_or_default();
    home.join(".config/gcloud/application_default_credentials.json")
        .exists()
}

/// A client for the configured endpoint and project.
pub async fn connect(
    project: &str,
    parallel: usize,
    writes_per_minute: Option<u32>,
) -> Result<Arc<GceClient>, String> {
    connect_with(project, parallel, writes_per_minute, None).await
}

/// [`connect`] with a read budget too. Without one, reads get the default
/// budget, or twice the write budget if that is more: every change costs
/// about two reads (its operation's `wait` and reading the result back), so
/// a read budget below twice the writes would pace a run instead of the
/// write budget the user asked for.
pub async fn connect_with(
    project: &str,
    parallel: usize,
    writes_per_minute: Option<u32>,
    reads_per_minute: Option<u32>,
) -> Result<Arc<GceClient>, String> {
    let endpoint = Endpoint::from_env(Some(project)).map_err(|e| e.to_string())?;
    let auth = TokenSource::for_endpoint(&endpoint)
        .await
        .map_err(|e| e.to_string())?;
    let mut config = ClientConfig {
        max_in_flight: parallel.max(1) * 2,
        ..ClientConfig::default()
    };
    if let Some(w) = writes_per_minute {
        config.budget.write = Some(crate::exec::Rate::per_minute(w));
    }
    let default_reads = config.budget.read.map_or(0, |r| r.per_minute);
    let reads = reads_per_minute.or_else(|| {
        writes_per_minute
            .map(|w| w.saturating_mul(2))
            .filter(|r| *r > default_reads)
    });
    if let Some(r) = reads {
        config.budget.read = Some(crate::exec::Rate::per_minute(r));
    }
    GceClient::new(endpoint, auth, config)
        .map(|c| Arc::new(c.with_retry_observer(Arc::new(super::retries::notes()))))
        .map_err(|e| e.to_string())
}

/// Refreshes (when asked and possible) and plans for `goal`.
pub async fn make_plan(
    l: &mut Loaded,
    client: Option<&GceClient>,
    goal: Goal,
) -> Result<Plan, String> {
    let wanted = goal.wanted(&l.desired);
    if goal == Goal::Apply && l.layers.contains(&Layer::Swarm) {
        super::cluster_program::refuse_quorum_loss(&l.state, wanted)?;
    }
    // Compute Engine's refresh reads only Compute Engine's resources.
    let gce: Vec<&Desired> = l
        .desired
        .iter()
        .filter(|d| d.node.kind().is_gce())
        .collect();
    let mut found: Vec<Found> = Vec::new();
    let mut conflicts = Vec::new();
    let mut drift = std::collections::BTreeMap::new();
    let refreshed = match (client, &l.project) {
        (Some(c), Some(project)) => {
            // Every collection of the program is listed, even when less is
            // wanted (destroy wants nothing): what a killed run made before
            // saving it is found there.
            for note in crate::exec::refresh::settle(c, &mut l.state).await {
                let _ = writeln!(std::io::stderr(), "note: {note}");
            }
            let r = crate::exec::refresh::refresh(c, project, &l.stack, &gce, &mut l.state)
                .await
                .map_err(|e| format!("refresh failed: {e}"))?;
            found = r.untracked;
            drift = r.drift;
            // Only what this run would create or touch is a conflict.
            let wanted_nodes: std::collections::HashSet<&str> =
                wanted.iter().map(|d| d.node.as_str()).collect();
            conflicts = r
                .conflicts
                .into_iter()
                .filter(|c| {
                    wanted_nodes.contains(c.node.as_str())
                        || l.state.resources.contains_key(&c.node)
                })
                .collect();
            true
        }
        _ => false,
    };
    let mut plan = crate::plan::make(&Inputs {
        stack: &l.stack,
        project: l.project.clone(),
        wanted,
        state: &l.state,
        refreshed,
        found: &found,
    });
    crate::plan::add_drift(&mut plan, &drift);
    crate::plan::cluster::rejoin_new_vms(&mut plan, wanted);
    crate::plan::cluster::rejoin_restarted_managers(&mut plan, wanted);
    plan.limit_to_layers(&l.layers);
    crate::exec::cluster::plan::diffs_from_state(&mut plan, &l.state);
    if refreshed && goal == Goal::Apply && l.layers.contains(&Layer::Stack) {
        let key = super::cluster_program::stack_key_if_any(l);
        let probe = crate::exec::cluster::plan::refine(
            &mut plan,
            &l.state,
            wanted,
            &l.cluster.objects,
            key.as_ref(),
            l.cluster.first_manager.as_deref(),
        )
        .await
        .map_err(|e| e.to_string())?;
        if let Some(note) = probe {
            let _ = writeln!(std::io::stderr(), "note: {note}");
        }
    }
    // The plan owns the bodies it sends from here on.
    plan.attach_bodies(&mut l.desired);
    plan.conflicts = conflicts;
    plan.source = l.source.display().to_string();
    plan.outputs = crate::plan::outputs::resolve(&l.outputs, &l.state, &plan.changes);
    Ok(plan)
}

/// Asks on a terminal; refuses without one unless `auto_approve`.
pub fn confirm(question: &str, auto_approve: bool, color: ColorChoice) -> bool {
    if auto_approve {
        return true;
    }
    if !std::io::stdin().is_terminal() {
        common::error_line(
            color,
            "refusing to change anything without a terminal to ask on; pass --auto-approve",
        );
        return false;
    }
    let _ = write!(
        std::io::stderr(),
        "{question} Only 'yes' will be accepted: "
    );
    let _ = std::io::stderr().flush();
    let mut answer = String::new();
    let _ = std::io::stdin().lock().read_line(&mut answer);
    if answer.trim() == "yes" {
        true
    } else {
        common::error_line(color, "cancelled: nothing was changed");
        false
    }
}

/// Asks again for the steps of `plan` that destroy data, even after
/// `--auto-approve`; without a terminal only `allow` lets them through.
pub fn confirm_data_loss(plan: &Plan, allow: bool, color: ColorChoice) -> bool {
    let losing: Vec<&str> = plan.data_loss().map(|c| c.node.as_str()).collect();
    if losing.is_empty() || allow {
        return true;
    }
    let list = losing.join(", ");
    if !std::io::stdin().is_terminal() {
        common::error_line(
            color,
            &format!(
                "refusing to destroy data without asking ({list}); nothing was changed: \
                 pass --allow-data-loss if that is what you want"
            ),
        );
        return false;
    }
    confirm(
        &format!("These steps destroy data: {list}. Go ahead?"),
        false,
        color,
    )
}

/// A multi-threaded runtime for the network work; `Err(status)` after saying why not.
pub fn runtime(color: ColorChoice) -> Result<tokio::runtime::Runtime, super::ExitStatus> {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|e| {
            common::error_line(color, &format!("cannot start: {e}"));
            super::ExitStatus::Usage
        })
}

/// The program loaded, its project known and its state locked for `verb`;
/// `Err(status)` after saying why not.
pub fn load_locked(
    path: &Path,
    vars: &[(String, String)],
    verb: &str,
    color: ColorChoice,
) -> Result<(Loaded, String, crate::state::LockGuard), super::ExitStatus> {
    let mut loaded = load_with(path, vars, color, verb == "apply")?;
    let Some(project) = loaded.project.clone() else {
        common::error_line(
            color,
            "no project: set GOOGLE_CLOUD_PROJECT or `gce { project = \"…\" }`",
        );
        return Err(super::ExitStatus::Usage);
    };
    let lock = loaded.store.lock(&format!("sdbc {verb}")).map_err(|e| {
        common::error_line(color, &e.to_string());
        super::ExitStatus::Errors
    })?;
    if let Some(stale) = lock.took_over() {
        let _ = writeln!(std::io::stderr(), "warning: {stale}");
    }
    // The state may have changed while another run held the lock.
    loaded.state = loaded
        .store
        .load()
        .and_then(|s| loaded.store.check_project(&s, &project).map(|()| s))
        .map_err(|e| {
            common::error_line(color, &e.to_string());
            super::ExitStatus::Usage
        })?;
    Ok((loaded, project, lock))
}

/// `Err` naming every `--target` that is not in `known`, each with the
/// closest known names (same last part, or spelled alike).
pub fn check_targets<'a>(
    targets: &[String],
    known: impl IntoIterator<Item = &'a str> + Clone,
) -> Result<(), String> {
    let mut problems = Vec::new();
    for t in targets {
        if known.clone().into_iter().any(|k| k == t) {
            continue;
        }
        let tail = t.rsplit('.').next().unwrap_or(t);
        let mut near: Vec<&str> = known
            .clone()
            .into_iter()
            .filter(|k| k.rsplit('.').next() == Some(tail))
            .collect();
        if let Some(c) = crate::diag::closest(t, known.clone())
            && !near.contains(&c)
        {
            near.push(c);
        }
        let hint = if near.is_empty() {
            String::from("no resource of the state has a similar name")
        } else {
            let quoted: Vec<String> = near.iter().map(|n| format!("`{n}`")).collect();
            format!("did you mean {}?", quoted.join(" or "))
        };
        problems.push(format!("unknown --target `{t}`: {hint}"));
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(problems.join("\n"))
    }
}
