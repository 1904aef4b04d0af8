//! Assembling one [`Request`]: the acting user, where the request came from, the row
//! changes in order, and a log row per event with the columns `\core\event\base::create()`
//! fills in (`userid` of the actor, `courseid` from the context, `timecreated`, `origin`,
//! `ip`, `realuserid`).

use serde_json::Value;

use super::events::Ev;
use super::php::{OtherFormat, encode};
use super::request::{Change, LogEntry, Request, SqlValue};
use super::site::Ctx;

/// Where an event happened: its context and the course that context belongs to (0 outside
/// courses, as Moodle stores it).
#[derive(Debug, Clone)]
pub struct At {
    pub ctx: Ctx,
    pub courseid: i64,
}

impl At {
    pub fn new(ctx: &Ctx, courseid: i64) -> At {
        At {
            ctx: ctx.clone(),
            courseid,
        }
    }
}

/// The per-event part of a log row.
#[derive(Debug, Clone)]
pub struct Logged {
    pub at: At,
    pub objectid: Option<i64>,
    pub relateduserid: Option<i64>,
    pub other: Value,
}

impl Logged {
    pub fn at(at: At) -> Logged {
        Logged {
            at,
            objectid: None,
            relateduserid: None,
            other: Value::Null,
        }
    }

    pub fn object(mut self, id: i64) -> Logged {
        self.objectid = Some(id);
        self
    }

    pub fn related(mut self, user: i64) -> Logged {
        self.relateduserid = Some(user);
        self
    }

    pub fn other(mut self, other: Value) -> Logged {
        self.other = other;
        self
    }
}

pub struct RequestBuilder {
    changes: Vec<Change>,
    log: Vec<LogEntry>,
    origin: &'static str,
    ip: Option<String>,
    userid: i64,
    realuserid: Option<i64>,
    time: i64,
    format: OtherFormat,
}

impl RequestBuilder {
    /// A request by `userid`, from `ip` (none for CLI), at unix time `now`.
    pub fn new(
        origin: &'static str,
        ip: Option<String>,
        userid: i64,
        now: i64,
        format: OtherFormat,
    ) -> Self {
        RequestBuilder {
            changes: Vec::new(),
            log: Vec::new(),
            origin,
            ip,
            userid,
            realuserid: None,
            time: now,
            format,
        }
    }

    /// An administrator "logged in as" the acting user.
    pub fn logged_in_as(&mut self, real: i64) {
        self.realuserid = Some(real);
    }

    /// Events from here on carry `timecreated = t` (cron runs take a while).
    pub fn set_time(&mut self, t: i64) {
        self.time = t;
    }

    pub fn time(&self) -> i64 {
        self.time
    }

    pub fn userid(&self) -> i64 {
        self.userid
    }

    pub fn push(&mut self, change: Change) {
        self.changes.push(change);
    }

    pub fn update(&mut self, table: &'static str, id: i64, set: Vec<(&'static str, SqlValue)>) {
        self.changes.push(Change::Update { table, id, set });
    }

    pub fn delete(&mut self, table: &'static str, id: i64) {
        self.changes.push(Change::Delete { table, id });
    }

    pub fn log(&mut self, ev: &Ev, what: Logged) {
        self.log.push(LogEntry {
            id: 0,
            eventname: ev.name.to_string(),
            component: ev.component.to_string(),
            action: ev.action.to_string(),
            target: ev.target.to_string(),
            objecttable: ev.objecttable.map(str::to_string),
            objectid: what.objectid,
            crud: ev.crud.to_string(),
            edulevel: ev.edulevel,
            contextid: what.at.ctx.id,
            contextlevel: what.at.ctx.level,
            contextinstanceid: what.at.ctx.instance,
            userid: self.userid,
            courseid: Some(what.at.courseid),
            relateduserid: what.relateduserid,
            anonymous: 0,
            other: Some(encode(&what.other, self.format)),
            timecreated: self.time,
            origin: Some(self.origin.to_string()),
            ip: self.ip.clone(),
            realuserid: self.realuserid,
        });
    }

    pub fn log_len(&self) -> usize {
        self.log.len()
    }

    pub fn finish(self) -> Request {
        Request {
            changes: self.changes,
            log: self.log,
            origin: self.origin,
        }
    }
}
