//! Reading `{prefix}logstore_standard_log`, Moodle's own event stream.
//!
//! Every query here walks the primary key (`id`) or the `timecreated` index: polling must stay
//! cheap for Moodle's database even on sites whose log holds hundreds of millions of rows.
//! `other` is kept as the stored text; it is decoded only for rows a route wants.

use sqlx::Row;

use super::db::{MoodleDb, Pool};
use super::error::{Engine, MoodleError};

/// One row of the log table, as stored.
#[derive(Debug, Clone, PartialEq)]
pub struct LogRow {
    pub id: i64,
    pub eventname: String,
    pub component: String,
    pub action: String,
    pub target: String,
    pub objecttable: Option<String>,
    pub objectid: Option<i64>,
    pub crud: String,
    pub edulevel: i64,
    pub contextid: i64,
    pub contextlevel: i64,
    pub contextinstanceid: i64,
    pub userid: i64,
    pub courseid: Option<i64>,
    pub relateduserid: Option<i64>,
    pub anonymous: i64,
    /// The stored text of `other` (JSON or PHP serialize), undecoded.
    pub other: Option<String>,
    pub timecreated: i64,
    pub origin: Option<String>,
    pub ip: Option<String>,
    pub realuserid: Option<i64>,
}

impl LogRow {
    /// The same row with the id the database gave it.
    pub fn with_id(&self, id: i64) -> LogRow {
        LogRow { id, ..self.clone() }
    }

    /// Read events (views): Moodle's `crud = 'r'`.
    pub fn is_read(&self) -> bool {
        self.crud == "r"
    }

    /// Rows written by a course restore replay history: Moodle leaves `origin` NULL on them.
    pub fn is_restored(&self) -> bool {
        self.origin.is_none()
    }
}

/// The log table's columns, in table order: `id`, the 17 of `get_data()`, then `origin`,
/// `ip`, `realuserid`.
pub const COLUMNS: [&str; 21] = [
    "id",
    "eventname",
    "component",
    "action",
    "target",
    "objecttable",
    "objectid",
    "crud",
    "edulevel",
    "contextid",
    "contextlevel",
    "contextinstanceid",
    "userid",
    "courseid",
    "relateduserid",
    "anonymous",
    "other",
    "timecreated",
    "origin",
    "ip",
    "realuserid",
];

/// Columns in `get_data()` order, then the three extra ones. PostgreSQL gets explicit casts so
/// SMALLINT columns (edulevel, anonymous) decode as i64 like on the other engines.
fn select_list(engine: Engine) -> &'static str {
    match engine {
        Engine::Postgres => {
            "id::int8, eventname, component, action, target, objecttable, objectid::int8, crud, \
             edulevel::int8, contextid::int8, contextlevel::int8, contextinstanceid::int8, \
             userid::int8, courseid::int8, relateduserid::int8, anonymous::int8, other, \
             timecreated::int8, origin, ip, realuserid::int8"
        }
        Engine::MySql | Engine::Sqlite => {
            "id, eventname, component, action, target, objecttable, objectid, crud, edulevel, \
             contextid, contextlevel, contextinstanceid, userid, courseid, relateduserid, \
             anonymous, other, timecreated, origin, ip, realuserid"
        }
    }
}

/// Columns decoded as `i64`; the others are text.
const INT_COLUMNS: [usize; 12] = [0, 6, 8, 9, 10, 11, 12, 13, 14, 15, 17, 20];

/// Whether the result's columns have the types [`LogRow`]'s fields decode from. Checked once
/// per query, so that its rows can skip sqlx's check of every value (a quarter of a scan's
/// CPU); a result that does not match is decoded value by value, with sqlx's own errors.
fn types_match<R: Row>(row: &R) -> bool
where
    i64: sqlx::Type<R::Database>,
    String: sqlx::Type<R::Database>,
{
    use sqlx::{Column, Type};
    let columns = row.columns();
    columns.len() == COLUMNS.len()
        && columns.iter().enumerate().all(|(i, c)| {
            if INT_COLUMNS.contains(&i) {
                <i64 as Type<R::Database>>::compatible(c.type_info())
            } else {
                <String as Type<R::Database>>::compatible(c.type_info())
            }
        })
}

