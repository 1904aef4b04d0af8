//! Test support: a fresh database per test on the real servers `scripts/test.sh` starts, loaded
//! with Moodle's real schema from the fixtures, plus the fixture files themselves.
//!
//! Every test that needs a database creates its own (`CREATE DATABASE`) and drops it when done,
//! so tests run in parallel. Without the admin URLs in the environment a test fails loudly:
//! it never silently skips.
#![allow(dead_code)]

pub mod receiver;
pub mod replay;
pub mod run;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};

use serde_json::Value;
use sqlx::mysql::MySqlPool;
use sqlx::postgres::PgPool;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Postgres,
    MariaDb,
}

impl Kind {
    pub fn fixture_dir(self) -> &'static str {
        match self {
            Kind::Postgres => "pg",
            Kind::MariaDb => "mariadb",
        }
    }
}

pub fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/moodle-4.5.6")
}

/// A database of its own for one test, dropped when the value is.
pub struct TestDb {
    pub kind: Kind,
    pub name: String,
    /// URL nosey connects with (a superuser, on the test database).
    pub url: String,
    admin_url: url::Url,
}

fn admin_url(kind: Kind) -> url::Url {
    let var = match kind {
        Kind::Postgres => "NOSEY_TEST_PG_ADMIN_URL",
        Kind::MariaDb => "NOSEY_TEST_MYSQL_ADMIN_URL",
    };
    let raw = std::env::var(var).unwrap_or_else(|_| {
        panic!("{var} is not set: run the tests with scripts/test.sh, which starts the databases")
    });
    url::Url::parse(&raw).expect("admin url")
}

static COUNTER: AtomicUsize = AtomicUsize::new(0);

impl TestDb {
    /// An empty database.
    pub fn empty(kind: Kind) -> TestDb {
        let admin = admin_url(kind);
        let name = format!(
            "nosey_t{}_{}_{}",
            std::process::id(),
            COUNTER.fetch_add(1, Ordering::SeqCst),
            rand::random::<u16>()
        );
        let mut url = admin.clone();
        url.set_path(&format!("/{name}"));
        let db = TestDb {
            kind,
            name: name.clone(),
            url: url.to_string(),
            admin_url: admin,
        };
        match kind {
            Kind::Postgres => db.admin_sql(&format!("CREATE DATABASE {name} OWNER moodle")),
            Kind::MariaDb => db.admin_sql(&format!(
                "CREATE DATABASE {name} CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci"
            )),
        }
        db
    }

    /// A database holding Moodle 4.5.6's real schema (the fixture tables, empty).
    pub fn with_schema(kind: Kind) -> TestDb {
        let db = TestDb::empty(kind);
        db.load_file(&fixtures().join(kind.fixture_dir()).join("schema.sql"));
        db
    }

    /// Runs SQL through the admin database with the command-line client.
    fn admin_sql(&self, sql: &str) {
        run_client(self.kind, &self.admin_url, None, Some(sql));
    }

    /// Runs SQL on the test database with the command-line client.
    pub fn sql(&self, sql: &str) {
        run_client(self.kind, &self.db_url(), None, Some(sql));
    }

    /// Like [`TestDb::sql`], but reports a failure instead of panicking (for cleanup in `Drop`).
    pub fn try_sql(&self, sql: &str) -> Result<(), String> {
        try_client(self.kind, &self.db_url(), None, Some(sql))
    }

    /// Loads an SQL file into the test database with psql / mariadb.
    pub fn load_file(&self, path: &Path) {
        run_client(self.kind, &self.db_url(), Some(path), None);
    }

    fn db_url(&self) -> url::Url {
        url::Url::parse(&self.url).unwrap()
    }

    pub async fn pg(&self) -> PgPool {
        assert_eq!(self.kind, Kind::Postgres);
        PgPool::connect(&self.url).await.expect("connect pg")
    }

    pub async fn mysql(&self) -> MySqlPool {
        assert_eq!(self.kind, Kind::MariaDb);
        MySqlPool::connect(&self.url)
            .await
            .expect("connect mariadb")
    }

    /// Runs statements through a pooled connection (fast, for many small inserts).
    pub async fn exec(&self, sql: &str) {
        let sql = sqlx::AssertSqlSafe(sql.to_string());
        match self.kind {
            Kind::Postgres => {
                let p = self.pg().await;
                sqlx::raw_sql(sql).execute(&p).await.expect("exec pg");
                p.close().await;
            }
            Kind::MariaDb => {
                let p = self.mysql().await;
                sqlx::raw_sql(sql).execute(&p).await.expect("exec mariadb");
                p.close().await;
            }
        }
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        let sql = match self.kind {
            Kind::Postgres => format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", self.name),
            Kind::MariaDb => format!("DROP DATABASE IF EXISTS {}", self.name),
        };
        // Never panic in drop: a failed cleanup must not hide the test's own result.
        if self.kind == Kind::MariaDb {
            // An open transaction (a panicking test's) would hold DROP DATABASE forever.
            self.kill_mariadb_sessions();
        }
        let _ = try_client(self.kind, &self.admin_url, None, Some(&sql));
    }
}

