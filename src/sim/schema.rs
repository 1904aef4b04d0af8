//! Moodle's tables in an SQLite database, for `nosey demo` and tests.
//!
//! `sqlite://` Moodle sources exist for the demo and the test suite only: Moodle itself never
//! runs on SQLite. The tables nosey reads are created with Moodle 4.5's columns, in Moodle's
//! order, with the same NOT NULL constraints and defaults (`schema.sql` beside this file,
//! translated from the 4.5.6 fixture), plus the rows of a fresh install that the
//! [`Simulator`](super::Simulator) starts from: settings that let nosey read the log at once,
//! the front page course (id 1), the default category (id 1), the guest (id 1) and the admin
//! (id 2).

use std::time::{SystemTime, UNIX_EPOCH};

use sqlx::SqlitePool;

use super::error::{SimError, check_prefix};
use super::writer::{SimTarget, install_base};
use crate::moodle::error::Engine;

/// The DDL, with `{prefix}` in place of the table prefix.
const SCHEMA: &str = include_str!("schema.sql");

/// The tables created, without prefix, in creation order.
pub const TABLES: [&str; 11] = [
    "logstore_standard_log",
    "course",
    "course_categories",
    "user",
    "user_enrolments",
    "enrol",
    "course_modules",
    "course_modules_completion",
    "course_completions",
    "context",
    "config_plugins",
];

/// Creates Moodle's tables with `prefix` in `pool`'s database and installs the base site.
/// Fails if the tables already exist: the simulator's ids start from a fresh install.
pub async fn create(pool: &SqlitePool, prefix: &str) -> Result<(), SimError> {
    check_prefix(prefix)?;
    let mut tx = pool.begin().await.map_err(db_error)?;
    for statement in statements(prefix) {
        sqlx::raw_sql(sqlx::AssertSqlSafe(statement))
            .execute(&mut *tx)
            .await
            .map_err(db_error)?;
    }
    tx.commit().await.map_err(db_error)?;
    let target = SimTarget::sqlite(pool.clone(), prefix)?;
    install_base(&target, unix_now()).await?;
    Ok(())
}

/// The DDL statements for `prefix` (already checked to be a plain identifier prefix).
fn statements(prefix: &str) -> impl Iterator<Item = String> {
    SCHEMA
        .split("\n\n")
        .map(|chunk| {
            chunk
                .lines()
                .filter(|l| !l.starts_with("--"))
                .collect::<Vec<_>>()
                .join("\n")
        })
        .filter(|s| !s.trim().is_empty())
        .map(move |s| s.replace("{prefix}", prefix))
        .collect::<Vec<_>>()
        .into_iter()
}

fn db_error(source: sqlx::Error) -> SimError {
    SimError::Database {
        what: "creating Moodle's tables",
        engine: Engine::Sqlite,
        source,
    }
}

fn unix_now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_table_has_a_statement() {
        let all: Vec<String> = statements("mdl_").collect();
        for table in TABLES {
            let create = format!("CREATE TABLE \"mdl_{table}\" (");
            assert!(all.iter().any(|s| s.starts_with(&create)), "{table}");
        }
        assert!(all.iter().all(|s| !s.contains("{prefix}")));
    }
}