fn decode_row<'r, R>(row: &'r R, checked: bool) -> Result<LogRow, sqlx::Error>
where
    R: Row,
    usize: sqlx::ColumnIndex<R>,
    i64: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    String: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
{
    macro_rules! get {
        ($i:expr) => {
            if checked {
                row.try_get($i)?
            } else {
                row.try_get_unchecked($i)?
            }
        };
    }
    Ok(LogRow {
        id: get!(0),
        eventname: get!(1),
        component: get!(2),
        action: get!(3),
        target: get!(4),
        objecttable: get!(5),
        objectid: get!(6),
        crud: get!(7),
        edulevel: get!(8),
        contextid: get!(9),
        contextlevel: get!(10),
        contextinstanceid: get!(11),
        userid: get!(12),
        courseid: get!(13),
        relateduserid: get!(14),
        anonymous: get!(15),
        other: get!(16),
        timecreated: get!(17),
        origin: get!(18),
        ip: get!(19),
        realuserid: get!(20),
    })
}

/// Runs `sql` with integer binds on whichever engine and decodes log rows.
async fn fetch_log_rows(
    db: &MoodleDb,
    sql: String,
    binds: &[i64],
    what: &str,
) -> Result<Vec<LogRow>, MoodleError> {
    let sql = sqlx::AssertSqlSafe(sql);
    macro_rules! run {
        ($pool:expr) => {{
            let mut q = sqlx::query(sql);
            for b in binds {
                q = q.bind(*b);
            }
            match q.fetch_all($pool).await {
                Ok(rows) => {
                    let checked = !rows.first().is_some_and(types_match);
                    rows.iter().map(|r| decode_row(r, checked)).collect()
                }
                Err(e) => Err(e),
            }
        }};
    }
    let res = match db.pool() {
        Pool::Postgres(p) => run!(p),
        Pool::MySql(p) => run!(p),
        Pool::Sqlite(p) => run!(p),
    };
    res.map_err(|e| db.error(e, Some(db.log_table()), what))
}

/// Runs a query returning one nullable BIGINT.
async fn fetch_scalar(
    db: &MoodleDb,
    sql: String,
    binds: &[i64],
    what: &str,
) -> Result<Option<i64>, MoodleError> {
    let sql = sqlx::AssertSqlSafe(sql);
    macro_rules! run {
        ($pool:expr) => {{
            let mut q = sqlx::query(sql);
            for b in binds {
                q = q.bind(*b);
            }
            match q.fetch_one($pool).await {
                Ok(row) => row.try_get::<Option<i64>, _>(0),
                Err(e) => Err(e),
            }
        }};
    }
    let res = match db.pool() {
        Pool::Postgres(p) => run!(p),
        Pool::MySql(p) => run!(p),
        Pool::Sqlite(p) => run!(p),
    };
    res.map_err(|e| db.error(e, Some(db.log_table()), what))
}

fn table(db: &MoodleDb) -> String {
    db.dialect().ident(db.log_table())
}

/// The highest id in the log, or 0 when it is empty. One index lookup.
pub async fn max_id(db: &MoodleDb) -> Result<i64, MoodleError> {
    let cast = if db.engine() == Engine::Postgres {
        "::int8"
    } else {
        ""
    };
    let sql = format!("SELECT MAX(id){cast} FROM {}", table(db));
    Ok(fetch_scalar(db, sql, &[], "reading the newest log id")
        .await?
        .unwrap_or(0))
}

/// The lowest id whose `timecreated >= since` (unix seconds), if any.
pub async fn first_id_since(db: &MoodleDb, since: i64) -> Result<Option<i64>, MoodleError> {
    let d = db.dialect();
    let cast = if db.engine() == Engine::Postgres {
        "::int8"
    } else {
        ""
    };
    let sql = format!(
        "SELECT MIN(id){cast} FROM {} WHERE timecreated >= {}",
        table(db),
        d.param(1)
    );
    fetch_scalar(
        db,
        sql,
        &[since],
        "finding the first log id after the start time",
    )
    .await
}

/// Up to `limit` rows with `id > after`, in id order.
pub async fn rows_after(db: &MoodleDb, after: i64, limit: u32) -> Result<Vec<LogRow>, MoodleError> {
    let d = db.dialect();
    let sql = format!(
        "SELECT {} FROM {} WHERE id > {} ORDER BY id LIMIT {}",
        select_list(db.engine()),
        table(db),
        d.param(1),
        d.param(2)
    );
    fetch_log_rows(db, sql, &[after, i64::from(limit)], "reading the log").await
}

