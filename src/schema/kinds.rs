//! The table of built-in kinds. Keep `docs/language.md` in step with it.

use super::loadtest::{ASSERT, EXTRACT, LOADTEST, STEP};
use super::{ArgSchema, KindSchema, Place, Subject, Ty, ValueRule};

pub(super) const fn req(name: &'static str, ty: Ty, doc: &'static str) -> ArgSchema {
    ArgSchema {
        name,
        ty,
        required: true,
        default: None,
        doc,
    }
}

pub(super) const fn opt(
    name: &'static str,
    ty: Ty,
    default: &'static str,
    doc: &'static str,
) -> ArgSchema {
    ArgSchema {
        name,
        ty,
        required: false,
        default: Some(default),
        doc,
    }
}

pub(super) const fn may(name: &'static str, ty: Ty, doc: &'static str) -> ArgSchema {
    ArgSchema {
        name,
        ty,
        required: false,
        default: None,
        doc,
    }
}

const PORT_LIST: Ty = Ty::ListOf(&Ty::PortSpec);
const STR_LIST: Ty = Ty::ListOf(&Ty::Str);
const SERVICE_REFS: Ty = Ty::ListOf(&Ty::Ref(&["service"]));
pub const SWARM_ROLES: &[&str] = &["manager", "worker", "none"];

pub(super) const fn kind(name: &'static str, place: Place, doc: &'static str) -> KindSchema {
    KindSchema {
        name,
        place,
        doc,
        subject: Subject::Name,
        value: ValueRule::Forbidden,
        positional: &[],
        attrs: &[],
        body: false,
        example: "",
    }
}

