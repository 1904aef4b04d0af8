//! Tests of the parent module.
use super::*;
use crate::store::{NewDelivery, Outcome};

fn delivery(route: &str, log_id: i64, key: &str) -> NewDelivery {
    NewDelivery {
        id: crate::store::new_delivery_id(now_ms()),
        route: route.into(),
        log_id,
        eventname: r"\core\event\course_updated".into(),
        object: Some(format!("course:{log_id}")),
        ordering_key: Some(key.into()),
        created_at: now_ms(),
        headers: "{}".into(),
        body: format!("{{\"log\":{log_id}}}").into(),
        dead_reason: None,
    }
}

#[test]
fn like_patterns_keep_moodle_names_literal() {
    assert_eq!(like_pattern(r"\core\event\user_*"), r"\core\event\user!_%");
    assert_eq!(like_pattern("a?b%"), "a_b!%");
}

#[tokio::test]
async fn batches_attempts_and_retries_round_trip() {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(&dir.path().join("sub/nosey.db"))
        .await
        .unwrap();
    assert!(store.load_cursor().await.unwrap().is_none());
    let cursor = Cursor::new(42, 42);
    let records = vec![(
        ("course".to_string(), 2),
        r#"{"id":2,"shortname":"123"}"#.to_string(),
    )];
    let seqs = store
        .commit_batch(BatchWrite {
            cursor: Some(&cursor),
            deliveries: Box::new(
                vec![
                    delivery("a", 1, "k1"),
                    delivery("a", 2, "k1"),
                    delivery("b", 2, "k2"),
                ]
                .into_iter(),
            ),
            records: &records,
            skipped_disabled: 0,
        })
        .await
        .unwrap();
    assert_eq!(seqs.len(), 3);
    assert_eq!(store.load_cursor().await.unwrap(), Some(cursor));
    let recalled = store
        .recall_records(&[("course".into(), 2), ("course".into(), 3)])
        .await
        .unwrap();
    assert_eq!(recalled.len(), 1);
    assert_eq!(recalled[&("course".to_string(), 2)]["shortname"], "123");

    let pending = store.pending("a", 0, i64::MAX, 10).await.unwrap();
    assert_eq!(pending.len(), 2);
    assert_eq!(pending[0].body.as_deref(), Some(&b"{\"log\":1}"[..]));
    let attempt = |seq, n, outcome| AttemptRecord {
        seq,
        n,
        started_at: now_ms(),
        duration_ms: 3,
        status_code: Some(500),
        error: None,
        response: "oops".into(),
        outcome,
    };
    store
        .record_attempts(&[
            attempt(
                seqs[0],
                1,
                Outcome::Retry {
                    next_attempt_at: now_ms() + 1000,
                },
            ),
            attempt(seqs[1], 1, Outcome::Delivered),
            attempt(seqs[2], 1, Outcome::Dead),
        ])
        .await
        .unwrap();
    assert_eq!(store.pending("a", 0, i64::MAX, 10).await.unwrap().len(), 1);
    let stats = store.route_stats().await.unwrap();
    assert_eq!(stats["a"].pending, 1);
    assert_eq!(stats["a"].delivered, 1);
    assert_eq!(stats["b"].dead, 1);

    let v0 = store.control_version().await.unwrap();
    assert_eq!(store.retry_dead(Some("b")).await.unwrap(), 1);
    assert!(store.control_version().await.unwrap() > v0);
    let manual = store.take_manual("b").await.unwrap();
    assert_eq!(manual.len(), 1);
    assert!(manual[0].manual);
    assert!(store.take_manual("b").await.unwrap().is_empty());

    let dead_id = store
        .list(&ListFilter {
            route: Some("a".into()),
            limit: 10,
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(dead_id.len(), 2);
    let detail = store.show(&dead_id[1].id).await.unwrap().unwrap();
    assert_eq!(detail.attempts_log.len(), 1);
    assert_eq!(detail.attempts_log[0].response, "oops");

    let filtered = store
        .list(&ListFilter {
            event: Some(r"\core\event\course_*".into()),
            limit: 10,
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(filtered.len(), 3);
    assert_eq!(store.prune(now_ms() + 1).await.unwrap(), 1);
    store.set_paused("a", true).await.unwrap();
    assert!(store.paused_routes().await.unwrap().contains("a"));
}

/// A store written by a version before the payloads table keeps its queued bodies.
#[tokio::test]
async fn queued_bodies_survive_the_move_to_the_payloads_table() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("old.db");
    let opts = SqliteConnectOptions::from_str("sqlite://")
        .unwrap()
        .filename(&path)
        .create_if_missing(true);
    let pool = SqlitePool::connect_with(opts).await.unwrap();
    let mut first = migrations();
    first.migrations = std::borrow::Cow::Owned(first.migrations[..1].to_vec());
    first.run(&pool).await.unwrap();
    sqlx::query(
        "INSERT INTO deliveries (id, route, log_id, eventname, status, created_at, \
         next_attempt_at, headers, body) VALUES ('msg_1', 'a', 7, 'e', 'pending', 1, 1, '{}', ?)",
    )
    .bind(&b"{\"old\":true}"[..])
    .execute(&pool)
    .await
    .unwrap();
    pool.close().await;
    let store = SqliteStore::open(&path).await.unwrap();
    let pending = store.pending("a", 0, i64::MAX, 10).await.unwrap();
    assert_eq!(pending.len(), 1);
    assert_eq!(pending[0].body.as_deref(), Some(&b"{\"old\":true}"[..]));
    let shown = store.show("msg_1").await.unwrap().unwrap();
    assert_eq!(shown.body, "{\"old\":true}");
}

#[tokio::test]
async fn seqs_match_the_rows_across_statements_and_after_a_prune() {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(&dir.path().join("nosey.db"))
        .await
        .unwrap();
    let commit = |n: i64| {
        let store = &store;
        async move {
            let list: Vec<_> = (0..n).map(|i| delivery("a", i, "k")).collect();
            let ids: Vec<String> = list.iter().map(|d| d.id.clone()).collect();
            let seqs = store
                .commit_batch(BatchWrite {
                    deliveries: Box::new(list.into_iter()),
                    ..Default::default()
                })
                .await
                .unwrap();
            (ids, seqs)
        }
    };
    let check = |ids: &[String], seqs: &[i64], pending: &[Pending]| {
        let by_seq: HashMap<i64, &str> = pending.iter().map(|p| (p.seq, p.id.as_str())).collect();
        for (id, seq) in ids.iter().zip(seqs) {
            assert_eq!(by_seq.get(seq).copied(), Some(id.as_str()), "seq {seq}");
        }
    };
    // 450 deliveries span three INSERT statements.
    let (ids, seqs) = commit(450).await;
    assert_eq!(seqs.len(), 450);
    check(
        &ids,
        &seqs,
        &store.pending("a", 0, i64::MAX, 1000).await.unwrap(),
    );
    // The newest delivered and pruned: their seqs are not given again (SQLite alone would
    // reuse the freed top rowids, behind a lane that has loaded past them).
    let last = *seqs.last().unwrap();
    let done: Vec<AttemptRecord> = seqs[400..]
        .iter()
        .map(|&seq| AttemptRecord {
            seq,
            n: 1,
            started_at: 0,
            duration_ms: 1,
            status_code: Some(200),
            error: None,
            response: String::new(),
            outcome: Outcome::Delivered,
        })
        .collect();
    store.record_attempts(&done).await.unwrap();
    assert_eq!(store.prune(now_ms() + 1000).await.unwrap(), 50);
    let (ids, seqs) = commit(3).await;
    assert_eq!(seqs, vec![last + 1, last + 2, last + 3]);
    check(
        &ids,
        &seqs,
        &store.pending("a", last, i64::MAX, 10).await.unwrap(),
    );
}
