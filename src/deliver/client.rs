//! TEMPORARY minimal client until the TLS-capable one lands.
use std::time::{Duration, Instant};

pub struct ClientOptions {
    pub timeout: Duration,
    pub concurrency: usize,
    pub ca: Option<std::path::PathBuf>,
    pub client_cert: Option<std::path::PathBuf>,
    pub client_key: Option<std::path::PathBuf>,
    pub client_key_password: Option<String>,
    pub insecure_skip_verify: bool,
    pub user_agent: String,
}

#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct ClientError(String);

pub fn build_client(opts: &ClientOptions) -> Result<reqwest::Client, ClientError> {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .pool_max_idle_per_host(opts.concurrency)
        .timeout(opts.timeout)
        .user_agent(opts.user_agent.clone())
        .build()
        .map_err(|e| ClientError(e.to_string()))
}

pub struct Sent {
    pub status: Option<u16>,
    pub error: Option<String>,
    pub retry_after: Option<Duration>,
    pub response_snippet: String,
    pub duration: Duration,
}

pub async fn post(
    client: &reqwest::Client,
    url: &str,
    headers: &[(String, String)],
    body: bytes::Bytes,
    timeout: Duration,
) -> Sent {
    let start = Instant::now();
    let mut req = client
        .post(url)
        .timeout(timeout)
        .header("content-type", "application/json");
    for (k, v) in headers {
        req = req.header(k, v);
    }
    match req.body(body).send().await {
        Ok(resp) => {
            let status = resp.status().as_u16();
            let retry_after = resp
                .headers()
                .get("retry-after")
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.trim().parse::<u64>().ok())
                .map(Duration::from_secs);
            let text = resp.text().await.unwrap_or_default();
            Sent {
                status: Some(status),
                error: None,
                retry_after,
                response_snippet: text.chars().take(1024).collect(),
                duration: start.elapsed(),
            }
        }
        Err(e) => Sent {
            status: None,
            error: Some(e.to_string()),
            retry_after: None,
            response_snippet: String::new(),
            duration: start.elapsed(),
        },
    }
}
