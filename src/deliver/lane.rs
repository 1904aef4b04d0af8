//! One route's lane: loads its pending deliveries from the store in log order (or takes them
//! from the outbox in memory, see [`super::handoff`]) and sends them with bounded
//! concurrency, one at a time per ordering key.
//!
//! A delivery whose key is busy (an earlier one with the same key is in flight or waiting for
//! its retry) waits behind it, so created → updated → deleted of one course arrive in that
//! order while other courses go on. Only deliveries about to be sent keep their body in
//! memory; the ones that wait drop it and reload it when their turn comes. Past
//! [`MAX_WAITING`] held-back deliveries the lane forgets new ones behind a busy key and reads
//! that key's next ones back from the store when it frees, so a lane's memory stays flat
//! however long its backlog grows, and one stuck key never stops the others.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap, HashSet, VecDeque};
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{Notify, mpsc, watch};
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

use super::client::{Sent, post};
use super::handoff::Reserved;
use super::request::RouteRuntime;
use super::retry::AttemptResult;
use crate::moodle::tailer::now_ms;
use crate::store::{AttemptRecord, Outcome, Pending, Store};

/// Deliveries loaded per store query.
const LOAD_BATCH: u32 = 256;
/// How often an idle lane looks at the store without being woken.
const RECHECK: Duration = Duration::from_secs(1);
/// Deliveries held back behind busy keys before the lane forgets them.
const MAX_WAITING: usize = 2_000;
/// Body bytes the lane keeps of deliveries held back behind busy keys; past this their
/// bodies are dropped and read again from the store when their turn comes.
const WAITING_BODY_BYTES: usize = 4 << 20;
/// Failed deliveries paused until their next attempt before loading pauses too.
const MAX_RETRYING: usize = 10_000;
/// A forgotten key's deliveries read back per query.
const KEY_BATCH: u32 = 64;

/// What the command line changed, as the dispatcher sees it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Control {
    pub version: i64,
    pub paused: HashSet<String>,
}

pub struct Lane<S: Store> {
    route: Arc<RouteRuntime>,
    store: Arc<S>,
    outcomes: mpsc::Sender<AttemptRecord>,
    wake: Arc<Notify>,
    handoffs: mpsc::Receiver<Reserved>,
    control: watch::Receiver<Control>,
    queue: Queue,
    in_flight: JoinSet<(Pending, Sent, i64)>,
    paused: bool,
}

/// The lane's bookkeeping, apart from I/O.
#[derive(Default)]
struct Queue {
    /// Hand-retried deliveries: sent first, regardless of keys.
    manual: VecDeque<Pending>,
    /// In log order, free to go unless their key is busy.
    ready: VecDeque<Pending>,
    /// Behind a busy key, in log order.
    waiting: HashMap<String, VecDeque<Pending>>,
    waiting_len: usize,
    /// Bytes of the bodies kept in `waiting`.
    waiting_bytes: usize,
    busy: HashSet<String>,
    /// Busy keys some of whose deliveries up to `loaded_up_to` were forgotten (left in the
    /// store); later ones of these keys are forgotten too, to keep their order.
    forgotten: HashSet<String>,
    /// Forgotten keys that just freed: (key, seq of the delivery that freed it) to read the
    /// next ones of from the store.
    refills: Vec<(String, i64)>,
    /// Failed deliveries waiting for their next attempt (they keep their key busy).
    timers: BinaryHeap<Reverse<(i64, i64)>>,
    retrying: HashMap<i64, Pending>,
    /// Every pending delivery up to this seq has been loaded (or taken in memory).
    loaded_up_to: i64,
    /// The last load found nothing more; wait for a wake-up before asking again.
    drained: bool,
    /// A hand-off from the outbox waiting for the lane to load up to where it continues.
    fresh: Option<Reserved>,
}

impl Queue {
    /// Whether to load more from the store now.
    fn wants_more(&self) -> bool {
        !self.drained && self.has_room()
    }

