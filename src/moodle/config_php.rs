//! Reads the database settings out of a Moodle `config.php` without running PHP.
//!
//! nosey sets itself up from the site's own `config.php` so an admin need not copy database
//! credentials by hand, and it must do so on hosts without PHP. The file is PHP code, so this
//! module lexes the small subset that Moodle's installer writes and admins hand-edit (strings,
//! numbers, `true`/`false`/`null`, `array(...)`/`[...]`, `$CFG->name = ...;`,
//! `$CFG->dboptions['key'] = ...;`, comments) and skips everything else. Nothing here runs PHP,
//! so a value PHP computes (`getenv('DB_PASS')`, `"db-$env"`, a value set inside an `if`) is
//! kept as [`PhpValue::Unsupported`] with its source text, for the caller to say "set it in
//! nosey.toml by hand". Later assignments override earlier ones, as in PHP.
//!
//! [`MoodleConfigPhp::connection`] then turns the settings into a [`DbConnection`] the way Moodle's
//! own drivers do (see `endpoint` for sockets and ports).
//!
//! The work is split in child modules: `lexer` (PHP tokens), `collect` (finding `$CFG`
//! assignments and evaluating literals) and `endpoint` (host, port and socket rules).

use std::collections::BTreeMap;
use std::fmt;

use thiserror::Error;

mod collect;
mod endpoint;
mod lexer;

/// Where libpq looks for the server's socket when Moodle names none (Debian and Ubuntu).
pub const PG_DEFAULT_SOCKET_DIR: &str = "/var/run/postgresql";

/// A PHP value as written in `config.php`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PhpValue {
    Str(String),
    Int(i64),
    Bool(bool),
    Null,
    /// Computed by PHP at run time: the expression's source text.
    Unsupported(String),
}

impl PhpValue {
    pub fn as_str(&self) -> Option<&str> {
        match self {
            PhpValue::Str(s) => Some(s),
            _ => None,
        }
    }

    /// An integer, or a string holding only one (`'5433'`), as Moodle casts `dbport`.
    pub fn as_int(&self) -> Option<i64> {
        match self {
            PhpValue::Int(n) => Some(*n),
            PhpValue::Str(s) => s.trim().parse().ok(),
            _ => None,
        }
    }

    /// PHP's `empty()`, which Moodle's drivers apply to `dbport` and `dbsocket`.
    fn is_php_empty(&self) -> bool {
        match self {
            PhpValue::Null | PhpValue::Bool(false) | PhpValue::Int(0) => true,
            PhpValue::Str(s) => s.is_empty() || s == "0",
            _ => false,
        }
    }
}

/// Shows the value the way it would be written in PHP, for error messages.
impl fmt::Display for PhpValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PhpValue::Str(s) => write!(f, "'{s}'"),
            PhpValue::Int(n) => write!(f, "{n}"),
            PhpValue::Bool(b) => write!(f, "{b}"),
            PhpValue::Null => f.write_str("null"),
            PhpValue::Unsupported(e) => f.write_str(e),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum ConfigPhpError {
    #[error("this is not a Moodle config.php: it sets no $CFG->… value")]
    NotMoodleConfig,
    #[error("config.php does not set $CFG->{0}")]
    Missing(String),
    #[error("nosey reads PostgreSQL, MySQL and MariaDB; this site uses {0}")]
    UnsupportedDatabase(String),
    #[error("{key} is computed by PHP ({expression}); set it in nosey.toml by hand")]
    Computed { key: String, expression: String },
    #[error("{key} uses PHP variables ({expression}): set it in nosey.toml by hand")]
    UsesVariables { key: String, expression: String },
    #[error("the database port is not a port number: {0}")]
    InvalidPort(String),
    #[error("dbhost names port {host_port} but dboptions dbport is {dbport}")]
    ConflictingPorts { host_port: u16, dbport: u16 },
    #[error("the table prefix '{0}' may hold only letters, digits and _")]
    InvalidPrefix(String),
}

/// The settings nosey needs from `config.php`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MoodleConfigPhp {
    /// pgsql | mysqli | mariadb | auroramysql | sqlsrv | oci ...
    pub dbtype: Option<String>,
    pub dbhost: Option<String>,
    pub dbname: Option<String>,
    pub dbuser: Option<String>,
    /// Kept as a value because the password is the setting most often computed (`getenv`).
    pub dbpass: Option<PhpValue>,
    pub prefix: Option<String>,
    pub wwwroot: Option<String>,
    pub dboptions: BTreeMap<String, PhpValue>,
    /// Keys nosey needs whose value is computed by PHP: (key, expression).
    pub unsupported: Vec<(String, String)>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DbKind {
    Postgres,
    MySql,
}

