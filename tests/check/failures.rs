//! Each failure `nosey check` names, with its fix, its JSON status and the exit code.

use std::path::{Path, PathBuf};

use super::common::Kind;
use super::common::receiver::{Receiver, always, free_port};
use super::{Account, check_json, check_text, item, site_db, status, summary};

/// A configuration for `url` with `moodle` keys added to `[moodle]` and `rest` after it.
pub fn write_config(dir: &Path, url: &str, moodle: &str, rest: &str) -> PathBuf {
    let path = dir.join("nosey.toml");
    let text = format!(
        "[moodle]\nurl = \"{url}\"\n{moodle}\n\n[store]\npath = \"{}\"\n\n{rest}\n",
        dir.join("nosey.db").display()
    );
    std::fs::write(&path, text).unwrap();
    path
}

fn route(name: &str, url: &str, presets: &str) -> String {
    format!("[[route]]\nname = \"{name}\"\nurl = \"{url}\"\npreset = {presets}\n")
}

fn expected_grant(kind: Kind, db: &str, table: &str, user: &str) -> String {
    match kind {
        Kind::Postgres => format!("GRANT SELECT ON {table} TO {user};"),
        Kind::MariaDb => format!("GRANT SELECT ON `{db}`.`{table}` TO '{user}'@'%';"),
    }
}

async fn missing_select(kind: Kind) {
    let db = site_db(kind);
    let account = Account::create(
        &db,
        "nosey_part",
        &["mdl_logstore_standard_log", "mdl_config_plugins"],
    );
    let receiver = Receiver::start(always(200)).await;
    let dir = tempfile::tempdir().unwrap();
    let routes = route(
        "crm",
        &receiver.url("/hook"),
        "[\"enrolled\", \"course_crud\"]",
    );
    let config = write_config(dir.path(), &account.url(), "", &routes);

    let (ok, items) = check_json(&config);
    assert!(!ok, "{}", summary(&items));
    assert_eq!(status(&items, "log table"), "ok");
    assert_eq!(status(&items, "log store"), "ok");
    let readable = item(&items, "route tables")["detail"].as_str().unwrap();
    assert_eq!(readable, "SELECT on mdl_config_plugins");
    let mut fixes = Vec::new();
    for table in ["mdl_course", "mdl_user_enrolments"] {
        let denied = item(&items, &format!("table {table}"));
        assert_eq!(denied["status"], "fail", "{denied}");
        assert!(denied["detail"].as_str().unwrap().contains("route crm"));
        let fix = expected_grant(kind, &db.name, table, &account.name);
        assert_eq!(denied["fix"], fix.as_str());
        fixes.push(fix);
    }
    let (ok, checklist) = check_text(&config);
    assert!(!ok);
    let expected = format!(
        "✗ table mdl_user_enrolments: user '{}' may not read it",
        account.name
    );
    assert!(checklist.contains(&expected), "{checklist}");
    assert!(
        checklist.contains(&format!("\n    fix: {}\n", fixes[1])),
        "{checklist}"
    );
    assert!(!checklist.contains(&account.password), "{checklist}");

    // The fixes, run as printed, are all it takes.
    db.sql(&fixes.join("\n"));
    let (ok, items) = check_json(&config);
    assert!(ok, "{}", summary(&items));
    assert_eq!(status(&items, "route tables"), "ok");
}

