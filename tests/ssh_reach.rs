//! E0407: `check` warns when sdbc could not reach a Swarm VM over SSH (no
//! external address, or no firewall admitting tcp:22 to it), and stays
//! quiet when every Swarm VM is reachable.

use std::collections::BTreeMap;

use sdbc::sema::{DiskReader, Env, analyze_bytes};

/// The groups E0407 names, in order.
fn unreachable(program: &str) -> Vec<String> {
    let env = Env {
        vars: BTreeMap::new(),
        getenv: Box::new(|_| None),
        reader: &DiskReader,
    };
    let analysis = sdbc::pipeline::check(analyze_bytes(
        "ssh.sdb",
        None,
        program.as_bytes().to_vec(),
        &env,
    ));
    analysis
        .diagnostics
        .iter()
        .filter(|d| d.code == sdbc::diag::Code::NoSshPath)
        .map(|d| d.message.clone())
        .collect()
}

const VMS: &str = "network net 10.0.0.0/24;\n\
                   vm manager[3] e2-small swarm=manager;\n\
                   vm worker[2] e2-small swarm=worker;\n\
                   service app image=\"nginx:1.27\" on=worker;\n";

#[test]
fn a_firewall_admitting_ssh_to_every_vm_is_enough() {
    let program = format!("{VMS}firewall admin tcp:22 from=\"198.18.0.0/24\";\n");
    assert_eq!(unreachable(&program), Vec::<String>::new());
    let range = format!("{VMS}firewall admin tcp:20-30,443 from=\"198.18.0.0/24\";\n");
    assert_eq!(unreachable(&range), Vec::<String>::new());
}

#[test]
fn the_misago_example_is_reachable() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/examples/misago.sdb");
    let text = std::fs::read_to_string(path).expect("examples/misago.sdb");
    assert_eq!(unreachable(&text), Vec::<String>::new());
}

#[test]
fn a_group_no_firewall_targets_is_named_once() {
    let program = format!("{VMS}firewall admin tcp:22 from=\"198.18.0.0/24\" to=worker;\n");
    let found = unreachable(&program);
    assert_eq!(found.len(), 1, "{found:?}");
    assert!(
        found[0].contains("manager `manager`") && found[0].contains("tcp:22"),
        "{found:?}"
    );
}

#[test]
fn other_ports_and_no_external_address_are_named() {
    let program = VMS.replace("swarm=worker;", "swarm=worker external_ip=false;")
        + "firewall admin tcp:2222 from=\"198.18.0.0/24\";\n";
    let found = unreachable(&program);
    assert_eq!(found.len(), 2, "{found:?}");
    assert!(
        found[0].contains("`manager`") && found[0].contains("tcp:22"),
        "{found:?}"
    );
    assert!(
        found[1].contains("`worker`") && found[1].contains("no external address"),
        "{found:?}"
    );
}

#[test]
fn programs_with_errors_or_without_services_get_no_warning() {
    let with_error = format!("{VMS}service broken image=1;\n");
    assert_eq!(unreachable(&with_error), Vec::<String>::new());
    let no_services = VMS.replace("service app image=\"nginx:1.27\" on=worker;\n", "");
    assert_eq!(unreachable(&no_services), Vec::<String>::new());
    // Sanity: the same VMs with services and no firewall are warned about.
    assert_eq!(unreachable(VMS).len(), 2);
}
