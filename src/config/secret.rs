//! Secret strings: passwords, tokens, signing keys and header values. They are
//! kept apart from ordinary strings so that printing a config (in a log line, a
//! panic, `nosey check`) can never reveal them.

use std::fmt;

/// A value that must never be printed. `Debug` and `Display` show `***`.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Self {
        Secret(value.into())
    }

    /// The real value, for the one place that needs it (an HTTP header, a
    /// database connection, an HMAC key).
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// The key bytes of a webhook signing secret (`whsec_` + base64, or bare
    /// base64), or `None` if this is not one.
    pub fn signing_key(&self) -> Option<Vec<u8>> {
        let body = self.0.strip_prefix("whsec_").unwrap_or(&self.0);
        decode_base64(body)
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

/// Shortest and longest signing key accepted. Standard Webhooks asks for
/// 24..=64 random bytes; shorter keys are guessable, longer ones are a typo.
pub const SIGNING_KEY_BYTES: std::ops::RangeInclusive<usize> = 24..=64;

/// Checks a signing secret without ever putting it in the message.
pub(crate) fn check_signing_secret(secret: &Secret) -> Result<(), String> {
    let ok = secret
        .signing_key()
        .is_some_and(|k| SIGNING_KEY_BYTES.contains(&k.len()));
    if ok {
        return Ok(());
    }
    Err(format!(
        "not a valid signing secret (expected \"whsec_\" followed by base64 of {} to {} random bytes, \
         e.g. from `openssl rand -base64 32`)",
        SIGNING_KEY_BYTES.start(),
        SIGNING_KEY_BYTES.end()
    ))
}

/// Standard base64, padding optional (secrets are pasted from many tools).
fn decode_base64(text: &str) -> Option<Vec<u8>> {
    use base64::Engine as _;
    use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
    const LENIENT: GeneralPurpose = GeneralPurpose::new(
        &base64::alphabet::STANDARD,
        GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
    );
    LENIENT.decode(text).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn never_printed() {
        let s = Secret::new("hunter2");
        assert_eq!(format!("{s}"), "***");
        assert_eq!(format!("{s:?}"), "***");
        assert_eq!(s.expose(), "hunter2");
    }

    #[test]
    fn base64_round_trips_known_values() {
        assert_eq!(decode_base64("aGVsbG8=").unwrap(), b"hello");
        assert_eq!(decode_base64("aGVsbG8").unwrap(), b"hello");
        assert_eq!(decode_base64("aGk=").unwrap(), b"hi");
        assert_eq!(decode_base64("").unwrap(), b"");
        assert!(decode_base64("a").is_none());
        assert!(decode_base64("a*bc").is_none());
        assert!(decode_base64("aGk===").is_none());
    }

    #[test]
    fn signing_secrets() {
        let good = [
            "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
            "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
            "whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD",
        ];
        for g in good {
            assert!(check_signing_secret(&Secret::new(g)).is_ok(), "{g}");
            assert_eq!(Secret::new(g).signing_key().unwrap().len(), 24);
        }
        let bad = [
            "whsec_short",
            "",
            "whsec_",
            "not base64 at all, no no no no no no",
        ];
        for b in bad {
            let err = check_signing_secret(&Secret::new(b)).unwrap_err();
            assert!(b.len() < 8 || !err.contains(b), "{err}");
        }
        let long = format!("whsec_{}", "A".repeat(100));
        assert!(check_signing_secret(&Secret::new(long)).is_err());
    }
}
