//! `sdbc apply FILE|PLANFILE` and `sdbc destroy FILE`: lock the state,
//! plan (or read a saved plan and check the state has not moved since),
//! show the plan, ask, then run it in dependency order with bounded
//! parallelism and a request budget, saving state after every step.
//! Ctrl-C stops starting new steps, lets the running ones finish, saves
//! and exits 130.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use super::common::{self, ExitStatus};
use super::deploy::{self, Loaded};
use super::progress::CliProgress;
use crate::diag::ColorChoice;
use crate::exec::apply::{ApplyReport, Executor, Executors, Outcome, Runner, StepCtx};
use crate::graph::{Layer, NodeId};

/// The `--target` that names the whole stack.
const STACK_TARGET: &str = "stack";
use crate::plan::{Goal, Plan};

/// Steps at once by default: enough to keep 20 writes a second going with
/// operations of about 5 s.
const DEFAULT_PARALLEL: usize = 100;

#[derive(clap::Args, Debug)]
pub struct Args {
    /// The program, or a plan saved by `sdbc plan --out`.
    #[arg(value_name = "FILE")]
    pub file: PathBuf,
    #[command(flatten)]
    pub run: RunArgs,
}

#[derive(clap::Args, Debug)]
pub struct DestroyArgs {
    /// The program.
    #[arg(value_name = "FILE")]
    pub file: PathBuf,
    /// Destroy only this resource (e.g. `gce.vm.worker-3`) and what depends
    /// on it; `stack` destroys the stack's services, secrets, configs and
    /// network and leaves the Swarm and the VMs.
    #[arg(long, value_name = "NODE")]
    pub target: Vec<String>,
    #[command(flatten)]
    pub run: RunArgs,
}

/// What `apply` and `destroy` share: asking, pacing, parameters.
#[derive(clap::Args, Debug)]
pub struct RunArgs {
    /// Change without asking (steps that destroy data still ask, unless
    /// --allow-data-loss).
    #[arg(long)]
    pub auto_approve: bool,
    /// Print what the run did as JSON on stdout (steps, outcomes, failure
    /// kinds, request counts).
    #[arg(long)]
    pub json: bool,
    /// Delete disks, or replace VMs with their boot disks, without asking.
    #[arg(long)]
    pub allow_data_loss: bool,
    /// Most steps running at once. The request budgets, not this, pace a
    /// run: a step mostly waits for its operation, so it takes many at once
    /// to use a write budget when operations last seconds.
    #[arg(long, default_value_t = DEFAULT_PARALLEL)]
    pub parallel: usize,
    /// Most mutating API requests per minute (Compute Engine's quotas are per minute).
    #[arg(long, value_name = "N")]
    pub writes_per_minute: Option<u32>,
    /// Most reading API requests per minute (default: 1200, or twice the
    /// write budget if that is more).
    #[arg(long, value_name = "N")]
    pub reads_per_minute: Option<u32>,
    /// Set a `param`: NAME=VALUE (repeatable).
    #[arg(long = "var", value_name = "NAME=VALUE", value_parser = common::parse_var)]
    pub vars: Vec<(String, String)>,
}

fn is_saved_plan(path: &Path) -> Option<Plan> {
    let text = std::fs::read_to_string(path).ok()?;
    text.trim_start()
        .starts_with('{')
        .then(|| Plan::from_json(&text).ok())
        .flatten()
}

pub fn run(args: Args, color: ColorChoice) -> ExitStatus {
    let saved = is_saved_plan(&args.file);
    let source = saved
        .as_ref()
        .map_or(args.file.clone(), |p| PathBuf::from(&p.source));
    let opts = RunOpts {
        auto_approve: args.run.auto_approve,
        allow_data_loss: args.run.allow_data_loss,
        json: args.run.json,
        parallel: args.run.parallel,
        writes: args.run.writes_per_minute,
        reads: args.run.reads_per_minute,
        verb: "apply",
        goal: Goal::Apply,
    };
    execute(
        &source,
        &args.run.vars,
        color,
        &opts,
        |loaded, fresh| match &saved {
            Some(plan)
                if plan.state_lineage != loaded.state.lineage
                    || plan.state_serial != loaded.state.serial =>
            {
                Err(format!(
                    "the state moved since this plan was made (serial {} -> {}); run `sdbc plan` again",
                    plan.state_serial, loaded.state.serial
                ))
            }
            Some(plan) => Ok(plan.clone()),
            None => Ok(fresh),
        },
    )
}