#[tokio::test(flavor = "multi_thread")]
async fn missing_select_is_reported_with_the_grant_on_postgres() {
    missing_select(Kind::Postgres).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn missing_select_is_reported_with_the_grant_on_mariadb() {
    missing_select(Kind::MariaDb).await;
}

#[test]
fn a_disabled_log_store_fails() {
    for kind in [Kind::Postgres, Kind::MariaDb] {
        let db = site_db(kind);
        db.sql("UPDATE mdl_config_plugins SET value = '' WHERE plugin = 'tool_log' AND name = 'enabled_stores'");
        let dir = tempfile::tempdir().unwrap();
        let config = write_config(dir.path(), &db.url, "", "");
        let (ok, items) = check_json(&config);
        assert!(!ok);
        let store = item(&items, "log store");
        assert_eq!(store["status"], "fail", "{}", summary(&items));
        let fix = store["fix"].as_str().unwrap();
        assert!(fix.contains("Site administration > Plugins > Logging > Manage log stores"));
        assert!(fix.contains(
            "php admin/cli/cfg.php --component=tool_log --name=enabled_stores --set=logstore_standard"
        ));
        let (_, checklist) = check_text(&config);
        assert!(
            checklist.contains("✗ log store: Moodle's standard log store is not enabled"),
            "{checklist}"
        );
        assert_eq!(status(&items, "receivers"), "warn", "no route is enabled");
    }
}

#[test]
fn a_wrong_prefix_fails_and_skips_what_depends_on_it() {
    let db = site_db(Kind::Postgres);
    let dir = tempfile::tempdir().unwrap();
    let config = write_config(dir.path(), &db.url, "prefix = \"moo_\"", "");
    let (ok, items) = check_json(&config);
    assert!(!ok);
    let log = item(&items, "log table");
    assert_eq!(log["status"], "fail");
    assert_eq!(
        log["detail"],
        "table moo_logstore_standard_log not found: is the prefix 'moo_' right? (Moodle's $CFG->prefix; [moodle] prefix)"
    );
    assert!(
        log["fix"]
            .as_str()
            .unwrap()
            .starts_with("set [moodle] prefix to Moodle's $CFG->prefix")
    );
    for skipped in [
        "route tables",
        "log store",
        "jsonformat",
        "buffersize",
        "logguests",
        "loglifetime",
    ] {
        assert_eq!(status(&items, skipped), "skip", "{skipped}");
    }
    assert_eq!(status(&items, "database"), "ok");
    assert_eq!(status(&items, "store"), "ok");
    let (_, checklist) = check_text(&config);
    assert!(
        checklist.contains("\n    fix: set [moodle] prefix to Moodle's $CFG->prefix"),
        "{checklist}"
    );
}

#[test]
fn an_unreachable_receiver_fails() {
    let db = site_db(Kind::Postgres);
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let routes = route(
        "crm",
        &format!("http://127.0.0.1:{port}/hook?token=abc"),
        "\"enrolled\"",
    );
    let config = write_config(dir.path(), &db.url, "", &routes);
    let (ok, items) = check_json(&config);
    assert!(!ok);
    let receiver = item(&items, "receiver crm");
    assert_eq!(receiver["status"], "fail");
    assert_eq!(
        receiver["detail"],
        format!("http://127.0.0.1:{port}: connection refused: nothing listens there").as_str()
    );
    assert!(
        receiver["fix"]
            .as_str()
            .unwrap()
            .starts_with("is the receiver running? is the url right")
    );
    let failed: Vec<&str> = items
        .iter()
        .filter(|i| i["status"] == "fail")
        .map(|i| i["check"].as_str().unwrap())
        .collect();
    assert_eq!(failed, ["receiver crm"], "{}", summary(&items));
    let (ok, checklist) = check_text(&config);
    assert!(!ok && !checklist.contains("token=abc"), "{checklist}");
    assert!(checklist.contains("\n    fix: is the receiver running?"));
}

#[test]
fn a_wrong_password_fails_without_showing_it() {
    for kind in [Kind::Postgres, Kind::MariaDb] {
        let db = site_db(kind);
        let account = Account::create(&db, "nosey_pw", &["*"]);
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("pw"), "Not-The-Password-42\n").unwrap();
        let mut url = url::Url::parse(&account.url()).unwrap();
        url.set_password(None).unwrap();
        let config = write_config(dir.path(), url.as_str(), "password_file = \"pw\"", "");
        let (ok, items) = check_json(&config);
        assert!(!ok);
        let database = item(&items, "database");
        assert_eq!(database["status"], "fail", "{}", summary(&items));
        assert!(
            database["detail"]
                .as_str()
                .unwrap()
                .contains("the password was refused")
        );
        assert!(
            database["fix"]
                .as_str()
                .unwrap()
                .contains("[moodle] password_file")
        );
        for skipped in ["log table", "route tables", "log store", "loglifetime"] {
            assert_eq!(status(&items, skipped), "skip", "{skipped}");
        }
        let (_, checklist) = check_text(&config);
        assert!(!checklist.contains("Not-The-Password-42"), "{checklist}");
        assert!(checklist.contains("✗ database:"), "{checklist}");
    }
}

#[test]
fn an_unreachable_database_fails() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("postgres://moodle:secret@127.0.0.1:{}/moodle", free_port());
    let config = write_config(dir.path(), &url, "", "");
    let (ok, items) = check_json(&config);
    assert!(!ok);
    let database = item(&items, "database");
    assert!(
        database["detail"]
            .as_str()
            .unwrap()
            .starts_with("cannot reach PostgreSQL at 127.0.0.1:")
    );
    assert!(
        database["fix"]
            .as_str()
            .unwrap()
            .contains("that the database server is running")
    );
    assert!(!serde_json::to_string(&items).unwrap().contains("secret"));
}

#[test]
fn a_configuration_that_does_not_load_fails_first() {
    let dir = tempfile::tempdir().unwrap();
    let (ok, items) = check_json(&dir.path().join("absent.toml"));
    assert!(!ok);
    let first = &items[0];
    assert_eq!(
        (first["check"].as_str(), first["status"].as_str()),
        (Some("configuration"), Some("fail"))
    );
    assert!(
        first["fix"]
            .as_str()
            .unwrap()
            .contains("nosey init --moodle-config")
    );
    assert!(
        items[1..].iter().all(|i| i["status"] == "skip"),
        "{}",
        summary(&items)
    );

    let config = write_config(dir.path(), "postgres://u@h/db", "batch_sise = 5", "");
    let (ok, items) = check_json(&config);
    assert!(!ok);
    assert!(
        items[0]["detail"].as_str().unwrap().contains("batch_sise"),
        "{}",
        summary(&items)
    );
}
