//! Loading the TLS material of a route: the extra CA and the client identity.
//!
//! reqwest reads only unencrypted keys, so an encrypted PKCS#8 key is decrypted
//! here and handed over as a plain `PRIVATE KEY` section, kept in zeroized
//! buffers. Formats we cannot decrypt fail with the openssl command that
//! converts them, because that is what the admin has to do next.
//!
//! `nosey check` probes receivers with rustls directly (a handshake, no request), so the same
//! files are also offered in rustls' own types.

use std::error::Error as StdError;
use std::io::{self, Read};
use std::path::{Path, PathBuf};

use pkcs8::der::pem::LineEnding;
use pkcs8::{EncryptedPrivateKeyInfo, PrivateKeyInfo, SecretDocument, pkcs5};
use reqwest::{Certificate, Identity};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use zeroize::Zeroizing;

/// PEM files are small; a bigger one is the wrong file (or /dev/zero), so stop reading.
const MAX_PEM_FILE: u64 = 4 * 1024 * 1024;

const CONVERT_HINT: &str =
    "convert the key with: openssl pkcs8 -topk8 -v2 aes-256-cbc -in old.key -out new.key";

/// Why a client could not be built. Every message is one line and names the
/// setting to fix.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    // Not `source`: the io error is already in the text, and a chain-printing
    // logger would repeat it.
    #[error("{key}: cannot read {}: {error}", path.display())]
    Read {
        key: &'static str,
        path: PathBuf,
        error: io::Error,
    },
    #[error("{key}: {} holds no PEM {what}", path.display())]
    NoPem {
        key: &'static str,
        path: PathBuf,
        what: &'static str,
    },
    #[error("tls.client_cert is set without tls.client_key: set both or neither")]
    CertWithoutKey,
    #[error("tls.client_key is set without tls.client_cert: set both or neither")]
    KeyWithoutCert,
    #[error("tls.client_key: {} is encrypted: set tls.client_key_password_file", path.display())]
    PasswordMissing { path: PathBuf },
    #[error("tls.client_key: the client_key_password does not decrypt {}", path.display())]
    WrongPassword { path: PathBuf },
    #[error("tls.client_key: {} uses {scheme}, which nosey cannot read; {hint}", path.display(), hint = CONVERT_HINT)]
    UnsupportedKeyEncryption { path: PathBuf, scheme: String },
    #[error("{key}: {}: {detail}", path.display())]
    Invalid {
        key: &'static str,
        path: PathBuf,
        detail: String,
    },
    #[error("tls.client_cert/tls.client_key: {detail}")]
    Identity { detail: String },
    #[error("tls.client_key does not belong to the certificate in tls.client_cert")]
    KeyMismatch,
    #[error("cannot build the HTTP client: {detail}")]
    Build { detail: String },
}

pub(super) fn load_ca(path: &Path) -> Result<Vec<Certificate>, ClientError> {
    let text = read_text("tls.ca", path)?;
    let blocks = pem_blocks(&text, "CERTIFICATE");
    if blocks.is_empty() {
        return Err(no_pem("tls.ca", path, "certificate"));
    }
    Certificate::from_pem_bundle(pem_join(&blocks).as_bytes())
        .map_err(|e| invalid("tls.ca", path, error_chain_text(&e)))
}

pub(super) fn load_identity(
    cert: Option<&Path>,
    key: Option<&Path>,
    password: Option<&str>,
) -> Result<Option<Identity>, ClientError> {
    let (cert_path, key_path) = match (cert, key) {
        (None, None) => return Ok(None),
        (Some(_), None) => return Err(ClientError::CertWithoutKey),
        (None, Some(_)) => return Err(ClientError::KeyWithoutCert),
        (Some(cert), Some(key)) => (cert, key),
    };
    let cert_text = read_text("tls.client_cert", cert_path)?;
    // Only the certificates: a combined file may also hold a key we must not pick up.
    let certs = pem_join(&pem_blocks(&cert_text, "CERTIFICATE"));
    if certs.is_empty() {
        return Err(no_pem("tls.client_cert", cert_path, "certificate"));
    }
    let key_pem = load_key_pem(key_path, password)?;
    // Sized up front: growing a String would leave a copy of the key behind.
    let mut bundle = Zeroizing::new(String::with_capacity(certs.len() + key_pem.len() + 1));
    bundle.push_str(&certs);
    bundle.push_str(&key_pem);
    bundle.push('\n');
    Identity::from_pem(bundle.as_bytes())
        .map(Some)
        .map_err(|e| ClientError::Identity {
            detail: error_chain_text(&e),
        })
}

