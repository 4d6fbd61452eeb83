//! What one step of a plan does against the API: create, update (labels,
//! metadata, a disk's size), update with restart (stop, set machine type,
//! start), delete, adopt. Before taking, changing or deleting a resource it
//! checks the resource's owner mark (see `targets::gce::owner`). Each mutating call carries a `requestId` derived from the state
//! lineage, the run's epoch, the node and the change, so a retried call
//! cannot act twice. The epoch (the state serial saved when the run
//! started) makes every run's ids new: Compute Engine answers a repeated
//! id with the first call's operation, even a finished or failed one, so
//! ids that outlive a run would turn a later delete, a create after a
//! destroy, a second stop, or a retry after an operation error into a
//! no-op. A call resumed by a later run cannot duplicate anything either:
//! names are unique, so a create that already happened answers 409
//! `alreadyExists` and is adopted.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use super::in_flight::InFlight;
use super::keep::{keep_others_items, keep_others_labels};
use crate::exec::{ApiCall, ErrorKind, GceClient, GceError, operation, request_id};
use crate::graph::NodeId;
use crate::plan::{Action, Change};
use crate::state::{PendingOperation, ResourceState};
use crate::targets::gce::{owner, refs};

/// What a step is about to do with an existing resource.
#[derive(Clone, Copy)]
enum Act {
    /// Take it into the state (after a 409, or adopting).
    TakeOver,
    /// Change a resource the state tracks.
    Change,
    /// Delete a resource the state tracks (or refresh found as the stack's).
    Delete,
}

impl Act {
    fn refused(self) -> &'static str {
        match self {
            Act::TakeOver => "does not take it over",
            Act::Change => "does not change it",
            Act::Delete => "does not delete it",
        }
    }
}

/// `node -> values Compute Engine assigned` (for `${node.field}` placeholders).
pub type Assigned = Arc<Mutex<BTreeMap<String, BTreeMap<String, String>>>>;

/// What a step needs to know besides its change. Cheap to clone into a task.
#[derive(Clone)]
pub struct StepCtx {
    pub client: Arc<GceClient>,
    pub project: String,
    /// The stack whose mark a resource must carry to be changed.
    pub stack: String,
    pub lineage: String,
    /// Differs between runs of the same lineage (see the module doc).
    pub epoch: u64,
    pub assigned: Assigned,
    /// Inserts and deletes started and not yet seen finished.
    pub in_flight: InFlight,
    /// The `ssh-keys` metadata value for the Swarm VMs (the stack key's
    /// public half), in place of [`crate::targets::gce::SSH_KEYS`].
    pub ssh_keys: Option<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum StepError {
    #[error(transparent)]
    Api(#[from] GceError),
    #[error("{0}")]
    Unresolved(#[from] refs::Unresolved),
    /// The resource exists but carries another owner's mark (or none).
    #[error(
        "`{node}` ({path}) belongs to {owner}, not to this stack's state, so sdbc {refused}; \
         rename it in the program, or take it over with `sdbc import FILE {node}`"
    )]
    NotOurs {
        node: NodeId,
        path: String,
        owner: owner::Owner,
        refused: &'static str,
    },
    /// The plan refused the change; the reason.
    #[error("{0}")]
    Refused(String),
    #[error("{0}")]
    Other(String),
    #[error("nothing runs steps of the {} layer in this version", .0.as_str())]
    NoExecutor(crate::graph::Layer),
}

impl StepError {
    /// What kind of failure it is.
    pub fn kind(&self) -> ErrorKind {
        match self {
            StepError::Api(e) => e.kind(),
            StepError::Unresolved(_) => ErrorKind::NotFound,
            StepError::NotOurs { .. } => ErrorKind::NotOwned,
            StepError::Refused(_) => ErrorKind::Refused,
            StepError::NoExecutor(_) => ErrorKind::Unsupported,
            StepError::Other(_) => ErrorKind::Other,
        }
    }
}

/// The project in place of the `{project}` placeholder.
fn with_project(s: &str, project: &str) -> String {
    s.replace("{project}", project)
}

/// `v` with the project and the state lineage in place of their
/// placeholders (the owner mark carries the lineage).
pub fn fill_body(v: &Value, project: &str, lineage: &str) -> Value {
    match v {
        Value::String(s) => Value::String(owner::with_lineage(&with_project(s, project), lineage)),
        Value::Array(a) => Value::Array(a.iter().map(|x| fill_body(x, project, lineage)).collect()),
        Value::Object(o) => Value::Object(
            o.iter()
                .map(|(k, x)| (k.clone(), fill_body(x, project, lineage)))
                .collect(),
        ),
        other => other.clone(),
    }
}

/// `v` with the stack key's `ssh-keys` value in place of its placeholder.
fn with_ssh_keys(v: Value, keys: &str) -> Value {
    match v {
        Value::String(s) if s == crate::targets::gce::SSH_KEYS => Value::String(keys.to_string()),
        Value::Array(a) => Value::Array(a.into_iter().map(|x| with_ssh_keys(x, keys)).collect()),
        Value::Object(o) => Value::Object(
            o.into_iter()
                .map(|(k, x)| (k, with_ssh_keys(x, keys)))
                .collect(),
        ),
        other => other,
    }
}

fn digest(parts: &[&str]) -> String {
    let mut h = Sha256::new();
    for p in parts {
        h.update(p.as_bytes());
        h.update([0]);
    }
    h.finalize()
        .iter()
        .take(16)
        .map(|b| format!("{b:02x}"))
        .collect()
}

impl StepCtx {
    fn fill(&self, v: &Value) -> Value {
        let filled = fill_body(v, &self.project, &self.lineage);
        match &self.ssh_keys {
            Some(keys) => with_ssh_keys(filled, keys),
            None => filled,
        }
    }

