//! Whether services are ready (one listing call for the whole stack) and,
//! when one is not, the engine's latest task error.

use std::collections::BTreeMap;

use serde_json::{Value, json};

use super::stack_filter;
use crate::exec::engine::{Engine, EngineError, query_value};

/// A service's task counts and update state, as the engine reports them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServiceStatus {
    /// Tasks in state `running` (a task with a healthcheck is `starting`
    /// until healthy).
    pub running: u64,
    pub desired: u64,
    /// `UpdateStatus.State` (`updating`, `completed`, `rollback_completed`,
    /// ...), if an update ran.
    pub update: Option<String>,
    /// `UpdateStatus.Message`.
    pub update_message: String,
}

impl ServiceStatus {
    /// Every desired task running and no update under way.
    pub fn is_ready(&self) -> bool {
        self.running >= self.desired
            && !matches!(
                self.update.as_deref(),
                Some("updating" | "paused" | "rollback_started" | "rollback_paused")
            )
    }

    /// An update that failed: rolled back or paused; with the engine's reason.
    pub fn failed_update(&self) -> Option<String> {
        match self.update.as_deref() {
            Some(state @ ("rollback_completed" | "paused" | "rollback_paused")) => {
                Some(format!("update {state}: {}", self.update_message))
            }
            _ => None,
        }
    }
}

/// After an update: whether every task the service wants running runs the
/// service's current task spec (the engine resets the update status when
/// it accepts an update and may not have started it yet, so the counts
/// alone could still describe the old tasks).
pub(super) async fn runs_current_spec(
    manager: &Engine,
    service: &str,
) -> Result<bool, EngineError> {
    let current = manager.get(&format!("/services/{service}")).await?;
    let template = &current["Spec"]["TaskTemplate"];
    let filters =
        query_value(&json!({ "service": [service], "desired-state": ["running"] }).to_string());
    let tasks = manager.get(&format!("/tasks?filters={filters}")).await?;
    Ok(tasks
        .as_array()
        .into_iter()
        .flatten()
        .all(|t| t["Status"]["State"] == "running" && same_task_spec(&t["Spec"], template)))
}

/// Whether a task runs this task spec. The service's copy names the
/// `Runtime` the engine filled in; the task's does not.
fn same_task_spec(task: &Value, template: &Value) -> bool {
    let strip = |v: &Value| {
        let mut v = v.clone();
        if let Some(o) = v.as_object_mut() {
            o.remove("Runtime");
        }
        v
    };
    strip(task) == strip(template)
}

/// The status of every service of the stack, by Swarm name.
pub async fn service_status(
    manager: &Engine,
    stack: &str,
) -> Result<BTreeMap<String, ServiceStatus>, EngineError> {
    let list = manager
        .get(&format!(
            "/services?status=true&filters={}",
            stack_filter(stack)
        ))
        .await?;
    Ok(list
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|s| {
            let name = s["Spec"]["Name"].as_str()?.to_string();
            let status = ServiceStatus {
                running: s["ServiceStatus"]["RunningTasks"].as_u64().unwrap_or(0),
                desired: s["ServiceStatus"]["DesiredTasks"].as_u64().unwrap_or(0),
                update: s["UpdateStatus"]["State"].as_str().map(str::to_string),
                update_message: s["UpdateStatus"]["Message"]
                    .as_str()
                    .unwrap_or_default()
                    .to_string(),
            };
            Some((name, status))
        })
        .collect())
}

/// The most recent task problem of a service: a task error (`no suitable
/// node`, `No such image`, `task: non-zero exit`, ...) or, failing that,
/// the latest task's state and message.
pub(super) async fn task_error(manager: &Engine, service: &str) -> Result<String, EngineError> {
    let filters = query_value(&json!({ "service": [service] }).to_string());
    let tasks = manager.get(&format!("/tasks?filters={filters}")).await?;
    let mut tasks: Vec<&Value> = tasks.as_array().into_iter().flatten().collect();
    tasks.sort_by(|a, b| {
        let t = |v: &Value| v["Status"]["Timestamp"].as_str().unwrap_or("").to_string();
        t(b).cmp(&t(a))
    });
    let text = |v: &Value, k: &str| v["Status"][k].as_str().unwrap_or("").to_string();
    if let Some(t) = tasks.iter().find(|t| !text(t, "Err").is_empty()) {
        return Ok(format!("{}: {}", text(t, "State"), text(t, "Err")));
    }
    Ok(match tasks.first() {
        Some(t) => format!("{}: {}", text(t, "State"), text(t, "Message")),
        None => "no task was created".to_string(),
    })
}