pub fn destroy(args: DestroyArgs, color: ColorChoice) -> ExitStatus {
    let opts = RunOpts {
        auto_approve: args.run.auto_approve,
        allow_data_loss: args.run.allow_data_loss,
        json: args.run.json,
        parallel: args.run.parallel,
        writes: args.run.writes_per_minute,
        reads: args.run.reads_per_minute,
        verb: "destroy",
        goal: Goal::Destroy,
    };
    let targets = args.target.clone();
    execute(
        &args.file,
        &args.run.vars,
        color,
        &opts,
        move |loaded, plan| {
            let known = loaded
                .state
                .resources
                .keys()
                .map(String::as_str)
                .chain(plan.changes.iter().map(|c| c.node.as_str()));
            // `stack`: every object of the stack, and nothing else.
            let stack: Vec<String> = loaded
                .state
                .resources
                .keys()
                .filter(|k| {
                    k.parse::<NodeId>()
                        .is_ok_and(|id| id.layer() == Layer::Stack)
                })
                .cloned()
                .collect();
            let named: Vec<String> = targets
                .iter()
                .filter(|t| *t != STACK_TARGET)
                .cloned()
                .collect();
            deploy::check_targets(&named, known)?;
            let whole_stack = named.len() < targets.len();
            // Known ids now, so they parse.
            let ids: Vec<NodeId> = named
                .iter()
                .chain(stack.iter().filter(|_| whole_stack))
                .filter_map(|t| t.parse().ok())
                .collect();
            if whole_stack && ids.is_empty() {
                return Err(String::from(
                    "--target stack: the state has no stack object to destroy",
                ));
            }
            Ok(plan.for_destroy(&ids, &loaded.state))
        },
    )
}

struct RunOpts {
    auto_approve: bool,
    allow_data_loss: bool,
    json: bool,
    parallel: usize,
    writes: Option<u32>,
    reads: Option<u32>,
    verb: &'static str,
    goal: Goal,
}

fn execute(
    source: &Path,
    vars: &[(String, String)],
    color: ColorChoice,
    opts: &RunOpts,
    choose: impl FnOnce(&Loaded, Plan) -> Result<Plan, String>,
) -> ExitStatus {
    let (mut loaded, project, _lock) = match deploy::load_locked(source, vars, opts.verb, color) {
        Ok(x) => x,
        Err(status) => return status,
    };
    let rt = match deploy::runtime(color) {
        Ok(rt) => rt,
        Err(status) => return status,
    };
    rt.block_on(async move {
        let client =
            match deploy::connect_with(&project, opts.parallel, opts.writes, opts.reads).await {
                Ok(c) => c,
                Err(e) => {
                    common::error_line(color, &format!("cannot reach Compute Engine: {e}"));
                    return ExitStatus::Errors;
                }
            };
        let before = (
            loaded.state.resources.clone(),
            loaded.state.operations.clone(),
        );
        let fresh = match deploy::make_plan(&mut loaded, Some(&client), opts.goal).await {
            Ok(p) => p,
            Err(e) => {
                common::error_line(color, &e);
                return ExitStatus::Errors;
            }
        };
        let plan = match choose(&loaded, fresh) {
            Ok(p) => p,
            Err(e) => {
                common::error_line(color, &e);
                return ExitStatus::Errors;
            }
        };
        let _ = std::io::stderr()
            .write_all(crate::plan::render::human(&plan, color == ColorChoice::Always).as_bytes());
        if !plan.has_changes() {
            // Refresh may have dropped resources that are gone (deleted by
            // a run killed before it saved), and operations left in flight
            // were settled: keep the state truthful.
            if (&loaded.state.resources, &loaded.state.operations) != (&before.0, &before.1)
                && let Err(e) = loaded.store.save(&mut loaded.state)
            {
                common::error_line(color, &e.to_string());
                return ExitStatus::Errors;
            }
            if opts.json {
                print_json(&ApplyReport::default(), &client);
            }
            return if plan.blocked() {
                ExitStatus::Errors
            } else {
                ExitStatus::Ok
            };
        }
        let question = if opts.goal == Goal::Destroy {
            "Destroy these resources?"
        } else {
            "Apply these changes?"
        };
        if !deploy::confirm(question, opts.auto_approve, color)
            || !deploy::confirm_data_loss(&plan, opts.allow_data_loss, color)
        {
            return ExitStatus::Errors;
        }
        let status = run_plan(&plan, &mut loaded, client, &project, opts, color).await;
        if opts.goal == Goal::Apply && status == ExitStatus::Ok {
            let shown = crate::plan::outputs::resolve(&loaded.outputs, &loaded.state, &[]);
            let _ = std::io::stdout().write_all(crate::plan::outputs::human(&shown).as_bytes());
        }
        status
    })
}

