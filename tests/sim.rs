//! The Moodle simulator: determinism, the event mix, the site's consistency, `other` in both
//! encodings, Moodle's schema in SQLite, and writing into SQLite, PostgreSQL and MariaDB,
//! read back by nosey's own tailer and record reader.

mod common;
mod sim_support;

use std::collections::BTreeMap;
use std::time::Instant;

use common::{Kind, TestDb, fixtures};
use nosey::moodle::MoodleDb;
use nosey::moodle::other::decode_other;
use nosey::sim::{Change, OtherFormat, Request, SimTarget, SqlValue, bulk_log_only, schema};
use sim_support::{START, generate, replay, verify, write};
use sqlx::Row;

#[test]
fn the_same_seed_gives_the_same_requests() {
    let a = generate(7, OtherFormat::Json, 20_000);
    assert_eq!(a, generate(7, OtherFormat::Json, 20_000));
    assert_ne!(a, generate(8, OtherFormat::Json, 20_000));
}

#[test]
fn the_mix_is_a_busy_sites() {
    let requests = generate(11, OtherFormat::Json, 100_000);
    let rows: Vec<_> = requests.iter().flat_map(|r| &r.log).collect();
    let share = rows.iter().filter(|e| e.crud == "r").count() as f64 / rows.len() as f64;
    let mut counts: BTreeMap<&str, usize> = BTreeMap::new();
    for e in &rows {
        *counts.entry(e.eventname.as_str()).or_default() += 1;
    }
    eprintln!("{} rows, read share {share:.4}", rows.len());
    for (name, n) in &counts {
        eprintln!("{n:>8} {name}");
    }
    assert!((0.85..=0.95).contains(&share), "read share {share}");
    for group in [
        "course_category_created",
        "course_category_updated",
        "course_category_deleted",
        "course_created",
        "course_updated",
        "course_deleted",
        "user_enrolment_created",
        "user_enrolment_deleted",
        "course_module_completion_updated",
        "course_completed",
    ] {
        let name = format!(r"\core\event\{group}");
        assert!(
            counts.get(name.as_str()).is_some_and(|n| *n > 0),
            "{group} missing"
        );
    }
    let origin = |o: &str| requests.iter().filter(|r| r.origin == o).count();
    assert!(origin("cli") > 50 && origin("ws") > 50 && origin("web") > 50_000);
    let typical = requests.iter().filter(|r| r.log.len() <= 5).count();
    assert!(
        typical * 100 > requests.len() * 95,
        "{typical} of {}",
        requests.len()
    );
}

#[test]
fn a_different_read_share_is_followed() {
    let mut sim = nosey::sim::Simulator::new(nosey::sim::SimOptions {
        read_share: 0.5,
        ..Default::default()
    });
    for i in 0..30_000 {
        sim.next_request(START + i);
    }
    let (reads, writes) = sim.rows_written();
    let share = reads as f64 / (reads + writes) as f64;
    assert!((0.47..=0.53).contains(&share), "{share}");
}

/// Completions only for enrolled users, a course's enrolments ended before it goes,
/// `other.userenrolment` the deleted row, ids never reused, and every row a create, update or
/// view names alive (see `sim_support::model`).
#[test]
fn the_site_stays_consistent() {
    for seed in [1, 2, 3] {
        let requests = generate(seed, OtherFormat::Json, 150_000);
        let model = replay(&requests, START);
        let live = |t: &str| model.tables.get(t).map_or(0, |rows| rows.len());
        eprintln!(
            "seed {seed}: {} courses, {} categories, {} users, {} enrolments",
            live("course"),
            live("course_categories"),
            live("user"),
            live("user_enrolments")
        );
        assert!(live("course") > 10 && live("user_enrolments") > 100);
    }
}

#[test]
fn other_decodes_the_same_in_both_formats() {
    let json = generate(5, OtherFormat::Json, 60_000);
    let serialized = generate(5, OtherFormat::Serialized, 60_000);
    assert_eq!(json.len(), serialized.len());
    let pairs = json
        .iter()
        .flat_map(|r| &r.log)
        .zip(serialized.iter().flat_map(|r| &r.log));
    let mut nonnull = 0;
    for (j, s) in pairs {
        let (dj, ds) = (
            decode_other(j.other.as_deref()),
            decode_other(s.other.as_deref()),
        );
        assert!(dj.warning.is_none(), "{:?}: {:?}", j.other, dj.warning);
        assert!(ds.warning.is_none(), "{:?}: {:?}", s.other, ds.warning);
        assert_eq!(dj.value, ds.value, "{:?} vs {:?}", j.other, s.other);
        let rest_equal = nosey::sim::LogEntry {
            other: None,
            ..j.clone()
        } == nosey::sim::LogEntry {
            other: None,
            ..s.clone()
        };
        assert!(rest_equal);
        nonnull += usize::from(!dj.value.is_null());
    }
    assert!(nonnull > 5_000, "{nonnull}");
}

