//! Byte sizes: an integer count of bytes, or a string with a unit
//! ("512KiB", "1 MiB", "2MB"). Binary and decimal units are both accepted
//! because administrators write both.

use std::fmt;

use serde::de::{self, Deserialize, Deserializer, Visitor};

/// A string that is not a byte size.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("\"{input}\" is not a size (use a number of bytes or e.g. \"512KiB\", \"1MiB\", \"2MB\")")]
pub struct SizeError {
    input: String,
}

const UNITS: &[(&str, u64)] = &[
    ("b", 1),
    ("kib", 1 << 10),
    ("mib", 1 << 20),
    ("gib", 1 << 30),
    ("kb", 1_000),
    ("mb", 1_000_000),
    ("gb", 1_000_000_000),
];

/// Parses "1MiB", "512 KiB", "2MB", "1048576".
pub fn parse_size(s: &str) -> Result<u64, SizeError> {
    let err = || SizeError { input: s.into() };
    let t = s.trim();
    let split = t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len());
    let (digits, unit) = t.split_at(split);
    let n: u64 = digits.parse().map_err(|_| err())?;
    let unit = unit.trim().to_ascii_lowercase();
    if unit.is_empty() {
        return Ok(n);
    }
    let (_, factor) = UNITS.iter().find(|(u, _)| *u == unit).ok_or_else(err)?;
    n.checked_mul(*factor).ok_or_else(err)
}

/// Serde adapter for a size key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct ByteSize(pub u64);

impl<'de> Deserialize<'de> for ByteSize {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(SizeVisitor)
    }
}

struct SizeVisitor;

impl Visitor<'_> for SizeVisitor {
    type Value = ByteSize;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a size: a number of bytes or a string like \"1MiB\"")
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<ByteSize, E> {
        Ok(ByteSize(v))
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<ByteSize, E> {
        u64::try_from(v)
            .map(ByteSize)
            .map_err(|_| E::custom(format!("{v} is not a size: it cannot be negative")))
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<ByteSize, E> {
        parse_size(v).map(ByteSize).map_err(E::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn units() {
        let cases = [
            ("1MiB", 1 << 20),
            ("1 MiB", 1 << 20),
            ("512KiB", 512 << 10),
            ("2MB", 2_000_000),
            ("3KB", 3_000),
            ("100B", 100),
            ("1048576", 1_048_576),
            ("1mib", 1 << 20),
        ];
        for (text, n) in cases {
            assert_eq!(parse_size(text).unwrap(), n, "{text}");
        }
    }

    #[test]
    fn garbage() {
        for text in [
            "",
            "MiB",
            "1 parsec",
            "-1",
            "1.5MiB",
            "99999999999999999999GiB",
        ] {
            assert!(parse_size(text).is_err(), "{text}");
        }
    }
}
