//! `nosey run` end to end against real databases and real HTTP receivers on loopback:
//! the 2016 plugin's bodies at its paths, deletes in order, retries, ordering, isolation,
//! pausing, the global switch, and crash safety.

mod common;

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use common::receiver::{Receiver, Reply, always, free_port};
use common::run::Nosey;
use common::{Kind, TestDb, insert_log_sql, replay};
use serde_json::{Value, json};

fn course_event(name: &str, course: i64) -> Value {
    let action = name.rsplit('_').next().unwrap();
    let crud = &action[..1];
    json!({
        "eventname": format!(r"\core\event\{name}"), "component": "core", "action": action,
        "target": "course", "objecttable": "course", "objectid": course, "crud": crud,
        "edulevel": 1, "contextid": 1, "contextlevel": 50, "contextinstanceid": course,
        "userid": 2, "courseid": course, "relateduserid": null, "anonymous": 0, "other": "null",
        "timecreated": 1_795_700_000, "origin": "web", "ip": "10.0.0.1", "realuserid": null
    })
}

async fn log(db: &TestDb, events: &[Value]) {
    let refs: Vec<&Value> = events.iter().collect();
    db.exec(&insert_log_sql(db.kind, &refs, false)).await;
}

fn objectid(hit: &common::receiver::Hit) -> i64 {
    hit.json()["event"]["objectid"].as_i64().unwrap()
}

fn eventname(hit: &common::receiver::Hit) -> String {
    hit.json()["event"]["eventname"]
        .as_str()
        .unwrap()
        .to_string()
}

/// A fresh database with a live site's log (never empty), so `start = "now"` has a horizon.
fn live_db(kind: Kind) -> TestDb {
    let db = TestDb::with_schema(kind);
    db.sql(&insert_log_sql(
        kind,
        &[&course_event("course_viewed", 1)],
        false,
    ));
    db
}

// ---------------------------------------------------------------- the 2016 plugin, end to end

async fn like_the_2016_plugin(kind: Kind, run: &str) {
    let db = replay::prepared(kind, run);
    let rx = Receiver::start(always(200)).await;
    let routes: String = nosey::config::Preset::ALL
        .iter()
        .map(|p| {
            format!(
                "[[route]]\nname = \"{}\"\nurl = \"{}\"\npreset = \"{}\"\nformat = \"seed\"\n\n",
                p.name().replace('_', "-"),
                rx.url(p.path()),
                p.name()
            )
        })
        .collect();
    let start = format!("after:{}", common::before_max_id(run));
    let mut nosey = Nosey::start(&db, &routes, &[("NOSEY_MOODLE__START", &start)]);
    for (i, step) in replay::steps(&db, run).iter().enumerate() {
        db.exec(&step.sql).await;
        let hits = rx.wait_for(i + 1, 15).await;
        let hit = &hits[i];
        assert_eq!(hit.path, step.path, "{run} step {i}");
        assert_eq!(
            hit.header("content-type").as_deref(),
            Some("application/json")
        );
        assert!(hit.header("user-agent").unwrap().starts_with("nosey/"));
        let (want, got) = replay::comparable(step, std::str::from_utf8(&hit.body).unwrap());
        assert_eq!(
            got, want,
            "{run}: POST to {} (log row {})",
            step.path, step.log_id
        );
    }
    assert!(nosey.stop().success(), "{}", nosey.stderr());
    assert_eq!(rx.hits().len(), 16, "nothing else was sent");
}

#[tokio::test]
async fn like_the_2016_plugin_postgres() {
    like_the_2016_plugin(Kind::Postgres, "pg/cli-run").await;
}

#[tokio::test]
async fn like_the_2016_plugin_mariadb() {
    like_the_2016_plugin(Kind::MariaDb, "mariadb/cli-run").await;
}

// ---------------------------------------------------------------- deletes in order

