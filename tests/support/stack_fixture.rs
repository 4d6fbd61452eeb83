//! A hand-built resolved model resembling the seed deployment (nginx in
//! front, Misago and Celery on the workers, PostgreSQL pinned to one
//! manager, Redis with a healthcheck, the static-files NFS export mounted
//! read-write by the app and read-only by nginx, secrets and configs), for the
//! stack-file tests. Built by hand so these tests do not depend on the parser.

use std::collections::BTreeMap;

use sdbc::model::*;
use sdbc::targets::stack::{ObjectNames, config_object_name, secret_object_name};

fn service(name: &str, image: &str) -> Service {
    Service::new(name, image)
}

fn on_group(group: &str) -> Placement {
    Placement {
        group: Some(group.into()),
        member: None,
    }
}

fn static_files(target: &str, readonly: bool) -> NfsVolumeUse {
    NfsVolumeUse {
        volume: "static-files".into(),
        server_ip: "10.10.0.2".into(),
        export_path: "/srv/static".into(),
        target: target.into(),
        readonly,
    }
}

fn secret_use(name: &str) -> SecretUse {
    SecretUse {
        secret: name.into(),
        target: name.into(),
    }
}

/// The model.
pub fn seed_model() -> Model {
    let mut web = service("web", "nginx:1.27");
    web.replicas = 2;
    web.placement = on_group("worker");
    web.publish = vec![PortMapping {
        published: 80,
        target: 80,
        protocol: "tcp".into(),
    }];
    web.configs = vec![ConfigUse {
        config: "nginx".into(),
        target: "/etc/nginx/conf.d/misago.conf".into(),
    }];
    web.nfs_mounts = vec![static_files("/static", true)];
    web.reserve = Resources {
        cpus: Some(0.25),
        memory_bytes: Some(128 << 20),
    };
    web.limit = Resources {
        cpus: Some(1.0),
        memory_bytes: Some(512 << 20),
    };
    web.update = UpdatePolicy {
        parallelism: 1,
        delay_s: 10,
        order: "start-first".into(),
    };
    web.after = vec!["misago".into()];

    let mut misago = service("misago", "misago/misago:0.39");
    misago.replicas = 3;
    misago.placement = on_group("worker");
    misago.env = BTreeMap::from([
        ("DEBUG".into(), "False".into()),
        ("POSTGRES_HOST".into(), "postgres".into()),
        (
            "POSTGRES_PASSWORD_FILE".into(),
            "/run/secrets/db_password".into(),
        ),
        ("REDIS_HOST".into(), "redis-proxy".into()),
        ("GUNICORN_WORKER_CONNECTIONS".into(), "1000".into()),
        ("FEATURE_FLAG".into(), "on".into()),
        (
            "ACCESS_LOG_FORMAT".into(),
            "%(h)s $remote_addr %(r)s".into(),
        ),
    ]);
    misago.secrets = vec![secret_use("db_password"), secret_use("django_secret")];
    misago.configs = vec![ConfigUse {
        config: "gunicorn".into(),
        target: "/etc/gunicorn.conf.py".into(),
    }];
    misago.nfs_mounts = vec![static_files("/misago/static", false)];
    misago.reserve = Resources {
        cpus: Some(0.5),
        memory_bytes: Some(512 << 20),
    };
    misago.restart = RestartPolicy {
        condition: "on-failure".into(),
        delay_s: 5,
        max_attempts: Some(3),
    };

    let mut celery = service("celery", "misago/misago:0.39");
    celery.replicas = 2;
    celery.placement = on_group("worker");
    celery.command = Some(vec![
        "celery".into(),
        "-A".into(),
        "misago".into(),
        "worker".into(),
    ]);
    celery.env = BTreeMap::from([("REDIS_HOST".into(), "redis-proxy".into())]);
    celery.secrets = vec![secret_use("django_secret")];

    let mut postgres = service("postgres", "postgres:16");
    postgres.placement = Placement {
        group: Some("manager".into()),
        member: Some("manager-0".into()),
    };
    postgres.volumes = vec![VolumeUse {
        volume: "pgdata".into(),
        target: "/var/lib/postgresql/data".into(),
    }];
    postgres.env = BTreeMap::from([(
        "POSTGRES_PASSWORD_FILE".into(),
        "/run/secrets/db_password".into(),
    )]);
    postgres.secrets = vec![secret_use("db_password")];
    postgres.reserve = Resources {
        cpus: Some(1.0),
        memory_bytes: Some(1 << 30),
    };

    let mut redis = service("redis", "redis:7.4");
    redis.placement = on_group("manager");
    redis.entrypoint = Some(vec!["redis-server".into()]);
    redis.command = Some(vec!["--appendonly".into(), "yes".into()]);
    redis.healthcheck = Some(Healthcheck {
        test: vec!["CMD".into(), "redis-cli".into(), "ping".into()],
        interval_s: 10,
        timeout_s: 5,
        retries: 3,
        start_period_s: 30,
    });

    let mut metricbeat = service("metricbeat", "docker.elastic.co/beats/metricbeat:8.15.0");
    metricbeat.mode = ServiceMode::Global;
    metricbeat.replicas = 0;

    Model {
        stack: "misago".into(),
        secrets: ["db_password", "django_secret"]
            .into_iter()
            .map(|n| Secret {
                name: n.into(),
                span: Default::default(),
            })
            .collect(),
        configs: vec![
            Config {
                name: "nginx".into(),
                content: "server { listen 80; location /static/ { root /; expires 365d; } }\n"
                    .into(),
                span: Default::default(),
            },
            Config {
                name: "gunicorn".into(),
                content: "bind = \"0.0.0.0:80\"\nworkers = 5\n".into(),
                span: Default::default(),
            },
        ],
        services: vec![web, misago, celery, postgres, redis, metricbeat],
        ..Model::default()
    }
}

/// Object names as the caller computes them: configs from their content,
/// secrets from fixed digests (the values are never in the model).
pub fn seed_names(model: &Model) -> ObjectNames {
    let digests = BTreeMap::from([
        (
            "db_password".to_string(),
            "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08".to_string(),
        ),
        (
            "django_secret".to_string(),
            "60303ae22b998861bce3b28f33eec1be758a213c86c93c076dbe9f558c11c752".to_string(),
        ),
    ]);
    let names = ObjectNames::for_model(model, &digests);
    debug_assert_eq!(
        names.configs.get("nginx"),
        Some(&config_object_name(
            "misago_nginx",
            &model.configs[0].content
        ))
    );
    debug_assert_eq!(
        names.secrets.get("db_password"),
        Some(&secret_object_name(
            "misago_db_password",
            &digests["db_password"]
        ))
    );
    names
}
