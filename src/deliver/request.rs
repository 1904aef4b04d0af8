//! A route ready to send: its HTTP client, signer and headers, built once at start.
//!
//! Requests carry `Content-Type: application/json`, `User-Agent: nosey/<version>`, the
//! Standard Webhooks headers (`webhook-id` the same on every attempt, `webhook-timestamp` and
//! `webhook-signature` computed per attempt), the route's own headers, and its auth.

use std::time::Duration;

use base64::Engine as _;
use serde_json::{Map, Value};

use super::client::{ClientOptions, build_client};
use super::retry::RetryPolicy;
use super::sign::Signer;
use crate::config::{Auth, Format, Ordering, RouteConfig};
use crate::event::Event;

pub const USER_AGENT: &str = concat!("nosey/", env!("CARGO_PKG_VERSION"));

/// Everything a lane needs to send for one route.
#[derive(Debug)]
pub struct RouteRuntime {
    pub name: String,
    pub url: String,
    pub format: Format,
    pub ordering: Ordering,
    pub timeout: Duration,
    pub concurrency: usize,
    pub retry: RetryPolicy,
    pub max_body_size: u64,
    pub client: reqwest::Client,
    signer: Signer,
    /// Custom headers and auth, ready to send (values are secrets: never logged).
    static_headers: Vec<(String, String)>,
    /// The headers as `deliveries show` prints them, as JSON text split around the
    /// `webhook-id` value (built once: this is done for every delivery).
    shown_headers: (String, String),
    /// Every secret value this route sends, to scrub from what receivers answer.
    secrets: Vec<String>,
}

#[derive(Debug, thiserror::Error)]
#[error("route \"{route}\": {message}")]
pub struct RouteError {
    pub route: String,
    pub message: String,
}

/// Routes with the same TLS settings share one HTTP client (one connection pool per host,
/// one copy of the system's root certificates): cheaper to start and to keep.
#[derive(Default)]
pub struct Clients(std::collections::HashMap<String, reqwest::Client>);

impl Clients {
    fn get(&mut self, route: &RouteConfig) -> Result<reqwest::Client, String> {
        let t = &route.tls;
        let key = format!(
            "{:?}|{:?}|{:?}|{}|{}",
            t.ca,
            t.client_cert,
            t.client_key,
            t.insecure_skip_verify,
            t.client_key_password.as_ref().map_or("", |p| p.expose())
        );
        if let Some(c) = self.0.get(&key) {
            return Ok(c.clone());
        }
        let client = build_client(&ClientOptions {
            // Per-request timeouts override this; the pool is shared, so size it generously.
            timeout: Duration::from_secs(300),
            concurrency: 256,
            ca: t.ca.clone(),
            client_cert: t.client_cert.clone(),
            client_key: t.client_key.clone(),
            client_key_password: t
                .client_key_password
                .as_ref()
                .map(|s| s.expose().to_string()),
            insecure_skip_verify: t.insecure_skip_verify,
            user_agent: USER_AGENT.to_string(),
        })
        .map_err(|e| e.to_string())?;
        self.0.insert(key, client.clone());
        Ok(client)
    }
}

impl RouteRuntime {
    pub fn new(route: &RouteConfig) -> Result<Self, RouteError> {
        Self::with_clients(route, &mut Clients::default())
    }

    /// Like [`RouteRuntime::new`], sharing clients with other routes of the same TLS settings.
    pub fn with_clients(route: &RouteConfig, clients: &mut Clients) -> Result<Self, RouteError> {
        let err = |message: String| RouteError {
            route: route.name.clone(),
            message,
        };
        let url = route
            .url
            .clone()
            .ok_or_else(|| err("has no url".to_string()))?;
        if route.tls.insecure_skip_verify {
            tracing::warn!(
                route = %route.name,
                "TLS certificate verification is OFF for this route (insecure_skip_verify = true): \
                 anyone on the network path can read and change its webhooks"
            );
        }
        let client = clients.get(route).map_err(err)?;
        let keys = route
            .secrets
            .iter()
            .filter_map(|s| s.signing_key())
            .collect();
        let (static_headers, custom_shown) = custom_headers(route);
        let secrets = secret_values(route, &static_headers);
        Ok(RouteRuntime {
            name: route.name.clone(),
            url,
            format: route.format,
            ordering: route.ordering,
            timeout: route.timeout,
            concurrency: route.concurrency.max(1),
            retry: RetryPolicy::from(&route.retry),
            max_body_size: route.max_body_size,
            client,
            signer: Signer::new(keys),
            shown_headers: shown_template(!route.secrets.is_empty(), custom_shown),
            static_headers,
            secrets,
        })
    }