/// The CA file's certificates as rustls takes them.
pub(crate) fn load_ca_der(path: &Path) -> Result<Vec<CertificateDer<'static>>, ClientError> {
    let text = read_text("tls.ca", path)?;
    certificates_der("tls.ca", path, &text)
}

/// The client certificate chain and key as rustls takes them; the key is read exactly as for
/// deliveries (decrypted when it is encrypted PKCS#8).
pub(crate) fn load_identity_der(
    cert: Option<&Path>,
    key: Option<&Path>,
    password: Option<&str>,
) -> Result<Option<(Vec<CertificateDer<'static>>, PrivateKeyDer<'static>)>, ClientError> {
    let (cert_path, key_path) = match (cert, key) {
        (None, None) => return Ok(None),
        (Some(_), None) => return Err(ClientError::CertWithoutKey),
        (None, Some(_)) => return Err(ClientError::KeyWithoutCert),
        (Some(cert), Some(key)) => (cert, key),
    };
    let chain = certificates_der(
        "tls.client_cert",
        cert_path,
        &read_text("tls.client_cert", cert_path)?,
    )?;
    let key_pem = load_key_pem(key_path, password)?;
    let key = PrivateKeyDer::from_pem_slice(key_pem.as_bytes())
        .map_err(|e| invalid("tls.client_key", key_path, e.to_string()))?;
    Ok(Some((chain, key)))
}

fn certificates_der(
    key: &'static str,
    path: &Path,
    text: &str,
) -> Result<Vec<CertificateDer<'static>>, ClientError> {
    let blocks = pem_blocks(text, "CERTIFICATE");
    if blocks.is_empty() {
        return Err(no_pem(key, path, "certificate"));
    }
    blocks
        .iter()
        .map(|b| {
            CertificateDer::from_pem_slice(b.as_bytes())
                .map_err(|e| invalid(key, path, e.to_string()))
        })
        .collect()
}

/// Returns the key as an unencrypted PEM section that `Identity::from_pem` accepts.
fn load_key_pem(path: &Path, password: Option<&str>) -> Result<Zeroizing<String>, ClientError> {
    let text = Zeroizing::new(read_text("tls.client_key", path)?);
    if text.contains("Proc-Type: 4,ENCRYPTED") {
        return Err(ClientError::UnsupportedKeyEncryption {
            path: path.to_owned(),
            scheme: "legacy PEM encryption (Proc-Type: 4,ENCRYPTED)".into(),
        });
    }
    if let Some(block) = pem_blocks(&text, "ENCRYPTED PRIVATE KEY").first() {
        return decrypt_key(path, block, password);
    }
    ["PRIVATE KEY", "RSA PRIVATE KEY", "EC PRIVATE KEY"]
        .iter()
        .find_map(|label| pem_blocks(&text, label).first().map(|b| b.to_string()))
        .map(Zeroizing::new)
        .ok_or_else(|| no_pem("tls.client_key", path, "private key"))
}

fn decrypt_key(
    path: &Path,
    block: &str,
    password: Option<&str>,
) -> Result<Zeroizing<String>, ClientError> {
    let unsupported = |scheme: &str| ClientError::UnsupportedKeyEncryption {
        path: path.to_owned(),
        scheme: scheme.into(),
    };
    let (_, doc) = pkcs8::Document::from_pem(block).map_err(|_| {
        let detail = "the ENCRYPTED PRIVATE KEY section is damaged";
        invalid("tls.client_key", path, detail.into())
    })?;
    // PKCS#12-style schemes (OpenSSL's -v1 PBE-SHA1-3DES) do not even parse.
    let info = EncryptedPrivateKeyInfo::try_from(doc.as_bytes())
        .map_err(|_| unsupported("an unsupported key encryption scheme"))?;
    if info.encryption_algorithm.pbes2().is_none() {
        return Err(unsupported("PBES1 key encryption"));
    }
    let Some(password) = password else {
        return Err(ClientError::PasswordMissing {
            path: path.to_owned(),
        });
    };
    let wrong_password = || ClientError::WrongPassword {
        path: path.to_owned(),
    };
    match info.decrypt(password) {
        Ok(secret) => to_plain_pem(&secret).ok_or_else(wrong_password),
        Err(e) if is_wrong_password(&e) => Err(wrong_password()),
        Err(_) => Err(unsupported("an unsupported cipher or key derivation")),
    }
}

