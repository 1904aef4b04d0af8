//! A real HTTP receiver on loopback for delivery tests: records every request and answers as
//! a script says (a status, a `Retry-After`, a hang).

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::body::Bytes;
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use tokio::sync::Notify;

/// One request as received.
#[derive(Debug, Clone)]
pub struct Hit {
    pub path: String,
    pub headers: HeaderMap,
    pub body: Bytes,
    pub at: Instant,
}

impl Hit {
    pub fn header(&self, name: &str) -> Option<String> {
        self.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(String::from)
    }

    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).expect("body is JSON")
    }
}

/// What to answer.
#[derive(Debug, Clone)]
pub enum Reply {
    Status(u16),
    RetryAfter(u16, u64),
    /// Wait this long, then answer 200 (longer than the route's timeout = a hang).
    Hang(Duration),
    /// Answer with this status and the request's headers as the body (a careless receiver).
    Echo(u16),
}

/// Decides the reply to the `n`-th request (0-based, all paths) given the request.
pub type Script = Arc<dyn Fn(&Hit, usize) -> Reply + Send + Sync>;

pub fn always(status: u16) -> Script {
    Arc::new(move |_, _| Reply::Status(status))
}

#[derive(Clone)]
struct State {
    hits: Arc<Mutex<Vec<Hit>>>,
    notify: Arc<Notify>,
    script: Script,
}

pub struct Receiver {
    pub addr: SocketAddr,
    hits: Arc<Mutex<Vec<Hit>>>,
    notify: Arc<Notify>,
    task: tokio::task::JoinHandle<()>,
}

impl Receiver {
    pub async fn start(script: Script) -> Receiver {
        Receiver::start_on(0, script).await
    }

    pub async fn start_on(port: u16, script: Script) -> Receiver {
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", port))
            .await
            .expect("bind receiver");
        let addr = listener.local_addr().unwrap();
        let state = State {
            hits: Arc::new(Mutex::new(Vec::new())),
            notify: Arc::new(Notify::new()),
            script,
        };
        let (hits, notify) = (state.hits.clone(), state.notify.clone());
        let app = axum::Router::new().fallback(handle).with_state(state);
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Receiver {
            addr,
            hits,
            notify,
            task,
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    pub fn hits(&self) -> Vec<Hit> {
        self.hits.lock().unwrap().clone()
    }

    /// Waits until at least `n` requests arrived (panics after `secs`).
    pub async fn wait_for(&self, n: usize, secs: u64) -> Vec<Hit> {
        let deadline = Instant::now() + Duration::from_secs(secs);
        loop {
            let notified = self.notify.notified();
            // Count under the lock; copy the hits (bodies and all) only once, at the end:
            // copying them at every request made a 75,000-request wait quadratic.
            let count = self.hits.lock().unwrap().len();
            if count >= n {
                return self.hits();
            }
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                panic!("receiver got {count} of {n} requests in {secs}s");
            }
            let _ = tokio::time::timeout(left, notified).await;
        }
    }

    pub fn stop(&self) {
        self.task.abort();
    }
}

impl Drop for Receiver {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn handle(
    axum::extract::State(state): axum::extract::State<State>,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let hit = Hit {
        path: uri.path().to_string(),
        headers,
        body,
        at: Instant::now(),
    };
    let n = {
        let mut hits = state.hits.lock().unwrap();
        hits.push(hit.clone());
        hits.len() - 1
    };
    state.notify.notify_waiters();
    match (state.script)(&hit, n) {
        Reply::Status(s) => StatusCode::from_u16(s).unwrap().into_response(),
        Reply::RetryAfter(s, secs) => (
            StatusCode::from_u16(s).unwrap(),
            [("retry-after", secs.to_string())],
        )
            .into_response(),
        Reply::Echo(s) => {
            let dump: String = hit
                .headers
                .iter()
                .map(|(k, v)| format!("{k}: {}\n", v.to_str().unwrap_or("")))
                .collect();
            (StatusCode::from_u16(s).unwrap(), dump).into_response()
        }
        Reply::Hang(d) => {
            tokio::time::sleep(d).await;
            StatusCode::OK.into_response()
        }
    }
}

/// A free loopback port (bound, then released).
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}
