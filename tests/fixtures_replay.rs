//! The real Moodle 4.5.6 run against nosey: the events rebuilt from the log equal the 2016
//! plugin's, and `nosey tail --format seed` prints the plugin's POSTed bodies byte for byte.

mod common;

use common::{Kind, Proc, RUNS, TestDb, fixtures, jsonl, replay};
use nosey::config::StartAt;
use nosey::event::Event;
use nosey::moodle::{MoodleDb, Tailer, TailerOptions};
use nosey::payload::php_json::encode_numeric_check;
use serde_json::Value;

fn php(v: &Value) -> String {
    let mut out = Vec::new();
    encode_numeric_check(v, &mut out);
    String::from_utf8(out).unwrap()
}

#[tokio::test]
async fn events_equal_the_plugins_events() {
    for (kind, run) in RUNS {
        let db = TestDb::with_schema(kind);
        db.load_file(&fixtures().join(run).join("tables-after.sql"));
        let moodle = MoodleDb::connect(&db.url, "mdl_", "logstore_standard_log")
            .await
            .unwrap();
        let before = common::before_max_id(run);
        let t = Tailer::start(
            moodle,
            &StartAt::After(before),
            None,
            TailerOptions::default(),
        )
        .await
        .unwrap();
        let rows = t.poll().await.unwrap().rows;
        assert_eq!(rows.len(), 43, "{run}");
        let log = jsonl(&fixtures().join(run).join("logstore.jsonl"));
        let posts = replay::posts(run);
        assert_eq!(posts.len(), 16);
        for ((_, _, body), i) in posts.iter().zip(replay::match_rows(&log, &posts)) {
            let (event, warning) = Event::from_row(&rows[i]);
            assert!(warning.is_none(), "{run} row {}: {warning:?}", rows[i].id);
            let ours = php(&serde_json::to_value(&event).unwrap());
            let theirs = php(&body["event"]);
            assert_eq!(ours, theirs, "{run} log row {}", rows[i].id);
        }
    }
}

async fn replay_seed(kind: Kind, run: &str) {
    let db = replay::prepared(kind, run);
    let dir = tempfile::tempdir().unwrap();
    let config = common::write_config(dir.path(), &db.url, "");
    let from = format!("after:{}", common::before_max_id(run));
    let mut args = vec![
        "--config",
        config.to_str().unwrap(),
        "tail",
        "--format",
        "seed",
        "--from",
        &from,
    ];
    for g in replay::GROUPS {
        args.extend(["--event", g]);
    }
    let mut tail = Proc::spawn(&args, &dir.path().join("stderr.log"));
    for step in replay::steps(&db, run) {
        db.exec(&step.sql).await;
        let (want, got) = replay::comparable(&step, &tail.line(15));
        assert_eq!(
            got, want,
            "{run}: POST to {} for log row {}",
            step.path, step.log_id
        );
    }
}

#[tokio::test]
async fn seed_bytes_equal_the_plugins_postgres() {
    replay_seed(Kind::Postgres, "pg/cli-run").await;
}

#[tokio::test]
async fn seed_bytes_equal_the_plugins_postgres_serialized() {
    replay_seed(Kind::Postgres, "pg/cli-run-serialized").await;
}

#[tokio::test]
async fn seed_bytes_equal_the_plugins_mariadb() {
    replay_seed(Kind::MariaDb, "mariadb/cli-run").await;
}
