//! The TLS side of the receiver check: a rustls client configured like the delivery client
//! (platform roots plus the route's CA, the route's client certificate), and TLS failures
//! turned into what to configure.
//!
//! Deliveries go through reqwest, which builds the same kind of verifier
//! (`rustls-platform-verifier` with extra roots), so a handshake that passes here passes there.

use std::sync::Arc;

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::{CryptoProvider, WebPkiSupportedAlgorithms};
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{AlertDescription, CertificateError, ClientConfig, DigitallySignedStruct};

use crate::config::TlsConfig;
use crate::deliver::tls::{ClientError, load_ca_der, load_identity_der};

/// The client config for one route's TLS settings.
pub(super) fn client_config(tls: &TlsConfig) -> Result<ClientConfig, ClientError> {
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let builder = ClientConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .map_err(build_error)?
        .dangerous();
    let builder = if tls.insecure_skip_verify {
        builder.with_custom_certificate_verifier(Arc::new(AcceptAnyCertificate(provider)))
    } else {
        let roots = match &tls.ca {
            Some(path) => load_ca_der(path)?,
            None => Vec::new(),
        };
        let verifier = rustls_platform_verifier::Verifier::new_with_extra_roots(roots, provider)
            .map_err(build_error)?;
        builder.with_custom_certificate_verifier(Arc::new(verifier))
    };
    let identity = load_identity_der(
        tls.client_cert.as_deref(),
        tls.client_key.as_deref(),
        tls.client_key_password.as_ref().map(|p| p.expose()),
    )?;
    match identity {
        Some((chain, key)) => builder.with_client_auth_cert(chain, key).map_err(|e| {
            if matches!(e, rustls::Error::InconsistentKeys(_)) {
                ClientError::KeyMismatch
            } else {
                ClientError::Identity {
                    detail: e.to_string(),
                }
            }
        }),
        None => Ok(builder.with_no_client_auth()),
    }
}

fn build_error(e: rustls::Error) -> ClientError {
    ClientError::Build {
        detail: e.to_string(),
    }
}

/// What went wrong in a handshake, and what to configure: (problem, fix).
pub(super) fn describe(err: &std::io::Error, host: &str) -> (String, String) {
    let Some(tls) = err
        .get_ref()
        .and_then(|e| e.downcast_ref::<rustls::Error>())
    else {
        return (
            format!("the connection broke during the TLS handshake ({err})"),
            "is the receiver speaking TLS on this port? (use http:// for plain HTTP)".into(),
        );
    };
    match tls {
        rustls::Error::InvalidCertificate(e) => describe_certificate(e, host),
        rustls::Error::AlertReceived(alert) => describe_alert(*alert),
        other => (
            format!("TLS: {other}"),
            "check the receiver's TLS setup; is the url's port a TLS port?".into(),
        ),
    }
}

fn describe_certificate(e: &CertificateError, host: &str) -> (String, String) {
    match e {
        CertificateError::UnknownIssuer => (
            "the receiver's certificate is signed by a CA nosey does not trust".into(),
            "set tls.ca to the PEM file of the CA that signed the receiver's certificate".into(),
        ),
        CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. } => (
            format!("the receiver's certificate is not valid for {host}"),
            "put in url the host name the certificate was issued for, or give the receiver a \
             certificate for this name"
                .into(),
        ),
        CertificateError::Expired | CertificateError::ExpiredContext { .. } => (
            "the receiver's certificate has expired".into(),
            "renew the receiver's certificate".into(),
        ),
        CertificateError::NotValidYet | CertificateError::NotValidYetContext { .. } => (
            "the receiver's certificate is not valid yet".into(),
            "check the clocks of this machine and the receiver".into(),
        ),
        other => (
            format!("the receiver's certificate was refused ({other:?})"),
            "check the receiver's certificate chain; set tls.ca for a private CA".into(),
        ),
    }
}

fn describe_alert(alert: AlertDescription) -> (String, String) {
    let identity_fix = "set tls.client_cert and tls.client_key to a certificate the receiver \
                        trusts, signed by a CA it accepts";
    match alert {
        AlertDescription::CertificateRequired => (
            "the receiver requires a client certificate".into(),
            identity_fix.into(),
        ),
        AlertDescription::BadCertificate
        | AlertDescription::UnknownCA
        | AlertDescription::CertificateUnknown
        | AlertDescription::CertificateExpired
        | AlertDescription::UnsupportedCertificate
        | AlertDescription::CertificateRevoked
        | AlertDescription::AccessDenied => (
            format!("the receiver rejected nosey's client certificate ({alert:?})"),
            identity_fix.into(),
        ),
        other => (
            format!("the receiver aborted the handshake ({other:?})"),
            "check the receiver's TLS settings (protocol versions, ciphers, client certificates)"
                .into(),
        ),
    }
}

/// `insecure_skip_verify = true`: any certificate is accepted, but the handshake's
/// signatures are still checked, so the probe still proves a TLS server answers.
#[derive(Debug)]
struct AcceptAnyCertificate(Arc<CryptoProvider>);

impl AcceptAnyCertificate {
    fn algorithms(&self) -> &WebPkiSupportedAlgorithms {
        &self.0.signature_verification_algorithms
    }
}

impl ServerCertVerifier for AcceptAnyCertificate {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(message, cert, dss, self.algorithms())
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(message, cert, dss, self.algorithms())
    }

    fn supported_verify_schemes(&self) -> Vec<rustls::SignatureScheme> {
        self.algorithms().supported_schemes()
    }
}
