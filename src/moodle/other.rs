//! Decoding of the `other` column of Moodle's `logstore_standard_log`.
//!
//! Moodle writes `other` as JSON when `logstore_standard/jsonformat` is on and
//! as PHP `serialize()` text when it is off (or was, for older rows), and tells
//! the two apart only by the rule in `tool_log\helper\reader::decode_other`.
//! nosey applies the same rule so every row decodes as Moodle itself reads it. A row that decodes as neither must not stop the tail, so it is kept as
//! text with a warning. This runs for every log row, hence the fast paths.

use super::phpserialize;
use serde_json::Value;

/// Which encoding the `other` text was read as.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OtherFormat {
    Json,
    Serialized,
    Null,
}

/// The decoded `other` column, with a warning when it could not be read cleanly.
#[derive(Debug, Clone, PartialEq)]
pub struct DecodedOther {
    pub value: Value,
    pub format: OtherFormat,
    pub warning: Option<String>,
}

/// Longest part of the text quoted in a warning, so one bad row cannot flood the logs.
const PREVIEW_CHARS: usize = 80;

/// Moodle's rule: `N;`, or any one byte followed by `:` (PCRE `^.:` without
/// the `u` flag, so `.` is one byte and never a newline).
pub fn is_serialized(text: &str) -> bool {
    text == "N;" || matches!(text.as_bytes(), [first, b':', ..] if *first != b'\n')
}

/// Decodes the `other` column the way Moodle does; `None` is SQL NULL.
pub fn decode_other(text: Option<&str>) -> DecodedOther {
    let Some(text) = text else {
        return clean(Value::Null, OtherFormat::Null);
    };
    if let Some(decoded) = fast_path(text) {
        return decoded;
    }
    if is_serialized(text) {
        decode_serialized(text)
    } else {
        decode_json(text)
    }
}

fn clean(value: Value, format: OtherFormat) -> DecodedOther {
    DecodedOther {
        value,
        format,
        warning: None,
    }
}

/// The most common texts, answered without running a parser.
fn fast_path(text: &str) -> Option<DecodedOther> {
    let decoded = match text {
        "null" => clean(Value::Null, OtherFormat::Json),
        "[]" => clean(Value::Array(Vec::new()), OtherFormat::Json),
        "N;" => clean(Value::Null, OtherFormat::Serialized),
        "a:0:{}" => clean(Value::Array(Vec::new()), OtherFormat::Serialized),
        // json_encode failing (invalid UTF-8) returns false, which Moodle stores as "0".
        "0" => DecodedOther {
            value: Value::from(0),
            format: OtherFormat::Json,
            warning: Some(
                "Moodle stored '0': its json_encode of other failed (invalid UTF-8?)".to_owned(),
            ),
        },
        _ => return None,
    };
    Some(decoded)
}

fn decode_serialized(text: &str) -> DecodedOther {
    match phpserialize::unserialize(text.as_bytes()) {
        Ok(value) => clean(value, OtherFormat::Serialized),
        Err(e) => kept_as_text(
            text,
            OtherFormat::Serialized,
            format_args!("other looks PHP-serialized but does not unserialize: {e}"),
        ),
    }
}

fn decode_json(text: &str) -> DecodedOther {
    if text.is_empty() {
        return kept_as_text(
            text,
            OtherFormat::Json,
            format_args!("other is empty: neither JSON nor PHP-serialized"),
        );
    }
    match serde_json::from_str(text) {
        Ok(value) => clean(value, OtherFormat::Json),
        Err(e) => kept_as_text(
            text,
            OtherFormat::Json,
            format_args!("other is neither PHP-serialized nor valid JSON: {e}"),
        ),
    }
}

/// Keeps undecodable text as a string so the row still flows, and says why.
fn kept_as_text(text: &str, format: OtherFormat, why: std::fmt::Arguments<'_>) -> DecodedOther {
    let warning = if text.is_empty() {
        why.to_string()
    } else {
        format!("{why}; kept as text starting {}", preview(text))
    };
    DecodedOther {
        value: Value::String(text.to_owned()),
        format,
        warning: Some(warning),
    }
}

