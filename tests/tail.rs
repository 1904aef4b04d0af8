//! `nosey tail` as a real subprocess: typed records on both databases, redaction, the copy
//! of a deleted enrolment, hostile `objecttable` names, and `other` that cannot be decoded.

mod common;

use common::{Kind, Proc, TestDb, fixtures, insert_log_sql};
use serde_json::{Value, json};

fn log_row(eventname: &str, table: &str, objectid: i64, other: Value) -> Value {
    json!({
        "eventname": eventname, "component": "core", "action": "updated", "target": "x",
        "objecttable": table, "objectid": objectid, "crud": "u", "edulevel": 0,
        "contextid": 1, "contextlevel": 10, "contextinstanceid": 0, "userid": 2,
        "courseid": 0, "relateduserid": null, "anonymous": 0, "other": other,
        "timecreated": 1_795_700_000, "origin": "web", "ip": "10.1.2.3", "realuserid": null
    })
}

/// A database with the fixture site loaded (users, the site course) and its log emptied of
/// the run, plus `setup` SQL.
fn site(kind: Kind, setup: &str) -> TestDb {
    let db = TestDb::with_schema(kind);
    let run = if kind == Kind::Postgres {
        "pg/cli-run"
    } else {
        "mariadb/cli-run"
    };
    db.load_file(&fixtures().join(run).join("tables-after.sql"));
    if !setup.is_empty() {
        db.sql(setup);
    }
    db
}

/// Inserts `rows`, runs `nosey tail --from beginning --no-follow` with `extra` arguments, and
/// returns the bodies and what nosey wrote on stderr.
async fn tail(db: &TestDb, rows: &[Value], extra: &[&str]) -> (Vec<Value>, String) {
    db.sql("DELETE FROM mdl_logstore_standard_log");
    let refs: Vec<&Value> = rows.iter().collect();
    db.exec(&insert_log_sql(db.kind, &refs, false)).await;
    let dir = tempfile::tempdir().unwrap();
    let config = common::write_config(dir.path(), &db.url, "");
    let mut args = vec![
        "--config",
        config.to_str().unwrap(),
        "tail",
        "--from",
        "beginning",
        "--no-follow",
    ];
    args.extend_from_slice(extra);
    let mut p = Proc::spawn(&args, &dir.path().join("stderr.log"));
    let lines = p.rest(30);
    assert!(p.wait(10).success(), "tail failed: {}", p.stderr());
    let bodies = lines
        .iter()
        .map(|l| serde_json::from_str(l).expect("each line is JSON"))
        .collect();
    (bodies, p.stderr())
}