    fn rid(&self, node: &NodeId, what: &str, body: &Value) -> String {
        let epoch = self.epoch.to_string();
        request_id(
            &self.lineage,
            node.as_str(),
            &digest(&[what, &epoch, &body.to_string()]),
        )
    }

    fn path(&self, change: &Change) -> String {
        format!(
            "{}/{}",
            with_project(&change.collection, &self.project),
            change.name
        )
    }

    /// `Ok` when `actual` carries this stack's and this state's mark.
    fn check_owner(&self, change: &Change, actual: &Value, act: Act) -> Result<(), StepError> {
        let found = owner::Owner::of(actual);
        // Updates and deletes act on resources the state tracks, which may
        // carry a mark from before lineages.
        let tracked = !matches!(act, Act::TakeOver) && found.is_unlineaged(&self.stack);
        if found.is(&self.stack, &self.lineage) || tracked {
            return Ok(());
        }
        Err(StepError::NotOurs {
            node: change.node.clone(),
            path: self.path(change),
            owner: found,
            refused: act.refused(),
        })
    }

    /// Creates the resource and returns its state.
    pub async fn create(&self, change: &Change) -> Result<ResourceState, StepError> {
        let desired = change.body_value();
        let body = {
            let known = self.assigned.lock().unwrap_or_else(|p| p.into_inner());
            let lookup =
                |node: &str, field: &str| known.get(node).and_then(|m| m.get(field)).cloned();
            refs::substitute(&self.fill(&desired), &lookup)?
        };
        let collection = with_project(&change.collection, &self.project);
        let call = ApiCall::post(collection, body.clone()).with_request_id(self.rid(
            &change.node,
            "create",
            &desired,
        ));
        match self
            .noted(&change.node, "insert", self.path(change), call)
            .await
        {
            Ok(_) => self.record(change, &desired).await,
            // The name is taken (409 at once, or RESOURCE_ALREADY_EXISTS at
            // the end of the operation): adopted only if it carries this
            // stack's mark, i.e. an earlier, interrupted run made it. Its
            // insert may still be running, and until it is done a get can
            // answer 404.
            Err(e) if e.is_already_exists() => self.record_when_visible(change, &desired).await,
            Err(e) => Err(e.into()),
        }
    }