/// `None` when the decrypted bytes are not a key: with CBC padding, a wrong
/// password occasionally "decrypts" into garbage instead of failing.
fn to_plain_pem(secret: &SecretDocument) -> Option<Zeroizing<String>> {
    PrivateKeyInfo::try_from(secret.as_bytes()).ok()?;
    secret.to_pem("PRIVATE KEY", LineEnding::LF).ok()
}

fn is_wrong_password(e: &pkcs8::Error) -> bool {
    // pkcs5 reports a bad padding as EncryptFailed; a DER error means the
    // padding happened to fit but the plaintext is garbage.
    matches!(
        e,
        pkcs8::Error::EncryptedPrivateKey(
            pkcs5::Error::EncryptFailed | pkcs5::Error::DecryptFailed
        ) | pkcs8::Error::Asn1(_)
    )
}

fn read_text(key: &'static str, path: &Path) -> Result<String, ClientError> {
    let read_error = |error| ClientError::Read {
        key,
        path: path.to_owned(),
        error,
    };
    let mut bytes = Zeroizing::new(Vec::new());
    std::fs::File::open(path)
        .and_then(|f| f.take(MAX_PEM_FILE).read_to_end(&mut bytes))
        .map_err(read_error)?;
    // Not an error by itself: PEM is ASCII, so a binary (DER) file simply has no PEM block.
    Ok(String::from_utf8_lossy(&bytes).into_owned())
}

pub(super) fn invalid(key: &'static str, path: &Path, detail: String) -> ClientError {
    ClientError::Invalid {
        key,
        path: path.to_owned(),
        detail,
    }
}

fn no_pem(key: &'static str, path: &Path, what: &'static str) -> ClientError {
    ClientError::NoPem {
        key,
        path: path.to_owned(),
        what,
    }
}

/// Every `-----BEGIN label-----` … `-----END label-----` section, markers included.
fn pem_blocks<'a>(text: &'a str, label: &str) -> Vec<&'a str> {
    let begin = format!("-----BEGIN {label}-----");
    let end = format!("-----END {label}-----");
    let mut blocks = Vec::new();
    let mut rest = text;
    while let Some(start) = rest.find(&begin) {
        let Some(len) = rest[start..].find(&end) else {
            break;
        };
        let stop = start + len + end.len();
        blocks.push(&rest[start..stop]);
        rest = &rest[stop..];
    }
    blocks
}

/// Sections joined one per line, as PEM readers expect.
fn pem_join(blocks: &[&str]) -> String {
    blocks.iter().map(|b| format!("{b}\n")).collect()
}

/// Every distinct message in an error chain, joined: for errors that are not
/// about a request (no URL to hide).
pub(super) fn error_chain_text(err: &(dyn StdError + 'static)) -> String {
    let mut parts: Vec<String> = Vec::new();
    let mut next = Some(err);
    while let Some(e) = next {
        let text = e.to_string();
        // reqwest's top level says only "builder error": noise in a config message.
        if text != "builder error" && !parts.iter().any(|p| p.contains(&text)) {
            parts.push(text);
        }
        next = e.source();
    }
    parts.join(": ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pem_blocks_are_found_by_exact_label() {
        let text = "junk\n-----BEGIN RSA PRIVATE KEY-----\nAA\n-----END RSA PRIVATE KEY-----\n\
                    -----BEGIN CERTIFICATE-----\nBB\n-----END CERTIFICATE-----\n";
        assert!(pem_blocks(text, "PRIVATE KEY").is_empty());
        assert_eq!(pem_blocks(text, "RSA PRIVATE KEY").len(), 1);
        let certs = pem_blocks(text, "CERTIFICATE");
        assert_eq!(
            certs,
            ["-----BEGIN CERTIFICATE-----\nBB\n-----END CERTIFICATE-----"]
        );
    }

    #[test]
    fn read_errors_are_not_chained_twice() {
        let error = read_text("tls.ca", Path::new("/nonexistent/ca.pem")).unwrap_err();
        assert!(error.source().is_none());
        assert!(
            error
                .to_string()
                .starts_with("tls.ca: cannot read /nonexistent/ca.pem: ")
        );
    }
}