#[tokio::test]
async fn created_updated_deleted_arrive_in_order_with_the_last_copy() {
    let db = live_db(Kind::Postgres);
    let rx = Receiver::start(always(200)).await;
    let routes = format!(
        "[[route]]\nname = \"courses\"\nurl = \"{}\"\npreset = \"course_crud\"\n",
        rx.url("/c")
    );
    let mut nosey = Nosey::start(&db, &routes, &[]);
    tokio::time::sleep(Duration::from_millis(500)).await;
    db.sql("INSERT INTO mdl_course (id, category, fullname, shortname, idnumber) VALUES (7, 1, 'Seven', '007', '')");
    log(&db, &[course_event("course_created", 7)]).await;
    rx.wait_for(1, 15).await;
    db.sql("UPDATE mdl_course SET fullname = 'Seven, renamed' WHERE id = 7");
    log(&db, &[course_event("course_updated", 7)]).await;
    rx.wait_for(2, 15).await;
    db.sql("DELETE FROM mdl_course WHERE id = 7");
    log(&db, &[course_event("course_deleted", 7)]).await;
    let hits = rx.wait_for(3, 15).await;
    let names: Vec<String> = hits.iter().map(eventname).collect();
    assert_eq!(
        names,
        [
            r"\core\event\course_created",
            r"\core\event\course_updated",
            r"\core\event\course_deleted"
        ]
    );
    let deleted = hits[2].json();
    assert_eq!(deleted["meta"]["record_state"], "last_known");
    assert_eq!(deleted["record"]["fullname"], "Seven, renamed");
    assert_eq!(deleted["record"]["shortname"], "007");
    assert_eq!(hits[0].json()["meta"]["record_state"], "current");
    assert!(nosey.stop().success());
}

// ---------------------------------------------------------------- retries

#[tokio::test]
async fn retries_until_delivered_dead_then_retried_by_hand() {
    let db = live_db(Kind::MariaDb);
    let port = free_port();
    let broken = Arc::new(AtomicBool::new(true));
    let b = broken.clone();
    let rx_500 = Receiver::start(Arc::new(move |_, _| {
        Reply::Status(if b.load(Ordering::SeqCst) { 500 } else { 200 })
    }))
    .await;
    let rx_410 = Receiver::start(always(410)).await;
    let routes = format!(
        "[[route]]\nname = \"flaky\"\nurl = \"http://127.0.0.1:{port}/hook\"\npreset = \"course_crud\"\n\
         timeout = \"500ms\"\nretry = {{ schedule = [\"300ms\", \"300ms\", \"300ms\", \"300ms\"] }}\n\n\
         [[route]]\nname = \"broken\"\nurl = \"{}\"\npreset = \"course_crud\"\n\
         retry = {{ schedule = [\"50ms\", \"50ms\"] }}\n\n\
         [[route]]\nname = \"gone\"\nurl = \"{}\"\npreset = \"course_crud\"\n",
        rx_500.url("/b"),
        rx_410.url("/g")
    );
    let nosey = Nosey::start(&db, &routes, &[]);
    tokio::time::sleep(Duration::from_millis(500)).await;
    log(&db, &[course_event("course_created", 5)]).await;

    // "flaky": first nothing listens (refused), then a hang (timeout), a 503 with
    // Retry-After: 1, then 200.
    tokio::time::sleep(Duration::from_millis(200)).await;
    let rx = Receiver::start_on(
        port,
        Arc::new(|_, n| match n {
            0 => Reply::Hang(Duration::from_secs(3)),
            1 => Reply::RetryAfter(503, 1),
            _ => Reply::Status(200),
        }),
    )
    .await;
    let hits = rx.wait_for(3, 20).await;
    let ids: HashSet<String> = hits
        .iter()
        .map(|h| h.header("webhook-id").unwrap())
        .collect();
    assert_eq!(ids.len(), 1, "one webhook-id across every attempt");
    assert!(
        hits[2].at - hits[1].at >= Duration::from_millis(950),
        "Retry-After: 1 was honoured ({:?})",
        hits[2].at - hits[1].at
    );
    let id = ids.into_iter().next().unwrap();
    let show = wait_status(&nosey, &id, "delivered", 10).await;
    let attempts = show["attempts_log"].as_array().unwrap();
    assert_eq!(attempts.len(), 4, "{show:#}");
    assert_eq!(attempts[0]["status_code"], Value::Null);
    assert!(
        attempts[0]["error"].as_str().unwrap().contains("refused"),
        "{show:#}"
    );
    assert_eq!(attempts[1]["status_code"], Value::Null);
    assert_eq!(attempts[2]["status_code"], 503);
    assert_eq!(attempts[3]["status_code"], 200);

    // "broken": 1 + 2 attempts, then dead; fixed, retried by hand, delivered.
    let dead = nosey.deliveries(&["--route", "broken"]);
    let dead_id = dead[0]["id"].as_str().unwrap().to_string();
    let show = wait_status(&nosey, &dead_id, "dead", 10).await;
    assert_eq!(show["attempts"], 3);
    broken.store(false, Ordering::SeqCst);
    let out = nosey.cli(&["deliveries", "retry", &dead_id]);
    assert!(out.status.success());
    let show = wait_status(&nosey, &dead_id, "delivered", 10).await;
    assert_eq!(show["attempts"], 4);

    // "gone": 410 is dead at once.
    let gone = nosey.deliveries(&["--route", "gone"]);
    let show = wait_status(&nosey, gone[0]["id"].as_str().unwrap(), "dead", 10).await;
    assert_eq!(show["attempts"], 1);
    assert_eq!(rx_410.hits().len(), 1);
}

