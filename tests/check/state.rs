//! nosey's own side: a store that cannot be written, how far behind nosey is against
//! `loglifetime`, and dead deliveries.

use nosey::moodle::Cursor;
use nosey::moodle::tailer::now_ms;
use nosey::store::{AttemptRecord, BatchWrite, NewDelivery, Outcome, SqliteStore, Store};

use super::common::Kind;
use super::failures::write_config;
use super::{check_json, item, site_db, status, summary};

#[test]
fn a_store_that_cannot_be_written_fails() {
    let db = site_db(Kind::Postgres);
    let dir = tempfile::tempdir().unwrap();
    // A file where the store's folder should be: neither root nor anyone can create it.
    std::fs::write(dir.path().join("blocker"), "").unwrap();
    let config = write_config(dir.path(), &db.url, "", "");
    let toml = std::fs::read_to_string(&config).unwrap().replace(
        &dir.path().join("nosey.db").display().to_string(),
        &dir.path().join("blocker/nosey.db").display().to_string(),
    );
    std::fs::write(&config, toml).unwrap();
    let (ok, items) = check_json(&config);
    assert!(!ok);
    let store = item(&items, "store");
    assert_eq!(store["status"], "fail", "{}", summary(&items));
    assert!(store["detail"].as_str().unwrap().contains("cannot open"));
    assert!(store["fix"].as_str().unwrap().contains("blocker/nosey.db"));
    for skipped in ["lag", "deliveries"] {
        assert_eq!(status(&items, skipped), "skip", "{skipped}");
    }
}

/// A store whose cursor stops at log id 17 (the fixture's 43 rows of the run are unread),
/// with one dead delivery on route `crm`.
async fn store_behind(path: &std::path::Path) {
    let store = SqliteStore::open(path).await.unwrap();
    let cursor = Cursor::new(17, 17);
    let delivery = NewDelivery {
        id: nosey::store::new_delivery_id(now_ms()),
        route: "crm".into(),
        log_id: 17,
        eventname: r"\core\event\course_created".into(),
        object: Some("course:2".into()),
        ordering_key: Some("course:2".into()),
        created_at: now_ms(),
        headers: "{}".into(),
        body: bytes::Bytes::from_static(b"{}"),
        dead_reason: None,
    };
    let seqs = store
        .commit_batch(BatchWrite {
            cursor: Some(&cursor),
            deliveries: Box::new(std::iter::once(delivery)),
            ..Default::default()
        })
        .await
        .unwrap();
    let attempt = AttemptRecord {
        seq: seqs[0],
        n: 1,
        started_at: now_ms(),
        duration_ms: 3,
        status_code: Some(410),
        error: None,
        response: String::new(),
        outcome: Outcome::Dead,
    };
    store.record_attempts(&[attempt]).await.unwrap();
    store.close().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn lag_loglifetime_and_dead_deliveries() {
    let db = site_db(Kind::Postgres);
    // The unread rows are five and a half days old, whatever today's date.
    let age = 5 * 86_400 + 43_200;
    db.sql(&format!(
        "UPDATE mdl_logstore_standard_log SET timecreated = {} WHERE id > 17",
        now_ms() / 1000 - age
    ));
    let dir = tempfile::tempdir().unwrap();
    let config = write_config(dir.path(), &db.url, "", "");
    store_behind(&dir.path().join("nosey.db")).await;

    for (days, expected) in [(6, "fail"), (7, "warn"), (30, "ok"), (0, "ok")] {
        db.sql(&format!(
            "UPDATE mdl_config_plugins SET value = '{days}' WHERE plugin = 'logstore_standard' AND name = 'loglifetime'"
        ));
        let (ok, items) = check_json(&config);
        let lifetime = item(&items, "loglifetime");
        assert_eq!(lifetime["status"], expected, "{days} days: {lifetime}");
        assert_eq!(ok, expected != "fail", "{}", summary(&items));
        if expected == "fail" {
            let detail = lifetime["detail"].as_str().unwrap();
            assert!(detail.contains("nosey is 5d 12h behind"), "{detail}");
            assert!(
                lifetime["fix"]
                    .as_str()
                    .unwrap()
                    .contains("--name=loglifetime")
            );
        }
    }
    let (_, items) = check_json(&config);
    let lag = item(&items, "lag");
    assert_eq!(lag["status"], "ok");
    assert_eq!(
        lag["detail"],
        "43 rows behind (read up to log id 17, newest is 60); the oldest unread row, id 18, is 5d 12h old"
    );
    let deliveries = item(&items, "deliveries");
    assert_eq!(deliveries["status"], "warn");
    assert_eq!(deliveries["detail"], "crm: 0 pending, 1 dead");
    assert!(
        deliveries["fix"]
            .as_str()
            .unwrap()
            .contains("nosey deliveries retry --dead")
    );
}