    fn has_room(&self) -> bool {
        self.ready.len() < LOAD_BATCH as usize / 2 && self.retrying.len() < MAX_RETRYING
    }

    /// Places a delivery freshly loaded from the store.
    fn place(&mut self, mut p: Pending, now: i64) {
        self.loaded_up_to = self.loaded_up_to.max(p.seq);
        if p.next_attempt_at > now && p.attempts > 0 {
            // Failed before a restart and still in its pause: it heads its key.
            if let Some(k) = &p.ordering_key {
                self.busy.insert(k.clone());
            }
            p.body = None;
            self.timers.push(Reverse((p.next_attempt_at, p.seq)));
            self.retrying.insert(p.seq, p);
        } else {
            self.ready.push_back(p);
        }
    }

    /// Takes the waiting hand-off when it continues exactly what the lane has loaded (its
    /// route's previous delivery is loaded) and there is room. One that can never continue
    /// (the outbox did not know the previous delivery) is dropped: the store has it.
    fn take_fresh(&mut self, now: i64) {
        let Some(after) = self.fresh.as_ref().map(|r| r.fresh.after) else {
            return;
        };
        match after {
            None => {
                self.fresh = None;
                self.drained = false;
            }
            // Read the store up to where it continues.
            Some(a) if a > self.loaded_up_to => self.drained = false,
            Some(_) if !self.has_room() => {}
            Some(_) => {
                let mut reserved = self.fresh.take().expect("checked above");
                for p in std::mem::take(&mut reserved.fresh.deliveries) {
                    // A read of the store may have raced the hand-off and loaded some already.
                    if p.seq > self.loaded_up_to {
                        self.place(p, now);
                    }
                }
            }
        }
    }

    /// Where the next read of the store stops: just before the waiting hand-off, if any.
    fn read_bound(&self) -> i64 {
        self.fresh
            .as_ref()
            .and_then(|r| r.fresh.after)
            .unwrap_or(i64::MAX)
    }

    /// A read of the store up to `bound` returned `got` of at most `limit` deliveries.
    fn loaded(&mut self, bound: i64, got: usize, limit: usize) {
        self.drained = got < limit;
        if self.drained && bound != i64::MAX {
            // Everything up to the bound is loaded: the hand-off continues from there.
            self.loaded_up_to = self.loaded_up_to.max(bound);
        }
    }

    /// The next delivery to send now, if any.
    fn next(&mut self, now: i64) -> Option<Pending> {
        if let Some(p) = self.manual.pop_front() {
            return Some(p);
        }
        while let Some(&Reverse((due, seq))) = self.timers.peek() {
            if due > now {
                break;
            }
            self.timers.pop();
            if let Some(p) = self.retrying.remove(&seq) {
                return Some(p);
            }
        }
        while let Some(p) = self.ready.pop_front() {
            match &p.ordering_key {
                Some(k) if self.busy.contains(k) => {
                    if self.forgotten.contains(k) || self.waiting_len >= MAX_WAITING {
                        // Left in the store: read back when the key frees.
                        self.forgotten.insert(k.clone());
                        continue;
                    }
                    let k = k.clone();
                    let p = self.hold(p);
                    self.waiting.entry(k).or_default().push_back(p);
                    self.waiting_len += 1;
                }
                Some(k) => {
                    self.busy.insert(k.clone());
                    return Some(p);
                }
                None => return Some(p),
            }
        }
        None
    }

    /// Delivery `seq` is finished (delivered or dead): the next one with its key may go.
    fn release(&mut self, key: Option<&String>, seq: i64) {
        let Some(k) = key else { return };
        match self.waiting.get_mut(k).and_then(VecDeque::pop_front) {
            Some(next) => {
                self.waiting_len -= 1;
                self.unhold(&next);
                if self.waiting.get(k).is_some_and(VecDeque::is_empty) {
                    self.waiting.remove(k);
                }
                // It already holds the key: send it before anything newer.
                self.send_next_of_key(next);
            }
            // The key stays busy until its forgotten deliveries are read back.
            None if self.forgotten.contains(k) => self.refills.push((k.clone(), seq)),
            None => {
                self.busy.remove(k);
            }
        }
    }