    /// [`record`](Self::record), waiting a little for a resource whose
    /// insert (by another run) is still in progress.
    async fn record_when_visible(
        &self,
        change: &Change,
        desired: &Value,
    ) -> Result<ResourceState, StepError> {
        let path = self.path(change);
        let mut pause = std::time::Duration::from_millis(100);
        for _ in 0..12 {
            if let Some(actual) = self.client.get(&path).await? {
                self.check_owner(change, &actual, Act::TakeOver)?;
                return Ok(state_of(change, desired, &actual));
            }
            tokio::time::sleep(pause).await;
            pause = (pause * 2).min(std::time::Duration::from_secs(5));
        }
        Err(StepError::Other(format!(
            "`{path}` exists (409) but cannot be read; run again once its creation is done"
        )))
    }

    /// Reads the resource back and makes its state entry.
    pub async fn record(
        &self,
        change: &Change,
        desired: &Value,
    ) -> Result<ResourceState, StepError> {
        let path = self.path(change);
        let actual = self.client.get(&path).await?.ok_or_else(|| {
            StepError::Other(format!("`{path}` is missing right after it was made"))
        })?;
        self.check_owner(change, &actual, Act::TakeOver)?;
        Ok(state_of(change, desired, &actual))
    }

    /// Deletes the resource after checking, on the resource itself, that
    /// it is this stack's; one already gone is done.
    pub async fn delete(&self, change: &Change) -> Result<(), StepError> {
        let path = self.path(change);
        match self.client.get(&path).await? {
            None => return Ok(()),
            Some(actual) => self.check_owner(change, &actual, Act::Delete)?,
        }
        let rid = self.rid(&change.node, "delete", &Value::String(path.clone()));
        let call = ApiCall::delete(path.clone()).with_request_id(rid);
        match self.noted(&change.node, "delete", path, call).await {
            // Gone already, or deleted meanwhile by another call.
            Ok(_) => Ok(()),
            Err(e) if e.is_not_found() => Ok(()),
            Err(e) => Err(e.into()),
        }
    }

    /// Sends a mutating `call` and waits for its operation, noting the
    /// operation as in flight (saved with the state) until it is seen
    /// finished; one that could not be followed to the end stays noted for
    /// the next run to wait for.
    async fn noted(
        &self,
        node: &NodeId,
        kind: &str,
        target: String,
        call: ApiCall,
    ) -> Result<Value, GceError> {
        let answer = self.client.send(call).await?;
        if !operation::is_operation(&answer) {
            return Ok(answer);
        }
        let pending = !operation::is_done(&answer);
        if pending {
            let op = PendingOperation {
                kind: kind.to_string(),
                target,
                operation: answer.clone(),
            };
            self.in_flight.start(node.as_str(), op);
        }
        let result = self.client.wait_operation(answer).await;
        let seen_done = matches!(&result, Ok(_) | Err(GceError::Operation { .. }));
        if pending && seen_done {
            self.in_flight.finish(node.as_str());
        }
        result
    }

