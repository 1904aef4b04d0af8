//! Looking up the rows events point at (`objecttable` / `objectid`) as typed JSON.
//!
//! One `SELECT * … WHERE id IN (…)` per table per batch. Table names come from log rows,
//! which any plugin writes, so a name is only ever queried when it is a plain Moodle
//! identifier (`[a-z][a-z0-9_]*`) *and* the database's own catalogue lists the table; anything
//! else is warned about once and answered with "no record".
//!
//! Values are typed by the column's declared type, read from the catalogue: integers as
//! numbers, decimals with their exact stored digits, binary as base64, NULL as null. Rows are
//! read over the text protocol so every engine hands over its own exact text for each value
//! (PostgreSQL's binary NUMERIC would lose the column's scale: 85.50000 → 85.5).

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use base64::Engine as _;
use serde_json::{Map, Number, Value};
use sqlx::{Column, Row, ValueRef};

use super::db::{MoodleDb, Pool, is_safe_identifier};
use super::error::{Engine, MoodleError};

/// A row as a JSON object, keys in column order.
pub type Record = Map<String, Value>;

/// How a column's values are rendered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ColType {
    Int,
    Float,
    Decimal,
    Bool,
    Binary,
    Json,
    Text,
}

impl ColType {
    /// From `information_schema.columns.data_type` (PostgreSQL, MySQL) or SQLite's declared
    /// type.
    pub fn from_declared(declared: &str) -> ColType {
        let t = declared.to_ascii_lowercase();
        let base = t.split(['(', ' ']).next().unwrap_or("");
        match base {
            "smallint" | "integer" | "bigint" | "int" | "tinyint" | "mediumint" | "int2"
            | "int4" | "int8" => ColType::Int,
            "real" | "double" | "float" | "float4" | "float8" => ColType::Float,
            "numeric" | "decimal" => ColType::Decimal,
            "boolean" | "bool" => ColType::Bool,
            "bytea" | "blob" | "tinyblob" | "mediumblob" | "longblob" | "binary" | "varbinary" => {
                ColType::Binary
            }
            "json" | "jsonb" => ColType::Json,
            _ => ColType::Text,
        }
    }
}

/// A table as the catalogue describes it.
#[derive(Debug, Clone)]
struct TableInfo {
    columns: HashMap<String, ColType>,
}

/// How long "this table does not exist" is believed before asking the catalogue again
/// (a plugin may be installed while nosey runs).
const MISSING_TTL: Duration = Duration::from_secs(600);

/// Query at most this many ids per statement.
const IDS_PER_QUERY: usize = 1000;

enum Known {
    Table(TableInfo),
    Missing(Instant),
}

/// Reads records, caching what the catalogue says about each table.
pub struct RecordReader {
    db: MoodleDb,
    redact: BTreeMap<String, Vec<String>>,
    tables: Mutex<HashMap<String, Known>>,
    warned: Mutex<HashSet<String>>,
}

impl RecordReader {
    /// `redact`: bare table name → columns never sent.
    pub fn new(db: MoodleDb, redact: BTreeMap<String, Vec<String>>) -> Self {
        RecordReader {
            db,
            redact,
            tables: Mutex::new(HashMap::new()),
            warned: Mutex::new(HashSet::new()),
        }
    }

    pub fn db(&self) -> &MoodleDb {
        &self.db
    }

