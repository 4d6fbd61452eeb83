//! Writes a valid sdb program of a given size to stdout, for benchmarks.
//!
//!     cargo run --release --example gen -- decls 10000 > /tmp/decls.sdb
//!     cargo run --release --example gen -- cluster 10000 > /tmp/cluster.sdb
//!
//! `decls N`: N declarations of every common kind (about 100 bytes each).
//! `cluster N`: N VMs in groups of 10 plus N services placed on them, each
//! service referring to the one before it.

use std::fmt::Write as _;

fn header(out: &mut String) {
    out.push_str("gce {\n  project = \"bench\"\n  region = \"europe-west1\"\n  zone = \"europe-west1-b\"\n}\n\n");
    out.push_str("network net 10.0.0.0/8;\nvm manager[3] e2-standard-4 swarm=manager;\n\n");
}

fn decls(n: usize) -> String {
    let mut out = String::new();
    header(&mut out);
    let mut i = 0;
    while i < n {
        let k = i % 5;
        let _ = match k {
            0 => writeln!(out, "disk data-{i} 20GB type=pd-balanced;"),
            1 => writeln!(out, "secret token_{i};"),
            2 => writeln!(
                out,
                "firewall fw-{i} tcp:{} from=\"10.0.0.0/8\" to=manager;",
                1000 + i % 50000
            ),
            3 => writeln!(
                out,
                "config conf_{i} \"listen {}\\nserver_name host-{i};\";",
                1000 + i % 50000
            ),
            _ => writeln!(
                out,
                "service svc-{i} image=\"nginx:1.27\" replicas=1 on=manager {{ env N = \"{i}\"; secret token_{}; }}",
                i - 3
            ),
        };
        i += 1;
    }
    out
}

fn cluster(n: usize) -> String {
    let mut out = String::new();
    header(&mut out);
    let groups = n.div_ceil(10);
    for g in 0..groups {
        let _ = writeln!(out, "vm group-{g}[10] e2-standard-2 swarm=worker;");
    }
    for s in 0..n {
        let group = s % groups;
        let _ = write!(
            out,
            "service app-{s} image=\"registry.example/app:{s}\" on=group-{group}"
        );
        if s > 0 {
            let _ = writeln!(out, " {{ env UPSTREAM = app-{}.host; }}", s - 1);
        } else {
            out.push_str(";\n");
        }
    }
    out
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let n = args.get(1).and_then(|a| a.parse().ok()).unwrap_or(1000);
    let text = match args.first().map(String::as_str) {
        Some("cluster") => cluster(n),
        _ => decls(n),
    };
    print!("{text}");
}
