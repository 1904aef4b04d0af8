//! Connection pools to Moodle's database: PostgreSQL, MySQL/MariaDB, and SQLite for the demo.
//!
//! nosey only ever reads Moodle's tables. One small pool per process is enough: the tailer
//! issues one primary-key range query per poll, and record lookups one query per table per
//! batch. The SQL dialects differ only in placeholders and identifier quoting, which
//! [`Dialect`] hides so that the tailer and the record reader stay engine-agnostic.

use std::str::FromStr;
use std::time::Duration;

use sqlx::mysql::{MySqlConnectOptions, MySqlPool, MySqlPoolOptions};
use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};
use sqlx::sqlite::{SqliteConnectOptions, SqlitePool, SqlitePoolOptions};

use super::error::{Engine, MoodleError, Target, classify};

/// A pool for one of the engines Moodle runs on.
#[derive(Clone, Debug)]
pub enum Pool {
    Postgres(PgPool),
    MySql(MySqlPool),
    Sqlite(SqlitePool),
}

/// Moodle's database: a pool plus the names nosey needs (prefix, log table).
#[derive(Clone, Debug)]
pub struct MoodleDb {
    pool: Pool,
    target: Target,
    prefix: String,
    log_table: String,
}

/// How long a query may wait for a connection before the database counts as unreachable:
/// short, so an outage is noticed (and reported) within seconds.
const ACQUIRE_TIMEOUT: Duration = Duration::from_secs(3);

impl MoodleDb {
    /// Opens a pool to `url` (postgres://, mysql:// or sqlite://) and checks it answers.
    /// `log_table` is the table name without the prefix (usually `logstore_standard_log`).
    pub async fn connect(url: &str, prefix: &str, log_table: &str) -> Result<Self, MoodleError> {
        let (pool, target) = open_pool(url).await?;
        let db = MoodleDb {
            pool,
            target,
            prefix: prefix.to_string(),
            log_table: format!("{prefix}{log_table}"),
        };
        db.ping().await?;
        Ok(db)
    }

    pub fn engine(&self) -> Engine {
        self.target.engine
    }

    pub fn target(&self) -> &Target {
        &self.target
    }

    pub fn prefix(&self) -> &str {
        &self.prefix
    }

    /// The full name of the log table, prefix included (`mdl_logstore_standard_log`).
    pub fn log_table(&self) -> &str {
        &self.log_table
    }

    pub fn pool(&self) -> &Pool {
        &self.pool
    }

    pub fn dialect(&self) -> Dialect {
        Dialect(self.target.engine)
    }

    /// Maps an sqlx error from a query on `table` into an actionable [`MoodleError`].
    pub fn error(&self, err: sqlx::Error, table: Option<&str>, what: &str) -> MoodleError {
        classify(err, &self.target, table, &self.prefix, what)
    }

    async fn ping(&self) -> Result<(), MoodleError> {
        let res = match &self.pool {
            Pool::Postgres(p) => sqlx::query("SELECT 1").execute(p).await.map(|_| ()),
            Pool::MySql(p) => sqlx::query("SELECT 1").execute(p).await.map(|_| ()),
            Pool::Sqlite(p) => sqlx::query("SELECT 1").execute(p).await.map(|_| ()),
        };
        res.map_err(|e| self.error(e, None, "connecting"))
    }

    pub async fn close(&self) {
        match &self.pool {
            Pool::Postgres(p) => p.close().await,
            Pool::MySql(p) => p.close().await,
            Pool::Sqlite(p) => p.close().await,
        }
    }
}

