//! The transform between reading and sending: match routes, decode events, attach records.
//!
//! A tailer batch goes in; an [`Envelope`] per matched row comes out, carrying the event and
//! every candidate record (the row as read now, the copy Moodle put into `other`, the last
//! copy nosey kept), so that each body format can apply its own rule for which to send.

use std::collections::HashMap;
use std::future::Future;
use std::sync::Arc;

use serde_json::Value;

use crate::event::Event;
use crate::moodle::record::{Record, RecordReader};
use crate::moodle::{LogRow, MoodleError};
use crate::route::Router;

/// Which record a body carries, as `meta.record_state` says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RecordState {
    /// The row as nosey read it just now.
    Current,
    /// The row is gone; Moodle put it into `other` (unenrolments).
    FromEvent,
    /// The row is gone; this is the last copy nosey saw.
    LastKnown,
    /// No row: the event names none, or it is gone and was never seen.
    Missing,
    /// Records were not looked up (`nosey tail --no-record`).
    Skipped,
    /// The record made the body larger than the route's `max_body_size`: left out.
    TooLarge,
}

impl RecordState {
    pub fn as_str(self) -> &'static str {
        match self {
            RecordState::Current => "current",
            RecordState::FromEvent => "from_event",
            RecordState::LastKnown => "last_known",
            RecordState::Missing => "missing",
            RecordState::Skipped => "skipped",
            RecordState::TooLarge => "too_large",
        }
    }
}

/// Events whose `other` holds the whole deleted row, and under which key.
const ROW_IN_OTHER: [(&str, &str); 1] = [(r"\core\event\user_enrolment_deleted", "userenrolment")];

/// Deletes for which the 2016 plugin sent `false` (it had no row): the `seed` format keeps that.
const SEED_RECORD_FALSE: [&str; 1] = [r"\core\event\user_enrolment_deleted"];

/// One matched log row, ready to be turned into bodies.
#[derive(Debug, Clone)]
pub struct Envelope {
    pub log_id: i64,
    pub origin: Option<String>,
    pub event: Event,
    /// Indexes into the router's routes.
    pub routes: Vec<usize>,
    pub current: Option<Arc<Record>>,
    pub from_event: Option<Record>,
    pub last_known: Option<Arc<Record>>,
    /// The 2016 plugin's `portalid`: the record's user's idnumber, when it is a number > 0.
    pub portalid: Option<Value>,
    pub records_skipped: bool,
    /// The record was left out because the body grew past `max_body_size`.
    pub record_dropped: bool,
}

impl Envelope {
    /// The record of the `nosey` and `cloudevents` formats: current, else from the event,
    /// else the last copy, else none.
    pub fn record(&self) -> (Option<&Record>, RecordState) {
        if self.records_skipped {
            return (None, RecordState::Skipped);
        }
        if self.record_dropped {
            return (None, RecordState::TooLarge);
        }
        if let Some(r) = &self.current {
            return (Some(r), RecordState::Current);
        }
        if let Some(r) = &self.from_event {
            return (Some(r), RecordState::FromEvent);
        }
        if let Some(r) = &self.last_known {
            return (Some(r), RecordState::LastKnown);
        }
        (None, RecordState::Missing)
    }

    /// The record of the `seed` format, as the 2016 plugin sent it: `false` for unenrolments,
    /// otherwise the row (current or last known) plus `portalid`.
    pub fn seed_record(&self) -> Option<Record> {
        if self.record_dropped || SEED_RECORD_FALSE.contains(&self.event.eventname.as_str()) {
            return None;
        }
        let mut record = self
            .current
            .as_deref()
            .or(self.last_known.as_deref())?
            .clone();
        if let Some(p) = &self.portalid {
            record.insert("portalid".into(), p.clone());
        }
        Some(record)
    }

    /// The same envelope without its record, for bodies that would be too large.
    pub fn without_record(&self) -> Envelope {
        Envelope {
            current: None,
            from_event: None,
            last_known: None,
            portalid: None,
            record_dropped: true,
            ..self.clone()
        }
    }

    fn object(&self) -> Option<(String, i64)> {
        Some((self.event.objecttable.clone()?, self.event.objectid?))
    }
}

/// Where last-known copies of records live: in memory for `tail`, in the store for `run`.
pub trait RecordMemory {
    /// The last copies of `keys` that are known.
    fn recall(
        &mut self,
        keys: &[(String, i64)],
    ) -> impl Future<
        Output = Result<HashMap<(String, i64), Arc<Record>>, crate::moodle::tailer::SinkError>,
    > + Send;
}

/// Keeps every record read in memory, bounded (`nosey tail`).
#[derive(Default)]
pub struct MemoryRecords {
    map: HashMap<(String, i64), Arc<Record>>,
}

impl MemoryRecords {
    const MAX: usize = 100_000;

    pub fn remember(&mut self, read: &[((String, i64), Arc<Record>)]) {
        if self.map.len() + read.len() > Self::MAX {
            self.map.clear();
        }
        for (k, v) in read {
            self.map.insert(k.clone(), v.clone());
        }
    }
}

impl RecordMemory for MemoryRecords {
    async fn recall(
        &mut self,
        keys: &[(String, i64)],
    ) -> Result<HashMap<(String, i64), Arc<Record>>, crate::moodle::tailer::SinkError> {
        Ok(keys
            .iter()
            .filter_map(|k| self.map.get(k).map(|v| (k.clone(), v.clone())))
            .collect())
    }
}

/// What a batch became.
#[derive(Debug, Default)]
pub struct Processed {
    pub envelopes: Vec<Envelope>,
    /// Every record read, for the caller to remember as the last-known copy.
    pub read: Vec<((String, i64), Arc<Record>)>,
    /// Rows whose `other` could not be decoded (sent on as text).
    pub decode_warnings: usize,
}

