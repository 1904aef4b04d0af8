//! Standard Webhooks signatures (<https://www.standardwebhooks.com>): the receiver checks that
//! a body came from nosey and was not changed or replayed.
//!
//! `webhook-signature` is `v1,<base64 HMAC-SHA256(key, "{id}.{timestamp}.{body}")>`, once per
//! configured secret, space-separated, so a receiver accepts the old or the new secret while
//! keys are rotated.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use hmac::{Hmac, Mac};
use sha2::Sha256;

type HmacSha256 = Hmac<Sha256>;

/// Signs bodies with every configured key.
#[derive(Clone, Default)]
pub struct Signer {
    keys: Vec<Vec<u8>>,
}

impl std::fmt::Debug for Signer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Signer({} keys)", self.keys.len())
    }
}

impl Signer {
    /// `keys`: the decoded key bytes of each secret (`Secret::signing_key`).
    pub fn new(keys: Vec<Vec<u8>>) -> Self {
        Signer { keys }
    }

    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }

    /// The `webhook-signature` value, or `None` when the route has no secret.
    pub fn signature(&self, msg_id: &str, timestamp: i64, body: &[u8]) -> Option<String> {
        if self.keys.is_empty() {
            return None;
        }
        let sigs: Vec<String> = self
            .keys
            .iter()
            .map(|k| format!("v1,{}", STANDARD.encode(mac(k, msg_id, timestamp, body))))
            .collect();
        Some(sigs.join(" "))
    }
}

fn mac(key: &[u8], msg_id: &str, timestamp: i64, body: &[u8]) -> Vec<u8> {
    let mut m = HmacSha256::new_from_slice(key).expect("HMAC takes keys of any length");
    m.update(msg_id.as_bytes());
    m.update(b".");
    m.update(timestamp.to_string().as_bytes());
    m.update(b".");
    m.update(body);
    m.finalize().into_bytes().to_vec()
}

/// Why a signature did not verify.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum VerifyError {
    #[error("unsigned (no webhook-signature header)")]
    Missing,
    #[error("timestamp {0} is too far from now (replayed or clock skew)")]
    Stale(i64),
    #[error("no signature matches the secret")]
    Mismatch,
}

/// Checks `signature` (a `webhook-signature` header) against `key`, as a receiver would.
/// `tolerance_secs` bounds how far the timestamp may be from `now` (Standard Webhooks
/// suggests 5 minutes).
pub fn verify(
    key: &[u8],
    msg_id: &str,
    timestamp: i64,
    signature: Option<&str>,
    body: &[u8],
    now: i64,
    tolerance_secs: i64,
) -> Result<(), VerifyError> {
    let signature = signature.ok_or(VerifyError::Missing)?;
    if (now - timestamp).abs() > tolerance_secs {
        return Err(VerifyError::Stale(timestamp));
    }
    let expected = mac(key, msg_id, timestamp, body);
    let matches = signature.split_whitespace().any(|s| {
        s.strip_prefix("v1,")
            .and_then(|b| STANDARD.decode(b).ok())
            .is_some_and(|got| constant_time_eq(&got, &expected))
    });
    if matches {
        Ok(())
    } else {
        Err(VerifyError::Mismatch)
    }
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    // The example of the Standard Webhooks specification.
    const KEY_B64: &str = "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
    const ID: &str = "msg_p5jXN8AQM9LWM0D4loKWxJek";
    const TS: i64 = 1614265330;
    const BODY: &[u8] = br#"{"test": 2432232314}"#;
    const SIG: &str = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=";

    fn key() -> Vec<u8> {
        STANDARD.decode(KEY_B64).unwrap()
    }

    #[test]
    fn signs_like_the_specification() {
        let s = Signer::new(vec![key()]);
        assert_eq!(s.signature(ID, TS, BODY).unwrap(), SIG);
        assert_eq!(Signer::default().signature(ID, TS, BODY), None);
    }

    #[test]
    fn rotation_signs_with_every_key() {
        let s = Signer::new(vec![b"old-key-old-key-old-key-".to_vec(), key()]);
        let sig = s.signature(ID, TS, BODY).unwrap();
        assert_eq!(sig.split(' ').count(), 2);
        assert!(verify(&key(), ID, TS, Some(&sig), BODY, TS, 300).is_ok());
        assert!(
            verify(
                b"old-key-old-key-old-key-",
                ID,
                TS,
                Some(&sig),
                BODY,
                TS,
                300
            )
            .is_ok()
        );
    }

    #[test]
    fn verify_rejects_tampering_staleness_and_absence() {
        assert_eq!(
            verify(&key(), ID, TS, Some(SIG), BODY, TS + 10, 300),
            Ok(())
        );
        assert_eq!(
            verify(&key(), ID, TS, Some(SIG), b"{\"test\": 1}", TS, 300),
            Err(VerifyError::Mismatch)
        );
        assert_eq!(
            verify(&key(), ID, TS, Some(SIG), BODY, TS + 301, 300),
            Err(VerifyError::Stale(TS))
        );
        assert_eq!(
            verify(&key(), ID, TS, None, BODY, TS, 300),
            Err(VerifyError::Missing)
        );
    }
}
