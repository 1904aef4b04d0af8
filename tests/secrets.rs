//! Secrets never leave: database passwords, signing secrets, bearer tokens, basic passwords
//! and header values appear in nothing nosey prints or stores, even when a receiver echoes
//! them back; Moodle's own secrets (`user.password`, `user.secret`, `user.lastip`,
//! `enrol.password`) are redacted in every format.

mod common;

use std::process::Output;
use std::sync::Arc;
use std::time::Duration;

use common::receiver::{Receiver, Reply, always};
use common::run::Nosey;
use common::{Kind, TestDb, fixtures, insert_log_sql};
use serde_json::{Value, json};

const DB_PASSWORD: &str = "DbPass-S3cret-7c1f";
const BEARER: &str = "Bearer-T0ken-9f8e7d";
const HEADER_VALUE: &str = "HeaderVal-5ecret-aa";
const BASIC_PASSWORD: &str = "BasicPw-S3cret-42";
const SIGNING: &str = "whsec_U2VjcmV0LXNpZ25pbmcta2V5LWZvci1ub3NleS10ZXN0cw==";
const MOODLE_SECRETS: [&str; 4] = [
    "UserHash-S3cret",
    "ResetSeedS3cret",
    "203.0.113.77",
    "EnrolKey-S3cret",
];

fn event(name: &str, table: &str, id: i64) -> Value {
    json!({
        "eventname": format!(r"\core\event\{name}"), "component": "core", "action": "updated",
        "target": "x", "objecttable": table, "objectid": id, "crud": "u", "edulevel": 0,
        "contextid": 1, "contextlevel": 10, "contextinstanceid": 0, "userid": 2,
        "courseid": 1, "relateduserid": null, "anonymous": 0, "other": "null",
        "timecreated": 1_795_700_000, "origin": "web", "ip": "10.1.2.3", "realuserid": null
    })
}

fn text(out: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

fn assert_clean(what: &str, haystack: &[u8]) {
    let hay = String::from_utf8_lossy(haystack);
    let mut all = vec![DB_PASSWORD, BEARER, HEADER_VALUE, BASIC_PASSWORD, SIGNING];
    all.extend(MOODLE_SECRETS);
    for s in all {
        assert!(!hay.contains(s), "{what} contains the secret {s:?}");
    }
}

#[tokio::test]
async fn no_secret_in_logs_errors_output_or_store() {
    let db = TestDb::with_schema(Kind::Postgres);
    db.load_file(&fixtures().join("pg/cli-run/tables-after.sql"));
    let role = format!("sec_{}", db.name);
    db.sql(&format!(
        "CREATE ROLE {role} LOGIN PASSWORD '{DB_PASSWORD}'; \
         GRANT SELECT ON ALL TABLES IN SCHEMA public TO {role}; \
         UPDATE mdl_user SET password = 'UserHash-S3cret', secret = 'ResetSeedS3cret', lastip = '203.0.113.77' WHERE id = 3; \
         INSERT INTO mdl_enrol (id, enrol, courseid, password) VALUES (7, 'self', 1, 'EnrolKey-S3cret')"
    ));
    db.sql("DELETE FROM mdl_logstore_standard_log");
    db.exec(&insert_log_sql(
        Kind::Postgres,
        &[&event("course_viewed", "course", 1)],
        false,
    ))
    .await;

    // A careless receiver echoes the request headers back, with a failure status.
    let echo = Receiver::start(Arc::new(|_, _| Reply::Echo(401))).await;
    let ok = Receiver::start(always(200)).await;
    let mut url = url::Url::parse(&db.url).unwrap();
    url.set_username(&role).unwrap();
    url.set_password(None).unwrap();
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("db-password"), DB_PASSWORD).unwrap();
    let routes = format!(
        "[[route]]\nname = \"echo\"\nurl = \"{}\"\nevents = ['*']\nauth = {{ bearer = \"{BEARER}\" }}\n\
         headers = {{ \"X-Api-Key\" = \"{HEADER_VALUE}\" }}\nsecrets = [\"{SIGNING}\"]\n\
         retry = {{ schedule = [\"50ms\"] }}\n\n\
         [[route]]\nname = \"basic\"\nurl = \"{}\"\nevents = ['*']\nformat = \"seed\"\n\
         auth = {{ basic = {{ username = \"moodle\", password = \"{BASIC_PASSWORD}\" }} }}\n\n\
         [[route]]\nname = \"ce\"\nurl = \"{}\"\nevents = ['*']\nformat = \"cloudevents\"\n",
        echo.url("/e"),
        ok.url("/b"),
        ok.url("/c")
    );
    let moodle = format!(
        "url = \"{url}\"\npassword_file = \"{}\"",
        dir.path().join("db-password").display()
    );
    let mut nosey = Nosey::start_moodle(&moodle, &routes, &[("NOSEY_LOG", "debug")]);
    tokio::time::sleep(Duration::from_millis(700)).await;
    db.exec(&insert_log_sql(
        Kind::Postgres,
        &[
            &event("user_updated", "user", 3),
            &event("enrol_instance_updated", "enrol", 7),
        ],
        false,
    ))
    .await;
    ok.wait_for(4, 15).await;
    echo.wait_for(4, 15).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert!(nosey.stop().success(), "{}", nosey.stderr());

    // Receivers got the auth (that is its purpose) but no Moodle secret in any format.
    for hit in echo.hits().iter().chain(ok.hits().iter()) {
        assert_clean("a delivered body", &hit.body);
    }
    let mut outputs = vec![("nosey run's log".to_string(), nosey.stderr().into_bytes())];
    for args in [
        vec!["deliveries", "list"],
        vec!["deliveries", "list", "--json"],
        vec!["routes", "list"],
        vec!["events", "--site"],
    ] {
        outputs.push((args.join(" "), text(&nosey.cli(&args)).into_bytes()));
    }
    for d in nosey.deliveries(&[]) {
        let id = d["id"].as_str().unwrap();
        for json in [false, true] {
            let mut args = vec!["deliveries", "show", id];
            if json {
                args.push("--json");
            }
            let out = nosey.cli(&args);
            assert!(out.status.success());
            outputs.push((args.join(" "), text(&out).into_bytes()));
        }
    }
    let show = nosey.cli(&["deliveries", "list", "--route", "echo", "--json"]);
    assert!(String::from_utf8_lossy(&show.stdout).contains("\"status\":\"dead\""));
    for format in ["nosey", "seed", "cloudevents"] {
        let out = nosey.cli(&[
            "tail",
            "--from",
            "beginning",
            "--no-follow",
            "--format",
            format,
        ]);
        assert!(out.status.success(), "{}", text(&out));
        assert!(
            String::from_utf8_lossy(&out.stdout).contains("\"idnumber\""),
            "records present"
        );
        outputs.push((format!("tail --format {format}"), text(&out).into_bytes()));
    }
    for f in ["nosey.db", "nosey.db-wal"] {
        if let Ok(bytes) = std::fs::read(nosey.dir.path().join(f)) {
            outputs.push((format!("the store ({f})"), bytes));
        }
    }

    // A wrong database password: the error names the user, never a password.
    std::fs::write(dir.path().join("db-password"), "Wrong-DbPass-S3cret").unwrap();
    let out = nosey.cli(&["tail", "--no-follow"]);
    assert!(!out.status.success());
    let err = text(&out);
    assert!(err.contains("password was refused"), "{err}");
    assert!(!err.contains("Wrong-DbPass-S3cret"), "{err}");
    outputs.push(("tail with a wrong password".into(), err.into_bytes()));

    for (what, bytes) in &outputs {
        assert_clean(what, bytes);
    }
}
