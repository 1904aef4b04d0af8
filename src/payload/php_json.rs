//! Byte-exact re-implementation of PHP 8.2's `json_encode($data, JSON_NUMERIC_CHECK)`.
//!
//! The `seed` payload format must reproduce, byte for byte, the bodies a 2016 PHP
//! plugin POSTed, so that receivers built against that plugin see no difference.
//! `serde_json`'s own writer differs from PHP in ways that change the bytes:
//!
//! * PHP escapes `/` and every non-ASCII character (as UTF-16 `\uXXXX`).
//! * `JSON_NUMERIC_CHECK` turns numeric-looking strings (database columns arrive as
//!   strings) into JSON numbers, following PHP's `is_numeric_string()` rules.
//! * Doubles are printed by `php_gcvt` with `serialize_precision = -1`: shortest
//!   round-trip digits (ties to even), with PHP's own switch to exponent form (`1.0e+20`).
//! * PHP arrays have no list/object distinction, so a JSON object whose keys are
//!   `"0".."n-1"` (or that is empty) comes back out as a JSON list.
//!
//! The tests' expected bytes come from the PHP 8.2 CLI.

use serde_json::{Map, Number, Value};
use std::fmt::Write as _;

/// The result of PHP 8's `is_numeric_string()`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum PhpNumber {
    Long(i64),
    Double(f64),
}

/// Appends the bytes PHP 8.2's json_encode($v, JSON_NUMERIC_CHECK) would produce.
pub fn encode_numeric_check(value: &Value, out: &mut Vec<u8>) {
    match value {
        Value::Null => out.extend_from_slice(b"null"),
        Value::Bool(true) => out.extend_from_slice(b"true"),
        Value::Bool(false) => out.extend_from_slice(b"false"),
        Value::Number(n) => write_number(n, out),
        Value::String(s) => write_numeric_checked(s, out),
        Value::Array(items) => write_list(items.iter(), out),
        Value::Object(map) if is_php_list(map) => write_list(map.values(), out),
        Value::Object(map) => {
            out.push(b'{');
            for (i, (key, v)) in map.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                // PHP never numeric-checks keys: an int key 12 is written as "12".
                write_php_string(key, out);
                out.push(b':');
                encode_numeric_check(v, out);
            }
            out.push(b'}');
        }
    }
}

/// PHP's json_encode string escaping (default flags): `"` `\\` `/`→`\/`, \b \f \n \r \t,
/// other control chars as \u00XX (lowercase hex), every non-ASCII char as \uXXXX
/// (lowercase hex, surrogate pairs above U+FFFF), DEL (0x7f) unescaped; writes the
/// surrounding quotes.
pub fn write_php_string(s: &str, out: &mut Vec<u8>) {
    let bytes = s.as_bytes();
    out.reserve(bytes.len() + 2);
    out.push(b'"');
    // Copy unescaped runs in one go rather than byte by byte.
    let mut run_start = 0;
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        let short: &[u8] = match b {
            b'"' => b"\\\"",
            b'\\' => b"\\\\",
            b'/' => b"\\/",
            0x08 => b"\\b",
            0x0c => b"\\f",
            b'\n' => b"\\n",
            b'\r' => b"\\r",
            b'\t' => b"\\t",
            0x00..=0x1f | 0x80..=0xff => b"",
            _ => {
                i += 1;
                continue;
            }
        };
        out.extend_from_slice(&bytes[run_start..i]);
        if !short.is_empty() {
            out.extend_from_slice(short);
            i += 1;
        } else if b < 0x80 {
            write_u_escape(u16::from(b), out);
            i += 1;
        } else {
            // `i` only ever advances by whole chars, so it sits on a char boundary.
            let c = s[i..].chars().next().unwrap_or(char::REPLACEMENT_CHARACTER);
            let mut units = [0u16; 2];
            for &unit in c.encode_utf16(&mut units).iter() {
                write_u_escape(unit, out);
            }
            i += c.len_utf8();
        }
        run_start = i;
    }
    out.extend_from_slice(&bytes[run_start..]);
    out.push(b'"');
}

