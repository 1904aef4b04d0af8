//! The tailer: polls the log by increasing id and hands batches to a sink that stores them.
//!
//! The cursor moves only when the sink acknowledges a batch as stored, so a crash between
//! reading and storing re-reads the same rows: nothing is lost, and at most the last
//! unacknowledged batch repeats. When Moodle's database goes away the tailer says so once,
//! waits with growing pauses, and carries on where it stopped when the database returns.

use std::future::Future;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use tokio_util::sync::CancellationToken;

use super::cursor::Cursor;
use super::db::MoodleDb;
use super::error::MoodleError;
use super::logstore::{self, LogRow};
use crate::config::StartAt;

/// How the tailer reads: the `[moodle]` keys that concern polling.
#[derive(Debug, Clone)]
pub struct TailerOptions {
    pub batch_size: u32,
    pub poll_interval: Duration,
    pub gap_timeout: Duration,
    pub max_open_gaps: u64,
    pub include_restored: bool,
}

impl Default for TailerOptions {
    fn default() -> Self {
        TailerOptions {
            batch_size: 1000,
            poll_interval: Duration::from_millis(100),
            gap_timeout: Duration::from_secs(60),
            max_open_gaps: 10_000,
            include_restored: false,
        }
    }
}

impl From<&crate::config::MoodleConfig> for TailerOptions {
    fn from(m: &crate::config::MoodleConfig) -> Self {
        TailerOptions {
            batch_size: m.batch_size,
            poll_interval: m.poll_interval,
            gap_timeout: m.gap_timeout,
            max_open_gaps: m.max_open_gaps as u64,
            include_restored: m.include_restored,
        }
    }
}

/// What one poll found.
#[derive(Debug, Clone)]
pub struct Batch {
    /// New rows, in id order (late rows that filled gaps included; restored rows removed
    /// unless `include_restored`).
    pub rows: Vec<LogRow>,
    /// The cursor to save together with whatever is made of `rows`.
    pub cursor: Cursor,
    /// The read hit `batch_size`: more rows are waiting, poll again at once.
    pub full: bool,
    /// Rows that committed after a higher id had been read.
    pub late: usize,
    /// Rows skipped because a course restore wrote them.
    pub restored_skipped: u64,
    /// Awaited ids given up on during this poll.
    pub gaps_skipped: u64,
}

impl Batch {
    /// True when storing the batch would change nothing.
    fn is_noop(&self, current: &Cursor) -> bool {
        self.rows.is_empty() && self.cursor == *current
    }
}

/// Whether [`Tailer::run`] keeps polling once it has caught up.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Follow {
    Forever,
    UntilCaughtUp,
}

/// Errors a sink returns when it could not store a batch.
pub type SinkError = Box<dyn std::error::Error + Send + Sync>;

/// The consumer of batches. `store` must make the batch durable (deliveries and cursor in one
/// transaction) before returning `Ok`: only then does the tailer move on.
pub trait BatchSink {
    fn store(&mut self, batch: &Batch) -> impl Future<Output = Result<(), SinkError>> + Send;
}

pub struct Tailer {
    db: MoodleDb,
    cursor: Cursor,
    opts: TailerOptions,
}

pub fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}

impl Tailer {
    /// Resumes from `saved` when there is one (a saved cursor always wins, so downtime loses
    /// nothing); otherwise starts where `start` says.
    pub async fn start(
        db: MoodleDb,
        start: &StartAt,
        saved: Option<Cursor>,
        opts: TailerOptions,
    ) -> Result<Self, MoodleError> {
        let cursor = match saved {
            Some(c) => c,
            None => initial_cursor(&db, start).await?,
        };
        Ok(Tailer { db, cursor, opts })
    }

    pub fn cursor(&self) -> &Cursor {
        &self.cursor
    }

    pub fn db(&self) -> &MoodleDb {
        &self.db
    }

    /// Reads what is new since the acknowledged cursor. Changes nothing until [`ack`].
    ///
    /// [`ack`]: Tailer::ack
    pub async fn poll(&self) -> Result<Batch, MoodleError> {
        let mut next = self.cursor.clone();
        let mut rows = Vec::new();
        let mut late = 0;
        if !next.gaps.is_empty() {
            for row in logstore::rows_in_ranges(&self.db, &next.gap_ranges()).await? {
                if next.fill(row.id) {
                    late += 1;
                    rows.push(row);
                }
            }
        }
        let fresh = logstore::rows_after(&self.db, next.last_id, self.opts.batch_size).await?;
        let full = fresh.len() as u64 >= u64::from(self.opts.batch_size);
        let now = now_ms();
        let ids: Vec<i64> = fresh.iter().map(|r| r.id).collect();
        next.advance(&ids, now);
        let gaps_skipped = next.expire(now, self.opts.gap_timeout.as_millis() as i64)
            + next.cap(self.opts.max_open_gaps);
        rows.extend(fresh);
        rows.sort_by_key(|r| r.id);
        let before = rows.len();
        if !self.opts.include_restored {
            rows.retain(|r| !r.is_restored());
        }
        Ok(Batch {
            restored_skipped: (before - rows.len()) as u64,
            rows,
            cursor: next,
            full,
            late,
            gaps_skipped,
        })
    }

    /// The sink stored `batch`: move the cursor past it.
    pub fn ack(&mut self, batch: &Batch) {
        self.cursor = batch.cursor.clone();
    }

