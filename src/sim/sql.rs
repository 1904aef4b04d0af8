//! The SQL of the simulator's writes, per engine: multi-row INSERTs, CASE-based multi-row
//! UPDATEs, `DELETE … IN`, and the log rows (on PostgreSQL as one `INSERT … SELECT FROM
//! UNNEST(…)` of 20 array parameters, which PostgreSQL plans once for any number of rows).
//!
//! Every value is a bind parameter. Table and column names are the only SQL text that varies,
//! and the writer checks each against `[a-z][a-z0-9_]*` before it gets here.

use sqlx::{Database, MySql, Postgres, QueryBuilder, Sqlite};

use super::request::{LogEntry, SqlValue};
use crate::moodle::db::Dialect;
use crate::moodle::error::Engine;
use crate::moodle::logstore::COLUMNS;

/// Bind parameters per statement, below SQLite's limit (32766) and far below PostgreSQL's and
/// MySQL's (65535).
const MAX_BINDS: usize = 30_000;

/// Rows per statement at most, whatever the column count.
pub const MAX_ROWS: usize = 1_000;

/// Log rows per PostgreSQL `UNNEST` statement: its parameter count does not grow with rows.
const UNNEST_ROWS: usize = 5_000;

/// Splits `items` into statements of at most `max` rows, using only a few sizes (`max`, 256,
/// 64, 16, 4, 1) so the same SQL text comes back and stays prepared. MySQL in particular
/// pays for each new text: a prepare round trip, and when sqlx's statement cache is full, a
/// statement close that Nagle's algorithm makes the next command wait ~40 ms for.
pub fn statement_chunks<T>(items: &[T], max: usize) -> Vec<&[T]> {
    const LADDER: [usize; 5] = [256, 64, 16, 4, 1];
    let max = max.max(1);
    let mut out = Vec::new();
    let mut rest = items;
    while !rest.is_empty() {
        let size = std::iter::once(max)
            .chain(LADDER.into_iter().filter(|&s| s < max))
            .find(|&s| s <= rest.len())
            .unwrap_or(1);
        let (chunk, tail) = rest.split_at(size);
        out.push(chunk);
        rest = tail;
    }
    out
}

/// Rows per statement for a table of `binds_per_row` parameters a row.
pub fn rows_per_statement(binds_per_row: usize) -> usize {
    (MAX_BINDS / binds_per_row.max(1)).clamp(1, MAX_ROWS)
}

/// Log rows per statement on `engine`.
pub fn log_rows_per_statement(engine: Engine) -> usize {
    match engine {
        Engine::Postgres => UNNEST_ROWS,
        Engine::MySql | Engine::Sqlite => rows_per_statement(LOG_COLUMNS.len()),
    }
}

/// The log table's columns but `id`, which the database assigns.
pub const LOG_COLUMNS: &[&str] = COLUMNS.split_at(1).1;

/// One statement, engine-neutral until [`Stmt::build`].
pub enum Stmt<'p> {
    Insert {
        table: String,
        columns: &'p [&'static str],
        rows: &'p [Vec<&'p SqlValue>],
    },
    Update {
        table: String,
        columns: &'p [&'static str],
        rows: &'p [(i64, Vec<&'p SqlValue>)],
    },
    Delete {
        table: String,
        ids: &'p [i64],
    },
    Log {
        table: String,
        rows: &'p [&'p LogEntry],
    },
}

/// Binding per engine: the only place that knows sqlx's concrete types.
pub trait SimDb: Database {
    const ENGINE: Engine;

    fn bind_int(qb: &mut QueryBuilder<Self>, v: i64);
    fn bind_text(qb: &mut QueryBuilder<Self>, v: &str);

    fn ident(name: &str) -> String {
        Dialect(Self::ENGINE).ident(name)
    }

    /// A typed NULL or value: the statement's text stays the same either way, so it stays
    /// prepared.
    fn bind_opt_int(qb: &mut QueryBuilder<Self>, v: Option<i64>);
    fn bind_opt_text(qb: &mut QueryBuilder<Self>, v: Option<&str>);

    /// `INSERT INTO log (…) VALUES (…), (…), …`.
    fn push_log_rows(qb: &mut QueryBuilder<Self>, table: &str, rows: &[&LogEntry]) {
        insert_into::<Self>(qb, table, LOG_COLUMNS);
        qb.push("VALUES ");
        for (i, e) in rows.iter().enumerate() {
            qb.push(if i == 0 { "(" } else { ", (" });
            push_log_row::<Self>(qb, e);
            qb.push(")");
        }
    }

    /// A change's value. Its NULL is the keyword, which takes the column's type on every
    /// engine (an untyped NULL bind would be text to PostgreSQL). PostgreSQL never turns text
    /// into NUMERIC by itself; the others convert on insert.
    fn bind_value(qb: &mut QueryBuilder<Self>, v: &SqlValue) {
        match v {
            SqlValue::Int(i) => Self::bind_int(qb, *i),
            SqlValue::Text(s) => Self::bind_text(qb, s),
            SqlValue::Null => {
                qb.push("NULL");
            }
            SqlValue::Decimal(d) if Self::ENGINE == Engine::Postgres => {
                qb.push("CAST(");
                Self::bind_text(qb, d);
                qb.push(" AS NUMERIC)");
            }
            SqlValue::Decimal(d) => Self::bind_text(qb, d),
        }
    }
}

