//! The store's multi-row writes: each statement crosses to SQLite's thread once, whatever
//! it carries, so a batch of deliveries, records or attempts costs a few round trips rather
//! than one per row.

use sqlx::{QueryBuilder, Sqlite, SqliteConnection};

use crate::moodle::Cursor;
use crate::store::{AttemptRecord, NewDelivery, Outcome, SOURCE};

/// Rows per multi-row INSERT: 12 columns × 200 stays far below SQLite's variable limit.
pub(super) const ROWS_PER_STATEMENT: usize = 200;

/// Whether to keep a multi-row statement of `rows` rows prepared for reuse. Only full chunks
/// recur; keeping every size (a prepared 200-row statement is a large program) made the
/// connections' statement caches the biggest share of nosey's memory while delivering.
pub(super) fn keep_prepared(rows: usize) -> bool {
    rows == ROWS_PER_STATEMENT
}

/// Runs a multi-row statement of `rows` rows, kept prepared only when it is full-size.
async fn execute_chunk(
    conn: &mut SqliteConnection,
    mut qb: QueryBuilder<Sqlite>,
    rows: usize,
) -> std::result::Result<(), sqlx::Error> {
    qb.build()
        .persistent(keep_prepared(rows))
        .execute(conn)
        .await
        .map(|_| ())
}