    /// Labels and metadata in place; the machine type while stopped.
    pub async fn update(&self, change: &Change) -> Result<ResourceState, StepError> {
        let desired = change.body_value();
        let wanted = self.fill(&desired);
        let path = self.path(change);
        let changed: Vec<&str> = change
            .diffs
            .iter()
            .map(|d| d.path.split(['.', '[']).next().unwrap_or(""))
            .collect();
        let restart = change.action == Action::UpdateRestart && change.kind == "instance";
        let actual = self
            .client
            .get(&path)
            .await?
            .ok_or_else(|| StepError::Other(format!("`{path}` is gone")))?;
        self.check_owner(change, &actual, Act::Change)?;
        if restart {
            self.action(&change.node, &format!("{path}/stop"), json!(null), "stop")
                .await?;
            let mt = wanted.get("machineType").cloned().unwrap_or(Value::Null);
            self.action(
                &change.node,
                &format!("{path}/setMachineType"),
                json!({ "machineType": mt }),
                "setMachineType",
            )
            .await?;
        }
        if change.kind == "disk" && changed.contains(&"sizeGb") {
            // Only ever larger: the plan refuses a smaller disk.
            let size = wanted.get("sizeGb").cloned().unwrap_or(Value::Null);
            self.action(
                &change.node,
                &format!("{path}/resize"),
                json!({ "sizeGb": size }),
                "resize",
            )
            .await?;
        }
        if changed.contains(&"labels") {
            let labels = keep_others_labels(&wanted, &actual, &change.diffs);
            self.with_fingerprint(change, &path, "labelFingerprint", |fp| {
                (
                    format!("{path}/setLabels"),
                    json!({ "labels": labels, "labelFingerprint": fp }),
                )
            })
            .await?;
        }
        if changed.contains(&"metadata") && change.kind == "instance" {
            let items = keep_others_items(&wanted, &actual, &change.diffs);
            self.with_fingerprint(change, &path, "metadata.fingerprint", |fp| {
                (
                    format!("{path}/setMetadata"),
                    json!({ "items": items, "fingerprint": fp }),
                )
            })
            .await?;
        }
        if restart {
            self.action(&change.node, &format!("{path}/start"), json!(null), "start")
                .await?;
        }
        self.record(change, &desired).await
    }

    async fn action(
        &self,
        node: &NodeId,
        path: &str,
        body: Value,
        what: &str,
    ) -> Result<Value, StepError> {
        let mut call = ApiCall::post(path.to_string(), body.clone());
        if body.is_null() {
            call.body = None;
        }
        let call = call.with_request_id(self.rid(node, what, &body));
        Ok(self.client.execute(call).await?)
    }

    /// A fingerprinted update: read the fingerprint, send, and on 412 read it again.
    async fn with_fingerprint(
        &self,
        change: &Change,
        path: &str,
        field: &str,
        make: impl Fn(&str) -> (String, Value),
    ) -> Result<(), StepError> {
        for _ in 0..5 {
            let current = self
                .client
                .get(path)
                .await?
                .ok_or_else(|| StepError::Other(format!("`{path}` is gone")))?;
            let pointer = format!("/{}", field.replace('.', "/"));
            let fp = current
                .pointer(&pointer)
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_string();
            let (call_path, body) = make(&fp);
            let call = ApiCall::post(call_path, body.clone()).with_request_id(self.rid(
                &change.node,
                field,
                &body,
            ));
            match self.client.execute(call).await {
                Ok(_) => return Ok(()),
                Err(e) if e.needs_refetch() => continue,
                Err(e) => return Err(e.into()),
            }
        }
        Err(StepError::Other(format!(
            "`{path}`: the fingerprint kept changing"
        )))
    }
}

/// The state entry of a resource as Compute Engine returned it.
pub fn state_of(change: &Change, desired: &Value, actual: &Value) -> ResourceState {
    let s = |p: &str| {
        actual
            .pointer(p)
            .and_then(Value::as_str)
            .map(str::to_string)
    };
    let mut assigned = BTreeMap::new();
    if let Some(a) = s("/address") {
        assigned.insert("address".to_string(), a);
    }
    if let Some(ip) = s("/networkInterfaces/0/accessConfigs/0/natIP") {
        assigned.insert("natIP".to_string(), ip.clone());
        assigned.insert("external_ip".to_string(), ip);
    }
    if let Some(ip) = s("/networkInterfaces/0/networkIP") {
        assigned.insert("internal_ip".to_string(), ip);
    }
    ResourceState {
        kind: actual
            .get("kind")
            .and_then(Value::as_str)
            .unwrap_or(&change.kind)
            .to_string(),
        name: change.name.clone(),
        location: Some(change.location.label()),
        id: s("/id"),
        self_link: s("/selfLink"),
        attributes: crate::state::Attributes::of_sent(desired),
        fingerprint: s("/labelFingerprint").or_else(|| s("/metadata/fingerprint")),
        collection: change.collection.clone(),
        depends_on: change.depends_on.iter().map(NodeId::to_string).collect(),
        assigned,
    }
}
