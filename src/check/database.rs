//! Items 2 and 3: reaching Moodle's database, and reading its log table.

use super::Item;
use crate::config::Config;
use crate::moodle::error::Engine;
use crate::moodle::privileges::{current_account, grant_select};
use crate::moodle::{MoodleDb, MoodleError, logstore};

/// Connects as `[moodle]` says and reports it; `None` when it could not.
pub(super) async fn connect(config: &Config, items: &mut Vec<Item>) -> Option<MoodleDb> {
    let m = &config.moodle;
    match MoodleDb::connect(&m.url.expose(), &m.prefix, &m.table).await {
        Ok(db) => {
            items.push(Item::ok("database", db.target().to_string()));
            Some(db)
        }
        Err(e) => {
            items.push(Item::fail("database", e.to_string(), connect_fix(&e)));
            None
        }
    }
}

/// What to do about a connection failure, per kind of failure.
pub(super) fn connect_fix(e: &MoodleError) -> String {
    match e {
        MoodleError::Unreachable { .. } => {
            "check host and port in [moodle] url, that the database server is running, and that \
             it accepts connections from this machine (listen_addresses / bind-address, firewall)"
                .into()
        }
        MoodleError::BadPassword { .. } => {
            "put the right password in the file named by [moodle] password_file (or in the url); \
             it is Moodle's $CFG->dbpass, or the one set for nosey's own user"
                .into()
        }
        MoodleError::AccessDenied { target, .. } => match target.engine {
            Engine::Postgres => format!(
                "allow user '{}' from this machine in pg_hba.conf, then reload PostgreSQL",
                target.user
            ),
            _ => format!(
                "create the user for the host nosey connects from (CREATE USER '{}'@'<host>' …)",
                target.user
            ),
        },
        MoodleError::NoDatabase { .. } => {
            "set the database name in [moodle] url to Moodle's $CFG->dbname".into()
        }
        MoodleError::BadUrl(_) => {
            "write [moodle] url as postgres://USER@HOST:PORT/DATABASE or mysql://USER@HOST:PORT/DATABASE"
                .into()
        }
        MoodleError::TableMissing { .. } => prefix_fix(),
        MoodleError::NoPrivilege { table, user } => {
            format!("GRANT SELECT ON {table} TO {user};")
        }
        MoodleError::Query { .. } => {
            "see the database's message above; `nosey --log-level debug check` shows more".into()
        }
    }
}

fn prefix_fix() -> String {
    "set [moodle] prefix to Moodle's $CFG->prefix (and [moodle] table if the log is kept in \
     another table)"
        .into()
}

/// Reads the newest log row. Returns false when the table is missing (the prefix is wrong),
/// which makes every other table check pointless.
pub(super) async fn log_table(db: &MoodleDb, items: &mut Vec<Item>) -> bool {
    let table = db.log_table().to_string();
    let read = match logstore::check_readable(db).await {
        Ok(()) => logstore::max_id(db).await,
        Err(e) => Err(e),
    };
    match read {
        Ok(max) => {
            let detail = format!("{table} is readable, newest id {max}");
            items.push(Item::ok("log table", detail));
            true
        }
        Err(e @ MoodleError::TableMissing { .. }) => {
            items.push(Item::fail("log table", e.to_string(), prefix_fix()));
            false
        }
        Err(MoodleError::NoPrivilege { .. }) => {
            let grant = grant_for(db, &table).await;
            let detail = format!("user '{}' may not read {table}", db.target().user);
            items.push(Item::fail("log table", detail, grant));
            true
        }
        Err(e) => {
            let fix = connect_fix(&e);
            items.push(Item::fail("log table", e.to_string(), fix));
            true
        }
    }
}

/// The GRANT for `full_table`, naming the account exactly as the server knows it.
pub(super) async fn grant_for(db: &MoodleDb, full_table: &str) -> String {
    let account = account(db).await;
    grant_select(db.engine(), &db.target().database, full_table, &account)
}

/// The server's name for nosey's account; the configured user when it will not say.
pub(super) async fn account(db: &MoodleDb) -> String {
    match current_account(db).await {
        Ok(a) if !a.is_empty() => a,
        _ => db.target().user.clone(),
    }
}
