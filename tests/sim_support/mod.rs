//! Helpers for the simulator's tests: generating request streams, replaying them in memory,
//! and reading what was written back with nosey's own tailer and record reader.
#![allow(dead_code)]

pub mod model;

use std::collections::{BTreeMap, HashSet};

use nosey::config::StartAt;
use nosey::event::Event;
use nosey::moodle::record::{Record, RecordReader};
use nosey::moodle::{LogRow, MoodleDb, Tailer, TailerOptions};
use nosey::sim::{OtherFormat, Request, SimOptions, SimTarget, Simulator, SqlValue};
use serde_json::Value;

use model::{Model, SIMULATED};

/// The unix time simulated runs start at.
pub const START: i64 = 1_800_000_000;

/// Requests until at least `rows` log rows were written; one request a second.
pub fn generate(seed: u64, other_format: OtherFormat, rows: usize) -> Vec<Request> {
    let mut sim = Simulator::new(SimOptions {
        seed,
        other_format,
        ..SimOptions::default()
    });
    let mut out = Vec::new();
    let mut written = 0;
    let mut now = START;
    while written < rows {
        let req = sim.next_request(now);
        written += req.log.len();
        out.push(req);
        now += 1;
    }
    out
}

/// Replays `requests` on a fresh install, panicking at the first inconsistency.
pub fn replay(requests: &[Request], installed_at: i64) -> Model {
    let mut model = Model::fresh(installed_at);
    for (i, req) in requests.iter().enumerate() {
        if let Err(why) = model.request(req) {
            panic!("request {i} ({} log rows): {why}", req.log.len());
        }
    }
    model
}

/// Writes `requests` into `target` (base site first), `batch` requests per call.
pub async fn write(target: &SimTarget, requests: &[Request], batch: usize) {
    nosey::sim::install_base(target, START)
        .await
        .expect("base site");
    for chunk in requests.chunks(batch) {
        nosey::sim::apply(target, chunk).await.expect("apply");
    }
}

/// Every log row, read by nosey's tailer from the beginning.
pub async fn tail_all(db: &MoodleDb) -> Vec<LogRow> {
    let mut tailer = Tailer::start(
        db.clone(),
        &StartAt::Beginning,
        None,
        TailerOptions::default(),
    )
    .await
    .expect("tailer");
    let mut rows = Vec::new();
    loop {
        let batch = tailer.poll().await.expect("poll");
        tailer.ack(&batch);
        if batch.rows.is_empty() {
            return rows;
        }
        rows.extend(batch.rows);
    }
}

/// Checks what nosey reads back from `db` against what the simulator wrote: the log rows one
/// for one, in request order, each decoding without a warning; and every row a create or
/// update event names, found exactly when it still exists, with the values written. The
/// base site was installed at `installed_at`.
pub async fn verify(db: &MoodleDb, requests: &[Request], installed_at: i64) {
    let rows = tail_all(db).await;
    let entries: Vec<_> = requests.iter().flat_map(|r| &r.log).collect();
    assert_eq!(rows.len(), entries.len(), "log rows read back");
    for (row, entry) in rows.iter().zip(&entries) {
        assert_eq!(*row, entry.with_id(row.id));
        let (_, warning) = Event::from_row(row);
        assert!(warning.is_none(), "{warning:?} in {row:?}");
    }
    assert!(rows.windows(2).all(|w| w[0].id < w[1].id));
    verify_records(db, &rows, &replay(requests, installed_at)).await;
}

async fn verify_records(db: &MoodleDb, rows: &[LogRow], model: &Model) {
    let wanted: Vec<(String, i64)> = rows
        .iter()
        .filter(|r| r.crud == "c" || r.crud == "u")
        .filter_map(|r| Some((r.objecttable.clone()?, r.objectid?)))
        .filter(|(t, _)| SIMULATED.contains(&t.as_str()))
        .collect::<HashSet<_>>()
        .into_iter()
        .collect();
    assert!(
        wanted.len() > 50,
        "only {} records to look up",
        wanted.len()
    );
    let reader = RecordReader::new(db.clone(), BTreeMap::new());
    let found = reader.fetch(&wanted).await.expect("records");
    let mut present = 0;
    for key in &wanted {
        let (table, id) = (key.0.as_str(), key.1);
        match (model.get(table, id), found.get(key)) {
            (Some(row), Some(record)) => {
                present += 1;
                for (column, value) in row {
                    assert_same(table, id, column, value, record);
                }
            }
            (None, None) => {}
            (want, got) => panic!("{table} {id}: expected {want:?}, read {got:?}"),
        }
    }
    assert!(present > 50, "only {present} records still exist");
}

/// A column as written and as nosey's record reader typed it.
fn assert_same(table: &str, id: i64, column: &str, written: &SqlValue, record: &Record) {
    let read = record.get(column).unwrap_or(&Value::Null);
    let same = match written {
        SqlValue::Int(i) => read.as_i64() == Some(*i),
        SqlValue::Text(s) => read.as_str() == Some(s.as_str()),
        SqlValue::Null => read.is_null(),
        SqlValue::Decimal(d) => read.as_number().is_some_and(|n| n.as_str() == d),
    };
    assert!(
        same,
        "{table} {id}.{column}: wrote {written:?}, read {read}"
    );
}
