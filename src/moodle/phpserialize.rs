//! A parser of PHP `serialize()` text (PHP 7/8 format) into `serde_json::Value`.
//!
//! Moodle stores the `other` column of `logstore_standard_log` as PHP-serialized
//! text on older rows (and on some newer sites), so nosey must read it without a
//! PHP runtime. The mapping follows what PHP's own `json_encode` would print
//! for the unserialized value, because that is the JSON a Moodle developer
//! expects to see. The input is untrusted: the parser never panics, never
//! allocates from a declared length or count, bounds nesting, and bounds how
//! much data back-references may copy.

use serde_json::{Map, Number, Value};
use std::fmt;

/// Deeper nesting is refused so hostile input cannot overflow the stack.
const MAX_DEPTH: usize = 512;

/// Smallest possible array element (`i:0;N;`), used to refuse absurd counts early.
const MIN_ELEMENT_BYTES: usize = 6;

/// References are expanded into copies, which a few bytes of input can turn
/// into exponentially many; re-read text is capped at this multiple of the input.
const REPLAY_FACTOR: usize = 16;

/// Floor of the re-read cap, so small inputs may still reference freely.
const REPLAY_FLOOR: usize = 64 * 1024;

/// Marks a value slot whose container has not finished parsing.
const OPEN: usize = usize::MAX;

/// Why `unserialize` failed, and at which byte of the input.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnserializeError {
    offset: usize,
    reason: Reason,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Reason {
    Expected(u8, Option<u8>),
    MissingValue,
    UnknownTag(u8),
    BadNumber,
    OutOfRange,
    BadFloat,
    /// What was declared ("string length", "element count") and how much.
    PastEnd(&'static str, usize),
    BadKey,
    /// The slot number and what is wrong with it.
    BadReference(i64, &'static str),
    CustomObject,
    TooDeep,
    TrailingData,
    /// Internal: the fast pass met a reference and must restart with slot tracking.
    NeedsSlots,
}

impl UnserializeError {
    /// Byte offset in the input where the problem was found.
    pub fn offset(&self) -> usize {
        self.offset
    }
}

impl fmt::Display for UnserializeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let at = self.offset;
        match &self.reason {
            Reason::Expected(want, found) => {
                let found = found.map_or_else(|| "end of input".to_owned(), show_byte);
                write!(
                    f,
                    "expected {} at byte {at}, found {found}",
                    show_byte(*want)
                )
            }
            Reason::MissingValue => write!(f, "input ends at byte {at} where a value should start"),
            Reason::UnknownTag(t) => write!(f, "unknown type tag {} at byte {at}", show_byte(*t)),
            Reason::BadNumber => write!(f, "invalid number at byte {at}"),
            Reason::OutOfRange => write!(f, "number out of range at byte {at}"),
            Reason::BadFloat => write!(f, "invalid float at byte {at}"),
            Reason::PastEnd(what, n) => {
                write!(f, "{what} {n} at byte {at} runs past the end of the input")
            }
            Reason::BadKey => write!(f, "key at byte {at} is neither integer nor string"),
            Reason::BadReference(n, why) => write!(f, "reference to value {n} at byte {at} {why}"),
            Reason::CustomObject => write!(f, "custom-serialized object not supported (byte {at})"),
            Reason::TooDeep => write!(f, "nesting deeper than {MAX_DEPTH} at byte {at}"),
            Reason::TrailingData => write!(f, "trailing data after byte {at}"),
            Reason::NeedsSlots => write!(f, "internal restart at byte {at}"),
        }
    }
}

impl std::error::Error for UnserializeError {}

fn show_byte(b: u8) -> String {
    if b.is_ascii_graphic() || b == b' ' {
        format!("'{}'", b as char)
    } else {
        format!("byte 0x{b:02X}")
    }
}

/// Parses one PHP-serialized value that must span the whole input.
pub fn unserialize(input: &[u8]) -> Result<Value, UnserializeError> {
    // Almost no real data uses references, so the first pass skips the
    // bookkeeping they need and only a document that has one is parsed twice.
    match Parser::new(input, false).document() {
        Err(e) if e.reason == Reason::NeedsSlots => Parser::new(input, true).document(),
        done => done,
    }
}

/// Where a value's text lies, so a reference can re-read it into a copy.
#[derive(Clone, Copy)]
struct Span {
    start: usize,
    end: usize,
}