    /// Polls until `shutdown` is cancelled (or, with [`Follow::UntilCaughtUp`], until a poll
    /// finds nothing new), handing each batch to `sink`. Database outages and sink failures
    /// are waited out with backoff and logged once each.
    pub async fn run<S: BatchSink>(
        &mut self,
        sink: &mut S,
        follow: Follow,
        shutdown: &CancellationToken,
    ) {
        let mut outage = Outage::default();
        while !shutdown.is_cancelled() {
            // Polls keep their cadence: the time spent storing a batch counts against the
            // pause, so a row waits for the next poll at most `poll_interval`.
            let polled_at = tokio::time::Instant::now();
            let pause = match self.poll().await {
                Ok(batch) => {
                    outage.db_recovered();
                    if follow == Follow::UntilCaughtUp && batch.is_noop(&self.cursor) {
                        break;
                    }
                    let read_in = polled_at.elapsed();
                    self.deliver(batch, read_in, sink, &mut outage).await
                }
                Err(e) => Pause::Backoff(outage.db_failed(&e)),
            };
            let next = match pause {
                Pause::Cadence => polled_at + self.opts.poll_interval,
                // Not through the timer: it rounds up to its next millisecond tick, which
                // cost a backlog's scan a third of its speed.
                Pause::Now => continue,
                Pause::Backoff(d) => tokio::time::Instant::now() + d,
            };
            tokio::select! {
                _ = shutdown.cancelled() => break,
                _ = tokio::time::sleep_until(next) => {}
            }
        }
    }

    async fn deliver<S: BatchSink>(
        &mut self,
        batch: Batch,
        read_in: Duration,
        sink: &mut S,
        outage: &mut Outage,
    ) -> Pause {
        log_batch(&batch);
        if batch.is_noop(&self.cursor) {
            return Pause::Cadence;
        }
        let started = std::time::Instant::now();
        match sink.store(&batch).await {
            Ok(()) => {
                tracing::debug!(
                    rows = batch.rows.len(),
                    last_id = batch.cursor.last_id,
                    read_in_us = read_in.as_micros() as u64,
                    stored_in_us = started.elapsed().as_micros() as u64,
                    "batch stored"
                );
                outage.sink_recovered();
                self.ack(&batch);
                if batch.full {
                    Pause::Now
                } else {
                    Pause::Cadence
                }
            }
            Err(e) => Pause::Backoff(outage.sink_failed(&*e)),
        }
    }
}

/// When the next poll happens.
enum Pause {
    /// `poll_interval` after the last poll began.
    Cadence,
    /// At once: the last batch was full, more is waiting.
    Now,
    /// After an outage's backoff.
    Backoff(Duration),
}

fn log_batch(batch: &Batch) {
    if batch.late > 0 {
        tracing::debug!(rows = batch.late, "late log rows filled gaps");
    }
    if batch.gaps_skipped > 0 {
        tracing::warn!(
            ids = batch.gaps_skipped,
            total = batch.cursor.skipped,
            "gave up on missing log ids (rolled back, cleaned up, or older than gap_timeout)"
        );
    }
    if batch.restored_skipped > 0 {
        tracing::debug!(
            rows = batch.restored_skipped,
            "skipped log rows written by a course restore (include_restored = false)"
        );
    }
}

async fn initial_cursor(db: &MoodleDb, start: &StartAt) -> Result<Cursor, MoodleError> {
    let max = logstore::max_id(db).await?;
    Ok(match *start {
        StartAt::Now => Cursor::new(max, max),
        StartAt::Beginning => Cursor::new(0, max),
        StartAt::After(id) => Cursor::new(id, max.max(id)),
        StartAt::Time(since) => match logstore::first_id_since(db, since).await? {
            Some(first) => Cursor::new(first - 1, max),
            None => Cursor::new(max, max),
        },
    })
}

/// Tracks an ongoing database or store outage so each is reported once, with its length
/// when it ends, and retried with exponential backoff (100 ms doubling up to 30 s).
#[derive(Default)]
struct Outage {
    db_since: Option<Instant>,
    sink_since: Option<Instant>,
    failures: u32,
}

const MAX_BACKOFF: Duration = Duration::from_secs(30);

impl Outage {
    fn backoff(&mut self) -> Duration {
        self.failures = self.failures.saturating_add(1);
        let ms = 100u64.saturating_mul(1 << self.failures.min(12).saturating_sub(1));
        Duration::from_millis(ms).min(MAX_BACKOFF)
    }

    fn db_failed(&mut self, e: &MoodleError) -> Duration {
        if self.db_since.is_none() {
            self.db_since = Some(Instant::now());
            tracing::warn!(error = %e, "Moodle database unavailable; retrying with backoff");
        } else {
            tracing::debug!(error = %e, "Moodle database still unavailable");
        }
        self.backoff()
    }

    fn db_recovered(&mut self) {
        if let Some(since) = self.db_since.take() {
            tracing::info!(
                after = ?since.elapsed(),
                "Moodle database reachable again; resuming from the saved cursor"
            );
            self.failures = 0;
        }
    }

    fn sink_failed(&mut self, e: &(dyn std::error::Error + Send + Sync)) -> Duration {
        if self.sink_since.is_none() {
            self.sink_since = Some(Instant::now());
            tracing::error!(
                error = %e,
                "cannot hand events on; pausing reads from Moodle until this recovers (nothing is lost)"
            );
        }
        self.backoff()
    }

    fn sink_recovered(&mut self) {
        if let Some(since) = self.sink_since.take() {
            tracing::info!(after = ?since.elapsed(), "events flow again; reading Moodle");
            self.failures = 0;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_grows_and_caps() {
        let mut o = Outage::default();
        let steps: Vec<u128> = (0..12).map(|_| o.backoff().as_millis()).collect();
        assert_eq!(&steps[..4], &[100, 200, 400, 800]);
        assert_eq!(*steps.last().unwrap(), 30_000);
    }
}
