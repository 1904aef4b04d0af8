//! The embedded store: one SQLite file in WAL mode.
//!
//! One writer connection (SQLite allows one writer at a time anyway, and a single connection
//! turns waiting on locks into plain queueing) and a few readers, which WAL lets run beside
//! the writer. Bulk writes use multi-row statements ([`bulk`]).

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use sqlx::migrate::{Migration, MigrationType, Migrator};
use sqlx::pool::PoolConnection;
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteRow,
    SqliteSynchronous,
};
use sqlx::{AssertSqlSafe, QueryBuilder, Row, SqlSafeStr, Sqlite, SqliteConnection};

use super::{
    AttemptRecord, AttemptRow, BatchWrite, DeliveryDetail, DeliveryRow, ListFilter, Pending,
    Result, RouteStats, SOURCE, Status, Store, StoreError,
};
use crate::moodle::Cursor;
use crate::moodle::record::Record;
use crate::moodle::tailer::now_ms;
use bulk::{
    ROWS_PER_STATEMENT, insert_attempts, insert_deliveries, keep_prepared, update_deliveries,
    update_marks, upsert_records,
};

#[derive(Clone, Debug)]
pub struct SqliteStore {
    path: PathBuf,
    writer: SqlitePool,
    reader: SqlitePool,
    /// The seq high-water mark as last committed through this handle, saving a query per
    /// batch; forgotten after any failed batch, when the store's own copy is read again.
    last_seq: Arc<std::sync::Mutex<Option<i64>>>,
}

fn migrations() -> Migrator {
    let migration = |version, name: &str, sql: &'static str| {
        Migration::new(
            version,
            name.to_string().into(),
            MigrationType::Simple,
            AssertSqlSafe(sql).into_sql_str(),
            false,
        )
    };
    Migrator::with_migrations(vec![
        migration(1, "init", include_str!("migrations/0001_init.sql")),
        migration(
            2,
            "pending by key",
            include_str!("migrations/0002_pending_by_key.sql"),
        ),
        migration(3, "payloads", include_str!("migrations/0003_payloads.sql")),
        migration(
            4,
            "seq high water",
            include_str!("migrations/0004_seq_high_water.sql"),
        ),
    ])
}

/// The columns a lane needs of a pending delivery, its body (from `payloads`) included.
macro_rules! select_pending {
    () => {
        "SELECT seq, id, ordering_key, attempts, created_at, next_attempt_at, manual, \
         (SELECT body FROM payloads p WHERE p.seq = deliveries.seq) AS body FROM deliveries "
    };
}

