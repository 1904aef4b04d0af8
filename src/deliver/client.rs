//! The HTTP client that carries webhooks to receivers.
//!
//! [`build_client`] turns one route's TLS and timeout settings into a pooled
//! `reqwest::Client` (rustls with the aws-lc-rs provider, platform roots plus an
//! optional extra CA, an optional client identity whose key may be encrypted
//! PKCS#8). [`post`] sends one webhook and reports what happened as plain data,
//! so the delivery loop can decide about retries without ever seeing a panic or
//! a raw error chain.
//!
//! Error texts end up in logs, the database and the dashboard, so they are one
//! line, name the config key to fix, and never carry a password, key material
//! or the `user:pass@` part of a URL.

use std::error::Error as StdError;
use std::io;
use std::path::PathBuf;
use std::time::{Duration, Instant, SystemTime};

use bytes::Bytes;
use reqwest::header::{CONTENT_TYPE, HeaderMap, HeaderName, HeaderValue, RETRY_AFTER};
use reqwest::{Client, Response, redirect};

pub use super::tls::ClientError;
use super::tls::{error_chain_text, invalid, load_ca, load_identity};

/// How much of a response body is kept (and read) for the delivery log.
const SNIPPET_LIMIT: usize = 1024;
/// A receiver that takes longer than this to accept TCP + TLS is down, whatever
/// the route's overall timeout is.
const MAX_CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// Below the 120 s or so that common servers and load balancers keep idle
/// connections, so we rarely reuse a socket the other side is closing.
const POOL_IDLE_TIMEOUT: Duration = Duration::from_secs(90);
/// Error texts are stored and shown in tables; keep them short.
const MAX_ERROR_LEN: usize = 300;

/// What a route's client needs (the main crate fills this from its config).
#[derive(Clone)]
pub struct ClientOptions {
    /// Whole request, per route.
    pub timeout: Duration,
    /// Max idle connections kept per host.
    pub concurrency: usize,
    /// PEM file, may hold several certificates: trusted in addition to the system roots.
    pub ca: Option<PathBuf>,
    /// PEM chain.
    pub client_cert: Option<PathBuf>,
    /// PEM: PKCS#8, encrypted PKCS#8 (PBES2), PKCS#1 or SEC1.
    pub client_key: Option<PathBuf>,
    pub client_key_password: Option<String>,
    pub insecure_skip_verify: bool,
    /// "nosey/<version>".
    pub user_agent: String,
}

// Written by hand so that a `{:?}` in a log line cannot leak the password.
impl std::fmt::Debug for ClientOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let password = self.client_key_password.as_ref().map(|_| "***");
        f.debug_struct("ClientOptions")
            .field("timeout", &self.timeout)
            .field("concurrency", &self.concurrency)
            .field("ca", &self.ca)
            .field("client_cert", &self.client_cert)
            .field("client_key", &self.client_key)
            .field("client_key_password", &password)
            .field("insecure_skip_verify", &self.insecure_skip_verify)
            .field("user_agent", &self.user_agent)
            .finish()
    }
}

/// Builds the pooled client for one route.
pub fn build_client(opts: &ClientOptions) -> Result<Client, ClientError> {
    let mut builder = Client::builder()
        // A webhook must reach the URL the admin configured; a redirect is
        // reported as its status, never followed.
        .redirect(redirect::Policy::none())
        .pool_max_idle_per_host(opts.concurrency)
        .pool_idle_timeout(POOL_IDLE_TIMEOUT)
        .connect_timeout(opts.timeout.min(MAX_CONNECT_TIMEOUT))
        .timeout(opts.timeout)
        .tcp_nodelay(true)
        .user_agent(opts.user_agent.as_str());
    if let Some(path) = &opts.ca {
        // Merge, not replace: a private CA must not stop public receivers working.
        builder = builder.tls_certs_merge(load_ca(path)?);
    }
    let identity = load_identity(
        opts.client_cert.as_deref(),
        opts.client_key.as_deref(),
        opts.client_key_password.as_deref(),
    )?;
    if let Some(identity) = identity {
        builder = builder.identity(identity);
    }
    if opts.insecure_skip_verify {
        builder = builder.tls_danger_accept_invalid_certs(true);
    }
    builder.build().map_err(|e| build_error(&e, opts))
}

/// rustls parses the CA and the key only when the client is assembled, so its
/// complaints are traced back to the setting they are about.
fn build_error(err: &reqwest::Error, opts: &ClientOptions) -> ClientError {
    let detail = error_chain_text(err).replace("unexpected error: ", "");
    if detail.contains("KeyMismatch") {
        return ClientError::KeyMismatch;
    }
    let culprit = if detail.contains("private key") {
        opts.client_key.as_deref().map(|p| ("tls.client_key", p))
    } else if detail.contains("certificate") {
        opts.ca.as_deref().map(|p| ("tls.ca", p))
    } else {
        None
    };
    match culprit {
        Some((key, path)) => invalid(key, path, detail),
        None => ClientError::Build { detail },
    }
}

