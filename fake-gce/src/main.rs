//! `fake-gce`: run the fake Compute Engine as a process (for benchmarks and
//! manual runs). Prints its base URL on stdout, then serves until killed.

use fake_gce::{FakeConfig, Faults};
use std::time::Duration;

const USAGE: &str = "usage: fake-gce [--port N] [--op-delay-ms N] [--pending-ms N] \
[--wait-timeout-ms N] [--read-budget-per-minute N] [--write-budget-per-minute N] \
[--seed N] [--error-rate F] [--drop-rate F] [--lost-response-rate F] \
[--latency-ms N] [--op-error-rate F]

  --op-delay-ms N   time an operation spends RUNNING before DONE (default 1000)
  --pending-ms N    time an operation spends PENDING first (default 0)
  budgets           per-minute read/write quotas, unlimited if not given
  rates             shares 0.0..1.0 of requests given each injected fault";

fn main() {
    let config = match parse(std::env::args().skip(1)) {
        Ok(c) => c,
        Err(msg) => {
            eprintln!("fake-gce: {msg}\n{USAGE}");
            std::process::exit(2);
        }
    };
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(r) => r,
        Err(e) => {
            eprintln!("fake-gce: cannot start the runtime: {e}");
            std::process::exit(1);
        }
    };
    runtime.block_on(async {
        let port = config.port;
        let listener = match tokio::net::TcpListener::bind(("127.0.0.1", port)).await {
            Ok(l) => l,
            Err(e) => {
                eprintln!("fake-gce: cannot bind 127.0.0.1:{port}: {e}");
                std::process::exit(1);
            }
        };
        let fake = fake_gce::start_on(listener, config);
        println!("{}", fake.base_url());
        let _ = tokio::signal::ctrl_c().await;
        fake.shutdown().await;
    });
}

fn parse(mut args: impl Iterator<Item = String>) -> Result<FakeConfig, String> {
    let mut c = FakeConfig {
        op_pending: Duration::ZERO,
        op_running: Duration::from_secs(1),
        ..FakeConfig::default()
    };
    let mut f = Faults::default();
    while let Some(flag) = args.next() {
        if flag == "--help" || flag == "-h" {
            println!("{USAGE}");
            std::process::exit(0);
        }
        let value = args.next().ok_or_else(|| format!("{flag} needs a value"))?;
        let int = || {
            value
                .parse::<u64>()
                .map_err(|_| format!("{flag}: not a whole number: {value}"))
        };
        let share = || {
            value
                .parse::<f64>()
                .ok()
                .filter(|x| (0.0..=1.0).contains(x))
                .ok_or_else(|| format!("{flag}: not a share in 0..1: {value}"))
        };
        let budget = || u32::try_from(int()?).map_err(|_| format!("{flag}: too large: {value}"));
        match flag.as_str() {
            "--port" => c.port = u16::try_from(int()?).map_err(|_| format!("bad port {value}"))?,
            "--op-delay-ms" => c.op_running = Duration::from_millis(int()?),
            "--pending-ms" => c.op_pending = Duration::from_millis(int()?),
            "--wait-timeout-ms" => c.wait_timeout = Duration::from_millis(int()?),
            "--read-budget-per-minute" => c.read_budget_per_minute = Some(budget()?),
            "--write-budget-per-minute" => c.write_budget_per_minute = Some(budget()?),
            "--seed" => c.seed = int()?,
            "--error-rate" => f.error_rate = share()?,
            "--drop-rate" => f.drop_rate = share()?,
            "--lost-response-rate" => f.lost_response_rate = share()?,
            "--latency-ms" => f.latency = Duration::from_millis(int()?),
            "--op-error-rate" => f.op_error_rate = share()?,
            other => return Err(format!("unknown option {other}")),
        }
    }
    c.faults = f;
    Ok(c)
}
