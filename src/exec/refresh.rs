//! Refreshing state from the API before planning: one list per collection
//! (type and location), unfiltered, instead of one get per resource.
//! Resources gone from Compute Engine leave the state; resources that carry
//! this stack's and this state's owner mark but are missing from state (a
//! run died between the call and the save) are reported so the plan adopts
//! them instead of creating them again, or deletes them if the program no
//! longer wants them; resources under the program's names with any other
//! mark (or none) are reported as conflicts, never taken. Every managed
//! field of a tracked resource is compared with what sdbc last sent
//! ([`drift`]), so that changes made outside sdbc are planned back.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value;

use super::apply::fill_body;
use super::{GceClient, GceError};
use crate::plan::{AttrDiff, Conflict, Desired, Found, drift, node_id, parse_collection};
use crate::state::State;
use crate::targets::gce::owner::Owner;

#[derive(Debug, Default, Clone)]
pub struct Refreshed {
    /// Nodes removed from state because Compute Engine no longer has them.
    pub gone: BTreeSet<String>,
    pub untracked: Vec<Found>,
    /// Resources under the program's names (or tracked by the state) that
    /// carry another owner's mark, or none.
    pub conflicts: Vec<Conflict>,
    /// Managed fields changed outside sdbc, by node: from the actual value
    /// back to what sdbc last sent.
    pub drift: BTreeMap<String, Vec<AttrDiff>>,
    /// List calls made.
    pub lists: usize,
}

/// Refreshes `state` in place (with `{project}` replaced by `project` in
/// collection paths) and returns what it found. Every collection is listed
/// whole (a page holds 500 resources, so this costs far fewer requests
/// than a get per resource) and each resource's owner mark is read: only
/// those of this stack and this state's lineage count as the stack's.
pub async fn refresh(
    client: &GceClient,
    project: &str,
    stack: &str,
    wanted: &[&Desired],
    state: &mut State,
) -> Result<Refreshed, GceError> {
    let mut collections: BTreeSet<String> = wanted.iter().map(|d| d.collection.clone()).collect();
    collections.extend(state.resources.values().map(|r| r.collection.clone()));
    let wanted_nodes: BTreeSet<&str> = wanted.iter().map(|d| d.node.as_str()).collect();
    let instance_names: BTreeSet<String> = wanted
        .iter()
        .filter(|d| d.kind == "instance")
        .map(|d| d.name.clone())
        .chain(
            state
                .resources
                .values()
                .filter(|r| r.collection.ends_with("/instances"))
                .map(|r| r.name.clone()),
        )
        .collect();
    let lineage = state.lineage.clone();
    let mut out = Refreshed::default();
    for collection in collections {
        let Some((kind, _)) = parse_collection(&collection) else {
            continue;
        };
        let real = collection.replace("{project}", project);
        let items = client.list(&real, None).await?;
        out.lists += 1;
        let mut present: BTreeMap<String, &Value> = BTreeMap::new();
        for item in &items {
            if let Some(name) = item.get("name").and_then(Value::as_str) {
                present.insert(name.to_string(), item);
            }
        }
        let tracked: Vec<(String, String)> = state
            .resources
            .iter()
            .filter(|(_, r)| r.collection == collection)
            .map(|(n, r)| (n.clone(), r.name.clone()))
            .collect();
        let conflict = |node: &str, name: &str, item: &Value| Conflict {
            node: node.to_string(),
            kind: kind.to_string(),
            name: name.to_string(),
            collection: real.clone(),
            owner: Owner::of(item),
        };
        for (node, name) in &tracked {
            match present.get(name) {
                None => {
                    state.resources.remove(node);
                    out.gone.insert(node.clone());
                }
                Some(item)
                    if Owner::of(item).is(stack, &lineage)
                        || Owner::of(item).is_unlineaged(stack) =>
                {
                    update_assigned(state, node, item);
                    if let Some(r) = state.resources.get(node) {
                        let sent = fill_body(&r.attributes.value(), project, &lineage);
                        let changed = drift(&sent, item);
                        if !changed.is_empty() {
                            out.drift.insert(node.clone(), changed);
                        }
                    }
                }
                Some(item) => out.conflicts.push(conflict(node, name, item)),
            }
        }
        let tracked_names: BTreeSet<&str> = tracked.iter().map(|(_, n)| n.as_str()).collect();
        for (name, item) in present {
            let Some(node) = node_id(kind, &name) else {
                continue;
            };
            let is_boot_disk = kind == "disk" && instance_names.contains(&name);
            if tracked_names.contains(name.as_str()) || is_boot_disk {
                continue;
            }
            if Owner::of(item).is(stack, &lineage) {
                out.untracked.push(Found {
                    node,
                    kind: kind.to_string(),
                    name,
                    collection: collection.clone(),
                });
            } else if wanted_nodes.contains(node.as_str()) {
                out.conflicts.push(conflict(node.as_str(), &name, item));
            }
        }
    }
    Ok(out)
}

/// Waits for the operations an earlier run left in flight (recorded in the
/// state when they started), so that refresh sees what they made or
/// deleted; returns one line per operation for the user. An insert that
/// found its name taken and a delete that found the resource gone are
/// settled like finished ones (refresh then reads the owner mark). An
/// operation that cannot be followed stays in the state for the next run.
pub async fn settle(client: &GceClient, state: &mut State) -> Vec<String> {
    let mut notes = Vec::new();
    for (node, op) in std::mem::take(&mut state.operations) {
        let outcome = match client.wait_operation(op.operation.clone()).await {
            Ok(_) => String::from("it finished"),
            Err(e) if op.kind == "insert" && e.is_already_exists() => {
                String::from("the name was taken")
            }
            Err(e) if op.kind == "delete" && e.is_not_found() => {
                String::from("it was gone already")
            }
            Err(e @ GceError::Operation { .. }) => format!("it failed: {e}"),
            Err(e) => {
                notes.push(format!(
                    "the {} of `{node}` left running by an earlier run cannot be followed ({e}); \
                     the next run tries again",
                    op.kind
                ));
                state.operations.insert(node, op);
                continue;
            }
        };
        notes.push(format!(
            "waited for the {} of `{node}` left running by an earlier run: {outcome}",
            op.kind
        ));
    }
    notes
}

fn update_assigned(state: &mut State, node: &str, item: &Value) {
    let Some(r) = state.resources.get_mut(node) else {
        return;
    };
    let s = |p: &str| item.pointer(p).and_then(Value::as_str).map(str::to_string);
    if let Some(a) = s("/address") {
        r.assigned.insert("address".into(), a);
    }
    if let Some(ip) = s("/networkInterfaces/0/accessConfigs/0/natIP") {
        r.assigned.insert("natIP".into(), ip.clone());
        r.assigned.insert("external_ip".into(), ip);
    }
    r.fingerprint = s("/labelFingerprint")
        .or_else(|| s("/metadata/fingerprint"))
        .or(r.fingerprint.take());
}