/// One POST and what came back.
///
/// `status` is set whenever the receiver answered, whatever the code; it alone
/// decides success. `error` is set when nothing usable came back, and also
/// (with a status) when the body could not be read to the end of the snippet.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Sent {
    pub status: Option<u16>,
    pub error: Option<String>,
    pub retry_after: Option<Duration>,
    pub response_snippet: String,
    pub duration: Duration,
}

/// Sends one webhook. Never follows redirects, never panics.
pub async fn post(
    client: &Client,
    url: &str,
    headers: &[(String, String)],
    body: Bytes,
    timeout: Duration,
) -> Sent {
    let started = Instant::now();
    let mut sent = Sent::default();
    match send(client, url, headers, body, timeout).await {
        Ok(response) => {
            sent.status = Some(response.status().as_u16());
            sent.retry_after = retry_after(response.headers(), SystemTime::now());
            let deadline = tokio::time::Instant::from_std(started + timeout);
            let (snippet, error) = read_snippet(response, deadline, timeout).await;
            sent.response_snippet = snippet;
            sent.error = error;
        }
        Err(error) => sent.error = Some(error),
    }
    sent.error = sent.error.map(|e| clean_message(&e, url));
    sent.duration = started.elapsed();
    sent
}

async fn send(
    client: &Client,
    url: &str,
    headers: &[(String, String)],
    body: Bytes,
    timeout: Duration,
) -> Result<Response, String> {
    let request = client
        .post(url)
        .timeout(timeout)
        .headers(header_map(headers)?)
        .body(body);
    request
        .send()
        .await
        .map_err(|e| describe_error(&e, timeout))
}

/// Content-Type first, so that a caller's own Content-Type replaces it.
fn header_map(headers: &[(String, String)]) -> Result<HeaderMap, String> {
    let mut map = HeaderMap::new();
    map.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    for (name, value) in headers {
        let name = HeaderName::from_bytes(name.as_bytes())
            .map_err(|_| format!("invalid header name {name:?}"))?;
        // The value may be a signature or a token: never echo it.
        let value =
            HeaderValue::from_str(value).map_err(|_| format!("invalid value for header {name}"))?;
        map.insert(name, value);
    }
    Ok(map)
}

/// Reads at most `SNIPPET_LIMIT` bytes, so a huge or endless body costs nothing.
async fn read_snippet(
    mut response: Response,
    deadline: tokio::time::Instant,
    timeout: Duration,
) -> (String, Option<String>) {
    let mut buf = Vec::with_capacity(SNIPPET_LIMIT);
    let mut error = None;
    while buf.len() < SNIPPET_LIMIT {
        match tokio::time::timeout_at(deadline, response.chunk()).await {
            Ok(Ok(Some(chunk))) => {
                let take = chunk.len().min(SNIPPET_LIMIT - buf.len());
                buf.extend_from_slice(&chunk[..take]);
            }
            Ok(Ok(None)) => break,
            Ok(Err(e)) => {
                error = Some(format!("response body: {}", describe_error(&e, timeout)));
                break;
            }
            Err(_) => {
                error = Some(format!("response body: timed out after {}", human(timeout)));
                break;
            }
        }
    }
    (snippet_text(&buf), error)
}

/// Lossy UTF-8, without the U+FFFD that cutting a character in half would add.
fn snippet_text(bytes: &[u8]) -> String {
    let end = match std::str::from_utf8(bytes) {
        Err(e) if e.error_len().is_none() => e.valid_up_to(),
        _ => bytes.len(),
    };
    String::from_utf8_lossy(&bytes[..end]).into_owned()
}

fn retry_after(headers: &HeaderMap, now: SystemTime) -> Option<Duration> {
    let value = headers.get(RETRY_AFTER)?.to_str().ok()?;
    parse_retry_after(value, now)
}

/// RFC 9110 §10.2.3: delay-seconds or an HTTP-date (a past date means "now").
fn parse_retry_after(value: &str, now: SystemTime) -> Option<Duration> {
    let value = value.trim();
    if !value.is_empty() && value.bytes().all(|b| b.is_ascii_digit()) {
        return value.parse().ok().map(Duration::from_secs);
    }
    let when = httpdate::parse_http_date(value).ok()?;
    Some(when.duration_since(now).unwrap_or(Duration::ZERO))
}

