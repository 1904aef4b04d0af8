//! `nosey-bench`: how fast nosey turns Moodle's log into delivered webhooks, measured beside
//! the best this machine can do, in one run.
//!
//! Against a real PostgreSQL (or, with `--mysql`, MariaDB) holding Moodle's schema, it
//! generates a busy site with nosey's simulator, then measures, with nosey and the receiver
//! each in a process of their own: the scan rate (no route matches), the delivery rate of a
//! backlog, the ceiling (a bare reqwest loop POSTing the same bodies), the live latency from
//! a log row's commit to its receipt, and nosey's memory, CPU time and store size. See
//! docs/performance.md.

mod ceiling;
mod nosey_proc;
mod phases;
mod receiver;
mod report;
mod site;

use std::path::PathBuf;

use anyhow::{Context, Result};
use clap::{Parser, Subcommand};
use nosey::sim::OtherFormat;

#[derive(Parser, Debug)]
#[command(
    name = "nosey-bench",
    version,
    about = "Benchmark nosey against a real database and this machine's HTTP ceiling"
)]
pub struct Args {
    #[command(subcommand)]
    command: Option<Cmd>,
    /// PostgreSQL admin URL (a superuser; the benchmark drops and recreates the database
    /// `nosey_bench` and leaves it for inspection).
    #[arg(long, env = "NOSEY_TEST_PG_ADMIN_URL", hide_env_values = true)]
    pg_url: Option<String>,
    /// Benchmark MariaDB/MySQL instead of PostgreSQL.
    #[arg(long)]
    mysql: bool,
    /// MariaDB admin URL (used with --mysql).
    #[arg(long, env = "NOSEY_TEST_MYSQL_ADMIN_URL", hide_env_values = true)]
    mysql_url: Option<String>,
    /// Log rows in the generated site (the scan's backlog).
    #[arg(long, default_value_t = 1_000_000)]
    rows: u64,
    /// Matching events in the delivery backlog.
    #[arg(long, default_value_t = 100_000)]
    backlog: u64,
    /// Log rows a second written during the live-latency phase.
    #[arg(long, default_value_t = 1000)]
    rate: u64,
    /// How long the live-latency phase writes.
    #[arg(long, default_value = "10s", value_parser = humantime::parse_duration)]
    latency_for: std::time::Duration,
    /// Requests in flight: the route's `concurrency`, and the ceiling loop's.
    #[arg(long, default_value_t = 16)]
    concurrency: usize,
    /// Runs of every measurement; the report gives each and their median.
    #[arg(long, default_value_t = 3)]
    runs: usize,
    /// Store `other` as PHP serialize() text (sites upgraded from before Moodle 3.7).
    #[arg(long)]
    serialized: bool,
    /// Write the figures as JSON to this file.
    #[arg(long)]
    json: Option<PathBuf>,
    /// The nosey binary to measure (default: the one beside this program).
    #[arg(long)]
    nosey: Option<PathBuf>,
    /// Run nosey under `perf record --call-graph dwarf`, writing `scan.perf`,
    /// `deliver.perf`, `latency.perf` and nosey's log of each phase into this folder (each
    /// run overwrites the previous one's).
    #[arg(long)]
    profile: Option<PathBuf>,
    /// Keep nosey's log of each phase (`scan.log`, `deliver.log`, `latency.log`) in this
    /// folder, without profiling; `RUST_LOG` sets what it logs, e.g.
    /// `RUST_LOG=nosey::moodle::tailer=debug` for each batch's timing.
    #[arg(long)]
    logs: Option<PathBuf>,
}

#[derive(Subcommand, Debug)]
enum Cmd {
    /// The benchmark's receiver (started by the benchmark itself).
    #[command(hide = true)]
    Receiver {
        #[arg(long)]
        port: u16,
    },
}

fn main() -> Result<()> {
    let args = Args::parse();
    if let Some(Cmd::Receiver { port }) = args.command {
        return receiver::serve(port);
    }
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?
        .block_on(bench(args))
}

async fn bench(args: Args) -> Result<()> {
    let engine = if args.mysql {
        site::Engine::MariaDb
    } else {
        site::Engine::Postgres
    };
    let admin_url = if args.mysql {
        args.mysql_url.clone()
    } else {
        args.pg_url.clone()
    }
    .with_context(|| {
        format!(
            "no {} admin URL: pass --{} or run scripts/bench.sh, which starts throwaway servers",
            engine.name(),
            if args.mysql { "mysql-url" } else { "pg-url" }
        )
    })?;
    let nosey = match &args.nosey {
        Some(p) => p.clone(),
        None => std::env::current_exe()?.with_file_name("nosey"),
    };
    anyhow::ensure!(
        nosey.exists(),
        "{} not found: build it first (cargo build --release)",
        nosey.display()
    );
    let other = if args.serialized {
        OtherFormat::Serialized
    } else {
        OtherFormat::Json
    };
    eprintln!(
        "[bench] creating a Moodle site on {} ({})",
        engine.name(),
        site::redact(&admin_url)
    );
    let mut site = site::Site::create(engine, &admin_url, &site::fixtures(), other).await?;
    let generate_rate = site.generate(args.rows).await?;
    let read_share = site.read_share().await?;
    eprintln!(
        "[bench] {} log rows written at {generate_rate:.0} rows/s ({:.1}% read events)",
        args.rows,
        read_share * 100.0
    );
    let receiver = receiver::Handle::start().await?;
    let mut runs = Vec::new();
    for n in 1..=args.runs {
        eprintln!("[bench] run {n} of {}", args.runs);
        runs.push(phases::run_once(&args, &nosey, &mut site, &receiver).await?);
    }
    let report = report::Report::new(&args, &site, generate_rate, read_share, runs);
    println!("{}", report.table());
    if let Some(path) = &args.json {
        std::fs::write(path, serde_json::to_string_pretty(&report.json())?)
            .with_context(|| format!("cannot write {}", path.display()))?;
        eprintln!("[bench] figures written to {}", path.display());
    }
    Ok(())
}
