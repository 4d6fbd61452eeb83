//! `sdbc import FILE NODE`: the one explicit way to take over a resource
//! sdbc did not make (a hand-made disk with data on it). It reads the
//! resource, shows how it differs from the program, and on confirmation
//! puts this stack's owner mark on it and records it in the state; the
//! differences then show in `sdbc plan` as changes back to the program.
//!
//! Only resources with labels (disks, addresses, VMs) can be imported:
//! networks, subnetworks and firewalls carry their mark in `description`,
//! which Compute Engine does not change in place. A resource another sdbc
//! stack made is refused: that stack's state still counts on it.

use std::io::Write;
use std::path::PathBuf;

use serde_json::{Value, json};

use super::common::{self, ExitStatus};
use super::deploy;
use crate::diag::ColorChoice;
use crate::exec::apply::{fill_body, state_of};
use crate::exec::{ApiCall, GceClient};
use crate::plan::{Action, Change, Desired};
use crate::targets::gce::owner::{self, Owner};

#[derive(clap::Args, Debug)]
pub struct Args {
    /// The program.
    #[arg(value_name = "FILE")]
    pub file: PathBuf,
    /// The program's resource to take over, e.g. `gce.disk.data`.
    #[arg(value_name = "NODE")]
    pub node: String,
    /// Take it over without asking.
    #[arg(long)]
    pub auto_approve: bool,
    /// Set a `param`: NAME=VALUE (repeatable).
    #[arg(long = "var", value_name = "NAME=VALUE", value_parser = common::parse_var)]
    pub vars: Vec<(String, String)>,
}

pub fn run(args: Args, color: ColorChoice) -> ExitStatus {
    let (mut loaded, project, _lock) =
        match deploy::load_locked(&args.file, &args.vars, "import", color) {
            Ok(x) => x,
            Err(status) => return status,
        };
    let fail = |message: &str| {
        common::error_line(color, message);
        ExitStatus::Errors
    };
    let known = loaded.desired.iter().map(|d| d.node.as_str());
    if let Err(e) = deploy::check_targets(std::slice::from_ref(&args.node), known) {
        return fail(&e.replace("--target", "resource"));
    }
    let Some(desired) = loaded.desired.iter().find(|d| d.node == args.node).cloned() else {
        return fail(&format!("`{}` is not in the program", args.node));
    };
    if loaded.state.resources.contains_key(desired.node.as_str()) {
        return fail(&format!(
            "`{}` is this stack's already (it is in the state)",
            desired.node
        ));
    }
    if !matches!(desired.kind.as_str(), "disk" | "address" | "instance") {
        return fail(&format!(
            "`{}` is a {}, which carries sdbc's owner mark in its description, and Compute \
             Engine cannot change that in place: rename it in the program, or delete the \
             existing one by hand and let apply make it",
            desired.node, desired.kind
        ));
    }
    let rt = match deploy::runtime(color) {
        Ok(rt) => rt,
        Err(status) => return status,
    };
    let lineage = loaded.state.lineage.clone();
    let stack = loaded.stack.clone();
    let result = rt.block_on(async {
        let client = deploy::connect(&project, 8, None)
            .await
            .map_err(|e| format!("cannot reach Compute Engine: {e}"))?;
        let path = fill_body(&json!(desired.path()), &project, &lineage);
        let path = path.as_str().unwrap_or_default().to_string();
        let actual = client
            .get(&path)
            .await
            .map_err(|e| e.to_string())?
            .ok_or_else(|| format!("there is no `{path}` to import; `sdbc apply` makes it"))?;
        match Owner::of(&actual) {
            Owner::Stack { stack: s, .. }
                if s != stack && s != crate::targets::gce::names::label_value(&stack) =>
            {
                return Err(format!(
                    "`{path}` belongs to {}: that stack's state counts on it; destroy it \
                     there, or rename it in this program",
                    Owner::of(&actual)
                ));
            }
            _ => {}
        }
        show(&desired, &path, &actual, &project, &lineage);
        if !deploy::confirm("Take it over?", args.auto_approve, color) {
            return Ok(None);
        }
        mark(&client, &desired, &path, &project, &lineage).await?;
        let now = client
            .get(&path)
            .await
            .map_err(|e| e.to_string())?
            .ok_or_else(|| format!("`{path}` vanished while it was imported"))?;
        Ok(Some(state_of(
            &as_change(&desired),
            &desired.body.to_value(),
            &now,
        )))
    });
    let entry = match result {
        Ok(Some(entry)) => entry,
        Ok(None) => return ExitStatus::Errors,
        Err(e) => return fail(&e),
    };
    loaded
        .state
        .resources
        .insert(desired.node.to_string(), entry);
    loaded.state.project = Some(project);
    if let Err(e) = loaded.store.save(&mut loaded.state) {
        return fail(&e.to_string());
    }
    let _ = writeln!(
        std::io::stderr(),
        "imported {}: it carries this stack's mark and is in the state; `sdbc plan` shows \
         how it differs from the program",
        desired.node
    );
    ExitStatus::Ok
}

