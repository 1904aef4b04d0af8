//! Signatures checked by two verifiers nosey did not write: the Rust `standardwebhooks` crate
//! and the PyPI `standardwebhooks` package, during key rotation, with tampering rejected.

mod common;

use std::io::BufRead;
use std::process::{Command, Stdio};
use std::time::Duration;

use common::receiver::{Receiver, always, free_port};
use common::run::Nosey;
use common::{Kind, TestDb, insert_log_sql};
use serde_json::{Value, json};

const OLD: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
const NEW: &str = "whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD";

fn event(course: i64) -> Value {
    json!({
        "eventname": r"\core\event\course_updated", "component": "core", "action": "updated",
        "target": "course", "objecttable": "course", "objectid": course, "crud": "u",
        "edulevel": 1, "contextid": 1, "contextlevel": 50, "contextinstanceid": course,
        "userid": 2, "courseid": course, "relateduserid": null, "anonymous": 0,
        "other": "{\"shortname\":\"Café / 123\"}", "timecreated": 1_795_700_000,
        "origin": "web", "ip": "10.0.0.1", "realuserid": null
    })
}

fn live_db() -> TestDb {
    let db = TestDb::with_schema(Kind::Postgres);
    db.sql(&insert_log_sql(Kind::Postgres, &[&event(0)], false));
    db
}

#[tokio::test]
async fn the_rust_standardwebhooks_crate_verifies_during_rotation() {
    let db = live_db();
    let rx = Receiver::start(always(200)).await;
    let routes = format!(
        "[[route]]\nname = \"signed\"\nurl = \"{}\"\nevents = ['\\core\\event\\course_*']\n\
         secrets = [\"{OLD}\", \"{NEW}\"]\n",
        rx.url("/s")
    );
    let _nosey = Nosey::start(&db, &routes, &[]);
    tokio::time::sleep(Duration::from_millis(500)).await;
    db.exec(&insert_log_sql(
        Kind::Postgres,
        &[&event(1), &event(2)],
        false,
    ))
    .await;
    let hits = rx.wait_for(2, 15).await;
    for hit in &hits {
        for secret in [OLD, NEW] {
            let wh = standardwebhooks::Webhook::new(secret).unwrap();
            wh.verify(&hit.body, &hit.headers)
                .unwrap_or_else(|e| panic!("{secret} does not verify: {e:?}"));
            let mut tampered = hit.body.to_vec();
            tampered.push(b' ');
            assert!(
                wh.verify(&tampered, &hit.headers).is_err(),
                "tampering detected"
            );
        }
        let other =
            standardwebhooks::Webhook::new("whsec_aGVsbG8td29ybGQtaGVsbG8td29ybGQ=").unwrap();
        assert!(
            other.verify(&hit.body, &hit.headers).is_err(),
            "a wrong secret fails"
        );
    }
}

#[tokio::test]
async fn the_pypi_standardwebhooks_package_verifies_during_rotation() {
    let db = live_db();
    let port = free_port();
    let script = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/support/verify_receiver.py"
    );
    let mut py = KillOnDrop(
        Command::new("python3")
            .args([script, &port.to_string(), OLD, NEW])
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("python3"),
    );
    let mut lines = std::io::BufReader::new(py.0.stdout.take().unwrap()).lines();
    let ready: Value = serde_json::from_str(&lines.next().unwrap().unwrap())
        .expect("the PyPI standardwebhooks package is installed (scripts/test.sh installs it)");
    assert_eq!(ready["listening"], port);
    let routes = format!(
        "[[route]]\nname = \"py\"\nurl = \"http://127.0.0.1:{port}/hook\"\nevents = ['\\core\\event\\course_*']\n\
         secrets = [\"{OLD}\", \"{NEW}\"]\nformat = \"cloudevents\"\n"
    );
    let _nosey = Nosey::start(&db, &routes, &[]);
    tokio::time::sleep(Duration::from_millis(500)).await;
    db.exec(&insert_log_sql(
        Kind::Postgres,
        &[&event(1), &event(2), &event(3)],
        false,
    ))
    .await;
    let reader = std::thread::spawn(move || {
        (0..3)
            .map(|_| serde_json::from_str::<Value>(&lines.next().unwrap().unwrap()).unwrap())
            .collect::<Vec<_>>()
    });
    let results = tokio::task::spawn_blocking(move || reader.join().unwrap())
        .await
        .unwrap();
    drop(py);
    for r in &results {
        assert_eq!(r["valid"], json!([true, true]), "{r}");
        assert_eq!(r["tampered_rejected"], json!([true, true]), "{r}");
    }
}

/// Stops the Python receiver however the test ends.
struct KillOnDrop(std::process::Child);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}