impl TestDb {
    fn kill_mariadb_sessions(&self) {
        let query = format!(
            "SELECT id FROM information_schema.processlist WHERE db = '{}'",
            self.name
        );
        let Ok(out) = client_command(self.kind, &self.admin_url)
            .args(["-N", "-B", "-e", &query])
            .stdin(Stdio::null())
            .output()
        else {
            return;
        };
        for id in String::from_utf8_lossy(&out.stdout).split_whitespace() {
            let _ = try_client(
                self.kind,
                &self.admin_url,
                None,
                Some(&format!("KILL {id}")),
            );
        }
    }
}

fn client_command(kind: Kind, url: &url::Url) -> Command {
    match kind {
        Kind::Postgres => {
            let mut c = Command::new("psql");
            c.args(["-X", "-q", "-v", "ON_ERROR_STOP=1", url.as_str()]);
            c
        }
        Kind::MariaDb => {
            let mut c = Command::new("mariadb");
            c.args([
                "--no-defaults",
                "--protocol=tcp",
                "-h",
                url.host_str().unwrap_or("127.0.0.1"),
                "-P",
                &url.port().unwrap_or(3306).to_string(),
                "-u",
                url.username(),
            ]);
            if let Some(p) = url.password() {
                c.arg(format!("-p{p}"));
            }
            c.arg(url.path().trim_start_matches('/'));
            c
        }
    }
}

fn try_client(
    kind: Kind,
    url: &url::Url,
    file: Option<&Path>,
    sql: Option<&str>,
) -> Result<(), String> {
    let mut cmd = client_command(kind, url);
    match kind {
        Kind::Postgres => {
            if let Some(f) = file {
                cmd.arg("-f").arg(f);
            }
            if let Some(s) = sql {
                cmd.arg("-c").arg(s);
            }
            cmd.stdin(Stdio::null());
        }
        Kind::MariaDb => {
            if let Some(s) = sql {
                cmd.arg("-e").arg(s);
            }
            match file {
                Some(f) => cmd.stdin(std::fs::File::open(f).map_err(|e| e.to_string())?),
                None => cmd.stdin(Stdio::null()),
            };
        }
    }
    let out = cmd
        .output()
        .map_err(|e| format!("cannot run client: {e}"))?;
    if out.status.success() {
        Ok(())
    } else {
        Err(String::from_utf8_lossy(&out.stderr).into_owned())
    }
}

fn run_client(kind: Kind, url: &url::Url, file: Option<&Path>, sql: Option<&str>) {
    if let Err(e) = try_client(kind, url, file, sql) {
        panic!("{kind:?} client failed ({sql:?} {file:?}): {e}");
    }
}

/// Reads a JSON-lines fixture file.
pub fn jsonl(path: &Path) -> Vec<Value> {
    std::fs::read_to_string(path)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str(l).expect("jsonl line"))
        .collect()
}

/// The fixture runs: (database, directory under the fixtures).
pub const RUNS: [(Kind, &str); 3] = [
    (Kind::Postgres, "pg/cli-run"),
    (Kind::Postgres, "pg/cli-run-serialized"),
    (Kind::MariaDb, "mariadb/cli-run"),
];

pub fn before_max_id(run: &str) -> i64 {
    std::fs::read_to_string(fixtures().join(run).join("logstore-before-max-id.txt"))
        .unwrap()
        .trim()
        .parse()
        .unwrap()
}

/// The 21 log columns, in table order.
pub const LOG_COLUMNS: [&str; 21] = nosey::moodle::logstore::COLUMNS;

/// An SQL literal for a JSON scalar (strings quoted with '' doubling; backslashes are kept
/// as typed, which needs NO_BACKSLASH_ESCAPES semantics on MariaDB: see `insert_log_sql`).
pub fn sql_literal(v: &Value) -> String {
    match v {
        Value::Null => "NULL".into(),
        Value::Bool(b) => if *b { "1" } else { "0" }.into(),
        Value::Number(n) => n.to_string(),
        Value::String(s) => format!("'{}'", s.replace('\'', "''")),
        other => format!("'{}'", other.to_string().replace('\'', "''")),
    }
}

