//! Handing fresh deliveries to their lanes in memory.
//!
//! The store stays the record: every delivery is committed before anyone sends it. But a lane
//! that is keeping up would otherwise read back, a moment later, the very bodies the outbox
//! just wrote. So the outbox keeps (shared, not copied) what it renders and, once the batch is
//! committed, hands each route its new deliveries. A lane takes them only when they continue
//! exactly what it has already loaded and it has room; otherwise it reads them from the store
//! as before, so a lane that is behind, paused or restarting loses nothing.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use crate::store::{NewDelivery, Pending};

/// Most deliveries of one route kept for the hand-off per batch: past this the route's lane
/// reads the batch from the store.
const MAX_PER_ROUTE: usize = 1_024;
/// Most deliveries kept for the hand-off per batch over all routes, bounding the memory a
/// batch for many routes holds.
const MAX_PER_BATCH: usize = 4_096;

/// One route's deliveries from one committed batch, in seq order.
#[derive(Debug)]
pub struct Fresh {
    /// The seq of the route's delivery committed just before these, when the outbox knows
    /// it: the lane takes the hand-off only if it has loaded up to there.
    pub after: Option<i64>,
    pub deliveries: Vec<Pending>,
}

/// Body bytes handed over and not yet taken by their lanes, over all routes: past
/// [`Budget::MAX`] hand-offs fail over to the store, so a lane that is paused, slow or far
/// behind never makes nosey hold more than that.
#[derive(Clone, Default, Debug)]
pub struct Budget(Arc<AtomicUsize>);

impl Budget {
    pub const MAX: usize = 16 << 20;

    /// Counts `fresh` against the budget, or gives it back when there is no room.
    pub fn reserve(&self, fresh: Fresh) -> Result<Reserved, Fresh> {
        let bytes: usize = fresh
            .deliveries
            .iter()
            .map(|p| p.body.as_ref().map_or(0, |b| b.len()))
            .sum();
        let fits = self
            .0
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |held| {
                (held + bytes <= Self::MAX).then_some(held + bytes)
            })
            .is_ok();
        if !fits {
            return Err(fresh);
        }
        Ok(Reserved {
            fresh,
            bytes,
            budget: self.clone(),
        })
    }

    #[cfg(test)]
    fn held(&self) -> usize {
        self.0.load(Ordering::Acquire)
    }
}

/// A hand-off on its way to its lane; its bytes count against the budget until it is dropped.
#[derive(Debug)]
pub struct Reserved {
    pub fresh: Fresh,
    bytes: usize,
    budget: Budget,
}

impl Drop for Reserved {
    fn drop(&mut self) {
        self.budget.0.fetch_sub(self.bytes, Ordering::AcqRel);
    }
}

/// Gathers a batch's hand-offs while the store writes the batch.
pub struct Collector {
    routes: Vec<RouteFresh>,
    kept: usize,
    /// Deliveries offered so far: the position of the next in the batch.
    position: usize,
}

#[derive(Default)]
struct RouteFresh {
    /// (position in the batch, delivery without its seq yet).
    kept: Vec<(usize, Pending)>,
    /// Position of the route's last delivery in the batch.
    last: Option<usize>,
    /// Some were not kept: the lane must read this batch from the store.
    overflow: bool,
}

impl Collector {
    pub fn new(routes: usize) -> Self {
        Collector {
            routes: (0..routes).map(|_| RouteFresh::default()).collect(),
            kept: 0,
            position: 0,
        }
    }

    /// The store is about to write `d`, the next delivery of the batch, for route `route`.
    pub fn offer(&mut self, route: usize, d: &NewDelivery) {
        let position = self.position;
        self.position += 1;
        let r = &mut self.routes[route];
        r.last = Some(position);
        if d.dead_reason.is_some() || r.overflow {
            return;
        }
        if r.kept.len() >= MAX_PER_ROUTE || self.kept >= MAX_PER_BATCH {
            r.overflow = true;
            self.kept -= r.kept.len();
            r.kept = Vec::new();
            return;
        }
        self.kept += 1;
        r.kept.push((
            position,
            Pending {
                seq: 0,
                id: d.id.clone(),
                ordering_key: d.ordering_key.clone(),
                attempts: 0,
                created_at: d.created_at,
                next_attempt_at: d.created_at,
                manual: false,
                body: Some(d.body.clone()),
            },
        ));
    }

