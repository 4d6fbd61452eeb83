//! Actions on disks and addresses: `setLabels` (both) and `disks.resize`.

use crate::api::{remember, replay};
use crate::error::ApiError;
use crate::server::Call;
use crate::state::{OpSpec, Shared, State, start_operation};
use serde_json::{Value, json};
use std::sync::Arc;

type Answer = Result<Value, ApiError>;

/// `POST .../{disks|addresses}/{name}/setLabels`: like an instance's.
pub fn set_labels(shared: &Arc<Shared>, call: &Call<'_>, coll: &str, name: &str) -> Answer {
    let mut st = shared.lock();
    if let Some(op) = replay(&st, call)? {
        return Ok(op);
    }
    let key = format!("{}/{coll}/{name}", call.scope_path);
    let Some(target_id) = st
        .resources
        .get(&key)
        .map(|r| r["id"].as_str().map(str::to_string))
    else {
        return Err(ApiError::not_found(&key));
    };
    crate::api::set_labels(&mut st, call, &key)?;
    let op = start_operation(
        shared,
        &mut st,
        OpSpec {
            scope: call.scope_path.clone(),
            operation_type: "setLabels",
            target: key,
            target_id,
            on_running: None,
            on_done: None,
            on_fail: None,
            failure: None,
        },
    );
    Ok(remember(&mut st, call, &op))
}

/// `POST .../disks/{name}/resize` with `{"sizeGb": "N"}`: only larger; the
/// size changes when the operation is DONE.
pub fn disk_resize(shared: &Arc<Shared>, call: &Call<'_>, name: &str) -> Answer {
    let mut st = shared.lock();
    if let Some(op) = replay(&st, call)? {
        return Ok(op);
    }
    let key = format!("{}/disks/{name}", call.scope_path);
    let Some(disk) = st.resources.get(&key) else {
        return Err(ApiError::not_found(&key));
    };
    let body = call.json()?;
    let size = |v: &Value| v.get("sizeGb")?.as_str()?.parse::<u64>().ok();
    let (Some(current), Some(wanted)) = (size(disk), size(&body)) else {
        return Err(ApiError::invalid(
            "Invalid value for field 'sizeGb': an int64 string is required.".to_string(),
        ));
    };
    if wanted <= current {
        return Err(ApiError::invalid(format!(
            "Invalid value for field 'sizeGb': '{wanted}'. New disk size must be larger than \
             the existing size '{current}'."
        )));
    }
    let target_id = disk["id"].as_str().map(str::to_string);
    let done_key = key.clone();
    let op = start_operation(
        shared,
        &mut st,
        OpSpec {
            scope: call.scope_path.clone(),
            operation_type: "resize",
            target: key,
            target_id,
            on_running: None,
            on_done: Some(Box::new(move |st: &mut State| {
                if let Some(d) = st.resources.get_mut(&done_key) {
                    d["sizeGb"] = json!(wanted.to_string());
                }
            })),
            on_fail: None,
            failure: None,
        },
    );
    Ok(remember(&mut st, call, &op))
}
