//! Durations as people write them in `nosey.toml`: "100ms", "30s", "10m", "7d",
//! "1h 30m" (humantime syntax). Parsed inside `Deserialize` so a bad value is
//! reported with its line and column.

use std::fmt;
use std::time::Duration;

use serde::de::{self, Deserialize, Deserializer, Visitor};

/// A string that is not a duration.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("\"{input}\" is not a duration (use e.g. \"30s\", \"10m\", \"7d\")")]
pub struct DurationError {
    input: String,
}

/// Parses a duration the way the config file and the CLI flags write it.
pub fn parse_duration(s: &str) -> Result<Duration, DurationError> {
    humantime::parse_duration(s.trim()).map_err(|_| DurationError { input: s.into() })
}

/// Serde adapter for a duration key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Dur(pub Duration);

impl<'de> Deserialize<'de> for Dur {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(DurVisitor)
    }
}

struct DurVisitor;

impl Visitor<'_> for DurVisitor {
    type Value = Dur;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a duration written as a string with a unit, like \"30s\" or \"10m\"")
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Dur, E> {
        parse_duration(v).map(Dur).map_err(E::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_humantime_syntax() {
        let cases = [
            ("100ms", 100),
            ("30s", 30_000),
            ("10m", 600_000),
            ("7d", 604_800_000),
            ("1h 30m", 5_400_000),
            ("0", 0),
        ];
        for (text, ms) in cases {
            assert_eq!(
                parse_duration(text).unwrap(),
                Duration::from_millis(ms),
                "{text}"
            );
        }
    }

    #[test]
    fn refuses_garbage_and_bare_numbers() {
        for text in ["", "5x", "10", "soon", "-5s"] {
            let err = parse_duration(text).unwrap_err().to_string();
            assert!(err.contains("is not a duration"), "{err}");
        }
    }
}
