//! Writing simulated requests into a database the way Moodle does: each request's row
//! changes, then its log rows in one multi-row INSERT (the buffered log store writes when
//! the request ends).
//!
//! Many requests go in one transaction, grouped into large statements (see `plan.rs`) so that a
//! benchmark can write tens of thousands of log rows a second. Log rows are inserted
//! last, in request order, so the ids the database gives them increase in request order.
//! Every value is bound; only table and column names (checked identifiers, mostly this
//! module's constants) are part of the SQL text.

use sqlx::mysql::MySqlPool;
use sqlx::postgres::PgPool;
use sqlx::sqlite::SqlitePool;
use sqlx::{MySql, Postgres, Sqlite};

use super::error::{SimError, check_name, check_prefix};
use super::plan::{Group, Plan};
use super::request::{LogEntry, Request};
use super::rows::base_rows;
use super::sql::{MAX_ROWS, Stmt, log_rows_per_statement, rows_per_statement, statement_chunks};
use crate::moodle::db::{MoodleDb, Pool};
use crate::moodle::error::Engine;

/// A database holding Moodle's tables under `prefix`.
#[derive(Debug, Clone)]
pub struct SimTarget {
    pool: Pool,
    prefix: String,
}

impl SimTarget {
    pub fn new(pool: Pool, prefix: &str) -> Result<Self, SimError> {
        check_prefix(prefix)?;
        Ok(SimTarget {
            pool,
            prefix: prefix.to_string(),
        })
    }

    /// An SQLite database: the demo and tests only.
    pub fn sqlite(pool: SqlitePool, prefix: &str) -> Result<Self, SimError> {
        SimTarget::new(Pool::Sqlite(pool), prefix)
    }

    pub fn postgres(pool: PgPool, prefix: &str) -> Result<Self, SimError> {
        SimTarget::new(Pool::Postgres(pool), prefix)
    }

    pub fn mysql(pool: MySqlPool, prefix: &str) -> Result<Self, SimError> {
        SimTarget::new(Pool::MySql(pool), prefix)
    }

    /// The database nosey reads, written to through the same pool.
    pub fn from_db(db: &MoodleDb) -> Result<Self, SimError> {
        SimTarget::new(db.pool().clone(), db.prefix())
    }

    pub fn engine(&self) -> Engine {
        match self.pool {
            Pool::Postgres(_) => Engine::Postgres,
            Pool::MySql(_) => Engine::MySql,
            Pool::Sqlite(_) => Engine::Sqlite,
        }
    }

    pub fn prefix(&self) -> &str {
        &self.prefix
    }

    /// `prefix` + `table`, checked to be a plain identifier.
    fn table(&self, table: &str) -> Result<String, SimError> {
        let full = format!("{}{table}", self.prefix);
        check_name(&full)?;
        Ok(full)
    }
}

/// What one call wrote.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ApplyStats {
    pub requests: usize,
    pub changes: usize,
    pub log_rows: usize,
    pub statements: usize,
}

impl ApplyStats {
    fn add(&mut self, other: ApplyStats) {
        self.requests += other.requests;
        self.changes += other.changes;
        self.log_rows += other.log_rows;
        self.statements += other.statements;
    }
}

/// Writes `requests` in one transaction: their row changes, grouped, then all their log
/// rows in request order. Larger slices mean fewer, larger statements.
pub async fn apply(target: &SimTarget, requests: &[Request]) -> Result<ApplyStats, SimError> {
    let mut plan = Plan::default();
    for change in requests.iter().flat_map(|r| &r.changes) {
        plan.add(change);
    }
    let log: Vec<&LogEntry> = requests.iter().flat_map(|r| &r.log).collect();
    let mut statements = change_statements(target, &plan)?;
    statements.extend(log_statements(target, &log)?);
    let count = execute(target, &statements).await?;
    Ok(ApplyStats {
        requests: requests.len(),
        changes: plan.changes(),
        log_rows: log.len(),
        statements: count,
    })
}

/// Writes log rows only (no row changes), `batch` rows per transaction: the fastest way to
/// fill a log table for a benchmark. The next batch is drawn from `rows` while the current
/// one is written, so a lazy generator costs no extra time.
pub async fn bulk_log_only(
    target: &SimTarget,
    mut rows: impl Iterator<Item = LogEntry>,
    batch: usize,
) -> Result<ApplyStats, SimError> {
    let batch = batch.max(1);
    let mut stats = ApplyStats::default();
    let mut chunk = draw(&mut rows, batch).await;
    while !chunk.is_empty() {
        let refs: Vec<&LogEntry> = chunk.iter().collect();
        let statements = log_statements(target, &refs)?;
        let (written, next) = tokio::join!(execute(target, &statements), draw(&mut rows, batch));
        stats.add(ApplyStats {
            requests: 0,
            changes: 0,
            log_rows: chunk.len(),
            statements: written?,
        });
        chunk = next;
    }
    Ok(stats)
}

