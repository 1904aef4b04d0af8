//! Errors from Moodle's database, translated into what an administrator can act on.
//!
//! sqlx reports SQLSTATEs and driver codes; a Moodle admin wants to hear "table
//! mdl_logstore_standard_log not found: is the prefix 'mdl_' right?". Every variant names the
//! host, database, user or table involved, and never a password.

use std::fmt;

use thiserror::Error;

/// Which database engine the Moodle site runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Engine {
    Postgres,
    MySql,
    Sqlite,
}

impl fmt::Display for Engine {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Engine::Postgres => "PostgreSQL",
            Engine::MySql => "MySQL/MariaDB",
            Engine::Sqlite => "SQLite (demo)",
        })
    }
}

/// Where nosey tried to connect, for messages: never holds a password.
#[derive(Debug, Clone)]
pub struct Target {
    pub engine: Engine,
    pub host: String,
    pub database: String,
    pub user: String,
}

impl fmt::Display for Target {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} at {}", self.engine, self.host)?;
        if !self.database.is_empty() {
            write!(f, ", database '{}'", self.database)?;
        }
        if !self.user.is_empty() {
            write!(f, ", user '{}'", self.user)?;
        }
        Ok(())
    }
}

#[derive(Debug, Error)]
pub enum MoodleError {
    #[error(
        "cannot reach {target}: {reason}. Is the server running, and are host and port in [moodle] url right?"
    )]
    Unreachable { target: Target, reason: String },

    #[error(
        "{target}: the password was refused. Check [moodle] password_file (or the password in the url)"
    )]
    BadPassword { target: Target },

    #[error("{target}: access denied ({reason})")]
    AccessDenied { target: Target, reason: String },

    #[error("{target}: the database does not exist. Check the database name in [moodle] url")]
    NoDatabase { target: Target },

    #[error(
        "table {table} not found: is the prefix '{prefix}' right? (Moodle's $CFG->prefix; [moodle] prefix)"
    )]
    TableMissing { table: String, prefix: String },

    #[error(
        "user '{user}' may not read table {table}: grant it with  GRANT SELECT ON {table} TO {user};"
    )]
    NoPrivilege { table: String, user: String },

    #[error("{what}: {message}")]
    Query { what: String, message: String },

    #[error("invalid Moodle database url: {0}")]
    BadUrl(String),
}

impl MoodleError {
    /// True when the database went away (or never answered): the tailer waits and reconnects
    /// instead of giving up.
    pub fn is_transient(&self) -> bool {
        matches!(self, MoodleError::Unreachable { .. })
            || matches!(self, MoodleError::Query { message, .. } if is_transient_message(message))
    }
}

fn is_transient_message(message: &str) -> bool {
    const HINTS: [&str; 9] = [
        "connection",
        "pool timed out",
        "broken pipe",
        "terminat",
        "shutting down",
        "server has gone away",
        "lost connection",
        "io error",
        "timed out",
    ];
    let lower = message.to_ascii_lowercase();
    HINTS.iter().any(|h| lower.contains(h))
}

/// Turns an sqlx error into a [`MoodleError`], using the table being read (if any) to name it.
pub(crate) fn classify(
    err: sqlx::Error,
    target: &Target,
    table: Option<&str>,
    prefix: &str,
    what: &str,
) -> MoodleError {
    match &err {
        sqlx::Error::Io(io) => MoodleError::Unreachable {
            target: target.clone(),
            reason: io.to_string(),
        },
        sqlx::Error::Tls(e) => MoodleError::Unreachable {
            target: target.clone(),
            reason: format!("TLS: {e}"),
        },
        sqlx::Error::PoolTimedOut | sqlx::Error::PoolClosed => MoodleError::Unreachable {
            target: target.clone(),
            reason: "no connection could be made in time".into(),
        },
        sqlx::Error::Database(db) => classify_database(db.as_ref(), target, table, prefix, what),
        other => MoodleError::Query {
            what: what.to_string(),
            message: other.to_string(),
        },
    }
}

fn classify_database(
    db: &dyn sqlx::error::DatabaseError,
    target: &Target,
    table: Option<&str>,
    prefix: &str,
    what: &str,
) -> MoodleError {
    let code = db.code().map(|c| c.into_owned()).unwrap_or_default();
    let table_name = table.unwrap_or("?").to_string();
    match code.as_str() {
        // PostgreSQL SQLSTATEs, then MySQL error numbers (sqlx reports the SQLSTATE for both
        // where one exists, so match both spellings).
        "28P01" => MoodleError::BadPassword {
            target: target.clone(),
        },
        "28000" if target.engine == Engine::MySql => MoodleError::BadPassword {
            target: target.clone(),
        },
        "28000" => MoodleError::AccessDenied {
            target: target.clone(),
            reason: db.message().to_string(),
        },
        "3D000" => MoodleError::NoDatabase {
            target: target.clone(),
        },
        "42P01" => MoodleError::TableMissing {
            table: table_name,
            prefix: prefix.to_string(),
        },
        "42S02" => MoodleError::TableMissing {
            table: table_name,
            prefix: prefix.to_string(),
        },
        "42501" | "42000" if looks_like_privilege(db.message()) => MoodleError::NoPrivilege {
            table: table_name,
            user: target.user.clone(),
        },
        "42000" if db.message().contains("Unknown database") => MoodleError::NoDatabase {
            target: target.clone(),
        },
        "57P01" | "57P02" | "57P03" | "08006" | "08003" | "08001" | "08S01" | "HY000"
            if is_transient_message(db.message()) || code.starts_with("57") =>
        {
            MoodleError::Unreachable {
                target: target.clone(),
                reason: db.message().to_string(),
            }
        }
        _ => MoodleError::Query {
            what: what.to_string(),
            message: db.message().to_string(),
        },
    }
}

fn looks_like_privilege(message: &str) -> bool {
    let m = message.to_ascii_lowercase();
    m.contains("permission denied") || m.contains("command denied") || m.contains("access denied")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn transient_messages_are_recognised() {
        assert!(is_transient_message(
            "error communicating with database: Connection refused"
        ));
        assert!(is_transient_message(
            "terminating connection due to administrator command"
        ));
        assert!(!is_transient_message("syntax error at or near \"FROM\""));
    }

    #[test]
    fn messages_name_the_prefix_and_never_a_password() {
        let e = MoodleError::TableMissing {
            table: "mdl_logstore_standard_log".into(),
            prefix: "mdl_".into(),
        };
        assert_eq!(
            e.to_string(),
            "table mdl_logstore_standard_log not found: is the prefix 'mdl_' right? (Moodle's $CFG->prefix; [moodle] prefix)"
        );
    }
}