/// PHP 8 is_numeric_string(): Some(PhpNumber::Long(i64)) or Some(PhpNumber::Double(f64))
/// or None.
pub fn php_numeric(s: &str) -> Option<PhpNumber> {
    let bytes = s.as_bytes();
    let start = bytes.iter().position(|&c| !is_php_space(c))?;
    let end = bytes.iter().rposition(|&c| !is_php_space(c))? + 1;
    let num = &bytes[start..end];

    let digits_from = |mut i: usize| {
        while i < num.len() && num[i].is_ascii_digit() {
            i += 1;
        }
        i
    };
    let mut i = usize::from(matches!(num[0], b'+' | b'-'));
    let int_end = digits_from(i);
    let has_int = int_end > i;
    let mut integral = true;
    i = int_end;
    if num.get(i) == Some(&b'.') {
        integral = false;
        let frac_end = digits_from(i + 1);
        // PHP wants a digit on at least one side of the point: "5." and ".5" but not ".".
        if !has_int && frac_end == i + 1 {
            return None;
        }
        i = frac_end;
    } else if !has_int {
        return None;
    }
    if matches!(num.get(i), Some(b'e' | b'E')) {
        integral = false;
        i += 1;
        if matches!(num.get(i), Some(b'+' | b'-')) {
            i += 1;
        }
        let exp_end = digits_from(i);
        if exp_end == i {
            return None;
        }
        i = exp_end;
    }
    if i != num.len() {
        return None;
    }

    // Validated as ASCII above, so the slice is on char boundaries.
    let text = &s[start..end];
    if integral {
        // PHP falls back to a double exactly when the integer overflows zend_long.
        if let Ok(n) = text.parse::<i64>() {
            return Some(PhpNumber::Long(n));
        }
    }
    // Rust's float grammar accepts everything validated above, including "+5", "5."
    // and ".5", and rounds correctly as zend_strtod does.
    text.parse::<f64>().ok().map(PhpNumber::Double)
}

/// PHP's double output with serialize_precision = -1 (php_gcvt mode 0, precision 17,
/// '.', 'e').
///
/// Non-finite values are written as `0`, the substitute json_encode uses for them.
pub fn write_php_double(d: f64, out: &mut Vec<u8>) {
    if !d.is_finite() {
        out.push(b'0');
        return;
    }
    if d.is_sign_negative() {
        out.push(b'-');
    }
    if d == 0.0 {
        out.push(b'0');
        return;
    }
    let a = d.abs();
    // `{:e}` gives the shortest length that round-trips, as zend_dtoa mode 0 does. But
    // when two candidates of that length are equally close (0.25 between ...2 and ...3),
    // Rust rounds up while dtoa rounds to the even digit. Rust's fixed-precision
    // formatting does round ties to even, so prefer it whenever it still round-trips.
    let mut sci = StackBuf::default();
    let _ = write!(sci, "{a:e}");
    let n_digits = sci
        .as_bytes()
        .iter()
        .take_while(|&&c| c != b'e')
        .filter(|c| c.is_ascii_digit())
        .count();
    let mut even = StackBuf::default();
    let _ = write!(even, "{a:.*e}", n_digits.saturating_sub(1));
    if even.as_bytes() != sci.as_bytes() && even.as_str().parse() == Ok(a) {
        sci = even;
    }

    let mut digits = [0u8; 24];
    let mut n_digits = 0;
    let (mantissa, exp) = sci.as_str().split_once('e').unwrap_or((sci.as_str(), "0"));
    for c in mantissa.bytes().filter(u8::is_ascii_digit) {
        digits[n_digits] = c;
        n_digits += 1;
    }
    let digits = &digits[..n_digits];
    let exp: i32 = exp.parse().unwrap_or(0);
    let decpt = exp + 1;

    if !(-3..=17).contains(&decpt) {
        out.push(digits[0]);
        out.push(b'.');
        if digits.len() > 1 {
            out.extend_from_slice(&digits[1..]);
        } else {
            out.push(b'0');
        }
        out.push(b'e');
        out.push(if exp < 0 { b'-' } else { b'+' });
        write_i64(i64::from(exp.unsigned_abs()), out);
    } else if decpt <= 0 {
        out.extend_from_slice(b"0.");
        out.extend(std::iter::repeat_n(b'0', decpt.unsigned_abs() as usize));
        out.extend_from_slice(digits);
    } else {
        let decpt = decpt as usize;
        if digits.len() <= decpt {
            out.extend_from_slice(digits);
            out.extend(std::iter::repeat_n(b'0', decpt - digits.len()));
        } else {
            out.extend_from_slice(&digits[..decpt]);
            out.push(b'.');
            out.extend_from_slice(&digits[decpt..]);
        }
    }
}