    /// Fetches the rows `(table, id)` that exist, keyed the same way. Tables that are unsafe or
    /// unknown are skipped (with one warning each); database failures are errors, so a batch
    /// is retried rather than sent without its records.
    pub async fn fetch(
        &self,
        wanted: &[(String, i64)],
    ) -> Result<HashMap<(String, i64), Record>, MoodleError> {
        let mut by_table: BTreeMap<&str, Vec<i64>> = BTreeMap::new();
        for (table, id) in wanted {
            by_table.entry(table.as_str()).or_default().push(*id);
        }
        let mut jobs = Vec::new();
        for (table, mut ids) in by_table {
            let Some(info) = self.table_info(table).await? else {
                continue;
            };
            ids.sort_unstable();
            ids.dedup();
            jobs.push((table, info, ids));
        }
        // The tables' queries go out together (the pool has several connections): a batch
        // waits for its slowest table, not for the sum of them.
        let queries = jobs.iter().flat_map(|(table, info, ids)| {
            ids.chunks(IDS_PER_QUERY).map(move |chunk| async move {
                self.fetch_rows(table, info, chunk)
                    .await
                    .map(|records| (*table, records))
            })
        });
        let mut out = HashMap::new();
        for (table, records) in futures_util::future::try_join_all(queries).await? {
            for record in records {
                if let Some(id) = record.get("id").and_then(Value::as_i64) {
                    out.insert((table.to_string(), id), record);
                }
            }
        }
        Ok(out)
    }

    /// Gives a row that came from elsewhere (Moodle's copy in `other`, where PHP left every
    /// value a string) the types of `table`'s columns. Keys that are not columns stay as they
    /// are.
    pub async fn coerce(&self, table: &str, record: &mut Record) -> Result<(), MoodleError> {
        let Some(info) = self.table_info(table).await? else {
            return Ok(());
        };
        for (name, value) in record.iter_mut() {
            let ty = info.columns.get(name).copied();
            if let (
                Some(ty @ (ColType::Int | ColType::Float | ColType::Decimal)),
                Value::String(s),
            ) = (ty, &*value)
            {
                *value = typed(s, ty);
            }
        }
        Ok(())
    }

    /// Whether `table` (without prefix) can be queried; warns once when it cannot.
    pub async fn is_known_table(&self, table: &str) -> Result<bool, MoodleError> {
        Ok(self.table_info(table).await?.is_some())
    }

    async fn table_info(&self, table: &str) -> Result<Option<TableInfo>, MoodleError> {
        if !is_safe_identifier(table) {
            self.warn_once(table, "is not a plain table name; it is never queried");
            return Ok(None);
        }
        if let Some(known) = self.tables.lock().unwrap().get(table) {
            match known {
                Known::Table(info) => return Ok(Some(info.clone())),
                Known::Missing(at) if at.elapsed() < MISSING_TTL => return Ok(None),
                Known::Missing(_) => {}
            }
        }
        let full = format!("{}{table}", self.db.prefix());
        let columns = load_columns(&self.db, &full).await?;
        let mut tables = self.tables.lock().unwrap();
        if columns.is_empty() {
            tables.insert(table.to_string(), Known::Missing(Instant::now()));
            drop(tables);
            self.warn_once(
                table,
                &format!(
                    "has no table {full} in the database; events on it go out with record false"
                ),
            );
            return Ok(None);
        }
        let info = TableInfo {
            columns: columns.into_iter().collect(),
        };
        tables.insert(table.to_string(), Known::Table(info.clone()));
        Ok(Some(info))
    }

    fn warn_once(&self, table: &str, what: &str) {
        if self.warned.lock().unwrap().insert(table.to_string()) {
            tracing::warn!("objecttable '{}' {what}", table.escape_debug());
        }
    }

    async fn fetch_rows(
        &self,
        table: &str,
        info: &TableInfo,
        ids: &[i64],
    ) -> Result<Vec<Record>, MoodleError> {
        let full = format!("{}{table}", self.db.prefix());
        let list: Vec<String> = ids.iter().map(i64::to_string).collect();
        // Ids are integers and the table name is checked and catalogued: safe to inline, and
        // inlining lets the text protocol (raw_sql) carry every value as its exact text.
        let sql = format!(
            "SELECT * FROM {} WHERE id IN ({})",
            self.db.dialect().ident(&full),
            list.join(",")
        );
        let redact = self.redact.get(table).map(Vec::as_slice).unwrap_or(&[]);
        let sql = sqlx::AssertSqlSafe(sql);
        let rows = match self.db.pool() {
            Pool::Postgres(p) => sqlx::raw_sql(sql)
                .fetch_all(p)
                .await
                .map(|rows| rows.iter().map(|r| pg_record(r, info, redact)).collect()),
            Pool::MySql(p) => sqlx::raw_sql(sql)
                .fetch_all(p)
                .await
                .map(|rows| rows.iter().map(|r| mysql_record(r, info, redact)).collect()),
            Pool::Sqlite(p) => sqlx::raw_sql(sql)
                .fetch_all(p)
                .await
                .map(|rows| rows.iter().map(|r| sqlite_record(r, redact)).collect()),
        };
        rows.map_err(|e| self.db.error(e, Some(&full), "reading records"))
    }
}