macro_rules! binds {
    () => {
        fn bind_int(qb: &mut QueryBuilder<Self>, v: i64) {
            qb.push_bind(v);
        }

        fn bind_text(qb: &mut QueryBuilder<Self>, v: &str) {
            qb.push_bind(v);
        }

        fn bind_opt_int(qb: &mut QueryBuilder<Self>, v: Option<i64>) {
            qb.push_bind(v);
        }

        fn bind_opt_text(qb: &mut QueryBuilder<Self>, v: Option<&str>) {
            qb.push_bind(v);
        }
    };
}

impl SimDb for MySql {
    const ENGINE: Engine = Engine::MySql;
    binds!();
}

impl SimDb for Sqlite {
    const ENGINE: Engine = Engine::Sqlite;
    binds!();
}

impl SimDb for Postgres {
    const ENGINE: Engine = Engine::Postgres;
    binds!();

    /// `INSERT INTO log (…) SELECT * FROM UNNEST($1, …, $20)`: one array per column. Rows
    /// come out of UNNEST in array order, so the sequence numbers them in request order.
    fn push_log_rows(qb: &mut QueryBuilder<Self>, table: &str, rows: &[&LogEntry]) {
        fn texts<'e>(rows: &[&'e LogEntry], f: impl Fn(&'e LogEntry) -> &'e str) -> Vec<&'e str> {
            rows.iter().map(|e| f(e)).collect()
        }
        fn opt_texts<'e>(
            rows: &[&'e LogEntry],
            f: impl Fn(&'e LogEntry) -> Option<&'e str>,
        ) -> Vec<Option<&'e str>> {
            rows.iter().map(|e| f(e)).collect()
        }
        fn ints(rows: &[&LogEntry], f: impl Fn(&LogEntry) -> i64) -> Vec<i64> {
            rows.iter().map(|e| f(e)).collect()
        }
        fn opt_ints(rows: &[&LogEntry], f: impl Fn(&LogEntry) -> Option<i64>) -> Vec<Option<i64>> {
            rows.iter().map(|e| f(e)).collect()
        }
        insert_into::<Self>(qb, table, LOG_COLUMNS);
        qb.push("SELECT * FROM UNNEST(");
        let mut args = qb.separated(", ");
        args.push_bind(texts(rows, |e| &e.eventname));
        args.push_bind(texts(rows, |e| &e.component));
        args.push_bind(texts(rows, |e| &e.action));
        args.push_bind(texts(rows, |e| &e.target));
        args.push_bind(opt_texts(rows, |e| e.objecttable.as_deref()));
        args.push_bind(opt_ints(rows, |e| e.objectid));
        args.push_bind(texts(rows, |e| &e.crud));
        args.push_bind(ints(rows, |e| e.edulevel));
        args.push_bind(ints(rows, |e| e.contextid));
        args.push_bind(ints(rows, |e| e.contextlevel));
        args.push_bind(ints(rows, |e| e.contextinstanceid));
        args.push_bind(ints(rows, |e| e.userid));
        args.push_bind(opt_ints(rows, |e| e.courseid));
        args.push_bind(opt_ints(rows, |e| e.relateduserid));
        args.push_bind(ints(rows, |e| e.anonymous));
        args.push_bind(opt_texts(rows, |e| e.other.as_deref()));
        args.push_bind(ints(rows, |e| e.timecreated));
        args.push_bind(opt_texts(rows, |e| e.origin.as_deref()));
        args.push_bind(opt_texts(rows, |e| e.ip.as_deref()));
        args.push_bind(opt_ints(rows, |e| e.realuserid));
        qb.push(")");
    }
}

impl Stmt<'_> {
    pub fn build<DB: SimDb>(&self) -> QueryBuilder<DB> {
        let mut qb = QueryBuilder::<DB>::default();
        match self {
            Stmt::Insert {
                table,
                columns,
                rows,
            } => {
                insert_into::<DB>(&mut qb, table, columns);
                qb.push("VALUES ");
                for (i, row) in rows.iter().enumerate() {
                    qb.push(if i == 0 { "(" } else { ", (" });
                    for (j, v) in row.iter().enumerate() {
                        if j > 0 {
                            qb.push(", ");
                        }
                        DB::bind_value(&mut qb, v);
                    }
                    qb.push(")");
                }
            }
            Stmt::Update {
                table,
                columns,
                rows,
            } => update::<DB>(&mut qb, table, columns, rows),
            Stmt::Delete { table, ids } => {
                qb.push(format_args!(
                    "DELETE FROM {} WHERE id IN (",
                    DB::ident(table)
                ));
                push_ids::<DB>(&mut qb, ids.iter().copied());
                qb.push(")");
            }
            Stmt::Log { table, rows } => DB::push_log_rows(&mut qb, table, rows),
        }
        qb
    }
}