fn is_php_space(c: u8) -> bool {
    matches!(c, b' ' | b'\t' | b'\n' | b'\r' | 0x0b | 0x0c)
}

/// A JSON number as PHP would hold it after json_decode or a DB fetch: an int when it
/// fits zend_long, a double otherwise.
fn write_number(n: &Number, out: &mut Vec<u8>) {
    let text = n.as_str();
    match text.parse::<i64>() {
        Ok(i) => write_i64(i, out),
        Err(_) => write_php_double(text.parse().unwrap_or(f64::NAN), out),
    }
}

fn write_numeric_checked(s: &str, out: &mut Vec<u8>) {
    match php_numeric(s) {
        Some(PhpNumber::Long(n)) => write_i64(n, out),
        Some(PhpNumber::Double(d)) if d.is_finite() => write_php_double(d, out),
        // An overflowing double ("1e400") makes PHP keep the original string.
        _ => write_php_string(s, out),
    }
}

fn write_list<'a>(items: impl Iterator<Item = &'a Value>, out: &mut Vec<u8>) {
    out.push(b'[');
    for (i, v) in items.enumerate() {
        if i > 0 {
            out.push(b',');
        }
        encode_numeric_check(v, out);
    }
    out.push(b']');
}

/// True when PHP would hold this object as a list: keys 0..n-1 in order, or no keys.
fn is_php_list(map: &Map<String, Value>) -> bool {
    map.keys().enumerate().all(|(i, key)| {
        let b = key.as_bytes();
        // "01" and "+1" stay string keys in PHP, so only canonical decimals count.
        let canonical =
            !b.is_empty() && b.iter().all(u8::is_ascii_digit) && (b.len() == 1 || b[0] != b'0');
        canonical && key.parse::<usize>() == Ok(i)
    })
}

fn write_i64(n: i64, out: &mut Vec<u8>) {
    let mut buf = [0u8; 20];
    let mut pos = buf.len();
    let mut m = n.unsigned_abs();
    loop {
        pos -= 1;
        buf[pos] = b'0' + (m % 10) as u8;
        m /= 10;
        if m == 0 {
            break;
        }
    }
    if n < 0 {
        out.push(b'-');
    }
    out.extend_from_slice(&buf[pos..]);
}

fn write_u_escape(unit: u16, out: &mut Vec<u8>) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let nib = |shift: u16| HEX[usize::from((unit >> shift) & 0xf)];
    out.extend_from_slice(&[b'\\', b'u', nib(12), nib(8), nib(4), nib(0)]);
}

/// Fixed stack buffer so formatting a double never allocates.
#[derive(Default)]
struct StackBuf {
    buf: [u8; 32],
    len: usize,
}

impl StackBuf {
    fn as_bytes(&self) -> &[u8] {
        &self.buf[..self.len]
    }

    fn as_str(&self) -> &str {
        // Only ever filled through `write_str`, so it holds whole UTF-8 strings.
        std::str::from_utf8(self.as_bytes()).unwrap_or_default()
    }
}

