//! Unit tests of the stack-file writer: names, units, escaping, placement,
//! volumes and the errors. The whole-file snapshot and the validation by
//! `docker stack config` are in `tests/stack_build.rs` and
//! `tests/stack_validate.rs`.

use super::*;
use crate::model::{ConfigUse, NfsVolumeUse, Placement, SecretUse, Service, ServiceMode};

fn service(name: &str) -> Service {
    Service::new(name, "busybox:1.36")
}

fn model(services: Vec<Service>) -> Model {
    Model {
        stack: "t".into(),
        services,
        ..Model::default()
    }
}

fn build(services: Vec<Service>) -> String {
    match stack_file(&model(services), &ObjectNames::default()) {
        Ok(text) => text,
        Err(e) => panic!("{e}"),
    }
}

#[test]
fn config_names_hash_the_content() {
    // sha256("") = e3b0c44298fc1c149afbf4c8996fb924...
    assert_eq!(config_object_name("nginx", ""), "nginx_e3b0c44298fc");
    assert_ne!(
        config_object_name("nginx", "a"),
        config_object_name("nginx", "b")
    );
}

#[test]
fn secret_names_take_the_digest_prefix() {
    assert_eq!(
        secret_object_name("db_password", "9F86D081884C7D659A2FEAA0C55AD015"),
        "db_password_9f86d081884c"
    );
}

#[test]
fn long_names_fit_swarms_limit() {
    let long = "a".repeat(63);
    let name = config_object_name(&long, "x");
    assert_eq!(name.len(), 64);
    assert!(name.starts_with(&"a".repeat(51)));
}

#[test]
fn memory_uses_the_largest_exact_binary_unit() {
    assert_eq!(memory(512 << 20), "512M");
    assert_eq!(memory(2 << 30), "2G");
    assert_eq!(memory(1536 << 20), "1536M");
    assert_eq!(memory(3 << 10), "3K");
    assert_eq!(memory(1000), "1000");
    assert_eq!(memory(0), "0");
}

#[test]
fn dollars_are_escaped_for_interpolation() {
    let mut s = service("app");
    s.env.insert("A".into(), "${HOME} $x".into());
    s.command = Some(vec!["echo".into(), "$PATH".into()]);
    let text = build(vec![s]);
    assert!(text.contains("A: $${HOME} $$x"), "{text}");
    assert!(text.contains("- $$PATH"), "{text}");
}

#[test]
fn global_services_have_no_replicas() {
    let mut s = service("agent");
    s.mode = ServiceMode::Global;
    let text = build(vec![s]);
    assert!(text.contains("mode: global"), "{text}");
    assert!(!text.contains("replicas"), "{text}");
}

#[test]
fn placement_on_a_member_names_group_and_member() {
    let mut s = service("db");
    s.placement = Placement {
        group: Some("manager".into()),
        member: Some("manager-0".into()),
    };
    let text = build(vec![s]);
    assert!(
        text.contains(
            "constraints:\n        - node.labels.sdbc.group == manager\n        - node.labels.sdbc.vm == manager-0\n"
        ),
        "{text}"
    );
}

#[test]
fn read_only_and_read_write_nfs_uses_are_two_volumes() {
    let nfs = |readonly| NfsVolumeUse {
        volume: "static".into(),
        server_ip: "10.0.0.2".into(),
        export_path: "/srv/static".into(),
        target: "/static".into(),
        readonly,
    };
    let mut a = service("a");
    a.nfs_mounts = vec![nfs(false)];
    let mut b = service("b");
    b.nfs_mounts = vec![nfs(true)];
    let text = build(vec![a, b]);
    assert!(text.contains("o: addr=10.0.0.2,nfsvers=4,rw"), "{text}");
    assert!(text.contains("o: addr=10.0.0.2,nfsvers=4,ro"), "{text}");
    assert!(text.contains("  static-ro:\n"), "{text}");
    assert!(text.contains("device: \":/srv/static\""), "{text}");
    assert_eq!(text.matches("read_only: true").count(), 1, "{text}");
}

#[test]
fn services_keep_source_order() {
    let text = build(vec![service("zeta"), service("alpha")]);
    let zeta = text.find("  zeta:");
    let alpha = text.find("  alpha:");
    assert!(zeta.is_some() && alpha.is_some() && zeta < alpha, "{text}");
}

#[test]
fn a_secret_without_a_name_is_an_error() {
    let mut s = service("app");
    let s_span = s.span;
    s.secrets = vec![SecretUse {
        secret: "db".into(),
        target: "db".into(),
    }];
    let err = stack_file(&model(vec![s]), &ObjectNames::default());
    assert_eq!(
        err,
        Err(StackError::MissingSecret {
            service: "app".into(),
            secret: "db".into(),
            span: s_span,
        })
    );
}

#[test]
fn a_config_without_a_name_is_an_error() {
    let mut s = service("app");
    s.configs = vec![ConfigUse {
        config: "conf".into(),
        target: "/etc/conf".into(),
    }];
    let err = stack_file(&model(vec![s]), &ObjectNames::default());
    assert!(
        matches!(err, Err(StackError::MissingConfig { .. })),
        "{err:?}"
    );
}

#[test]
fn object_names_for_model_scope_and_hash_configs_and_skip_secrets_without_digest() {
    let mut m = model(vec![]);
    m.configs = vec![crate::model::Config {
        name: "c".into(),
        content: String::new(),
        span: Default::default(),
    }];
    m.secrets = vec![crate::model::Secret {
        name: "s".into(),
        span: Default::default(),
    }];
    let names = ObjectNames::for_model(&m, &BTreeMap::new());
    assert_eq!(
        names.configs.get("c").map(String::as_str),
        Some("t_c_e3b0c44298fc"),
        "scoped by the stack, then hashed"
    );
    assert!(names.secrets.is_empty());
}

#[test]
fn bind_mounts_are_written() {
    let mut s = service("beat");
    s.binds.push(crate::model::BindMount {
        source: "/var/lib/docker/containers".into(),
        target: "/var/lib/docker/containers".into(),
        readonly: true,
    });
    let text = build(vec![s]);
    assert!(
        text.contains("- type: bind\n      source: /var/lib/docker/containers\n      target: /var/lib/docker/containers\n      read_only: true\n"),
        "{text}"
    );
}
