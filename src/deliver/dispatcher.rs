//! The dispatcher: one lane per route, a writer that records attempts in batches, and the
//! housekeeping around them (pause and hand-retry signals from the command line, pruning).
//!
//! Lanes are independent tasks, so a slow or dead receiver never delays another route.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{Notify, mpsc, watch};
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

use super::handoff::{Budget, Fresh, Reserved};
use super::lane::{Control, Lane};
use super::request::RouteRuntime;
use crate::moodle::tailer::now_ms;
use crate::store::{AttemptRecord, Store};

#[derive(Debug, Clone)]
pub struct DispatchOptions {
    /// How long in-flight requests may finish after shutdown begins.
    pub grace: Duration,
    /// Delivered deliveries are deleted after this.
    pub retention: Duration,
    /// How often the store is checked for pauses and hand retries.
    pub control_interval: Duration,
}

impl Default for DispatchOptions {
    fn default() -> Self {
        DispatchOptions {
            grace: Duration::from_secs(10),
            retention: Duration::from_secs(7 * 86_400),
            control_interval: Duration::from_millis(500),
        }
    }
}

/// Attempts written per transaction at most.
const WRITE_BATCH: usize = 2000;

/// Hand-offs queued for a lane at most; past this the lane is woken to read the store.
const HANDOFFS_QUEUED: usize = 4;

pub struct Dispatcher {
    wakes: HashMap<String, Arc<Notify>>,
    handoffs: HashMap<String, mpsc::Sender<Reserved>>,
    budget: Budget,
    lanes: JoinSet<()>,
    background: JoinSet<()>,
    writer: tokio::task::JoinHandle<()>,
}

impl Dispatcher {
    pub async fn start<S: Store>(
        routes: Vec<Arc<RouteRuntime>>,
        store: Arc<S>,
        opts: DispatchOptions,
        shutdown: CancellationToken,
    ) -> Self {
        let (tx, rx) = mpsc::channel(WRITE_BATCH * 4);
        let writer = tokio::spawn(write_attempts(store.clone(), rx));
        let initial = read_control(&*store).await.unwrap_or_default();
        let (control_tx, control_rx) = watch::channel(initial);
        let mut wakes = HashMap::new();
        let mut handoffs = HashMap::new();
        let mut lanes = JoinSet::new();
        for route in routes {
            let wake = Arc::new(Notify::new());
            wakes.insert(route.name.clone(), wake.clone());
            let (handoff_tx, handoff_rx) = mpsc::channel(HANDOFFS_QUEUED);
            handoffs.insert(route.name.clone(), handoff_tx);
            let lane = Lane::new(
                route,
                store.clone(),
                tx.clone(),
                wake,
                handoff_rx,
                control_rx.clone(),
            );
            lanes.spawn(lane.run(shutdown.clone(), opts.grace));
        }
        drop(tx);
        let mut background = JoinSet::new();
        background.spawn(watch_control(
            store.clone(),
            control_tx,
            opts.control_interval,
            shutdown.clone(),
        ));
        background.spawn(prune(store, opts.retention, shutdown));
        Dispatcher {
            wakes,
            handoffs,
            budget: Budget::default(),
            lanes,
            background,
            writer,
        }
    }

    /// New deliveries were committed for `route`: hands them to its lane, or (`None`, or the
    /// lane has hand-offs enough queued) wakes the lane to read them from the store.
    pub fn hand_off(&self, route: &str, fresh: Option<Fresh>) {
        let queued = match (fresh, self.handoffs.get(route)) {
            (Some(f), Some(tx)) => self
                .budget
                .reserve(f)
                .is_ok_and(|reserved| tx.try_send(reserved).is_ok()),
            _ => false,
        };
        if !queued && let Some(w) = self.wakes.get(route) {
            w.notify_one();
        }
    }

    /// Waits for the lanes to stop (after shutdown) and every attempt to be written.
    pub async fn join(mut self) {
        while self.lanes.join_next().await.is_some() {}
        let _ = self.writer.await;
        self.background.abort_all();
    }
}

async fn read_control<S: Store>(store: &S) -> crate::store::Result<Control> {
    Ok(Control {
        version: store.control_version().await?,
        paused: store.paused_routes().await?,
    })
}

async fn watch_control<S: Store>(
    store: Arc<S>,
    tx: watch::Sender<Control>,
    every: Duration,
    shutdown: CancellationToken,
) {
    let mut version = tx.borrow().version;
    loop {
        tokio::select! {
            _ = shutdown.cancelled() => return,
            _ = tokio::time::sleep(every) => {}
        }
        match store.control_version().await {
            Ok(v) if v != version => {
                if let Ok(c) = read_control(&*store).await {
                    version = c.version;
                    let _ = tx.send(c);
                }
            }
            _ => {}
        }
    }
}

/// How long the attempts writer waits for more attempts before committing.
const COALESCE: Duration = Duration::from_millis(5);

/// Writes attempts as they come, many per transaction. When the store fails (a full disk),
/// keeps the batch and tries again: attempts are never dropped.
async fn write_attempts<S: Store>(store: Arc<S>, mut rx: mpsc::Receiver<AttemptRecord>) {
    let mut batch = Vec::with_capacity(WRITE_BATCH);
    let mut failing = false;
    while let Some(first) = rx.recv().await {
        batch.push(first);
        // Gather what arrives in the next few milliseconds too: one transaction for many
        // attempts leaves the store's write lock free for the outbox (live latency).
        let deadline = tokio::time::Instant::now() + COALESCE;
        while batch.len() < WRITE_BATCH {
            match tokio::time::timeout_at(deadline, rx.recv()).await {
                Ok(Some(a)) => batch.push(a),
                Ok(None) | Err(_) => break,
            }
        }
        loop {
            match store.record_attempts(&batch).await {
                Ok(()) => {
                    if failing {
                        tracing::info!("recording delivery attempts again");
                        failing = false;
                    }
                    break;
                }
                Err(e) => {
                    if !failing {
                        tracing::error!(error = %e, "cannot record delivery attempts; retrying");
                        failing = true;
                    }
                    tokio::time::sleep(Duration::from_millis(500)).await;
                }
            }
        }
        batch.clear();
    }
}

async fn prune<S: Store>(store: Arc<S>, retention: Duration, shutdown: CancellationToken) {
    loop {
        match store.prune(now_ms() - retention.as_millis() as i64).await {
            Ok(0) => {}
            Ok(n) => tracing::debug!(deleted = n, "pruned delivered deliveries past retention"),
            Err(e) => tracing::warn!(error = %e, "cannot prune old deliveries"),
        }
        tokio::select! {
            _ = shutdown.cancelled() => return,
            _ = tokio::time::sleep(Duration::from_secs(60)) => {}
        }
    }
}