    /// The highest seq `next` has looked at: a forgotten key's deliveries up to it are in
    /// the store only; later ones are still in `ready` or not loaded yet.
    fn examined_up_to(&self) -> i64 {
        self.ready.front().map_or(self.loaded_up_to, |p| p.seq - 1)
    }

    /// A forgotten key's next deliveries, read back from the store ([`KEY_BATCH`] at most:
    /// a full read means more may remain there).
    fn refill(&mut self, key: String, list: Vec<Pending>) {
        if list.len() < KEY_BATCH as usize {
            // Everything of this key up to `loaded_up_to` is now in memory; later ones come
            // through the normal load.
            self.forgotten.remove(&key);
        }
        let mut list = list.into_iter();
        let Some(first) = list.next() else {
            self.busy.remove(&key);
            return;
        };
        let rest: VecDeque<Pending> = list.map(|p| self.hold(p)).collect();
        if !rest.is_empty() {
            self.waiting_len += rest.len();
            self.waiting.insert(key, rest);
        }
        self.send_next_of_key(first);
    }

    /// Puts a key's next delivery at the very front (a timer due at once); it keeps the key
    /// busy for itself.
    fn send_next_of_key(&mut self, p: Pending) {
        self.timers.push(Reverse((0, p.seq)));
        self.retrying.insert(p.seq, p);
    }

    fn retry_later(&mut self, mut p: Pending, at: i64) {
        p.body = None;
        self.timers.push(Reverse((at, p.seq)));
        self.retrying.insert(p.seq, p);
    }

    /// Forgets any copy of `seq` (it is about to be sent by hand).
    fn forget(&mut self, seq: i64) {
        self.retrying.remove(&seq);
        self.ready.retain(|p| p.seq != seq);
        for list in self.waiting.values_mut() {
            if let Some(i) = list.iter().position(|p| p.seq == seq) {
                let p = list.remove(i).expect("found");
                self.waiting_len -= 1;
                self.waiting_bytes -= p.body.as_ref().map_or(0, |b| b.len());
            }
        }
    }

    /// A delivery about to wait behind its key: keeps its body while the waiting ones' bodies
    /// fit in [`WAITING_BODY_BYTES`].
    fn hold(&mut self, mut p: Pending) -> Pending {
        let len = p.body.as_ref().map_or(0, |b| b.len());
        if self.waiting_bytes + len <= WAITING_BODY_BYTES {
            self.waiting_bytes += len;
        } else {
            p.body = None;
        }
        p
    }

    /// `p` stops waiting.
    fn unhold(&mut self, p: &Pending) {
        self.waiting_bytes -= p.body.as_ref().map_or(0, |b| b.len());
    }

    fn next_timer(&self) -> Option<i64> {
        self.timers.peek().map(|Reverse((due, _))| *due)
    }
}

impl<S: Store> Lane<S> {
    pub fn new(
        route: Arc<RouteRuntime>,
        store: Arc<S>,
        outcomes: mpsc::Sender<AttemptRecord>,
        wake: Arc<Notify>,
        handoffs: mpsc::Receiver<Reserved>,
        control: watch::Receiver<Control>,
    ) -> Self {
        let paused = control.borrow().paused.contains(&route.name);
        Lane {
            route,
            store,
            outcomes,
            wake,
            handoffs,
            control,
            queue: Queue::default(),
            in_flight: JoinSet::new(),
            paused,
        }
    }

