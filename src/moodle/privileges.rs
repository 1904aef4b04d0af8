//! Whether nosey's database user may read a table, and the GRANT that would let it.
//!
//! `nosey check` probes every table the routes need before the first event does, because a
//! missing privilege otherwise shows up only when an enrolment arrives hours later. The probe
//! is a query that returns nothing but still needs SELECT (`SELECT id FROM t WHERE 1 = 0`):
//! both PostgreSQL and MySQL check privileges when planning, so it costs Moodle's database no
//! row reads.

use sqlx::Row;

use super::db::{MoodleDb, Pool, is_safe_identifier};
use super::error::{Engine, MoodleError};

/// What a probe found out about one table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    Readable,
    /// No such table (a plugin not installed, or a wrong prefix).
    Missing,
    /// The table may exist, but the user may not read it. MySQL says this also for a missing
    /// table the user has no privilege on, so as not to reveal which tables exist.
    Denied,
}

/// Probes SELECT on `full_table` (prefix included). Other failures (the server went away)
/// are errors.
pub async fn probe_select(db: &MoodleDb, full_table: &str) -> Result<Access, MoodleError> {
    if !is_safe_identifier(full_table) {
        return Err(MoodleError::Query {
            what: format!("checking table {}", full_table.escape_debug()),
            message: "not a plain table name".into(),
        });
    }
    let sql = format!(
        "SELECT id FROM {} WHERE 1 = 0",
        db.dialect().ident(full_table)
    );
    let sql = sqlx::AssertSqlSafe(sql);
    let res = match db.pool() {
        Pool::Postgres(p) => sqlx::query(sql).fetch_all(p).await.map(drop),
        Pool::MySql(p) => sqlx::query(sql).fetch_all(p).await.map(drop),
        Pool::Sqlite(p) => sqlx::query(sql).fetch_all(p).await.map(drop),
    };
    match res.map_err(|e| db.error(e, Some(full_table), "checking SELECT")) {
        Ok(()) => Ok(Access::Readable),
        Err(MoodleError::TableMissing { .. }) => Ok(Access::Missing),
        Err(MoodleError::NoPrivilege { .. }) => Ok(Access::Denied),
        Err(e) => Err(e),
    }
}

/// The account the server says nosey is: PostgreSQL's `current_user`, MySQL's
/// `CURRENT_USER()` (`nosey@%`, the account row that matched, host part included).
pub async fn current_account(db: &MoodleDb) -> Result<String, MoodleError> {
    let sql = match db.engine() {
        Engine::Postgres => "SELECT current_user::text",
        Engine::MySql => "SELECT CAST(CURRENT_USER() AS CHAR)",
        Engine::Sqlite => return Ok(String::new()),
    };
    let res = match db.pool() {
        Pool::Postgres(p) => sqlx::query(sql)
            .fetch_one(p)
            .await
            .and_then(|r| r.try_get(0)),
        Pool::MySql(p) => sqlx::query(sql)
            .fetch_one(p)
            .await
            .and_then(|r| r.try_get(0)),
        Pool::Sqlite(_) => Ok(String::new()),
    };
    res.map_err(|e| db.error(e, None, "asking the server who nosey is"))
}

/// `GRANT SELECT ON <table> TO <account>;` as the engine spells it. On MySQL the table is
/// qualified with the database, because an admin runs this from a session whose default
/// database may be another one.
pub fn grant_select(engine: Engine, database: &str, full_table: &str, account: &str) -> String {
    match engine {
        Engine::MySql => format!(
            "GRANT SELECT ON {}.{} TO {};",
            mysql_ident(database),
            mysql_ident(full_table),
            mysql_account(account)
        ),
        Engine::Postgres | Engine::Sqlite => {
            format!("GRANT SELECT ON {full_table} TO {};", pg_ident(account))
        }
    }
}

/// A PostgreSQL identifier, quoted only when it must be (so the common case reads as typed).
pub fn pg_ident(name: &str) -> String {
    let plain = name.starts_with(|c: char| c.is_ascii_lowercase() || c == '_')
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
    if plain {
        name.to_string()
    } else {
        format!("\"{}\"", name.replace('"', "\"\""))
    }
}

/// A MySQL identifier in backquotes.
pub fn mysql_ident(name: &str) -> String {
    format!("`{}`", name.replace('`', "``"))
}

/// A MySQL string literal that reads the same with or without NO_BACKSLASH_ESCAPES.
pub fn mysql_string(s: &str) -> String {
    format!("'{}'", s.replace('\\', "\\\\").replace('\'', "''"))
}

/// `nosey@%` → `'nosey'@'%'`: the host part is what makes a MySQL account.
pub fn mysql_account(account: &str) -> String {
    let (user, host) = account.rsplit_once('@').unwrap_or((account, "%"));
    format!("{}@{}", mysql_string(user), mysql_string(host))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grants_are_spelled_per_engine() {
        assert_eq!(
            grant_select(Engine::Postgres, "moodle", "mdl_user_enrolments", "nosey"),
            "GRANT SELECT ON mdl_user_enrolments TO nosey;"
        );
        assert_eq!(
            grant_select(Engine::MySql, "moodle", "mdl_user", "nosey@%"),
            "GRANT SELECT ON `moodle`.`mdl_user` TO 'nosey'@'%';"
        );
        assert_eq!(
            grant_select(Engine::MySql, "my`db", "mdl_user", "o'neil@localhost"),
            "GRANT SELECT ON `my``db`.`mdl_user` TO 'o''neil'@'localhost';"
        );
    }

    #[test]
    fn postgres_identifiers_are_quoted_only_when_needed() {
        assert_eq!(pg_ident("nosey"), "nosey");
        assert_eq!(pg_ident("_x1"), "_x1");
        assert_eq!(pg_ident("Nosey"), "\"Nosey\"");
        assert_eq!(pg_ident("a\"b"), "\"a\"\"b\"");
        assert_eq!(pg_ident("1x"), "\"1x\"");
        assert_eq!(pg_ident("moodle-db"), "\"moodle-db\"");
    }

    #[test]
    fn mysql_strings_escape_quotes_and_backslashes() {
        assert_eq!(mysql_string(r"a'b\c"), r"'a''b\\c'");
        assert_eq!(mysql_account("nosey"), "'nosey'@'%'");
        assert_eq!(mysql_account("a@b@host"), "'a@b'@'host'");
    }
}
