//! The measurements of one run: scan, deliver, ceiling, live latency, each with a fresh
//! nosey process and store.

use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::{Result, bail};
use serde::Serialize;

use crate::Args;
use crate::nosey_proc::{NoseyProc, Phase, store_bytes, usage};
use crate::receiver::Handle;
use crate::site::{Site, unix_micros};

/// An event name no Moodle writes: nothing matches, nothing is looked up or sent.
const NOTHING: &str = r#"['\nosey\bench\nothing_matches']"#;
const EVERYTHING: &str = "['*']";
/// Longest any phase may take before the benchmark gives up.
const PHASE_LIMIT: Duration = Duration::from_secs(900);

#[derive(Debug, Clone, Serialize)]
pub struct RunFigures {
    pub scan_rows: i64,
    pub scan_rows_per_s: f64,
    /// nosey's resident memory when the scan had read a quarter, half, three quarters and
    /// all of its backlog, and its peak, MiB.
    pub scan_rss_mib: [f64; 4],
    pub scan_peak_rss_mib: f64,
    pub deliver_events: i64,
    pub deliver_per_s: f64,
    pub deliver_peak_rss_mib: f64,
    pub cpu_s_per_10k: f64,
    pub store_bytes_per_100k: f64,
    pub ceiling_per_s: f64,
    pub deliver_vs_ceiling: f64,
    pub latency_events: usize,
    pub latency_missing: usize,
    pub latency_p50_ms: f64,
    pub latency_p99_ms: f64,
    pub latency_max_ms: f64,
}

pub async fn run_once(
    args: &Args,
    nosey: &Path,
    site: &mut Site,
    rx: &Handle,
) -> Result<RunFigures> {
    let (scan_rows, scan_rows_per_s, scan_rss_mib, scan_peak_rss_mib) =
        scan(args, nosey, site, rx).await?;
    let d = deliver(args, nosey, site, rx).await?;
    let ceiling_per_s =
        crate::ceiling::run(&rx.url("/ceiling"), d.bodies, args.concurrency).await?;
    eprintln!(
        "[bench]   ceiling: {ceiling_per_s:.0} requests/s (bare reqwest loop, concurrency {})",
        args.concurrency
    );
    let l = latency(args, nosey, site, rx).await?;
    Ok(RunFigures {
        scan_rows,
        scan_rows_per_s,
        scan_rss_mib,
        scan_peak_rss_mib,
        deliver_events: d.events,
        deliver_per_s: d.per_s,
        deliver_peak_rss_mib: d.peak_rss_mib,
        cpu_s_per_10k: d.cpu_s_per_10k,
        store_bytes_per_100k: d.store_bytes_per_100k,
        ceiling_per_s,
        deliver_vs_ceiling: d.per_s / ceiling_per_s,
        latency_events: l.events,
        latency_missing: l.missing,
        latency_p50_ms: l.p50,
        latency_p99_ms: l.p99,
        latency_max_ms: l.max,
    })
}

fn phase<'a>(
    args: &Args,
    site: &'a Site,
    rx: &Handle,
    start: String,
    events: &'a str,
) -> Phase<'a> {
    Phase {
        moodle_url: &site.url,
        start,
        events,
        receiver: rx.url("/hook"),
        concurrency: args.concurrency,
    }
}

/// Where `perf record` writes this phase's profile, with `--profile`.
fn profile(args: &Args, name: &str) -> Option<std::path::PathBuf> {
    let dir = args.profile.as_ref()?;
    let _ = std::fs::create_dir_all(dir);
    Some(dir.join(format!("{name}.perf")))
}

/// Where nosey's log of this phase is kept, with `--logs` or `--profile`.
fn kept_log(args: &Args, name: &str) -> Option<std::path::PathBuf> {
    let dir = args.logs.as_ref().or(args.profile.as_ref())?;
    let _ = std::fs::create_dir_all(dir);
    Some(dir.join(format!("{name}.log")))
}

fn mib(kib: u64) -> f64 {
    kib as f64 / 1024.0
}

