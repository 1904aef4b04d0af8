//! `nosey demo`: everything working on one machine, with no Moodle and no database server.
//!
//! A simulated busy Moodle writes rows and log rows into an embedded SQLite database the way
//! Moodle does (changes first, the request's log rows at its end); nosey itself (the same
//! service as `nosey run`) reads that log with a route per 2016 group; and the receiver of
//! `nosey listen` prints one line per signed webhook. A summary is printed on exit.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::Context;
use base64::Engine as _;
use clap::Args;
use tokio_util::sync::CancellationToken;

use super::shutdown_token;
use crate::config::{MapEnv, Preset, load_from_str, parse_duration};
use crate::moodle::db::Pool;
use crate::moodle::tailer::now_ms;
use crate::moodle::{MoodleDb, logstore};
use crate::server::listen::{self, ListenOptions, Received, SignatureCheck};
use crate::service::{ServeOptions, serve};
use crate::sim::{SimOptions, SimTarget, Simulator, apply, schema};

#[derive(Debug, Args)]
#[command(after_help = "Examples:\n  \
    nosey demo                        # until Ctrl-C\n  \
    nosey demo --duration 30s --rate 200 --verbose")]
pub struct DemoArgs {
    /// Log rows per second the simulated Moodle writes.
    #[arg(long, default_value_t = 50)]
    rate: u32,

    /// Stop after this long (default: run until Ctrl-C).
    #[arg(long, value_parser = parse_duration, value_name = "DURATION")]
    duration: Option<Duration>,

    /// Also print each webhook's body.
    #[arg(long)]
    verbose: bool,

    /// Keep the demo's databases in this folder (default: a temporary folder, removed on exit).
    #[arg(long, value_name = "DIR")]
    dir: Option<PathBuf>,

    /// The simulation's seed (same seed, same site).
    #[arg(long, default_value_t = 1)]
    seed: u64,
}

/// When each log id reached the database, to measure the latency to its receipt.
type Written = Arc<Mutex<Vec<(i64, i64)>>>;

pub async fn run(args: &DemoArgs) -> anyhow::Result<ExitCode> {
    let temp;
    let dir: &Path = match &args.dir {
        Some(d) => {
            std::fs::create_dir_all(d)?;
            d
        }
        None => {
            temp = tempfile::Builder::new().prefix("nosey-demo").tempdir()?;
            temp.path()
        }
    };
    let moodle_url = moodle_db(dir).await?;
    let (key, secret) = signing_secret();
    let mut listener = listen::start(ListenOptions {
        addr: "127.0.0.1:0".parse().unwrap(),
        secrets: vec![key],
        ..ListenOptions::default()
    })
    .await
    .context("starting the demo receiver")?;
    let config = load_from_str(
        &demo_config(&moodle_url, dir, &listener.addr.to_string(), &secret),
        Some(dir),
        &MapEnv::new(),
    )
    .map_err(|e| anyhow::anyhow!("the demo's own configuration: {e}"))?;
    eprintln!(
        "nosey demo: a simulated Moodle ({} log rows/s) in {}, six routes (the 2016 groups) \
         signed and delivered to http://{}. Ctrl-C to stop.",
        args.rate,
        dir.display(),
        listener.addr
    );

    let shutdown = shutdown_token();
    if let Some(d) = args.duration {
        let s = shutdown.clone();
        tokio::spawn(async move {
            tokio::time::sleep(d).await;
            s.cancel();
        });
    }
    let service = {
        let (config, stop) = (config.clone(), shutdown.clone());
        let opts = ServeOptions {
            grace: Duration::from_secs(2),
            ..ServeOptions::default()
        };
        tokio::spawn(async move { serve(&config, &opts, stop).await })
    };
    let written: Written = Arc::default();
    let simulation = tokio::spawn(simulate(
        moodle_url,
        args.rate,
        args.seed,
        written.clone(),
        shutdown.clone(),
    ));
    let summary = receive(&mut listener, &written, args.verbose, &shutdown).await;
    let simulated = simulation.await.context("the simulator stopped")??;
    service.await.context("nosey stopped")??;
    listener.shutdown().await;
    eprintln!("{}", summary.render(simulated));
    Ok(ExitCode::SUCCESS)
}

/// Creates the simulated Moodle's database (Moodle's tables, a fresh install).
async fn moodle_db(dir: &Path) -> anyhow::Result<String> {
    let path = dir.join("moodle.db");
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
    }
    let url = format!("sqlite://{}?mode=rwc", path.display());
    let db = MoodleDb::connect(&url, "mdl_", "logstore_standard_log").await?;
    let Pool::Sqlite(pool) = db.pool() else {
        unreachable!("a sqlite:// url opens SQLite")
    };
    schema::create(pool, "mdl_").await?;
    db.close().await;
    Ok(url)
}

fn signing_secret() -> (Vec<u8>, String) {
    let key: [u8; 32] = rand::random();
    let secret = format!(
        "whsec_{}",
        base64::engine::general_purpose::STANDARD.encode(key)
    );
    (key.to_vec(), secret)
}

