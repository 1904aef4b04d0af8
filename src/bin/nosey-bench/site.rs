//! The benchmark's Moodle: a database of its own with Moodle 4.5.6's schema (from the
//! fixtures), filled by nosey's simulator with the rows and log rows of a busy site.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use anyhow::{Context, Result, bail};
use nosey::moodle::db::{MoodleDb, Pool};
use nosey::moodle::logstore;
use nosey::sim::{OtherFormat, Request, SimOptions, SimTarget, Simulator};

const DATABASE: &str = "nosey_bench";
const PREFIX: &str = "mdl_";
const LOG_TABLE: &str = "logstore_standard_log";
/// Requests written per transaction while generating (the write path is the simulator's).
const REQUESTS_PER_WRITE: usize = 20_000;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Engine {
    Postgres,
    MariaDb,
}

impl Engine {
    pub fn name(self) -> &'static str {
        match self {
            Engine::Postgres => "PostgreSQL",
            Engine::MariaDb => "MariaDB",
        }
    }

    fn fixture_dir(self) -> &'static str {
        match self {
            Engine::Postgres => "pg",
            Engine::MariaDb => "mariadb",
        }
    }
}

/// The site: its URL for nosey, a pool for writing, and the simulator that keeps writing.
pub struct Site {
    pub engine: Engine,
    /// What nosey connects with.
    pub url: String,
    pub server_version: String,
    db: MoodleDb,
    target: SimTarget,
    sim: Simulator,
    clock: i64,
    requests: u64,
}

impl Site {
    /// Drops and recreates the benchmark database under `admin_url` and loads the schema.
    pub async fn create(
        engine: Engine,
        admin_url: &str,
        fixtures: &Path,
        other: OtherFormat,
    ) -> Result<Site> {
        let mut url = url::Url::parse(admin_url).context("the admin URL")?;
        let admin = connect(admin_url).await?;
        for sql in [
            format!("DROP DATABASE IF EXISTS {DATABASE}"),
            format!("CREATE DATABASE {DATABASE}"),
        ] {
            execute(admin.pool(), sql).await?;
        }
        admin.close().await;
        url.set_path(&format!("/{DATABASE}"));
        let schema = fixtures.join(engine.fixture_dir()).join("schema.sql");
        load_schema(engine, &url, &schema)?;
        let db = connect(url.as_str()).await?;
        let target = SimTarget::from_db(&db)?;
        let version = match engine {
            Engine::Postgres => "SHOW server_version",
            Engine::MariaDb => "SELECT VERSION()",
        };
        let server_version = scalar(db.pool(), version.to_string()).await?;
        let clock = unix_now() - 86_400;
        nosey::sim::install_base(&target, clock).await?;
        let sim = Simulator::new(SimOptions {
            seed: 7,
            other_format: other,
            ..SimOptions::default()
        });
        Ok(Site {
            engine,
            url: url.to_string(),
            server_version,
            db,
            target,
            sim,
            clock,
            requests: 0,
        })
    }

    /// Writes simulated requests until `rows` more log rows exist; returns rows/s.
    pub async fn generate(&mut self, rows: u64) -> Result<f64> {
        let started = Instant::now();
        let mut written = 0u64;
        while written < rows {
            let mut batch = Vec::with_capacity(REQUESTS_PER_WRITE);
            while batch.len() < REQUESTS_PER_WRITE && written < rows {
                let req = self.next_request();
                written += req.log.len() as u64;
                batch.push(req);
            }
            nosey::sim::apply(&self.target, &batch).await?;
        }
        Ok(written as f64 / started.elapsed().as_secs_f64())
    }

    /// Writes one request in its own transaction, as Moodle does; returns the log ids it
    /// got and the time its commit returned (µs since the epoch).
    pub async fn write_request(&mut self) -> Result<(std::ops::RangeInclusive<i64>, i64)> {
        let mut req = self.next_request();
        while req.log.is_empty() {
            req = self.next_request();
        }
        let before = self.max_id().await?;
        nosey::sim::apply(&self.target, std::slice::from_ref(&req)).await?;
        let committed = unix_micros();
        let after = self.max_id().await?;
        Ok((before + 1..=after, committed))
    }

