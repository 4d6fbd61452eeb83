//! The API methods: insert/get/list/delete, instance actions, guest
//! attributes and operations.

use crate::config::Appearance;
use crate::error::ApiError;
use crate::filter::{Filter, max_results};
use crate::resources::{self, Collection, Place, apply_delete, apply_insert};
use crate::schema;
use crate::server::Call;
use crate::state::{Effect, OpFailure, OpSpec, Shared, State, start_operation};
use crate::util::{check_labels, check_name, check_request_id};
use serde_json::{Value, json};
use std::sync::Arc;

type Answer = Result<Value, ApiError>;

/// Validate a body against a schema; 400 `invalid` listing every violation.
fn validated(call: &Call<'_>, schema_name: &str) -> Answer {
    let body = call.json()?;
    let errors = schema::validate(schema_name, &body);
    if errors.is_empty() {
        Ok(body)
    } else {
        let list: Vec<String> = errors.iter().map(ToString::to_string).collect();
        Err(ApiError::invalid(format!(
            "Invalid value for the {schema_name} request body: {}",
            list.join("; ")
        )))
    }
}

/// The operation already created for this `requestId`, if any.
pub(crate) fn replay(st: &State, call: &Call<'_>) -> Result<Option<Value>, ApiError> {
    let Some(id) = call.param("requestId") else {
        return Ok(None);
    };
    check_request_id(id)?;
    let key = (call.project.to_string(), id.to_string());
    Ok(st
        .request_ids
        .get(&key)
        .and_then(|op| st.operations.get(op))
        .map(|op| op.body.clone()))
}

pub(crate) fn remember(st: &mut State, call: &Call<'_>, op_key: &str) -> Value {
    if let Some(id) = call.param("requestId") {
        st.request_ids.insert(
            (call.project.to_string(), id.to_string()),
            op_key.to_string(),
        );
    }
    st.operations
        .get(op_key)
        .map(|op| op.body.clone())
        .unwrap_or_default()
}