/// An array or object key; PHP has only these two kinds.
enum Key {
    Int(i64),
    Str(String),
}

impl Key {
    fn index(&self) -> Option<usize> {
        match self {
            Key::Int(i) => usize::try_from(*i).ok(),
            Key::Str(_) => None,
        }
    }

    fn into_string(self) -> String {
        match self {
            Key::Int(i) => i.to_string(),
            Key::Str(s) => s,
        }
    }
}

/// A PHP array being built: a JSON list while its keys run 0,1,2,…, a map after.
enum Items {
    List(Vec<Value>),
    Map(Map<String, Value>),
}

impl Items {
    fn insert(&mut self, key: Key, value: Value) {
        let Items::List(list) = self else {
            if let Items::Map(map) = self {
                map.insert(key.into_string(), value);
            }
            return;
        };
        match key.index() {
            Some(i) if i == list.len() => list.push(value),
            // A repeated key overwrites in place, as PHP does.
            Some(i) if i < list.len() => list[i] = value,
            _ => {
                let numbered = std::mem::take(list).into_iter().enumerate();
                let mut map: Map<_, _> = numbered.map(|(i, v)| (i.to_string(), v)).collect();
                map.insert(key.into_string(), value);
                *self = Items::Map(map);
            }
        }
    }

    fn into_value(self) -> Value {
        match self {
            Items::List(list) => Value::Array(list),
            Items::Map(map) => Value::Object(map),
        }
    }
}

struct Parser<'a> {
    input: &'a [u8],
    pos: usize,
    /// Span of every value slot in PHP's numbering; `None` on the fast pass.
    slots: Option<Vec<Span>>,
    /// Non-zero while re-reading a referenced span, whose slots already exist.
    replaying: usize,
    /// Bytes that references may still re-read.
    replay_budget: usize,
}

type Parsed<T> = Result<T, UnserializeError>;

impl<'a> Parser<'a> {
    fn new(input: &'a [u8], track_slots: bool) -> Self {
        let budget = input.len().saturating_mul(REPLAY_FACTOR);
        Parser {
            input,
            pos: 0,
            slots: track_slots.then(Vec::new),
            replaying: 0,
            replay_budget: budget.saturating_add(REPLAY_FLOOR),
        }
    }

    fn document(mut self) -> Parsed<Value> {
        let value = self.value(0)?;
        if self.pos < self.input.len() {
            return Err(self.err(Reason::TrailingData));
        }
        Ok(value)
    }

    fn err(&self, reason: Reason) -> UnserializeError {
        self.err_at(self.pos, reason)
    }

    fn err_at(&self, offset: usize, reason: Reason) -> UnserializeError {
        UnserializeError { offset, reason }
    }

    fn peek(&self) -> Option<u8> {
        self.input.get(self.pos).copied()
    }

    fn expect(&mut self, want: u8) -> Parsed<()> {
        match self.peek() {
            Some(b) if b == want => {
                self.pos += 1;
                Ok(())
            }
            found => Err(self.err(Reason::Expected(want, found))),
        }
    }

    /// `depth` counts the containers enclosing this value.
    fn value(&mut self, depth: usize) -> Parsed<Value> {
        let start = self.pos;
        let Some(tag) = self.peek() else {
            return Err(self.err(Reason::MissingValue));
        };
        // PHP gives `R:` no slot of its own but does give one to `r:`.
        if tag == b'R' {
            self.pos += 1;
            self.expect(b':')?;
            return self.reference(start, depth);
        }
        let slot = self.open_slot(start);
        let value = self.tagged(tag, depth)?;
        self.close_slot(slot);
        Ok(value)
    }

    fn tagged(&mut self, tag: u8, depth: usize) -> Parsed<Value> {
        let at = self.pos;
        match tag {
            b'N' | b'b' | b'i' | b'd' | b's' | b'a' | b'O' | b'r' => self.pos += 1,
            b'C' => return Err(self.err(Reason::CustomObject)),
            _ => return Err(self.err(Reason::UnknownTag(tag))),
        }
        self.expect(if tag == b'N' { b';' } else { b':' })?;
        match tag {
            b'N' => Ok(Value::Null),
            b'b' => self.boolean(),
            b'i' => self.terminated_int().map(Value::from),
            b'd' => self.float(),
            b's' => self.string(b';').map(Value::String),
            b'a' => self.array(depth),
            b'O' => self.object(depth),
            _ => self.reference(at, depth),
        }
    }