/// The SQLite tables have the fixture's columns, in order, with its NOT NULLs and defaults.
#[tokio::test]
async fn the_sqlite_schema_is_moodles() {
    let dir = tempfile::tempdir().unwrap();
    let pool = sqlite_pool(&dir.path().join("moodle.db")).await;
    schema::create(&pool, "mdl_").await.expect("schema");
    let fixture = std::fs::read_to_string(fixtures().join("pg/schema.sql")).unwrap();
    for table in schema::TABLES {
        let want = fixture_columns(&fixture, table);
        let sql =
            format!("SELECT name, \"notnull\", dflt_value FROM pragma_table_info('mdl_{table}')");
        let got: Vec<(String, bool, bool)> = sqlx::query(sqlx::AssertSqlSafe(sql))
            .fetch_all(&pool)
            .await
            .unwrap()
            .iter()
            .map(|r| {
                let name: String = r.get(0);
                let default: Option<String> = r.get(2);
                (name, r.get::<i64, _>(1) == 1, default.is_some())
            })
            .collect();
        assert_eq!(got, want, "{table}");
    }
    let base: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM mdl_user WHERE id IN (1, 2)")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(base, 2);
    assert!(
        schema::create(&pool, "mdl_").await.is_err(),
        "created twice"
    );
    // Like Moodle's sequences, AUTOINCREMENT never hands out a deleted row's id again.
    let target = SimTarget::sqlite(pool.clone(), "mdl_").unwrap();
    let first = generate(1, OtherFormat::Json, 1).remove(0);
    let one = &[Request {
        changes: Vec::new(),
        ..first
    }];
    nosey::sim::apply(&target, one).await.unwrap();
    sqlx::query("DELETE FROM mdl_logstore_standard_log")
        .execute(&pool)
        .await
        .unwrap();
    nosey::sim::apply(&target, one).await.unwrap();
    let ids: Vec<i64> = sqlx::query_scalar("SELECT id FROM mdl_logstore_standard_log")
        .fetch_all(&pool)
        .await
        .unwrap();
    assert_eq!(ids, [one[0].log.len() as i64 + 1]);
}

/// (name, NOT NULL, has a default) of each column of `table` in the PostgreSQL dump; the
/// primary key counts as NOT NULL without a default, as SQLite reports it.
fn fixture_columns(dump: &str, table: &str) -> Vec<(String, bool, bool)> {
    let start = format!("CREATE TABLE public.mdl_{table} (\n");
    let body = dump
        .split(&start)
        .nth(1)
        .unwrap()
        .split("\n);")
        .next()
        .unwrap();
    body.lines()
        .map(|line| {
            let line = line.trim().trim_end_matches(',');
            let name = line.split(' ').next().unwrap().to_string();
            if name == "id" {
                return (name, false, false);
            }
            (name, line.contains("NOT NULL"), line.contains("DEFAULT"))
        })
        .collect()
}

async fn sqlite_pool(path: &std::path::Path) -> sqlx::SqlitePool {
    let opts = sqlx::sqlite::SqliteConnectOptions::new()
        .filename(path)
        .create_if_missing(true)
        .journal_mode(sqlx::sqlite::SqliteJournalMode::Wal);
    sqlx::SqlitePool::connect_with(opts).await.unwrap()
}

#[tokio::test]
async fn sqlite_written_and_read_back() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("moodle.db");
    let pool = sqlite_pool(&path).await;
    schema::create(&pool, "mdl_").await.expect("schema");
    let requests = generate(21, OtherFormat::Json, 40_000);
    let target = SimTarget::sqlite(pool.clone(), "mdl_").unwrap();
    // schema::create installed the base site already.
    for chunk in requests.chunks(300) {
        nosey::sim::apply(&target, chunk).await.expect("apply");
    }
    let url = format!("sqlite://{}", path.display());
    let db = MoodleDb::connect(&url, "mdl_", "logstore_standard_log")
        .await
        .unwrap();
    let installed_at: i64 = sqlx::query_scalar("SELECT timecreated FROM mdl_user WHERE id = 2")
        .fetch_one(&pool)
        .await
        .unwrap();
    verify(&db, &requests, installed_at).await;
}

#[tokio::test]
async fn postgres_written_and_read_back() {
    let test = TestDb::with_schema(Kind::Postgres);
    let target = SimTarget::postgres(test.pg().await, "mdl_").unwrap();
    let requests = generate(22, OtherFormat::Json, 40_000);
    write(&target, &requests, 500).await;
    let db = MoodleDb::connect(&test.url, "mdl_", "logstore_standard_log")
        .await
        .unwrap();
    verify(&db, &requests, START).await;
}

