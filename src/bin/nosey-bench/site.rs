//! The benchmark's Moodle: a database of its own with Moodle 4.5.6's schema (from the
//! fixtures), filled by nosey's simulator with the rows and log rows of a busy site.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use anyhow::{Context, Result, bail};
use nosey::sim::{OtherFormat, Request, SimOptions, SimTarget, Simulator};
use sqlx::mysql::MySqlPoolOptions;
use sqlx::postgres::PgPoolOptions;
use sqlx::{MySqlPool, PgPool};

const DATABASE: &str = "nosey_bench";
const LOG_TABLE: &str = "mdl_logstore_standard_log";
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

#[derive(Clone)]
enum Pool {
    Pg(PgPool),
    My(MySqlPool),
}

/// The site: its URL for nosey, a pool for writing, and the simulator that keeps writing.
pub struct Site {
    pub engine: Engine,
    /// What nosey connects with.
    pub url: String,
    pub server_version: String,
    pool: Pool,
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
        let admin = pool(engine, admin_url).await?;
        let drop = format!("DROP DATABASE IF EXISTS {DATABASE}");
        let create = format!("CREATE DATABASE {DATABASE}");
        for sql in [drop, create] {
            execute(&admin, &sql).await?;
        }
        url.set_path(&format!("/{DATABASE}"));
        let schema = fixtures.join(engine.fixture_dir()).join("schema.sql");
        load_schema(engine, &url, &schema)?;
        let pool = pool(engine, url.as_str()).await?;
        let target = match &pool {
            Pool::Pg(p) => SimTarget::postgres(p.clone(), "mdl_"),
            Pool::My(p) => SimTarget::mysql(p.clone(), "mdl_"),
        }?;
        let server_version = version(&pool).await?;
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
            pool,
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
        let sql = format!("SELECT COALESCE(MAX(id), 0) FROM {LOG_TABLE}");
        Ok(match &self.pool {
            Pool::Pg(p) => {
                sqlx::query_scalar::<_, i64>(sqlx::AssertSqlSafe(sql))
                    .fetch_one(p)
                    .await?
            }
            Pool::My(p) => {
                sqlx::query_scalar::<_, i64>(sqlx::AssertSqlSafe(sql))
                    .fetch_one(p)
                    .await?
            }
        })
    }

    /// Log rows with `id > after` (what a backlog starting there holds).
    pub async fn rows_after(&self, after: i64) -> Result<i64> {
        let sql = format!("SELECT COUNT(*) FROM {LOG_TABLE} WHERE id > {after}");
        Ok(match &self.pool {
            Pool::Pg(p) => {
                sqlx::query_scalar::<_, i64>(sqlx::AssertSqlSafe(sql))
                    .fetch_one(p)
                    .await?
            }
            Pool::My(p) => {
                sqlx::query_scalar::<_, i64>(sqlx::AssertSqlSafe(sql))
                    .fetch_one(p)
                    .await?
            }
        })
    }

    /// The share of log rows that are read events (`crud = 'r'`).
    pub async fn read_share(&self) -> Result<f64> {
        let sql = format!(
            "SELECT CAST(SUM(CASE WHEN crud = 'r' THEN 1 ELSE 0 END) AS DOUBLE PRECISION) / COUNT(*) FROM {LOG_TABLE}"
        );
        let sql = if self.engine == Engine::MariaDb {
            sql.replace("DOUBLE PRECISION", "DOUBLE")
        } else {
            sql
        };
        Ok(match &self.pool {
            Pool::Pg(p) => {
                sqlx::query_scalar::<_, f64>(sqlx::AssertSqlSafe(sql))
                    .fetch_one(p)
                    .await?
            }
            Pool::My(p) => {
                sqlx::query_scalar::<_, f64>(sqlx::AssertSqlSafe(sql))
                    .fetch_one(p)
                    .await?
            }
        })
    }
}

async fn pool(engine: Engine, url: &str) -> Result<Pool> {
    Ok(match engine {
        Engine::Postgres => Pool::Pg(
            PgPoolOptions::new()
                .max_connections(2)
                .connect(url)
                .await
                .with_context(|| format!("cannot connect to PostgreSQL at {}", redact(url)))?,
        ),
        Engine::MariaDb => Pool::My(
            MySqlPoolOptions::new()
                .max_connections(2)
                .connect(url)
                .await
                .with_context(|| format!("cannot connect to MariaDB at {}", redact(url)))?,
        ),
    })
}

async fn execute(pool: &Pool, sql: &str) -> Result<()> {
    let q = sqlx::query(sqlx::AssertSqlSafe(sql.to_string()));
    match pool {
        Pool::Pg(p) => q.execute(p).await.map(drop)?,
        Pool::My(p) => sqlx::query(sqlx::AssertSqlSafe(sql.to_string()))
            .execute(p)
            .await
            .map(drop)?,
    }
    Ok(())
}

async fn version(pool: &Pool) -> Result<String> {
    Ok(match pool {
        Pool::Pg(p) => {
            sqlx::query_scalar::<_, String>("SHOW server_version")
                .fetch_one(p)
                .await?
        }
        Pool::My(p) => {
            sqlx::query_scalar::<_, String>("SELECT VERSION()")
                .fetch_one(p)
                .await?
        }
    })
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