/// Inserts the deliveries with the seqs after the store's high-water mark (never a seq given
/// before, even to a pruned delivery) and moves the mark on. Returns the seqs, in order.
pub(super) async fn insert_deliveries(
    conn: &mut SqliteConnection,
    deliveries: &mut (dyn Iterator<Item = NewDelivery> + Send + '_),
    known_last: Option<i64>,
) -> std::result::Result<Vec<i64>, sqlx::Error> {
    let mut high_water = known_last;
    let mut seqs = Vec::new();
    let mut chunk = Vec::with_capacity(ROWS_PER_STATEMENT);
    loop {
        chunk.clear();
        chunk.extend((&mut *deliveries).take(ROWS_PER_STATEMENT));
        if chunk.is_empty() {
            break;
        }
        let base = match high_water {
            Some(h) => h,
            None => *high_water.insert(
                sqlx::query_scalar("SELECT value FROM counters WHERE name = 'last_seq'")
                    .fetch_one(&mut *conn)
                    .await?,
            ),
        };
        let first = base + seqs.len() as i64 + 1;
        let chunk_seqs = first..first + chunk.len() as i64;
        let mut qb: QueryBuilder<Sqlite> = QueryBuilder::new(
            "INSERT INTO deliveries (seq, id, route, log_id, eventname, object, ordering_key, \
             status, created_at, next_attempt_at, last_error, finished_at) ",
        );
        qb.push_values(chunk.iter().zip(chunk_seqs.clone()), |mut b, (d, seq)| {
            b.push_bind(seq)
                .push_bind(&d.id)
                .push_bind(&d.route)
                .push_bind(d.log_id)
                .push_bind(&d.eventname)
                .push_bind(&d.object)
                .push_bind(&d.ordering_key)
                .push_bind(if d.dead_reason.is_some() {
                    "dead"
                } else {
                    "pending"
                })
                .push_bind(d.created_at)
                .push_bind(d.created_at)
                .push_bind(&d.dead_reason)
                .push_bind(d.dead_reason.as_ref().map(|_| d.created_at));
        });
        // Both tables' rows in one round trip to SQLite's thread.
        qb.push("; INSERT INTO payloads (seq, headers, body) ");
        qb.push_values(chunk.iter().zip(chunk_seqs.clone()), |mut b, (d, seq)| {
            b.push_bind(seq)
                .push_bind(&d.headers)
                .push_bind(&d.body[..]);
        });
        execute_chunk(conn, qb, chunk.len()).await?;
        seqs.extend(chunk_seqs);
    }
    Ok(seqs)
}

/// The batch's bookkeeping in one statement list: the seq high-water mark, the count of
/// events skipped while disabled, and the cursor.
pub(super) async fn update_marks(
    conn: &mut SqliteConnection,
    last_seq: Option<i64>,
    skipped_disabled: u64,
    cursor: Option<&Cursor>,
    now: i64,
) -> std::result::Result<(), sqlx::Error> {
    if last_seq.is_none() && skipped_disabled == 0 && cursor.is_none() {
        return Ok(());
    }
    let mut qb: QueryBuilder<Sqlite> = QueryBuilder::new("");
    if let Some(high) = last_seq {
        qb.push("UPDATE counters SET value = ")
            .push_bind(high)
            .push(" WHERE name = 'last_seq'; ");
    }
    if skipped_disabled > 0 {
        qb.push("UPDATE counters SET value = value + ")
            .push_bind(skipped_disabled as i64)
            .push(" WHERE name = 'skipped_disabled'; ");
    }
    if let Some(cursor) = cursor {
        let state = serde_json::to_string(cursor).expect("cursor serializes");
        qb.push("INSERT INTO cursor (source, state, updated_at) VALUES (")
            .push_bind(SOURCE)
            .push(", ")
            .push_bind(state)
            .push(", ")
            .push_bind(now)
            .push(
                ") ON CONFLICT (source) DO UPDATE SET state = excluded.state, \
                 updated_at = excluded.updated_at",
            );
    }
    qb.build().execute(conn).await.map(|_| ())
}

pub(super) async fn upsert_records(
    conn: &mut SqliteConnection,
    records: &[((String, i64), String)],
    now: i64,
) -> std::result::Result<(), sqlx::Error> {
    for chunk in records.chunks(ROWS_PER_STATEMENT) {
        let mut qb: QueryBuilder<Sqlite> =
            QueryBuilder::new("INSERT INTO records (tbl, id, record, seen_at) ");
        qb.push_values(chunk, |mut b, ((table, id), json)| {
            b.push_bind(table)
                .push_bind(*id)
                .push_bind(json)
                .push_bind(now);
        });
        qb.push(
            " ON CONFLICT (tbl, id) DO UPDATE SET record = excluded.record, seen_at = excluded.seen_at",
        );
        execute_chunk(conn, qb, chunk.len()).await?;
    }
    Ok(())
}

pub(super) async fn insert_attempts(
    conn: &mut SqliteConnection,
    attempts: &[AttemptRecord],
) -> std::result::Result<(), sqlx::Error> {
    for chunk in attempts.chunks(ROWS_PER_STATEMENT) {
        let mut qb: QueryBuilder<Sqlite> = QueryBuilder::new(
            "INSERT OR REPLACE INTO attempts (delivery_seq, n, started_at, duration_ms, status_code, error, response) ",
        );
        qb.push_values(chunk, |mut b, a| {
            b.push_bind(a.seq)
                .push_bind(i64::from(a.n))
                .push_bind(a.started_at)
                .push_bind(a.duration_ms)
                .push_bind(a.status_code.map(i64::from))
                .push_bind(&a.error)
                .push_bind(&a.response);
        });
        execute_chunk(conn, qb, chunk.len()).await?;
    }
    Ok(())
}

/// One UPDATE per chunk of outcomes, through `UPDATE … FROM (VALUES …)`.
pub(super) async fn update_deliveries(
    conn: &mut SqliteConnection,
    attempts: &[AttemptRecord],
    now: i64,
) -> std::result::Result<(), sqlx::Error> {
    for chunk in attempts.chunks(ROWS_PER_STATEMENT) {
        let mut qb: QueryBuilder<Sqlite> = QueryBuilder::new(
            "WITH v(seq, status, attempts, next_at, last_at, last_status, last_error, finished_at) AS (",
        );
        qb.push_values(chunk, |mut b, a| {
            let (status, next, finished) = match a.outcome {
                Outcome::Delivered => ("delivered", a.started_at, Some(now)),
                Outcome::Dead => ("dead", a.started_at, Some(now)),
                Outcome::Retry { next_attempt_at } => ("pending", next_attempt_at, None),
            };
            b.push_bind(a.seq)
                .push_bind(status)
                .push_bind(i64::from(a.n))
                .push_bind(next)
                .push_bind(a.started_at)
                .push_bind(a.status_code.map(i64::from))
                .push_bind(&a.error)
                .push_bind(finished);
        });
        qb.push(
            ") UPDATE deliveries SET status = v.status, attempts = v.attempts, \
             next_attempt_at = v.next_at, last_attempt_at = v.last_at, \
             last_status = v.last_status, last_error = v.last_error, finished_at = v.finished_at \
             FROM v WHERE deliveries.seq = v.seq",
        );
        execute_chunk(conn, qb, chunk.len()).await?;
    }
    Ok(())
}