async fn run_plan(
    plan: &Plan,
    loaded: &mut Loaded,
    client: Arc<crate::exec::GceClient>,
    project: &str,
    opts: &RunOpts,
    color: ColorChoice,
) -> ExitStatus {
    let cancel = Arc::new(AtomicBool::new(false));
    let flag = cancel.clone();
    let progress = CliProgress::new(color);
    let running = progress.running();
    tokio::spawn(async move {
        while tokio::signal::ctrl_c().await.is_ok() {
            let again = flag.swap(true, Ordering::SeqCst);
            let message = if again {
                format!(
                    "\nstill waiting for the steps in flight to finish their operations: {}; \
                     they are not abandoned, so that the state records what they did (killing \
                     sdbc now leaves them to be settled by the next run)",
                    running.describe()
                )
            } else {
                String::from(
                    "\ninterrupted: finishing the steps in flight, then saving the state (no new step starts)",
                )
            };
            let _ = writeln!(std::io::stderr(), "{message}");
        }
    });
    // Saved before the first step: fixes the lineage and the project of a
    // new state on disk and gives this run an epoch of its own for its
    // request ids.
    loaded.state.project = Some(project.to_string());
    loaded.state.region = Some(loaded.region.clone());
    loaded.state.zone = Some(loaded.zone.clone());
    if let Err(e) = loaded.store.save(&mut loaded.state) {
        common::error_line(color, &e.to_string());
        return ExitStatus::Errors;
    }
    // The Swarm VMs get the stack's key (made the first time) at creation.
    let key = match stack_key(loaded) {
        Ok(k) => k,
        Err(e) => {
            common::error_line(color, &e);
            return ExitStatus::Errors;
        }
    };
    let gce = StepCtx {
        ssh_keys: key.as_ref().map(crate::exec::reach::ssh_keys_entry),
        client: client.clone(),
        project: project.to_string(),
        stack: loaded.stack.clone(),
        lineage: loaded.state.lineage.clone(),
        epoch: loaded.state.serial,
        assigned: Default::default(),
        in_flight: Default::default(),
    };
    let mut executors = Executors::default().with(Executor::Gce(gce.clone()));
    if let Some(key) = key
        && plan.changes.iter().any(|c| !c.node.kind().is_gce())
    {
        match cluster_executor(plan, loaded, gce, key) {
            Ok(cluster) => executors = executors.with(Executor::Cluster(cluster)),
            Err(e) => {
                common::error_line(color, &e);
                return ExitStatus::Errors;
            }
        }
    }
    let runner = Runner {
        executors,
        store: &loaded.store,
        parallel: opts.parallel,
        cancel: &cancel,
        progress: &progress,
    };
    let report = match runner.run(plan, &mut loaded.state).await {
        Ok(r) => r,
        Err(e) => {
            common::error_line(color, &e.to_string());
            return ExitStatus::Errors;
        }
    };
    progress.summary(&report, client.stats());
    if opts.json {
        print_json(&report, &client);
    }
    if report.interrupted {
        return ExitStatus::Interrupted;
    }
    if report
        .steps
        .iter()
        .any(|s| matches!(s.outcome, Outcome::Failed(_) | Outcome::Skipped(_)))
    {
        return ExitStatus::Errors;
    }
    ExitStatus::Ok
}

/// The stack's SSH key, made and stored the first time; `None` for a
/// program without Swarm VMs.
fn stack_key(loaded: &Loaded) -> Result<Option<russh::keys::ssh_key::PrivateKey>, String> {
    if loaded.cluster.members.is_empty() {
        return Ok(None);
    }
    let store = crate::state::SecretStore::for_source(&loaded.source, &loaded.stack)
        .map_err(|e| format!("the secrets store: {e}"))?;
    crate::exec::reach::stack_key(&store)
        .map(Some)
        .map_err(|e| e.to_string())
}

/// The executor of the Swarm and the stack, with the secrets' values from
/// the encrypted store.
fn cluster_executor(
    plan: &Plan,
    loaded: &Loaded,
    gce: StepCtx,
    key: russh::keys::ssh_key::PrivateKey,
) -> Result<crate::exec::cluster::ClusterCtx, String> {
    let store = crate::state::SecretStore::for_source(&loaded.source, &loaded.stack)
        .map_err(|e| format!("the secrets store: {e}"))?;
    let mut values = std::collections::BTreeMap::new();
    for name in &loaded.cluster.secrets {
        if let Some(v) = store
            .get(name)
            .map_err(|e| format!("secret `{name}`: {e}"))?
        {
            values.insert(name.clone(), v.expose().as_bytes().to_vec());
        }
    }
    let mut ctx = crate::exec::cluster::ClusterCtx::new(
        gce,
        key,
        loaded.cluster.members.clone(),
        loaded.cluster.objects.clone(),
        values,
    );
    ctx.whole_swarm_goes = plan.changes.iter().any(|c| {
        c.node.kind() == crate::graph::NodeKind::SwarmInit
            && c.action == crate::plan::Action::Delete
    });
    Ok(ctx)
}

/// The run's report as JSON on stdout (`--json`).
fn print_json(report: &ApplyReport, client: &crate::exec::GceClient) {
    let _ = std::io::stdout().write_all(report.to_json(client.stats()).as_bytes());
}