async fn typed_records(kind: Kind) {
    let blob_table = match kind {
        Kind::Postgres => {
            "CREATE TABLE mdl_nosey_blob (id BIGINT PRIMARY KEY, data BYTEA, note TEXT); \
             INSERT INTO mdl_nosey_blob VALUES (1, '\\x00ff41'::bytea, 'x');"
        }
        Kind::MariaDb => {
            "CREATE TABLE mdl_nosey_blob (id BIGINT PRIMARY KEY, data LONGBLOB, note LONGTEXT); \
             INSERT INTO mdl_nosey_blob VALUES (1, X'00ff41', 'x');"
        }
    };
    let db = site(
        kind,
        &format!(
            "{blob_table} INSERT INTO mdl_enrol (id, enrol, status, courseid, password, customdec1, customchar1) \
             VALUES (7, 'self', 0, 1, 'enrolkey-secret', 85.5, '0042'); \
             UPDATE mdl_user SET password = 'hash-secret', secret = 'resetseed', lastip = '192.0.2.7' WHERE id = 3"
        ),
    );
    let ue = json!({"userenrolment": {"id": "9", "status": "0", "enrolid": "7", "userid": "4",
        "timestart": "0", "timeend": "0", "modifierid": "2", "timecreated": "1795624496",
        "timemodified": "1795624496", "courseid": "1", "enrol": "self", "lastenrol": true},
        "enrol": "self"});
    let rows = [
        log_row(r"\core\event\user_updated", "user", 3, json!("null")),
        log_row(r"\core\event\course_updated", "course", 1, json!("null")),
        log_row(
            r"\core\event\enrol_instance_updated",
            "enrol",
            7,
            json!("null"),
        ),
        log_row(
            r"\local_x\event\blob_changed",
            "nosey_blob",
            1,
            json!("null"),
        ),
        log_row(
            r"\core\event\user_enrolment_deleted",
            "user_enrolments",
            9,
            json!(ue.to_string()),
        ),
    ];
    let (bodies, stderr) = tail(&db, &rows, &[]).await;
    assert_eq!(bodies.len(), 5, "{stderr}");
    let raw: Vec<String> = bodies.iter().map(Value::to_string).collect();

    let user = &bodies[0]["record"];
    assert_eq!(bodies[0]["meta"]["record_state"], "current");
    assert_eq!(user["id"], 3);
    assert_eq!(user["idnumber"], "12345", "text stays text");
    for secret in ["password", "secret", "lastip"] {
        assert!(user.get(secret).is_none(), "{secret} must never leave");
    }
    for s in ["hash-secret", "resetseed", "192.0.2.7", "enrolkey-secret"] {
        assert!(!raw.iter().any(|b| b.contains(s)), "{s} leaked");
    }
    let course = &bodies[1]["record"];
    assert_eq!(course["id"], 1);
    assert!(course["shortname"].is_string());
    assert_eq!(
        course["visible"], 1,
        "TINYINT(1) is an integer, never a boolean"
    );

    let enrol = &bodies[2]["record"];
    assert!(enrol.get("password").is_none());
    assert_eq!(enrol["customchar1"], "0042");
    assert!(
        raw[2].contains("\"customdec1\":85.5000000"),
        "decimals keep their exact digits: {}",
        raw[2]
    );
    let blob = &bodies[3]["record"];
    assert_eq!(blob["data"], "AP9B", "binary as base64");
    assert_eq!(blob["note"], "x");

    assert_eq!(bodies[4]["meta"]["record_state"], "from_event");
    assert_eq!(bodies[4]["record"]["id"], 9);
    assert_eq!(bodies[4]["record"]["enrolid"], 7);
    assert_eq!(bodies[4]["record"]["enrol"], "self");
}

#[tokio::test]
async fn typed_records_postgres() {
    typed_records(Kind::Postgres).await;
}

#[tokio::test]
async fn typed_records_mariadb() {
    typed_records(Kind::MariaDb).await;
}

async fn hostile_names(kind: Kind) {
    let db = site(kind, "");
    let mut rows = Vec::new();
    for name in ["course; DROP TABLE mdl_course", "../x", "nosuchtable"] {
        rows.push(log_row(r"\local_evil\event\x", name, 1, json!("null")));
        rows.push(log_row(r"\local_evil\event\x", name, 2, json!("null")));
    }
    rows.push(log_row(
        r"\core\event\course_updated",
        "course",
        1,
        json!("null"),
    ));
    let (bodies, stderr) = tail(&db, &rows, &[]).await;
    assert_eq!(bodies.len(), 7, "{stderr}");
    for b in &bodies[..6] {
        assert_eq!(b["record"], false);
        assert_eq!(b["meta"]["record_state"], "missing");
    }
    assert_eq!(bodies[6]["record"]["id"], 1, "mdl_course is still there");
    for name in ["course; DROP TABLE mdl_course", "../x", "nosuchtable"] {
        let warnings = stderr
            .lines()
            .filter(|l| l.contains("WARN") && l.contains(&format!("'{name}'")))
            .count();
        assert_eq!(warnings, 1, "{name} warned once:\n{stderr}");
    }
}

#[tokio::test]
async fn hostile_objecttables_are_never_queried_postgres() {
    hostile_names(Kind::Postgres).await;
}

#[tokio::test]
async fn hostile_objecttables_are_never_queried_mariadb() {
    hostile_names(Kind::MariaDb).await;
}

