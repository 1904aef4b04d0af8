//! The tailer against real PostgreSQL and MariaDB: ids that commit out of order, rolled-back
//! ids, resuming from a saved cursor, and every `start` mode.

mod common;

use std::time::Duration;

use common::{Kind, TestDb, insert_log_sql, jsonl};
use nosey::config::StartAt;
use nosey::moodle::{Cursor, MoodleDb, Tailer, TailerOptions};
use serde_json::{Value, json};

fn log_row(eventname: &str, objectid: i64, timecreated: i64) -> Value {
    json!({
        "eventname": eventname, "component": "core", "action": "created", "target": "course",
        "objecttable": "course", "objectid": objectid, "crud": "c", "edulevel": 1,
        "contextid": 1, "contextlevel": 50, "contextinstanceid": objectid, "userid": 2,
        "courseid": objectid, "relateduserid": null, "anonymous": 0, "other": "null",
        "timecreated": timecreated, "origin": "web", "ip": "127.0.0.1", "realuserid": null
    })
}

fn insert(kind: Kind, objectid: i64) -> String {
    insert_log_sql(
        kind,
        &[&log_row(
            r"\core\event\course_created",
            objectid,
            1_700_000_000,
        )],
        false,
    )
}

async fn connect(db: &TestDb) -> MoodleDb {
    MoodleDb::connect(&db.url, "mdl_", "logstore_standard_log")
        .await
        .expect("connect")
}

fn opts(gap_timeout_ms: u64) -> TailerOptions {
    TailerOptions {
        gap_timeout: Duration::from_millis(gap_timeout_ms),
        ..TailerOptions::default()
    }
}

/// Polls once and acknowledges; returns the objectids read.
async fn poll_ack(t: &mut Tailer) -> (Vec<i64>, nosey::moodle::Batch) {
    let b = t.poll().await.expect("poll");
    t.ack(&b);
    (b.rows.iter().map(|r| r.objectid.unwrap()).collect(), b)
}

/// Runs the out-of-order scenario with a generic sqlx pool so both engines share it.
macro_rules! out_of_order_scenario {
    ($kind:expr, $pool:expr, $tailer:expr) => {{
        let kind = $kind;
        let pool = $pool;
        let t: &mut Tailer = $tailer;
        // A holds id N open; B commits N+1 first.
        let mut a = pool.begin().await.unwrap();
        sqlx::raw_sql(sqlx::AssertSqlSafe(insert(kind, 1)))
            .execute(&mut *a)
            .await
            .unwrap();
        sqlx::raw_sql(sqlx::AssertSqlSafe(insert(kind, 2)))
            .execute(&pool)
            .await
            .unwrap();
        let (seen, b) = poll_ack(t).await;
        assert_eq!(seen, vec![2], "N+1 is delivered while N is still open");
        assert_eq!(b.cursor.open_gap_ids(), 1);
        let (seen, _) = poll_ack(t).await;
        assert!(seen.is_empty(), "nothing new while N is uncommitted");
        a.commit().await.unwrap();
        let (seen, b) = poll_ack(t).await;
        assert_eq!(seen, vec![1], "N arrives once it commits");
        assert_eq!(b.late, 1);
        assert!(b.cursor.gaps.is_empty());
        let (seen, _) = poll_ack(t).await;
        assert!(seen.is_empty(), "exactly once");

        // A rolled-back id is given up after gap_timeout, and counted.
        let mut c = pool.begin().await.unwrap();
        sqlx::raw_sql(sqlx::AssertSqlSafe(insert(kind, 3)))
            .execute(&mut *c)
            .await
            .unwrap();
        c.rollback().await.unwrap();
        sqlx::raw_sql(sqlx::AssertSqlSafe(insert(kind, 4)))
            .execute(&pool)
            .await
            .unwrap();
        let (seen, b) = poll_ack(t).await;
        assert_eq!(seen, vec![4]);
        assert_eq!(b.cursor.open_gap_ids(), 1);
        tokio::time::sleep(Duration::from_millis(700)).await;
        let (seen, b) = poll_ack(t).await;
        assert!(seen.is_empty());
        assert_eq!(b.gaps_skipped, 1);
        assert_eq!(t.cursor().skipped, 1);
        assert!(t.cursor().gaps.is_empty());
    }};
}

#[tokio::test]
async fn out_of_order_commits_postgres() {
    let db = TestDb::with_schema(Kind::Postgres);
    db.exec(&insert(Kind::Postgres, 0)).await; // a live site's log is never empty
    let mut t = Tailer::start(connect(&db).await, &StartAt::Now, None, opts(500))
        .await
        .unwrap();
    out_of_order_scenario!(Kind::Postgres, db.pg().await, &mut t);
}

#[tokio::test]
async fn out_of_order_commits_mariadb() {
    let db = TestDb::with_schema(Kind::MariaDb);
    db.exec(&insert(Kind::MariaDb, 0)).await; // a live site's log is never empty
    let mut t = Tailer::start(connect(&db).await, &StartAt::Now, None, opts(500))
        .await
        .unwrap();
    out_of_order_scenario!(Kind::MariaDb, db.mysql().await, &mut t);
}

