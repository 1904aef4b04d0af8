//! Where to connect: host, port and socket from `dbhost` and `dboptions`.
//!
//! nosey must reach the same server Moodle reaches, so these rules follow Moodle's drivers
//! (`lib/dml/pgsql_native_moodle_database.php`, `mysqli_native_moodle_database.php`), which test
//! `dbport` and `dbsocket` with PHP's `empty()`:
//! - PostgreSQL uses a Unix socket when `dbsocket` is set and `dbhost` is exactly `localhost` or
//!   `127.0.0.1`; the directory is `dbsocket` when it holds a `/`, else libpq's default, taken
//!   here to be [`PG_DEFAULT_SOCKET_DIR`]. libpq also reads an empty `dbhost` as "the default
//!   socket" and a `dbhost` starting with `/` as a socket directory.
//! - MySQL and MariaDB use `dbsocket` only when it is a path (holds `/` or `\`) and `dbhost` is
//!   `localhost` or empty. PHP's mysqli also reaches `localhost` through its default socket when
//!   no path is given; nosey cannot know that path, so it connects to `localhost` over TCP.
//! - `dbhost` may carry a port (`db.example.org:5433`, `[::1]:5433`): nosey splits it off, and
//!   refuses a file whose two ports disagree rather than pick one.

use std::collections::BTreeMap;

use super::{ConfigPhpError, DbKind, PG_DEFAULT_SOCKET_DIR, PhpValue};

/// `host` is `None` for a socket; `port` is `None` when none is given.
#[derive(Debug, Default, PartialEq, Eq)]
pub(super) struct Endpoint {
    pub(super) host: Option<String>,
    pub(super) socket: Option<String>,
    pub(super) port: Option<u16>,
}

/// `host` is `dbhost` with an empty value already turned into `None`.
pub(super) fn resolve(
    kind: DbKind,
    host: Option<&str>,
    dboptions: &BTreeMap<String, PhpValue>,
) -> Result<Endpoint, ConfigPhpError> {
    let dbsocket = dboptions.get("dbsocket");
    let end = match kind {
        DbKind::Postgres => pg_endpoint(host, dbsocket)?,
        DbKind::MySql => mysql_endpoint(host, dbsocket)?,
    };
    let port = merge_ports(end.port, dbport(dboptions)?)?;
    Ok(Endpoint { port, ..end })
}

fn dbport(dboptions: &BTreeMap<String, PhpValue>) -> Result<Option<u16>, ConfigPhpError> {
    match dboptions.get("dbport") {
        None => Ok(None),
        Some(v) if v.is_php_empty() => Ok(None),
        Some(v) => port_number(v.as_int())
            .map(Some)
            .ok_or_else(|| ConfigPhpError::InvalidPort(v.to_string())),
    }
}

fn port_number(n: Option<i64>) -> Option<u16> {
    n.and_then(|n| u16::try_from(n).ok()).filter(|p| *p != 0)
}

fn merge_ports(from_host: Option<u16>, dbport: Option<u16>) -> Result<Option<u16>, ConfigPhpError> {
    match (from_host, dbport) {
        (Some(h), Some(d)) if h != d => Err(ConfigPhpError::ConflictingPorts {
            host_port: h,
            dbport: d,
        }),
        (h, d) => Ok(h.or(d)),
    }
}

fn socket_at(path: &str) -> Endpoint {
    let socket = Some(path.to_string());
    Endpoint {
        socket,
        ..Endpoint::default()
    }
}

fn pg_endpoint(
    host: Option<&str>,
    dbsocket: Option<&PhpValue>,
) -> Result<Endpoint, ConfigPhpError> {
    let socket_on = dbsocket.is_some_and(|v| !v.is_php_empty());
    let dir = dbsocket
        .and_then(PhpValue::as_str)
        .filter(|s| s.contains('/'));
    match host {
        Some("localhost" | "127.0.0.1") if socket_on => {
            Ok(socket_at(dir.unwrap_or(PG_DEFAULT_SOCKET_DIR)))
        }
        None => Ok(socket_at(PG_DEFAULT_SOCKET_DIR)),
        Some(h) if h.starts_with('/') => Ok(socket_at(h)),
        Some(h) => split_host(h),
    }
}

fn mysql_endpoint(
    host: Option<&str>,
    dbsocket: Option<&PhpValue>,
) -> Result<Endpoint, ConfigPhpError> {
    let path = dbsocket.and_then(PhpValue::as_str);
    match (host, path.filter(|p| p.contains('/') || p.contains('\\'))) {
        (None | Some("localhost"), Some(p)) => Ok(socket_at(p)),
        (None, None) => Ok(Endpoint::default()),
        (Some(h), _) => split_host(h),
    }
}

/// Splits `name:port` and `[v6]:port`; a bare IPv6 address keeps its colons.
fn split_host(h: &str) -> Result<Endpoint, ConfigPhpError> {
    let (name, port) = match h.strip_prefix('[').and_then(|r| r.split_once(']')) {
        Some((addr, tail)) => (addr, tail.strip_prefix(':')),
        None => match h.rsplit_once(':') {
            Some((name, port)) if !name.contains(':') => (name, Some(port)),
            _ => (h, None),
        },
    };
    let port = match port {
        Some(p) => Some(
            port_number(p.parse().ok())
                .ok_or_else(|| ConfigPhpError::InvalidPort(h.to_string()))?,
        ),
        None => None,
    };
    Ok(Endpoint {
        host: Some(name.to_string()),
        socket: None,
        port,
    })
}

