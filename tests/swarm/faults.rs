//! Runs cut short at seeded random moments, each followed by a plain
//! re-run: formation, then deployment. The cut aborts the running task,
//! which drops its connections mid-request exactly as a killed process
//! would, as far as the engines can tell. After every re-run: one Swarm,
//! every VM's node there once, every service there once and ready.

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use sdbc::exec::engine::Engine;
use sdbc::exec::stack::{self, DeployOptions};
use sdbc::exec::swarm::{self, Member, Role};
use sdbc::model::Model;
use serde_json::Value;

use super::rng::Rng;
use super::timed;

const SEEDS: u64 = 5;

/// Every member leaves, all at once (with `force`): the hosts are as new.
pub async fn reset(members: &[Member]) {
    let mut leaving = tokio::task::JoinSet::new();
    for m in members {
        let engine = m.engine.clone();
        leaving.spawn(async move {
            let _ = engine.post("/swarm/leave?force=true", &Value::Null).await;
        });
    }
    while leaving.join_next().await.is_some() {}
}

pub async fn formation(members: &[Member]) {
    let t = Instant::now();
    for seed in 1..=SEEDS {
        let cut = Duration::from_millis(Rng::new(seed).below(2500) as u64);
        let run = {
            let members = members.to_vec();
            tokio::spawn(async move { swarm::form(&members).await })
        };
        tokio::time::sleep(cut).await;
        run.abort();
        let _ = run.await;
        let formed = swarm::form(members)
            .await
            .expect("the re-run forms the Swarm");
        assert_eq!(
            formed.failures().count(),
            0,
            "seed {seed}: {:?}",
            formed.outcomes
        );
        super::assert_nodes(&members[0].engine, members.len()).await;
        for m in members.iter().filter(|m| m.role == Role::Manager) {
            let info = m.engine.get("/info").await.expect("info");
            assert_eq!(
                info["Swarm"]["Cluster"]["ID"], formed.cluster_id,
                "seed {seed}: {} is in the one Swarm",
                m.vm
            );
        }
        reset(members).await;
    }
    timed(&format!("{SEEDS} cut formations and re-runs"), t);
}

/// The stack's services, secrets and configs, by name (one call per kind).
async fn stack_names(manager: &Engine, stack: &str) -> [Vec<String>; 3] {
    let filter = sdbc::exec::engine::query_value(&format!(
        r#"{{"label":["com.docker.stack.namespace={stack}"]}}"#
    ));
    let mut out: [Vec<String>; 3] = Default::default();
    for (i, kind) in ["services", "secrets", "configs"].iter().enumerate() {
        let list = manager
            .get(&format!("/{kind}?filters={filter}"))
            .await
            .expect("list");
        out[i] = list
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|o| o["Spec"]["Name"].as_str().map(str::to_string))
            .collect();
        out[i].sort();
    }
    out
}

/// Removes the stack's services, then its secrets and configs.
async fn remove_stack(manager: &Engine, stack: &str) {
    let [services, secrets, configs] = stack_names(manager, stack).await;
    for s in services {
        manager
            .delete(&format!("/services/{s}"))
            .await
            .expect("remove service");
    }
    for s in secrets {
        manager
            .delete(&format!("/secrets/{s}"))
            .await
            .expect("remove secret");
    }
    for c in configs {
        manager
            .delete(&format!("/configs/{c}"))
            .await
            .expect("remove config");
    }
}

pub async fn deployment(manager: &Engine, model: &Model) {
    let t = Instant::now();
    let objects = super::swarm_stack::objects(model);
    let values = super::swarm_stack::values();
    let options = DeployOptions {
        service_timeout: Duration::from_secs(90),
        poll: Duration::from_millis(200),
    };
    for seed in 1..=SEEDS {
        let cut = Duration::from_millis(Rng::new(seed + 100).below(7000) as u64);
        let run = {
            let (manager, objects, values, options) = (
                manager.clone(),
                objects.clone(),
                values.clone(),
                options.clone(),
            );
            tokio::spawn(async move { stack::deploy(&manager, &objects, &values, &options).await })
        };
        tokio::time::sleep(cut).await;
        run.abort();
        let _ = run.await;
        let done = stack::deploy(manager, &objects, &values, &options)
            .await
            .expect("the re-run deploys");
        assert_eq!(done.failures().count(), 0, "seed {seed}: {done:#?}");
        assert_eq!(
            done.ready_after.len(),
            objects.services.len(),
            "seed {seed}"
        );
        let [services, secrets, configs] = stack_names(manager, &objects.stack).await;
        let wanted: BTreeSet<String> = objects
            .services
            .iter()
            .map(|s| s.full_name.clone())
            .collect();
        assert_eq!(
            services,
            wanted.into_iter().collect::<Vec<_>>(),
            "seed {seed}: each service once"
        );
        assert_eq!(
            secrets.len(),
            objects.secrets.len(),
            "seed {seed}: {secrets:?}"
        );
        assert_eq!(
            configs.len(),
            objects.configs.len(),
            "seed {seed}: {configs:?}"
        );
        remove_stack(manager, &objects.stack).await;
    }
    timed(&format!("{SEEDS} cut deployments and re-runs"), t);
}
