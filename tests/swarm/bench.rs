//! The speed figures of `tests/swarm.rs`: 20 health-gated services in four
//! dependency levels on the five hosts, from nothing to all healthy,
//! against the lower bound (the sum over levels of the slowest service's
//! start-to-healthy time in that level); then a no-op run.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use sdbc::exec::engine::Engine;
use sdbc::exec::hosts::TEST_IMAGE;
use sdbc::exec::stack::{self, DeployOptions};
use sdbc::model::{Healthcheck, Model, Service};
use sdbc::targets::stack::ObjectNames;
use sdbc::targets::stack::engine::stack_objects;

const LEVELS: usize = 4;
const PER_LEVEL: usize = 5;

fn name(level: usize, i: usize) -> String {
    format!("s{level}-{i}")
}

/// Service `i` of `level` gets healthy 1 to 3 s after it starts and needs
/// every service of the level before.
fn model() -> Model {
    let mut services = Vec::new();
    for level in 0..LEVELS {
        for i in 0..PER_LEVEL {
            let delay = 1 + (level + i) % 3;
            let mut s = Service::new(name(level, i), TEST_IMAGE);
            s.command = Some(vec![
                "sh".into(),
                "-c".into(),
                format!("sleep {delay} && touch /tmp/ready && exec sleep 100000"),
            ]);
            s.healthcheck = Some(Healthcheck {
                test: vec![
                    "CMD".into(),
                    "test".into(),
                    "-f".into(),
                    "/tmp/ready".into(),
                ],
                interval_s: 1,
                timeout_s: 1,
                retries: 3,
                start_period_s: 30,
            });
            if level > 0 {
                s.after = (0..PER_LEVEL).map(|j| name(level - 1, j)).collect();
            }
            services.push(s);
        }
    }
    Model {
        stack: "bench".into(),
        services,
        ..Model::default()
    }
}

pub async fn twenty_services(manager: &Engine) {
    let model = model();
    let objects = stack_objects(&model, &ObjectNames::default()).expect("objects");
    let options = DeployOptions {
        service_timeout: Duration::from_secs(120),
        poll: Duration::from_millis(100),
    };
    let t = Instant::now();
    let done = stack::deploy(manager, &objects, &BTreeMap::new(), &options)
        .await
        .expect("deploy");
    let total = t.elapsed();
    assert_eq!(done.failures().count(), 0, "{done:#?}");
    let mut bound = Duration::ZERO;
    for level in 0..LEVELS {
        let slowest = (0..PER_LEVEL)
            .map(|i| {
                let n = name(level, i);
                done.ready_after[&n] - done.started_after[&n]
            })
            .max()
            .expect("a level has services");
        bound += slowest;
    }
    let ratio = total.as_secs_f64() / bound.as_secs_f64();
    eprintln!(
        "[swarm bench] 20 services in {LEVELS} levels: {:.2}s, lower bound {:.2}s, ratio {ratio:.3}",
        total.as_secs_f64(),
        bound.as_secs_f64()
    );
    assert!(ratio <= 1.2, "apply takes {ratio:.3} times the lower bound");

    let t = Instant::now();
    let planned = stack::changes(manager, &objects).await.expect("changes");
    let plan = t.elapsed();
    eprintln!(
        "[swarm bench] no-op plan of 20 services: {:.3}s",
        plan.as_secs_f64()
    );
    assert!(planned.is_empty(), "{planned:?}");
    assert!(plan < Duration::from_secs(1), "a no-op plan takes {plan:?}");

    let t = Instant::now();
    let again = stack::deploy(manager, &objects, &BTreeMap::new(), &options)
        .await
        .expect("no-op deploy");
    let noop = t.elapsed();
    eprintln!(
        "[swarm bench] no-op run over 20 services: {:.3}s",
        noop.as_secs_f64()
    );
    assert!(again.is_noop(), "{again:#?}");
    assert!(noop < Duration::from_secs(1), "a no-op run takes {noop:?}");
}
