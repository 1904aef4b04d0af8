//! nosey under test: `nosey run` in a process of its own with a configuration written for
//! the phase, and what the kernel says about its memory and CPU time.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use anyhow::{Context, Result};
use nosey::moodle::cursor::Cursor;
use sqlx::sqlite::{SqliteConnectOptions, SqlitePool};

/// The signing secret of the benchmark's route (signing is part of the work measured).
const SECRET: &str = "whsec_bmVhcmx5IHRoaXJ0eS10d28gYnl0ZXMgb2Ygc2VjcmV0IQ==";

/// One phase's route and starting point.
pub struct Phase<'a> {
    pub moodle_url: &'a str,
    /// `[moodle] start`.
    pub start: String,
    /// The route's `events`.
    pub events: &'a str,
    pub receiver: String,
    pub concurrency: usize,
}

pub struct NoseyProc {
    child: Child,
    /// nosey's own pid (the child's, or under `perf record` its child's).
    pid: u32,
    pub dir: tempfile::TempDir,
    store: Option<SqlitePool>,
}

impl NoseyProc {
    /// Starts `nosey run`; with `profile`, under `perf record` writing that file.
    pub fn start(nosey: &Path, phase: &Phase<'_>, profile: Option<&Path>) -> Result<NoseyProc> {
        let dir = tempfile::Builder::new().prefix("nosey-bench").tempdir()?;
        let config = dir.path().join("nosey.toml");
        std::fs::write(&config, config_text(dir.path(), phase))?;
        let log = std::fs::File::create(dir.path().join("nosey.log"))?;
        let mut cmd = match profile {
            Some(out) => {
                let mut c = Command::new("perf");
                c.args(["record", "-F", "999", "--call-graph", "dwarf,16384", "-o"])
                    .arg(out)
                    .arg("--")
                    .arg(nosey);
                c
            }
            None => Command::new(nosey),
        };
        let child = cmd
            .arg("--config")
            .arg(&config)
            .arg("run")
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .with_context(|| format!("cannot start {}", nosey.display()))?;
        let pid = if profile.is_some() {
            child_of(child.id())?
        } else {
            child.id()
        };
        Ok(NoseyProc {
            child,
            pid,
            dir,
            store: None,
        })
    }

    pub fn pid(&self) -> u32 {
        self.pid
    }

    pub fn store_path(&self) -> PathBuf {
        self.dir.path().join("nosey.db")
    }

    /// The highest log id nosey has committed to its store (0 before its first batch).
    pub async fn cursor(&mut self) -> Result<i64> {
        if self.store.is_none() {
            if !self.store_path().exists() {
                return Ok(0);
            }
            let opts = SqliteConnectOptions::new()
                .filename(self.store_path())
                .read_only(true);
            self.store = Some(SqlitePool::connect_with(opts).await?);
        }
        let pool = self.store.as_ref().expect("opened");
        let state: Option<String> = sqlx::query_scalar("SELECT state FROM cursor")
            .fetch_optional(pool)
            .await
            .unwrap_or(None);
        Ok(state
            .and_then(|s| serde_json::from_str::<Cursor>(&s).ok())
            .map_or(0, |c| c.last_id))
    }

    /// Whether nosey is still running; its log's tail if not.
    pub fn check_alive(&mut self) -> Result<()> {
        if let Some(status) = self.child.try_wait()? {
            let log =
                std::fs::read_to_string(self.dir.path().join("nosey.log")).unwrap_or_default();
            let tail: Vec<&str> = log.lines().rev().take(20).collect();
            anyhow::bail!(
                "nosey exited ({status}):\n{}",
                tail.into_iter().rev().collect::<Vec<_>>().join("\n")
            );
        }
        Ok(())
    }

    /// SIGTERM, then wait for the clean exit (which checkpoints the store). With `keep_log`,
    /// nosey's log is copied there.
    pub async fn stop(mut self, keep_log: Option<&Path>) -> Result<tempfile::TempDir> {
        if let Some(pool) = self.store.take() {
            pool.close().await;
        }
        let _ = Command::new("kill")
            .arg("-TERM")
            .arg(self.child.id().to_string())
            .status();
        for _ in 0..300 {
            if self.child.try_wait()?.is_some() {
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
        if let Some(to) = keep_log {
            std::fs::copy(self.dir.path().join("nosey.log"), to)?;
        }
        let dir = tempfile::Builder::new().prefix("nosey-bench").tempdir()?;
        Ok(std::mem::replace(&mut self.dir, dir))
    }
}

impl Drop for NoseyProc {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The first child of `pid` (nosey under `perf record`), once it exists.
fn child_of(pid: u32) -> Result<u32> {
    for _ in 0..200 {
        let children =
            std::fs::read_to_string(format!("/proc/{pid}/task/{pid}/children")).unwrap_or_default();
        if let Some(c) = children
            .split_whitespace()
            .next()
            .and_then(|c| c.parse().ok())
        {
            return Ok(c);
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    anyhow::bail!("perf did not start nosey")
}

fn config_text(dir: &Path, p: &Phase<'_>) -> String {
    format!(
        r#"[moodle]
url = "{url}"
start = "{start}"
poll_interval = "100ms"

[store]
path = "{store}"

[[route]]
name = "bench"
url = "{receiver}"
events = {events}
secrets = ["{SECRET}"]
concurrency = {concurrency}
"#,
        url = p.moodle_url,
        start = p.start,
        store = dir.join("nosey.db").display(),
        receiver = p.receiver,
        events = p.events,
        concurrency = p.concurrency,
    )
}

/// What the kernel says about a process.
#[derive(Debug, Clone, Copy, Default)]
pub struct Usage {
    /// Resident memory now and at its peak, KiB.
    pub rss_kib: u64,
    pub peak_rss_kib: u64,
    /// User + system CPU time, seconds.
    pub cpu_secs: f64,
}

pub fn usage(pid: u32) -> Usage {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    let field = |name: &str| {
        status
            .lines()
            .find_map(|l| l.strip_prefix(name))
            .and_then(|v| v.split_whitespace().next()?.parse().ok())
            .unwrap_or(0)
    };
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    // After the parenthesised command name come fields 3, 4, …: utime and stime are 14 and 15.
    let after = stat.rsplit_once(')').map_or("", |(_, rest)| rest);
    let fields: Vec<&str> = after.split_whitespace().collect();
    let tick = |i: usize| {
        fields
            .get(i)
            .and_then(|f| f.parse::<f64>().ok())
            .unwrap_or(0.0)
    };
    let cpu = tick(14 - 3) + tick(15 - 3);
    Usage {
        rss_kib: field("VmRSS:"),
        peak_rss_kib: field("VmHWM:"),
        cpu_secs: cpu / clock_ticks(),
    }
}

fn clock_ticks() -> f64 {
    static TICKS: std::sync::OnceLock<f64> = std::sync::OnceLock::new();
    *TICKS.get_or_init(|| {
        Command::new("getconf")
            .arg("CLK_TCK")
            .output()
            .ok()
            .and_then(|o| String::from_utf8(o.stdout).ok()?.trim().parse().ok())
            .unwrap_or(100.0)
    })
}

/// Bytes of the store's files (database, WAL, shared memory).
pub fn store_bytes(db: &Path) -> u64 {
    ["", "-wal", "-shm"]
        .iter()
        .filter_map(|s| std::fs::metadata(format!("{}{s}", db.display())).ok())
        .map(|m| m.len())
        .sum()
}
