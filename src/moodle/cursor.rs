//! The gap-aware cursor: how far nosey has read Moodle's log, and which ids it still waits for.
//!
//! Ids in the log can become visible out of order: request A takes ids 100–149, request B
//! takes 150 and commits first. A plain `id > last` cursor would skip 100–149 for good. So
//! every missing id below the highest one read is held open as a *gap* with the time it was
//! first seen, re-checked on each poll, and given up (counted as skipped) after
//! `gap_timeout`, because rollbacks and log cleanup leave holes that never fill.
//!
//! Holes at or below the `horizon` (the newest id when the cursor began) are permanent by
//! definition: a backfill from the beginning walks years of cleaned-up history and must not
//! track each hole in it.
//!
//! The cursor is plain data: it serializes to JSON so the store can save it in the same
//! transaction as the deliveries made from the rows it covers.

use serde::{Deserialize, Serialize};

/// A run of missing ids `lo..=hi`, first noticed at `since` (unix milliseconds).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Gap {
    pub lo: i64,
    pub hi: i64,
    pub since: i64,
}

impl Gap {
    fn len(&self) -> u64 {
        (self.hi - self.lo + 1) as u64
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Cursor {
    /// The highest log id read.
    pub last_id: i64,
    /// Holes at or below this id are permanent, never gaps.
    pub horizon: i64,
    /// Missing ids below `last_id` still awaited, ordered by `lo`.
    #[serde(default)]
    pub gaps: Vec<Gap>,
    /// Ids given up on: `gap_timeout` passed, or more than `max_open_gaps` were open.
    #[serde(default)]
    pub skipped: u64,
}

impl Cursor {
    /// A cursor that will next read the row after `last_id`; holes up to `horizon` are final.
    pub fn new(last_id: i64, horizon: i64) -> Self {
        Cursor {
            last_id,
            horizon,
            gaps: Vec::new(),
            skipped: 0,
        }
    }

    /// Every id at or below the watermark has been read or given up on.
    pub fn watermark(&self) -> i64 {
        self.gaps.first().map_or(self.last_id, |g| g.lo - 1)
    }

    /// How many ids are still awaited.
    pub fn open_gap_ids(&self) -> u64 {
        self.gaps.iter().map(Gap::len).sum()
    }

    /// The awaited id ranges, inclusive, for a re-check query.
    pub fn gap_ranges(&self) -> Vec<(i64, i64)> {
        self.gaps.iter().map(|g| (g.lo, g.hi)).collect()
    }

    /// Records newly read ids (ascending, all above `last_id`), opening gaps for the holes
    /// between them.
    pub fn advance(&mut self, ids: &[i64], now_ms: i64) {
        for &id in ids {
            if id <= self.last_id {
                continue;
            }
            let lo = (self.last_id + 1).max(self.horizon + 1);
            let hi = id - 1;
            if lo <= hi {
                self.gaps.push(Gap {
                    lo,
                    hi,
                    since: now_ms,
                });
            }
            self.last_id = id;
        }
    }

    /// Marks an awaited id as read (it committed late). Returns whether it was awaited, so a
    /// row seen twice is never delivered twice.
    pub fn fill(&mut self, id: i64) -> bool {
        let Some(i) = self.gaps.iter().position(|g| g.lo <= id && id <= g.hi) else {
            return false;
        };
        let g = self.gaps[i];
        match (g.lo == id, g.hi == id) {
            (true, true) => {
                self.gaps.remove(i);
            }
            (true, false) => self.gaps[i].lo = id + 1,
            (false, true) => self.gaps[i].hi = id - 1,
            (false, false) => {
                self.gaps[i].hi = id - 1;
                self.gaps.insert(i + 1, Gap { lo: id + 1, ..g });
            }
        }
        true
    }

    /// Gives up on gaps first seen at least `timeout_ms` ago. Returns how many ids that skips.
    pub fn expire(&mut self, now_ms: i64, timeout_ms: i64) -> u64 {
        let mut skipped = 0;
        self.gaps.retain(|g| {
            let keep = now_ms - g.since < timeout_ms;
            if !keep {
                skipped += g.len();
            }
            keep
        });
        self.skipped += skipped;
        skipped
    }

    /// Keeps at most `max` awaited ids, giving up on the lowest (oldest) first.
    /// Returns how many ids that skips.
    pub fn cap(&mut self, max: u64) -> u64 {
        let mut excess = self.open_gap_ids().saturating_sub(max);
        let mut skipped = 0;
        while excess > 0 {
            let first = &mut self.gaps[0];
            let take = excess.min(first.len());
            if take == first.len() {
                self.gaps.remove(0);
            } else {
                first.lo += take as i64;
            }
            excess -= take;
            skipped += take;
        }
        self.skipped += skipped;
        skipped
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn holes_above_the_horizon_become_gaps() {
        let mut c = Cursor::new(10, 10);
        c.advance(&[11, 12, 15, 16, 20], 1000);
        assert_eq!(c.last_id, 20);
        assert_eq!(c.gap_ranges(), vec![(13, 14), (17, 19)]);
        assert_eq!(c.open_gap_ids(), 5);
        assert_eq!(c.watermark(), 12);
    }

    #[test]
    fn holes_below_the_horizon_are_permanent() {
        let mut c = Cursor::new(0, 100);
        c.advance(&[1, 5, 50, 99, 103, 105], 0);
        assert_eq!(c.gap_ranges(), vec![(101, 102), (104, 104)]);
    }

    #[test]
    fn late_commits_fill_gaps_exactly_once() {
        let mut c = Cursor::new(0, 0);
        c.advance(&[10], 0);
        assert_eq!(c.gap_ranges(), vec![(1, 9)]);
        assert!(c.fill(5));
        assert!(!c.fill(5), "a second sighting must not count again");
        assert_eq!(c.gap_ranges(), vec![(1, 4), (6, 9)]);
        assert!(c.fill(1) && c.fill(9) && c.fill(4) && c.fill(6));
        assert_eq!(c.gap_ranges(), vec![(2, 3), (7, 8)]);
        assert!(c.fill(2) && c.fill(3) && c.fill(7) && c.fill(8));
        assert!(c.gaps.is_empty());
        assert_eq!(c.watermark(), 10);
        assert!(!c.fill(11), "ids above last_id are not gaps");
    }

    #[test]
    fn gaps_expire_after_the_timeout_and_are_counted() {
        let mut c = Cursor::new(0, 0);
        c.advance(&[3], 1_000);
        c.advance(&[6], 5_000);
        assert_eq!(c.expire(60_999, 60_000), 0);
        assert_eq!(c.expire(61_000, 60_000), 2);
        assert_eq!(c.gap_ranges(), vec![(4, 5)]);
        assert_eq!(c.expire(65_000, 60_000), 2);
        assert_eq!(c.skipped, 4);
        assert_eq!(c.watermark(), 6);
    }

    #[test]
    fn too_many_open_gaps_drop_the_oldest() {
        let mut c = Cursor::new(0, 0);
        c.advance(&[5, 10], 0); // gaps 1..=4 and 6..=9
        assert_eq!(c.cap(5), 3);
        assert_eq!(c.gap_ranges(), vec![(4, 4), (6, 9)]);
        assert_eq!(c.cap(2), 3);
        assert_eq!(c.gap_ranges(), vec![(8, 9)]);
        assert_eq!(c.skipped, 6);
    }

    #[test]
    fn serializes_to_json_and_back() {
        let mut c = Cursor::new(41, 41);
        c.advance(&[44], 123);
        let json = serde_json::to_string(&c).unwrap();
        assert_eq!(
            json,
            r#"{"last_id":44,"horizon":41,"gaps":[{"lo":42,"hi":43,"since":123}],"skipped":0}"#
        );
        let back: Cursor = serde_json::from_str(&json).unwrap();
        assert_eq!(back, c);
    }
}
