//! Item 10: each enabled route's receiver accepts a TCP connection and, for https, completes
//! a TLS handshake with the route's TLS settings. No request is sent, so a receiver sees no
//! webhook from `nosey check`.
//!
//! Only the scheme, host and port are ever printed: a receiver URL's path or query can hold
//! a token (chat webhooks put theirs there).

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use futures_util::future::join_all;
use rustls::pki_types::ServerName;
use tokio::io::AsyncReadExt;
use tokio::net::TcpStream;
use tokio::time::timeout;
use tokio_rustls::TlsConnector;
use url::{Host, Url};

use super::Item;
use super::handshake::{client_config, describe};
use crate::config::{Config, RouteConfig};

/// Connecting and the handshake each get this long.
const TIMEOUT: Duration = Duration::from_secs(5);
/// How long to listen after the handshake: with TLS 1.3 a server rejects a client
/// certificate only after the client thinks the handshake is done.
const ALERT_WAIT: Duration = Duration::from_millis(500);

const REACH_FIX: &str = "is the receiver running? is the url right (host and port)? is a \
                         firewall in the way?";

const RESOLVE_FIX: &str = "is the host name in the url right? can this machine resolve it \
                           (DNS, /etc/hosts)?";

/// One item per enabled route, probed in parallel (each may wait its whole timeout).
pub(super) async fn check_all(config: &Config) -> Vec<Item> {
    let enabled: Vec<&RouteConfig> = config.routes.iter().filter(|r| r.enabled).collect();
    if enabled.is_empty() {
        return vec![Item::warn(
            "receivers",
            "no route is enabled: nosey reads Moodle's log but sends nothing",
            "give a route a url and set enabled = true",
        )];
    }
    join_all(enabled.into_iter().map(check_route)).await
}

/// Where a route's receiver is.
struct Endpoint {
    https: bool,
    host: Host<String>,
    port: u16,
}

impl Endpoint {
    fn parse(url: &str) -> Option<Endpoint> {
        let url = Url::parse(url).ok()?;
        Some(Endpoint {
            https: url.scheme() == "https",
            host: url.host()?.to_owned(),
            port: url.port_or_known_default()?,
        })
    }

    /// `https://host:port`: what is printed instead of the URL.
    fn label(&self) -> String {
        let scheme = if self.https { "https" } else { "http" };
        format!("{scheme}://{}:{}", self.host, self.port)
    }

    /// The host as name resolution and TLS want it (IPv6 without brackets).
    fn bare_host(&self) -> String {
        match &self.host {
            Host::Domain(d) => d.clone(),
            Host::Ipv4(ip) => ip.to_string(),
            Host::Ipv6(ip) => ip.to_string(),
        }
    }

    fn server_name(&self) -> Option<ServerName<'static>> {
        match &self.host {
            Host::Domain(d) => ServerName::try_from(d.clone()).ok(),
            Host::Ipv4(ip) => Some(ServerName::from(IpAddr::V4(*ip))),
            Host::Ipv6(ip) => Some(ServerName::from(IpAddr::V6(*ip))),
        }
    }
}

async fn check_route(route: &RouteConfig) -> Item {
    let check = format!("receiver {}", route.name);
    let Some(end) = route.url.as_deref().and_then(Endpoint::parse) else {
        return Item::fail(
            &check,
            "the route's url names no host and port",
            "set url to the receiver's address (https://host/path)",
        );
    };
    let label = end.label();
    let tcp = match connect(&end).await {
        Ok(tcp) => tcp,
        Err((problem, fix)) => return Item::fail(&check, format!("{label}: {problem}"), fix),
    };
    if !end.https {
        return Item::ok(
            &check,
            format!("{label} accepts connections (plain HTTP; no request sent)"),
        );
    }
    match handshake(route, &end, tcp).await {
        Ok(()) if route.tls.insecure_skip_verify => Item::warn(
            &check,
            format!(
                "{label}: TLS handshake done, but the certificate was not verified \
                 (insecure_skip_verify = true)"
            ),
            "set tls.ca to the CA that signed the receiver's certificate and remove \
             insecure_skip_verify",
        ),
        Ok(()) => Item::ok(
            &check,
            format!("{label}: TLS handshake done, certificate verified (no request sent)"),
        ),
        Err((problem, fix)) => Item::fail(&check, format!("{label}: {problem}"), fix),
    }
}

