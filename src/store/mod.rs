//! nosey's durable state: the cursor, the outbox of deliveries with every attempt, the last
//! copy of each record read, and per-route state.
//!
//! The one promise everything else rests on: a tailer batch becomes its deliveries *and* the
//! new cursor in one transaction, so a crash either loses the batch entirely (it is read
//! again) or keeps all of it. The store sits behind the [`Store`] trait so that a PostgreSQL
//! store for several instances can follow the embedded SQLite one.

mod sqlite;

use std::collections::{HashMap, HashSet};
use std::future::Future;
use std::sync::Arc;

use bytes::Bytes;

pub use sqlite::SqliteStore;

use crate::moodle::Cursor;
use crate::moodle::record::Record;

/// The cursor's name in the store; one Moodle source per store for now.
pub const SOURCE: &str = "moodle";

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("store {path}: the disk is full; nosey stops reading Moodle until there is room again")]
    Full { path: String },
    #[error("store {path}: {message}")]
    Db { path: String, message: String },
    #[error("store {path}: cannot open: {message}")]
    Open { path: String, message: String },
}

impl StoreError {
    pub fn is_full(&self) -> bool {
        matches!(self, StoreError::Full { .. })
    }
}

/// Where a delivery stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Status {
    Pending,
    Delivered,
    Dead,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Pending => "pending",
            Status::Delivered => "delivered",
            Status::Dead => "dead",
        }
    }

    pub fn parse(s: &str) -> Option<Status> {
        match s {
            "pending" => Some(Status::Pending),
            "delivered" => Some(Status::Delivered),
            "dead" => Some(Status::Dead),
            _ => None,
        }
    }
}

/// A delivery to enqueue.
#[derive(Debug, Clone)]
pub struct NewDelivery {
    pub id: String,
    pub route: String,
    pub log_id: i64,
    pub eventname: String,
    /// `objecttable:objectid`, for people reading `deliveries list`.
    pub object: Option<String>,
    /// Deliveries with the same key go one at a time, in order; `None` = no constraint.
    pub ordering_key: Option<String>,
    pub created_at: i64,
    /// The request headers as shown by `deliveries show` (secret values masked).
    pub headers: String,
    /// Shared, not copied, with the lane the delivery may be handed to in memory.
    pub body: Bytes,
    /// Set when the delivery can never be sent (its body is over `max_body_size` even
    /// without its record): stored as dead with this as its error, for a person to see.
    pub dead_reason: Option<String>,
}

/// A delivery waiting to be sent, as the dispatcher loads it.
#[derive(Debug, Clone)]
pub struct Pending {
    pub seq: i64,
    pub id: String,
    pub ordering_key: Option<String>,
    pub attempts: u32,
    pub created_at: i64,
    pub next_attempt_at: i64,
    /// Retried by hand: sent once more, whatever its key or schedule.
    pub manual: bool,
    /// `None` when not loaded (the dispatcher drops bodies of deliveries that wait).
    pub body: Option<Bytes>,
}

/// What an attempt led to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Delivered,
    Retry { next_attempt_at: i64 },
    Dead,
}

/// One attempt and its consequence, written by the dispatcher.
#[derive(Debug, Clone)]
pub struct AttemptRecord {
    pub seq: i64,
    /// 1-based attempt number.
    pub n: u32,
    pub started_at: i64,
    pub duration_ms: i64,
    pub status_code: Option<u16>,
    pub error: Option<String>,
    pub response: String,
    pub outcome: Outcome,
}

/// A delivery as `deliveries list` and `show` see it.
#[derive(Debug, Clone, serde::Serialize)]
pub struct DeliveryRow {
    pub id: String,
    pub seq: i64,
    pub route: String,
    pub log_id: i64,
    pub eventname: String,
    pub object: Option<String>,
    pub status: String,
    pub attempts: u32,
    pub created_at: i64,
    pub next_attempt_at: i64,
    pub last_attempt_at: Option<i64>,
    pub last_status: Option<i64>,
    pub last_error: Option<String>,
    pub finished_at: Option<i64>,
}

#[derive(Debug, Clone, serde::Serialize)]
pub struct AttemptRow {
    pub n: u32,
    pub started_at: i64,
    pub duration_ms: i64,
    pub status_code: Option<i64>,
    pub error: Option<String>,
    pub response: String,
}

/// A delivery with everything `deliveries show` prints.
#[derive(Debug, Clone, serde::Serialize)]
pub struct DeliveryDetail {
    #[serde(flatten)]
    pub row: DeliveryRow,
    pub headers: serde_json::Value,
    pub body: String,
    pub attempts_log: Vec<AttemptRow>,
}

#[derive(Debug, Clone, Default)]
pub struct ListFilter {
    pub status: Option<Status>,
    pub route: Option<String>,
    /// An event-name pattern with `*` and `?`.
    pub event: Option<String>,
    pub limit: u32,
}

/// Counts for `nosey check`, metrics and the demo's summary.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct RouteStats {
    pub pending: u64,
    pub delivered: u64,
    pub dead: u64,
    pub oldest_pending_at: Option<i64>,
}

