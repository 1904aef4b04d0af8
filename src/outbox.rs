//! The outbox: where a tailer batch becomes deliveries.
//!
//! For each matched event and each route that wants it, the exact body is rendered once and
//! stored with a new delivery id; the batch's deliveries, the records read (kept as their
//! last-known copies) and the new cursor are committed in one store transaction. Only then is
//! the batch acknowledged to the tailer and its deliveries handed to the routes' lanes
//! ([`crate::deliver::handoff`]).

use std::collections::HashMap;
use std::sync::Arc;

use bytes::Bytes;

use crate::deliver::dispatcher::Dispatcher;
use crate::deliver::handoff::Collector;
use crate::deliver::request::RouteRuntime;
use crate::moodle::record::Record;
use crate::moodle::tailer::{SinkError, now_ms};
use crate::moodle::{Batch, BatchSink};
use crate::payload::{self, BodyContext};
use crate::pipeline::{Envelope, Pipeline, RecordMemory};
use crate::store::{BatchWrite, NewDelivery, Store, new_delivery_id};

/// Last-known records, read from the store.
struct StoreMemory<S: Store>(Arc<S>);

impl<S: Store> RecordMemory for StoreMemory<S> {
    async fn recall(
        &mut self,
        keys: &[(String, i64)],
    ) -> Result<HashMap<(String, i64), Arc<Record>>, SinkError> {
        Ok(self.0.recall_records(keys).await?)
    }
}

/// What the store already holds as each record's last-known copy (hashes of the table and
/// id, and of the record's JSON), so a record read again unchanged (a course viewed a
/// thousand times) is not rewritten each time.
#[derive(Default)]
struct StoredRecords(HashMap<u64, u64>);

/// Records as the store keeps them: keyed by (table, id), as JSON text.
type RecordsJson = Vec<((String, i64), String)>;

impl StoredRecords {
    /// Bounds the memory: past this, forget everything and write each record once more.
    const MAX: usize = 50_000;

    /// The records that differ from what the store holds, as JSON (each serialized once,
    /// for the comparison and the store alike), with their hashes.
    fn changed(&self, read: &[((String, i64), Arc<Record>)]) -> (RecordsJson, Vec<(u64, u64)>) {
        use std::hash::{BuildHasher, BuildHasherDefault, DefaultHasher};
        let h = BuildHasherDefault::<DefaultHasher>::default();
        read.iter()
            .filter_map(|(key, record)| {
                let json = serde_json::to_string(&**record).ok()?;
                let hashes = (h.hash_one(key), h.hash_one(&json));
                (self.0.get(&hashes.0) != Some(&hashes.1)).then(|| ((key.clone(), json), hashes))
            })
            .unzip()
    }

    /// The store committed these.
    fn stored(&mut self, hashes: Vec<(u64, u64)>) {
        if self.0.len() + hashes.len() > Self::MAX {
            self.0.clear();
        }
        self.0.extend(hashes);
    }
}

pub struct Outbox<S: Store> {
    pipeline: Pipeline,
    stored_records: StoredRecords,
    /// Parallel to the router's routes.
    routes: Vec<Arc<RouteRuntime>>,
    store: Arc<S>,
    dispatcher: Option<Arc<Dispatcher>>,
    /// Each route's last committed delivery (seq), for the hand-off to its lane.
    last_seq: Vec<Option<i64>>,
    enabled: bool,
    site_url: Option<String>,
}

impl<S: Store> Outbox<S> {
    /// `routes` must be in the same order as the pipeline router's routes. With
    /// `enabled = false` (the global switch) nothing is queued and matched events are counted.
    pub fn new(
        pipeline: Pipeline,
        routes: Vec<Arc<RouteRuntime>>,
        store: Arc<S>,
        dispatcher: Option<Arc<Dispatcher>>,
        enabled: bool,
        site_url: Option<String>,
    ) -> Self {
        Outbox {
            pipeline,
            stored_records: StoredRecords::default(),
            last_seq: vec![None; routes.len()],
            routes,
            store,
            dispatcher,
            enabled,
            site_url,
        }
    }