/// The columns of `full_table` with their types, in order; empty when there is no such table.
async fn load_columns(
    db: &MoodleDb,
    full_table: &str,
) -> Result<Vec<(String, ColType)>, MoodleError> {
    let sql = match db.engine() {
        Engine::Postgres => {
            "SELECT column_name::text, data_type::text FROM information_schema.columns \
             WHERE table_schema = ANY(current_schemas(false)) AND table_name = $1 \
             ORDER BY ordinal_position"
        }
        Engine::MySql => {
            "SELECT CAST(column_name AS CHAR), CAST(data_type AS CHAR) FROM information_schema.columns \
             WHERE table_schema = DATABASE() AND table_name = ? ORDER BY ordinal_position"
        }
        Engine::Sqlite => "SELECT name, type FROM pragma_table_info(?) ORDER BY cid",
    };
    macro_rules! run {
        ($pool:expr) => {
            sqlx::query(sql)
                .bind(full_table)
                .fetch_all($pool)
                .await
                .and_then(|rows| {
                    rows.iter()
                        .map(|r| {
                            let name: String = r.try_get(0)?;
                            let ty: String = r.try_get(1)?;
                            Ok((name, ColType::from_declared(&ty)))
                        })
                        .collect::<Result<Vec<_>, sqlx::Error>>()
                })
        };
    }
    let res = match db.pool() {
        Pool::Postgres(p) => run!(p),
        Pool::MySql(p) => run!(p),
        Pool::Sqlite(p) => run!(p),
    };
    res.map_err(|e| db.error(e, Some(full_table), "reading the table catalogue"))
}

/// Renders a value given as text by its column type.
pub fn typed(text: &str, ty: ColType) -> Value {
    match ty {
        ColType::Int => text
            .trim()
            .parse::<i64>()
            .map(Value::from)
            .unwrap_or_else(|_| exact_number(text)),
        ColType::Float | ColType::Decimal => exact_number(text),
        ColType::Bool => match text {
            "t" | "true" | "1" => Value::Bool(true),
            "f" | "false" | "0" => Value::Bool(false),
            other => Value::String(other.to_string()),
        },
        ColType::Json => serde_json::from_str(text).unwrap_or_else(|_| Value::String(text.into())),
        ColType::Binary | ColType::Text => Value::String(text.to_string()),
    }
}

/// A number with its exact digits ("85.50000"), never through a float; NaN and infinities,
/// which JSON cannot carry, become null.
fn exact_number(text: &str) -> Value {
    match serde_json::from_str::<Number>(text.trim()) {
        Ok(n) => Value::Number(n),
        Err(_) if is_non_finite(text) => Value::Null,
        Err(_) => Value::String(text.to_string()),
    }
}

fn is_non_finite(text: &str) -> bool {
    let t = text
        .trim()
        .trim_start_matches(['-', '+'])
        .to_ascii_lowercase();
    t == "nan" || t == "infinity" || t == "inf"
}

fn base64(bytes: &[u8]) -> Value {
    Value::String(base64::engine::general_purpose::STANDARD.encode(bytes))
}

/// PostgreSQL's text form of bytea is `\x` followed by hex.
fn pg_bytea(text: &str) -> Value {
    let hex = text.strip_prefix("\\x").unwrap_or(text);
    let bytes: Option<Vec<u8>> = (0..hex.len())
        .step_by(2)
        .map(|i| {
            hex.get(i..i + 2)
                .and_then(|h| u8::from_str_radix(h, 16).ok())
        })
        .collect();
    bytes.map_or_else(|| Value::String(text.to_string()), |b| base64(&b))
}