/// Everything the pipeline writes for one tailer batch.
///
/// The deliveries come as an iterator so that the store can write them in chunks as they are
/// rendered: a batch of 1,000 events for 20 routes never holds 20,000 bodies in memory at once.
pub struct BatchWrite<'a> {
    pub cursor: Option<&'a Cursor>,
    pub deliveries: Box<dyn Iterator<Item = NewDelivery> + Send + 'a>,
    /// The records read, as JSON text, to keep as their last-known copies.
    pub records: &'a [((String, i64), String)],
    /// Matched events not queued because `enabled = false`.
    pub skipped_disabled: u64,
}

impl Default for BatchWrite<'_> {
    fn default() -> Self {
        BatchWrite {
            cursor: None,
            deliveries: Box::new(std::iter::empty()),
            records: &[],
            skipped_disabled: 0,
        }
    }
}

impl std::fmt::Debug for BatchWrite<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BatchWrite")
            .field("cursor", &self.cursor)
            .field("records", &self.records.len())
            .field("skipped_disabled", &self.skipped_disabled)
            .finish_non_exhaustive()
    }
}

pub type Result<T> = std::result::Result<T, StoreError>;

/// Durable state. Every method is one transaction.
pub trait Store: Send + Sync + 'static {
    fn load_cursor(&self) -> impl Future<Output = Result<Option<Cursor>>> + Send;
    fn reset_cursor(&self) -> impl Future<Output = Result<()>> + Send;
    /// Deliveries, records and the cursor of one batch, atomically. Returns the deliveries'
    /// `seq`s in order.
    fn commit_batch(&self, batch: BatchWrite<'_>) -> impl Future<Output = Result<Vec<i64>>> + Send;
    fn recall_records(
        &self,
        keys: &[(String, i64)],
    ) -> impl Future<Output = Result<HashMap<(String, i64), Arc<Record>>>> + Send;

    /// One ordering key's pending deliveries with `after < seq <= up_to`, in order.
    fn pending_of_key(
        &self,
        route: &str,
        key: &str,
        after: i64,
        up_to: i64,
        limit: u32,
    ) -> impl Future<Output = Result<Vec<Pending>>> + Send;
    /// Pending deliveries of `route` with `after < seq <= up_to`, in order, bodies included.
    fn pending(
        &self,
        route: &str,
        after: i64,
        up_to: i64,
        limit: u32,
    ) -> impl Future<Output = Result<Vec<Pending>>> + Send;
    fn body(&self, seq: i64) -> impl Future<Output = Result<Option<Bytes>>> + Send;
    fn record_attempts(
        &self,
        attempts: &[AttemptRecord],
    ) -> impl Future<Output = Result<()>> + Send;
    /// Deliveries of `route` retried by hand since last asked; clears their flag.
    fn take_manual(&self, route: &str) -> impl Future<Output = Result<Vec<Pending>>> + Send;

    /// Bumped whenever the command line changes something a running nosey must notice.
    fn control_version(&self) -> impl Future<Output = Result<i64>> + Send;
    fn paused_routes(&self) -> impl Future<Output = Result<HashSet<String>>> + Send;
    fn set_paused(&self, route: &str, paused: bool) -> impl Future<Output = Result<()>> + Send;

    fn list(&self, filter: &ListFilter) -> impl Future<Output = Result<Vec<DeliveryRow>>> + Send;
    fn show(&self, id: &str) -> impl Future<Output = Result<Option<DeliveryDetail>>> + Send;
    /// Sends a delivery again (whatever its status). Returns false when there is no such id.
    fn retry(&self, id: &str) -> impl Future<Output = Result<bool>> + Send;
    /// Sends every dead delivery (of one route) again. Returns how many.
    fn retry_dead(&self, route: Option<&str>) -> impl Future<Output = Result<u64>> + Send;
    /// Deletes deliveries delivered before `before` (unix ms) and their attempts.
    fn prune(&self, before: i64) -> impl Future<Output = Result<u64>> + Send;
    fn route_stats(&self) -> impl Future<Output = Result<HashMap<String, RouteStats>>> + Send;
    fn counter(&self, name: &str) -> impl Future<Output = Result<i64>> + Send;
    /// Takes the write lock and commits a write that changes nothing: proves the store can
    /// be written (permissions, read-only mounts, a full disk) without touching its state.
    fn check_writable(&self) -> impl Future<Output = Result<()>> + Send;
}

/// A new delivery id: `msg_` + a ULID-style value (48-bit time, 80 random bits, Crockford
/// base32). Unique across stores, so a receiver deduplicating by `webhook-id` never drops a
/// new message because a store was recreated; time-ordered, which keeps ids readable in lists.
pub fn new_delivery_id(now_ms: i64) -> String {
    const ALPHABET: &[u8; 32] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";
    let value: u128 = ((now_ms as u128 & 0xFFFF_FFFF_FFFF) << 80)
        | (rand::random::<u128>() & ((1u128 << 80) - 1));
    let mut out = String::with_capacity(30);
    out.push_str("msg_");
    for i in (0..26).rev() {
        out.push(ALPHABET[((value >> (i * 5)) & 31) as usize] as char);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delivery_ids_are_unique_and_time_ordered() {
        let a = new_delivery_id(1_000);
        let b = new_delivery_id(2_000);
        assert_eq!(a.len(), 30);
        assert!(a.starts_with("msg_"));
        assert!(a < b);
        let many: HashSet<String> = (0..10_000).map(|_| new_delivery_id(5)).collect();
        assert_eq!(many.len(), 10_000);
    }
}