/// Polls `deliveries show --json` until the delivery has `status`.
async fn wait_status(nosey: &Nosey, id: &str, status: &str, secs: u64) -> Value {
    let deadline = Instant::now() + Duration::from_secs(secs);
    loop {
        let out = nosey.cli(&["deliveries", "show", id, "--json"]);
        let v: Value = serde_json::from_slice(&out.stdout).unwrap_or(Value::Null);
        if v["status"] == status {
            return v;
        }
        if Instant::now() > deadline {
            panic!("{id} is not {status}: {v:#}\n{}", nosey.stderr());
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

// ---------------------------------------------------------------- order and isolation

#[tokio::test]
async fn a_failing_delivery_holds_back_only_its_own_object() {
    let db = live_db(Kind::Postgres);
    // Fail the first attempt at course 1 only.
    let first = Arc::new(AtomicBool::new(true));
    let f = first.clone();
    let rx = Receiver::start(Arc::new(move |hit, _| {
        if hit.json()["event"]["objectid"] == 1 && f.swap(false, Ordering::SeqCst) {
            Reply::Status(500)
        } else {
            Reply::Status(200)
        }
    }))
    .await;
    let routes = format!(
        "[[route]]\nname = \"ordered\"\nurl = \"{}\"\npreset = \"course_crud\"\n\
         retry = {{ schedule = [\"700ms\"] }}\n",
        rx.url("/o")
    );
    let nosey = Nosey::start(&db, &routes, &[]);
    tokio::time::sleep(Duration::from_millis(500)).await;
    log(
        &db,
        &[
            course_event("course_created", 1),
            course_event("course_created", 2),
            course_event("course_updated", 1),
            course_event("course_created", 3),
            course_event("course_deleted", 1),
            course_event("course_updated", 2),
        ],
    )
    .await;
    let hits = rx.wait_for(7, 20).await;
    let c1: Vec<String> = hits
        .iter()
        .filter(|h| objectid(h) == 1)
        .map(eventname)
        .collect();
    assert_eq!(
        c1,
        [
            r"\core\event\course_created",
            r"\core\event\course_created",
            r"\core\event\course_updated",
            r"\core\event\course_deleted"
        ],
        "course 1 in order, its first attempt failing"
    );
    let retry_at = hits.iter().filter(|h| objectid(h) == 1).nth(1).unwrap().at;
    for h in hits.iter().filter(|h| objectid(h) != 1) {
        assert!(
            h.at < retry_at,
            "other courses did not wait for course 1's retry"
        );
    }
    let c2: Vec<String> = hits
        .iter()
        .filter(|h| objectid(h) == 2)
        .map(eventname)
        .collect();
    assert_eq!(
        c2,
        [r"\core\event\course_created", r"\core\event\course_updated"]
    );
    drop(nosey);
}

/// Median latency, on the `fast` route, from inserting a log row to its receipt.
async fn healthy_route_latency(db: &TestDb, slow_hangs: bool) -> Duration {
    let fast = Receiver::start(always(200)).await;
    let slow = Receiver::start(if slow_hangs {
        Arc::new(|_, _| Reply::Hang(Duration::from_secs(30)))
    } else {
        always(200)
    })
    .await;
    let routes = format!(
        "[[route]]\nname = \"fast\"\nurl = \"{}\"\npreset = \"course_crud\"\n\n\
         [[route]]\nname = \"slow\"\nurl = \"{}\"\npreset = \"course_crud\"\ntimeout = \"20s\"\nconcurrency = 2\n",
        fast.url("/f"),
        slow.url("/s")
    );
    let mut nosey = Nosey::start(db, &routes, &[]);
    tokio::time::sleep(Duration::from_millis(700)).await;
    let mut latencies = Vec::new();
    for i in 0..20 {
        let sent = Instant::now();
        log(db, &[course_event("course_updated", 100 + i)]).await;
        let hits = fast.wait_for(i as usize + 1, 10).await;
        latencies.push(hits[i as usize].at - sent);
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    nosey.kill9();
    latencies.sort();
    latencies[latencies.len() / 2]
}

#[tokio::test]
async fn a_hanging_receiver_does_not_slow_another_route() {
    let db = live_db(Kind::Postgres);
    let baseline = healthy_route_latency(&db, false).await;
    let db2 = live_db(Kind::Postgres);
    let with_hang = healthy_route_latency(&db2, true).await;
    eprintln!(
        "healthy route p50 latency: {baseline:?} alone, {with_hang:?} beside a hanging route"
    );
    assert!(
        with_hang < baseline + Duration::from_millis(150),
        "{with_hang:?} vs {baseline:?}"
    );
}

// ---------------------------------------------------------------- pause, enabled = false

#[tokio::test]
async fn a_paused_route_queues_and_sends_on_resume() {
    let db = live_db(Kind::Postgres);
    let rx = Receiver::start(always(200)).await;
    let routes = format!(
        "[[route]]\nname = \"crm\"\nurl = \"{}\"\npreset = \"course_crud\"\n",
        rx.url("/p")
    );
    let nosey = Nosey::start(&db, &routes, &[]);
    assert!(nosey.cli(&["routes", "pause", "crm"]).status.success());
    tokio::time::sleep(Duration::from_millis(1200)).await;
    log(
        &db,
        &[
            course_event("course_created", 1),
            course_event("course_created", 2),
        ],
    )
    .await;
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert!(rx.hits().is_empty(), "nothing sent while paused");
    assert_eq!(
        nosey.deliveries(&["--status", "pending"]).len(),
        2,
        "queued"
    );
    assert!(nosey.cli(&["routes", "resume", "crm"]).status.success());
    rx.wait_for(2, 10).await;
    let list = String::from_utf8(nosey.cli(&["routes", "list"]).stdout).unwrap();
    assert!(list.contains("crm"), "{list}");
}

#[tokio::test]
async fn disabled_reads_on_but_queues_nothing() {
    let db = live_db(Kind::MariaDb);
    let rx = Receiver::start(always(200)).await;
    let routes = format!(
        "[[route]]\nname = \"crm\"\nurl = \"{}\"\npreset = \"course_crud\"\n",
        rx.url("/d")
    );
    let mut nosey = Nosey::start(&db, &routes, &[("NOSEY_ENABLED", "false")]);
    tokio::time::sleep(Duration::from_millis(500)).await;
    log(&db, &[course_event("course_created", 1)]).await;
    tokio::time::sleep(Duration::from_millis(1000)).await;
    assert!(nosey.stop().success());
    assert!(rx.hits().is_empty());
    assert!(nosey.deliveries(&[]).is_empty());
    // Re-enabled, it does not replay what it skipped: the cursor moved on.
    nosey.set_env("NOSEY_ENABLED", "true");
    nosey.restart();
    tokio::time::sleep(Duration::from_millis(800)).await;
    log(&db, &[course_event("course_created", 2)]).await;
    let hits = rx.wait_for(1, 10).await;
    assert_eq!(objectid(&hits[0]), 2);
    assert!(nosey.stop().success());
}

// ---------------------------------------------------------------- crash safety

#[tokio::test]
async fn kill_9_loses_nothing() {
    const EVENTS: i64 = 10_000;
    let db = live_db(Kind::Postgres);
    let rx = Receiver::start(always(200)).await;
    let routes = format!(
        "[[route]]\nname = \"all\"\nurl = \"{}\"\nevents = ['\\core\\event\\course_*']\nconcurrency = 32\n",
        rx.url("/all")
    );
    let mut nosey = Nosey::start(&db, &routes, &[]);
    tokio::time::sleep(Duration::from_millis(500)).await;
    let writer = {
        let url = db.url.clone();
        tokio::spawn(async move {
            let pool = sqlx::PgPool::connect(&url).await.unwrap();
            for chunk in 0..(EVENTS / 500) {
                let rows: Vec<Value> = (0..500)
                    .map(|i| course_event("course_updated", chunk * 500 + i + 1))
                    .collect();
                let refs: Vec<&Value> = rows.iter().collect();
                sqlx::raw_sql(sqlx::AssertSqlSafe(insert_log_sql(
                    Kind::Postgres,
                    &refs,
                    false,
                )))
                .execute(&pool)
                .await
                .unwrap();
                tokio::time::sleep(Duration::from_millis(40)).await;
            }
        })
    };
    let mut crashes = 0;
    for wait_ms in [300u64, 450, 700] {
        tokio::time::sleep(Duration::from_millis(wait_ms)).await;
        nosey.kill9();
        crashes += 1;
        nosey.restart();
    }
    writer.await.unwrap();
    let deadline = Instant::now() + Duration::from_secs(60);
    let unique = loop {
        let seen: HashSet<i64> = rx.hits().iter().map(objectid).collect();
        if seen.len() as i64 == EVENTS || Instant::now() > deadline {
            break seen;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    let total = rx.hits().len();
    let mut per_object: HashMap<i64, usize> = HashMap::new();
    for h in rx.hits() {
        *per_object.entry(objectid(&h)).or_default() += 1;
    }
    eprintln!(
        "kill -9 x{crashes} during {EVENTS} events: {} delivered, {} unique, {} duplicates",
        total,
        unique.len(),
        total - unique.len()
    );
    assert_eq!(
        unique.len() as i64,
        EVENTS,
        "every event delivered at least once"
    );
    assert!(nosey.stop().success());
}

// ---------------------------------------------------------------- size limit

#[tokio::test]
async fn a_5mb_record_goes_without_it_and_an_oversized_event_dies_with_a_reason() {
    let db = live_db(Kind::Postgres);
    let rx = Receiver::start(always(200)).await;
    let routes = format!(
        "[[route]]\nname = \"big\"\nurl = \"{}\"\npreset = \"course_crud\"\n\n\
         [[route]]\nname = \"tiny\"\nurl = \"{}\"\npreset = \"course_crud\"\nmax_body_size = \"1KiB\"\n",
        rx.url("/big"),
        rx.url("/tiny")
    );
    let nosey = Nosey::start(&db, &routes, &[]);
    tokio::time::sleep(Duration::from_millis(500)).await;
    db.sql(
        "INSERT INTO mdl_course (id, category, fullname, shortname, idnumber, summary) \
         VALUES (9, 1, 'Big', 'big', '', repeat('x', 5 * 1024 * 1024))",
    );
    let mut ev = course_event("course_updated", 9);
    ev["other"] = json!(json!({"note": "y".repeat(2000)}).to_string());
    log(&db, &[ev]).await;
    let hits = rx.wait_for(1, 15).await;
    let body = hits[0].json();
    assert_eq!(hits[0].path, "/big");
    assert!(
        hits[0].body.len() < 1 << 20,
        "within the default max_body_size"
    );
    assert_eq!(body["record"], false);
    assert_eq!(body["meta"]["record_state"], "too_large");
    let tiny = nosey.deliveries(&["--route", "tiny"]);
    assert_eq!(tiny[0]["status"], "dead");
    assert!(
        tiny[0]["last_error"]
            .as_str()
            .unwrap()
            .contains("max_body_size"),
        "{tiny:?}"
    );
    assert!(nosey.stderr().contains("sent without its record"));
}