pub struct Pipeline {
    router: Router,
    records: Option<RecordReader>,
    portalid: bool,
}

impl Pipeline {
    /// `records`: `None` skips lookups (`record: null`, state `skipped`). `portalid`: look up
    /// the users of records for the 2016 plugin's `portalid` (only `seed` routes need it).
    pub fn new(router: Router, records: Option<RecordReader>, portalid: bool) -> Self {
        Pipeline {
            router,
            records,
            portalid,
        }
    }

    pub fn router(&self) -> &Router {
        &self.router
    }

    pub fn records(&self) -> Option<&RecordReader> {
        self.records.as_ref()
    }

    /// Matches, decodes and attaches records for one batch. Database errors fail the whole
    /// batch so it is read again rather than sent without its records.
    pub async fn process<M: RecordMemory>(
        &self,
        rows: &[LogRow],
        memory: &mut M,
    ) -> Result<Processed, ProcessError> {
        let mut out = Processed::default();
        for row in rows {
            let routes = self.router.matches(row);
            if routes.is_empty() {
                continue;
            }
            let (event, warning) = Event::from_row(row);
            if let Some(w) = warning {
                out.decode_warnings += 1;
                tracing::warn!(log_id = row.id, eventname = %row.eventname, "other: {w}");
            }
            out.envelopes.push(Envelope {
                log_id: row.id,
                origin: row.origin.clone(),
                from_event: row_in_other(&event),
                event,
                routes,
                current: None,
                last_known: None,
                portalid: None,
                records_skipped: self.records.is_none(),
                record_dropped: false,
            });
        }
        if let Some(reader) = &self.records {
            attach_records(reader, &mut out, memory).await?;
            if self.portalid {
                attach_portalids(reader, &mut out.envelopes).await?;
            }
        }
        Ok(out)
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ProcessError {
    #[error(transparent)]
    Moodle(#[from] MoodleError),
    #[error("reading last-known records: {0}")]
    Memory(crate::moodle::tailer::SinkError),
}

fn row_in_other(event: &Event) -> Option<Record> {
    let (_, key) = ROW_IN_OTHER
        .iter()
        .find(|(name, _)| *name == event.eventname)?;
    event.other.get(key)?.as_object().cloned()
}

async fn attach_records<M: RecordMemory>(
    reader: &RecordReader,
    out: &mut Processed,
    memory: &mut M,
) -> Result<(), ProcessError> {
    let wanted: Vec<(String, i64)> = out.envelopes.iter().filter_map(Envelope::object).collect();
    if wanted.is_empty() {
        return Ok(());
    }
    let found: HashMap<(String, i64), Arc<Record>> = reader
        .fetch(&wanted)
        .await?
        .into_iter()
        .map(|(k, v)| (k, Arc::new(v)))
        .collect();
    // Rows Moodle no longer has: their last-known copies, if nosey read them before. Tables
    // nosey cannot read were never copied, so the store is not asked about them.
    let mut gone: Vec<(String, i64)> = Vec::new();
    for key in wanted.iter().filter(|k| !found.contains_key(*k)) {
        if reader.is_known_table(&key.0).await? {
            gone.push(key.clone());
        }
    }
    let recalled = if gone.is_empty() {
        HashMap::new()
    } else {
        memory.recall(&gone).await.map_err(ProcessError::Memory)?
    };
    for env in &mut out.envelopes {
        let Some(key) = env.object() else { continue };
        env.current = found.get(&key).cloned();
        env.last_known = recalled.get(&key).cloned();
        if let Some(row) = env.from_event.as_mut() {
            reader.coerce(&key.0, row).await?;
        }
    }
    out.read = found.into_iter().collect();
    Ok(())
}

/// PHP's `intval($s) > 0` on an idnumber, as the 2016 plugin tested it.
fn php_intval_positive(s: &str) -> bool {
    use crate::payload::php_json::{PhpNumber, php_numeric};
    match php_numeric(s) {
        Some(PhpNumber::Long(n)) => n > 0,
        Some(PhpNumber::Double(d)) => d >= 1.0,
        None => {
            let t = s.trim_start();
            let digits: String = t
                .strip_prefix('+')
                .unwrap_or(t)
                .chars()
                .take_while(char::is_ascii_digit)
                .collect();
            !t.starts_with('-') && !digits.trim_start_matches('0').is_empty()
        }
    }
}

async fn attach_portalids(reader: &RecordReader, envs: &mut [Envelope]) -> Result<(), MoodleError> {
    let userid_of = |env: &Envelope| -> Option<i64> {
        let rec = env.current.as_deref().or(env.last_known.as_deref())?;
        rec.get("userid")?.as_i64()
    };
    let users: Vec<(String, i64)> = envs
        .iter()
        .filter_map(userid_of)
        .map(|u| ("user".to_string(), u))
        .collect();
    if users.is_empty() {
        return Ok(());
    }
    let found = reader.fetch(&users).await?;
    for env in envs.iter_mut() {
        let Some(uid) = userid_of(env) else { continue };
        let idnumber = found
            .get(&("user".to_string(), uid))
            .and_then(|u| u.get("idnumber"))
            .and_then(Value::as_str);
        if let Some(idn) = idnumber.filter(|s| php_intval_positive(s)) {
            env.portalid = Some(Value::String(idn.to_string()));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn intval_follows_php() {
        assert!(php_intval_positive("12345"));
        assert!(php_intval_positive(" 12abc"));
        assert!(php_intval_positive("1e3"));
        assert!(!php_intval_positive(""));
        assert!(!php_intval_positive("0"));
        assert!(!php_intval_positive("-5"));
        assert!(!php_intval_positive("abc"));
        assert!(!php_intval_positive("0.5"));
    }
}