fn insert_into<DB: SimDb>(qb: &mut QueryBuilder<DB>, table: &str, columns: &[&str]) {
    let columns: Vec<String> = columns.iter().map(|c| DB::ident(c)).collect();
    qb.push(format_args!(
        "INSERT INTO {} ({}) ",
        DB::ident(table),
        columns.join(", ")
    ));
}

fn push_ids<DB: SimDb>(qb: &mut QueryBuilder<DB>, ids: impl Iterator<Item = i64>) {
    for (i, id) in ids.enumerate() {
        if i > 0 {
            qb.push(", ");
        }
        DB::bind_int(qb, id);
    }
}

/// Many rows' updates in one statement, portable to all three engines:
/// `SET c = CASE id WHEN ? THEN ? … END, … WHERE id IN (…)`. A column that is NULL in every
/// row is set to NULL outright, so PostgreSQL never has to guess the CASE's type.
fn update<DB: SimDb>(
    qb: &mut QueryBuilder<DB>,
    table: &str,
    columns: &[&str],
    rows: &[(i64, Vec<&SqlValue>)],
) {
    qb.push(format_args!("UPDATE {} SET ", DB::ident(table)));
    for (c, column) in columns.iter().enumerate() {
        if c > 0 {
            qb.push(", ");
        }
        qb.push(format_args!("{} = ", DB::ident(column)));
        if rows.iter().all(|(_, values)| values[c] == &SqlValue::Null) {
            qb.push("NULL");
            continue;
        }
        qb.push("CASE id");
        for (id, values) in rows {
            qb.push(" WHEN ");
            DB::bind_int(qb, *id);
            qb.push(" THEN ");
            DB::bind_value(qb, values[c]);
        }
        qb.push(" END");
    }
    qb.push(" WHERE id IN (");
    push_ids::<DB>(qb, rows.iter().map(|(id, _)| *id));
    qb.push(")");
}

fn push_log_row<DB: SimDb>(qb: &mut QueryBuilder<DB>, e: &LogEntry) {
    macro_rules! sep {
        () => {
            qb.push(", ")
        };
    }
    DB::bind_text(qb, &e.eventname);
    sep!();
    DB::bind_text(qb, &e.component);
    sep!();
    DB::bind_text(qb, &e.action);
    sep!();
    DB::bind_text(qb, &e.target);
    sep!();
    DB::bind_opt_text(qb, e.objecttable.as_deref());
    sep!();
    DB::bind_opt_int(qb, e.objectid);
    sep!();
    DB::bind_text(qb, &e.crud);
    sep!();
    for v in [
        e.edulevel,
        e.contextid,
        e.contextlevel,
        e.contextinstanceid,
        e.userid,
    ] {
        DB::bind_int(qb, v);
        sep!();
    }
    DB::bind_opt_int(qb, e.courseid);
    sep!();
    DB::bind_opt_int(qb, e.relateduserid);
    sep!();
    DB::bind_int(qb, e.anonymous);
    sep!();
    DB::bind_opt_text(qb, e.other.as_deref());
    sep!();
    DB::bind_int(qb, e.timecreated);
    sep!();
    DB::bind_opt_text(qb, e.origin.as_deref());
    sep!();
    DB::bind_opt_text(qb, e.ip.as_deref());
    sep!();
    DB::bind_opt_int(qb, e.realuserid);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statements_stay_under_every_engines_bind_limit() {
        assert_eq!(rows_per_statement(20), 1_000);
        assert_eq!(rows_per_statement(45), 666);
        assert_eq!(rows_per_statement(0), 1_000);
        assert!(rows_per_statement(99_999) >= 1);
    }

    #[test]
    fn statements_come_in_few_sizes() {
        let items: Vec<u32> = (0..2_345).collect();
        let sizes: Vec<usize> = statement_chunks(&items, 1_000)
            .iter()
            .map(|c| c.len())
            .collect();
        assert_eq!(sizes, [1000, 1000, 256, 64, 16, 4, 4, 1]);
        assert_eq!(statement_chunks(&items[..3], 2).len(), 2);
        assert!(statement_chunks::<u32>(&[], 10).is_empty());
    }

    #[test]
    fn updates_use_one_case_per_column() {
        let (a, b, null) = (SqlValue::Int(1), SqlValue::Int(2), SqlValue::Null);
        let rows = vec![(7, vec![&a, &null]), (8, vec![&b, &null])];
        let mut qb = QueryBuilder::<Postgres>::default();
        update::<Postgres>(&mut qb, "mdl_x", &["state", "overrideby"], &rows);
        assert_eq!(
            qb.sql().as_str(),
            "UPDATE \"mdl_x\" SET \"state\" = CASE id WHEN $1 THEN $2 WHEN $3 THEN $4 END, \
             \"overrideby\" = NULL WHERE id IN ($5, $6)"
        );
    }
}