/// A short text an admin understands, from the most telling cause in the chain.
fn describe_error(err: &reqwest::Error, timeout: Duration) -> String {
    if err.is_builder() {
        return format!("invalid request: {}", innermost(err));
    }
    if err.is_timeout() && err.is_connect() {
        // build_client's rule; exact as long as `timeout` is the route's.
        let connect = timeout.min(MAX_CONNECT_TIMEOUT);
        return format!("connect timed out after {}", human(connect));
    }
    if err.is_timeout() {
        return format!("timed out after {}", human(timeout));
    }
    // Skip the top level: reqwest's own text is generic and carries the URL.
    let causes: Vec<&(dyn StdError + 'static)> = chain(err).skip(1).collect();
    if let Some(text) = causes.iter().find_map(|c| describe_io(*c)) {
        return text;
    }
    let texts: Vec<String> = causes.iter().map(|c| c.to_string()).collect();
    if let Some(text) = texts.iter().find_map(|t| describe_tls(t)) {
        return text;
    }
    if texts
        .iter()
        .any(|t| t == "connection closed before message completed")
    {
        // hyper's words for a peer that hung up mid-response.
        return "connection closed before a full response".into();
    }
    let inner = texts.last().cloned().unwrap_or_else(|| err.to_string());
    if err.is_connect() && texts.iter().any(|t| t == "dns error") {
        return format!("dns: {inner}");
    }
    inner
}

fn chain<'a>(
    err: &'a (dyn StdError + 'static),
) -> impl Iterator<Item = &'a (dyn StdError + 'static)> {
    std::iter::successors(Some(err), |e| (*e).source())
}

