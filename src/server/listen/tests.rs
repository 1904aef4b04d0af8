//! Tests of the parent module.
use super::*;
use crate::deliver::sign::Signer;
use std::time::Instant;

const KEY: &[u8] = b"test-key-test-key-test-key-32byt";
const EVENT: &str = r#"{"eventname":"\\core\\event\\course_created","component":"core",
    "action":"created","target":"course","objecttable":"course","objectid":2,"crud":"c",
    "edulevel":1,"contextid":30,"contextlevel":50,"contextinstanceid":2,"userid":2,
    "courseid":2,"relateduserid":null,"anonymous":0,"other":null,"timecreated":1700000000}"#;
const META: &str = r#"{"log_id":4711,"origin":"web","delivery_id":"msg_1",
    "route":"enrolments","record_state":"current"}"#;
const COURSE_CREATED: &str = r"\core\event\course_created";

fn nosey_body() -> String {
    format!(r#"{{"event":{EVENT},"record":{{"id":2}},"meta":{META}}}"#)
}

fn keyed(secrets: Vec<Vec<u8>>) -> ListenOptions {
    ListenOptions {
        secrets,
        ..Default::default()
    }
}

async fn listen(opts: ListenOptions) -> Listener {
    let addr = SocketAddr::from(([127, 0, 0, 1], 0));
    start(ListenOptions { addr, ..opts }).await.unwrap()
}

fn signed(id: &str, ts: i64, body: &str) -> Vec<(&'static str, String)> {
    let sig = Signer::new(vec![KEY.to_vec()]).signature(id, ts, body.as_bytes());
    let (id, ts) = (id.to_owned(), ts.to_string());
    vec![
        ("webhook-id", id),
        ("webhook-timestamp", ts),
        ("webhook-signature", sig.unwrap()),
    ]
}

async fn post(l: &Listener, body: String, headers: &[(&str, String)]) -> reqwest::Response {
    let mut req = reqwest::Client::new().post(format!("http://{}/hook", l.addr));
    for (name, value) in headers {
        req = req.header(*name, value);
    }
    req.body(body).send().await.unwrap()
}

async fn next(l: &mut Listener) -> Received {
    let got = tokio::time::timeout(Duration::from_secs(5), l.received.recv()).await;
    got.expect("a webhook within 5 s").expect("channel open")
}

fn now_secs() -> i64 {
    now_ms() / 1000
}

#[tokio::test]
async fn signed_nosey_body_is_understood_and_valid() {
    let mut l = listen(keyed(vec![KEY.to_vec()])).await;
    let body = nosey_body();
    let resp = post(&l, body.clone(), &signed("msg_1", now_secs(), &body)).await;
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.text().await.unwrap(), r#"{"ok":true}"#);
    let r = next(&mut l).await;
    assert_eq!(r.path, "/hook");
    assert_eq!(r.webhook_id.as_deref(), Some("msg_1"));
    assert_eq!(r.eventname.as_deref(), Some(COURSE_CREATED));
    assert_eq!(r.object.as_deref(), Some("course/2"));
    assert_eq!(r.route.as_deref(), Some("enrolments"));
    assert_eq!(r.log_id, Some(4711));
    assert_eq!(r.signature, SignatureCheck::Valid);
    assert!((0..5_000).contains(&r.latency_ms.unwrap()));
    assert_eq!(r.body, body.as_bytes());
    l.shutdown().await;
}

#[tokio::test]
async fn tampered_unsigned_incomplete_and_stale_are_told_apart() {
    // The first key is not the one signing: any key verifying is enough.
    let secrets = vec![b"old-key".to_vec(), KEY.to_vec()];
    let mut l = listen(keyed(secrets)).await;
    let (body, now) = (nosey_body(), now_secs());
    let invalid = |why: &str| SignatureCheck::Invalid(why.to_owned());

    post(&l, body.replace("4711", "4712"), &signed("m", now, &body)).await;
    let mismatch = invalid("no signature matches the secret");
    assert_eq!(next(&mut l).await.signature, mismatch);
    post(&l, body.clone(), &[]).await;
    assert_eq!(next(&mut l).await.signature, SignatureCheck::Unsigned);
    post(&l, body.clone(), &signed("m", now, &body)[1..]).await;
    let missing = invalid("missing webhook-id or webhook-timestamp");
    assert_eq!(next(&mut l).await.signature, missing);
    post(&l, body.clone(), &signed("m", now - 3600, &body)).await;
    let r = next(&mut l).await;
    assert!(matches!(&r.signature, SignatureCheck::Invalid(w) if w.contains("too far")));
    assert!(r.latency_ms.unwrap() >= 3_600_000);

    let mut unkeyed = listen(ListenOptions::default()).await;
    post(&unkeyed, body.clone(), &signed("m", now, &body)).await;
    let r = next(&mut unkeyed).await;
    assert_eq!(r.signature, SignatureCheck::NotChecked);
}

#[tokio::test]
async fn answers_with_the_configured_status_after_the_delay() {
    let mut opts = ListenOptions {
        status: 42,
        ..Default::default()
    };
    assert!(start(opts.clone()).await.is_err());
    (opts.status, opts.delay) = (503, Duration::from_millis(300));
    let mut l = listen(opts).await;
    let begun = Instant::now();
    let resp = post(&l, nosey_body(), &[]).await;
    assert!(begun.elapsed() >= Duration::from_millis(300));
    assert_eq!(resp.status(), 503);
    assert_eq!(resp.text().await.unwrap(), r#"{"ok":false}"#);
    next(&mut l).await;
}

#[tokio::test]
async fn seed_cloudevents_and_non_json_bodies() {
    let mut l = listen(ListenOptions::default()).await;
    post(&l, format!(r#"{{"event":{EVENT},"record":false}}"#), &[]).await;
    let r = next(&mut l).await;
    assert_eq!(r.eventname.as_deref(), Some(COURSE_CREATED));
    assert_eq!(r.object.as_deref(), Some("course/2"));
    assert_eq!((r.route.as_deref(), r.log_id), (Some("/hook"), None));
    // No webhook-timestamp: latency is counted from the event's timecreated.
    assert!(r.latency_ms.unwrap() >= (now_secs() - 1_700_000_001) * 1000);

    let ce = format!(
        r#"{{"specversion":"1.0","id":"msg_1","source":"https://moodle.example",
        "type":"moodle.core.event.course_created","subject":"course/2",
        "time":"2023-11-14T22:13:20Z","datacontenttype":"application/json","data":{}}}"#,
        nosey_body()
    );
    post(&l, ce, &[]).await;
    let r = next(&mut l).await;
    assert_eq!(r.eventname.as_deref(), Some(COURSE_CREATED));
    assert_eq!(r.object.as_deref(), Some("course/2"));
    assert_eq!(r.log_id, Some(4711));

    assert_eq!(post(&l, "hello".into(), &[]).await.status(), 200);
    let r = next(&mut l).await;
    assert_eq!(
        (&r.eventname, &r.object, r.latency_ms),
        (&None, &None, None)
    );
    let json = serde_json::to_string(&r).unwrap();
    assert!(json.contains(r#""body":"hello""#), "{json}");
}

#[tokio::test]
async fn other_methods_and_huge_bodies_are_refused() {
    let mut l = listen(ListenOptions::default()).await;
    let get = reqwest::get(format!("http://{}/hook", l.addr)).await;
    assert_eq!(get.unwrap().status(), 405);
    assert_eq!(post(&l, " ".repeat(MAX_BODY), &[]).await.status(), 200);
    assert_eq!(next(&mut l).await.body.len(), MAX_BODY);
    assert_eq!(post(&l, " ".repeat(MAX_BODY + 1), &[]).await.status(), 413);
    assert!(l.received.try_recv().is_err());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn keeps_up_with_concurrent_posts() {
    let mut l = listen(keyed(vec![KEY.to_vec()])).await;
    let (url, client) = (format!("http://{}/", l.addr), reqwest::Client::new());
    let mut posts = tokio::task::JoinSet::new();
    for i in 0..200 {
        let body = nosey_body();
        let mut req = client.post(&url).body(body.clone());
        for (name, value) in signed(&format!("msg_{i}"), now_secs(), &body) {
            req = req.header(name, value);
        }
        posts.spawn(async move { req.send().await.unwrap().status() });
    }
    while let Some(status) = posts.join_next().await {
        assert_eq!(status.unwrap(), 200);
    }
    let mut stats = Stats::default();
    for _ in 0..200 {
        stats.record(&next(&mut l).await);
    }
    assert_eq!((stats.received, stats.valid, l.dropped()), (200, 200, 0));
}

#[tokio::test]
async fn shutdown_stops_serving_and_ends_the_stream() {
    let l = listen(ListenOptions::default()).await;
    let addr = l.addr;
    l.shutdown().await;
    assert!(tokio::net::TcpStream::connect(addr).await.is_err());
    // Stopping the server, as dropping the Listener does, ends the stream of records.
    let mut l = listen(ListenOptions::default()).await;
    drop(std::mem::replace(&mut l.stop, oneshot::channel().0));
    let closed = tokio::time::timeout(Duration::from_secs(5), l.received.recv()).await;
    assert!(closed.expect("closed within 5 s").is_none());
}

#[test]
fn a_full_channel_drops_instead_of_waiting() {
    let (tx, mut rx) = mpsc::channel(1);
    let dropped = Arc::new(AtomicU64::new(0));
    let (status, delay) = (StatusCode::OK, Duration::ZERO);
    let app = App {
        tx,
        secrets: vec![],
        status,
        delay,
        tolerance_secs: 300,
        dropped,
    };
    let record = || inspect(&app, "/", &HeaderMap::new(), Bytes::from("x"), 0);
    app.record(record());
    app.record(record());
    assert_eq!(app.dropped.load(Ordering::Relaxed), 1);
    assert!(rx.try_recv().is_ok());
}

fn received(route: &str, signature: SignatureCheck) -> Received {
    Received {
        path: "/hook".into(),
        webhook_id: Some("msg_1".into()),
        eventname: Some(COURSE_CREATED.into()),
        object: Some("course/2".into()),
        route: Some(route.into()),
        log_id: Some(4711),
        signature,
        latency_ms: Some(12),
        body: Bytes::from_static(b"{}"),
        received_at_ms: 1_699_963_445_123, // 2023-11-14 12:04:05.123 UTC
    }
}

#[test]
fn format_line_has_the_pieces() {
    let line = format_line(&received("course_crud", SignatureCheck::Valid));
    let pieces = [COURSE_CREATED, "course/2", "route=course_crud", "12 ms"];
    assert!(line.starts_with("12:04:05.123  ") && line.ends_with("  signature ok"));
    for piece in pieces {
        assert!(line.contains(piece), "{line:?} lacks {piece:?}");
    }
    let why = SignatureCheck::Invalid("no signature matches the secret".into());
    let line = format_line(&received("r", why));
    assert!(line.ends_with("signature INVALID (no signature matches the secret)"));
    assert!(format_line(&received("r", SignatureCheck::Unsigned)).ends_with("unsigned"));
    assert!(format_line(&received("r", SignatureCheck::NotChecked)).contains("not checked"));
    let no_event = Received {
        eventname: None,
        latency_ms: Some(90_000),
        ..received("r", SignatureCheck::Unsigned)
    };
    assert!(format_line(&no_event).contains("(no event, 2 bytes)"));
    assert!(format_line(&no_event).contains("90.0 s"));
}

#[test]
fn stats_summarise_by_route() {
    let mut stats = Stats::default();
    stats.record(&received("enrolments", SignatureCheck::Valid));
    stats.record(&received("enrolments", SignatureCheck::Unsigned));
    let invalid = SignatureCheck::Invalid("x".into());
    stats.record(&received("course_crud", invalid));
    let summary = stats.summary();
    assert!(summary.starts_with("received 3 webhooks: 1 valid, 1 invalid, 1 unsigned"));
    let by_route = "\n  course_crud  1\n  enrolments   2";
    assert!(summary.ends_with(by_route), "{summary}");
}

#[test]
fn string_ids_and_events_without_an_object() {
    let body = br#"{"event":{"objecttable":"user","objectid":"7","timecreated":"5"}}"#;
    let f = Facts::from_body(body);
    assert_eq!(f.object.as_deref(), Some("user/7"));
    assert_eq!(f.timecreated, Some(5));
    let f = Facts::from_body(br#"{"event":{"objecttable":"user","objectid":null}}"#);
    assert_eq!(f.object.as_deref(), Some("user"));
    assert_eq!(Facts::from_body(b"[1,2]").eventname, None);
}
