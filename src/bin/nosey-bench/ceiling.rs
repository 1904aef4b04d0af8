//! The ceiling: the same bodies POSTed to the same receiver by a bare loop of the same HTTP
//! client library (reqwest) at the same concurrency, with nothing else to do.

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

use anyhow::Result;
use bytes::Bytes;
use sqlx::sqlite::{SqliteConnectOptions, SqlitePool};

/// The bodies nosey stored for its deliveries, in order.
pub async fn bodies(store: &Path, limit: usize) -> Result<Vec<Bytes>> {
    let opts = SqliteConnectOptions::new().filename(store).read_only(true);
    let pool = SqlitePool::connect_with(opts).await?;
    let rows: Vec<Vec<u8>> = sqlx::query_scalar("SELECT body FROM payloads ORDER BY seq LIMIT ?")
        .bind(limit as i64)
        .fetch_all(&pool)
        .await?;
    pool.close().await;
    Ok(rows.into_iter().map(Bytes::from).collect())
}

/// POSTs every body once with `concurrency` requests in flight; returns requests/s.
pub async fn run(url: &str, bodies: Vec<Bytes>, concurrency: usize) -> Result<f64> {
    let client = reqwest::Client::builder().build()?;
    let bodies = Arc::new(bodies);
    let next = Arc::new(AtomicUsize::new(0));
    let started = Instant::now();
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..concurrency {
        let (client, bodies, next, url) = (
            client.clone(),
            bodies.clone(),
            next.clone(),
            url.to_string(),
        );
        tasks.spawn(async move {
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                let Some(body) = bodies.get(i) else {
                    return Ok::<_, reqwest::Error>(());
                };
                client
                    .post(&url)
                    .header("content-type", "application/json")
                    .body(body.clone())
                    .send()
                    .await?
                    .error_for_status()?
                    .bytes()
                    .await?;
            }
        });
    }
    while let Some(done) = tasks.join_next().await {
        done??;
    }
    Ok(bodies.len() as f64 / started.elapsed().as_secs_f64())
}
