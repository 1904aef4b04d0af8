//! Failures injected on purpose: the store's disk fills up, Moodle's database connections are
//! killed mid-stream, Moodle's database server stops and comes back, receivers misbehave.
//! Each test checks that nothing is lost and that nosey says what happened.
//!
//! `NOSEY_FAULT_PROFILE=full` makes the outages longer and the streams bigger (see
//! docs/reliability.md); the default quick profile runs in CI.

mod common;

use std::collections::HashSet;
use std::path::Path;
use std::process::Command;
use std::sync::Arc;
use std::time::{Duration, Instant};

use common::receiver::{Receiver, Reply, always};
use common::run::Nosey;
use common::{Kind, TestDb, insert_log_sql};
use serde_json::{Value, json};

fn full() -> bool {
    std::env::var("NOSEY_FAULT_PROFILE").is_ok_and(|p| p == "full")
}

fn event(course: i64) -> Value {
    json!({
        "eventname": r"\core\event\course_updated", "component": "core", "action": "updated",
        "target": "course", "objecttable": "course", "objectid": course, "crud": "u",
        "edulevel": 1, "contextid": 1, "contextlevel": 50, "contextinstanceid": course,
        "userid": 2, "courseid": course, "relateduserid": null, "anonymous": 0,
        "other": json!({"shortname": "x".repeat(2000)}).to_string(),
        "timecreated": 1_795_700_000, "origin": "web", "ip": "10.0.0.1", "realuserid": null
    })
}

async fn insert_events(db: &TestDb, from: i64, n: i64) {
    for chunk in (from..from + n).collect::<Vec<_>>().chunks(200) {
        let rows: Vec<Value> = chunk.iter().map(|&i| event(i)).collect();
        let refs: Vec<&Value> = rows.iter().collect();
        db.exec(&insert_log_sql(db.kind, &refs, false)).await;
    }
}

fn live_db(kind: Kind) -> TestDb {
    let db = TestDb::with_schema(kind);
    db.sql(&insert_log_sql(kind, &[&event(0)], false));
    db
}