    /// Sends until `shutdown`, then lets in-flight requests finish within `grace`.
    pub async fn run(mut self, shutdown: CancellationToken, grace: Duration) {
        if self.paused {
            tracing::info!(route = %self.route.name, "route is paused: queuing, not sending");
        }
        let mut errors = 0u32;
        while !shutdown.is_cancelled() {
            if let Err(e) = self.fill().await {
                errors += 1;
                if errors == 1 {
                    tracing::error!(route = %self.route.name, error = %e, "cannot read the queue");
                }
                tokio::time::sleep(Duration::from_millis(500)).await;
                continue;
            }
            errors = 0;
            self.start_sends().await;
            self.wait(&shutdown).await;
        }
        self.drain(grace).await;
    }

    async fn fill(&mut self) -> crate::store::Result<()> {
        if self.paused {
            return Ok(());
        }
        while let Some((key, after)) = self.queue.refills.last().cloned() {
            let list = self
                .store
                .pending_of_key(
                    &self.route.name,
                    &key,
                    after,
                    self.queue.examined_up_to(),
                    KEY_BATCH,
                )
                .await?;
            self.queue.refills.pop();
            self.queue.refill(key, list);
        }
        self.queue.take_fresh(now_ms());
        let bound = self.queue.read_bound();
        if !self.queue.wants_more() || bound <= self.queue.loaded_up_to {
            return Ok(());
        }
        let batch = self
            .store
            .pending(&self.route.name, self.queue.loaded_up_to, bound, LOAD_BATCH)
            .await?;
        let got = batch.len();
        let now = now_ms();
        for p in batch {
            self.queue.place(p, now);
        }
        self.queue.loaded(bound, got, LOAD_BATCH as usize);
        self.queue.take_fresh(now);
        Ok(())
    }

    async fn start_sends(&mut self) {
        if self.paused {
            return;
        }
        let now = now_ms();
        while self.in_flight.len() < self.route.concurrency {
            let Some(mut p) = self.queue.next(now) else {
                break;
            };
            if p.body.is_none() {
                match self.store.body(p.seq).await {
                    Ok(Some(b)) => p.body = Some(b),
                    Ok(None) => continue, // pruned or gone: nothing to send
                    Err(e) => {
                        tracing::warn!(route = %self.route.name, error = %e, "cannot load a body; retrying soon");
                        self.queue.retry_later(p, now + 1000);
                        continue;
                    }
                }
            }
            self.spawn_send(p);
        }
    }

    fn spawn_send(&mut self, p: Pending) {
        let route = self.route.clone();
        self.in_flight.spawn(async move {
            let body = p.body.clone().unwrap_or_default();
            let started = now_ms();
            let headers = route.headers(&p.id, started / 1000, &body);
            let sent = post(&route.client, &route.url, &headers, body, route.timeout).await;
            (p, sent, started)
        });
    }

    async fn wait(&mut self, shutdown: &CancellationToken) {
        let timer = self.queue.next_timer().map(|due| {
            let ms = (due - now_ms()).max(0) as u64;
            tokio::time::Instant::now() + Duration::from_millis(ms)
        });
        // Besides wake-ups from the outbox, look at the store every second: a delivery queued
        // by another path (a commit retried after a failure, a restart) never waits for long.
        let recheck = tokio::time::Instant::now() + RECHECK;
        let sleep_until = timer.map_or(recheck, |t| t.min(recheck));
        tokio::select! {
            Some(done) = self.in_flight.join_next(), if !self.in_flight.is_empty() => {
                if let Ok((p, sent, started)) = done {
                    self.finish(p, sent, started).await;
                }
                // Whatever else finished meanwhile, before refilling the free slots at once.
                while let Some(done) = self.in_flight.try_join_next() {
                    if let Ok((p, sent, started)) = done {
                        self.finish(p, sent, started).await;
                    }
                }
            }
            _ = tokio::time::sleep_until(sleep_until), if !self.paused => {
                if tokio::time::Instant::now() >= recheck {
                    self.queue.drained = false;
                }
            }
            _ = self.wake.notified() => { self.queue.drained = false; }
            Some(reserved) = self.handoffs.recv(), if self.queue.fresh.is_none() => {
                // Taken (or not) by the next fill; a paused lane reads the store on resume.
                if !self.paused {
                    self.queue.fresh = Some(reserved);
                }
            }
            changed = self.control.changed() => {
                if changed.is_ok() { self.apply_control().await; }
            }
            _ = shutdown.cancelled() => {}
        }
    }