fn demo_config(moodle_url: &str, dir: &Path, receiver: &str, secret: &str) -> String {
    let mut text = format!(
        "[site]\nurl = \"https://moodle.demo.invalid\"\n\n\
         [moodle]\nurl = \"{moodle_url}\"\npoll_interval = \"100ms\"\n\n\
         [store]\npath = \"{}\"\n\n\
         [defaults]\nsecrets = [\"{secret}\"]\nretry = {{ schedule = [\"1s\", \"5s\", \"30s\"] }}\n\n",
        dir.join("nosey-store.db").display()
    );
    for p in Preset::ALL {
        text += &format!(
            "[[route]]\nname = \"{}\"\nurl = \"http://{receiver}{}\"\npreset = \"{}\"\n\n",
            p.name(),
            p.path(),
            p.name()
        );
    }
    text
}

/// Writes requests at `rate` log rows per second until `stop`; returns (requests, rows).
async fn simulate(
    url: String,
    rate: u32,
    seed: u64,
    written: Written,
    stop: CancellationToken,
) -> anyhow::Result<(u64, u64)> {
    let db = MoodleDb::connect(&url, "mdl_", "logstore_standard_log").await?;
    let target = SimTarget::from_db(&db)?;
    let mut sim = Simulator::new(SimOptions {
        seed,
        // Livelier than a real site (90 % views), so every kind of change shows up quickly.
        read_share: 0.6,
        // Cron (which completes courses) every few seconds rather than every minute.
        cron_every: 150,
        ..SimOptions::default()
    });
    let started = Instant::now();
    let (mut requests, mut rows) = (0u64, 0u64);
    let mut tick = tokio::time::interval(Duration::from_millis(100));
    while !stop.is_cancelled() {
        tokio::select! {
            _ = tick.tick() => {}
            _ = stop.cancelled() => break,
        }
        let due = (started.elapsed().as_secs_f64() * f64::from(rate)) as u64;
        let mut batch = Vec::new();
        while rows < due {
            let r = sim.next_request(now_ms() / 1000);
            rows += r.log.len() as u64;
            batch.push(r);
        }
        if batch.is_empty() {
            continue;
        }
        requests += batch.len() as u64;
        apply(&target, &batch).await?;
        let max = logstore::max_id(&db).await?;
        written.lock().unwrap().push((max, now_ms()));
    }
    db.close().await;
    Ok((requests, rows))
}

#[derive(Default)]
struct Summary {
    by_route: BTreeMap<String, u64>,
    valid: u64,
    invalid: u64,
    latencies: Vec<i64>,
    started: Option<Instant>,
}

async fn receive(
    listener: &mut listen::Listener,
    written: &Written,
    verbose: bool,
    stop: &CancellationToken,
) -> Summary {
    let mut s = Summary {
        started: Some(Instant::now()),
        ..Summary::default()
    };
    loop {
        let r = tokio::select! {
            r = listener.received.recv() => r,
            _ = stop.cancelled() => None,
        };
        let Some(r) = r else { break };
        let latency = r
            .log_id
            .and_then(|id| written_at(written, id))
            .map(|t| r.received_at_ms - t);
        s.record(&r, latency);
        let mut out = std::io::stdout().lock();
        let _ = writeln!(out, "{}", line(&r, latency));
        if verbose {
            let _ = writeln!(out, "  {}", String::from_utf8_lossy(&r.body));
        }
    }
    s
}

/// The time the first write holding `log_id` finished.
fn written_at(written: &Written, log_id: i64) -> Option<i64> {
    let w = written.lock().unwrap();
    let i = w.partition_point(|(max, _)| *max < log_id);
    w.get(i).map(|(_, at)| *at)
}

fn line(r: &Received, latency: Option<i64>) -> String {
    let t = humantime::format_rfc3339_millis(
        std::time::UNIX_EPOCH + Duration::from_millis(r.received_at_ms as u64),
    )
    .to_string();
    let sig = match &r.signature {
        SignatureCheck::Valid => "signature ok".to_string(),
        other => other.to_string(),
    };
    format!(
        "{}  {:18}  {:46}  {:28}  {:>6}  {sig}",
        &t[11..23],
        r.route.as_deref().unwrap_or("?"),
        r.eventname.as_deref().unwrap_or("?"),
        r.object.as_deref().unwrap_or(""),
        latency.map_or("?".into(), |l| format!("{l} ms")),
    )
}

impl Summary {
    fn record(&mut self, r: &Received, latency: Option<i64>) {
        *self
            .by_route
            .entry(r.route.clone().unwrap_or_default())
            .or_default() += 1;
        match r.signature {
            SignatureCheck::Valid => self.valid += 1,
            _ => self.invalid += 1,
        }
        self.latencies.extend(latency);
    }

    fn render(mut self, (requests, rows): (u64, u64)) -> String {
        let secs = self.started.map_or(0.0, |s| s.elapsed().as_secs_f64());
        let total: u64 = self.by_route.values().sum();
        let mut out = format!(
            "\nsummary after {secs:.0} s: the simulated Moodle handled {requests} requests writing {rows} log rows; \
             {total} webhooks received, {} with a valid signature, {} not",
            self.valid, self.invalid
        );
        self.latencies.sort_unstable();
        if let Some(&max) = self.latencies.last() {
            let pct = |p: f64| self.latencies[((self.latencies.len() - 1) as f64 * p) as usize];
            out += &format!(
                "\nlatency from Moodle's commit to receipt: p50 {} ms, p99 {} ms, max {max} ms",
                pct(0.5),
                pct(0.99)
            );
        }
        for (route, n) in &self.by_route {
            out += &format!("\n  {route:20} {n}");
        }
        out
    }
}