#[tokio::test]
async fn mariadb_written_and_read_back_with_serialized_other() {
    let test = TestDb::with_schema(Kind::MariaDb);
    let target = SimTarget::mysql(test.mysql().await, "mdl_").unwrap();
    let requests = generate(23, OtherFormat::Serialized, 40_000);
    write(&target, &requests, 500).await;
    let db = MoodleDb::connect(&test.url, "mdl_", "logstore_standard_log")
        .await
        .unwrap();
    verify(&db, &requests, START).await;
}

/// NUMERIC values keep their exact digits on the way in (PostgreSQL needs them cast from
/// text), and a mix of values and NULLs updates in one statement.
#[tokio::test]
async fn decimals_and_nulls_are_written_exactly() {
    for kind in [Kind::Postgres, Kind::MariaDb] {
        let test = TestDb::with_schema(kind);
        let target = match kind {
            Kind::Postgres => SimTarget::postgres(test.pg().await, "mdl_").unwrap(),
            Kind::MariaDb => SimTarget::mysql(test.mysql().await, "mdl_").unwrap(),
        };
        let insert = |id: i64, dec: &str| Change::Insert {
            table: "enrol",
            values: vec![
                ("id", SqlValue::Int(id)),
                ("courseid", SqlValue::Int(2)),
                ("customdec1", SqlValue::Decimal(dec.into())),
                ("customchar1", SqlValue::Null),
            ],
        };
        let update = |id: i64, dec: SqlValue, text: SqlValue| Change::Update {
            table: "enrol",
            id,
            set: vec![("customdec2", dec), ("customchar1", text)],
        };
        let changes = vec![
            insert(1, "12.3456700"),
            insert(2, "-0.0000001"),
            update(1, SqlValue::Decimal("99999.1234567".into()), SqlValue::Null),
            update(2, SqlValue::Null, SqlValue::Text("x".into())),
        ];
        let req = Request {
            changes,
            log: Vec::new(),
            origin: "cli",
        };
        nosey::sim::apply(&target, &[req]).await.expect("apply");
        let db = MoodleDb::connect(&test.url, "mdl_", "logstore_standard_log")
            .await
            .unwrap();
        let reader = nosey::moodle::record::RecordReader::new(db, BTreeMap::new());
        let keys = [("enrol".to_string(), 1), ("enrol".to_string(), 2)];
        let found = reader.fetch(&keys).await.unwrap();
        let one = &found[&keys[0]];
        let two = &found[&keys[1]];
        assert_eq!(one["customdec1"].to_string(), "12.3456700", "{kind:?}");
        assert_eq!(one["customdec2"].to_string(), "99999.1234567", "{kind:?}");
        assert!(one["customchar1"].is_null());
        assert_eq!(two["customdec1"].to_string(), "-0.0000001", "{kind:?}");
        assert!(two["customdec2"].is_null());
        assert_eq!(two["customchar1"], "x");
    }
}

/// The benchmark path: how fast 200,000 simulated log rows go into PostgreSQL, with their row
/// changes (`apply`, 20,000 requests a call) and log rows alone (`bulk_log_only`, generated
/// as they are written). Run with `--ignored --nocapture`.
#[tokio::test]
#[ignore]
async fn postgres_write_rate() {
    let test = TestDb::with_schema(Kind::Postgres);
    let target = SimTarget::postgres(test.pg().await, "mdl_").unwrap();
    write_rate(&target, "PostgreSQL").await;
}

/// The same on MariaDB (multi-row INSERTs of 1,000 rows).
#[tokio::test]
#[ignore]
async fn mariadb_write_rate() {
    let test = TestDb::with_schema(Kind::MariaDb);
    let target = SimTarget::mysql(test.mysql().await, "mdl_").unwrap();
    write_rate(&target, "MariaDB").await;
}

async fn write_rate(target: &SimTarget, engine: &str) {
    const ROWS: usize = 200_000;
    let requests = generate(31, OtherFormat::Json, ROWS);
    let rows: usize = requests.iter().map(|r| r.log.len()).sum();
    nosey::sim::install_base(target, START).await.unwrap();
    let t = Instant::now();
    for chunk in requests.chunks(20_000) {
        nosey::sim::apply(target, chunk).await.unwrap();
    }
    report(engine, "apply", rows, t);
    let fresh = nosey::sim::Simulator::new(nosey::sim::SimOptions::default());
    let t = Instant::now();
    let lazy = fresh.into_log_rows(START, 20).take(ROWS);
    let stats = bulk_log_only(target, lazy, 20_000).await.unwrap();
    assert_eq!(stats.log_rows, ROWS);
    report(engine, "bulk_log_only", ROWS, t);
}

fn report(engine: &str, path: &str, rows: usize, since: Instant) {
    let secs = since.elapsed().as_secs_f64();
    let rate = rows as f64 / secs;
    eprintln!("{engine} {path}: {rows} log rows in {secs:.2} s = {rate:.0} rows/s");
}
