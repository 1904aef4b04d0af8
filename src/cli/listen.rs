//! `nosey listen`: a local receiver for trying routes. Prints one line per webhook (event,
//! object, route, latency, whether the signature is valid) and can answer with a chosen status
//! or delay to watch retries happen.

use std::io::Write;
use std::net::{IpAddr, SocketAddr};
use std::process::ExitCode;
use std::time::Duration;

use clap::Args;

use super::shutdown_token;
use crate::config::{Secret, parse_duration};
use crate::server::listen::{ListenOptions, Stats, format_line, start};

#[derive(Debug, Args)]
#[command(after_help = "Examples:\n  \
    nosey listen --secret whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw\n  \
    nosey listen --status 503 --delay 2s     # watch nosey retry\n\n\
    Point a route at it: url = \"http://127.0.0.1:8787/anything\"")]
pub struct ListenArgs {
    /// The port to listen on.
    #[arg(long, default_value_t = 8787)]
    port: u16,

    /// The address to listen on (loopback by default; 0.0.0.0 for every interface).
    #[arg(long, default_value = "127.0.0.1")]
    bind: IpAddr,

    /// A route's signing secret (whsec_…) to check signatures with; repeatable (rotation).
    #[arg(long = "secret", value_name = "SECRET", env = "NOSEY_LISTEN_SECRET")]
    secrets: Vec<String>,

    /// Answer every webhook with this HTTP status (e.g. 500 or 410 to exercise retries).
    #[arg(long, default_value_t = 200)]
    status: u16,

    /// Wait this long before answering (e.g. "2s", longer than a route's timeout).
    #[arg(long, value_parser = parse_duration, default_value = "0s")]
    delay: Duration,

    /// Also print each body.
    #[arg(long)]
    verbose: bool,

    /// Print each webhook as one JSON object instead of a line of text.
    #[arg(long)]
    json: bool,
}

pub async fn run(args: &ListenArgs) -> anyhow::Result<ExitCode> {
    let mut keys = Vec::new();
    for s in &args.secrets {
        match Secret::new(s.clone()).signing_key() {
            Some(k) => keys.push(k),
            None => anyhow::bail!(
                "--secret is not a signing secret (expected whsec_ followed by base64)"
            ),
        }
    }
    let opts = ListenOptions {
        addr: SocketAddr::new(args.bind, args.port),
        secrets: keys,
        status: args.status,
        delay: args.delay,
        ..ListenOptions::default()
    };
    let mut listener = start(opts)
        .await
        .map_err(|e| anyhow::anyhow!("cannot listen on {}:{}: {e}", args.bind, args.port))?;
    eprintln!(
        "listening on http://{} (answering {}{}); Ctrl-C to stop",
        listener.addr,
        args.status,
        if args.delay.is_zero() {
            String::new()
        } else {
            format!(" after {:?}", args.delay)
        }
    );
    let shutdown = shutdown_token();
    let mut stats = Stats::default();
    loop {
        let received = tokio::select! {
            r = listener.received.recv() => r,
            _ = shutdown.cancelled() => None,
        };
        let Some(r) = received else { break };
        stats.record(&r);
        let mut out = std::io::stdout().lock();
        let line = if args.json {
            serde_json::to_string(&r).unwrap_or_default()
        } else if args.verbose {
            format!("{}\n{}", format_line(&r), String::from_utf8_lossy(&r.body))
        } else {
            format_line(&r)
        };
        if writeln!(out, "{line}").is_err() {
            break;
        }
    }
    stats.dropped = listener.dropped();
    listener.shutdown().await;
    eprintln!("{}", stats.summary());
    Ok(ExitCode::SUCCESS)
}