/// An operation that ends with `code` and does nothing (late conflicts).
fn failing_operation(
    shared: &Arc<Shared>,
    st: &mut State,
    call: &Call<'_>,
    (operation_type, key): (&'static str, String),
    (code, status): (&'static str, u16),
) -> Value {
    let message = format!(
        "The resource '{key}' {}",
        match code {
            "RESOURCE_ALREADY_EXISTS" => "already exists",
            _ => "was not found",
        }
    );
    let op = start_operation(
        shared,
        st,
        OpSpec {
            scope: call.scope_path.clone(),
            operation_type,
            target: key,
            target_id: None,
            on_running: None,
            on_done: None,
            on_fail: None,
            failure: Some(OpFailure {
                code,
                message,
                status,
            }),
        },
    );
    remember(st, call, &op)
}

/// `POST .../{collection}`.
pub fn insert(shared: &Arc<Shared>, call: &Call<'_>, coll: &Collection) -> Answer {
    let mut st = shared.lock();
    if let Some(op) = replay(&st, call)? {
        return Ok(op);
    }
    let body = validated(call, coll.schema)?;
    let name = body["name"].as_str().unwrap_or_default().to_string();
    check_name(&name)?;
    check_labels(body.get("labels"))?;
    crate::limits::check(coll.name, call.location, &body)?;
    let key = format!("{}/{}/{name}", call.scope_path, coll.name);
    if st.taken(&key) {
        if st.late_conflicts {
            let what = ("insert", key);
            return Ok(failing_operation(
                shared,
                &mut st,
                call,
                what,
                ("RESOURCE_ALREADY_EXISTS", 409),
            ));
        }
        return Err(ApiError::already_exists(&key));
    }
    let place = Place {
        project: call.project,
        scope_path: &call.scope_path,
        location: call.location,
    };
    let prepared = resources::prepare(&mut st, coll, &place, body)?;
    let target_id = prepared.resource["id"].as_str().map(str::to_string);
    let done_key = key.clone();
    let (on_done, on_fail): (Effect, Effect) = match st.appearance {
        Appearance::WhenDone => {
            let mut reserved: Vec<String> = prepared.extra.iter().map(|(k, _)| k.clone()).collect();
            reserved.push(key.clone());
            for k in &reserved {
                st.creating.insert(k.clone());
            }
            (
                Box::new(move |st: &mut State| apply_insert(st, &done_key, prepared)),
                Box::new(move |st: &mut State| {
                    for k in &reserved {
                        st.creating.remove(k);
                    }
                }),
            )
        }
        Appearance::WhenAccepted => {
            let running = prepared.resource.get("status") == Some(&json!("RUNNING"));
            apply_insert(&mut st, &key, prepared);
            if let (true, Some(r)) = (running, st.resources.get_mut(&key)) {
                r["status"] = json!("PROVISIONING");
            }
            let fail_key = key.clone();
            (
                Box::new(move |st: &mut State| {
                    if let (true, Some(r)) = (running, st.resources.get_mut(&done_key)) {
                        r["status"] = json!("RUNNING");
                    }
                }),
                Box::new(move |st: &mut State| apply_delete(st, &fail_key)),
            )
        }
    };
    let op = start_operation(
        shared,
        &mut st,
        OpSpec {
            scope: call.scope_path.clone(),
            operation_type: "insert",
            target: key,
            target_id,
            on_running: None,
            on_done: Some(on_done),
            on_fail: Some(on_fail),
            failure: None,
        },
    );
    Ok(remember(&mut st, call, &op))
}

/// `GET .../{collection}/{name}`.
pub fn get(shared: &Arc<Shared>, call: &Call<'_>, coll: &Collection, name: &str) -> Answer {
    let key = format!("{}/{}/{name}", call.scope_path, coll.name);
    shared
        .lock()
        .resources
        .get(&key)
        .cloned()
        .ok_or_else(|| ApiError::not_found(&key))
}

/// `GET .../{collection}?filter=&maxResults=&pageToken=`.
pub fn list(shared: &Arc<Shared>, call: &Call<'_>, coll: &Collection) -> Answer {
    let filter = Filter::parse(call.param("filter").unwrap_or(""))?;
    let max = max_results(call.param("maxResults"))?;
    let after = call.param("pageToken").filter(|t| !t.is_empty());
    let prefix = format!("{}/{}/", call.scope_path, coll.name);
    let st = shared.lock();
    let mut items = Vec::new();
    let mut next = None;
    for (k, v) in st.resources.range(prefix.clone()..) {
        let Some(name) = k.strip_prefix(&prefix) else {
            break;
        };
        if after.is_some_and(|a| name <= a) || !filter.matches(v) {
            continue;
        }
        if items.len() == max {
            next = items
                .last()
                .and_then(|last: &Value| last["name"].as_str())
                .map(str::to_string);
            break;
        }
        items.push(v.clone());
    }
    let collection_key = format!("{}/{}", call.scope_path, coll.name);
    let mut out = json!({
        "kind": format!("{}List", coll.kind),
        "id": collection_key,
    });
    // Like the real API: no `items` at all when the page is empty.
    if !items.is_empty() {
        out["items"] = json!(items);
    }
    out["selfLink"] = json!(st.link(&collection_key));
    if let Some(token) = next {
        out["nextPageToken"] = json!(token);
    }
    Ok(out)
}

/// `DELETE .../{collection}/{name}`.
pub fn delete(shared: &Arc<Shared>, call: &Call<'_>, coll: &Collection, name: &str) -> Answer {
    let mut st = shared.lock();
    if let Some(op) = replay(&st, call)? {
        return Ok(op);
    }
    let key = format!("{}/{}/{name}", call.scope_path, coll.name);
    let Some(resource) = st.resources.get(&key) else {
        return Err(ApiError::not_found(&key));
    };
    if st.deleting.contains(&key) {
        if st.late_conflicts {
            let what = ("delete", key);
            return Ok(failing_operation(
                shared,
                &mut st,
                call,
                what,
                ("RESOURCE_NOT_FOUND", 404),
            ));
        }
        return Err(ApiError::not_ready(format!(
            "The resource '{key}' is not ready: it is being deleted"
        )));
    }
    let user = resource["users"][0]
        .as_str()
        .and_then(|u| crate::util::reference_key(u, call.project))
        .or_else(|| {
            // Only these can be referenced by link from other resources; the
            // scan is linear, so skip it for the numerous instances.
            matches!(coll.name, "networks" | "subnetworks" | "disks")
                .then(|| st.referenced_by(&key))
                .flatten()
        });
    if let Some(user) = user {
        return Err(if st.deleting.contains(&user) {
            ApiError::not_ready(format!(
                "The resource '{key}' is not ready: '{user}' that uses it is being deleted"
            ))
        } else {
            ApiError::in_use(&key, &user)
        });
    }
    let target_id = resource["id"].as_str().map(str::to_string);
    st.deleting.insert(key.clone());
    let (done_key, fail_key) = (key.clone(), key.clone());
    let op = start_operation(
        shared,
        &mut st,
        OpSpec {
            scope: call.scope_path.clone(),
            operation_type: "delete",
            target: key,
            target_id,
            on_running: None,
            on_done: Some(Box::new(move |st: &mut State| apply_delete(st, &done_key))),
            on_fail: Some(Box::new(move |st: &mut State| {
                st.deleting.remove(&fail_key);
            })),
            failure: None,
        },
    );
    Ok(remember(&mut st, call, &op))
}

fn set_status(key: String, status: &'static str) -> crate::state::Effect {
    Box::new(move |st: &mut State| {
        if let Some(r) = st.resources.get_mut(&key) {
            r["status"] = json!(status);
        }
    })
}

/// `POST .../instances/{name}/{start|stop|setMetadata|setMachineType|setLabels}`.
pub fn instance_action(shared: &Arc<Shared>, call: &Call<'_>, name: &str, action: &str) -> Answer {
    let op_type: &'static str = match action {
        "start" => "start",
        "stop" => "stop",
        "setMetadata" => "setMetadata",
        "setMachineType" => "setMachineType",
        "setLabels" => "setLabels",
        _ => {
            return Err(ApiError {
                status: axum::http::StatusCode::NOT_FOUND,
                domain: "global",
                reason: "notFound",
                message: format!("fake-gce does not serve instances.{action}"),
            });
        }
    };
    let mut st = shared.lock();
    if let Some(op) = replay(&st, call)? {
        return Ok(op);
    }
    let key = format!("{}/instances/{name}", call.scope_path);
    if !st.resources.contains_key(&key) {
        return Err(ApiError::not_found(&key));
    }
    if st.deleting.contains(&key) {
        return Err(ApiError::not_ready(format!(
            "The resource '{key}' is not ready: it is being deleted"
        )));
    }
    let (mut on_running, mut on_done) = (None, None);
    match op_type {
        "start" => {
            if st.resources[&key]["status"] != "RUNNING" {
                on_running = Some(set_status(key.clone(), "STAGING"));
            }
            on_done = Some(set_status(key.clone(), "RUNNING"));
        }
        "stop" => {
            if st.resources[&key]["status"] != "TERMINATED" {
                on_running = Some(set_status(key.clone(), "STOPPING"));
            }
            on_done = Some(set_status(key.clone(), "TERMINATED"));
        }
        "setMetadata" => set_metadata(&mut st, call, &key)?,
        "setLabels" => set_labels(&mut st, call, &key)?,
        _ => set_machine_type(&mut st, call, &key)?,
    }
    let target_id = st.resources[&key]["id"].as_str().map(str::to_string);
    let op = start_operation(
        shared,
        &mut st,
        OpSpec {
            scope: call.scope_path.clone(),
            operation_type: op_type,
            target: key,
            target_id,
            on_running,
            on_done,
            on_fail: None,
            failure: None,
        },
    );
    Ok(remember(&mut st, call, &op))
}

// setMetadata, setLabels and setMachineType take effect when accepted (the
// fingerprint turns over at once); their operation only reports completion.

fn set_metadata(st: &mut State, call: &Call<'_>, key: &str) -> Result<(), ApiError> {
    let body = validated(call, "Metadata")?;
    let current = st.resources[key]["metadata"]["fingerprint"].clone();
    if body.get("fingerprint") != Some(&current) {
        return Err(ApiError::condition_not_met(
            "Supplied fingerprint does not match current metadata fingerprint.",
        ));
    }
    let size: usize = body["items"].as_array().map_or(0, |items| {
        items
            .iter()
            .map(|i| {
                i["key"].as_str().map_or(0, str::len) + i["value"].as_str().map_or(0, str::len)
            })
            .sum()
    });
    if size > 512 * 1024 {
        return Err(ApiError::invalid(format!(
            "Invalid value for field 'metadata': {size} bytes; must be less than 512 KB"
        )));
    }
    let mut metadata = json!({"kind": "compute#metadata", "fingerprint": st.fingerprint()});
    if let Some(items) = body
        .get("items")
        .filter(|i| i.as_array().is_some_and(|a| !a.is_empty()))
    {
        metadata["items"] = items.clone();
    }
    if let Some(r) = st.resources.get_mut(key) {
        r["metadata"] = metadata;
    }
    Ok(())
}

pub(crate) fn set_labels(st: &mut State, call: &Call<'_>, key: &str) -> Result<(), ApiError> {
    let body = validated(call, "InstancesSetLabelsRequest")?;
    check_labels(body.get("labels"))?;
    if body["labelFingerprint"] != st.resources[key]["labelFingerprint"] {
        return Err(ApiError::condition_not_met(
            "Labels fingerprint either invalid or resource labels have changed",
        ));
    }
    let fp = st.fingerprint();
    if let Some(r) = st.resources.get_mut(key) {
        r["labelFingerprint"] = json!(fp);
        match body
            .get("labels")
            .filter(|l| l.as_object().is_some_and(|m| !m.is_empty()))
        {
            Some(labels) => r["labels"] = labels.clone(),
            None => {
                if let Some(m) = r.as_object_mut() {
                    m.remove("labels");
                }
            }
        }
    }
    Ok(())
}

fn set_machine_type(st: &mut State, call: &Call<'_>, key: &str) -> Result<(), ApiError> {
    let body = validated(call, "InstancesSetMachineTypeRequest")?;
    let status = st.resources[key]["status"]
        .as_str()
        .unwrap_or("")
        .to_string();
    if status != "TERMINATED" {
        return Err(ApiError::invalid(format!(
            "Invalid resource usage: the instance '{key}' must be stopped (TERMINATED) to \
             change its machine type; it is {status}."
        )));
    }
    let link =
        crate::instance::machine_type(st, call.project, call.location, &body["machineType"])?;
    if let Some(r) = st.resources.get_mut(key) {
        r["machineType"] = json!(link);
    }
    Ok(())
}

/// `GET .../instances/{name}/getGuestAttributes?queryPath=|variableKey=`.
pub fn guest_attributes(shared: &Arc<Shared>, call: &Call<'_>, name: &str) -> Answer {
    let key = format!("{}/instances/{name}", call.scope_path);
    let st = shared.lock();
    if !st.resources.contains_key(&key) {
        return Err(ApiError::not_found(&key));
    }
    let attrs = st.guest_attributes.get(&key);
    let self_link = format!("{}/getGuestAttributes", st.link(&key));
    let missing = || ApiError {
        status: axum::http::StatusCode::NOT_FOUND,
        domain: "global",
        reason: "notFound",
        message: format!("The guest attributes of '{key}' hold nothing at that path"),
    };
    if let Some(vk) = call.param("variableKey") {
        let value = attrs.and_then(|a| a.get(vk)).ok_or_else(missing)?;
        return Ok(json!({
            "kind": "compute#guestAttributes",
            "selfLink": self_link,
            "variableKey": vk,
            "variableValue": value,
        }));
    }
    let qp = call.param("queryPath").unwrap_or("");
    let items: Vec<Value> = attrs
        .into_iter()
        .flatten()
        .filter(|(k, _)| {
            if qp.is_empty() || qp.ends_with('/') {
                k.starts_with(qp)
            } else {
                k.as_str() == qp
            }
        })
        .map(|(k, v)| {
            let (ns, key) = k.split_once('/').unwrap_or(("", k));
            json!({"namespace": ns, "key": key, "value": v})
        })
        .collect();
    if items.is_empty() {
        return Err(missing());
    }
    Ok(json!({
        "kind": "compute#guestAttributes",
        "selfLink": self_link,
        "queryPath": qp,
        "queryValue": {"items": items},
    }))
}

/// `GET .../operations/{op}`.
pub fn operation_get(shared: &Arc<Shared>, call: &Call<'_>, op: &str) -> Answer {
    let key = format!("{}/operations/{op}", call.scope_path);
    shared
        .lock()
        .operations
        .get(&key)
        .map(|o| o.body.clone())
        .ok_or_else(|| ApiError::not_found(&key))
}

/// `POST .../operations/{op}/wait`: answer when DONE or after the wait timeout.
pub async fn operation_wait(shared: &Arc<Shared>, call: &Call<'_>, op: &str) -> Answer {
    let key = format!("{}/operations/{op}", call.scope_path);
    let deadline = tokio::time::Instant::now() + shared.config.wait_timeout;
    loop {
        let notified = shared.notify.notified();
        tokio::pin!(notified);
        notified.as_mut().enable();
        let body = {
            let st = shared.lock();
            let op = st
                .operations
                .get(&key)
                .ok_or_else(|| ApiError::not_found(&key))?;
            op.body.clone()
        };
        if body["status"] == "DONE" {
            return Ok(body);
        }
        if tokio::time::timeout_at(deadline, notified).await.is_err() {
            return Ok(body);
        }
    }
}
