//! `nosey listen`: a local webhook receiver for trying nosey out and debugging a route.
//!
//! It accepts a POST on any path, checks the Standard Webhooks signature with the secrets it
//! was given, pulls the few facts a person wants to see out of whichever body shape arrived
//! (`nosey`, the 2016 plugin's `seed`, or a CloudEvents envelope) and hands a [`Received`] to
//! the caller over a channel. The answer (status and delay) is configurable so that nosey's
//! retries and timeouts can be exercised against it.
//!
//! A receiver that is slow to answer would change what it is measuring, so the answer never
//! waits for the consumer of the channel: when the channel is full the record is dropped and
//! counted instead.

use std::collections::BTreeMap;
use std::fmt;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use axum::Router;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::{HeaderMap, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use bytes::Bytes;
use serde_json::Value;
use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinHandle;

use crate::deliver::sign::{VerifyError, verify};

/// Largest body read; a larger one is answered 413 and not received.
pub const MAX_BODY: usize = 16 * 1024 * 1024;

/// Records buffered for the consumer before new ones are dropped.
pub const CHANNEL_CAPACITY: usize = 10_000;

/// How the receiver behaves.
#[derive(Debug, Clone)]
pub struct ListenOptions {
    pub addr: SocketAddr,
    /// Decoded signing keys; empty means signatures are not verified.
    pub secrets: Vec<Vec<u8>>,
    /// Status of every answer (200..=599).
    pub status: u16,
    /// Wait this long before answering.
    pub delay: Duration,
    /// How far `webhook-timestamp` may be from now, in seconds.
    pub tolerance_secs: i64,
}

impl Default for ListenOptions {
    fn default() -> Self {
        ListenOptions {
            addr: SocketAddr::from(([127, 0, 0, 1], 8787)),
            secrets: Vec::new(),
            status: 200,
            delay: Duration::ZERO,
            tolerance_secs: 300,
        }
    }
}

/// The outcome of checking `webhook-signature`.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(tag = "status", content = "reason", rename_all = "snake_case")]
pub enum SignatureCheck {
    /// One of the secrets verifies the signature.
    Valid,
    /// A signature was sent and did not verify; why.
    Invalid(String),
    /// No `webhook-signature` header.
    Unsigned,
    /// A signature was sent but no secret was given to check it with.
    NotChecked,
}

impl fmt::Display for SignatureCheck {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SignatureCheck::Valid => f.write_str("signature ok"),
            SignatureCheck::Invalid(why) => write!(f, "signature INVALID ({why})"),
            SignatureCheck::Unsigned => f.write_str("unsigned"),
            SignatureCheck::NotChecked => f.write_str("signature not checked"),
        }
    }
}

/// One webhook as received and understood.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Received {
    pub path: String,
    pub webhook_id: Option<String>,
    /// `event.eventname`, whatever the body shape.
    pub eventname: Option<String>,
    /// `objecttable/objectid`, e.g. `course/2`.
    pub object: Option<String>,
    /// `meta.route`, else the request path.
    pub route: Option<String>,
    pub log_id: Option<i64>,
    pub signature: SignatureCheck,
    /// Receipt time minus `webhook-timestamp`, or minus the event's `timecreated` when there is
    /// no timestamp. Both are whole seconds, so up to 999 ms of this is rounding.
    pub latency_ms: Option<i64>,
    /// Serialized as the JSON itself when it is JSON (so `--json` output can be piped to jq),
    /// else as text.
    #[serde(serialize_with = "body_as_json_or_text")]
    pub body: Bytes,
    pub received_at_ms: i64,
}

/// A running receiver: its bound address and a stream of what it received.
///
/// Dropping it stops the server too; [`Listener::shutdown`] also waits for it to finish.
pub struct Listener {
    pub addr: SocketAddr,
    pub received: mpsc::Receiver<Received>,
    dropped: Arc<AtomicU64>,
    stop: oneshot::Sender<()>,
    task: JoinHandle<std::io::Result<()>>,
}

impl Listener {
    /// Webhooks answered but not recorded because the channel was full.
    pub fn dropped(&self) -> u64 {
        self.dropped.load(Ordering::Relaxed)
    }

    /// Stops accepting, lets requests in flight finish their answer, and waits for the server.
    pub async fn shutdown(self) {
        let _ = self.stop.send(());
        let _ = self.task.await;
    }
}

/// What every request handler shares.
struct App {
    tx: mpsc::Sender<Received>,
    secrets: Vec<Vec<u8>>,
    status: StatusCode,
    delay: Duration,
    tolerance_secs: i64,
    dropped: Arc<AtomicU64>,
}