/// The rows whose ids fall in any of the inclusive `ranges` (open gaps being re-checked).
pub async fn rows_in_ranges(
    db: &MoodleDb,
    ranges: &[(i64, i64)],
) -> Result<Vec<LogRow>, MoodleError> {
    // Bounded so a cursor with thousands of small gaps never builds a giant statement.
    const RANGES_PER_QUERY: usize = 200;
    let mut out = Vec::new();
    for chunk in ranges.chunks(RANGES_PER_QUERY) {
        let d = db.dialect();
        let conds: Vec<String> = (0..chunk.len())
            .map(|i| {
                format!(
                    "(id BETWEEN {} AND {})",
                    d.param(2 * i + 1),
                    d.param(2 * i + 2)
                )
            })
            .collect();
        let sql = format!(
            "SELECT {} FROM {} WHERE {} ORDER BY id",
            select_list(db.engine()),
            table(db),
            conds.join(" OR ")
        );
        let binds: Vec<i64> = chunk.iter().flat_map(|&(lo, hi)| [lo, hi]).collect();
        out.extend(fetch_log_rows(db, sql, &binds, "re-checking gaps in the log").await?);
    }
    Ok(out)
}

/// The first row after `after`: its id and `timecreated` (unix seconds). One primary-key
/// lookup; `nosey check` uses it for how far behind nosey is.
pub async fn first_after(db: &MoodleDb, after: i64) -> Result<Option<(i64, i64)>, MoodleError> {
    let cast = if db.engine() == Engine::Postgres {
        "::int8"
    } else {
        ""
    };
    let sql = sqlx::AssertSqlSafe(format!(
        "SELECT id{cast}, timecreated{cast} FROM {} WHERE id > {} ORDER BY id LIMIT 1",
        table(db),
        db.dialect().param(1)
    ));
    macro_rules! run {
        ($pool:expr) => {
            sqlx::query(sql)
                .bind(after)
                .fetch_optional($pool)
                .await
                .and_then(|row| row.map(|r| Ok((r.try_get(0)?, r.try_get(1)?))).transpose())
        };
    }
    let res = match db.pool() {
        Pool::Postgres(p) => run!(p),
        Pool::MySql(p) => run!(p),
        Pool::Sqlite(p) => run!(p),
    };
    res.map_err(|e| db.error(e, Some(db.log_table()), "reading the oldest unread log row"))
}

/// Checks the log table exists and can be read, with a message that says how to fix it.
/// Reading the newest row also proves every expected column is there with a usable type.
pub async fn check_readable(db: &MoodleDb) -> Result<(), MoodleError> {
    let sql = format!(
        "SELECT {} FROM {} ORDER BY id DESC LIMIT 1",
        select_list(db.engine()),
        table(db),
    );
    fetch_log_rows(db, sql, &[], "reading the log")
        .await
        .map(|_| ())
}

/// How often each event name occurred since `since` (unix seconds), most frequent first.
///
/// The first id at `since` is found through the `timecreated` index, and the count then walks
/// the primary key from there: never a scan of the whole log.
pub async fn event_counts(db: &MoodleDb, since: i64) -> Result<Vec<(String, i64)>, MoodleError> {
    let Some(first) = first_id_since(db, since).await? else {
        return Ok(Vec::new());
    };
    let d = db.dialect();
    let count = if db.engine() == Engine::Postgres {
        "COUNT(*)::int8"
    } else {
        "COUNT(*)"
    };
    let sql = sqlx::AssertSqlSafe(format!(
        "SELECT eventname, {count} FROM {} WHERE id >= {} AND timecreated >= {} \
         GROUP BY eventname ORDER BY 2 DESC, 1",
        table(db),
        d.param(1),
        d.param(2)
    ));
    macro_rules! run {
        ($pool:expr) => {
            sqlx::query(sql)
                .bind(first)
                .bind(since)
                .fetch_all($pool)
                .await
                .and_then(|rows| {
                    rows.iter()
                        .map(|r| Ok((r.try_get(0)?, r.try_get(1)?)))
                        .collect::<Result<Vec<(String, i64)>, sqlx::Error>>()
                })
        };
    }
    let res = match db.pool() {
        Pool::Postgres(p) => run!(p),
        Pool::MySql(p) => run!(p),
        Pool::Sqlite(p) => run!(p),
    };
    res.map_err(|e| db.error(e, Some(db.log_table()), "counting events"))
}