impl DbKind {
    pub fn default_port(self) -> u16 {
        match self {
            DbKind::Postgres => 5432,
            DbKind::MySql => 3306,
        }
    }
}

/// Everything nosey needs to connect. `host` is `None` for a socket, and when config.php names
/// no host (`localhost` then).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DbConnection {
    pub kind: DbKind,
    pub host: Option<String>,
    /// `None` when config.php gives none: the kind's default port applies.
    pub port: Option<u16>,
    pub socket: Option<String>,
    pub dbname: String,
    pub user: String,
    pub password: PhpValue,
    /// Table prefix; Moodle's default `mdl_` when config.php sets none.
    pub prefix: String,
}

impl DbConnection {
    pub fn port_or_default(&self) -> u16 {
        self.port.unwrap_or(self.kind.default_port())
    }

    /// A URL safe to log: `postgres://user@host:port/db`, or for a socket
    /// `postgres://user@localhost/db?host=/dir` and `mysql://user@localhost/db?socket=/path`.
    pub fn url_without_password(&self) -> String {
        let (scheme, socket_param) = match self.kind {
            DbKind::Postgres => ("postgres", "host"),
            DbKind::MySql => ("mysql", "socket"),
        };
        let host = match &self.host {
            Some(h) if h.contains(':') => format!("[{}]", percent_encode(h, b":")),
            Some(h) => percent_encode(h, b""),
            None => "localhost".to_string(),
        };
        let mut url = format!("{scheme}://{}@{host}", percent_encode(&self.user, b""));
        if let Some(port) = self.port {
            url.push_str(&format!(":{port}"));
        }
        url.push('/');
        url.push_str(&percent_encode(&self.dbname, b""));
        if let Some(socket) = &self.socket {
            url.push_str(&format!("?{socket_param}={}", percent_encode(socket, b"/")));
        }
        url
    }
}

/// Keeps RFC 3986 unreserved bytes and `keep`; escapes the rest.
fn percent_encode(s: &str, keep: &[u8]) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) || keep.contains(&b) {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// Reads `config.php`; fails only when nothing in it assigns a `$CFG->` setting.
pub fn parse_config_php(text: &str) -> Result<MoodleConfigPhp, ConfigPhpError> {
    let tokens = lexer::lex(text);
    let collected = collect::collect(text, &tokens);
    if !collected.saw_cfg {
        return Err(ConfigPhpError::NotMoodleConfig);
    }
    Ok(collected.finish())
}

impl MoodleConfigPhp {
    /// Everything nosey needs to connect: kind + host/port/socket + db + user.
    pub fn connection(&self) -> Result<DbConnection, ConfigPhpError> {
        let dbtype = self.required(&self.dbtype, "dbtype")?;
        let kind = match dbtype.to_ascii_lowercase().as_str() {
            "pgsql" => DbKind::Postgres,
            "mysqli" | "mariadb" | "auroramysql" => DbKind::MySql,
            _ => return Err(ConfigPhpError::UnsupportedDatabase(dbtype.to_string())),
        };
        let dbname = self.required(&self.dbname, "dbname")?.to_string();
        let user = self.required(&self.dbuser, "dbuser")?.to_string();
        // The password and wwwroot are left for the caller, who may take them from nosey.toml.
        let needed = |(key, _): &&(String, String)| !matches!(key.as_str(), "dbpass" | "wwwroot");
        if let Some((key, expression)) = self.unsupported.iter().find(needed) {
            return Err(computed_error(key, expression));
        }
        let host = self.dbhost.as_deref().filter(|h| !h.is_empty());
        let end = endpoint::resolve(kind, host, &self.dboptions)?;
        Ok(DbConnection {
            kind,
            host: end.host,
            port: end.port,
            socket: end.socket,
            dbname,
            user,
            password: self.dbpass.clone().unwrap_or(PhpValue::Null),
            prefix: self.table_prefix()?,
        })
    }

    /// A setting nosey cannot do without, so both "computed" and "missing" are errors.
    fn required<'a>(
        &self,
        value: &'a Option<String>,
        key: &str,
    ) -> Result<&'a str, ConfigPhpError> {
        if let Some((_, expression)) = self.unsupported.iter().find(|(k, _)| k == key) {
            return Err(computed_error(key, expression));
        }
        match value.as_deref() {
            Some(v) if !v.trim().is_empty() => Ok(v),
            _ => Err(ConfigPhpError::Missing(key.to_string())),
        }
    }

    /// nosey splices the prefix into table names in SQL, so it must be a plain identifier part.
    fn table_prefix(&self) -> Result<String, ConfigPhpError> {
        let prefix = self.prefix.clone().unwrap_or_else(|| "mdl_".to_string());
        if prefix
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_')
        {
            Ok(prefix)
        } else {
            Err(ConfigPhpError::InvalidPrefix(prefix))
        }
    }
}

