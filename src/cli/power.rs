//! `sdbc start|stop FILE [--target NODE]`: start or stop the VMs in state.

use crate::graph::{NodeId, NodeKind};
use std::io::Write;
use std::path::PathBuf;

use super::common::{self, ExitStatus};
use super::deploy;
use crate::diag::ColorChoice;
use crate::exec::ApiCall;

#[derive(clap::Args, Debug)]
pub struct Args {
    /// The program whose VMs (as its state records them) to start or stop.
    #[arg(value_name = "FILE")]
    pub file: PathBuf,
    /// Only these VMs (e.g. `gce.vm.worker-0`).
    #[arg(long, value_name = "NODE")]
    pub target: Vec<String>,
}

pub fn run(args: Args, verb: &str, color: ColorChoice) -> ExitStatus {
    let (loaded, project, _lock) = match deploy::load_locked(&args.file, &[], verb, color) {
        Ok(x) => x,
        Err(status) => return status,
    };
    let known = loaded
        .state
        .resources
        .keys()
        .map(String::as_str)
        .filter(|n| is_vm(n));
    if let Err(e) = deploy::check_targets(&args.target, known) {
        common::error_line(color, &e);
        return ExitStatus::Errors;
    }
    let vms: Vec<(String, String)> = loaded
        .state
        .resources
        .iter()
        .filter(|(node, r)| {
            is_vm(node)
                && (args.target.is_empty() || args.target.contains(node))
                && !r.collection.is_empty()
        })
        .map(|(node, r)| {
            (
                node.clone(),
                format!(
                    "{}/{}/{verb}",
                    r.collection.replace("{project}", &project),
                    r.name
                ),
            )
        })
        .collect();
    if vms.is_empty() {
        let _ = writeln!(std::io::stderr(), "no VM in the state to {verb}");
        return ExitStatus::Ok;
    }
    let rt = match deploy::runtime(color) {
        Ok(rt) => rt,
        Err(status) => return status,
    };
    rt.block_on(async {
        let client = match deploy::connect(&project, 8, None).await {
            Ok(c) => c,
            Err(e) => {
                common::error_line(color, &format!("cannot reach Compute Engine: {e}"));
                return ExitStatus::Errors;
            }
        };
        let mut tasks = tokio::task::JoinSet::new();
        let (lineage, serial) = (loaded.state.lineage.clone(), loaded.state.serial);
        let started = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos());
        for (node, path) in vms {
            let c = client.clone();
            // A retried start or stop must not act twice; a later run is a new request.
            let rid =
                crate::exec::request_id(&lineage, &node, &format!("{verb}:{serial}:{started}"));
            let call = ApiCall::new("POST", path).with_request_id(rid);
            tasks.spawn(async move { (node, c.execute(call).await) });
        }
        let mut status = ExitStatus::Ok;
        while let Some(Ok((node, result))) = tasks.join_next().await {
            match result {
                Ok(_) => {
                    let _ = writeln!(std::io::stderr(), "{verb}: {node} done");
                }
                Err(e) => {
                    common::error_line(color, &format!("{verb} {node}: {e}"));
                    status = ExitStatus::Errors;
                }
            }
        }
        status
    })
}

/// Whether a state key is a VM's node id.
fn is_vm(node: &str) -> bool {
    node.parse::<NodeId>()
        .is_ok_and(|id| id.kind() == NodeKind::Vm)
}