impl std::fmt::Write for StackBuf {
    fn write_str(&mut self, s: &str) -> std::fmt::Result {
        let end = self.len + s.len();
        self.buf
            .get_mut(self.len..end)
            .ok_or(std::fmt::Error)?
            .copy_from_slice(s.as_bytes());
        self.len = end;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use serde_json::json;

    fn enc(v: &Value) -> String {
        let mut out = Vec::new();
        encode_numeric_check(v, &mut out);
        String::from_utf8(out).expect("encoder emits ASCII")
    }

    /// PHP 8.2 output of json_encode(["v" => $input], JSON_NUMERIC_CHECK).
    const TABLE: &[(&str, &str)] = &[
        ("1e3", r#"{"v":1000}"#),
        ("1E3", r#"{"v":1000}"#),
        ("0042", r#"{"v":42}"#),
        ("123", r#"{"v":123}"#),
        ("1.50", r#"{"v":1.5}"#),
        ("1.0", r#"{"v":1}"#),
        (" 12", r#"{"v":12}"#),
        ("12 ", r#"{"v":12}"#),
        ("\t12\n", r#"{"v":12}"#),
        ("+5", r#"{"v":5}"#),
        ("-0", r#"{"v":0}"#),
        ("-0.0", r#"{"v":-0}"#),
        (".5", r#"{"v":0.5}"#),
        ("5.", r#"{"v":5}"#),
        ("00", r#"{"v":0}"#),
        ("0x1A", r#"{"v":"0x1A"}"#),
        ("0b11", r#"{"v":"0b11"}"#),
        ("1_000", r#"{"v":"1_000"}"#),
        ("99999999999999999999", r#"{"v":1.0e+20}"#),
        ("9223372036854775807", r#"{"v":9223372036854775807}"#),
        ("9223372036854775808", r#"{"v":9.223372036854776e+18}"#),
        ("-9223372036854775808", r#"{"v":-9223372036854775808}"#),
        ("1e400", r#"{"v":"1e400"}"#),
        ("-1e400", r#"{"v":"-1e400"}"#),
        ("1e-400", r#"{"v":0}"#),
        ("NaN", r#"{"v":"NaN"}"#),
        ("INF", r#"{"v":"INF"}"#),
        ("", r#"{"v":""}"#),
        ("  ", r#"{"v":"  "}"#),
        ("12abc", r#"{"v":"12abc"}"#),
        ("1e", r#"{"v":"1e"}"#),
        ("e3", r#"{"v":"e3"}"#),
        ("\u{661}\u{662}", r#"{"v":"\u0661\u0662"}"#),
        ("1,5", r#"{"v":"1,5"}"#),
        ("0.1", r#"{"v":0.1}"#),
        ("0.30000000000000004", r#"{"v":0.30000000000000004}"#),
        ("123456789012345678", r#"{"v":123456789012345678}"#),
        ("12345", r#"{"v":12345}"#),
        // Further edge cases, also taken from the PHP 8.2 CLI.
        ("\x0b12\x0c", r#"{"v":12}"#),
        ("5.e3", r#"{"v":5000}"#),
        (".e3", r#"{"v":".e3"}"#),
        (".", r#"{"v":"."}"#),
        ("+.5", r#"{"v":0.5}"#),
        ("1e+", r#"{"v":"1e+"}"#),
        ("1e+5", r#"{"v":100000}"#),
        ("0.00001", r#"{"v":1.0e-5}"#),
        ("0.0001", r#"{"v":0.0001}"#),
        ("1e16", r#"{"v":10000000000000000}"#),
        ("1e17", r#"{"v":1.0e+17}"#),
        ("-1e-400", r#"{"v":-0}"#),
        ("0000000000000000000000001", r#"{"v":1}"#),
        // Exact ties between two shortest candidates: PHP picks the even last digit.
        ("796061085886975.3", r#"{"v":796061085886975.2}"#),
        ("-00177801356014324.61", r#"{"v":-177801356014324.62}"#),
        ("9830760979675.061700532", r#"{"v":9830760979675.062}"#),
        ("1 2", r#"{"v":"1 2"}"#),
        ("\x0012", r#"{"v":"\u000012"}"#),
        (
            "a\x7fb\x08\x0c\r\u{1f}",
            "{\"v\":\"a\x7fb\\b\\f\\r\\u001f\"}",
        ),
    ];

    #[test]
    fn php_table() {
        for (input, expected) in TABLE {
            assert_eq!(enc(&json!({ "v": input })), *expected, "input {input:?}");
        }
    }

    #[test]
    fn nested_slashes_bools_floats() {
        let nested =
            json!({"other": {"shortname": "123", "list": [7, "x"]}, "12": "key stays string"});
        assert_eq!(
            enc(&nested),
            r#"{"other":{"shortname":123,"list":[7,"x"]},"12":"key stays string"}"#
        );
        let s = json!({"s": "<p>Café / \"q\" ' & 😀</p>"});
        assert_eq!(
            enc(&s),
            r#"{"s":"<p>Caf\u00e9 \/ \"q\" ' & \ud83d\ude00<\/p>"}"#
        );
        let b = json!({"t": true, "f": false, "n": null, "record": false});
        assert_eq!(enc(&b), r#"{"t":true,"f":false,"n":null,"record":false}"#);
        let f = json!({"a": 1e3, "b": 0.1 + 0.2, "c": 1e20, "d": 1e15, "e": 1.5e-7});
        assert_eq!(
            enc(&f),
            r#"{"a":1000,"b":0.30000000000000004,"c":1.0e+20,"d":1000000000000000,"e":1.5e-7}"#
        );
    }

    #[test]
    fn numbers_keep_php_types() {
        // Number texts as json_decode would see them: big ints and decimals become doubles.
        let v: Value = serde_json::from_str(
            r#"[12,-0,85.50000,1.0E+25,99999999999999999999,-0.0,1E400,5e-324]"#,
        )
        .unwrap();
        assert_eq!(enc(&v), "[12,0,85.5,1.0e+25,1.0e+20,-0,0,5.0e-324]");
    }

    #[test]
    fn php_arrays_become_lists() {
        let cases = [
            (r#"{}"#, "[]"),
            (r#"{"0":"a","1":"2"}"#, r#"["a",2]"#),
            (r#"{"1":1,"0":2}"#, r#"{"1":1,"0":2}"#),
            (r#"{"00":1}"#, r#"{"00":1}"#),
            (r#"{"0":1,"+1":2}"#, r#"{"0":1,"+1":2}"#),
            (r#"{"1":1}"#, r#"{"1":1}"#),
        ];
        for (input, expected) in cases {
            let v: Value = serde_json::from_str(input).unwrap();
            assert_eq!(enc(&v), expected, "input {input}");
        }
    }

    fn category_event() -> Value {
        json!({
            "event": {
                "eventname": r"\core\event\course_category_created",
                "component": "core", "action": "created", "target": "course_category",
                "objecttable": "course_categories", "objectid": 2, "crud": "c", "edulevel": 0,
                "contextid": 11, "contextlevel": 40, "contextinstanceid": 2, "userid": 2,
                "courseid": 0, "relateduserid": null, "anonymous": 0, "other": null,
                "timecreated": 1795624491
            },
            "record": {
                "id": "2", "name": "Harness Category", "idnumber": "1e3",
                "description": "<p>Category created by the harness</p>",
                "descriptionformat": "1", "parent": "0", "sortorder": "20000",
                "coursecount": "0", "visible": "1", "visibleold": "1",
                "timemodified": "1795624491", "depth": "1", "path": "/2", "theme": null
            }
        })
    }

    #[test]
    fn real_plugin_bodies() {
        let expected = concat!(
            r#"{"event":{"eventname":"\\core\\event\\course_category_created","component":"core","#,
            r#""action":"created","target":"course_category","objecttable":"course_categories","#,
            r#""objectid":2,"crud":"c","edulevel":0,"contextid":11,"contextlevel":40,"#,
            r#""contextinstanceid":2,"userid":2,"courseid":0,"relateduserid":null,"anonymous":0,"#,
            r#""other":null,"timecreated":1795624491},"record":{"id":2,"name":"Harness Category","#,
            r#""idnumber":1000,"description":"<p>Category created by the harness<\/p>","#,
            r#""descriptionformat":1,"parent":0,"sortorder":20000,"coursecount":0,"visible":1,"#,
            r#""visibleold":1,"timemodified":1795624491,"depth":1,"path":"\/2","theme":null}}"#
        );
        assert_eq!(enc(&category_event()), expected);

        let course = json!({"fullname": "Harness Course: Café & Co", "shortname": "123", "idnumber": "0042"});
        assert_eq!(
            enc(&course),
            r#"{"fullname":"Harness Course: Caf\u00e9 & Co","shortname":123,"idnumber":42}"#
        );
    }

    /// A tenth of the suite's setting (the decoder and config parser get the full count).
    fn proptest_cases() -> u32 {
        std::env::var("NOSEY_PROPTEST_CASES")
            .ok()
            .and_then(|c| c.parse::<u32>().ok())
            .map_or(2000, |n| (n / 10).max(2000))
    }

    fn any_text() -> impl Strategy<Value = String> {
        prop_oneof![
            any::<String>(),
            "[ \t\n\x0b\x0c+-.eE0-9x_]{0,24}",
            prop::collection::vec(any::<char>(), 0..24).prop_map(String::from_iter),
        ]
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(proptest_cases()))]

        #[test]
        fn never_panics_and_stays_json(s in any_text()) {
            let _ = php_numeric(&s);
            let out = enc(&json!({ "v": s, "0": [s] }));
            prop_assert!(serde_json::from_str::<Value>(&out).is_ok(), "{out}");
        }

        #[test]
        fn doubles_round_trip(bits in any::<u64>()) {
            let d = f64::from_bits(bits);
            prop_assume!(d.is_finite());
            let mut out = Vec::new();
            write_php_double(d, &mut out);
            let text = std::str::from_utf8(&out).unwrap();
            let back: f64 = text.parse().unwrap();
            prop_assert_eq!(back.to_bits(), d.to_bits(), "{}", text);
            prop_assert!(serde_json::from_str::<Value>(text).is_ok(), "{}", text);
        }

        #[test]
        fn strings_round_trip(s in any_text()) {
            let mut out = Vec::new();
            write_php_string(&s, &mut out);
            prop_assert!(out.iter().all(u8::is_ascii));
            prop_assert_eq!(serde_json::from_slice::<String>(&out).unwrap(), s);
        }

        #[test]
        fn every_i64_is_a_long(n in any::<i64>()) {
            prop_assert_eq!(php_numeric(&n.to_string()), Some(PhpNumber::Long(n)));
        }
    }

    /// A course_created body: the event plus a 37-column course record as PHP's DB
    /// layer returns it (every value a string).
    fn course_body() -> Value {
        let mut body = category_event();
        body["event"]["eventname"] = json!(r"\core\event\course_created");
        body["event"]["target"] = json!("course");
        body["event"]["objecttable"] = json!("course");
        #[rustfmt::skip]
        let columns = [
            ("id", "7"), ("category", "2"), ("sortorder", "20001"),
            ("fullname", "Harness Course: Café & Co"), ("shortname", "123"), ("idnumber", "0042"),
            ("summary", "<p>A course the harness creates to check that webhooks carry Moodle's \
              own record, including \"quotes\", slashes / and accents: déjà vu, naïve, Ærø.</p>\
              <p>Students work through weekly topics, submit assignments online and get \
              feedback within 7 days; see https://example.org/course/view.php?id=7 for the \
              schedule, the grading scale (0.0 to 100.0) and the late-work policy agreed \
              with the faculty office; questions go to the forum, not by e-mail.</p>"),
            ("summaryformat", "1"), ("format", "topics"), ("showgrades", "1"),
            ("newsitems", "5"), ("startdate", "1795651200"), ("enddate", "1827187200"),
            ("relativedatesmode", "0"), ("marker", "0"), ("maxbytes", "0"),
            ("legacyfiles", "0"), ("showreports", "0"), ("visible", "1"), ("visibleold", "1"),
            ("downloadcontent", "1"), ("groupmode", "0"), ("groupmodeforce", "0"),
            ("defaultgroupingid", "0"), ("lang", ""), ("calendartype", ""), ("theme", ""),
            ("timecreated", "1795624491"), ("timemodified", "1795624491"), ("requested", "0"),
            ("enablecompletion", "1"), ("completionnotify", "0"), ("cacherev", "1795624491"),
            ("originalcourseid", "0"), ("showactivitydates", "1"),
            ("showcompletionconditions", "1"), ("pdfexportfont", "freesans"),
        ];
        body["record"] = columns
            .iter()
            .map(|(k, v)| (k.to_string(), json!(v)))
            .collect::<Map<_, _>>()
            .into();
        body
    }

    #[test]
    #[ignore = "benchmark: cargo test --release -- --ignored --nocapture"]
    fn bench_course_body() {
        let body = course_body();
        let mut out = Vec::with_capacity(4096);
        encode_numeric_check(&body, &mut out);
        let size = out.len();
        let iters = 100_000;
        let start = std::time::Instant::now();
        for _ in 0..iters {
            out.clear();
            encode_numeric_check(std::hint::black_box(&body), &mut out);
            std::hint::black_box(&out);
        }
        let secs = start.elapsed().as_secs_f64();
        println!(
            "{size} byte body x {iters}: {:.1} MB/s, {:.2} us/body",
            (size * iters) as f64 / secs / 1e6,
            secs * 1e6 / iters as f64
        );
    }
}