/// Inserts `n` rows with objectids from `first`, timecreated = 1_700_000_000 + objectid.
async fn insert_many(db: &TestDb, first: i64, n: i64) {
    let rows: Vec<Value> = (first..first + n)
        .map(|i| log_row(r"\core\event\course_updated", i, 1_700_000_000 + i))
        .collect();
    let refs: Vec<&Value> = rows.iter().collect();
    db.exec(&insert_log_sql(db.kind, &refs, false)).await;
}

async fn resume_and_start_modes(kind: Kind) {
    let db = TestDb::with_schema(kind);
    insert_many(&db, 1, 50).await;
    let small = TailerOptions {
        batch_size: 20,
        ..opts(60_000)
    };

    // Read part of the stream, "crash" with one batch read but not acknowledged.
    let mut t = Tailer::start(connect(&db).await, &StartAt::Beginning, None, small.clone())
        .await
        .unwrap();
    let (first, b1) = poll_ack(&mut t).await;
    assert_eq!(b1.rows[0].objectid, Some(1));
    assert_eq!(first, (1..=20).collect::<Vec<_>>());
    assert!(b1.full);
    let unacked = t.poll().await.unwrap();
    assert_eq!(unacked.rows.len(), 20);
    let saved = serde_json::to_string(t.cursor()).unwrap();
    drop(t);

    // Restore the saved cursor: the unacknowledged batch repeats, nothing is missed.
    insert_many(&db, 51, 10).await;
    let restored: Cursor = serde_json::from_str(&saved).unwrap();
    let mut t = Tailer::start(connect(&db).await, &StartAt::Now, Some(restored), small)
        .await
        .unwrap();
    let mut all = Vec::new();
    loop {
        let (ids, b) = poll_ack(&mut t).await;
        all.extend(ids);
        if !b.full {
            break;
        }
    }
    assert_eq!(all, (21..=60).collect::<Vec<_>>());

    // start = "after:N" is exclusive. (The fixture schema's AUTO_INCREMENT does not start at
    // 1 on MariaDB, so find the id of the row whose objectid is 55.)
    let t = Tailer::start(connect(&db).await, &StartAt::Beginning, None, opts(60_000))
        .await
        .unwrap();
    let id_of_55 = t.poll().await.unwrap().rows[54].id;
    let mut t = Tailer::start(
        connect(&db).await,
        &StartAt::After(id_of_55),
        None,
        opts(60_000),
    )
    .await
    .unwrap();
    assert_eq!(poll_ack(&mut t).await.0, vec![56, 57, 58, 59, 60]);

    // start = "time:T" begins at the first id whose timecreated >= T.
    let mut t = Tailer::start(
        connect(&db).await,
        &StartAt::Time(1_700_000_058),
        None,
        opts(60_000),
    )
    .await
    .unwrap();
    assert_eq!(poll_ack(&mut t).await.0, vec![58, 59, 60]);

    // start = "now" reads only what comes after.
    let mut t = Tailer::start(connect(&db).await, &StartAt::Now, None, opts(60_000))
        .await
        .unwrap();
    assert!(poll_ack(&mut t).await.0.is_empty());
    insert_many(&db, 61, 2).await;
    assert_eq!(poll_ack(&mut t).await.0, vec![61, 62]);
}

#[tokio::test]
async fn resume_and_start_modes_postgres() {
    resume_and_start_modes(Kind::Postgres).await;
}

#[tokio::test]
async fn resume_and_start_modes_mariadb() {
    resume_and_start_modes(Kind::MariaDb).await;
}

/// Restored rows (origin NULL) are skipped unless asked for.
#[tokio::test]
async fn restored_rows_are_skipped_by_default() {
    let db = TestDb::with_schema(Kind::Postgres);
    let mut restored = log_row(r"\core\event\course_created", 9, 1_600_000_000);
    restored["origin"] = Value::Null;
    let live = log_row(r"\core\event\course_created", 10, 1_700_000_000);
    db.exec(&insert_log_sql(Kind::Postgres, &[&restored, &live], false))
        .await;
    let mut t = Tailer::start(connect(&db).await, &StartAt::Beginning, None, opts(1000))
        .await
        .unwrap();
    let (ids, b) = poll_ack(&mut t).await;
    assert_eq!(ids, vec![10]);
    assert_eq!(b.restored_skipped, 1);
    let with = TailerOptions {
        include_restored: true,
        ..opts(1000)
    };
    let mut t = Tailer::start(connect(&db).await, &StartAt::Beginning, None, with)
        .await
        .unwrap();
    assert_eq!(poll_ack(&mut t).await.0, vec![9, 10]);
}

/// The fixture rows load, and the tailer reads exactly the run's 43 rows after its start id.
#[tokio::test]
async fn fixture_rows_are_read_in_order() {
    for (kind, run) in common::RUNS {
        let db = TestDb::with_schema(kind);
        db.load_file(&common::fixtures().join(run).join("tables-after.sql"));
        let before = common::before_max_id(run);
        let expected: Vec<i64> = jsonl(&common::fixtures().join(run).join("logstore.jsonl"))
            .iter()
            .map(|r| r["id"].as_i64().unwrap())
            .collect();
        let t = Tailer::start(
            connect(&db).await,
            &StartAt::After(before),
            None,
            opts(1000),
        )
        .await
        .unwrap();
        let b = t.poll().await.unwrap();
        let ids: Vec<i64> = b.rows.iter().map(|r| r.id).collect();
        assert_eq!(ids, expected, "{run}");
    }
}