    fn open_slot(&mut self, start: usize) -> Option<usize> {
        let slots = self.slots.as_mut().filter(|_| self.replaying == 0)?;
        slots.push(Span { start, end: OPEN });
        Some(slots.len() - 1)
    }

    fn close_slot(&mut self, slot: Option<usize>) {
        let end = self.pos;
        if let Some(span) = slot.and_then(|i| self.slots.as_mut()?.get_mut(i)) {
            span.end = end;
        }
    }

    fn boolean(&mut self) -> Parsed<Value> {
        let value = match self.peek() {
            Some(b'0') => false,
            Some(b'1') => true,
            _ => return Err(self.err(Reason::BadNumber)),
        };
        self.pos += 1;
        self.expect(b';')?;
        Ok(Value::Bool(value))
    }

    /// Reads PHP's `iv` (`[+-]?[0-9]+`), or its `uiv` (`[0-9]+`) when not `signed`.
    fn int(&mut self, signed: bool) -> Parsed<i64> {
        let start = self.pos;
        let sign = self.peek().filter(|b| signed && matches!(b, b'-' | b'+'));
        self.pos += usize::from(sign.is_some());
        // Accumulating downwards lets i64::MIN through without overflow.
        let mut n: i64 = 0;
        let digits_start = self.pos;
        while let Some(d) = self.peek().filter(u8::is_ascii_digit) {
            n = n
                .checked_mul(10)
                .and_then(|n| n.checked_sub(i64::from(d - b'0')))
                .ok_or_else(|| self.err_at(start, Reason::OutOfRange))?;
            self.pos += 1;
        }
        if self.pos == digits_start {
            return Err(self.err_at(start, Reason::BadNumber));
        }
        let negated = if sign == Some(b'-') {
            Some(n)
        } else {
            n.checked_neg()
        };
        negated.ok_or_else(|| self.err_at(start, Reason::OutOfRange))
    }

    fn terminated_int(&mut self) -> Parsed<i64> {
        let n = self.int(true)?;
        self.expect(b';')?;
        Ok(n)
    }

    /// Reads a length or count followed by `:`.
    fn length(&mut self) -> Parsed<usize> {
        let n = self.int(false)?;
        self.expect(b':')?;
        usize::try_from(n).map_err(|_| self.err(Reason::OutOfRange))
    }

    fn float(&mut self) -> Parsed<Value> {
        let start = self.pos;
        let rest = self.input.get(start..).unwrap_or_default();
        let Some(len) = rest.iter().position(|&b| b == b';') else {
            return Err(self.err(Reason::Expected(b';', None)));
        };
        let value = rest
            .get(..len)
            .and_then(float_value)
            .ok_or_else(|| self.err(Reason::BadFloat))?;
        self.pos = start + len + 1;
        Ok(value)
    }

    /// Reads `<len>:"<bytes>"` followed by `close`; the length is in bytes.
    fn string(&mut self, close: u8) -> Parsed<String> {
        let len_at = self.pos;
        let len = self.length()?;
        self.expect(b'"')?;
        let bytes = self
            .pos
            .checked_add(len)
            .and_then(|end| self.input.get(self.pos..end))
            .ok_or_else(|| self.err_at(len_at, Reason::PastEnd("string length", len)))?;
        self.pos += len;
        self.expect(b'"')?;
        self.expect(close)?;
        // PHP strings are bytes; lossy keeps the row readable rather than failing it.
        Ok(String::from_utf8_lossy(bytes).into_owned())
    }

    /// Reads `<count>:{` and refuses counts the remaining input cannot hold.
    fn count(&mut self, depth: usize) -> Parsed<usize> {
        if depth >= MAX_DEPTH {
            return Err(self.err(Reason::TooDeep));
        }
        let count_at = self.pos;
        let count = self.length()?;
        self.expect(b'{')?;
        let room = self.input.len().saturating_sub(self.pos + 1) / MIN_ELEMENT_BYTES;
        if count > room {
            return Err(self.err_at(count_at, Reason::PastEnd("element count", count)));
        }
        Ok(count)
    }

