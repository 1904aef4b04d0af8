//! The receiver: a minimal keep-alive HTTP server, in a process of its own, that answers
//! 200 to every POST and notes when each arrived.
//!
//! `GET /stats` tells the benchmark how many webhooks came and when the first and last did;
//! `GET /receipts` lists `[log_id, µs since the epoch]` for each (the log id read from the
//! body's `"log_id":`, so latency can be matched to the insert); `POST /reset` starts over.

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};

use anyhow::Result;
use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::routing::{get, post};
use serde_json::json;

#[derive(Default)]
struct Seen {
    count: AtomicU64,
    first_us: AtomicI64,
    last_us: AtomicI64,
    receipts: std::sync::Mutex<Vec<(i64, i64)>>,
}

/// Serves on 127.0.0.1:`port` until killed.
pub fn serve(port: u16) -> Result<()> {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    rt.block_on(async move {
        let seen = Arc::new(Seen::default());
        let app = Router::new()
            .route("/stats", get(stats))
            .route("/receipts", get(receipts))
            .route("/reset", post(reset))
            .fallback(hook)
            .with_state(seen);
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", port)).await?;
        println!("listening");
        axum::serve(listener, app).await?;
        Ok(())
    })
}

async fn hook(State(seen): State<Arc<Seen>>, body: Bytes) -> &'static str {
    let now = crate::site::unix_micros();
    if seen.count.fetch_add(1, Ordering::Relaxed) == 0 {
        seen.first_us.store(now, Ordering::Relaxed);
    }
    seen.last_us.fetch_max(now, Ordering::Relaxed);
    if let Some(id) = log_id(&body) {
        seen.receipts.lock().unwrap().push((id, now));
    }
    ""
}

async fn stats(State(seen): State<Arc<Seen>>) -> String {
    json!({
        "count": seen.count.load(Ordering::Relaxed),
        "first_us": seen.first_us.load(Ordering::Relaxed),
        "last_us": seen.last_us.load(Ordering::Relaxed),
    })
    .to_string()
}

async fn receipts(State(seen): State<Arc<Seen>>) -> String {
    serde_json::to_string(&*seen.receipts.lock().unwrap()).unwrap_or_default()
}

async fn reset(State(seen): State<Arc<Seen>>) -> &'static str {
    seen.count.store(0, Ordering::Relaxed);
    seen.first_us.store(0, Ordering::Relaxed);
    seen.last_us.store(0, Ordering::Relaxed);
    seen.receipts.lock().unwrap().clear();
    ""
}

/// The number after the body's first `"log_id":` (nosey's `meta.log_id`).
fn log_id(body: &[u8]) -> Option<i64> {
    const KEY: &[u8] = b"\"log_id\":";
    let at = body.windows(KEY.len()).position(|w| w == KEY)? + KEY.len();
    let digits: Vec<u8> = body[at..]
        .iter()
        .copied()
        .take_while(u8::is_ascii_digit)
        .collect();
    std::str::from_utf8(&digits).ok()?.parse().ok()
}

/// What `/stats` says.
#[derive(Debug, Clone, Copy, serde::Deserialize)]
pub struct Stats {
    pub count: u64,
    pub last_us: i64,
}

/// The benchmark's side: the receiver process and a client for its counters.
pub struct Handle {
    child: std::process::Child,
    pub port: u16,
    http: reqwest::Client,
}

impl Handle {
    pub async fn start() -> Result<Handle> {
        let port = free_port()?;
        let mut child = std::process::Command::new(std::env::current_exe()?)
            .args(["receiver", "--port", &port.to_string()])
            .stdout(std::process::Stdio::piped())
            .spawn()?;
        let mut line = String::new();
        let stdout = child.stdout.take().expect("piped");
        std::io::BufRead::read_line(&mut std::io::BufReader::new(stdout), &mut line)?;
        anyhow::ensure!(line.trim() == "listening", "the receiver did not start");
        Ok(Handle {
            child,
            port,
            http: reqwest::Client::new(),
        })
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }

    pub async fn stats(&self) -> Result<Stats> {
        self.get("/stats").await
    }

    pub async fn receipts(&self) -> Result<Vec<(i64, i64)>> {
        self.get("/receipts").await
    }

    async fn get<T: serde::de::DeserializeOwned>(&self, path: &str) -> Result<T> {
        Ok(self.http.get(self.url(path)).send().await?.json().await?)
    }

    pub async fn reset(&self) -> Result<()> {
        self.http
            .post(self.url("/reset"))
            .send()
            .await?
            .error_for_status()?;
        Ok(())
    }
}

impl Drop for Handle {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub fn free_port() -> Result<u16> {
    Ok(std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port())
}

#[cfg(test)]
mod tests {
    #[test]
    fn finds_the_log_id() {
        assert_eq!(
            super::log_id(br#"{"meta":{"log_id":1234,"x":1}}"#),
            Some(1234)
        );
        assert_eq!(super::log_id(br#"{"meta":{}}"#), None);
    }
}