pub static KINDS: &[KindSchema] = &[
    LOADTEST,
    STEP,
    EXTRACT,
    ASSERT,
    KindSchema {
        subject: Subject::None,
        positional: &[req(
            "path",
            Ty::Str,
            "`std/NAME` for the standard library, or a path relative to this file",
        )],
        example: "import \"std/redis_ha\";",
        ..kind(
            "import",
            Place::Top,
            "Brings the modules and declarations of another file into this one.",
        )
    },
    KindSchema {
        value: ValueRule::Optional,
        attrs: &[may("doc", Ty::Str, "what the input is for")],
        example: "param admin_cidr = \"203.0.113.0/24\";",
        ..kind(
            "param",
            Place::Top,
            "An input: `--var NAME=VALUE`, else the environment variable `SDB_VAR_NAME`, else the default.",
        )
    },
    KindSchema {
        value: ValueRule::Required,
        example: "let image = \"misago/misago:0.39\";",
        ..kind("let", Place::Top, "A named value, computed once.")
    },
    KindSchema {
        value: ValueRule::Required,
        example: "output web_ip = worker[0].external_ip;",
        ..kind(
            "output",
            Place::Top,
            "A value shown after `plan` and `apply`.",
        )
    },
    KindSchema {
        body: true,
        example: "module cache(replicas = 1, on) { service redis image=\"redis:7\" replicas=replicas on=on; }",
        ..kind(
            "module",
            Place::Top,
            "A new kind built from others; `cache c on=worker;` declares what its body declares, addressed as `c.NAME`.",
        )
    },
    KindSchema {
        subject: Subject::None,
        body: true,
        attrs: &[
            may(
                "project",
                Ty::Str,
                "the Google Cloud project (or `GOOGLE_CLOUD_PROJECT`)",
            ),
            opt(
                "region",
                Ty::Word,
                "us-central1",
                "region of regional resources",
            ),
            may(
                "zone",
                Ty::Word,
                "default zone of disks and VMs (defaults to the region's zone `-b`)",
            ),
            opt(
                "image",
                Ty::Str,
                "ubuntu-os-cloud/ubuntu-2404-lts-amd64",
                "default image family of VMs, `PROJECT/FAMILY`",
            ),
            may(
                "stack",
                Ty::Word,
                "stack name labelling every resource (defaults to the file name)",
            ),
        ],
        example: "gce { project = \"my-project\" region = \"europe-west1\" }",
        ..kind(
            "gce",
            Place::Top,
            "Compute Engine settings for the whole program.",
        )
    },
    KindSchema {
        positional: &[req("range", Ty::Cidr, "the subnetwork's address range")],
        attrs: &[may(
            "region",
            Ty::Word,
            "region of the subnetwork (defaults to gce.region)",
        )],
        example: "network misago 10.10.0.0/24;",
        ..kind("network", Place::Top, "A VPC network with one subnetwork.")
    },
    KindSchema {
        positional: &[req(
            "ports",
            Ty::PortSpec,
            "the allowed protocol and ports, e.g. `tcp:80,443`",
        )],
        attrs: &[
            opt(
                "from",
                Ty::Any,
                "\"0.0.0.0/0\"",
                "source range, or a list of them",
            ),
            may(
                "to",
                Ty::Ref(&["vm"]),
                "the VM or group it applies to (default: all)",
            ),
            may(
                "network",
                Ty::Ref(&["network"]),
                "the network (default: the only one)",
            ),
            may("also", PORT_LIST, "further protocol/port sets"),
        ],
        example: "firewall public tcp:80,443 from=\"0.0.0.0/0\" to=worker;",
        ..kind("firewall", Place::Top, "An ingress rule.")
    },
    KindSchema {
        attrs: &[may("region", Ty::Word, "region (defaults to gce.region)")],
        example: "address lb;",
        ..kind("address", Place::Top, "A static external address.")
    },
    KindSchema {
        positional: &[req("size", Ty::Size, "size, in whole GB")],
        attrs: &[
            opt("type", Ty::Word, "pd-balanced", "disk type"),
            may("zone", Ty::Word, "zone (defaults to gce.zone)"),
        ],
        example: "disk static-files 20GB;",
        ..kind(
            "disk",
            Place::Top,
            "A network disk, created before and deleted after the VMs that use it.",
        )
    },
    KindSchema {
        subject: Subject::NameOrGroup,
        body: true,
        positional: &[req(
            "machine_type",
            Ty::Word,
            "the machine type, e.g. `e2-standard-2`",
        )],
        attrs: &[
            opt(
                "swarm",
                Ty::Enum(SWARM_ROLES),
                "none",
                "its role in the Docker Swarm",
            ),
            opt(
                "static_ip",
                Ty::Bool,
                "false",
                "reserve a static external address",
            ),
            opt(
                "external_ip",
                Ty::Bool,
                "true",
                "give it an external address at all",
            ),
            may(
                "image",
                Ty::Str,
                "image family, `PROJECT/FAMILY` (default gce.image)",
            ),
            may("zone", Ty::Word, "zone (default gce.zone)"),
            opt("disk_size", Ty::Size, "20GB", "boot disk size"),
            may(
                "network",
                Ty::Ref(&["network"]),
                "network (default: the only one)",
            ),
            may("tags", STR_LIST, "extra network tags"),
            may("labels", Ty::Map, "extra labels"),
            may("sysctl", Ty::Map, "kernel settings"),
        ],
        example: "vm worker[4] e2-standard-2 swarm=worker static_ip=(index == 0);",
        ..kind(
            "vm",
            Place::Top,
            "A Compute Engine VM, or a group of them (`worker[4]` is `worker-0` .. `worker-3`).",
        )
    },
    KindSchema {
        subject: Subject::Refs(&["disk"]),
        attrs: &[req("at", Ty::Str, "where it is mounted and exported")],
        example: "nfs_export static-files at \"/srv/static\";",
        ..kind(
            "nfs_export",
            Place::Vm,
            "Attach a disk, format and mount it, and export it over NFS to the network; every other VM mounts it at the same path.",
        )
    },
    KindSchema {
        subject: Subject::Names,
        example: "secret db_password;",
        ..kind(
            "secret",
            Place::Top,
            "A secret generated once, stored encrypted by sdbc and given to services as a Docker secret; never printed.",
        )
    },
    KindSchema {
        positional: &[req(
            "content",
            Ty::Str,
            "the content: a string, `file(\"path\")` or `template(\"path\")`",
        )],
        example: "config nginx template(\"misago/nginx.conf\");",
        ..kind(
            "config",
            Place::Top,
            "A configuration file given to services as a Docker config.",
        )
    },
    KindSchema {
        body: true,
        attrs: &[
            req("image", Ty::Str, "the container image"),
            opt("replicas", Ty::Int, "1", "number of tasks"),
            opt(
                "mode",
                Ty::Enum(&["replicated", "global"]),
                "replicated",
                "`global` runs one task per node",
            ),
            may("on", Ty::Ref(&["vm"]), "the VM group or member it runs on"),
            may(
                "publish",
                Ty::Any,
                "published ports: `80:8080` or a list of them",
            ),
            may("command", Ty::Any, "the command, a list of strings"),
            may("entrypoint", Ty::Any, "the entrypoint, a list of strings"),
            may("cpus", Ty::Number, "CPUs reserved per task"),
            may("memory", Ty::Size, "memory reserved per task"),
            may("limit_cpus", Ty::Number, "CPU limit per task"),
            may("limit_memory", Ty::Size, "memory limit per task"),
            may("after", SERVICE_REFS, "services that must be running first"),
            opt(
                "update_order",
                Ty::Enum(&["stop-first", "start-first"]),
                "stop-first",
                "rolling update order",
            ),
            opt("update_parallelism", Ty::Int, "1", "tasks updated at once"),
            opt(
                "restart",
                Ty::Enum(&["none", "on-failure", "any"]),
                "any",
                "restart condition",
            ),
            may(
                "host_sysctl",
                Ty::Map,
                "kernel settings the hosts it runs on need, e.g. `{ \"vm.max_map_count\": 262144 }`",
            ),
        ],
        example: "service web image=\"nginx:1.27\" replicas=2 on=worker publish=80:80;",
        ..kind("service", Place::Top, "A Docker Swarm service.")
    },
    KindSchema {
        value: ValueRule::Required,
        example: "env POSTGRES_HOST = postgres;",
        ..kind(
            "env",
            Place::Service,
            "An environment variable; a reference to a service becomes its host name.",
        )
    },
    KindSchema {
        subject: Subject::Refs(&["secret"]),
        attrs: &[may(
            "at",
            Ty::Str,
            "file name under /run/secrets/ (default: the secret's name)",
        )],
        example: "secret db_password;",
        ..kind(
            "secret",
            Place::Service,
            "Give secrets to the service as files under /run/secrets/.",
        )
    },
    KindSchema {
        subject: Subject::Refs(&["config"]),
        attrs: &[req("at", Ty::Str, "absolute path in the container")],
        example: "config nginx at \"/etc/nginx/conf.d/misago.conf\";",
        ..kind(
            "config",
            Place::Service,
            "Give a config to the service as a file.",
        )
    },
    KindSchema {
        attrs: &[req("at", Ty::Str, "absolute path in the container")],
        example: "volume pgdata at \"/var/lib/postgresql/data\";",
        ..kind(
            "volume",
            Place::Service,
            "A named volume on the node; makes the service stateful.",
        )
    },
    KindSchema {
        subject: Subject::Refs(&["nfs_export"]),
        positional: &[may("readonly", Ty::Enum(&["readonly"]), "mount read-only")],
        attrs: &[req("at", Ty::Str, "absolute path in the container")],
        example: "mount monitoring.nfs.static-files at \"/static\" readonly;",
        ..kind(
            "mount",
            Place::Service,
            "Mount an NFS export (`VM.nfs.DISK`) into the service.",
        )
    },
    KindSchema {
        subject: Subject::None,
        positional: &[
            req("source", Ty::Str, "absolute path on the host"),
            may("readonly", Ty::Enum(&["readonly"]), "mount read-only"),
        ],
        attrs: &[req("at", Ty::Str, "absolute path in the container")],
        example: "bind \"/var/lib/docker/containers\" at \"/var/lib/docker/containers\" readonly;",
        ..kind(
            "bind",
            Place::Service,
            "Mount a directory of the host the task runs on (for agents such as log shippers).",
        )
    },
    KindSchema {
        subject: Subject::None,
        positional: &[req(
            "test",
            Ty::Any,
            "the test: a list such as `[\"CMD\", \"redis-cli\", \"ping\"]` or a shell string",
        )],
        attrs: &[
            opt("interval", Ty::Duration, "10s", "time between checks"),
            opt("timeout", Ty::Duration, "5s", "time a check may take"),
            opt("retries", Ty::Int, "3", "failures before unhealthy"),
            opt(
                "start_period",
                Ty::Duration,
                "0s",
                "grace period after start",
            ),
        ],
        example: "healthcheck [\"CMD\", \"redis-cli\", \"ping\"] interval=5s;",
        ..kind(
            "healthcheck",
            Place::Service,
            "How Swarm tells that a task is healthy.",
        )
    },
];