    async fn apply_control(&mut self) {
        let paused = self.control.borrow().paused.contains(&self.route.name);
        if paused != self.paused {
            self.paused = paused;
            self.queue.fresh = None;
            tracing::info!(route = %self.route.name, paused, "route {}", if paused { "paused" } else { "resumed" });
            self.queue.drained = false;
        }
        match self.store.take_manual(&self.route.name).await {
            Ok(list) => {
                for p in list {
                    // Drop any copy the lane already holds, then send it first.
                    self.queue.forget(p.seq);
                    self.queue.manual.push_back(p);
                }
            }
            Err(e) => {
                tracing::warn!(route = %self.route.name, error = %e, "cannot read hand retries")
            }
        }
    }

    async fn finish(&mut self, mut p: Pending, sent: Sent, started: i64) {
        let n = p.attempts + 1;
        let result = AttemptResult {
            status: sent.status,
            retry_after: sent.retry_after,
            broken: sent.error.is_some(),
        };
        let outcome = if p.manual {
            // A hand retry is one more attempt, not a new schedule.
            if result.succeeded() {
                Outcome::Delivered
            } else {
                Outcome::Dead
            }
        } else {
            self.route
                .retry
                .decide(n, p.created_at, now_ms(), result, rand::random::<f64>())
        };
        log_attempt(&self.route, &p, n, &sent, outcome);
        let record = AttemptRecord {
            seq: p.seq,
            n,
            started_at: started,
            duration_ms: sent.duration.as_millis() as i64,
            status_code: sent.status,
            error: sent.error.map(|e| self.route.scrub(&e)),
            response: self.route.scrub(&sent.response_snippet),
            outcome,
        };
        // Bounded: when the store cannot keep up, sending slows down instead of piling up.
        let _ = self.outcomes.send(record).await;
        match outcome {
            Outcome::Retry { next_attempt_at } if !p.manual => {
                p.attempts = n;
                self.queue.retry_later(p, next_attempt_at);
            }
            _ if p.manual => {}
            _ => self.queue.release(p.ordering_key.as_ref(), p.seq),
        }
    }

    async fn drain(&mut self, grace: Duration) {
        if self.in_flight.is_empty() {
            return;
        }
        let deadline = tokio::time::Instant::now() + grace;
        while !self.in_flight.is_empty() {
            match tokio::time::timeout_at(deadline, self.in_flight.join_next()).await {
                Ok(Some(Ok((p, sent, started)))) => self.finish(p, sent, started).await,
                Ok(_) => {}
                Err(_) => {
                    tracing::warn!(
                        route = %self.route.name,
                        abandoned = self.in_flight.len(),
                        "grace period over: abandoning in-flight requests (they are retried on the next start)"
                    );
                    self.in_flight.abort_all();
                    break;
                }
            }
        }
    }
}