/// The whole log read from the beginning with no route matching.
async fn scan(
    args: &Args,
    nosey: &Path,
    site: &Site,
    rx: &Handle,
) -> Result<(i64, f64, [f64; 4], f64)> {
    let end = site.max_id().await?;
    let rows = site.rows_after(0).await?;
    let started = Instant::now();
    let mut p = NoseyProc::start(
        nosey,
        &phase(args, site, rx, "beginning".into(), NOTHING),
        profile(args, "scan").as_deref(),
    )?;
    let mut quarters = [0.0; 4];
    let mut next_quarter = 0;
    loop {
        p.check_alive()?;
        let at = p.cursor().await?;
        while next_quarter < 4 && at >= end * (next_quarter as i64 + 1) / 4 {
            quarters[next_quarter] = mib(usage(p.pid()).rss_kib);
            next_quarter += 1;
        }
        if at >= end {
            break;
        }
        if started.elapsed() > PHASE_LIMIT {
            bail!("the scan did not finish in {PHASE_LIMIT:?} (at log id {at} of {end})");
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let secs = started.elapsed().as_secs_f64();
    let peak = mib(usage(p.pid()).peak_rss_kib);
    p.stop(kept_log(args, "scan").as_deref()).await?;
    let rate = rows as f64 / secs;
    eprintln!(
        "[bench]   scan: {rows} rows in {secs:.2} s = {rate:.0} rows/s, peak RSS {peak:.1} MiB"
    );
    Ok((rows, rate, quarters, peak))
}

struct Delivered {
    events: i64,
    per_s: f64,
    peak_rss_mib: f64,
    cpu_s_per_10k: f64,
    store_bytes_per_100k: f64,
    bodies: Vec<bytes::Bytes>,
}

/// A backlog of `--backlog` matching events, delivered end to end.
async fn deliver(args: &Args, nosey: &Path, site: &Site, rx: &Handle) -> Result<Delivered> {
    let after = (site.max_id().await? - args.backlog as i64).max(0);
    let events = site.rows_after(after).await?;
    rx.reset().await?;
    let started_us = unix_micros();
    let started = Instant::now();
    let mut p = NoseyProc::start(
        nosey,
        &phase(args, site, rx, format!("after:{after}"), EVERYTHING),
        profile(args, "deliver").as_deref(),
    )?;
    let stats = loop {
        p.check_alive()?;
        let s = rx.stats().await?;
        if s.count >= events as u64 {
            break s;
        }
        if started.elapsed() > PHASE_LIMIT {
            bail!(
                "delivery did not finish in {PHASE_LIMIT:?} ({} of {events})",
                s.count
            );
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    let secs = (stats.last_us - started_us) as f64 / 1e6;
    let u = usage(p.pid());
    let store = p.store_path();
    let dir = p.stop(kept_log(args, "deliver").as_deref()).await?;
    let bytes = store_bytes(&store);
    let bodies = crate::ceiling::bodies(&store, events as usize).await?;
    drop(dir);
    let per_s = events as f64 / secs;
    let d = Delivered {
        events,
        per_s,
        peak_rss_mib: mib(u.peak_rss_kib),
        cpu_s_per_10k: u.cpu_secs / events as f64 * 10_000.0,
        store_bytes_per_100k: bytes as f64 / events as f64 * 100_000.0,
        bodies,
    };
    eprintln!(
        "[bench]   deliver: {events} events in {secs:.2} s = {per_s:.0}/s, peak RSS {:.1} MiB, {:.2} CPU s per 10k, store {:.1} MB per 100k",
        d.peak_rss_mib,
        d.cpu_s_per_10k,
        d.store_bytes_per_100k / 1e6
    );
    Ok(d)
}

struct Latency {
    events: usize,
    missing: usize,
    p50: f64,
    p99: f64,
    max: f64,
}

/// Requests written one transaction each at `--rate` log rows a second while nosey follows.
async fn latency(args: &Args, nosey: &Path, site: &mut Site, rx: &Handle) -> Result<Latency> {
    let mut p = NoseyProc::start(
        nosey,
        &phase(args, site, rx, "now".into(), EVERYTHING),
        profile(args, "latency").as_deref(),
    )?;
    let end = site.max_id().await?;
    let ready = Instant::now();
    while p.cursor().await? < end {
        p.check_alive()?;
        if ready.elapsed() > Duration::from_secs(30) {
            bail!("nosey did not start following the log within 30 s");
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    rx.reset().await?;
    let mut committed: Vec<(i64, i64)> = Vec::new();
    let started = Instant::now();
    let mut rows = 0u64;
    while started.elapsed() < args.latency_for {
        // Keep to the rate: write when behind, sleep when ahead.
        let due = (started.elapsed().as_secs_f64() * args.rate as f64) as u64;
        if rows >= due {
            tokio::time::sleep(Duration::from_millis(1)).await;
            continue;
        }
        let (ids, at) = site.write_request().await?;
        rows += ids.clone().count() as u64;
        committed.extend(ids.map(|id| (id, at)));
    }
    let wait = Instant::now();
    while rx.stats().await?.count < committed.len() as u64
        && wait.elapsed() < Duration::from_secs(30)
    {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let receipts: std::collections::HashMap<i64, i64> = rx.receipts().await?.into_iter().collect();
    p.stop(kept_log(args, "latency").as_deref()).await?;
    let mut ms: Vec<f64> = committed
        .iter()
        .filter_map(|(id, at)| receipts.get(id).map(|got| (got - at) as f64 / 1000.0))
        .collect();
    ms.sort_by(f64::total_cmp);
    let pct = |q: f64| {
        ms.get(((ms.len() as f64 - 1.0) * q).round() as usize)
            .copied()
            .unwrap_or(f64::NAN)
    };
    let l = Latency {
        events: committed.len(),
        missing: committed.len() - ms.len(),
        p50: pct(0.5),
        p99: pct(0.99),
        max: ms.last().copied().unwrap_or(f64::NAN),
    };
    eprintln!(
        "[bench]   live latency: {} events at {}/s: p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms ({} missing)",
        l.events, args.rate, l.p50, l.p99, l.max, l.missing
    );
    Ok(l)
}