#[tokio::test]
async fn undecodable_other_still_gives_events() {
    let db = site(Kind::Postgres, "");
    let big_json = json!({ "blob": "é".repeat(512 * 1024) }).to_string();
    let others = [
        "a:2:{s:9:\"shortname\";s:3:\"12".to_string(), // truncated serialize
        "{\"a\":".to_string(),                         // invalid JSON
        "0".to_string(),                               // Moodle's json_encode failure
        big_json.clone(),                              // 1 MB
        "a:1:{s:1:\"k\";i:5;}".to_string(),            // fine, after the bad ones
    ];
    let rows: Vec<Value> = others
        .iter()
        .map(|o| log_row(r"\core\event\course_viewed", "course", 1, json!(o)))
        .collect();
    let (bodies, stderr) = tail(&db, &rows, &["--no-record"]).await;
    assert_eq!(bodies.len(), 5, "{stderr}");
    assert_eq!(bodies[0]["event"]["other"], others[0].as_str());
    assert_eq!(bodies[1]["event"]["other"], "{\"a\":");
    assert_eq!(bodies[2]["event"]["other"], 0);
    assert_eq!(
        bodies[3]["event"]["other"]["blob"].as_str().unwrap().len(),
        1024 * 1024
    );
    assert_eq!(bodies[4]["event"]["other"], json!({"k": 5}));
    assert_eq!(bodies[0]["record"], Value::Null);
    assert_eq!(bodies[0]["meta"]["record_state"], "skipped");
    assert_eq!(
        stderr
            .lines()
            .filter(|l| l.contains("WARN") && l.contains("other"))
            .count(),
        3,
        "one warning per undecodable row:\n{stderr}"
    );
}

/// Anonymous events never reveal their user, in any format.
#[tokio::test]
async fn anonymous_events_hide_the_user() {
    let db = site(Kind::MariaDb, "");
    let mut row = log_row(
        r"\mod_feedback\event\response_submitted",
        "nosuchtable",
        1,
        json!("null"),
    );
    row["anonymous"] = json!(1);
    row["relateduserid"] = json!(4);
    for format in ["nosey", "seed", "cloudevents"] {
        let (bodies, _) = tail(&db, std::slice::from_ref(&row), &["--format", format]).await;
        let event = if format == "cloudevents" {
            &bodies[0]["data"]["event"]
        } else {
            &bodies[0]["event"]
        };
        assert_eq!(event["userid"], 0, "{format}");
        assert_eq!(event["relateduserid"], Value::Null, "{format}");
    }
}

/// `nosey events --site` counts what the site emitted, plugins' events included; the settings
/// nosey reads from config_plugins are the fixture site's.
#[tokio::test]
async fn events_site_counts_and_settings() {
    for kind in [Kind::Postgres, Kind::MariaDb] {
        let db = site(kind, "");
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs() as i64;
        db.sql(&format!(
            "UPDATE mdl_logstore_standard_log SET timecreated = {now} WHERE id > 40; \
             UPDATE mdl_logstore_standard_log SET timecreated = {} WHERE id <= 40",
            now - 10 * 86_400
        ));
        let dir = tempfile::tempdir().unwrap();
        let config = common::write_config(dir.path(), &db.url, "");
        let out = std::process::Command::new(common::nosey_bin())
            .args([
                "--config",
                config.to_str().unwrap(),
                "events",
                "--site",
                "--days",
                "1",
                "--json",
            ])
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let rows: Vec<Value> = serde_json::from_slice(&out.stdout).unwrap();
        let count = |name: &str| {
            rows.iter()
                .find(|r| r["eventname"] == name)
                .map(|r| r["count"].as_i64().unwrap())
        };
        let total: i64 = rows.iter().map(|r| r["count"].as_i64().unwrap()).sum();
        assert_eq!(total, 20, "{kind:?}: ids 41..=60");
        assert_eq!(count(r"\core\event\course_deleted"), Some(1), "{kind:?}");
        assert_eq!(
            count(r"\core\event\user_loggedin"),
            Some(0),
            "catalogued, not seen"
        );
        assert!(
            rows.iter()
                .any(|r| r["eventname"] == r"\tool_recyclebin\event\category_bin_item_created"),
            "a plugin's event is listed"
        );

        let moodle = nosey::moodle::MoodleDb::connect(&db.url, "mdl_", "logstore_standard_log")
            .await
            .unwrap();
        let s = nosey::moodle::settings::read(&moodle).await.unwrap();
        assert!(s.standard_store_enabled());
        assert!(s.jsonformat);
        assert_eq!(s.buffersize, 50);
        assert_eq!(s.warnings().len(), 1, "buffersize 50 is worth a warning");
    }
}
