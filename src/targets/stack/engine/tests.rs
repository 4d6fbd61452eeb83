use super::*;
use crate::model::{BindMount, ConfigUse, Placement, SecretUse, Service};

fn model(services: Vec<Service>) -> Model {
    Model {
        stack: "t".into(),
        services,
        ..Model::default()
    }
}

#[test]
fn a_service_carries_the_stack_labels_and_scoped_names() {
    let mut s = Service::new("web", "img:1");
    s.entrypoint = Some(vec!["sh".into(), "-c".into()]);
    s.command = Some(vec!["echo $HOME".into()]);
    s.env.insert("A".into(), "$x".into());
    s.replicas = 3;
    s.placement = Placement {
        group: Some("worker".into()),
        member: None,
    };
    let objects = stack_objects(&model(vec![s]), &ObjectNames::default()).unwrap();
    let spec = &objects.services[0].spec;
    assert_eq!(spec["Name"], "t_web");
    assert_eq!(spec["Labels"][NAMESPACE_LABEL], "t");
    let c = &spec["TaskTemplate"]["ContainerSpec"];
    assert_eq!(c["Command"], json!(["sh", "-c"]), "entrypoint is Command");
    assert_eq!(
        c["Args"],
        json!(["echo $HOME"]),
        "command is Args, unescaped"
    );
    assert_eq!(c["Env"], json!(["A=$x"]));
    assert_eq!(spec["Mode"]["Replicated"]["Replicas"], 3);
    assert_eq!(
        spec["TaskTemplate"]["Placement"]["Constraints"],
        json!(["node.labels.sdbc.group == worker"])
    );
    assert_eq!(spec["TaskTemplate"]["Networks"][0]["Target"], "t_sdbc");
    assert_eq!(
        spec["TaskTemplate"]["Networks"][0]["Aliases"],
        json!(["web"])
    );
    assert_eq!(objects.network["Name"], "t_sdbc");
    assert_eq!(objects.network_name(), "t_sdbc");
}

#[test]
fn secrets_configs_and_binds_are_referenced() {
    let mut s = Service::new("app", "img:1");
    s.secrets.push(SecretUse {
        secret: "pw".into(),
        target: "pw".into(),
    });
    s.configs.push(ConfigUse {
        config: "conf".into(),
        target: "/etc/conf".into(),
    });
    s.binds.push(BindMount {
        source: "/var/log".into(),
        target: "/hostfs/log".into(),
        readonly: true,
    });
    let mut names = ObjectNames::default();
    names.secrets.insert("pw".into(), "pw_0123".into());
    names.configs.insert("conf".into(), "conf_4567".into());
    let mut m = model(vec![s]);
    m.configs.push(crate::model::Config {
        name: "conf".into(),
        content: "x=1".into(),
        span: Default::default(),
    });
    let objects = stack_objects(&m, &names).unwrap();
    let c = &objects.services[0].spec["TaskTemplate"]["ContainerSpec"];
    assert_eq!(c["Secrets"][0]["SecretName"], "pw_0123");
    assert_eq!(c["Secrets"][0]["File"]["Name"], "pw");
    assert_eq!(c["Configs"][0]["ConfigName"], "conf_4567");
    assert_eq!(c["Mounts"][0]["Type"], "bind");
    assert_eq!(c["Mounts"][0]["ReadOnly"], true);
    assert_eq!(objects.configs["conf_4567"], "x=1");
    let missing = stack_objects(&m, &ObjectNames::default()).unwrap_err();
    assert!(matches!(missing, StackError::MissingSecret { .. }));
}