/// INSERT statement for log rows given as fixture JSON objects. With `with_id` false the
/// database assigns the id.
pub fn insert_log_sql(kind: Kind, rows: &[&Value], with_id: bool) -> String {
    let cols: Vec<&str> = LOG_COLUMNS
        .iter()
        .copied()
        .filter(|c| with_id || *c != "id")
        .collect();
    let values: Vec<String> = rows
        .iter()
        .map(|r| {
            let vals: Vec<String> = cols.iter().map(|c| sql_literal(&r[*c])).collect();
            format!("({})", vals.join(","))
        })
        .collect();
    let prefix = match kind {
        // Moodle's event names are full of backslashes; MariaDB would eat them in literals.
        Kind::MariaDb => "SET SESSION sql_mode = CONCAT(@@sql_mode, ',NO_BACKSLASH_ESCAPES'); ",
        Kind::Postgres => "",
    };
    format!(
        "{prefix}INSERT INTO mdl_logstore_standard_log ({}) VALUES {}",
        cols.join(","),
        values.join(",")
    )
}

/// Path to the nosey binary built by cargo for integration tests.
pub fn nosey_bin() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_nosey"))
}

/// Writes a minimal nosey.toml for `db` into `dir` (plus `extra` TOML appended) and returns
/// its path.
pub fn write_config(dir: &Path, db_url: &str, extra: &str) -> PathBuf {
    write_config_moodle(dir, &format!("url = \"{db_url}\""), extra)
}

/// Like [`write_config`], with the `[moodle]` section's keys given as TOML lines.
pub fn write_config_moodle(dir: &Path, moodle: &str, extra: &str) -> PathBuf {
    let path = dir.join("nosey.toml");
    let text = format!(
        "[moodle]\n{moodle}\npoll_interval = \"50ms\"\n\n[store]\npath = \"{}\"\n\n{extra}\n",
        dir.join("nosey.db").display()
    );
    std::fs::write(&path, text).unwrap();
    path
}

/// A running `nosey` subprocess whose stdout lines are read on a thread.
pub struct Proc {
    pub child: std::process::Child,
    lines: std::sync::mpsc::Receiver<String>,
    pub stderr_path: PathBuf,
}

impl Proc {
    /// Starts `nosey` with `args`; stderr goes to `stderr_path` for later inspection.
    pub fn spawn(args: &[&str], stderr_path: &Path) -> Proc {
        Proc::spawn_env(args, &[], stderr_path)
    }

    /// Like [`Proc::spawn`], with extra environment variables.
    pub fn spawn_env(args: &[&str], env: &[(&str, &str)], stderr_path: &Path) -> Proc {
        let stderr = std::fs::File::options()
            .create(true)
            .append(true)
            .open(stderr_path)
            .unwrap();
        let mut child = Command::new(nosey_bin())
            .args(args)
            .envs(env.iter().copied())
            .env("NO_COLOR", "1")
            .stdout(Stdio::piped())
            .stderr(stderr)
            .stdin(Stdio::null())
            .spawn()
            .expect("spawn nosey");
        let stdout = child.stdout.take().unwrap();
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            use std::io::BufRead;
            for line in std::io::BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        Proc {
            child,
            lines: rx,
            stderr_path: stderr_path.to_path_buf(),
        }
    }

    /// The next stdout line, or a panic (with nosey's stderr) after `secs` seconds.
    pub fn line(&mut self, secs: u64) -> String {
        match self
            .lines
            .recv_timeout(std::time::Duration::from_secs(secs))
        {
            Ok(l) => l,
            Err(e) => panic!(
                "no line from nosey within {secs}s ({e}); stderr:\n{}",
                self.stderr()
            ),
        }
    }

    /// Every line until stdout closes.
    pub fn rest(&mut self, secs: u64) -> Vec<String> {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(secs);
        let mut out = Vec::new();
        loop {
            let left = deadline.saturating_duration_since(std::time::Instant::now());
            match self.lines.recv_timeout(left) {
                Ok(l) => out.push(l),
                Err(std::sync::mpsc::RecvTimeoutError::Disconnected) => return out,
                Err(e) => panic!(
                    "nosey still running after {secs}s ({e}); stderr:\n{}",
                    self.stderr()
                ),
            }
        }
    }

    /// Asks nosey to stop as a service manager would (SIGTERM).
    pub fn terminate(&self) {
        let _ = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status();
    }

    pub fn stderr(&self) -> String {
        std::fs::read_to_string(&self.stderr_path).unwrap_or_default()
    }

    /// Waits for exit (killing after `secs`) and returns the exit status.
    pub fn wait(&mut self, secs: u64) -> std::process::ExitStatus {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(secs);
        loop {
            if let Some(st) = self.child.try_wait().unwrap() {
                return st;
            }
            if std::time::Instant::now() > deadline {
                let _ = self.child.kill();
                panic!(
                    "nosey did not exit within {secs}s; stderr:\n{}",
                    self.stderr()
                );
            }
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
    }
}

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