    fn key(&mut self) -> Parsed<Key> {
        let tag = self.peek();
        if matches!(tag, Some(b'i' | b's')) && self.input.get(self.pos + 1) == Some(&b':') {
            self.pos += 2;
            return match tag {
                Some(b'i') => self.terminated_int().map(Key::Int),
                _ => self.string(b';').map(Key::Str),
            };
        }
        Err(self.err(Reason::BadKey))
    }

    fn array(&mut self, depth: usize) -> Parsed<Value> {
        let count = self.count(depth)?;
        let mut items = Items::List(Vec::new());
        for _ in 0..count {
            // PHP turns canonical numeric string keys into integer keys.
            let key = match self.key()? {
                Key::Str(s) => numeric_key(&s).map_or(Key::Str(s), Key::Int),
                key => key,
            };
            let value = self.value(depth + 1)?;
            items.insert(key, value);
        }
        self.expect(b'}')?;
        Ok(items.into_value())
    }

    fn object(&mut self, depth: usize) -> Parsed<Value> {
        // Only the class name's extent matters: any class reads as a plain object.
        self.string(b':')?;
        let count = self.count(depth)?;
        let mut map = Map::new();
        for _ in 0..count {
            let name = property_name(self.key()?.into_string());
            let value = self.value(depth + 1)?;
            map.insert(name, value);
        }
        self.expect(b'}')?;
        Ok(Value::Object(map))
    }

    /// Resolves `R:`/`r:` by re-reading the referenced value's text into a copy.
    fn reference(&mut self, at: usize, depth: usize) -> Parsed<Value> {
        let n = self.terminated_int()?;
        let Some(slots) = &self.slots else {
            return Err(self.err_at(at, Reason::NeedsSlots));
        };
        let span = usize::try_from(n)
            .ok()
            .and_then(|n| slots.get(n.checked_sub(1)?))
            .copied()
            .ok_or_else(|| self.err_at(at, Reason::BadReference(n, "is out of range")))?;
        if span.end == OPEN {
            let why = "points into a container still being built";
            return Err(self.err_at(at, Reason::BadReference(n, why)));
        }
        self.replay_budget = self
            .replay_budget
            .checked_sub(span.end - span.start)
            .ok_or_else(|| {
                self.err_at(at, Reason::BadReference(n, "expands past the size limit"))
            })?;
        self.replay(span.start, depth)
    }

    fn replay(&mut self, start: usize, depth: usize) -> Parsed<Value> {
        let resume = self.pos;
        self.pos = start;
        self.replaying += 1;
        let value = self.value(depth);
        self.replaying -= 1;
        self.pos = resume;
        value
    }
}

/// The integer PHP would use for a string array key, if it would use one.
fn numeric_key(s: &str) -> Option<i64> {
    let digits = s.strip_prefix('-').unwrap_or(s);
    let first = *digits.as_bytes().first()?;
    let canonical = (first != b'0' || s.len() == 1) && digits.bytes().all(|b| b.is_ascii_digit());
    canonical.then(|| s.parse().ok()).flatten()
}

/// Drops PHP's visibility marker: `\0*\0name` (protected), `\0Class\0name` (private).
fn property_name(name: String) -> String {
    match name
        .strip_prefix('\0')
        .and_then(|rest| rest.split_once('\0'))
    {
        Some((_, bare)) => bare.to_owned(),
        None => name,
    }
}

/// Turns the text of `d:<text>;` into a JSON number, or null where JSON has none.
fn float_value(raw: &[u8]) -> Option<Value> {
    if matches!(raw, b"NAN" | b"INF" | b"-INF") {
        return Some(Value::Null);
    }
    serde_json::from_str::<Number>(&json_float_text(raw)?)
        .ok()
        .map(Value::Number)
}