/// A string literal that interpolates gets its own message: the fix is the same, the cause
/// clearer.
fn computed_error(key: &str, expression: &str) -> ConfigPhpError {
    let (key, expression) = (key.to_string(), expression.to_string());
    match lexer::lex(&expression).as_slice() {
        [t] if t.tok == lexer::Tok::Interp => ConfigPhpError::UsesVariables { key, expression },
        _ => ConfigPhpError::Computed { key, expression },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// Written by Moodle 4.5.6's installer for a PostgreSQL site.
    const PG_REAL: &str = r#"<?php  // Moodle configuration file

unset($CFG);
global $CFG;
$CFG = new stdClass();

$CFG->dbtype    = 'pgsql';
$CFG->dblibrary = 'native';
$CFG->dbhost    = '127.0.0.1';
$CFG->dbname    = 'moodle';
$CFG->dbuser    = 'moodle';
$CFG->dbpass    = 'moodlepass';
$CFG->prefix    = 'mdl_';
$CFG->dboptions = array (
  'dbpersist' => 0,
  'dbport' => 55432,
  'dbsocket' => '',
);

$CFG->wwwroot   = 'http://127.0.0.1:8080';
$CFG->dataroot  = '/var/moodledata';
$CFG->admin     = 'admin';

$CFG->directorypermissions = 02777;

require_once(__DIR__ . '/lib/setup.php');

// There is no php closing tag in this file,
// it is intentional because it prevents trailing whitespace problems!
"#;

    /// Written by Moodle 4.5.6's installer for a MariaDB site.
    const MARIADB_REAL: &str = r#"<?php  // Moodle configuration file

unset($CFG);
global $CFG;
$CFG = new stdClass();

$CFG->dbtype    = 'mariadb';
$CFG->dblibrary = 'native';
$CFG->dbhost    = '127.0.0.1';
$CFG->dbname    = 'moodle';
$CFG->dbuser    = 'moodle';
$CFG->dbpass    = 'moodlepass';
$CFG->prefix    = 'mdl_';
$CFG->dboptions = array (
  'dbpersist' => 0,
  'dbport' => 33307,
  'dbsocket' => '',
  'dbcollation' => 'utf8mb4_unicode_ci',
);

$CFG->wwwroot   = 'http://127.0.0.1:8081';
$CFG->dataroot  = '/var/moodledata';
$CFG->admin     = 'admin';

$CFG->directorypermissions = 02777;

$CFG->noemailever = true;

require_once(__DIR__ . '/lib/setup.php');

// There is no php closing tag in this file,
// it is intentional because it prevents trailing whitespace problems!
"#;

    pub(super) fn parse(text: &str) -> MoodleConfigPhp {
        parse_config_php(text).unwrap()
    }

    /// A minimal config around `body`, for the variants.
    pub(super) fn site(dbtype: &str, body: &str) -> MoodleConfigPhp {
        parse(&format!(
            "<?php\n$CFG->dbtype = '{dbtype}';\n$CFG->dbname = 'moodle';\n$CFG->dbuser = 'moodle';\n{body}\n"
        ))
    }

    pub(super) fn url(config: &MoodleConfigPhp) -> String {
        config.connection().unwrap().url_without_password()
    }

    pub(super) fn str_value(s: &str) -> PhpValue {
        PhpValue::Str(s.to_string())
    }

    #[test]
    fn real_postgres_file() {
        let config = parse(PG_REAL);
        assert_eq!(config.dbtype.as_deref(), Some("pgsql"));
        assert_eq!(config.wwwroot.as_deref(), Some("http://127.0.0.1:8080"));
        assert_eq!(config.dboptions.get("dbpersist"), Some(&PhpValue::Int(0)));
        assert!(config.unsupported.is_empty());
        let db = config.connection().unwrap();
        let expected = DbConnection {
            kind: DbKind::Postgres,
            host: Some("127.0.0.1".into()),
            port: Some(55432),
            socket: None,
            dbname: "moodle".into(),
            user: "moodle".into(),
            password: str_value("moodlepass"),
            prefix: "mdl_".into(),
        };
        assert_eq!(db, expected);
        assert_eq!(
            db.url_without_password(),
            "postgres://moodle@127.0.0.1:55432/moodle"
        );
    }

    #[test]
    fn real_mariadb_file() {
        let config = parse(MARIADB_REAL);
        assert_eq!(config.dbtype.as_deref(), Some("mariadb"));
        assert_eq!(config.wwwroot.as_deref(), Some("http://127.0.0.1:8081"));
        assert_eq!(config.dbpass, Some(str_value("moodlepass")));
        let collation = config.dboptions.get("dbcollation");
        assert_eq!(collation, Some(&str_value("utf8mb4_unicode_ci")));
        let db = config.connection().unwrap();
        assert_eq!(
            (db.kind, db.port, db.socket.as_deref()),
            (DbKind::MySql, Some(33307), None)
        );
        assert_eq!(
            db.url_without_password(),
            "mysql://moodle@127.0.0.1:33307/moodle"
        );
    }

    #[test]
    fn getenv_password_is_reported_not_fatal() {
        let config = site(
            "pgsql",
            "$CFG->dbhost = 'db'; $CFG->dbpass = getenv('DB_PASS');",
        );
        let expr = "getenv('DB_PASS')".to_string();
        assert_eq!(config.dbpass, Some(PhpValue::Unsupported(expr.clone())));
        assert_eq!(config.unsupported, [("dbpass".to_string(), expr.clone())]);
        assert_eq!(
            config.connection().unwrap().password,
            PhpValue::Unsupported(expr)
        );
    }

    #[test]
    fn computed_host_is_an_error() {
        let config = site("pgsql", "$CFG->dbhost = getenv('DB_HOST') ?: 'localhost';");
        assert_eq!(config.dbhost, None);
        let err = config.connection().unwrap_err().to_string();
        let expected = "dbhost is computed by PHP (getenv('DB_HOST') ?: 'localhost'); set it in nosey.toml by hand";
        assert_eq!(err, expected);
        let port = site("pgsql", "$CFG->dboptions['dbport'] = PORT;")
            .connection()
            .unwrap_err();
        assert!(
            port.to_string()
                .starts_with("dboptions['dbport'] is computed by PHP (PORT)")
        );
    }

    #[test]
    fn interpolation_is_an_error() {
        let config = site("pgsql", r#"$CFG->dbhost = "db-$env.example.org";"#);
        let err = config.connection().unwrap_err();
        let expected = ConfigPhpError::UsesVariables {
            key: "dbhost".into(),
            expression: r#""db-$env.example.org""#.into(),
        };
        assert_eq!(err, expected);
        assert!(err.to_string().contains("uses PHP variables"));
        let braces = site("pgsql", r#"$CFG->dbname = "m{$x}";"#);
        assert!(matches!(
            braces.connection(),
            Err(ConfigPhpError::UsesVariables { .. })
        ));
        let escaped = site("pgsql", r#"$CFG->dbpass = "a\$b $ c";"#);
        assert_eq!(escaped.dbpass, Some(str_value("a$b $ c")));
    }

    #[test]
    fn value_accessors() {
        assert_eq!(str_value(" 5433 ").as_int(), Some(5433));
        assert_eq!(str_value("54x").as_int(), None);
        assert_eq!(PhpValue::Bool(true).as_int(), None);
        assert_eq!(str_value("x").as_str(), Some("x"));
        assert_eq!(PhpValue::Int(1).as_str(), None);
        let shown: Vec<_> = [
            str_value("a"),
            PhpValue::Int(-1),
            PhpValue::Bool(true),
            PhpValue::Null,
        ]
        .iter()
        .map(ToString::to_string)
        .collect();
        assert_eq!(shown, ["'a'", "-1", "true", "null"]);
    }

    #[test]
    fn database_kinds() {
        let err = |t: &str| site(t, "").connection().unwrap_err().to_string();
        assert_eq!(
            err("sqlsrv"),
            "nosey reads PostgreSQL, MySQL and MariaDB; this site uses sqlsrv"
        );
        assert_eq!(
            err("oci"),
            "nosey reads PostgreSQL, MySQL and MariaDB; this site uses oci"
        );
        let computed_host = site("oci", "$CFG->dbhost = getenv('H');").connection();
        assert_eq!(
            computed_host,
            Err(ConfigPhpError::UnsupportedDatabase("oci".into()))
        );
        for (dbtype, kind) in [
            ("pgsql", DbKind::Postgres),
            ("mysqli", DbKind::MySql),
            ("auroramysql", DbKind::MySql),
        ] {
            assert_eq!(site(dbtype, "").connection().unwrap().kind, kind);
        }
    }

    #[test]
    fn missing_keys_are_named() {
        let err = parse("<?php $CFG->dbtype = 'pgsql'; $CFG->dbuser = 'u';")
            .connection()
            .unwrap_err();
        assert_eq!(err.to_string(), "config.php does not set $CFG->dbname");
        let err = parse("<?php $CFG->dbname = 'm';").connection().unwrap_err();
        assert_eq!(err, ConfigPhpError::Missing("dbtype".into()));
        let empty = parse("<?php $CFG->dbtype = 'pgsql'; $CFG->dbname = 'm'; $CFG->dbuser = '';");
        assert_eq!(
            empty.connection().unwrap_err(),
            ConfigPhpError::Missing("dbuser".into())
        );
    }

    #[test]
    fn computed_required_settings_are_errors() {
        let config = site("pgsql", "$CFG->dbtype = getenv('T');");
        let expected = ConfigPhpError::Computed {
            key: "dbtype".into(),
            expression: "getenv('T')".into(),
        };
        assert_eq!(config.connection(), Err(expected));
    }

    #[test]
    fn prefixes() {
        let bad = site("pgsql", "$CFG->prefix = 'mdl; drop';").connection();
        assert_eq!(bad, Err(ConfigPhpError::InvalidPrefix("mdl; drop".into())));
        let custom = site("mysqli", "$CFG->prefix = 'Moodle_2';")
            .connection()
            .unwrap();
        assert_eq!(custom.prefix, "Moodle_2");
    }

    #[test]
    fn not_a_moodle_config() {
        for text in [
            "",
            "<?php\necho 'hello';\n",
            "$CFG = new stdClass();",
            "<?php $cfg->dbhost = 'x';",
        ] {
            assert_eq!(
                parse_config_php(text),
                Err(ConfigPhpError::NotMoodleConfig),
                "{text}"
            );
        }
    }

    #[test]
    fn url_parts_are_percent_encoded() {
        let body = "$CFG->dbhost = 'd b';";
        let text = format!(
            "<?php $CFG->dbtype = 'pgsql'; $CFG->dbname = 'my db/é'; $CFG->dbuser = 'a@b:c'; {body}"
        );
        let expected = "postgres://a%40b%3Ac@d%20b/my%20db%2F%C3%A9";
        assert_eq!(
            parse(&text).connection().unwrap().url_without_password(),
            expected
        );
    }

    /// A tenth of the suite's setting: the `other` decoder and the config parser get the
    /// full count (they read untrusted input all day); this one reads one file, once.
    pub(super) fn proptest_cases() -> u32 {
        let env = std::env::var("NOSEY_PROPTEST_CASES").ok();
        env.and_then(|v| v.parse::<u32>().ok())
            .map_or(1000, |n| (n / 10).max(1000))
    }

    /// Runs everything a caller would, so a panic anywhere fails the property.
    fn exercise(text: &str) {
        if let Ok(db) = parse_config_php(text).and_then(|config| config.connection()) {
            let _ = db.url_without_password();
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(proptest_cases()))]

        #[test]
        fn never_panics_on_any_text(text in any::<String>()) {
            exercise(&text);
        }

        #[test]
        fn never_panics_on_php_like_text(text in r#"(\$CFG->|dboptions|\[|\]|\(|\)|=>|=|;|,|'|"|\\|\$|\{|\}|<<<|\?>|<\?php|//|/\*|#|\n| |[a-z0-9_:./-]){0,60}"#) {
            exercise(&text);
        }

        #[test]
        fn never_panics_on_a_cut_real_file(cut in 0..PG_REAL.len(), junk in ".{0,4}") {
            let cut = (0..=cut).rev().find(|i| PG_REAL.is_char_boundary(*i)).unwrap_or(0);
            exercise(&format!("{}{junk}{}", &PG_REAL[..cut], &PG_REAL[cut..]));
        }
    }
}
