//! What one simulated Moodle request does to the database: the rows it changes and the log
//! rows it writes.
//!
//! These are plain data, independent of any engine, so the same stream can fill the demo's
//! SQLite database or a benchmark's PostgreSQL/MariaDB, and tests can replay it in memory.

use crate::moodle::logstore::LogRow;

/// A column value, as Moodle's DML layer would bind it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SqlValue {
    Int(i64),
    Text(String),
    Null,
    /// A NUMERIC value with its exact digits ("85.50000").
    Decimal(String),
}

impl SqlValue {
    /// The value as PHP hands it around after reading it back: every non-NULL value a string.
    pub fn to_php_string(&self) -> Option<String> {
        match self {
            SqlValue::Int(i) => Some(i.to_string()),
            SqlValue::Text(s) | SqlValue::Decimal(s) => Some(s.clone()),
            SqlValue::Null => None,
        }
    }
}

impl From<i64> for SqlValue {
    fn from(v: i64) -> Self {
        SqlValue::Int(v)
    }
}

impl From<&str> for SqlValue {
    fn from(v: &str) -> Self {
        SqlValue::Text(v.to_string())
    }
}

impl From<String> for SqlValue {
    fn from(v: String) -> Self {
        SqlValue::Text(v)
    }
}

impl<T: Into<SqlValue>> From<Option<T>> for SqlValue {
    fn from(v: Option<T>) -> Self {
        v.map_or(SqlValue::Null, Into::into)
    }
}

/// One row change, on a table named without its prefix.
///
/// Inserts carry their `id`: the simulator hands out ids from its own sequences so that log
/// rows can name the rows before they exist. Updates never touch a unique key's columns, which
/// lets the writer batch them.
#[derive(Debug, Clone, PartialEq)]
pub enum Change {
    Insert {
        table: &'static str,
        values: Vec<(&'static str, SqlValue)>,
    },
    Update {
        table: &'static str,
        id: i64,
        set: Vec<(&'static str, SqlValue)>,
    },
    Delete {
        table: &'static str,
        id: i64,
    },
}

impl Change {
    pub fn table(&self) -> &'static str {
        match self {
            Change::Insert { table, .. }
            | Change::Update { table, .. }
            | Change::Delete { table, .. } => table,
        }
    }

    /// The row's id: given for updates and deletes, the `id` value of an insert (if any).
    pub fn id(&self) -> Option<i64> {
        match self {
            Change::Insert { values, .. } => values.iter().find_map(|(c, v)| match (c, v) {
                (&"id", SqlValue::Int(id)) => Some(*id),
                _ => None,
            }),
            Change::Update { id, .. } | Change::Delete { id, .. } => Some(*id),
        }
    }
}

/// One row of `logstore_standard_log` before the database gives it an id: a [`LogRow`] whose
/// `id` is 0 until then (`other` holds the exact stored text).
pub type LogEntry = LogRow;

/// Everything one PHP request (or one cron run) did.
#[derive(Debug, Clone, PartialEq)]
pub struct Request {
    /// Row changes, in the order Moodle made them (each committed before logging).
    pub changes: Vec<Change>,
    /// Log rows, written together when the request ends (Moodle's buffered log store).
    pub log: Vec<LogEntry>,
    /// `web`, `ws` (web services) or `cli` (cron).
    pub origin: &'static str,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn changes_know_their_row() {
        let ins = Change::Insert {
            table: "course",
            values: vec![("id", SqlValue::Int(7)), ("fullname", "A".into())],
        };
        assert_eq!(ins.id(), Some(7));
        assert_eq!(ins.table(), "course");
        assert_eq!(
            Change::Delete {
                table: "user_enrolments",
                id: 3
            }
            .id(),
            Some(3)
        );
    }

    #[test]
    fn php_sees_every_value_as_a_string() {
        assert_eq!(SqlValue::Int(0).to_php_string().as_deref(), Some("0"));
        assert_eq!(SqlValue::Null.to_php_string(), None);
        assert_eq!(
            SqlValue::Decimal("85.50000".into())
                .to_php_string()
                .as_deref(),
            Some("85.50000")
        );
    }
}