/// Validates PHP's float grammar and rewrites only what JSON forbids
/// (`+1`, `.5`, `5.`, `007`), so PHP's own digits survive.
fn json_float_text(raw: &[u8]) -> Option<String> {
    let text = std::str::from_utf8(raw).ok()?;
    let unsigned = text.strip_prefix(['-', '+']).unwrap_or(text);
    let sign = if text.starts_with('-') { "-" } else { "" };
    let (mantissa, exponent) =
        unsigned.split_at(unsigned.find(['e', 'E']).unwrap_or(unsigned.len()));
    let (int, frac) = mantissa.split_once('.').unwrap_or((mantissa, ""));
    let exp_digits = exponent
        .get(1..)
        .map(|e| e.strip_prefix(['+', '-']).unwrap_or(e));
    let valid = all_digits(int)
        && all_digits(frac)
        && !(int.is_empty() && frac.is_empty())
        && exp_digits.is_none_or(|d| !d.is_empty() && all_digits(d));
    let int = match int.trim_start_matches('0') {
        "" => "0",
        trimmed => trimmed,
    };
    let (dot, frac) = match (mantissa.contains('.'), frac) {
        (true, "") => (".", "0"),
        (true, frac) => (".", frac),
        (false, _) => ("", ""),
    };
    valid.then(|| format!("{sign}{int}{dot}{frac}{exponent}"))
}

