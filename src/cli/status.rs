//! `sdbc status FILE [--json]`: the Swarm's nodes and the stack's services
//! as a manager reports them (like `docker node ls` and `docker stack
//! services`). Exit 0 when every node is ready and every service runs all
//! its tasks, 1 when not (or no manager answers), 2 on usage or I/O errors.

use std::io::Write;
use std::path::PathBuf;

use super::common::{self, ExitStatus};
use crate::diag::ColorChoice;
use crate::exec::status::{NodeRow, ServiceRow, StackStatus};

#[derive(clap::Args, Debug)]
pub struct Args {
    /// The program.
    #[arg(value_name = "FILE")]
    pub file: PathBuf,
    /// Print the status as JSON on stdout.
    #[arg(long)]
    pub json: bool,
    /// Set a `param`: NAME=VALUE (repeatable).
    #[arg(long = "var", value_name = "NAME=VALUE", value_parser = common::parse_var)]
    pub vars: Vec<(String, String)>,
}

pub fn run(args: Args, color: ColorChoice) -> ExitStatus {
    let checked = match common::load_without_errors(&args.file, &args.vars, color) {
        Ok(c) => c,
        Err(status) => return status,
    };
    let model = &checked.analysis.model;
    let rt = match super::deploy::runtime(color) {
        Ok(rt) => rt,
        Err(status) => return status,
    };
    let status = rt.block_on(async {
        let manager = super::cluster::manager(&args.file, model, color).await?;
        crate::exec::status::gather(&manager, &model.stack)
            .await
            .map_err(|e| {
                common::error_line(color, &e.to_string());
                ExitStatus::Errors
            })
    });
    let status = match status {
        Ok(s) => s,
        Err(code) => return code,
    };
    let text = if args.json {
        let mut t = serde_json::to_string_pretty(&status).expect("the status always serializes");
        t.push('\n');
        t
    } else {
        render(&status)
    };
    let _ = std::io::stdout().write_all(text.as_bytes());
    if status.is_healthy() {
        ExitStatus::Ok
    } else {
        ExitStatus::Errors
    }
}

/// The two tables, columns padded to their widest cell.
pub fn render(status: &StackStatus) -> String {
    let mut out = format!("Swarm nodes (asked {}):\n", status.manager);
    let nodes: Vec<Vec<String>> = status.nodes.iter().map(node_cells).collect();
    out.push_str(&table(
        &[
            "HOSTNAME",
            "VM",
            "ROLE",
            "STATUS",
            "AVAILABILITY",
            "MANAGER STATUS",
        ],
        &nodes,
    ));
    out.push_str(&format!("\nServices of stack {}:\n", status.stack));
    let services: Vec<Vec<String>> = status.services.iter().map(service_cells).collect();
    out.push_str(&table(
        &["NAME", "MODE", "REPLICAS", "HEALTH", "IMAGE"],
        &services,
    ));
    for s in status.services.iter() {
        if let Some(e) = &s.error {
            out.push_str(&format!("{}: {e}\n", s.name));
        }
        if let Some(u) = s.update.as_deref().filter(|u| *u != "completed") {
            out.push_str(&format!("{}: update {u}\n", s.name));
        }
    }
    out
}

fn node_cells(n: &NodeRow) -> Vec<String> {
    vec![
        n.hostname.clone(),
        n.vm.clone(),
        n.role.clone(),
        n.state.clone(),
        n.availability.clone(),
        n.manager_status.clone(),
    ]
}

fn service_cells(s: &ServiceRow) -> Vec<String> {
    vec![
        s.name.clone(),
        s.mode.clone(),
        format!("{}/{}", s.running, s.desired),
        s.health.clone().unwrap_or_else(|| "-".into()),
        s.image.clone(),
    ]
}

fn table(header: &[&str], rows: &[Vec<String>]) -> String {
    let mut widths: Vec<usize> = header.iter().map(|h| h.len()).collect();
    for row in rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let line = |cells: Vec<&str>| {
        let padded: Vec<String> = cells
            .iter()
            .zip(&widths)
            .map(|(c, w)| format!("{c:<w$}"))
            .collect();
        format!("{}\n", padded.join("  ").trim_end())
    };
    let mut out = line(header.to_vec());
    for row in rows {
        out.push_str(&line(row.iter().map(String::as_str).collect()));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tables_are_padded_and_problems_listed_below() {
        let status = StackStatus {
            stack: "shop".into(),
            manager: "manager-0".into(),
            nodes: vec![NodeRow {
                hostname: "manager-0".into(),
                vm: "manager-0".into(),
                group: "manager".into(),
                role: "manager".into(),
                state: "ready".into(),
                availability: "active".into(),
                manager_status: "Leader".into(),
                engine_version: "20.10.24".into(),
            }],
            services: vec![
                ServiceRow {
                    name: "api".into(),
                    full_name: "shop_api".into(),
                    mode: "replicated".into(),
                    running: 1,
                    desired: 2,
                    health: Some("starting".into()),
                    image: "api:1".into(),
                    update: Some("rollback_completed".into()),
                    error: Some("failed: task: non-zero exit (1)".into()),
                },
                ServiceRow {
                    name: "logs".into(),
                    full_name: "shop_logs".into(),
                    mode: "global".into(),
                    running: 3,
                    desired: 3,
                    health: None,
                    image: "busybox:1".into(),
                    update: None,
                    error: None,
                },
            ],
        };
        assert_eq!(
            render(&status),
            "Swarm nodes (asked manager-0):\n\
             HOSTNAME   VM         ROLE     STATUS  AVAILABILITY  MANAGER STATUS\n\
             manager-0  manager-0  manager  ready   active        Leader\n\
             \n\
             Services of stack shop:\n\
             NAME  MODE        REPLICAS  HEALTH    IMAGE\n\
             api   replicated  1/2       starting  api:1\n\
             logs  global      3/3       -         busybox:1\n\
             api: failed: task: non-zero exit (1)\n\
             api: update rollback_completed\n"
        );
        assert!(!status.is_healthy());
    }
}