/// The text's first characters, quoted and escaped so the warning stays one line.
fn preview(text: &str) -> String {
    match text.char_indices().nth(PREVIEW_CHARS) {
        Some((cut, _)) => format!("{:?}…", text.get(..cut).unwrap_or_default()),
        None => format!("{text:?}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use serde_json::json;

    /// Rows from a Moodle 4.5.6 site, with what PHP's json_encode makes of them.
    const MOODLE_ROWS: [(&str, &str); 11] = [
        (
            r#"a:2:{s:9:"shortname";s:3:"123";s:8:"fullname";s:26:"Harness Course: Café & Co";}"#,
            r#"{"shortname":"123","fullname":"Harness Course: Café & Co"}"#,
        ),
        (r#"a:1:{s:10:"sectionnum";i:0;}"#, r#"{"sectionnum":0}"#),
        (
            r#"a:1:{s:14:"forgottenreset";b:0;}"#,
            r#"{"forgottenreset":false}"#,
        ),
        (
            r#"a:3:{s:13:"relateduserid";i:3;s:10:"overrideby";N;s:15:"completionstate";i:1;}"#,
            r#"{"relateduserid":3,"overrideby":null,"completionstate":1}"#,
        ),
        (
            r#"a:3:{s:2:"id";s:1:"2";s:9:"component";s:0:"";s:6:"itemid";s:1:"0";}"#,
            r#"{"id":"2","component":"","itemid":"0"}"#,
        ),
        (
            r#"a:3:{s:9:"shortname";s:3:"123";s:8:"fullname";s:36:"Harness Course: Café & Co (updated)";s:7:"options";a:0:{}}"#,
            r#"{"shortname":"123","fullname":"Harness Course: Café & Co (updated)","options":[]}"#,
        ),
        (
            r#"a:1:{s:4:"name";s:33:"Harness Category "renamed" & more";}"#,
            r#"{"name":"Harness Category \"renamed\" & more"}"#,
        ),
        (
            r#"{"shortname":"123","fullname":"Harness Course: Caf\u00e9 & Co"}"#,
            r#"{"shortname":"123","fullname":"Harness Course: Café & Co"}"#,
        ),
        (r#"{"sectionnum":0}"#, r#"{"sectionnum":0}"#),
        ("null", "null"),
        ("[]", "[]"),
    ];

    #[test]
    fn real_moodle_rows() {
        for (i, (text, want)) in MOODLE_ROWS.iter().enumerate() {
            let decoded = decode_other(Some(text));
            let format = if i < 7 {
                OtherFormat::Serialized
            } else {
                OtherFormat::Json
            };
            assert_eq!(decoded.format, format, "{text}");
            assert_eq!(decoded.warning, None, "{text}");
            assert_eq!(decoded.value.to_string(), *want, "{text}");
        }
    }

    #[test]
    fn null_column_and_null_texts() {
        let none = decode_other(None);
        assert_eq!(
            (none.value, none.format, none.warning),
            (Value::Null, OtherFormat::Null, None)
        );
        assert_eq!(decode_other(Some("N;")).format, OtherFormat::Serialized);
        assert_eq!(decode_other(Some("N;")).value, Value::Null);
        assert_eq!(decode_other(Some(" null ")).value, Value::Null);
        assert_eq!(decode_other(Some("a:0:{}")).value, json!([]));
    }

    #[test]
    fn json_keeps_order_and_number_text() {
        let decoded = decode_other(Some(
            r#"{"z":1,"a":1.50,"big":123456789012345678901234567890}"#,
        ));
        assert_eq!(
            decoded.value.to_string(),
            r#"{"z":1,"a":1.50,"big":123456789012345678901234567890}"#
        );
    }

    #[test]
    fn zero_means_json_encode_failed() {
        let decoded = decode_other(Some("0"));
        assert_eq!(decoded.value, json!(0));
        assert_eq!(decoded.format, OtherFormat::Json);
        let warning = decoded.warning.unwrap_or_default();
        assert!(warning.contains("Moodle stored '0'"), "{warning}");
    }

    fn kept(text: &str) -> (OtherFormat, String) {
        let decoded = decode_other(Some(text));
        assert_eq!(decoded.value, Value::String(text.to_owned()), "{text}");
        let warning = decoded
            .warning
            .unwrap_or_else(|| panic!("no warning for {text:?}"));
        assert!(!warning.contains('\n') && warning.len() < 400, "{warning}");
        (decoded.format, warning)
    }

    #[test]
    fn undecodable_text_is_kept_with_a_warning() {
        let (format, warning) = kept(r#"a:1:{s:4:"name";s:10:"trunc"#);
        assert_eq!(format, OtherFormat::Serialized);
        assert!(
            warning.contains("string length 10 at byte 18 runs past"),
            "{warning}"
        );
        let (_, warning) = kept(r#"a:1:{s:4:"name";s:3:"long";}"#);
        assert!(warning.contains("expected '\"' at byte 24"), "{warning}");
        let (format, warning) = kept(r#"{"a":1,"#);
        assert_eq!(format, OtherFormat::Json);
        assert!(
            warning.contains("valid JSON") && warning.contains("column"),
            "{warning}"
        );
        let (_, warning) = kept("");
        assert!(warning.contains("empty"), "{warning}");
        let (_, warning) = kept("hello\nworld");
        assert!(warning.contains(r#""hello\nworld""#), "{warning}");
    }

    #[test]
    fn warnings_quote_at_most_80_chars() {
        let long = format!("{{\"k\":\"{}", "é".repeat(10_000));
        let (_, warning) = kept(&long);
        assert!(warning.chars().count() < 250, "{warning}");
        assert!(warning.contains(&"é".repeat(74)) && !warning.contains(&"é".repeat(75)));
    }

    #[test]
    fn detection_follows_moodle() {
        for yes in ["N;", "a:0:{}", "s:1:\"x\";", "x:", "é:", "::"] {
            assert_eq!(is_serialized(yes), !yes.starts_with('é'), "{yes}");
        }
        for no in ["", "N", "N; ", "null", "{\"a\":1}", "\n:", " a:1", "0"] {
            assert!(!is_serialized(no), "{no:?}");
        }
    }

    #[test]
    fn megabyte_values_decode() {
        let body = "x\"é".repeat(256 * 1024);
        let serialized = format!(r#"a:1:{{s:4:"data";s:{}:"{body}";}}"#, body.len());
        let decoded = decode_other(Some(&serialized));
        assert_eq!(
            (decoded.format, decoded.warning),
            (OtherFormat::Serialized, None)
        );
        assert_eq!(decoded.value, json!({"data": body}));
        let json_text = json!({"data": body}).to_string();
        let decoded = decode_other(Some(&json_text));
        assert_eq!((decoded.format, decoded.warning), (OtherFormat::Json, None));
        assert_eq!(decoded.value, json!({"data": body}));
    }

    #[test]
    fn hostile_serialized_text_fails_fast() {
        let started = std::time::Instant::now();
        let deep = "a:1:{i:0;".repeat(100_000);
        let hostile = [
            "a:999999999:{",
            "a:99999999999999999999:{",
            r#"O:1:"A":99999999:{"#,
        ];
        for text in hostile.into_iter().chain([deep.as_str()]) {
            let decoded = decode_other(Some(text));
            assert_eq!(decoded.value, Value::String(text.to_owned()));
            assert!(decoded.warning.is_some_and(|w| w.len() < 400));
        }
        assert!(started.elapsed() < std::time::Duration::from_secs(1));
    }

    /// A PHP value the round-trip property builds, serializes and reads back.
    #[derive(Debug, Clone)]
    enum Php {
        Null,
        Bool(bool),
        Int(i64),
        Float(f64),
        Str(String),
        List(Vec<Php>),
        Map(Vec<(String, Php)>),
        Object(Vec<(String, Php)>),
    }

    /// A test-only `serialize()`: string lengths are in bytes, as in PHP.
    fn serialize(v: &Php, out: &mut String) {
        let string = |s: &str| format!("s:{}:\"{s}\";", s.len());
        match v {
            Php::Null => out.push_str("N;"),
            Php::Bool(b) => out.push_str(&format!("b:{};", u8::from(*b))),
            Php::Int(i) => out.push_str(&format!("i:{i};")),
            Php::Float(f) => out.push_str(&format!("d:{f:?};")),
            Php::Str(s) => out.push_str(&string(s)),
            Php::List(items) => {
                out.push_str(&format!("a:{}:{{", items.len()));
                for (i, item) in items.iter().enumerate() {
                    out.push_str(&format!("i:{i};"));
                    serialize(item, out);
                }
                out.push('}');
            }
            Php::Map(pairs) | Php::Object(pairs) => {
                if matches!(v, Php::Object(_)) {
                    out.push_str("O:8:\"stdClass\":");
                } else {
                    out.push_str("a:");
                }
                out.push_str(&format!("{}:{{", pairs.len()));
                for (key, item) in pairs {
                    out.push_str(&string(key));
                    serialize(item, out);
                }
                out.push('}');
            }
        }
    }

    fn expected(v: &Php) -> Value {
        match v {
            Php::Null => Value::Null,
            Php::Bool(b) => json!(b),
            Php::Int(i) => json!(i),
            Php::Float(f) => Value::Number(serde_json::from_str(&format!("{f:?}")).unwrap()),
            Php::Str(s) => json!(s),
            Php::List(items) => Value::Array(items.iter().map(expected).collect()),
            Php::Map(pairs) | Php::Object(pairs) => Value::Object(
                pairs
                    .iter()
                    .map(|(k, v)| (k.clone(), expected(v)))
                    .collect(),
            ),
        }
    }

    fn php_tree() -> impl Strategy<Value = Php> {
        let leaf = prop_oneof![
            Just(Php::Null),
            any::<bool>().prop_map(Php::Bool),
            any::<i64>().prop_map(Php::Int),
            any::<f64>()
                .prop_filter("JSON has no NaN or infinity", |f| f.is_finite())
                .prop_map(Php::Float),
            "[a-z\";:{}é€😀\u{0}]{0,8}".prop_map(Php::Str),
        ];
        // Letter keys are never numeric, so PHP keeps them as string keys; a
        // non-empty map, because an empty PHP array is always a list.
        let keys = "[a-zé😀]{1,5}";
        leaf.prop_recursive(4, 48, 4, move |inner| {
            let pairs = |m: std::collections::BTreeMap<_, _>| m.into_iter().collect();
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..4).prop_map(Php::List),
                prop::collection::btree_map(keys, inner.clone(), 1..4)
                    .prop_map(move |m| Php::Map(pairs(m))),
                prop::collection::btree_map(keys, inner, 0..4)
                    .prop_map(move |m| Php::Object(pairs(m))),
            ]
        })
    }

    fn cases() -> u32 {
        let env = std::env::var("NOSEY_PROPTEST_CASES").ok();
        env.and_then(|n| n.parse().ok()).unwrap_or(2000)
    }

    const FRAGMENTS: &[&str] = &[
        "a:",
        "s:",
        "i:",
        "d:",
        "b:",
        "N;",
        "R:",
        "r:",
        "O:",
        "C:",
        "{",
        "}",
        ";",
        ":",
        "\"",
        "0",
        "1",
        "2",
        "3",
        "9",
        "-",
        ".",
        "E+",
        "é",
        "\0",
        "8:\"stdClass\"",
    ];

    fn serialize_like() -> impl Strategy<Value = String> {
        prop::collection::vec(prop::sample::select(FRAGMENTS), 0..48).prop_map(|v| v.concat())
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(cases()))]

        #[test]
        fn serialized_trees_round_trip(tree in php_tree()) {
            let mut text = String::new();
            serialize(&tree, &mut text);
            let value = phpserialize::unserialize(text.as_bytes());
            prop_assert_eq!(value.ok(), Some(expected(&tree)), "text: {}", text);
        }

        #[test]
        fn never_panics_on_strings(text in any::<String>()) {
            decode_other(Some(&text));
            let _ = phpserialize::unserialize(text.as_bytes());
        }

        #[test]
        fn never_panics_on_bytes(bytes in prop::collection::vec(any::<u8>(), 0..256)) {
            let _ = phpserialize::unserialize(&bytes);
            decode_other(Some(&String::from_utf8_lossy(&bytes)));
        }

        #[test]
        fn never_panics_on_fragments(text in serialize_like()) {
            let decoded = decode_other(Some(&text));
            let kept = decoded.value == Value::String(text.clone());
            prop_assert_eq!(decoded.warning.is_some(), kept || text == "0");
            let _ = phpserialize::unserialize(text.as_bytes());
        }
    }

    /// Run with `cargo test --release -- --ignored --nocapture`.
    #[test]
    #[ignore]
    fn bench_decode_real_rows() {
        const ROUNDS: u32 = 1_000_000;
        let started = std::time::Instant::now();
        for _ in 0..ROUNDS {
            for (text, _) in &MOODLE_ROWS {
                std::hint::black_box(decode_other(Some(std::hint::black_box(text))));
            }
        }
        let decodes = f64::from(ROUNDS) * MOODLE_ROWS.len() as f64;
        let ns = started.elapsed().as_nanos() as f64 / decodes;
        println!("decode_other: {ns:.1} ns per decode over {decodes} decodes");
    }
}
