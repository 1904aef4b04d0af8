//! The `event` object: exactly what Moodle's `\core\event\base::get_data()` returns.
//!
//! Seventeen keys in Moodle's order, `other` decoded from its stored JSON or PHP-serialize
//! text. Receivers written against Moodle's event API read it without translation.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::moodle::logstore::LogRow;
use crate::moodle::other::decode_other;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Event {
    pub eventname: String,
    pub component: String,
    pub action: String,
    pub target: String,
    pub objecttable: Option<String>,
    pub objectid: Option<i64>,
    pub crud: String,
    pub edulevel: i64,
    pub contextid: i64,
    pub contextlevel: i64,
    pub contextinstanceid: i64,
    pub userid: i64,
    pub courseid: Option<i64>,
    pub relateduserid: Option<i64>,
    pub anonymous: i64,
    pub other: Value,
    pub timecreated: i64,
}

impl Event {
    /// Rebuilds the event of a log row. Anonymous events never reveal their user: `userid`
    /// becomes 0 and `relateduserid` null, whatever Moodle stored.
    ///
    /// Returns a warning when `other` could not be decoded; the event then carries the raw
    /// text as a string, so the stream goes on.
    pub fn from_row(row: &LogRow) -> (Event, Option<String>) {
        let decoded = decode_other(row.other.as_deref());
        let anonymous = row.anonymous != 0;
        let event = Event {
            eventname: row.eventname.clone(),
            component: row.component.clone(),
            action: row.action.clone(),
            target: row.target.clone(),
            objecttable: row.objecttable.clone(),
            objectid: row.objectid,
            crud: row.crud.clone(),
            edulevel: row.edulevel,
            contextid: row.contextid,
            contextlevel: row.contextlevel,
            contextinstanceid: row.contextinstanceid,
            userid: if anonymous { 0 } else { row.userid },
            courseid: row.courseid,
            relateduserid: if anonymous { None } else { row.relateduserid },
            anonymous: row.anonymous,
            other: decoded.value,
            timecreated: row.timecreated,
        };
        (event, decoded.warning)
    }

    /// `objecttable:objectid`, the default ordering key, when the event has an object.
    pub fn object_key(&self) -> Option<String> {
        match (&self.objecttable, self.objectid) {
            (Some(t), Some(id)) => Some(format!("{t}:{id}")),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(anonymous: i64) -> LogRow {
        LogRow {
            id: 7,
            eventname: r"\core\event\course_viewed".into(),
            component: "core".into(),
            action: "viewed".into(),
            target: "course".into(),
            objecttable: None,
            objectid: None,
            crud: "r".into(),
            edulevel: 2,
            contextid: 12,
            contextlevel: 50,
            contextinstanceid: 2,
            userid: 5,
            courseid: Some(2),
            relateduserid: Some(6),
            anonymous,
            other: Some(r#"{"a":1}"#.into()),
            timecreated: 1_795_624_491,
            origin: Some("web".into()),
            ip: Some("10.0.0.1".into()),
            realuserid: None,
        }
    }

    #[test]
    fn keys_come_out_in_get_data_order() {
        let (e, w) = Event::from_row(&row(0));
        assert!(w.is_none());
        let json = serde_json::to_string(&e).unwrap();
        assert_eq!(
            json,
            r#"{"eventname":"\\core\\event\\course_viewed","component":"core","action":"viewed","target":"course","objecttable":null,"objectid":null,"crud":"r","edulevel":2,"contextid":12,"contextlevel":50,"contextinstanceid":2,"userid":5,"courseid":2,"relateduserid":6,"anonymous":0,"other":{"a":1},"timecreated":1795624491}"#
        );
    }

    #[test]
    fn anonymous_events_hide_the_user() {
        let (e, _) = Event::from_row(&row(1));
        assert_eq!(e.userid, 0);
        assert_eq!(e.relateduserid, None);
        assert_eq!(e.anonymous, 1);
    }
}