/// What the program would change on the resource.
fn show(desired: &Desired, path: &str, actual: &Value, project: &str, lineage: &str) {
    let sent = fill_body(&desired.body.to_value(), project, lineage);
    let diffs: Vec<_> = crate::plan::drift(&sent, actual)
        .into_iter()
        .filter(|d| !is_mark(&d.path))
        .collect();
    let mut err = std::io::stderr().lock();
    let _ = writeln!(
        err,
        "{} is {path}, made by {}",
        desired.node,
        Owner::of(actual)
    );
    if diffs.is_empty() {
        let _ = writeln!(err, "it matches the program");
    } else {
        let _ = writeln!(
            err,
            "it differs from the program (the next apply changes these):"
        );
        for d in diffs {
            let show = |v: &Option<Value>| {
                v.as_ref()
                    .map_or(String::from("(none)"), crate::plan::render::show)
            };
            let _ = writeln!(
                err,
                "  ~ {}: {} -> {}",
                d.path,
                show(&d.before),
                show(&d.after)
            );
        }
    }
}

fn is_mark(path: &str) -> bool {
    [
        owner::MANAGED_LABEL,
        owner::STACK_LABEL,
        owner::LINEAGE_LABEL,
    ]
    .iter()
    .any(|k| path == format!("labels.{k}"))
}

/// Adds the owner mark to the resource's labels, keeping the others.
async fn mark(
    client: &GceClient,
    desired: &Desired,
    path: &str,
    project: &str,
    lineage: &str,
) -> Result<(), String> {
    let sent = fill_body(&desired.body.to_value(), project, lineage);
    for _ in 0..5 {
        let current = client
            .get(path)
            .await
            .map_err(|e| e.to_string())?
            .ok_or_else(|| format!("`{path}` vanished while it was imported"))?;
        let mut labels = current.get("labels").cloned().unwrap_or(json!({}));
        for k in [
            owner::MANAGED_LABEL,
            owner::STACK_LABEL,
            owner::LINEAGE_LABEL,
        ] {
            if let (Some(map), Some(v)) = (
                labels.as_object_mut(),
                sent.pointer(&format!("/labels/{k}")),
            ) {
                map.insert(k.to_string(), v.clone());
            }
        }
        let fingerprint = current
            .get("labelFingerprint")
            .cloned()
            .unwrap_or(Value::Null);
        let body = json!({ "labels": labels, "labelFingerprint": fingerprint });
        let id = crate::exec::request_id(
            lineage,
            desired.node.as_str(),
            &format!("import:{fingerprint}"),
        );
        let call = ApiCall::post(format!("{path}/setLabels"), body).with_request_id(id);
        match client.execute(call).await {
            Ok(_) => return Ok(()),
            Err(e) if e.needs_refetch() => continue,
            Err(e) => return Err(e.to_string()),
        }
    }
    Err(format!("`{path}`: its labels kept changing"))
}

fn as_change(d: &Desired) -> Change {
    Change {
        node: d.node.clone(),
        kind: d.kind.clone(),
        name: d.name.clone(),
        location: d.location.clone(),
        action: Action::Adopt,
        reason: None,
        diffs: Vec::new(),
        data_loss: None,
        collection: d.collection.clone(),
        body: Some(d.body.clone()),
        depends_on: d.depends_on.clone(),
    }
}
