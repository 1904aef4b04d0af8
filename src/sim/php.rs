//! Writing the `other` column exactly as PHP writes it: `json_encode()` with default flags
//! (Moodle 3.7+ with `jsonformat` on) or `serialize()` (sites upgraded from before 3.7).
//!
//! Values are built as `serde_json::Value` (key order kept) and must round-trip through
//! nosey's own decoder: that is what the simulator exists to exercise.

use serde_json::Value;

use crate::payload::php_json::write_php_string;

/// How the simulated site stores `other`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum OtherFormat {
    /// `json_encode($other)`: `\/` and `\uXXXX` escapes, `null` for none.
    #[default]
    Json,
    /// `serialize($other)`: byte lengths, `N;` for none.
    Serialized,
}

/// The stored text of `other` in `format`.
pub fn encode(value: &Value, format: OtherFormat) -> String {
    let mut out = Vec::with_capacity(64);
    match format {
        OtherFormat::Json => json_encode(value, &mut out),
        OtherFormat::Serialized => serialize(value, &mut out),
    }
    // Both writers only ever emit whole UTF-8 sequences taken from valid strings.
    String::from_utf8(out).unwrap_or_default()
}

/// PHP's `json_encode` with default flags. PHP arrays are lists only when empty or when built
/// as lists, which is what `Value::Array` means here.
fn json_encode(value: &Value, out: &mut Vec<u8>) {
    match value {
        Value::Null => out.extend_from_slice(b"null"),
        Value::Bool(b) => out.extend_from_slice(if *b { b"true" } else { b"false" }),
        Value::Number(n) => out.extend_from_slice(n.to_string().as_bytes()),
        Value::String(s) => write_php_string(s, out),
        Value::Array(items) => {
            out.push(b'[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                json_encode(item, out);
            }
            out.push(b']');
        }
        Value::Object(map) if map.is_empty() => out.extend_from_slice(b"[]"),
        Value::Object(map) => {
            out.push(b'{');
            for (i, (key, item)) in map.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                write_php_string(key, out);
                out.push(b':');
                json_encode(item, out);
            }
            out.push(b'}');
        }
    }
}

/// PHP's `serialize`. Object keys become string keys and list positions integer keys, as
/// PHP's arrays hold them.
fn serialize(value: &Value, out: &mut Vec<u8>) {
    match value {
        Value::Null => out.extend_from_slice(b"N;"),
        Value::Bool(b) => out.extend_from_slice(if *b { b"b:1;" } else { b"b:0;" }),
        Value::Number(n) if n.is_i64() || n.is_u64() => {
            out.extend_from_slice(format!("i:{n};").as_bytes());
        }
        Value::Number(n) => out.extend_from_slice(format!("d:{n};").as_bytes()),
        Value::String(s) => serialize_string(s, out),
        Value::Array(items) => {
            out.extend_from_slice(format!("a:{}:{{", items.len()).as_bytes());
            for (i, item) in items.iter().enumerate() {
                out.extend_from_slice(format!("i:{i};").as_bytes());
                serialize(item, out);
            }
            out.push(b'}');
        }
        Value::Object(map) => {
            out.extend_from_slice(format!("a:{}:{{", map.len()).as_bytes());
            for (key, item) in map {
                serialize_string(key, out);
                serialize(item, out);
            }
            out.push(b'}');
        }
    }
}

/// `s:<bytes>:"…";`: the length counts UTF-8 bytes, and nothing inside is escaped.
fn serialize_string(s: &str, out: &mut Vec<u8>) {
    out.extend_from_slice(format!("s:{}:\"", s.len()).as_bytes());
    out.extend_from_slice(s.as_bytes());
    out.extend_from_slice(b"\";");
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::moodle::other::decode_other;
    use serde_json::json;

    /// Texts a Moodle 4.5.6 site stored (tests/fixtures/moodle-4.5.6, both encodings).
    #[test]
    fn matches_what_moodle_stored() {
        let course = json!({"shortname": "123", "fullname": "Harness Course: Café & Co"});
        assert_eq!(
            encode(&course, OtherFormat::Json),
            r#"{"shortname":"123","fullname":"Harness Course: Caf\u00e9 & Co"}"#
        );
        assert_eq!(
            encode(&course, OtherFormat::Serialized),
            r#"a:2:{s:9:"shortname";s:3:"123";s:8:"fullname";s:26:"Harness Course: Café & Co";}"#
        );
        assert_eq!(encode(&Value::Null, OtherFormat::Json), "null");
        assert_eq!(encode(&Value::Null, OtherFormat::Serialized), "N;");
        let summary = json!({"summary": "<p>Updated summary</p>"});
        assert_eq!(
            encode(&summary, OtherFormat::Json),
            r#"{"summary":"<p>Updated summary<\/p>"}"#
        );
    }

    #[test]
    fn both_formats_decode_to_the_same_value() {
        let v = json!({
            "userenrolment": {"id": "2", "lastenrol": true, "courseid": "2"},
            "enrol": "manual", "overrideby": null, "state": 1, "list": [1, "a"],
            "empty": [], "emoji": "🎓 / \"q\"",
        });
        for format in [OtherFormat::Json, OtherFormat::Serialized] {
            let d = decode_other(Some(&encode(&v, format)));
            assert!(d.warning.is_none(), "{format:?}: {:?}", d.warning);
            assert_eq!(d.value["userenrolment"], v["userenrolment"]);
            assert_eq!(d.value["emoji"], v["emoji"]);
            assert_eq!(d.value["list"], v["list"]);
            assert_eq!(d.value["state"], json!(1));
        }
    }
}