/// Builds a record from a row's columns, leaving out redacted ones; `value(i, type)` reads
/// column `i` the way its engine hands it over.
fn record<R: Row>(
    row: &R,
    info: Option<&TableInfo>,
    redact: &[String],
    value: impl Fn(usize, ColType) -> Value,
) -> Record {
    let mut out = Map::new();
    for (i, col) in row.columns().iter().enumerate() {
        let name = col.name();
        if redact.iter().any(|r| r == name) {
            continue;
        }
        let ty = info
            .and_then(|t| t.columns.get(name).copied())
            .unwrap_or(ColType::Text);
        out.insert(name.to_string(), value(i, ty));
    }
    out
}

fn pg_record(row: &sqlx::postgres::PgRow, info: &TableInfo, redact: &[String]) -> Record {
    record(row, Some(info), redact, |i, ty| match row.try_get_raw(i) {
        Ok(v) if v.is_null() => Value::Null,
        Ok(v) => match v.as_str() {
            Ok(text) if ty == ColType::Binary => pg_bytea(text),
            Ok(text) => typed(text, ty),
            Err(_) => v.as_bytes().map_or(Value::Null, base64),
        },
        Err(_) => Value::Null,
    })
}

fn mysql_record(row: &sqlx::mysql::MySqlRow, info: &TableInfo, redact: &[String]) -> Record {
    record(row, Some(info), redact, |i, ty| {
        match row.try_get_unchecked::<Option<&[u8]>, _>(i) {
            Ok(None) | Err(_) => Value::Null,
            Ok(Some(bytes)) if ty == ColType::Binary => base64(bytes),
            Ok(Some(bytes)) => typed(&String::from_utf8_lossy(bytes), ty),
        }
    })
}

/// SQLite stores a type per value, so the value's own type decides.
fn sqlite_record(row: &sqlx::sqlite::SqliteRow, redact: &[String]) -> Record {
    record(row, None, redact, |i, _| match row.try_get_raw(i) {
        Ok(v) if v.is_null() => Value::Null,
        Ok(v) => match v.type_info().to_string().as_str() {
            "INTEGER" => row.try_get::<i64, _>(i).map_or(Value::Null, Value::from),
            "REAL" => row
                .try_get::<f64, _>(i)
                .ok()
                .and_then(Number::from_f64)
                .map_or(Value::Null, Value::Number),
            "BLOB" => row
                .try_get::<Vec<u8>, _>(i)
                .map_or(Value::Null, |b| base64(&b)),
            _ => row
                .try_get::<String, _>(i)
                .map_or(Value::Null, Value::String),
        },
        Err(_) => Value::Null,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn declared_types_map_to_renderings() {
        assert_eq!(ColType::from_declared("bigint"), ColType::Int);
        assert_eq!(ColType::from_declared("tinyint"), ColType::Int);
        assert_eq!(ColType::from_declared("numeric"), ColType::Decimal);
        assert_eq!(ColType::from_declared("decimal(12,7)"), ColType::Decimal);
        assert_eq!(ColType::from_declared("double precision"), ColType::Float);
        assert_eq!(ColType::from_declared("longblob"), ColType::Binary);
        assert_eq!(ColType::from_declared("bytea"), ColType::Binary);
        assert_eq!(ColType::from_declared("character varying"), ColType::Text);
        assert_eq!(ColType::from_declared("longtext"), ColType::Text);
    }

    #[test]
    fn values_keep_their_exact_text() {
        assert_eq!(typed("85.50000", ColType::Decimal).to_string(), "85.50000");
        assert_eq!(typed("123", ColType::Text), Value::String("123".into()));
        assert_eq!(typed("0042", ColType::Text), Value::String("0042".into()));
        assert_eq!(typed("-7", ColType::Int), Value::from(-7));
        assert_eq!(typed("NaN", ColType::Decimal), Value::Null);
        assert_eq!(typed("1e+20", ColType::Float).to_string(), "1e+20");
        assert_eq!(pg_bytea("\\x00ff41"), Value::String("AP9B".into()));
    }
}