/// Binds `opts.addr` (port 0 picks a free port) and serves in a spawned task.
pub async fn start(opts: ListenOptions) -> std::io::Result<Listener> {
    let status = answer_status(opts.status)?;
    let socket = tokio::net::TcpListener::bind(opts.addr).await?;
    let addr = socket.local_addr()?;
    let (tx, received) = mpsc::channel(CHANNEL_CAPACITY);
    let dropped = Arc::new(AtomicU64::new(0));
    let app = Arc::new(App {
        tx,
        secrets: opts.secrets,
        status,
        delay: opts.delay,
        tolerance_secs: opts.tolerance_secs,
        dropped: dropped.clone(),
    });
    // `/{*path}` does not match `/`, hence both. The method router answers 405 with `Allow`
    // for anything but POST.
    let router = Router::new()
        .route("/", post(receive))
        .route("/{*path}", post(receive))
        .layer(DefaultBodyLimit::max(MAX_BODY))
        .with_state(app);
    let (stop, stopped) = oneshot::channel::<()>();
    let task = tokio::spawn(async move {
        axum::serve(socket, router)
            .with_graceful_shutdown(async {
                // An error means the Listener was dropped: stop then too.
                let _ = stopped.await;
            })
            .await
    });
    Ok(Listener {
        addr,
        received,
        dropped,
        stop,
        task,
    })
}

/// Only final statuses make sense as the answer to a webhook.
fn answer_status(code: u16) -> std::io::Result<StatusCode> {
    match StatusCode::from_u16(code) {
        Ok(status) if (200..=599).contains(&code) => Ok(status),
        _ => Err(std::io::Error::new(
            std::io::ErrorKind::InvalidInput,
            format!("answer status {code} is not between 200 and 599"),
        )),
    }
}

async fn receive(
    State(app): State<Arc<App>>,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let record = inspect(&app, uri.path(), &headers, body, now_ms());
    app.record(record);
    if !app.delay.is_zero() {
        tokio::time::sleep(app.delay).await;
    }
    answer(app.status)
}

impl App {
    /// Never waits: a full channel must not slow the sender down.
    fn record(&self, record: Received) {
        if let Err(mpsc::error::TrySendError::Full(_)) = self.tx.try_send(record) {
            self.dropped.fetch_add(1, Ordering::Relaxed);
        }
        // A closed channel means nobody is reading any more; there is nothing to count.
    }
}

