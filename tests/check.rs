//! `nosey init` and `nosey check` as real subprocesses, against real databases, real HTTP
//! and TLS receivers, and Moodle's real `config.php` files.
//!
//! The cases live in `tests/check/`: `init` (writing the configuration), `site` (a generated
//! configuration passing every check, with Moodle's user and with the read-only user whose
//! SQL `init` prints), `failures` (each failure `check` names, with its fix), `state` (the
//! store, the lag and dead deliveries) and `tls` (handshakes without a request).

mod common;

#[path = "check/failures.rs"]
mod failures;
#[path = "check/init.rs"]
mod init;
#[path = "check/site.rs"]
mod site;
#[path = "check/state.rs"]
mod state;
#[path = "check/tls.rs"]
mod tls;

use std::path::Path;
use std::process::{Command, Output};
use std::sync::atomic::{AtomicUsize, Ordering};

use common::{Kind, TestDb, fixtures, nosey_bin};
use serde_json::Value;

/// Runs nosey with `args`.
pub fn nosey(args: &[&str]) -> Output {
    Command::new(nosey_bin())
        .args(args)
        .env("NO_COLOR", "1")
        .env_remove("NOSEY_CONFIG")
        .output()
        .expect("run nosey")
}

pub fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// `nosey init` for `config_php`, writing `nosey.toml` into `dir`. The store is always put in
/// `dir`, so a test run as root never touches /var/lib/nosey.
pub fn init(config_php: &Path, dir: &Path, extra: &[&str]) -> Output {
    let output = dir.join("nosey.toml");
    let store = dir.join("nosey.db");
    let mut args = vec![
        "init",
        "--moodle-config",
        config_php.to_str().unwrap(),
        "--output",
        output.to_str().unwrap(),
        "--store",
        store.to_str().unwrap(),
    ];
    args.extend_from_slice(extra);
    nosey(&args)
}

/// `nosey check --json`: whether it exited 0, and the items.
pub fn check_json(config: &Path) -> (bool, Vec<Value>) {
    let out = nosey(&["--config", config.to_str().unwrap(), "check", "--json"]);
    let items: Vec<Value> = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "check --json printed no JSON ({e}):\n{}\n{}",
            text(&out.stdout),
            text(&out.stderr)
        )
    });
    for i in &items {
        let keys: Vec<&str> = i.as_object().unwrap().keys().map(String::as_str).collect();
        assert_eq!(keys, ["check", "status", "detail", "fix"], "{i}");
    }
    (out.status.success(), items)
}

/// `nosey check`: whether it exited 0, and the checklist.
pub fn check_text(config: &Path) -> (bool, String) {
    let out = nosey(&["--config", config.to_str().unwrap(), "check"]);
    (out.status.success(), text(&out.stdout))
}

/// The item named `check`; panics with the whole list when there is none.
pub fn item<'a>(items: &'a [Value], check: &str) -> &'a Value {
    items
        .iter()
        .find(|i| i["check"] == check)
        .unwrap_or_else(|| panic!("no item {check:?} in {items:#?}"))
}

pub fn status<'a>(items: &'a [Value], check: &str) -> &'a str {
    item(items, check)["status"].as_str().unwrap()
}

/// Every item's check and status, for assertion messages.
pub fn summary(items: &[Value]) -> String {
    items
        .iter()
        .map(|i| {
            format!(
                "{} {}: {} | {}",
                i["status"], i["check"], i["detail"], i["fix"]
            )
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// Moodle's fixture site: the real schema with the data as it was after the CLI run.
pub fn site_db(kind: Kind) -> TestDb {
    let db = TestDb::with_schema(kind);
    let run = match kind {
        Kind::Postgres => "pg/cli-run",
        Kind::MariaDb => "mariadb/cli-run",
    };
    db.load_file(&fixtures().join(run).join("tables-after.sql"));
    db
}

static ACCOUNTS: AtomicUsize = AtomicUsize::new(0);

/// A name no other test (or test run) uses for a server-wide account.
pub fn unique_name(prefix: &str) -> String {
    format!(
        "{prefix}_{}_{}_{}",
        std::process::id(),
        ACCOUNTS.fetch_add(1, Ordering::SeqCst),
        rand::random::<u16>()
    )
}

/// A database account that lives as long as the value: accounts are server-wide, so each
/// test makes its own and drops it, even when the test fails.
pub struct Account<'a> {
    db: &'a TestDb,
    pub name: String,
    pub password: String,
}

impl<'a> Account<'a> {
    /// A login with a password of its own and SELECT on `tables` (full names; `*` = all).
    pub fn create(db: &'a TestDb, prefix: &str, tables: &[&str]) -> Account<'a> {
        let mut account = Account::adopt(db, &unique_name(prefix));
        account.password = format!("Pw-{:08x}", rand::random::<u32>());
        let create = match db.kind {
            Kind::Postgres => format!(
                "CREATE ROLE {} LOGIN PASSWORD '{}'",
                account.name, account.password
            ),
            Kind::MariaDb => format!(
                "CREATE USER '{}'@'%' IDENTIFIED BY '{}'",
                account.name, account.password
            ),
        };
        db.sql(&create);
        for table in tables {
            account.grant(table);
        }
        account
    }

    /// An account something else creates; only its cleanup is ours.
    pub fn adopt(db: &'a TestDb, name: &str) -> Account<'a> {
        Account {
            db,
            name: name.to_string(),
            password: String::new(),
        }
    }

    pub fn grant(&self, table: &str) {
        let sql = match (self.db.kind, table) {
            (Kind::Postgres, "*") => format!(
                "GRANT SELECT ON ALL TABLES IN SCHEMA public TO {}",
                self.name
            ),
            (Kind::Postgres, t) => format!("GRANT SELECT ON {t} TO {}", self.name),
            (Kind::MariaDb, t) => {
                format!(
                    "GRANT SELECT ON `{}`.{t} TO '{}'@'%'",
                    self.db.name, self.name
                )
            }
        };
        self.db.sql(&sql);
    }

    /// The test database's URL with this account's name and password.
    pub fn url(&self) -> String {
        let mut url = url::Url::parse(&self.db.url).unwrap();
        url.set_username(&self.name).unwrap();
        url.set_password(Some(&self.password)).unwrap();
        url.to_string()
    }
}

impl Drop for Account<'_> {
    fn drop(&mut self) {
        let sql = match self.db.kind {
            Kind::Postgres => format!("DROP OWNED BY {0}; DROP ROLE IF EXISTS {0}", self.name),
            Kind::MariaDb => format!("DROP USER IF EXISTS '{}'@'%'", self.name),
        };
        // Never panic in drop: a failed cleanup must not hide the test's own result.
        let _ = self.db.try_sql(&sql);
    }
}

/// The port of a test server's admin URL.
pub fn admin_port(kind: Kind) -> u16 {
    let var = match kind {
        Kind::Postgres => "NOSEY_TEST_PG_ADMIN_URL",
        Kind::MariaDb => "NOSEY_TEST_MYSQL_ADMIN_URL",
    };
    let url = std::env::var(var).unwrap_or_else(|_| panic!("{var} is not set"));
    url::Url::parse(&url).unwrap().port().unwrap()
}
