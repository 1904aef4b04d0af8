//! The `seed` body: the bytes the 2016 `local_nosey` plugin POSTed, for receivers written
//! for it.
//!
//! `{"event", "record"}` only, encoded as PHP's `json_encode($data, JSON_NUMERIC_CHECK)`
//! did: `\/`, `\uXXXX` for non-ASCII, and numeric strings as numbers (shortname "123" → 123).
//! The record follows the plugin's rules: `false` for unenrolments, the last copy for deleted
//! courses and categories, and `portalid` on records that have a user.

use serde_json::{Map, Value};

use super::php_json::encode_numeric_check;
use crate::pipeline::Envelope;

pub fn render(env: &Envelope) -> Vec<u8> {
    let mut body = Map::new();
    body.insert(
        "event".into(),
        serde_json::to_value(&env.event).expect("event serializes"),
    );
    body.insert(
        "record".into(),
        env.seed_record().map_or(Value::Bool(false), Value::Object),
    );
    let mut out = Vec::with_capacity(1024);
    encode_numeric_check(&Value::Object(body), &mut out);
    out
}
