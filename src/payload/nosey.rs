//! The `nosey` body: `{"event": …, "record": … | false, "meta": …}`.
//!
//! `event` is Moodle's `get_data()`, `record` the changed row with its real types (a
//! shortname "123" stays a string), and `meta` says where the body came from and which copy of
//! the row it carries.

use serde::Serialize;
use serde::ser::Serializer;

use super::BodyContext;
use crate::event::Event;
use crate::moodle::record::Record;
use crate::pipeline::{Envelope, RecordState};

#[derive(Serialize)]
pub(super) struct NoseyBody<'a> {
    event: &'a Event,
    record: RecordOut<'a>,
    meta: Meta<'a>,
}

#[derive(Serialize)]
struct Meta<'a> {
    log_id: i64,
    origin: Option<&'a str>,
    delivery_id: Option<&'a str>,
    route: Option<&'a str>,
    record_state: &'static str,
}

/// `false` when there is no row (the 2016 plugin's convention), `null` when not looked up.
enum RecordOut<'a> {
    Row(&'a Record),
    Absent,
    NotRead,
}

impl Serialize for RecordOut<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            RecordOut::Row(r) => r.serialize(s),
            RecordOut::Absent => s.serialize_bool(false),
            RecordOut::NotRead => s.serialize_none(),
        }
    }
}

pub(super) fn body<'a>(env: &'a Envelope, ctx: &BodyContext<'a>) -> NoseyBody<'a> {
    let (record, state) = env.record();
    let record = match (record, state) {
        (Some(r), _) => RecordOut::Row(r),
        (None, RecordState::Skipped) => RecordOut::NotRead,
        (None, _) => RecordOut::Absent,
    };
    NoseyBody {
        event: &env.event,
        record,
        meta: Meta {
            log_id: env.log_id,
            origin: env.origin.as_deref(),
            delivery_id: ctx.delivery_id,
            route: ctx.route,
            record_state: state.as_str(),
        },
    }
}

pub fn render(env: &Envelope, ctx: &BodyContext<'_>) -> Vec<u8> {
    // Serializing plain structs and JSON values cannot fail.
    serde_json::to_vec(&body(env, ctx)).expect("body serializes")
}