    fn next_request(&mut self) -> Request {
        // A second of site time every 50 requests keeps timecreated plausible.
        self.requests += 1;
        self.clock += i64::from(self.requests.is_multiple_of(50));
        self.sim.next_request(self.clock)
    }

    pub async fn max_id(&self) -> Result<i64> {
        Ok(logstore::max_id(&self.db).await?)
    }

    /// Log rows with `id > after` (what a backlog starting there holds).
    pub async fn rows_after(&self, after: i64) -> Result<i64> {
        self.count_rows(&format!("id > {after}")).await
    }

    /// The share of log rows that are read events (`crud = 'r'`).
    pub async fn read_share(&self) -> Result<f64> {
        let reads = self.count_rows("crud = 'r'").await?;
        Ok(reads as f64 / self.count_rows("1 = 1").await?.max(1) as f64)
    }

    async fn count_rows(&self, condition: &str) -> Result<i64> {
        let sql = format!(
            "SELECT COUNT(*) FROM {} WHERE {condition}",
            self.db.log_table()
        );
        scalar(self.db.pool(), sql).await
    }
}

async fn connect(url: &str) -> Result<MoodleDb> {
    MoodleDb::connect(url, PREFIX, LOG_TABLE)
        .await
        .with_context(|| format!("cannot connect to {}", redact(url)))
}

/// One value from `sql` (built here from constants and integers only).
async fn scalar<T>(pool: &Pool, sql: String) -> Result<T>
where
    T: Send + Unpin,
    T: sqlx::Type<sqlx::Postgres> + for<'r> sqlx::Decode<'r, sqlx::Postgres>,
    T: sqlx::Type<sqlx::MySql> + for<'r> sqlx::Decode<'r, sqlx::MySql>,
{
    let sql = sqlx::AssertSqlSafe(sql);
    Ok(match pool {
        Pool::Postgres(p) => sqlx::query_scalar(sql).fetch_one(p).await?,
        Pool::MySql(p) => sqlx::query_scalar(sql).fetch_one(p).await?,
        Pool::Sqlite(_) => bail!("the benchmark runs on PostgreSQL or MariaDB"),
    })
}

async fn execute(pool: &Pool, sql: String) -> Result<()> {
    let sql = sqlx::AssertSqlSafe(sql);
    match pool {
        Pool::Postgres(p) => {
            sqlx::query(sql).execute(p).await?;
        }
        Pool::MySql(p) => {
            sqlx::query(sql).execute(p).await?;
        }
        Pool::Sqlite(_) => bail!("the benchmark runs on PostgreSQL or MariaDB"),
    }
    Ok(())
}

/// Loads the fixture schema with the server's own client (the dump uses its syntax).
fn load_schema(engine: Engine, url: &url::Url, schema: &Path) -> Result<()> {
    let file = std::fs::File::open(schema)
        .with_context(|| format!("{}: the Moodle schema", schema.display()))?;
    let mut cmd = match engine {
        Engine::Postgres => {
            let mut c = Command::new("psql");
            c.args(["-X", "-q", "-v", "ON_ERROR_STOP=1", url.as_str()]);
            c
        }
        Engine::MariaDb => {
            let mut c = Command::new("mariadb");
            c.args([
                "--no-defaults",
                "--protocol=tcp",
                "-h",
                url.host_str().unwrap_or("127.0.0.1"),
            ]);
            c.arg("-P").arg(url.port().unwrap_or(3306).to_string());
            c.arg("-u").arg(url.username());
            if let Some(p) = url.password() {
                c.arg(format!("-p{p}"));
            }
            c.arg(DATABASE);
            c
        }
    };
    let out = cmd
        .stdin(file)
        .stdout(Stdio::null())
        .output()
        .context("cannot run the database client (psql / mariadb)")?;
    if !out.status.success() {
        bail!(
            "loading {} failed: {}",
            schema.display(),
            String::from_utf8_lossy(&out.stderr)
        );
    }
    Ok(())
}

/// The URL without its password, for messages.
pub fn redact(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(mut u) if u.password().is_some() => {
            let _ = u.set_password(Some("***"));
            u.to_string()
        }
        _ => url.to_string(),
    }
}

/// Where the Moodle fixtures are: beside the sources.
pub fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/moodle-4.5.6")
}

pub fn unix_now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default()
        .as_secs() as i64
}

pub fn unix_micros() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default()
        .as_micros() as i64
}
