//! `sdbc scale`'s live part: changes the replica count of the named
//! services of a stack through the Engine API, and nothing else.
//!
//! Every name is checked before anything changes: a name the stack does
//! not have is an error naming its closest service, a global service is an
//! error (it runs one task per node). Each update sends the service's spec
//! as the engine reports it with only `Mode.Replicated.Replicas` changed,
//! at the version index read with it, so a change made in between is
//! refused by the engine rather than overwritten. The spec hash label
//! leaves the replica count out (see [`super::labelled`]), so the label
//! stays true. See `docs/decisions/0020-scale-and-status.md`.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use serde_json::json;

use super::{existing_services, replicas, service_status};
use crate::exec::engine::{Engine, EngineError};
use crate::targets::stack::scoped;

/// Why a scale could not be done.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ScaleError {
    #[error(transparent)]
    Engine(#[from] EngineError),
    #[error("stack `{stack}` has no service `{service}`{}", hint(.closest))]
    UnknownService {
        stack: String,
        service: String,
        closest: Option<String>,
    },
    #[error(
        "service `{service}` is global (one task per node); only replicated services can be scaled"
    )]
    Global { service: String },
    #[error("{}", waiting(.services, .after))]
    NotScaled {
        /// `name: running/desired` of each service not there yet.
        services: Vec<String>,
        after: Duration,
    },
}

fn hint(closest: &Option<String>) -> String {
    match closest {
        Some(c) => format!("; the closest is `{c}`"),
        None => "; it has no service".to_string(),
    }
}

/// The name closest to `name` among `names`: by spelling when one is
/// close, else the one sharing the longest start with it.
pub fn closest_name<'a>(name: &str, names: &[&'a str]) -> Option<&'a str> {
    crate::diag::closest(name, names.iter().copied()).or_else(|| {
        let shared = |n: &&str| {
            n.chars()
                .zip(name.chars())
                .take_while(|(a, b)| a == b)
                .count()
        };
        names
            .iter()
            .copied()
            .max_by_key(|n| (shared(n), std::cmp::Reverse(*n)))
    })
}

fn waiting(services: &[String], after: &Duration) -> String {
    format!(
        "not every task is running {}s after scaling: {}",
        after.as_secs(),
        services.join(", ")
    )
}

/// One service's replica count, before and after.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Scaled {
    /// The model's name (`web`).
    pub service: String,
    pub from: u64,
    pub to: u64,
}

/// Sets the replica count of each service of `counts` (model names) in
/// `stack`, live. Checks every name first; changes nothing when one is
/// wrong. A service already at its count is not sent.
pub async fn scale(
    manager: &Engine,
    stack: &str,
    counts: &BTreeMap<String, u64>,
) -> Result<Vec<Scaled>, ScaleError> {
    let existing = existing_services(manager, stack).await?;
    let prefix = scoped(stack, "");
    let names: Vec<&str> = existing
        .keys()
        .filter_map(|n| n.strip_prefix(&prefix))
        .collect();
    let mut found = Vec::new();
    for (service, to) in counts {
        let Some(current) = existing.get(&scoped(stack, service)) else {
            return Err(ScaleError::UnknownService {
                stack: stack.to_string(),
                service: service.clone(),
                closest: closest_name(service, &names).map(str::to_string),
            });
        };
        let Some(from) = replicas(&current["Spec"]) else {
            return Err(ScaleError::Global {
                service: service.clone(),
            });
        };
        found.push((service, current, from, *to));
    }
    let mut out = Vec::new();
    for (service, current, from, to) in found {
        if from != to {
            let id = current["ID"].as_str().unwrap_or_default();
            let version = current["Version"]["Index"].as_u64().unwrap_or_default();
            let mut spec = current["Spec"].clone();
            spec["Mode"]["Replicated"]["Replicas"] = json!(to);
            manager
                .post(&format!("/services/{id}/update?version={version}"), &spec)
                .await?;
        }
        out.push(Scaled {
            service: service.clone(),
            from,
            to,
        });
    }
    Ok(out)
}

/// Waits until each of `services` (model names) runs as many tasks as it
/// wants (a task with a healthcheck counts once healthy), one status call
/// per round.
pub async fn wait_scaled(
    manager: &Engine,
    stack: &str,
    services: &[String],
    timeout: Duration,
) -> Result<(), ScaleError> {
    let start = Instant::now();
    loop {
        let status = service_status(manager, stack).await?;
        let behind: Vec<String> = services
            .iter()
            .filter_map(|s| {
                let st = status.get(&scoped(stack, s))?;
                (st.running != st.desired).then(|| format!("{s}: {}/{}", st.running, st.desired))
            })
            .collect();
        if behind.is_empty() {
            return Ok(());
        }
        if start.elapsed() >= timeout {
            return Err(ScaleError::NotScaled {
                services: behind,
                after: timeout,
            });
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}