fn innermost(err: &(dyn StdError + 'static)) -> String {
    chain(err).last().map(|e| e.to_string()).unwrap_or_default()
}

fn describe_io(cause: &(dyn StdError + 'static)) -> Option<String> {
    let io = cause.downcast_ref::<io::Error>()?;
    // rustls errors travel inside io::Error, and io::Error::source() skips
    // them, so look at the wrapped error directly.
    if let Some(text) = io
        .get_ref()
        .and_then(|inner| describe_tls(&inner.to_string()))
    {
        return Some(text);
    }
    let text = match io.kind() {
        io::ErrorKind::ConnectionRefused => "connection refused",
        io::ErrorKind::ConnectionReset => "connection reset",
        io::ErrorKind::ConnectionAborted => "connection aborted",
        io::ErrorKind::UnexpectedEof => "connection closed before a full response",
        io::ErrorKind::BrokenPipe => "connection closed while sending the request",
        io::ErrorKind::HostUnreachable => "host unreachable",
        io::ErrorKind::NetworkUnreachable => "network unreachable",
        io::ErrorKind::TimedOut => "timed out",
        _ => return None,
    };
    Some(text.to_owned())
}

/// Recognises rustls' error texts (reqwest does not let us name its rustls types
/// without adding rustls as a direct dependency).
fn describe_tls(text: &str) -> Option<String> {
    const TLS_PREFIXES: &[&str] = &[
        "invalid peer certificate",
        "received fatal alert",
        "peer is incompatible",
        "peer misbehaved",
        "peer sent no certificates",
        "received corrupt message",
        "received unexpected",
        "cannot decrypt peer's message",
        "peer doesn't support any known protocol",
        "invalid certificate revocation list",
    ];
    if let Some(alert) = text.strip_prefix("received fatal alert: ") {
        return Some(describe_alert(alert));
    }
    TLS_PREFIXES
        .iter()
        .any(|p| text.starts_with(p))
        .then(|| format!("TLS: {text}"))
}

fn describe_alert(alert: &str) -> String {
    match alert {
        "CertificateRequired" => "TLS: the receiver requires a client certificate".into(),
        "BadCertificate"
        | "UnknownCA"
        | "CertificateUnknown"
        | "CertificateExpired"
        | "UnsupportedCertificate"
        | "CertificateRevoked"
        | "AccessDenied" => {
            format!("TLS: the receiver rejected the client certificate ({alert})")
        }
        _ => format!("TLS: the receiver aborted the handshake ({alert})"),
    }
}

/// "10s", "300ms", "1.5s": the way admins write timeouts.
fn human(d: Duration) -> String {
    if d.subsec_millis() == 0 && d.as_secs() > 0 {
        format!("{}s", d.as_secs())
    } else if d.as_secs() == 0 {
        format!("{}ms", d.as_millis())
    } else {
        format!("{:.1}s", d.as_secs_f64())
    }
}

/// One line, bounded, without the URL's credentials.
fn clean_message(text: &str, url: &str) -> String {
    let mut text = strip_userinfo(text);
    if let Some(password) = url_password(url) {
        text = text.replace(&password, "***");
    }
    let one_line: String = text
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    truncate_chars(one_line.trim(), MAX_ERROR_LEN)
}

fn url_password(url: &str) -> Option<String> {
    let parsed = reqwest::Url::parse(url).ok()?;
    parsed
        .password()
        .filter(|p| !p.is_empty())
        .map(str::to_owned)
}

/// Drops `user:pass@` from every `scheme://…` in the text.
fn strip_userinfo(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(pos) = rest.find("://") {
        let (head, tail) = rest.split_at(pos + 3);
        out.push_str(head);
        let authority_len = tail
            .find(|c: char| matches!(c, '/' | '?' | '#' | ')' | '"' | '\'') || c.is_whitespace())
            .unwrap_or(tail.len());
        let authority = &tail[..authority_len];
        out.push_str(
            authority
                .rfind('@')
                .map_or(authority, |at| &authority[at + 1..]),
        );
        rest = &tail[authority_len..];
    }
    out.push_str(rest);
    out
}

fn truncate_chars(text: &str, max: usize) -> String {
    match text.char_indices().nth(max) {
        Some((cut, _)) => format!("{}…", &text[..cut]),
        None => text.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_after_seconds() {
        let now = SystemTime::now();
        assert_eq!(parse_retry_after("7", now), Some(Duration::from_secs(7)));
        assert_eq!(
            parse_retry_after(" 120 ", now),
            Some(Duration::from_secs(120))
        );
        assert_eq!(parse_retry_after("0", now), Some(Duration::ZERO));
    }

    #[test]
    fn retry_after_rejects_junk() {
        let now = SystemTime::now();
        for value in ["", "-5", "+5", "1.5", "soon", "99999999999999999999999"] {
            assert_eq!(parse_retry_after(value, now), None, "{value:?}");
        }
    }

    #[test]
    fn retry_after_http_date() {
        // Wed, 21 Oct 2015 07:28:00 GMT
        let date = SystemTime::UNIX_EPOCH + Duration::from_secs(1_445_412_480);
        let now = date - Duration::from_secs(90);
        let value = "Wed, 21 Oct 2015 07:28:00 GMT";
        assert_eq!(parse_retry_after(value, now), Some(Duration::from_secs(90)));
        let later = date + Duration::from_secs(5);
        assert_eq!(parse_retry_after(value, later), Some(Duration::ZERO));
    }

    #[test]
    fn userinfo_is_stripped() {
        let text = "error for url (https://alice:s3cret@hook.example/x?y=1) and http://bob@h/";
        let clean = strip_userinfo(text);
        assert_eq!(
            clean,
            "error for url (https://hook.example/x?y=1) and http://h/"
        );
        assert_eq!(strip_userinfo("no url here"), "no url here");
        assert_eq!(strip_userinfo("ends with ://"), "ends with ://");
    }

    #[test]
    fn clean_message_hides_password_and_newlines() {
        let url = "https://alice:s3cret@hook.example/";
        let clean = clean_message("bad s3cret\nsecond line\r", url);
        assert_eq!(clean, "bad *** second line");
        let long = "x".repeat(1000);
        assert_eq!(clean_message(&long, url).chars().count(), MAX_ERROR_LEN + 1);
    }

    #[test]
    fn tls_texts() {
        assert_eq!(
            describe_tls("received fatal alert: CertificateRequired").as_deref(),
            Some("TLS: the receiver requires a client certificate")
        );
        assert_eq!(
            describe_tls("invalid peer certificate: UnknownIssuer").as_deref(),
            Some("TLS: invalid peer certificate: UnknownIssuer")
        );
        assert!(
            describe_tls("received fatal alert: UnknownCA")
                .unwrap()
                .contains("rejected")
        );
        assert_eq!(describe_tls("connection refused"), None);
    }

    #[test]
    fn durations_read_like_config() {
        assert_eq!(human(Duration::from_secs(10)), "10s");
        assert_eq!(human(Duration::from_millis(300)), "300ms");
        assert_eq!(human(Duration::from_millis(1500)), "1.5s");
    }

    #[test]
    fn snippet_drops_a_cut_character() {
        let bytes = "héllo".as_bytes();
        assert_eq!(snippet_text(&bytes[..2]), "h");
        assert_eq!(snippet_text(b"ok\xff!"), "ok\u{fffd}!");
    }

    #[test]
    fn options_debug_hides_password() {
        let opts = ClientOptions {
            timeout: Duration::from_secs(1),
            concurrency: 1,
            ca: None,
            client_cert: None,
            client_key: None,
            client_key_password: Some("hunter2".into()),
            insecure_skip_verify: false,
            user_agent: "nosey/test".into(),
        };
        assert!(!format!("{opts:?}").contains("hunter2"));
    }
}