    /// The batch's deliveries, rendered one at a time as the store asks for them, each
    /// offered to `handoff` on its way.
    fn deliveries<'a>(
        &'a self,
        envelopes: &'a [Envelope],
        now: i64,
        handoff: &'a mut Collector,
    ) -> impl Iterator<Item = NewDelivery> + Send + 'a {
        envelopes
            .iter()
            .flat_map(move |env| {
                env.routes
                    .iter()
                    .map(move |&i| (i, self.delivery(&self.routes[i], env, now)))
            })
            .map(move |(i, d)| {
                handoff.offer(i, &d);
                d
            })
    }

    fn delivery(&self, route: &RouteRuntime, env: &Envelope, now: i64) -> NewDelivery {
        let id = new_delivery_id(now);
        let ctx = BodyContext {
            delivery_id: Some(&id),
            route: Some(&route.name),
            site_url: self.site_url.as_deref(),
        };
        let (body, dead_reason) = self.body_within_limit(route, env, &ctx);
        NewDelivery {
            dead_reason,
            headers: route.shown_headers(&id),
            route: route.name.clone(),
            log_id: env.log_id,
            eventname: env.event.eventname.clone(),
            object: env.event.object_key(),
            ordering_key: route.ordering_key(&env.event),
            created_at: now,
            body,
            id,
        }
    }
}

impl<S: Store> Outbox<S> {
    /// Renders the body; past the route's `max_body_size` the record is left out (with
    /// `record_state = "too_large"` and a warning), and if even that is too large the
    /// delivery is stored dead with the reason, so nothing disappears silently.
    fn body_within_limit(
        &self,
        route: &RouteRuntime,
        env: &Envelope,
        ctx: &BodyContext<'_>,
    ) -> (Bytes, Option<String>) {
        let body = payload::render(route.format, env, ctx);
        let limit = route.max_body_size;
        if body.len() as u64 <= limit {
            return (body.into(), None);
        }
        let full = body.len();
        let body = payload::render(route.format, &env.without_record(), ctx);
        if body.len() as u64 <= limit {
            tracing::warn!(
                route = %route.name, log_id = env.log_id, bytes = full, max_body_size = limit,
                "body too large: sent without its record (record_state \"too_large\")"
            );
            return (body.into(), None);
        }
        let reason = format!(
            "the body is {} bytes even without its record, over max_body_size ({limit} bytes); \
             raise max_body_size for route \"{}\" and retry",
            body.len(),
            route.name
        );
        tracing::error!(route = %route.name, log_id = env.log_id, "{reason}");
        (body.into(), Some(reason))
    }
}

impl<S: Store> BatchSink for Outbox<S> {
    async fn store(&mut self, batch: &Batch) -> Result<(), SinkError> {
        let mut memory = StoreMemory(self.store.clone());
        let processed = self.pipeline.process(&batch.rows, &mut memory).await?;
        let now = now_ms();
        // With the global switch off, matched events are counted, not queued.
        let (envelopes, skipped) = if self.enabled {
            (processed.envelopes.as_slice(), 0)
        } else {
            let matched = processed.envelopes.iter().map(|e| e.routes.len() as u64);
            (&[][..], matched.sum())
        };
        let (records, hashes) = self.stored_records.changed(&processed.read);
        let mut handoff = Collector::new(self.routes.len());
        let committed = self
            .store
            .commit_batch(BatchWrite {
                cursor: Some(&batch.cursor),
                deliveries: Box::new(self.deliveries(envelopes, now, &mut handoff)),
                records: &records,
                skipped_disabled: skipped,
            })
            .await;
        let seqs = committed.inspect_err(|_| {
            // A failed commit may still have written some of it (a full disk mid-COMMIT):
            // until the lanes have read the store again, hand nothing over.
            self.last_seq.fill(None);
        })?;
        self.stored_records.stored(hashes);
        for (i, fresh) in handoff.finish(&seqs, &mut self.last_seq) {
            if let Some(d) = &self.dispatcher {
                d.hand_off(&self.routes[i].name, fresh);
            }
        }
        Ok(())
    }
}