fn all_digits(s: &str) -> bool {
    s.bytes().all(|b| b.is_ascii_digit())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::{Duration, Instant};

    /// PHP serialize text and the JSON that PHP's json_encode would print for it.
    #[rustfmt::skip]
    const DECODES: &[(&str, &str)] = &[
        ("N;", "null"),
        ("b:0;", "false"),
        ("b:1;", "true"),
        ("i:+7;", "7"),
        ("i:-9223372036854775808;", "-9223372036854775808"),
        ("d:0.5;", "0.5"),
        ("d:0.1;", "0.1"),
        ("d:1;", "1"),
        ("d:-0;", "-0"),
        ("d:1.0E+25;", "1.0E+25"),
        ("d:1.0E-5;", "1.0E-5"),
        ("d:.5;", "0.5"),
        ("d:5.;", "5.0"),
        ("d:+007.25;", "7.25"),
        ("d:INF;", "null"),
        ("d:-INF;", "null"),
        ("d:NAN;", "null"),
        (r#"s:5:"Café";"#, r#""Café""#),
        (r#"s:4:"😀";"#, r#""😀""#),
        (r#"s:7:"a";b"c;";"#, r#""a\";b\"c;""#),
        ("s:3:\"a\u{0}b\";", r#""a\u0000b""#),
        ("a:0:{}", "[]"),
        (r#"a:2:{i:0;s:1:"x";i:1;s:1:"y";}"#, r#"["x","y"]"#),
        (r#"a:2:{i:0;s:1:"x";i:2;s:1:"y";}"#, r#"{"0":"x","2":"y"}"#),
        (r#"a:2:{i:1;s:1:"x";i:0;s:1:"y";}"#, r#"{"1":"x","0":"y"}"#),
        (r#"a:3:{i:0;i:1;s:1:"k";i:2;i:1;i:3;}"#, r#"{"0":1,"k":2,"1":3}"#),
        (r#"a:2:{s:1:"0";b:1;s:1:"1";N;}"#, "[true,null]"),
        (r#"a:1:{s:2:"01";N;}"#, r#"{"01":null}"#),
        ("a:1:{i:-1;N;}", r#"{"-1":null}"#),
        ("a:2:{i:0;N;i:0;b:1;}", "[true]"),
        (r#"a:2:{s:1:"a";a:1:{i:0;a:0:{}}s:1:"b";a:1:{s:1:"c";d:0.5;}}"#, r#"{"a":[[]],"b":{"c":0.5}}"#),
        (r#"O:8:"stdClass":2:{s:1:"a";i:1;s:1:"b";O:8:"stdClass":0:{}}"#, r#"{"a":1,"b":{}}"#),
        (r#"O:3:"Foo":2:{i:0;s:1:"x";i:1;s:1:"y";}"#, r#"{"0":"x","1":"y"}"#),
        ("O:3:\"Foo\":2:{s:6:\"\0*\0pro\";i:1;s:9:\"\0Foo\0priv\";i:2;}", r#"{"pro":1,"priv":2}"#),
        ("O:1:\"A\":1:{s:2:\"\0x\";N;}", r#"{"\u0000x":null}"#),
        (r#"a:2:{i:0;a:1:{s:1:"k";i:5;}i:1;R:2;}"#, r#"[{"k":5},{"k":5}]"#),
        (r#"a:2:{i:0;s:1:"v";i:1;r:2;}"#, r#"["v","v"]"#),
        // `R:` takes no slot of its own but `r:` does, as in PHP.
        ("a:4:{i:0;i:7;i:1;R:2;i:2;i:8;i:3;R:3;}", "[7,7,8,8]"),
        ("a:4:{i:0;i:7;i:1;r:2;i:2;i:8;i:3;R:4;}", "[7,7,8,8]"),
    ];

    /// Inputs that must fail, and a part of the message each must give.
    #[rustfmt::skip]
    const FAILURES: &[(&str, &str)] = &[
        ("", "input ends at byte 0"),
        ("X:1;", "unknown type tag 'X' at byte 0"),
        ("i:1;i:2;", "trailing data after byte 4"),
        (r#"C:3:"Foo":0:{}"#, "custom-serialized object not supported"),
        ("i:9223372036854775808;", "number out of range at byte 2"),
        ("b:2;", "invalid number at byte 2"),
        ("i:1", "expected ';' at byte 3, found end of input"),
        (r#"s:26:"short";"#, "string length 26 at byte 2 runs past the end of the input"),
        (r#"s:4:"Café";"#, "expected '\"' at byte 9, found byte 0xA9"),
        (r#"s:1:"a""#, "expected ';' at byte 7, found end of input"),
        ("s:9223372036854775807:\"x\";", "runs past the end"),
        ("s:18446744073709551615:\"x\";", "out of range at byte 2"),
        ("a:1:{d:1;N;}", "key at byte 5 is neither integer nor string"),
        ("a:1:{i:0;N;", "element count 1 at byte 2 runs past the end"),
        ("a:1:{i:0;N;N;", "expected '}' at byte 11, found 'N'"),
        ("a:1:{i:0;R:1;}", "reference to value 1 at byte 9 points into a container"),
        ("a:1:{i:0;R:9;}", "reference to value 9 at byte 9 is out of range"),
        ("a:1:{i:0;R:0;}", "is out of range"),
        ("R:1;", "is out of range"),
    ];

    #[test]
    fn decodes_like_json_encode() {
        for (text, want) in DECODES {
            let got = unserialize(text.as_bytes()).unwrap_or_else(|e| panic!("{text:?}: {e}"));
            let want: Value = serde_json::from_str(want).expect("test JSON");
            assert_eq!(got.to_string(), want.to_string(), "{text:?}");
        }
    }

    #[test]
    fn failures_say_what_and_where() {
        let floats = [
            "d:;", "d:.;", "d:1e;", "d:1.2.3;", "d:abc;", "d:+INF;", "d:1",
        ];
        for text in floats {
            assert!(unserialize(text.as_bytes()).is_err(), "{text}");
        }
        for (text, want) in FAILURES {
            let err = unserialize(text.as_bytes()).expect_err(text);
            assert!(err.to_string().contains(want), "{text:?}: {err}");
        }
    }

    #[test]
    fn invalid_utf8_is_replaced() {
        let lossy = unserialize(b"s:3:\"a\xFFb\";").ok();
        assert_eq!(lossy, Some(Value::from("a\u{FFFD}b")));
    }

    #[test]
    fn reference_bombs_hit_the_budget() {
        let mut text = String::from(r#"a:60:{i:0;s:8:"xxxxxxxx";"#);
        for i in 1..60 {
            // Each element holds two copies of the one before it: 2^59 leaves.
            text.push_str(&format!("i:{i};a:2:{{i:0;R:{s};i:1;R:{s};}}", s = i + 1));
        }
        text.push('}');
        let started = Instant::now();
        let err = unserialize(text.as_bytes()).expect_err("bomb");
        assert!(err.to_string().contains("size limit"), "{err}");
        assert!(started.elapsed() < Duration::from_secs(5));
    }

    #[test]
    fn depth_is_bounded() {
        let nest = |n: usize| "a:1:{i:0;".repeat(n) + "N;" + &"}".repeat(n);
        assert!(unserialize(nest(MAX_DEPTH).as_bytes()).is_ok());
        let too_deep = unserialize(nest(MAX_DEPTH + 1).as_bytes()).expect_err("513");
        assert!(too_deep.to_string().contains("nesting deeper than 512"));
        let hostile = unserialize("a:1:{i:0;".repeat(100_000).as_bytes()).expect_err("deep");
        assert!(hostile.to_string().contains("nesting deeper than 512"));
    }
}
