//! The service scheduler of [`super::deploy`]: starts each service as soon
//! as every service it depends on is ready, polls the stack's status (one
//! call per round), and records what became ready, what failed and what was
//! skipped because a dependency failed.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Instant;

use serde_json::Value;

use super::objects::{self, ObjectIds};
use super::wait::{self, ServiceStatus, service_status};
use super::{DeployError, DeployOptions, Deployment, ServiceOutcome};
use crate::exec::engine::Engine;
use crate::targets::stack::engine::{ServiceObject, StackObjects};

/// A started service not yet ready.
struct InFlight {
    since: Instant,
    /// The engine must report the update finished, and the tasks must run
    /// the new spec.
    updated: bool,
}

pub(super) struct Scheduler<'a> {
    manager: &'a Engine,
    objects: &'a StackObjects,
    ids: &'a ObjectIds,
    existing: &'a BTreeMap<String, Value>,
    start: Instant,
    pending: Vec<&'a ServiceObject>,
    in_flight: BTreeMap<&'a str, (&'a ServiceObject, InFlight)>,
    known: BTreeSet<&'a str>,
}

impl<'a> Scheduler<'a> {
    pub(super) fn new(
        manager: &'a Engine,
        objects: &'a StackObjects,
        ids: &'a ObjectIds,
        existing: &'a BTreeMap<String, Value>,
    ) -> Self {
        Scheduler {
            manager,
            objects,
            ids,
            existing,
            start: Instant::now(),
            pending: objects.services.iter().collect(),
            in_flight: BTreeMap::new(),
            known: objects.services.iter().map(|s| s.name.as_str()).collect(),
        }
    }

    /// Runs until every service is ready, failed or skipped.
    pub(super) async fn run(
        mut self,
        done: &mut Deployment,
        options: &DeployOptions,
    ) -> Result<(), DeployError> {
        loop {
            self.start_ready(done).await?;
            if self.in_flight.is_empty() {
                // Anything still pending waits on a cycle, which `check`
                // rejects; say so rather than wait forever.
                for s in self.pending.drain(..) {
                    let dependency = s.after.first().cloned().unwrap_or_default();
                    done.services
                        .insert(s.name.clone(), ServiceOutcome::Skipped { dependency });
                }
                return Ok(());
            }
            tokio::time::sleep(options.poll).await;
            self.poll(done, options).await?;
        }
    }

    /// Creates or updates every pending service whose dependencies are all
    /// ready; skips those with a failed dependency.
    async fn start_ready(&mut self, done: &mut Deployment) -> Result<(), DeployError> {
        let mut still = Vec::new();
        for s in std::mem::take(&mut self.pending) {
            let deps: Vec<&str> = s
                .after
                .iter()
                .map(String::as_str)
                .filter(|d| self.known.contains(d))
                .collect();
            if let Some(failed) = deps.iter().find(|d| is_failed(done, d)) {
                let dependency = failed.to_string();
                done.services
                    .insert(s.name.clone(), ServiceOutcome::Skipped { dependency });
                continue;
            }
            if !deps.iter().all(|d| done.ready_after.contains_key(*d)) {
                still.push(s);
                continue;
            }
            let spec = objects::with_ids(&s.spec, self.ids);
            let existing = self.existing.get(&s.full_name);
            let outcome =
                super::step::apply(self.manager, &self.objects.stack, s, spec, existing).await?;
            let updated = outcome == ServiceOutcome::Updated;
            done.started_after
                .insert(s.name.clone(), self.start.elapsed());
            done.services.insert(s.name.clone(), outcome);
            let flight = InFlight {
                since: Instant::now(),
                updated,
            };
            self.in_flight.insert(s.name.as_str(), (s, flight));
        }
        self.pending = still;
        Ok(())
    }

    /// One look at the stack's status: services ready, failed or timed out
    /// leave the in-flight set.
    async fn poll(
        &mut self,
        done: &mut Deployment,
        options: &DeployOptions,
    ) -> Result<(), DeployError> {
        let status = service_status(self.manager, &self.objects.stack).await?;
        let mut finished = Vec::new();
        for (name, (service, flight)) in &self.in_flight {
            let full = service.full_name.as_str();
            let st = status.get(full);
            // A rollback left from an earlier run is not this run's failure:
            // the service is back on the spec it had then.
            let failed = st.and_then(ServiceStatus::failed_update);
            if let Some(reason) = failed.filter(|_| flight.updated) {
                let error = wait::task_error(self.manager, full).await?;
                done.services.insert(
                    name.to_string(),
                    ServiceOutcome::Failed(format!("{reason} (latest task: {error})")),
                );
            } else if st.is_some_and(ServiceStatus::is_ready)
                && (!flight.updated || wait::runs_current_spec(self.manager, full).await?)
            {
                done.ready_after
                    .insert(name.to_string(), self.start.elapsed());
            } else if flight.since.elapsed() > options.service_timeout {
                let error = wait::task_error(self.manager, full).await?;
                done.services
                    .insert(name.to_string(), ServiceOutcome::Failed(error));
            } else {
                continue;
            }
            finished.push(*name);
        }
        for name in finished {
            self.in_flight.remove(name);
        }
        Ok(())
    }
}

fn is_failed(done: &Deployment, name: &str) -> bool {
    matches!(
        done.services.get(name),
        Some(ServiceOutcome::Failed(_) | ServiceOutcome::Skipped { .. })
    )
}