    /// The headers of one attempt.
    pub fn headers(&self, msg_id: &str, timestamp: i64, body: &[u8]) -> Vec<(String, String)> {
        let mut h = Vec::with_capacity(self.static_headers.len() + 3);
        h.push(("webhook-id".into(), msg_id.to_string()));
        h.push(("webhook-timestamp".into(), timestamp.to_string()));
        if let Some(sig) = self.signer.signature(msg_id, timestamp, body) {
            h.push(("webhook-signature".into(), sig));
        }
        h.extend(self.static_headers.iter().cloned());
        h
    }

    /// The headers of a delivery as stored for `deliveries show`: secrets masked, the
    /// per-attempt values described.
    pub fn shown_headers(&self, msg_id: &str) -> String {
        let (before, after) = &self.shown_headers;
        format!("{before}{msg_id}{after}")
    }

    /// `text` (a receiver's answer, an error) with every secret of this route masked: a
    /// receiver that echoes its request must not get a token into the store or the logs.
    pub fn scrub(&self, text: &str) -> String {
        let mut out = text.to_string();
        for s in &self.secrets {
            if out.contains(s.as_str()) {
                out = out.replace(s.as_str(), "***");
            }
        }
        out
    }

    /// The ordering key of an event on this route: deliveries sharing one go one at a time.
    pub fn ordering_key(&self, event: &Event) -> Option<String> {
        match self.ordering {
            Ordering::Object => event.object_key(),
            Ordering::Course => event.courseid.map(|c| format!("course:{c}")),
            Ordering::User => Some(format!(
                "user:{}",
                event.relateduserid.unwrap_or(event.userid)
            )),
            Ordering::Route => Some("route".to_string()),
            Ordering::None => None,
        }
    }
}

/// The shown headers as JSON text, split where the delivery's id goes.
fn shown_template(signed: bool, custom: Map<String, Value>) -> (String, String) {
    const ID: &str = "\u{0}webhook-id\u{0}";
    let mut m = Map::new();
    m.insert("content-type".into(), "application/json".into());
    m.insert("user-agent".into(), USER_AGENT.into());
    m.insert("webhook-id".into(), ID.into());
    m.insert("webhook-timestamp".into(), "(set on each attempt)".into());
    if signed {
        m.insert(
            "webhook-signature".into(),
            "(v1 HMAC-SHA256, computed on each attempt)".into(),
        );
    }
    m.extend(custom);
    let text = Value::Object(m).to_string();
    let marker = serde_json::to_string(ID).unwrap_or_default();
    let marker = marker.trim_matches('"');
    let (before, after) = text.split_once(marker).unwrap_or((&text, ""));
    (before.to_string(), after.to_string())
}

fn custom_headers(route: &RouteConfig) -> (Vec<(String, String)>, Map<String, Value>) {
    let mut send = Vec::new();
    let mut shown = Map::new();
    for (name, value) in &route.headers {
        send.push((name.clone(), value.expose().to_string()));
        shown.insert(name.to_ascii_lowercase(), "***".into());
    }
    match &route.auth {
        Some(Auth::Bearer(token)) => {
            send.push(("authorization".into(), format!("Bearer {}", token.expose())));
            shown.insert("authorization".into(), "Bearer ***".into());
        }
        Some(Auth::Basic { username, password }) => {
            let raw = format!("{username}:{}", password.expose());
            let b64 = base64::engine::general_purpose::STANDARD.encode(raw);
            send.push(("authorization".into(), format!("Basic {b64}")));
            shown.insert(
                "authorization".into(),
                format!("Basic {username}:***").into(),
            );
        }
        None => {}
    }
    (send, shown)
}

/// Secret strings worth scrubbing: header values, auth values, signing secrets. Very short
/// values are left out, since masking them would garble ordinary text.
fn secret_values(route: &RouteConfig, headers: &[(String, String)]) -> Vec<String> {
    let mut out: Vec<String> = headers.iter().map(|(_, v)| v.clone()).collect();
    if let Some(Auth::Bearer(t)) = &route.auth {
        out.push(t.expose().to_string());
    }
    if let Some(Auth::Basic { password, .. }) = &route.auth {
        out.push(password.expose().to_string());
    }
    out.extend(route.secrets.iter().map(|s| s.expose().to_string()));
    out.retain(|s| s.len() >= 6);
    out.sort_by_key(|s| std::cmp::Reverse(s.len()));
    out
}