impl SqliteStore {
    /// Opens (creating it and its folder if needed) and migrates the store at `path`.
    pub async fn open(path: &Path) -> Result<Self> {
        let open_err = |message: String| StoreError::Open {
            path: path.display().to_string(),
            message,
        };
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir)
                .map_err(|e| open_err(format!("{}: {e}", dir.display())))?;
        }
        let opts = SqliteConnectOptions::from_str("sqlite://")
            .map_err(|e| open_err(e.to_string()))?
            .filename(path)
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal)
            .busy_timeout(Duration::from_secs(10))
            .foreign_keys(false);
        let writer = SqlitePoolOptions::new()
            .max_connections(1)
            .acquire_timeout(Duration::from_secs(60))
            .connect_with(opts.clone())
            .await
            .map_err(|e| open_err(e.to_string()))?;
        migrations()
            .run(&writer)
            .await
            .map_err(|e| open_err(format!("migrating: {e}")))?;
        // Readers are ordinary read-write connections that only read: a read-only SQLite
        // connection cannot recover the WAL index after a crash and may then read the file as
        // of the last checkpoint, which would hide the newest cursor after a kill -9.
        let reader = SqlitePoolOptions::new()
            .max_connections(4)
            .connect_with(opts)
            .await
            .map_err(|e| open_err(e.to_string()))?;
        Ok(SqliteStore {
            path: path.to_path_buf(),
            writer,
            reader,
            last_seq: Arc::default(),
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    pub async fn close(&self) {
        self.writer.close().await;
        self.reader.close().await;
    }

    /// Pending deliveries of `route` (of one ordering key, if given) with
    /// `after < seq <= up_to`, in order, bodies included.
    async fn read_pending(
        &self,
        route: &str,
        key: Option<&str>,
        after: i64,
        up_to: i64,
        limit: u32,
    ) -> Result<Vec<Pending>> {
        let query = match key {
            Some(key) => sqlx::query(concat!(
                select_pending!(),
                "WHERE route = ? AND ordering_key = ? AND status = 'pending' \
                 AND seq > ? AND seq <= ? ORDER BY seq LIMIT ?"
            ))
            .bind(route)
            .bind(key),
            None => sqlx::query(concat!(
                select_pending!(),
                "WHERE route = ? AND status = 'pending' AND seq > ? AND seq <= ? \
                 ORDER BY seq LIMIT ?"
            ))
            .bind(route),
        };
        let rows = query
            .bind(after)
            .bind(up_to)
            .bind(i64::from(limit))
            .fetch_all(&self.reader)
            .await
            .map_err(|e| self.err(e))?;
        pendings(&rows).map_err(|e| self.err(e))
    }

    fn err(&self, e: sqlx::Error) -> StoreError {
        let path = self.path.display().to_string();
        let full = match &e {
            sqlx::Error::Database(d) => d.code().is_some_and(|c| c == "13"),
            _ => false,
        } || e.to_string().contains("database or disk is full");
        if full {
            StoreError::Full { path }
        } else {
            StoreError::Db {
                path,
                message: e.to_string(),
            }
        }
    }

    /// Starts a write transaction on the writer connection (`BEGIN IMMEDIATE`).
    async fn begin_write(&self) -> std::result::Result<PoolConnection<Sqlite>, sqlx::Error> {
        let mut conn = self.writer.acquire().await?;
        sqlx::query("BEGIN IMMEDIATE").execute(&mut *conn).await?;
        Ok(conn)
    }

    /// Commits when `result` is Ok. After any error the connection is thrown away rather than
    /// returned to the pool: when SQLite fails a statement or a COMMIT with "disk full" it may
    /// or may not have rolled the transaction back, and a connection left inside a half-open
    /// transaction would swallow every later write without a trace.
    async fn end_write<T>(
        &self,
        mut conn: PoolConnection<Sqlite>,
        result: std::result::Result<T, sqlx::Error>,
    ) -> std::result::Result<T, sqlx::Error> {
        let result = match result {
            Ok(v) => sqlx::query("COMMIT").execute(&mut *conn).await.map(|_| v),
            Err(e) => Err(e),
        };
        if result.is_err() {
            let _ = sqlx::query("ROLLBACK").execute(&mut *conn).await;
            let _ = conn.close().await;
        }
        result
    }

    async fn bump_control(
        &self,
        conn: &mut SqliteConnection,
    ) -> std::result::Result<(), sqlx::Error> {
        sqlx::query("UPDATE counters SET value = value + 1 WHERE name = 'control_version'")
            .execute(conn)
            .await
            .map(|_| ())
    }
}

fn pendings(rows: &[SqliteRow]) -> std::result::Result<Vec<Pending>, sqlx::Error> {
    rows.iter().map(pending_from_row).collect()
}

fn pending_from_row(r: &SqliteRow) -> std::result::Result<Pending, sqlx::Error> {
    Ok(Pending {
        seq: r.try_get("seq")?,
        id: r.try_get("id")?,
        ordering_key: r.try_get("ordering_key")?,
        attempts: r.try_get::<i64, _>("attempts")? as u32,
        created_at: r.try_get("created_at")?,
        next_attempt_at: r.try_get("next_attempt_at")?,
        manual: r.try_get::<i64, _>("manual")? != 0,
        body: Some(Bytes::from(r.try_get::<Vec<u8>, _>("body")?)),
    })
}

fn delivery_from_row(r: &SqliteRow) -> std::result::Result<DeliveryRow, sqlx::Error> {
    Ok(DeliveryRow {
        id: r.try_get("id")?,
        seq: r.try_get("seq")?,
        route: r.try_get("route")?,
        log_id: r.try_get("log_id")?,
        eventname: r.try_get("eventname")?,
        object: r.try_get("object")?,
        status: r.try_get("status")?,
        attempts: r.try_get::<i64, _>("attempts")? as u32,
        created_at: r.try_get("created_at")?,
        next_attempt_at: r.try_get("next_attempt_at")?,
        last_attempt_at: r.try_get("last_attempt_at")?,
        last_status: r.try_get("last_status")?,
        last_error: r.try_get("last_error")?,
        finished_at: r.try_get("finished_at")?,
    })
}

const ROW_COLUMNS: &str = "id, seq, route, log_id, eventname, object, status, attempts, \
     created_at, next_attempt_at, last_attempt_at, last_status, last_error, finished_at";

/// `*` and `?` wildcards as an SQL LIKE pattern with `!` as the escape character (event names
/// are full of `_` and `\`, which must stay literal).
fn like_pattern(pattern: &str) -> String {
    let mut out = String::with_capacity(pattern.len());
    for c in pattern.chars() {
        match c {
            '*' => out.push('%'),
            '?' => out.push('_'),
            '%' | '_' | '!' => {
                out.push('!');
                out.push(c);
            }
            c => out.push(c),
        }
    }
    out
}

impl Store for SqliteStore {
    async fn load_cursor(&self) -> Result<Option<Cursor>> {
        let row = sqlx::query("SELECT state FROM cursor WHERE source = ?")
            .bind(SOURCE)
            .fetch_optional(&self.writer)
            .await
            .map_err(|e| self.err(e))?;
        let Some(row) = row else { return Ok(None) };
        let state: String = row.try_get(0).map_err(|e| self.err(e))?;
        serde_json::from_str(&state)
            .map(Some)
            .map_err(|e| StoreError::Db {
                path: self.path.display().to_string(),
                message: format!("the saved cursor is unreadable ({e}); run with --reset-cursor"),
            })
    }

    async fn reset_cursor(&self) -> Result<()> {
        sqlx::query("DELETE FROM cursor WHERE source = ?")
            .bind(SOURCE)
            .execute(&self.writer)
            .await
            .map(|_| ())
            .map_err(|e| self.err(e))
    }

    async fn commit_batch(&self, batch: BatchWrite<'_>) -> Result<Vec<i64>> {
        let now = now_ms();
        let mut tx = self.begin_write().await.map_err(|e| self.err(e))?;
        let mut deliveries = batch.deliveries;
        let known_last = *self.last_seq.lock().expect("not poisoned");
        let run = async {
            let seqs = insert_deliveries(&mut tx, &mut deliveries, known_last).await?;
            upsert_records(&mut tx, batch.records, now).await?;
            let high = seqs.last().copied();
            update_marks(&mut tx, high, batch.skipped_disabled, batch.cursor, now).await?;
            Ok::<_, sqlx::Error>(seqs)
        }
        .await;
        let committed = self.end_write(tx, run).await.map_err(|e| self.err(e));
        let mut last_seq = self.last_seq.lock().expect("not poisoned");
        *last_seq = match &committed {
            Ok(seqs) => seqs.last().copied().or(*last_seq),
            Err(_) => None,
        };
        committed
    }

    async fn recall_records(
        &self,
        keys: &[(String, i64)],
    ) -> Result<HashMap<(String, i64), Arc<Record>>> {
        let mut out = HashMap::new();
        for chunk in keys.chunks(ROWS_PER_STATEMENT) {
            let mut qb: QueryBuilder<Sqlite> =
                QueryBuilder::new("SELECT tbl, id, record FROM records WHERE (tbl, id) IN (");
            let mut sep = qb.separated(", ");
            for (t, id) in chunk {
                sep.push("(");
                sep.push_bind_unseparated(t.clone());
                sep.push_unseparated(", ");
                sep.push_bind_unseparated(*id);
                sep.push_unseparated(")");
            }
            qb.push(")");
            let rows = qb
                .build()
                .persistent(keep_prepared(chunk.len()))
                .fetch_all(&self.reader)
                .await
                .map_err(|e| self.err(e))?;
            for r in rows {
                let table: String = r.try_get(0).map_err(|e| self.err(e))?;
                let id: i64 = r.try_get(1).map_err(|e| self.err(e))?;
                let text: String = r.try_get(2).map_err(|e| self.err(e))?;
                if let Ok(record) = serde_json::from_str::<Record>(&text) {
                    out.insert((table, id), Arc::new(record));
                }
            }
        }
        Ok(out)
    }

    async fn pending_of_key(
        &self,
        route: &str,
        key: &str,
        after: i64,
        up_to: i64,
        limit: u32,
    ) -> Result<Vec<Pending>> {
        self.read_pending(route, Some(key), after, up_to, limit)
            .await
    }

    async fn pending(
        &self,
        route: &str,
        after: i64,
        up_to: i64,
        limit: u32,
    ) -> Result<Vec<Pending>> {
        self.read_pending(route, None, after, up_to, limit).await
    }

    async fn body(&self, seq: i64) -> Result<Option<Bytes>> {
        let row = sqlx::query("SELECT body FROM payloads WHERE seq = ?")
            .bind(seq)
            .fetch_optional(&self.reader)
            .await
            .map_err(|e| self.err(e))?;
        row.map(|r| r.try_get::<Vec<u8>, _>(0).map(Bytes::from))
            .transpose()
            .map_err(|e| self.err(e))
    }

    async fn record_attempts(&self, attempts: &[AttemptRecord]) -> Result<()> {
        if attempts.is_empty() {
            return Ok(());
        }
        let now = now_ms();
        let mut tx = self.begin_write().await.map_err(|e| self.err(e))?;
        let run = async {
            insert_attempts(&mut tx, attempts).await?;
            update_deliveries(&mut tx, attempts, now).await?;
            Ok(())
        }
        .await;
        self.end_write(tx, run).await.map_err(|e| self.err(e))
    }

    async fn take_manual(&self, route: &str) -> Result<Vec<Pending>> {
        let mut tx = self.begin_write().await.map_err(|e| self.err(e))?;
        let run = async {
            let rows = sqlx::query(concat!(
                select_pending!(),
                "WHERE route = ? AND manual = 1 ORDER BY seq"
            ))
            .bind(route)
            .fetch_all(&mut *tx)
            .await?;
            sqlx::query("UPDATE deliveries SET manual = 0 WHERE route = ? AND manual = 1")
                .bind(route)
                .execute(&mut *tx)
                .await?;
            pendings(&rows)
        }
        .await;
        self.end_write(tx, run).await.map_err(|e| self.err(e))
    }

    async fn control_version(&self) -> Result<i64> {
        self.counter("control_version").await
    }

    async fn paused_routes(&self) -> Result<HashSet<String>> {
        let rows = sqlx::query("SELECT name FROM routes WHERE paused = 1")
            .fetch_all(&self.reader)
            .await
            .map_err(|e| self.err(e))?;
        rows.iter()
            .map(|r| r.try_get::<String, _>(0))
            .collect::<std::result::Result<_, _>>()
            .map_err(|e| self.err(e))
    }

    async fn set_paused(&self, route: &str, paused: bool) -> Result<()> {
        let mut tx = self.begin_write().await.map_err(|e| self.err(e))?;
        let run = async {
            sqlx::query(
                "INSERT INTO routes (name, paused, updated_at) VALUES (?, ?, ?) \
                 ON CONFLICT (name) DO UPDATE SET paused = excluded.paused, updated_at = excluded.updated_at",
            )
            .bind(route)
            .bind(i64::from(paused))
            .bind(now_ms())
            .execute(&mut *tx)
            .await?;
            self.bump_control(&mut tx).await?;
            Ok(())
        }
        .await;
        self.end_write(tx, run).await.map_err(|e| self.err(e))
    }

    async fn list(&self, filter: &ListFilter) -> Result<Vec<DeliveryRow>> {
        let mut qb: QueryBuilder<Sqlite> =
            QueryBuilder::new(format!("SELECT {ROW_COLUMNS} FROM deliveries WHERE 1 = 1"));
        if let Some(s) = filter.status {
            qb.push(" AND status = ").push_bind(s.as_str());
        }
        if let Some(r) = &filter.route {
            qb.push(" AND route = ").push_bind(r.clone());
        }
        if let Some(e) = &filter.event {
            qb.push(" AND eventname LIKE ")
                .push_bind(like_pattern(e))
                .push(" ESCAPE '!'");
        }
        qb.push(" ORDER BY seq DESC LIMIT ")
            .push_bind(i64::from(filter.limit.max(1)));
        let rows = qb
            .build()
            .fetch_all(&self.reader)
            .await
            .map_err(|e| self.err(e))?;
        rows.iter()
            .map(delivery_from_row)
            .collect::<std::result::Result<_, _>>()
            .map_err(|e| self.err(e))
    }

    async fn show(&self, id: &str) -> Result<Option<DeliveryDetail>> {
        let sql = AssertSqlSafe(format!(
            "SELECT {ROW_COLUMNS}, \
             (SELECT headers FROM payloads p WHERE p.seq = deliveries.seq) AS headers, \
             (SELECT body FROM payloads p WHERE p.seq = deliveries.seq) AS body \
             FROM deliveries WHERE id = ?"
        ));
        let Some(r) = sqlx::query(sql)
            .bind(id)
            .fetch_optional(&self.reader)
            .await
            .map_err(|e| self.err(e))?
        else {
            return Ok(None);
        };
        let row = delivery_from_row(&r).map_err(|e| self.err(e))?;
        let headers: String = r.try_get("headers").map_err(|e| self.err(e))?;
        let body: Vec<u8> = r.try_get("body").map_err(|e| self.err(e))?;
        let attempts = sqlx::query(
            "SELECT n, started_at, duration_ms, status_code, error, response FROM attempts \
             WHERE delivery_seq = ? ORDER BY n",
        )
        .bind(row.seq)
        .fetch_all(&self.reader)
        .await
        .map_err(|e| self.err(e))?;
        let attempts_log = attempts
            .iter()
            .map(|a| {
                Ok(AttemptRow {
                    n: a.try_get::<i64, _>(0)? as u32,
                    started_at: a.try_get(1)?,
                    duration_ms: a.try_get(2)?,
                    status_code: a.try_get(3)?,
                    error: a.try_get(4)?,
                    response: a.try_get(5)?,
                })
            })
            .collect::<std::result::Result<_, sqlx::Error>>()
            .map_err(|e| self.err(e))?;
        Ok(Some(DeliveryDetail {
            row,
            headers: serde_json::from_str(&headers).unwrap_or(serde_json::Value::Null),
            body: String::from_utf8_lossy(&body).into_owned(),
            attempts_log,
        }))
    }

    async fn retry(&self, id: &str) -> Result<bool> {
        let mut tx = self.begin_write().await.map_err(|e| self.err(e))?;
        let run = async {
            let done = sqlx::query(
                "UPDATE deliveries SET status = 'pending', manual = 1, next_attempt_at = ?, \
                 finished_at = NULL WHERE id = ?",
            )
            .bind(now_ms())
            .bind(id)
            .execute(&mut *tx)
            .await?
            .rows_affected();
            self.bump_control(&mut tx).await?;
            Ok::<_, sqlx::Error>(done > 0)
        }
        .await;
        self.end_write(tx, run).await.map_err(|e| self.err(e))
    }

    async fn retry_dead(&self, route: Option<&str>) -> Result<u64> {
        let mut tx = self.begin_write().await.map_err(|e| self.err(e))?;
        let run = async {
            let mut qb: QueryBuilder<Sqlite> = QueryBuilder::new(
                "UPDATE deliveries SET status = 'pending', manual = 1, finished_at = NULL, next_attempt_at = ",
            );
            qb.push_bind(now_ms()).push(" WHERE status = 'dead'");
            if let Some(r) = route {
                qb.push(" AND route = ").push_bind(r.to_string());
            }
            let n = qb.build().execute(&mut *tx).await?.rows_affected();
            self.bump_control(&mut tx).await?;
            Ok::<_, sqlx::Error>(n)
        }
        .await;
        self.end_write(tx, run).await.map_err(|e| self.err(e))
    }

    async fn prune(&self, before: i64) -> Result<u64> {
        let mut tx = self.begin_write().await.map_err(|e| self.err(e))?;
        let run = async {
            for table in ["attempts WHERE delivery_seq", "payloads WHERE seq"] {
                sqlx::query(sqlx::AssertSqlSafe(format!(
                    "DELETE FROM {table} IN (SELECT seq FROM deliveries \
                     WHERE status = 'delivered' AND finished_at < ?)"
                )))
                .bind(before)
                .execute(&mut *tx)
                .await?;
            }
            let n = sqlx::query(
                "DELETE FROM deliveries WHERE status = 'delivered' AND finished_at < ?",
            )
            .bind(before)
            .execute(&mut *tx)
            .await?
            .rows_affected();
            Ok::<_, sqlx::Error>(n)
        }
        .await;
        self.end_write(tx, run).await.map_err(|e| self.err(e))
    }

    async fn route_stats(&self) -> Result<HashMap<String, RouteStats>> {
        let rows = sqlx::query(
            "SELECT route, status, COUNT(*), MIN(created_at) FROM deliveries GROUP BY route, status",
        )
        .fetch_all(&self.reader)
        .await
        .map_err(|e| self.err(e))?;
        let mut out: HashMap<String, RouteStats> = HashMap::new();
        for r in rows {
            let route: String = r.try_get(0).map_err(|e| self.err(e))?;
            let status: String = r.try_get(1).map_err(|e| self.err(e))?;
            let n: i64 = r.try_get(2).map_err(|e| self.err(e))?;
            let oldest: Option<i64> = r.try_get(3).map_err(|e| self.err(e))?;
            let s = out.entry(route).or_default();
            match Status::parse(&status) {
                Some(Status::Pending) => {
                    s.pending = n as u64;
                    s.oldest_pending_at = oldest;
                }
                Some(Status::Delivered) => s.delivered = n as u64,
                Some(Status::Dead) => s.dead = n as u64,
                None => {}
            }
        }
        Ok(out)
    }

    async fn counter(&self, name: &str) -> Result<i64> {
        sqlx::query("SELECT value FROM counters WHERE name = ?")
            .bind(name)
            .fetch_optional(&self.reader)
            .await
            .map_err(|e| self.err(e))?
            .map_or(Ok(0), |r| r.try_get(0))
            .map_err(|e| self.err(e))
    }

    async fn check_writable(&self) -> Result<()> {
        // begin_write takes the write lock at once (BEGIN IMMEDIATE), as a real batch would.
        let mut tx = self.begin_write().await.map_err(|e| self.err(e))?;
        let run = async {
            sqlx::query("UPDATE counters SET value = value + 0 WHERE name = 'control_version'")
                .execute(&mut *tx)
                .await?;
            Ok(())
        }
        .await;
        self.end_write(tx, run).await.map_err(|e| self.err(e))
    }
}

mod bulk;
#[cfg(test)]
mod tests;
