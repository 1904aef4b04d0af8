//! A configuration written by `nosey init` from a `config.php` for the test server passes
//! `nosey check`: first with the site's own database user, then with the read-only user made
//! by exactly the SQL `init` printed.

use std::path::Path;

use super::common::receiver::{Receiver, always};
use super::common::{Kind, TestDb, fixtures};
use super::{Account, admin_port, check_json, check_text, init, site_db, status, summary, text};

/// The fixture's `config.php`, pointed at `db` as `account`.
fn config_php_for(db: &TestDb, account: &Account, dir: &Path) -> std::path::PathBuf {
    let fixture = fixtures().join(db.kind.fixture_dir()).join("config.php");
    let php = std::fs::read_to_string(fixture)
        .unwrap()
        .replace(
            "= 'moodle';\n$CFG->dbuser",
            &format!("= '{}';\n$CFG->dbuser", db.name),
        )
        .replace(
            "$CFG->dbuser    = 'moodle';",
            &format!("$CFG->dbuser = '{}';", account.name),
        )
        .replace("'moodlepass'", &format!("'{}'", account.password))
        .replace("55432", &admin_port(Kind::Postgres).to_string())
        .replace("33307", &admin_port(Kind::MariaDb).to_string());
    assert!(
        php.contains(&db.name) && php.contains(&account.name),
        "{php}"
    );
    let path = dir.join("config.php");
    std::fs::write(&path, php).unwrap();
    path
}

/// Turns the example route `name` on, pointed at `url`.
fn enable_route(config: &Path, name: &str, path: &str, url: &str) {
    let toml = std::fs::read_to_string(config).unwrap();
    let disabled =
        format!("enabled = false\n# url = \"https://your-receiver.example.org{path}\"\n");
    assert!(toml.contains(&format!("name = \"{name}\"")) && toml.contains(&disabled));
    let toml = toml.replacen(&disabled, &format!("url = \"{url}\"\n"), 1);
    std::fs::write(config, toml).unwrap();
}

/// Every item ok or a warning, the receiver reached, and no request sent to it.
fn assert_passes(config: &Path, receiver: &Receiver) -> Vec<serde_json::Value> {
    let (ok, checklist) = check_text(config);
    assert!(ok, "check failed:\n{checklist}");
    assert!(
        checklist.contains("✓ receiver enrolled: http://127.0.0.1:"),
        "{checklist}"
    );
    let (ok, items) = check_json(config);
    assert!(ok);
    let bad: Vec<_> = items
        .iter()
        .filter(|i| !matches!(i["status"].as_str(), Some("ok" | "warn")))
        .collect();
    assert!(bad.is_empty(), "{}", summary(&items));
    assert!(receiver.hits().is_empty(), "check must send no request");
    items
}

/// The statements `init` printed, for a user named `user` instead of `nosey` (accounts are
/// server-wide, and tests run in parallel).
fn printed_sql(stdout: &str, kind: Kind, user: &str) -> Vec<String> {
    // Only the user's name changes: the test database's name also starts with "nosey".
    let rename = |l: &str| match kind {
        Kind::Postgres => l
            .replace("ROLE nosey ", &format!("ROLE {user} "))
            .replace("TO nosey;", &format!("TO {user};")),
        Kind::MariaDb => l.replace("'nosey'", &format!("'{user}'")),
    };
    let statements: Vec<String> = stdout
        .lines()
        .map(str::trim)
        .filter(|l| {
            l.ends_with(';')
                && (l.starts_with("CREATE ") || l.starts_with("GRANT ") || l.starts_with("ALTER "))
        })
        .map(rename)
        .collect();
    assert!(statements.len() >= 2, "{stdout}");
    statements
}

/// The generated password from the printed CREATE statement.
fn printed_password(statements: &[String]) -> String {
    let create = &statements[0];
    let start = create
        .find("PASSWORD '")
        .or_else(|| create.find("BY '"))
        .unwrap();
    let rest = &create[create[start..].find('\'').unwrap() + start + 1..];
    rest[..rest.find('\'').unwrap()].to_string()
}

async fn generated_config_passes(kind: Kind) {
    let db = site_db(kind);
    let moodle_user = Account::create(&db, "moodle_site", &["*"]);
    let dir = tempfile::tempdir().unwrap();
    let out = init(
        &config_php_for(&db, &moodle_user, dir.path()),
        dir.path(),
        &[],
    );
    let stdout = text(&out.stdout);
    assert!(out.status.success(), "{stdout}{}", text(&out.stderr));
    assert!(!stdout.contains(&moodle_user.password), "{stdout}");
    let config = dir.path().join("nosey.toml");
    let receiver = Receiver::start(always(200)).await;
    enable_route(&config, "enrolled", "/enrolled", &receiver.url("/enrolled"));
    let items = assert_passes(&config, &receiver);
    assert!(
        super::item(&items, "database")["detail"]
            .as_str()
            .unwrap()
            .contains(&format!("user '{}'", moodle_user.name))
    );
    assert_eq!(status(&items, "route tables"), "ok");
    assert_eq!(status(&items, "log store"), "ok");
    assert_eq!(
        status(&items, "buffersize"),
        "warn",
        "the fixture site keeps Moodle's 50"
    );

    // The read-only user, made by the printed SQL, then switched to as init says.
    let readonly = Account::adopt(&db, &super::unique_name("nosey_ro"));
    let statements = printed_sql(&stdout, kind, &readonly.name);
    db.sql(&statements.join("\n"));
    std::fs::write(
        dir.path().join("nosey-db-password"),
        printed_password(&statements),
    )
    .unwrap();
    let toml = std::fs::read_to_string(&config).unwrap().replacen(
        &format!("://{}@", moodle_user.name),
        &format!("://{}@", readonly.name),
        1,
    );
    std::fs::write(&config, toml).unwrap();
    let items = assert_passes(&config, &receiver);
    assert!(
        super::item(&items, "database")["detail"]
            .as_str()
            .unwrap()
            .contains(&format!("user '{}'", readonly.name)),
        "{}",
        summary(&items)
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn generated_config_passes_check_on_postgres() {
    generated_config_passes(Kind::Postgres).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn generated_config_passes_check_on_mariadb() {
    generated_config_passes(Kind::MariaDb).await;
}