#[cfg(test)]
mod tests {
    use super::super::tests::{site, url};
    use super::*;

    #[test]
    fn defaults_when_unset() {
        let config = site("mysqli", "$CFG->dbhost = 'db.example.org';");
        let db = config.connection().unwrap();
        assert_eq!((db.port, db.port_or_default()), (None, 3306));
        assert_eq!(
            db.url_without_password(),
            "mysql://moodle@db.example.org/moodle"
        );
        let pg = site("pgsql", "$CFG->dbhost = 'localhost';")
            .connection()
            .unwrap();
        assert_eq!(pg.port_or_default(), 5432);
        assert_eq!(
            pg.url_without_password(),
            "postgres://moodle@localhost/moodle"
        );
    }

    #[test]
    fn postgres_sockets() {
        let default_dir = "postgres://moodle@localhost/moodle?host=/var/run/postgresql";
        let cases = [
            (
                "'localhost'",
                "['dbsocket' => '/run/pg']",
                "postgres://moodle@localhost/moodle?host=/run/pg",
            ),
            ("'127.0.0.1'", "['dbsocket' => true]", default_dir),
            (
                "'127.0.0.1'",
                "['dbsocket' => 1, 'dbport' => 5433]",
                "postgres://moodle@localhost:5433/moodle?host=/var/run/postgresql",
            ),
            ("'/var/run/postgresql'", "[]", default_dir),
            ("''", "['dbsocket' => '/ignored']", default_dir),
            (
                "'db.example.org'",
                "['dbsocket' => '/run/pg']",
                "postgres://moodle@db.example.org/moodle",
            ),
            (
                "'localhost'",
                "['dbsocket' => '0']",
                "postgres://moodle@localhost/moodle",
            ),
        ];
        for (host, options, expected) in cases {
            let body = format!("$CFG->dbhost = {host}; $CFG->dboptions = {options};");
            assert_eq!(url(&site("pgsql", &body)), expected, "{body}");
        }
    }

    #[test]
    fn mysql_sockets() {
        let cases = [
            (
                "'localhost'",
                "'/run/mysqld/mysqld.sock'",
                "mysql://moodle@localhost/moodle?socket=/run/mysqld/mysqld.sock",
            ),
            (
                "''",
                "'/run/m.sock'",
                "mysql://moodle@localhost/moodle?socket=/run/m.sock",
            ),
            ("'localhost'", "1", "mysql://moodle@localhost/moodle"),
            (
                "'127.0.0.1'",
                "'/run/m.sock'",
                "mysql://moodle@127.0.0.1/moodle",
            ),
        ];
        for (host, socket, expected) in cases {
            let body =
                format!("$CFG->dbhost = {host}; $CFG->dboptions = ['dbsocket' => {socket}];");
            assert_eq!(url(&site("mariadb", &body)), expected, "{body}");
        }
        let flag = site(
            "mysqli",
            "$CFG->dbhost = 'localhost'; $CFG->dboptions = ['dbsocket' => 1];",
        );
        let db = flag.connection().unwrap();
        assert_eq!((db.host.as_deref(), db.socket), (Some("localhost"), None));
    }

    #[test]
    fn ports_from_options_and_host() {
        let cases = [
            (
                "'db'",
                "['dbport' => '5433']",
                "postgres://moodle@db:5433/moodle",
            ),
            ("'db'", "['dbport' => '']", "postgres://moodle@db/moodle"),
            ("'db'", "['dbport' => 0]", "postgres://moodle@db/moodle"),
            (
                "'127.0.0.1:5433'",
                "[]",
                "postgres://moodle@127.0.0.1:5433/moodle",
            ),
            ("'[::1]:5433'", "[]", "postgres://moodle@[::1]:5433/moodle"),
            ("'::1'", "[]", "postgres://moodle@[::1]/moodle"),
            (
                "'db:5433'",
                "['dbport' => 5433]",
                "postgres://moodle@db:5433/moodle",
            ),
        ];
        for (host, options, expected) in cases {
            let body = format!("$CFG->dbhost = {host}; $CFG->dboptions = {options};");
            assert_eq!(url(&site("pgsql", &body)), expected, "{body}");
        }
    }

    #[test]
    fn bad_ports_are_errors() {
        let clash = "$CFG->dbhost = 'db:5433'; $CFG->dboptions = ['dbport' => 5434];";
        let err = site("pgsql", clash).connection().unwrap_err();
        let expected = ConfigPhpError::ConflictingPorts {
            host_port: 5433,
            dbport: 5434,
        };
        assert_eq!(err, expected);
        let words = "$CFG->dbhost = 'db'; $CFG->dboptions = ['dbport' => 'five'];";
        let err = site("pgsql", words).connection().unwrap_err();
        assert_eq!(
            err.to_string(),
            "the database port is not a port number: 'five'"
        );
        for host in ["db:70000", "db:x", "db:"] {
            let body = format!("$CFG->dbhost = '{host}';");
            let err = site("pgsql", &body).connection();
            assert_eq!(err, Err(ConfigPhpError::InvalidPort(host.into())));
        }
    }

    #[test]
    fn resolve_directly() {
        let options = BTreeMap::from([("dbport".to_string(), PhpValue::Int(6432))]);
        let end = resolve(DbKind::Postgres, Some("db"), &options).unwrap();
        let expected = Endpoint {
            host: Some("db".into()),
            socket: None,
            port: Some(6432),
        };
        assert_eq!(end, expected);
    }
}
