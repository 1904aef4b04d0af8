//! `nosey run`: the service. Reads Moodle's log, queues a delivery per matched event and
//! route, and sends them, until SIGTERM or Ctrl-C.

use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use clap::Args;

use super::{Cli, connect_moodle, load_config, shutdown_token, warn_about_settings};
use crate::config::{Config, Format, parse_duration};
use crate::deliver::dispatcher::{DispatchOptions, Dispatcher};
use crate::deliver::request::RouteRuntime;
use crate::moodle::record::RecordReader;
use crate::moodle::{Follow, Tailer, TailerOptions, logstore};
use crate::outbox::Outbox;
use crate::pipeline::Pipeline;
use crate::route::{RouteMatcher, Router};
use crate::store::{SqliteStore, Store};

#[derive(Debug, Args)]
pub struct RunArgs {
    /// Forget the saved position in Moodle's log and start again where [moodle] start says
    /// (for a deliberate replay or backfill).
    #[arg(long)]
    reset_cursor: bool,

    /// On shutdown, how long requests already in flight may take to finish.
    #[arg(long, default_value = "10s", value_parser = parse_duration, value_name = "DURATION")]
    grace: Duration,
}

pub async fn run(cli: &Cli, args: &RunArgs) -> anyhow::Result<ExitCode> {
    let config = load_config(cli)?;
    let routes = build_routes(&config)?;
    let db = connect_moodle(&config).await?;
    logstore::check_readable(&db).await?;
    warn_about_settings(&db).await;

    let store = Arc::new(
        SqliteStore::open(&config.store.path)
            .await
            .context("opening the store")?,
    );
    if args.reset_cursor {
        store.reset_cursor().await?;
        tracing::info!(start = %config.moodle.start, "cursor reset: starting where [moodle] start says");
    }
    let saved = store.load_cursor().await?;
    let resumed = saved.is_some();
    let mut tailer = Tailer::start(
        db.clone(),
        &config.moodle.start,
        saved,
        TailerOptions::from(&config.moodle),
    )
    .await?;
    if !resumed {
        // Save where `start` put us before reading anything: were nosey stopped before its
        // first batch, the next start must resume here, not apply `start = "now"` again.
        store
            .commit_batch(crate::store::BatchWrite {
                cursor: Some(tailer.cursor()),
                ..Default::default()
            })
            .await?;
    }
    log_start(&config, &tailer, resumed, &routes);

    let shutdown = shutdown_token();
    let opts = DispatchOptions {
        grace: args.grace,
        retention: config.store.retention,
        ..DispatchOptions::default()
    };
    let dispatcher =
        Arc::new(Dispatcher::start(routes.clone(), store.clone(), opts, shutdown.clone()).await);
    let router = Router::new(
        config
            .routes
            .iter()
            .filter(|r| routes.iter().any(|rt| rt.name == r.name))
            .map(RouteMatcher::new)
            .collect(),
    );
    let portalid = routes.iter().any(|r| r.format == Format::Seed);
    let reader = RecordReader::new(db.clone(), config.redact.clone());
    let pipeline = Pipeline::new(router, Some(reader), portalid);
    let mut outbox = Outbox::new(
        pipeline,
        routes,
        store.clone(),
        Some(dispatcher.clone()),
        config.enabled,
        config.site.url.clone(),
    );
    tailer.run(&mut outbox, Follow::Forever, &shutdown).await;
    drop(outbox);
    if let Ok(d) = Arc::try_unwrap(dispatcher) {
        d.join().await;
    }
    store.close().await;
    db.close().await;
    tracing::info!("stopped");
    Ok(ExitCode::SUCCESS)
}

/// The enabled routes, ready to send, in configuration order.
fn build_routes(config: &Config) -> anyhow::Result<Vec<Arc<RouteRuntime>>> {
    config
        .routes
        .iter()
        .filter(|r| r.enabled)
        .map(|r| {
            RouteRuntime::new(r)
                .map(Arc::new)
                .map_err(anyhow::Error::from)
        })
        .collect()
}

fn log_start(config: &Config, tailer: &Tailer, resumed: bool, routes: &[Arc<RouteRuntime>]) {
    let names: Vec<&str> = routes.iter().map(|r| r.name.as_str()).collect();
    tracing::info!(
        version = env!("CARGO_PKG_VERSION"),
        source = %tailer.db().target(),
        table = tailer.db().log_table(),
        after_log_id = tailer.cursor().last_id,
        resumed,
        routes = ?names,
        store = %config.store.path.display(),
        "nosey running"
    );
    if routes.is_empty() {
        tracing::warn!("no enabled route: nosey reads Moodle's log but sends nothing");
    }
    if !config.enabled {
        tracing::warn!(
            "enabled = false: nosey reads and advances through the log but queues and sends \
             nothing (the events skipped are counted); pause routes instead to send later"
        );
    }
}
