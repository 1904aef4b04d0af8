//! The SQL that creates a read-only database user for nosey.
//!
//! nosey only ever reads, so Moodle's own user (which may drop tables) is more than it needs.
//! On PostgreSQL the default privileges also cover tables Moodle creates later (plugin
//! installs, upgrades); on MySQL a database-wide grant does that by itself.

use rand::Rng;
use rand::distr::Alphanumeric;

use crate::moodle::config_php::{DbConnection, DbKind};
use crate::moodle::privileges::{mysql_ident, mysql_string, pg_ident};

/// The user nosey's SQL creates.
pub const READONLY_USER: &str = "nosey";

/// The statements to run, and the URL to put in `[moodle] url` afterwards.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReadonlyUser {
    /// Who runs the statements, and where.
    pub run_as: String,
    pub statements: Vec<String>,
    pub url: String,
}

/// A password for the new user: letters and digits only, so it needs no quoting anywhere.
pub fn generate_password() -> String {
    rand::rng()
        .sample_iter(&Alphanumeric)
        .take(32)
        .map(char::from)
        .collect()
}

pub fn readonly_user(conn: &DbConnection, password: &str) -> ReadonlyUser {
    let url = DbConnection {
        user: READONLY_USER.to_string(),
        ..conn.clone()
    }
    .url_without_password();
    match conn.kind {
        DbKind::Postgres => postgres(conn, password, url),
        DbKind::MySql => mysql(conn, password, url),
    }
}

fn postgres(conn: &DbConnection, password: &str, url: String) -> ReadonlyUser {
    let (db, owner, user) = (pg_ident(&conn.dbname), pg_ident(&conn.user), READONLY_USER);
    ReadonlyUser {
        run_as: format!(
            "as a PostgreSQL superuser, connected to Moodle's database (e.g. sudo -u postgres psql -d {db})"
        ),
        statements: vec![
            format!(
                "CREATE ROLE {user} LOGIN PASSWORD '{}';",
                password.replace('\'', "''")
            ),
            format!("GRANT CONNECT ON DATABASE {db} TO {user};"),
            format!("GRANT USAGE ON SCHEMA public TO {user};"),
            format!("GRANT SELECT ON ALL TABLES IN SCHEMA public TO {user};"),
            format!(
                "ALTER DEFAULT PRIVILEGES FOR ROLE {owner} IN SCHEMA public GRANT SELECT ON TABLES TO {user};"
            ),
        ],
        url,
    }
}

fn mysql(conn: &DbConnection, password: &str, url: String) -> ReadonlyUser {
    // Over a socket the server sees the client as 'localhost'; otherwise nosey's address is
    // not known here, so any host, for the admin to narrow.
    let host = if conn.socket.is_some() {
        "localhost"
    } else {
        "%"
    };
    let account = format!("{}@{}", mysql_string(READONLY_USER), mysql_string(host));
    ReadonlyUser {
        run_as: "as a MySQL/MariaDB administrator (e.g. sudo mariadb)".into(),
        statements: vec![
            format!(
                "CREATE USER {account} IDENTIFIED BY {};",
                mysql_string(password)
            ),
            format!(
                "GRANT SELECT ON {}.* TO {account};",
                mysql_ident(&conn.dbname)
            ),
        ],
        url,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::moodle::config_php::PhpValue;

    fn conn(kind: DbKind, socket: Option<&str>) -> DbConnection {
        DbConnection {
            kind,
            host: socket.is_none().then(|| "db.example.org".to_string()),
            port: Some(5433),
            socket: socket.map(String::from),
            dbname: "moodle-prod".into(),
            user: "moodle".into(),
            password: PhpValue::Str("secret".into()),
            prefix: "mdl_".into(),
        }
    }

    #[test]
    fn postgres_statements() {
        let u = readonly_user(&conn(DbKind::Postgres, None), "p4ss");
        assert_eq!(
            u.statements,
            [
                "CREATE ROLE nosey LOGIN PASSWORD 'p4ss';",
                "GRANT CONNECT ON DATABASE \"moodle-prod\" TO nosey;",
                "GRANT USAGE ON SCHEMA public TO nosey;",
                "GRANT SELECT ON ALL TABLES IN SCHEMA public TO nosey;",
                "ALTER DEFAULT PRIVILEGES FOR ROLE moodle IN SCHEMA public GRANT SELECT ON TABLES TO nosey;",
            ]
        );
        assert_eq!(u.url, "postgres://nosey@db.example.org:5433/moodle-prod");
    }

    #[test]
    fn mysql_statements() {
        let u = readonly_user(&conn(DbKind::MySql, None), "p4ss");
        assert_eq!(
            u.statements,
            [
                "CREATE USER 'nosey'@'%' IDENTIFIED BY 'p4ss';",
                "GRANT SELECT ON `moodle-prod`.* TO 'nosey'@'%';",
            ]
        );
        let u = readonly_user(&conn(DbKind::MySql, Some("/run/mysqld/mysqld.sock")), "x");
        assert!(u.statements[0].starts_with("CREATE USER 'nosey'@'localhost'"));
        assert!(
            u.url.contains("socket=/run/mysqld/mysqld.sock"),
            "{}",
            u.url
        );
    }

    #[test]
    fn passwords_are_long_and_plain() {
        let (a, b) = (generate_password(), generate_password());
        assert_eq!(a.len(), 32);
        assert!(a.chars().all(|c| c.is_ascii_alphanumeric()));
        assert_ne!(a, b);
    }
}