/// Takes up to `n` rows, yielding now and then so that a statement in flight beside it is
/// answered and the next one sent while rows are still being made.
async fn draw(rows: &mut impl Iterator<Item = LogEntry>, n: usize) -> Vec<LogEntry> {
    const SLICE: usize = 500;
    let mut out = Vec::with_capacity(n);
    while out.len() < n {
        let before = out.len();
        out.extend(rows.by_ref().take(SLICE.min(n - before)));
        if out.len() == before {
            break;
        }
        tokio::task::yield_now().await;
    }
    out
}

/// Installs the rows of a fresh Moodle site (see [`base_rows`]) into empty tables, so a
/// [`Simulator`](super::Simulator) can run against them.
pub async fn install_base(target: &SimTarget, installed_at: i64) -> Result<(), SimError> {
    let base = Request {
        changes: base_rows(installed_at),
        log: Vec::new(),
        origin: "cli",
    };
    apply(target, &[base]).await.map(|_| ())
}

fn change_statements<'p>(
    target: &SimTarget,
    plan: &'p Plan<'p>,
) -> Result<Vec<Stmt<'p>>, SimError> {
    let mut out = Vec::new();
    for (table, group) in plan.groups() {
        let table = target.table(table)?;
        match group {
            Group::Insert { columns, rows } => {
                columns.iter().try_for_each(|c| check_name(c))?;
                for chunk in statement_chunks(rows, rows_per_statement(columns.len())) {
                    let (table, columns) = (table.clone(), columns.as_slice());
                    out.push(Stmt::Insert {
                        table,
                        columns,
                        rows: chunk,
                    });
                }
            }
            Group::Update { columns, rows } => {
                columns.iter().try_for_each(|c| check_name(c))?;
                for chunk in statement_chunks(rows, rows_per_statement(2 * columns.len() + 1)) {
                    let (table, columns) = (table.clone(), columns.as_slice());
                    out.push(Stmt::Update {
                        table,
                        columns,
                        rows: chunk,
                    });
                }
            }
            Group::Delete { ids } => {
                for chunk in statement_chunks(ids, MAX_ROWS) {
                    out.push(Stmt::Delete {
                        table: table.clone(),
                        ids: chunk,
                    });
                }
            }
        }
    }
    Ok(out)
}

fn log_statements<'p>(
    target: &SimTarget,
    log: &'p [&'p LogEntry],
) -> Result<Vec<Stmt<'p>>, SimError> {
    let table = target.table("logstore_standard_log")?;
    let max = log_rows_per_statement(target.engine());
    // PostgreSQL's UNNEST text is the same for any number of rows.
    let chunks = match target.engine() {
        Engine::Postgres => log.chunks(max).collect(),
        Engine::MySql | Engine::Sqlite => statement_chunks(log, max),
    };
    Ok(chunks
        .into_iter()
        .map(|rows| Stmt::Log {
            table: table.clone(),
            rows,
        })
        .collect())
}

/// Runs `statements` in one transaction; returns how many ran.
async fn execute(target: &SimTarget, statements: &[Stmt<'_>]) -> Result<usize, SimError> {
    if statements.is_empty() {
        return Ok(0);
    }
    // Each statement's parameters are encoded while the database runs the one before, so
    // the client's work hides behind the server's.
    macro_rules! run {
        ($pool:expr, $db:ty) => {{
            let mut tx = $pool.begin().await?;
            let mut rest = statements.iter();
            let mut ready = rest.next().map(Stmt::build::<$db>);
            while let Some(mut qb) = ready.take() {
                let next = rest.next();
                let (done, built) = tokio::join!(qb.build().execute(&mut *tx), async {
                    next.map(Stmt::build::<$db>)
                });
                done?;
                ready = built;
            }
            tx.commit().await
        }};
    }
    let res: Result<(), sqlx::Error> = async {
        match &target.pool {
            Pool::Postgres(p) => run!(p, Postgres),
            Pool::MySql(p) => run!(p, MySql),
            Pool::Sqlite(p) => run!(p, Sqlite),
        }
    }
    .await;
    res.map_err(|source| SimError::Database {
        what: "writing simulated requests",
        engine: target.engine(),
        source,
    })?;
    Ok(statements.len())
}
