//! The service: everything `nosey run` does, as a function the demo and the benchmark reuse.
//!
//! Opens Moodle's database and the store, resumes (or starts) the tailer, starts the
//! dispatcher's lanes, and pumps batches through the pipeline into the outbox until `shutdown`
//! is cancelled; then lets requests in flight finish within the grace period.

use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use tokio_util::sync::CancellationToken;

use crate::config::{Config, Format};
use crate::deliver::dispatcher::{DispatchOptions, Dispatcher};
use crate::deliver::request::{Clients, RouteRuntime};
use crate::moodle::record::RecordReader;
use crate::moodle::{Follow, MoodleDb, Tailer, TailerOptions, logstore, settings};
use crate::outbox::Outbox;
use crate::pipeline::Pipeline;
use crate::route::{RouteMatcher, Router};
use crate::store::{SqliteStore, Store};

#[derive(Debug, Clone)]
pub struct ServeOptions {
    /// Forget the saved position and start where `[moodle] start` says.
    pub reset_cursor: bool,
    /// How long requests in flight may finish after shutdown begins.
    pub grace: Duration,
}

impl Default for ServeOptions {
    fn default() -> Self {
        ServeOptions {
            reset_cursor: false,
            grace: Duration::from_secs(10),
        }
    }
}

/// Runs nosey until `shutdown` is cancelled.
pub async fn serve(
    config: &Config,
    opts: &ServeOptions,
    shutdown: CancellationToken,
) -> anyhow::Result<()> {
    let routes = build_routes(config)?;
    let db = connect(config).await?;
    logstore::check_readable(&db).await?;
    warn_about_settings(&db).await;

    let store = Arc::new(
        SqliteStore::open(&config.store.path)
            .await
            .context("opening the store")?,
    );
    if opts.reset_cursor {
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
    log_start(config, &tailer, resumed, &routes);

    let dispatch = DispatchOptions {
        grace: opts.grace,
        retention: config.store.retention,
        ..DispatchOptions::default()
    };
    let dispatcher = Arc::new(
        Dispatcher::start(routes.clone(), store.clone(), dispatch, shutdown.clone()).await,
    );
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
    Ok(())
}

/// Connects to Moodle's database as `[moodle]` says.
pub async fn connect(config: &Config) -> anyhow::Result<MoodleDb> {
    let m = &config.moodle;
    MoodleDb::connect(&m.url.expose(), &m.prefix, &m.table)
        .await
        .with_context(|| format!("connecting to Moodle's database ({})", m.url))
}

/// Logs Moodle's log settings that hurt (store disabled, buffersize above 1).
pub async fn warn_about_settings(db: &MoodleDb) {
    match settings::read(db).await {
        Ok(s) => {
            for w in s.warnings() {
                tracing::warn!("{w}");
            }
        }
        Err(e) => tracing::debug!("cannot read Moodle's log settings: {e}"),
    }
}

/// The enabled routes, ready to send, in configuration order.
fn build_routes(config: &Config) -> anyhow::Result<Vec<Arc<RouteRuntime>>> {
    let mut clients = Clients::default();
    config
        .routes
        .iter()
        .filter(|r| r.enabled)
        .map(|r| {
            RouteRuntime::with_clients(r, &mut clients)
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