/// Waits until the receiver has seen every objectid in `1..=n` (returns how many requests
/// that took), or panics with nosey's log.
async fn wait_all(rx: &Receiver, n: i64, secs: u64, nosey: &Nosey) -> usize {
    let deadline = Instant::now() + Duration::from_secs(secs);
    loop {
        let hits = rx.hits();
        let seen: HashSet<i64> = hits
            .iter()
            .map(|h| h.json()["event"]["objectid"].as_i64().unwrap())
            .collect();
        if (1..=n).all(|i| seen.contains(&i)) {
            return hits.len();
        }
        if Instant::now() > deadline {
            let missing: Vec<i64> = (1..=n).filter(|i| !seen.contains(i)).take(10).collect();
            panic!(
                "{} of {n} events delivered in {secs}s (missing {missing:?}…); routes:\n{}\nnosey said:\n{}",
                seen.len(),
                String::from_utf8_lossy(&nosey.cli(&["routes", "list"]).stdout),
                nosey.stderr()
            );
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

// ---------------------------------------------------------------- the store's disk fills up

struct Tmpfs(std::path::PathBuf);

impl Tmpfs {
    fn mount(dir: &Path, size: &str) -> Tmpfs {
        let st = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"])
            .arg(dir)
            .status()
            .expect("mount");
        assert!(
            st.success(),
            "mounting a tmpfs needs root (CI and the test script run as root)"
        );
        Tmpfs(dir.to_path_buf())
    }

    fn resize(&self, size: &str) {
        let st = Command::new("mount")
            .args(["-o", &format!("remount,size={size}")])
            .arg(&self.0)
            .status()
            .unwrap();
        assert!(st.success());
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg("-l").arg(&self.0).status();
    }
}

#[tokio::test]
async fn a_full_disk_pauses_reading_and_loses_nothing() {
    let db = live_db(Kind::Postgres);
    let rx = Receiver::start(always(200)).await;
    let mount = tempfile::tempdir().unwrap();
    let fs = Tmpfs::mount(mount.path(), "1m");
    let store = mount.path().join("nosey.db");
    let routes = format!(
        "[[route]]\nname = \"r\"\nurl = \"{}\"\nevents = ['*']\n",
        rx.url("/r")
    );
    let mut nosey = Nosey::start(
        &db,
        &routes,
        &[("NOSEY_STORE__PATH", store.to_str().unwrap())],
    );
    tokio::time::sleep(Duration::from_millis(500)).await;
    let n = if full() { 5000 } else { 1500 };
    insert_events(&db, 1, n).await;
    // With ~2.5 KB per delivery, 1 MB cannot hold them: reading must stop, not skip.
    let deadline = Instant::now() + Duration::from_secs(20);
    while !nosey.stderr().contains("disk is full") {
        assert!(
            Instant::now() < deadline,
            "no full-disk report:\n{}",
            nosey.stderr()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let during = rx.hits().len();
    let full_at = Instant::now();
    fs.resize("256m");
    let total = wait_all(&rx, n, 60, &nosey).await;
    eprintln!(
        "store full after {during} deliveries; recovered {:?} after space returned; {n} events, {} requests, {} duplicates",
        full_at.elapsed(),
        total,
        total as i64 - n
    );
    assert!(
        nosey.stderr().contains("events flow again")
            || nosey.stderr().contains("recording delivery attempts again")
    );
    assert!(nosey.stop().success());
}

// ---------------------------------------------------------------- database connections killed

async fn kill_connections(db: &TestDb) {
    match db.kind {
        Kind::Postgres => {
            let admin = std::env::var("NOSEY_TEST_PG_ADMIN_URL").unwrap();
            let pool = sqlx::PgPool::connect(&admin).await.unwrap();
            sqlx::query(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
                 WHERE datname = $1 AND application_name = 'nosey'",
            )
            .bind(&db.name)
            .execute(&pool)
            .await
            .unwrap();
            pool.close().await;
        }
        Kind::MariaDb => {
            let admin = std::env::var("NOSEY_TEST_MYSQL_ADMIN_URL").unwrap();
            let pool = sqlx::MySqlPool::connect(&admin).await.unwrap();
            let ids: Vec<(i64,)> = sqlx::query_as(
                "SELECT id FROM information_schema.processlist WHERE db = ? AND id <> CONNECTION_ID()",
            )
            .bind(&db.name)
            .fetch_all(&pool)
            .await
            .unwrap();
            for (id,) in ids {
                let _ = sqlx::raw_sql(sqlx::AssertSqlSafe(format!("KILL {id}")))
                    .execute(&pool)
                    .await;
            }
            pool.close().await;
        }
    }
}

async fn killed_connections(kind: Kind) {
    let db = live_db(kind);
    let rx = Receiver::start(always(200)).await;
    let routes = format!(
        "[[route]]\nname = \"r\"\nurl = \"{}\"\nevents = ['*']\n",
        rx.url("/r")
    );
    let mut nosey = Nosey::start(&db, &routes, &[("NOSEY_MOODLE__BATCH_SIZE", "100")]);
    tokio::time::sleep(Duration::from_millis(500)).await;
    let n = if full() { 5000 } else { 1000 };
    let writer = {
        let url = db.url.clone();
        let kind = db.kind;
        tokio::spawn(async move {
            for chunk in (1..=n).collect::<Vec<_>>().chunks(100) {
                let rows: Vec<Value> = chunk.iter().map(|&i| event(i)).collect();
                let refs: Vec<&Value> = rows.iter().collect();
                // The killer may hit this connection too: insert again until it sticks.
                let sql = insert_log_sql(kind, &refs, false);
                while !insert_once(kind, &url, &sql).await {
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
                tokio::time::sleep(Duration::from_millis(30)).await;
            }
        })
    };
    for _ in 0..4 {
        tokio::time::sleep(Duration::from_millis(150)).await;
        kill_connections(&db).await;
    }
    writer.await.unwrap();
    let total = wait_all(&rx, n, 60, &nosey).await;
    eprintln!("{kind:?}: connections killed 4 times; {n} events, {total} requests");
    assert!(nosey.stop().success());
}

async fn insert_once(kind: Kind, url: &str, sql: &str) -> bool {
    let sql = sqlx::AssertSqlSafe(sql.to_string());
    match kind {
        Kind::Postgres => match sqlx::PgPool::connect(url).await {
            Ok(p) => sqlx::raw_sql(sql).execute(&p).await.is_ok(),
            Err(_) => false,
        },
        Kind::MariaDb => match sqlx::MySqlPool::connect(url).await {
            Ok(p) => sqlx::raw_sql(sql).execute(&p).await.is_ok(),
            Err(_) => false,
        },
    }
}

#[tokio::test]
async fn killed_connections_postgres() {
    killed_connections(Kind::Postgres).await;
}

#[tokio::test]
async fn killed_connections_mariadb() {
    killed_connections(Kind::MariaDb).await;
}

// ---------------------------------------------------------------- misbehaving receivers

#[tokio::test]
async fn misbehaving_receivers_are_retried_and_healthy_routes_keep_their_pace() {
    let db = live_db(Kind::Postgres);
    let healthy = Receiver::start(always(200)).await;
    let hang = Receiver::start(Arc::new(|_, _| Reply::Hang(Duration::from_secs(60)))).await;
    let failing = Receiver::start(always(500)).await;
    let raw = raw_misbehaving_server().await;
    let tls = untrusted_tls_server().await;
    let retry = "retry = { schedule = [\"200ms\", \"200ms\", \"200ms\"] }";
    let routes = format!(
        "[[route]]\nname = \"healthy\"\nurl = \"{}\"\nevents = ['*']\n\n\
         [[route]]\nname = \"hang\"\nurl = \"{}\"\nevents = ['*']\ntimeout = \"300ms\"\n{retry}\n\n\
         [[route]]\nname = \"fail\"\nurl = \"{}\"\nevents = ['*']\n{retry}\n\n\
         [[route]]\nname = \"half\"\nurl = \"http://{raw}/half\"\nevents = ['*']\n{retry}\n\n\
         [[route]]\nname = \"reset\"\nurl = \"http://{raw}/reset\"\nevents = ['*']\n{retry}\n\n\
         [[route]]\nname = \"badcert\"\nurl = \"https://{tls}/tls\"\nevents = ['*']\n{retry}\n\n\
         [[route]]\nname = \"nodns\"\nurl = \"http://receiver.nosey-test.invalid/x\"\nevents = ['*']\n{retry}\n",
        healthy.url("/h"),
        hang.url("/x"),
        failing.url("/f"),
    );
    let mut nosey = Nosey::start(&db, &routes, &[]);
    tokio::time::sleep(Duration::from_millis(600)).await;
    let n = 20;
    let mut latencies = Vec::new();
    for i in 1..=n {
        let sent = Instant::now();
        insert_events(&db, i, 1).await;
        let hits = healthy.wait_for(i as usize, 10).await;
        latencies.push(hits[i as usize - 1].at - sent);
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    latencies.sort();
    let p50 = latencies[latencies.len() / 2];
    eprintln!(
        "healthy route beside six broken ones: p50 {p50:?}, max {:?}",
        latencies.last().unwrap()
    );
    assert!(p50 < Duration::from_millis(400), "{p50:?}");
    // Let every broken route exhaust its schedule (1 + 3 attempts), then check each is dead
    // with an error that says why.
    tokio::time::sleep(Duration::from_secs(3)).await;
    let expect = [
        ("hang", "timed out"),
        ("fail", ""),
        ("half", ""),
        ("reset", ""),
        ("badcert", "TLS"),
        ("nodns", "dns"),
    ];
    for (route, needle) in expect {
        let list = nosey.deliveries(&["--route", route]);
        assert_eq!(list.len() as i64, n, "{route}: one delivery per event");
        let dead = list.iter().filter(|d| d["status"] == "dead").count();
        assert!(
            dead > 0,
            "{route}: some died after their schedule: {list:?}"
        );
        let d = &list[list.len() - 1];
        let err = d["last_error"].as_str().unwrap_or("");
        assert!(err.contains(needle), "{route}: {d}");
        if route == "fail" {
            assert_eq!(d["last_status"], 500);
        }
    }
    assert!(nosey.stop().success());
}

/// A server that answers half a response and closes (`/half`) or resets the connection
/// (`/reset`).
async fn raw_misbehaving_server() -> std::net::SocketAddr {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        loop {
            let Ok((mut sock, _)) = listener.accept().await else {
                return;
            };
            tokio::spawn(async move {
                let mut buf = vec![0u8; 65536];
                let n = sock.read(&mut buf).await.unwrap_or(0);
                let head = String::from_utf8_lossy(&buf[..n]).to_string();
                if head.starts_with("POST /half") {
                    let _ = sock
                        .write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 100\r\n\r\n{\"ok\"")
                        .await;
                } else if head.starts_with("POST /reset") {
                    // SO_LINGER 0 turns the close into a TCP reset.
                    let std_sock = sock.into_std().unwrap();
                    let _ = socket2::SockRef::from(&std_sock).set_linger(Some(Duration::ZERO));
                    drop(std_sock);
                    return;
                }
                drop(sock);
            });
        }
    });
    addr
}

/// An HTTPS server whose certificate is self-signed: no client should trust it.
async fn untrusted_tls_server() -> std::net::SocketAddr {
    use rustls::pki_types::{PrivateKeyDer, PrivatePkcs8KeyDer};
    let ck = rcgen::generate_simple_self_signed(vec!["127.0.0.1".to_string()]).unwrap();
    let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(ck.signing_key.serialize_der()));
    let config = rustls::ServerConfig::builder()
        .with_no_client_auth()
        .with_single_cert(vec![ck.cert.der().clone()], key)
        .unwrap();
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((tcp, _)) = listener.accept().await {
            let acceptor = acceptor.clone();
            tokio::spawn(async move {
                let _ = acceptor.accept(tcp).await;
            });
        }
    });
    addr
}

// ---------------------------------------------------------------- the database server stops

/// A PostgreSQL server of this test's own, so it can be stopped and started.
struct OwnPostgres {
    dir: tempfile::TempDir,
    port: u16,
    bin: std::path::PathBuf,
}

impl OwnPostgres {
    fn start() -> OwnPostgres {
        let bin = std::fs::read_dir("/usr/lib/postgresql")
            .unwrap()
            .filter_map(|e| e.ok())
            .map(|e| e.path().join("bin"))
            .max()
            .unwrap();
        let dir = tempfile::Builder::new()
            .prefix("nosey-ownpg")
            .tempdir_in("/tmp")
            .unwrap();
        Command::new("chown")
            .arg("postgres")
            .arg(dir.path())
            .status()
            .unwrap();
        let port = common::receiver::free_port();
        let pg = OwnPostgres { dir, port, bin };
        pg.as_postgres(&[
            "initdb",
            "-D",
            &pg.data(),
            "-U",
            "postgres",
            "--auth=trust",
            "--no-sync",
        ]);
        pg.up();
        pg
    }

    fn data(&self) -> String {
        self.dir.path().join("data").display().to_string()
    }

    fn as_postgres(&self, args: &[&str]) {
        let exe = self.bin.join(args[0]);
        let st = Command::new("runuser")
            .args(["-u", "postgres", "--"])
            .arg(exe)
            .args(&args[1..])
            .stdout(std::process::Stdio::null())
            .status()
            .unwrap();
        assert!(st.success(), "{args:?}");
    }

    fn up(&self) {
        let opts = format!(
            "-p {} -c listen_addresses=127.0.0.1 -c unix_socket_directories='' -c fsync=off",
            self.port
        );
        let log = self.dir.path().join("log").display().to_string();
        self.as_postgres(&[
            "pg_ctl",
            "-D",
            &self.data(),
            "-l",
            &log,
            "-w",
            "-o",
            &opts,
            "start",
        ]);
    }

    fn down(&self) {
        self.as_postgres(&["pg_ctl", "-D", &self.data(), "-m", "fast", "-w", "stop"]);
    }

    fn url(&self) -> String {
        format!("postgres://postgres@127.0.0.1:{}/postgres", self.port)
    }
}

impl Drop for OwnPostgres {
    fn drop(&mut self) {
        let _ = Command::new("runuser")
            .args(["-u", "postgres", "--"])
            .arg(self.bin.join("pg_ctl"))
            .args(["-D", &self.data(), "-m", "immediate", "stop"])
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .status();
    }
}

#[tokio::test]
async fn the_database_server_stops_and_returns() {
    let pg = OwnPostgres::start();
    let load = Command::new("psql")
        .args([
            "-X",
            "-q",
            "-v",
            "ON_ERROR_STOP=1",
            &pg.url(),
            "-c",
            "CREATE ROLE moodle",
        ])
        .status()
        .unwrap();
    assert!(load.success());
    let schema = common::fixtures().join("pg/schema.sql");
    let st = Command::new("psql")
        .args(["-X", "-q", "-v", "ON_ERROR_STOP=1", &pg.url(), "-f"])
        .arg(&schema)
        .stdout(std::process::Stdio::null())
        .status()
        .unwrap();
    assert!(st.success());
    let url = pg.url();
    let exec = |sql: String| {
        let url = url.clone();
        async move {
            let p = sqlx::PgPool::connect(&url).await.unwrap();
            sqlx::raw_sql(sqlx::AssertSqlSafe(sql))
                .execute(&p)
                .await
                .unwrap();
            p.close().await;
        }
    };
    exec(insert_log_sql(Kind::Postgres, &[&event(0)], false)).await;
    let rx = Receiver::start(always(200)).await;
    let routes = format!(
        "[[route]]\nname = \"r\"\nurl = \"{}\"\nevents = ['*']\n",
        rx.url("/r")
    );
    let mut nosey = Nosey::start_moodle(&format!("url = \"{}\"", pg.url()), &routes, &[]);
    tokio::time::sleep(Duration::from_millis(600)).await;
    let rows: Vec<Value> = (1..=100).map(event).collect();
    exec(insert_log_sql(
        Kind::Postgres,
        &rows.iter().collect::<Vec<_>>(),
        false,
    ))
    .await;
    rx.wait_for(100, 20).await;

    let outage = Duration::from_secs(if full() { 30 } else { 5 });
    pg.down();
    tokio::time::sleep(outage).await;
    pg.up();
    let back = Instant::now();
    let rows: Vec<Value> = (101..=200).map(event).collect();
    exec(insert_log_sql(
        Kind::Postgres,
        &rows.iter().collect::<Vec<_>>(),
        false,
    ))
    .await;
    let total = wait_all(&rx, 200, 60, &nosey).await;
    let log = nosey.stderr();
    eprintln!(
        "database down {outage:?}: {total} requests for 200 events; delivering again {:?} after the server returned",
        back.elapsed()
    );
    assert_eq!(
        log.matches("Moodle database unavailable").count(),
        1,
        "said once:\n{log}"
    );
    assert!(log.contains("Moodle database reachable again"), "{log}");
    assert!(nosey.stop().success());
}

// ---------------------------------------------------------------- crashes

fn keyed_event(i: i64, keys: i64) -> Value {
    let mut e = event(i % keys + 1);
    e["other"] = json!(json!({ "seq": i }).to_string());
    e
}

async fn crashes(kind: Kind) {
    let (events, kills) = if full() { (20_000, 20) } else { (3_000, 5) };
    let keys = 50;
    let db = live_db(kind);
    let rx = Receiver::start(always(200)).await;
    let routes: String = ["object", "course", "route"]
        .iter()
        .map(|o| {
            format!(
                "[[route]]\nname = \"{o}\"\nurl = \"{}\"\nevents = ['*']\nordering = \"{o}\"\n\n",
                rx.url(&format!("/{o}"))
            )
        })
        .collect();
    let mut nosey = Nosey::start(&db, &routes, &[]);
    tokio::time::sleep(Duration::from_millis(500)).await;
    let writer = {
        let url = db.url.clone();
        tokio::spawn(async move {
            for chunk in (1..=events).collect::<Vec<_>>().chunks(250) {
                let rows: Vec<Value> = chunk.iter().map(|&i| keyed_event(i, keys)).collect();
                let refs: Vec<&Value> = rows.iter().collect();
                let sql = sqlx::AssertSqlSafe(insert_log_sql(kind, &refs, false));
                match kind {
                    Kind::Postgres => {
                        let p = sqlx::PgPool::connect(&url).await.unwrap();
                        sqlx::raw_sql(sql).execute(&p).await.unwrap();
                    }
                    Kind::MariaDb => {
                        let p = sqlx::MySqlPool::connect(&url).await.unwrap();
                        sqlx::raw_sql(sql).execute(&p).await.unwrap();
                    }
                }
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        })
    };
    let mut before = 0;
    let mut per_crash = Vec::new();
    for k in 0..kills {
        tokio::time::sleep(Duration::from_millis(150 + (k * 37 % 200) as u64)).await;
        nosey.kill9();
        per_crash.push(rx.hits().len() - before);
        before = rx.hits().len();
        nosey.restart();
    }
    writer.await.unwrap();
    // Every event, on every route, at least once, and per key in log order. (The strict-FIFO
    // route sends one at a time: in a debug build the full profile needs minutes.)
    let deadline = Instant::now() + Duration::from_secs(if full() { 900 } else { 120 });
    let hits = loop {
        let hits = rx.hits();
        let firsts: HashSet<(String, i64)> = hits
            .iter()
            .map(|h| {
                (
                    h.path.clone(),
                    h.json()["event"]["other"]["seq"].as_i64().unwrap(),
                )
            })
            .collect();
        if firsts.len() as i64 == 3 * events {
            break hits;
        }
        assert!(
            Instant::now() < deadline,
            "{} of {} delivered\n{}\n{}",
            firsts.len(),
            3 * events,
            String::from_utf8_lossy(&nosey.cli(&["routes", "list"]).stdout),
            nosey
                .stderr()
                .lines()
                .rev()
                .take(30)
                .collect::<Vec<_>>()
                .join("\n")
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    let mut seen = HashSet::new();
    let mut last: std::collections::HashMap<(String, i64), i64> = Default::default();
    for h in &hits {
        let body = h.json();
        let seq = body["event"]["other"]["seq"].as_i64().unwrap();
        if !seen.insert((h.path.clone(), seq)) {
            continue; // a duplicate: only in-flight deliveries repeat
        }
        let key = match h.path.as_str() {
            "/route" => 0,
            _ => body["event"]["objectid"].as_i64().unwrap(),
        };
        let prev = last.insert((h.path.clone(), key), seq);
        assert!(
            prev.is_none_or(|p| p < seq),
            "{}: key {key} out of order: {prev:?} then {seq}",
            h.path
        );
    }
    let duplicates = hits.len() - seen.len();
    eprintln!(
        "{kind:?}: kill -9 x{kills} during {events} events x 3 routes: lost 0, {duplicates} duplicates ({:.1} per crash)",
        duplicates as f64 / kills as f64
    );
    assert!(nosey.stop().success());
}

#[tokio::test]
async fn kill_9_again_and_again_postgres() {
    crashes(Kind::Postgres).await;
}

#[tokio::test]
async fn kill_9_again_and_again_mariadb() {
    crashes(Kind::MariaDb).await;
}

// ---------------------------------------------------------------- load with failing routes

fn peak_rss_kib(pid: u32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .unwrap_or_default()
        .lines()
        .find(|l| l.starts_with("VmHWM:"))
        .and_then(|l| l.split_whitespace().nth(1)?.parse().ok())
        .unwrap_or(0)
}

#[tokio::test]
async fn a_big_backlog_with_failing_routes_stays_small_and_drains() {
    let events: i64 = if full() { 5_000 } else { 1_000 };
    let db = live_db(Kind::Postgres);
    let healthy = Receiver::start(always(200)).await;
    let failing = Receiver::start(always(503)).await;
    let mut routes = String::new();
    for r in 0..20 {
        let (url, retry) = if r < 5 {
            (
                failing.url(&format!("/f{r}")),
                "retry = { schedule = [\"1h\"] }",
            )
        } else {
            (healthy.url(&format!("/h{r}")), "")
        };
        routes +=
            &format!("[[route]]\nname = \"r{r}\"\nurl = \"{url}\"\nevents = ['*']\n{retry}\n\n");
    }
    // Queue the backlog first (routes paused), then let it drain.
    let mut nosey = Nosey::start(&db, &routes, &[]);
    for r in 0..20 {
        assert!(
            nosey
                .cli(&["routes", "pause", &format!("r{r}")])
                .status
                .success()
        );
    }
    tokio::time::sleep(Duration::from_millis(800)).await;
    insert_events(&db, 1, events).await;
    let queued = 20 * events;
    let deadline = Instant::now() + Duration::from_secs(120);
    while (nosey.deliveries(&["--status", "pending"]).len() as i64) < queued {
        assert!(
            Instant::now() < deadline,
            "backlog not queued; nosey's log:\n{}",
            nosey.stderr()
        );
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    let start = Instant::now();
    for r in 0..20 {
        assert!(
            nosey
                .cli(&["routes", "resume", &format!("r{r}")])
                .status
                .success()
        );
    }
    healthy.wait_for((15 * events) as usize, 300).await;
    let took = start.elapsed();
    let pid = nosey.proc.as_ref().unwrap().child.id();
    let rss = peak_rss_kib(pid);
    eprintln!(
        "{queued} queued deliveries over 20 routes, 5 failing: 15 healthy routes drained {} in {took:?} ({:.0}/s); nosey's peak RSS {} MiB",
        15 * events,
        (15 * events) as f64 / took.as_secs_f64(),
        rss / 1024
    );
    assert!(rss < 200 * 1024, "peak RSS {rss} KiB");
    assert!(failing.hits().len() >= 5, "failing routes were tried");
    assert!(nosey.stop().success());
}