fn log_attempt(rt: &RouteRuntime, p: &Pending, n: u32, sent: &Sent, outcome: Outcome) {
    let route = rt.name.as_str();
    let error = sent.error.as_deref().map(|e| rt.scrub(e));
    match outcome {
        Outcome::Delivered => tracing::debug!(
            route, id = %p.id, attempt = n, status = ?sent.status,
            queued_ms = now_ms() - p.created_at, "delivered"
        ),
        Outcome::Retry { next_attempt_at } => tracing::info!(
            route, id = %p.id, attempt = n, status = ?sent.status, error = ?error,
            retry_in_ms = next_attempt_at - now_ms(), "attempt failed; will retry"
        ),
        Outcome::Dead => tracing::warn!(
            route, id = %p.id, attempt = n, status = ?sent.status, error = ?error,
            "delivery is dead (retries exhausted, 410 Gone, or max_age passed); `nosey deliveries retry` sends it again"
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use bytes::Bytes;

    fn p(seq: i64, key: Option<&str>) -> Pending {
        Pending {
            seq,
            id: format!("msg_{seq}"),
            ordering_key: key.map(String::from),
            attempts: 0,
            created_at: 0,
            next_attempt_at: 0,
            manual: false,
            body: Some(Bytes::from_static(b"{}")),
        }
    }

    fn seqs(q: &mut Queue, now: i64) -> Vec<i64> {
        std::iter::from_fn(|| q.next(now)).map(|p| p.seq).collect()
    }

    #[test]
    fn a_busy_key_holds_back_only_its_own() {
        let mut q = Queue::default();
        for (s, k) in [(1, "a"), (2, "a"), (3, "b"), (4, "a"), (5, "c")] {
            q.place(p(s, Some(k)), 0);
        }
        assert_eq!(seqs(&mut q, 0), vec![1, 3, 5], "2 and 4 wait behind 1");
        q.release(Some(&"a".to_string()), 1);
        assert_eq!(seqs(&mut q, 0), vec![2]);
        q.release(Some(&"a".to_string()), 2);
        assert_eq!(seqs(&mut q, 0), vec![4]);
        q.release(Some(&"a".to_string()), 4);
        assert!(q.busy.contains("b") && !q.busy.contains("a"));
    }

    #[test]
    fn a_retry_keeps_its_key_until_it_is_done() {
        let mut q = Queue::default();
        q.place(p(1, Some("a")), 0);
        q.place(p(2, Some("a")), 0);
        q.place(p(3, None), 0);
        let first = q.next(0).unwrap();
        assert_eq!(seqs(&mut q, 0), vec![3]);
        q.retry_later(first, 100);
        assert!(seqs(&mut q, 50).is_empty(), "2 still waits while 1 pauses");
        assert_eq!(seqs(&mut q, 100), vec![1]);
        q.release(Some(&"a".to_string()), 1);
        let next = q.next(100).unwrap();
        assert_eq!(next.seq, 2);
        assert!(
            next.body.is_some(),
            "a waiting delivery keeps its body within the budget"
        );
        assert_eq!(q.waiting_bytes, 0);
    }

    fn handed(after: Option<i64>, seqs: std::ops::RangeInclusive<i64>) -> Option<Reserved> {
        let deliveries = seqs.map(|s| p(s, None)).collect();
        let fresh = crate::deliver::handoff::Fresh { after, deliveries };
        Some(
            crate::deliver::handoff::Budget::default()
                .reserve(fresh)
                .unwrap(),
        )
    }

    #[test]
    fn a_hand_off_that_continues_what_is_loaded_is_taken_once() {
        let mut q = Queue::default();
        q.place(p(10, None), 0);
        q.place(p(11, None), 0);
        q.drained = true;
        // The lane's read raced the commit and already loaded 11.
        q.fresh = handed(Some(10), 11..=13);
        q.take_fresh(0);
        assert!(q.fresh.is_none());
        assert_eq!(seqs(&mut q, 0), vec![10, 11, 12, 13]);
        assert_eq!(q.loaded_up_to, 13);
        assert!(q.drained, "nothing to read from the store");
    }

    #[test]
    fn a_hand_off_waits_until_the_store_is_read_up_to_it() {
        let mut q = Queue::default();
        q.place(p(5, None), 0);
        q.drained = true;
        q.fresh = handed(Some(9), 10..=12);
        q.take_fresh(0);
        assert!(
            q.fresh.is_some() && !q.drained,
            "6..=9 must come from the store"
        );
        assert_eq!(q.read_bound(), 9);
        q.place(p(8, None), 0);
        q.loaded(9, 1, LOAD_BATCH as usize);
        assert_eq!(q.loaded_up_to, 9);
        q.take_fresh(0);
        assert_eq!(seqs(&mut q, 0), vec![5, 8, 10, 11, 12]);
        assert_eq!(q.read_bound(), i64::MAX);
    }

    #[test]
    fn a_hand_off_without_its_previous_seq_is_left_to_the_store() {
        let mut q = Queue {
            drained: true,
            fresh: handed(None, 1..=2),
            ..Default::default()
        };
        q.take_fresh(0);
        assert!(q.fresh.is_none() && !q.drained);
        assert!(seqs(&mut q, 0).is_empty());
    }

    #[test]
    fn waiting_bodies_past_the_budget_are_dropped() {
        let mut q = Queue::default();
        let big = |seq| {
            let mut d = p(seq, Some("a"));
            d.body = Some(Bytes::from(vec![b'x'; WAITING_BODY_BYTES / 2]));
            d
        };
        for s in 1..=4 {
            q.place(big(s), 0);
        }
        assert_eq!(seqs(&mut q, 0), vec![1]);
        assert_eq!(q.waiting_bytes, WAITING_BODY_BYTES);
        let kept: Vec<bool> = q.waiting["a"].iter().map(|p| p.body.is_some()).collect();
        assert_eq!(kept, vec![true, true, false]);
        q.release(Some(&"a".to_string()), 1);
        assert_eq!(q.waiting_bytes, WAITING_BODY_BYTES / 2);
    }

    #[test]
    fn deliveries_failed_before_a_restart_resume_their_pause() {
        let mut q = Queue::default();
        let mut failed = p(1, Some("a"));
        failed.attempts = 2;
        failed.next_attempt_at = 500;
        q.place(failed, 100);
        q.place(p(2, Some("a")), 100);
        assert!(seqs(&mut q, 100).is_empty());
        assert_eq!(seqs(&mut q, 500), vec![1]);
    }

    #[test]
    fn past_the_cap_a_busy_keys_deliveries_are_forgotten_and_read_back_in_order() {
        let mut q = Queue::default();
        let last_waiting = 1 + MAX_WAITING as i64;
        for s in 1..=last_waiting + 1 {
            q.place(p(s, Some("a")), 0);
        }
        q.place(p(last_waiting + 2, Some("b")), 0);
        assert_eq!(seqs(&mut q, 0), vec![1, last_waiting + 2]);
        assert_eq!(q.waiting_len, MAX_WAITING, "the cap holds");
        assert!(q.forgotten.contains("a"));
        for s in 1..last_waiting {
            q.release(Some(&"a".to_string()), s);
            assert_eq!(seqs(&mut q, 0), vec![s + 1]);
        }
        q.release(Some(&"a".to_string()), last_waiting);
        assert!(
            seqs(&mut q, 0).is_empty(),
            "the forgotten one is in the store"
        );
        assert_eq!(q.refills, vec![("a".to_string(), last_waiting)]);
        assert_eq!(q.examined_up_to(), last_waiting + 2);
        q.refills.clear();
        q.refill("a".into(), vec![p(last_waiting + 1, Some("a"))]);
        assert_eq!(seqs(&mut q, 0), vec![last_waiting + 1]);
        assert!(!q.forgotten.contains("a"));
        q.release(Some(&"a".to_string()), last_waiting + 1);
        assert!(!q.busy.contains("a"));
    }

    #[test]
    fn a_read_back_stops_before_deliveries_not_yet_examined() {
        let mut q = Queue::default();
        q.place(p(1, Some("a")), 0);
        q.next(0).unwrap();
        q.forgotten.insert("a".into());
        q.place(p(2, Some("a")), 0);
        q.place(p(3, Some("a")), 0);
        assert_eq!(q.examined_up_to(), 1, "2 and 3 are still in ready");
        assert!(seqs(&mut q, 0).is_empty(), "forgotten behind 1");
        assert_eq!(q.examined_up_to(), 3);
    }
}