    /// The batch is committed with these `seqs` (one per delivery offered, in order).
    /// `last_seq` holds each route's last committed seq and is moved on. Yields, for every
    /// route with deliveries in the batch, its hand-off (`None`: read from the store).
    pub fn finish(self, seqs: &[i64], last_seq: &mut [Option<i64>]) -> Vec<(usize, Option<Fresh>)> {
        debug_assert_eq!(seqs.len(), self.position);
        let mut out = Vec::new();
        for (i, r) in self.routes.into_iter().enumerate() {
            let Some(last) = r.last.and_then(|p| seqs.get(p)) else {
                continue;
            };
            let after = last_seq[i].replace(*last);
            let fresh = (!r.overflow).then(|| Fresh {
                after,
                deliveries: r
                    .kept
                    .into_iter()
                    .filter_map(|(pos, mut p)| {
                        p.seq = *seqs.get(pos)?;
                        Some(p)
                    })
                    .collect(),
            });
            out.push((i, fresh));
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use bytes::Bytes;

    fn d(dead: bool) -> NewDelivery {
        NewDelivery {
            id: "msg_1".into(),
            route: "r".into(),
            log_id: 1,
            eventname: "e".into(),
            object: None,
            ordering_key: None,
            created_at: 5,
            headers: String::new(),
            body: Bytes::from_static(b"{}"),
            dead_reason: dead.then(|| "too large".into()),
        }
    }

    #[test]
    fn each_route_gets_its_own_deliveries_with_their_seqs_and_the_previous_seq() {
        let mut c = Collector::new(3);
        for (route, dead) in [(0, false), (1, false), (0, true), (0, false)] {
            c.offer(route, &d(dead));
        }
        let mut last = vec![Some(7), None, Some(1)];
        let out = c.finish(&[10, 11, 12, 13], &mut last);
        assert_eq!(last, vec![Some(13), Some(11), Some(1)], "route 2 untouched");
        assert_eq!(out.len(), 2);
        let (r0, f0) = &out[0];
        let f0 = f0.as_ref().unwrap();
        assert_eq!((*r0, f0.after), (0, Some(7)));
        let seqs: Vec<i64> = f0.deliveries.iter().map(|p| p.seq).collect();
        assert_eq!(seqs, vec![10, 13], "the dead one is not sent");
        let (r1, f1) = &out[1];
        assert_eq!((*r1, f1.as_ref().unwrap().after), (1, None));
    }

    #[test]
    fn the_budget_bounds_what_is_held_and_frees_it_on_drop() {
        let budget = Budget::default();
        let fresh = |len: usize| Fresh {
            after: None,
            deliveries: vec![Pending {
                seq: 1,
                id: "msg_1".into(),
                ordering_key: None,
                attempts: 0,
                created_at: 0,
                next_attempt_at: 0,
                manual: false,
                body: Some(Bytes::from(vec![0u8; len])),
            }],
        };
        let a = budget.reserve(fresh(Budget::MAX - 10)).unwrap();
        assert!(budget.reserve(fresh(11)).is_err(), "over the budget");
        let b = budget.reserve(fresh(10)).unwrap();
        assert_eq!(budget.held(), Budget::MAX);
        drop(a);
        drop(b);
        assert_eq!(budget.held(), 0);
    }

    #[test]
    fn past_the_cap_a_route_reads_its_batch_from_the_store() {
        let mut c = Collector::new(2);
        for _ in 0..=MAX_PER_ROUTE {
            c.offer(0, &d(false));
        }
        c.offer(1, &d(false));
        let n = MAX_PER_ROUTE + 2;
        let seqs: Vec<i64> = (1..=n as i64).collect();
        let mut last = vec![None, None];
        let out = c.finish(&seqs, &mut last);
        assert!(out[0].1.is_none(), "overflowed: no hand-off");
        assert_eq!(last[0], Some(n as i64 - 1), "but its last seq is known");
        assert_eq!(out[1].1.as_ref().unwrap().deliveries.len(), 1);
    }
}