fn answer(status: StatusCode) -> Response {
    // These two statuses must not carry a body.
    if status == StatusCode::NO_CONTENT || status == StatusCode::NOT_MODIFIED {
        return status.into_response();
    }
    let body = format!(r#"{{"ok":{}}}"#, status.is_success());
    (status, [(header::CONTENT_TYPE, "application/json")], body).into_response()
}

fn now_ms() -> i64 {
    let since = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default();
    i64::try_from(since.as_millis()).unwrap_or(i64::MAX)
}

/// A header as text; lossy so that a garbled signature fails to verify rather than vanishing.
fn header_text(headers: &HeaderMap, name: &str) -> Option<String> {
    let value = headers.get(name)?;
    Some(String::from_utf8_lossy(value.as_bytes()).into_owned())
}

fn inspect(app: &App, path: &str, headers: &HeaderMap, body: Bytes, now_ms: i64) -> Received {
    let signature = app.check(headers, &body, now_ms.div_euclid(1000));
    let facts = Facts::from_body(&body);
    let sent_secs = header_text(headers, "webhook-timestamp")
        .and_then(|t| t.trim().parse::<i64>().ok())
        .or(facts.timecreated);
    Received {
        path: path.to_owned(),
        webhook_id: header_text(headers, "webhook-id"),
        eventname: facts.eventname,
        object: facts.object,
        route: facts.route.or_else(|| Some(path.to_owned())),
        log_id: facts.log_id,
        signature,
        latency_ms: sent_secs.map(|s| now_ms.saturating_sub(s.saturating_mul(1000))),
        body,
        received_at_ms: now_ms,
    }
}

impl App {
    fn check(&self, headers: &HeaderMap, body: &[u8], now_secs: i64) -> SignatureCheck {
        let Some(sig) = header_text(headers, "webhook-signature") else {
            return SignatureCheck::Unsigned;
        };
        if self.secrets.is_empty() {
            return SignatureCheck::NotChecked;
        }
        let id = header_text(headers, "webhook-id");
        let (Some(id), Some(ts)) = (id, header_text(headers, "webhook-timestamp")) else {
            return SignatureCheck::Invalid("missing webhook-id or webhook-timestamp".into());
        };
        let Ok(ts) = ts.trim().parse::<i64>() else {
            return SignatureCheck::Invalid("webhook-timestamp is not a number of seconds".into());
        };
        // Any key verifying is enough: during a rotation nosey signs with old and new.
        let mut last = VerifyError::Mismatch;
        for key in &self.secrets {
            match verify(
                key,
                &id,
                ts,
                Some(&sig),
                body,
                now_secs,
                self.tolerance_secs,
            ) {
                Ok(()) => return SignatureCheck::Valid,
                Err(e) => last = e,
            }
        }
        SignatureCheck::Invalid(last.to_string())
    }
}

/// What is worth showing from a body, whichever shape it has.
#[derive(Debug, Default)]
struct Facts {
    eventname: Option<String>,
    object: Option<String>,
    route: Option<String>,
    log_id: Option<i64>,
    timecreated: Option<i64>,
}

impl Facts {
    fn from_body(body: &[u8]) -> Facts {
        let Ok(value) = serde_json::from_slice::<Value>(body) else {
            return Facts::default();
        };
        // A CloudEvents envelope carries the nosey body in `data`.
        let envelope = value.get("specversion").is_some();
        let inner = if envelope { &value["data"] } else { &value };
        let event = &inner["event"];
        let meta = &inner["meta"];
        let subject = value["subject"].as_str().filter(|_| envelope);
        Facts {
            eventname: event["eventname"].as_str().map(str::to_owned),
            object: object_of(event).or(subject.map(str::to_owned)),
            route: meta["route"].as_str().map(str::to_owned),
            log_id: integer(&meta["log_id"]),
            timecreated: integer(&event["timecreated"]),
        }
    }
}

/// `objecttable/objectid`; just the table when the event has no object id.
fn object_of(event: &Value) -> Option<String> {
    let table = event["objecttable"].as_str().filter(|t| !t.is_empty())?;
    match scalar_text(&event["objectid"]) {
        Some(id) => Some(format!("{table}/{id}")),
        None => Some(table.to_owned()),
    }
}

/// Moodle's database drivers hand numbers over as strings as often as not.
fn integer(v: &Value) -> Option<i64> {
    v.as_i64().or_else(|| v.as_str()?.trim().parse().ok())
}

fn scalar_text(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

fn body_as_json_or_text<S: serde::Serializer>(body: &Bytes, s: S) -> Result<S::Ok, S::Error> {
    match serde_json::from_slice::<Value>(body) {
        Ok(value) => serde::Serialize::serialize(&value, s),
        Err(_) => s.serialize_str(&String::from_utf8_lossy(body)),
    }
}

/// One human line:
/// `12:04:05.123  \core\event\course_created  course/2  route=course_crud  12 ms  signature ok`.
/// The clock is UTC.
pub fn format_line(r: &Received) -> String {
    let event = r
        .eventname
        .clone()
        .unwrap_or_else(|| format!("(no event, {} bytes)", r.body.len()));
    let object = r.object.as_deref().unwrap_or("-");
    let route = format!("route={}", r.route.as_deref().unwrap_or("-"));
    let latency = r.latency_ms.map_or_else(|| "-".to_owned(), human_ms);
    format!(
        "{}  {event:<40}  {object:<16}  {route:<22}  {latency:>8}  {}",
        clock(r.received_at_ms),
        r.signature
    )
}

/// `HH:MM:SS.mmm` of the UTC day.
fn clock(ms: i64) -> String {
    let day = ms.rem_euclid(86_400_000);
    let (h, m) = (day / 3_600_000, day / 60_000 % 60);
    let (s, milli) = (day / 1000 % 60, day % 1000);
    format!("{h:02}:{m:02}:{s:02}.{milli:03}")
}

/// Latency from `timecreated` can be days when a backlog is replayed; keep it readable.
fn human_ms(ms: i64) -> String {
    let (unit, per) = match ms.unsigned_abs() {
        0..10_000 => return format!("{ms} ms"),
        10_000..600_000 => ("s", 1e3),
        600_000..36_000_000 => ("min", 6e4),
        _ => ("h", 3.6e6),
    };
    format!("{:.1} {unit}", ms as f64 / per)
}

/// Counts for the summary printed when `nosey listen` exits.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Stats {
    pub received: u64,
    pub valid: u64,
    pub invalid: u64,
    pub unsigned: u64,
    pub not_checked: u64,
    /// Set by the caller from [`Listener::dropped`]; shown when not zero.
    pub dropped: u64,
    pub by_route: BTreeMap<String, u64>,
}

impl Stats {
    pub fn record(&mut self, r: &Received) {
        self.received += 1;
        match r.signature {
            SignatureCheck::Valid => self.valid += 1,
            SignatureCheck::Invalid(_) => self.invalid += 1,
            SignatureCheck::Unsigned => self.unsigned += 1,
            SignatureCheck::NotChecked => self.not_checked += 1,
        }
        let route = r.route.clone().unwrap_or_else(|| r.path.clone());
        *self.by_route.entry(route).or_default() += 1;
    }

    /// Totals on the first line, then one line per route.
    pub fn summary(&self) -> String {
        let mut out = format!(
            "received {} webhooks: {} valid, {} invalid, {} unsigned, {} not checked",
            self.received, self.valid, self.invalid, self.unsigned, self.not_checked
        );
        if self.dropped > 0 {
            out += &format!(
                "\n{} more answered but not shown (output fell behind)",
                self.dropped
            );
        }
        let width = self.by_route.keys().map(String::len).max().unwrap_or(0);
        for (route, n) in &self.by_route {
            out += &format!("\n  {route:<width$}  {n}");
        }
        out
    }
}
#[cfg(test)]
mod tests;