async fn open_pool(url: &str) -> Result<(Pool, Target), MoodleError> {
    let scheme = url.split("://").next().unwrap_or_default();
    match scheme {
        "postgres" | "postgresql" => {
            let opts = PgConnectOptions::from_str(url).map_err(bad_url)?;
            let target = Target {
                engine: Engine::Postgres,
                host: describe_host(opts.get_host(), opts.get_port(), opts.get_socket()),
                database: opts.get_database().unwrap_or_default().to_string(),
                user: opts.get_username().to_string(),
            };
            let pool = PgPoolOptions::new()
                .max_connections(4)
                .acquire_timeout(ACQUIRE_TIMEOUT)
                .acquire_slow_threshold(ACQUIRE_TIMEOUT)
                .connect_with(opts.application_name("nosey"))
                .await
                .map_err(|e| classify(e, &target, None, "", "connecting"))?;
            Ok((Pool::Postgres(pool), target))
        }
        "mysql" | "mariadb" => {
            let url = url.replacen("mariadb://", "mysql://", 1);
            let opts = MySqlConnectOptions::from_str(&url).map_err(bad_url)?;
            let target = Target {
                engine: Engine::MySql,
                host: describe_host(opts.get_host(), opts.get_port(), opts.get_socket()),
                database: opts.get_database().unwrap_or_default().to_string(),
                user: opts.get_username().to_string(),
            };
            let pool = MySqlPoolOptions::new()
                .max_connections(4)
                .acquire_timeout(ACQUIRE_TIMEOUT)
                .acquire_slow_threshold(ACQUIRE_TIMEOUT)
                .connect_with(opts)
                .await
                .map_err(|e| classify(e, &target, None, "", "connecting"))?;
            Ok((Pool::MySql(pool), target))
        }
        "sqlite" => {
            let opts = SqliteConnectOptions::from_str(url).map_err(bad_url)?;
            let target = Target {
                engine: Engine::Sqlite,
                host: opts.get_filename().display().to_string(),
                database: String::new(),
                user: String::new(),
            };
            let opts = opts
                .journal_mode(sqlx::sqlite::SqliteJournalMode::Wal)
                .busy_timeout(Duration::from_secs(5));
            let pool = SqlitePoolOptions::new()
                .max_connections(4)
                .acquire_timeout(ACQUIRE_TIMEOUT)
                .acquire_slow_threshold(ACQUIRE_TIMEOUT)
                .connect_with(opts)
                .await
                .map_err(|e| classify(e, &target, None, "", "opening"))?;
            Ok((Pool::Sqlite(pool), target))
        }
        _ => Err(MoodleError::BadUrl(format!(
            "unsupported scheme '{scheme}://': use postgres://, mysql://, mariadb:// or sqlite:// (demo only)"
        ))),
    }
}

fn bad_url(e: sqlx::Error) -> MoodleError {
    // sqlx's URL errors never echo the password, but keep only the kind of problem anyway.
    MoodleError::BadUrl(e.to_string())
}

fn describe_host(host: &str, port: u16, socket: Option<&std::path::PathBuf>) -> String {
    match socket {
        Some(s) => format!("socket {}", s.display()),
        None => format!("{host}:{port}"),
    }
}

/// The per-engine spelling of SQL that otherwise reads the same everywhere.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Dialect(pub Engine);

impl Dialect {
    /// The n-th (1-based) bind placeholder.
    pub fn param(self, n: usize) -> String {
        match self.0 {
            Engine::Postgres => format!("${n}"),
            Engine::MySql | Engine::Sqlite => "?".to_string(),
        }
    }

    /// Quotes an identifier that has already been checked against `[a-z][a-z0-9_]*`.
    pub fn ident(self, name: &str) -> String {
        debug_assert!(is_safe_identifier(name), "unchecked identifier {name:?}");
        match self.0 {
            Engine::MySql => format!("`{name}`"),
            Engine::Postgres | Engine::Sqlite => format!("\"{name}\""),
        }
    }
}

/// Moodle's table and column names: lowercase ASCII letters, digits and underscores, starting
/// with a letter. Anything else never reaches SQL.
pub fn is_safe_identifier(name: &str) -> bool {
    let mut chars = name.chars();
    matches!(chars.next(), Some('a'..='z'))
        && chars.all(|c| matches!(c, 'a'..='z' | '0'..='9' | '_'))
        && name.len() <= 64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identifiers_are_checked() {
        assert!(is_safe_identifier("course_modules_completion"));
        assert!(is_safe_identifier("mdl_user"));
        assert!(!is_safe_identifier("course; DROP TABLE x"));
        assert!(!is_safe_identifier("../x"));
        assert!(!is_safe_identifier("Course"));
        assert!(!is_safe_identifier("1course"));
        assert!(!is_safe_identifier(""));
    }

    #[test]
    fn dialects_spell_placeholders_and_quotes() {
        assert_eq!(Dialect(Engine::Postgres).param(2), "$2");
        assert_eq!(Dialect(Engine::MySql).param(2), "?");
        assert_eq!(Dialect(Engine::MySql).ident("mdl_user"), "`mdl_user`");
        assert_eq!(Dialect(Engine::Postgres).ident("mdl_user"), "\"mdl_user\"");
    }
}