/// Resolves the host and connects to the first address that answers. Errors are
/// (problem, fix).
async fn connect(end: &Endpoint) -> Result<TcpStream, (String, &'static str)> {
    let host = end.bare_host();
    let lookup = timeout(TIMEOUT, tokio::net::lookup_host((host.as_str(), end.port))).await;
    let addrs: Vec<SocketAddr> = match lookup {
        Ok(Ok(addrs)) => addrs.collect(),
        Ok(Err(e)) => return Err((format!("cannot resolve {host} ({e})"), RESOLVE_FIX)),
        Err(_) => {
            let problem = format!("resolving {host} took over {}s", TIMEOUT.as_secs());
            return Err((problem, RESOLVE_FIX));
        }
    };
    let mut last = format!("{host} resolves to no address");
    for addr in addrs {
        match timeout(TIMEOUT, TcpStream::connect(addr)).await {
            Ok(Ok(tcp)) => return Ok(tcp),
            Ok(Err(e)) if e.kind() == std::io::ErrorKind::ConnectionRefused => {
                last = "connection refused: nothing listens there".into();
            }
            Ok(Err(e)) => last = format!("cannot connect ({e})"),
            Err(_) => last = format!("no answer within {}s", TIMEOUT.as_secs()),
        }
    }
    Err((last, REACH_FIX))
}

/// The handshake, then a short wait for a late rejection. Errors are (problem, fix).
async fn handshake(
    route: &RouteConfig,
    end: &Endpoint,
    tcp: TcpStream,
) -> Result<(), (String, String)> {
    let config = client_config(&route.tls).map_err(|e| {
        let fix = "correct the route's tls settings (see nosey.example.toml)";
        (format!("cannot set up TLS: {e}"), fix.to_string())
    })?;
    let Some(name) = end.server_name() else {
        return Err((
            format!("{} is not a valid TLS server name", end.host),
            "use a DNS name or an IP address in url".into(),
        ));
    };
    let connector = TlsConnector::from(Arc::new(config));
    let host = end.bare_host();
    let mut tls = match timeout(TIMEOUT, connector.connect(name, tcp)).await {
        Ok(Ok(tls)) => tls,
        Ok(Err(e)) => return Err(describe(&e, &host)),
        Err(_) => {
            return Err((
                format!("no TLS handshake within {}s", TIMEOUT.as_secs()),
                "is the receiver speaking TLS on this port? (use http:// for plain HTTP)".into(),
            ));
        }
    };
    let mut byte = [0u8; 1];
    if let Ok(Err(e)) = timeout(ALERT_WAIT, tls.read(&mut byte)).await {
        return Err(describe(&e, &host));
    }
    // A polite close_notify; the receiver owes us nothing, so its answer is not awaited.
    let _ = timeout(ALERT_WAIT, tokio::io::AsyncWriteExt::shutdown(&mut tls)).await;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoints_print_no_path_or_credentials() {
        let end = Endpoint::parse("https://u:pw@hooks.example.org/T0/B0/secret?token=x").unwrap();
        assert_eq!(end.label(), "https://hooks.example.org:443");
        let end = Endpoint::parse("http://[::1]:8080/x").unwrap();
        assert_eq!(end.label(), "http://[::1]:8080");
        assert_eq!(end.bare_host(), "::1");
        assert!(end.server_name().is_some());
        assert!(Endpoint::parse("not a url").is_none());
    }

    #[tokio::test]
    async fn a_closed_port_is_refused() {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let end = Endpoint::parse(&format!("http://127.0.0.1:{port}/")).unwrap();
        let (problem, fix) = connect(&end).await.unwrap_err();
        assert!(problem.contains("connection refused"), "{problem}");
        assert_eq!(fix, REACH_FIX);
    }
}
