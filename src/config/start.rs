//! Where reading starts when the store holds no cursor yet: `start` in
//! `[moodle]`, and the CLI's `--from`, share this syntax.

use std::fmt;
use std::str::FromStr;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde::de::{self, Deserialize, Deserializer, Visitor};

/// `"now"`, `"beginning"`, `"after:<log id>"` or `"time:<RFC 3339>"`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum StartAt {
    /// After the newest row present at startup.
    #[default]
    Now,
    /// From the oldest row in the log.
    Beginning,
    /// After this log id (exclusive).
    After(i64),
    /// From the first row with `timecreated >=` these unix seconds.
    Time(i64),
}

/// A string that is not a start position.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "\"{input}\" is not a start position (use \"now\", \"beginning\", \"after:<log id>\" or \
     \"time:<date and time>\"; times are RFC 3339 like \"time:2026-01-02T03:04:05Z\", in UTC with \
     a trailing Z, or with an offset like +02:00)"
)]
pub struct StartAtError {
    input: String,
}

impl FromStr for StartAt {
    type Err = StartAtError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let err = || StartAtError { input: s.into() };
        let t = s.trim();
        match t {
            "now" => return Ok(StartAt::Now),
            "beginning" => return Ok(StartAt::Beginning),
            _ => {}
        }
        if let Some(id) = t.strip_prefix("after:") {
            let id: i64 = id.trim().parse().map_err(|_| err())?;
            return if id >= 0 {
                Ok(StartAt::After(id))
            } else {
                Err(err())
            };
        }
        if let Some(time) = t.strip_prefix("time:") {
            return parse_time(time.trim()).map(StartAt::Time).ok_or_else(err);
        }
        Err(err())
    }
}

/// humantime reads only UTC; a numeric offset is handled here because RFC 3339
/// allows it and administrators paste local times.
fn parse_time(s: &str) -> Option<i64> {
    let (base, offset) = split_offset(s);
    let t = humantime::parse_rfc3339_weak(base).ok()?;
    let secs = i64::try_from(t.duration_since(UNIX_EPOCH).ok()?.as_secs()).ok()?;
    secs.checked_sub(offset)
}

/// Splits "…+HH:MM" / "…-HH:MM" into the UTC part and the offset in seconds.
fn split_offset(s: &str) -> (&str, i64) {
    let b = s.as_bytes();
    if b.len() < 25 || !s.is_char_boundary(b.len() - 6) || b[b.len() - 3] != b':' {
        return (s, 0);
    }
    let sign = match b[b.len() - 6] {
        b'+' => 1,
        b'-' => -1,
        _ => return (s, 0),
    };
    let (base, off) = s.split_at(s.len() - 6);
    let digits = |r: std::ops::Range<usize>| {
        let d = &off.as_bytes()[r];
        d.iter()
            .all(u8::is_ascii_digit)
            .then(|| i64::from(d[0] - b'0') * 10 + i64::from(d[1] - b'0'))
    };
    let (Some(hh), Some(mm)) = (digits(1..3), digits(4..6)) else {
        return (s, 0);
    };
    if hh > 23 || mm > 59 {
        return (s, 0);
    }
    (base, sign * (hh * 3600 + mm * 60))
}

impl fmt::Display for StartAt {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StartAt::Now => f.write_str("now"),
            StartAt::Beginning => f.write_str("beginning"),
            StartAt::After(id) => write!(f, "after:{id}"),
            StartAt::Time(secs) => {
                // humantime formats years 1970..=9999 only; clamp rather than panic.
                let secs = (*secs).clamp(0, 253_402_300_799) as u64;
                let t: SystemTime = UNIX_EPOCH + Duration::from_secs(secs);
                write!(f, "time:{}", humantime::format_rfc3339_seconds(t))
            }
        }
    }
}

impl<'de> Deserialize<'de> for StartAt {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(StartVisitor)
    }
}

struct StartVisitor;

impl Visitor<'_> for StartVisitor {
    type Value = StartAt;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a string: \"now\", \"beginning\", \"after:<log id>\" or \"time:<RFC 3339>\"")
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<StartAt, E> {
        v.parse().map_err(E::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_every_form() {
        assert_eq!("now".parse::<StartAt>().unwrap(), StartAt::Now);
        assert_eq!("beginning".parse::<StartAt>().unwrap(), StartAt::Beginning);
        assert_eq!("after:42".parse::<StartAt>().unwrap(), StartAt::After(42));
        assert_eq!(
            "time:2026-01-02T03:04:05Z".parse::<StartAt>().unwrap(),
            StartAt::Time(1_767_323_045)
        );
        assert_eq!(
            "time:2026-01-02T05:04:05+02:00".parse::<StartAt>().unwrap(),
            StartAt::Time(1_767_323_045)
        );
        assert_eq!(
            "time:2026-01-01T22:04:05-05:00".parse::<StartAt>().unwrap(),
            StartAt::Time(1_767_323_045)
        );
    }

    #[test]
    fn refuses_garbage() {
        for s in [
            "",
            "later",
            "after:",
            "after:x",
            "after:-1",
            "time:",
            "time:yesterday",
            "time:2026-01-02",
            "time:1969-12-31T23:59:59Z",
            "Now",
        ] {
            let err = s.parse::<StartAt>().unwrap_err().to_string();
            assert!(err.contains("is not a start position"), "{s}: {err}");
        }
    }

    #[test]
    fn display_gives_back_the_config_syntax() {
        for s in ["now", "beginning", "after:42", "time:2026-01-02T03:04:05Z"] {
            assert_eq!(s.parse::<StartAt>().unwrap().to_string(), s);
        }
        assert_eq!(StartAt::Time(-5).to_string(), "time:1970-01-01T00:00:00Z");
    }
}
