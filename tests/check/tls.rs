//! The receiver check over TLS, against a rustls server on loopback with certificates made
//! here: an unknown CA, the route's own CA, a required client certificate, and
//! `insecure_skip_verify`. The server counts the bytes it receives: the check sends none.

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use rcgen::{
    BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair,
    KeyUsagePurpose,
};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use rustls::server::WebPkiClientVerifier;
use rustls::{RootCertStore, ServerConfig};
use tokio::io::AsyncReadExt;
use tokio::net::TcpListener;
use tokio_rustls::TlsAcceptor;

use super::common::Kind;
use super::failures::write_config;
use super::{check_json, item, site_db};

/// A CA, a server certificate for 127.0.0.1 and a client certificate.
struct Pki {
    ca_pem: String,
    ca_der: CertificateDer<'static>,
    server_cert: CertificateDer<'static>,
    server_key: Vec<u8>,
    client_cert_pem: String,
    client_key_pem: String,
}

fn pki() -> Pki {
    let ca_key = KeyPair::generate().unwrap();
    let mut ca = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca.distinguished_name
        .push(DnType::CommonName, "nosey check test CA");
    ca.key_usages = vec![
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::DigitalSignature,
    ];
    let ca_cert = ca.self_signed(&ca_key).unwrap();
    let issuer = Issuer::new(ca, &ca_key);
    let server_key = KeyPair::generate().unwrap();
    let mut server = CertificateParams::new(vec!["127.0.0.1".into()]).unwrap();
    server.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
    let server_cert = server.signed_by(&server_key, &issuer).unwrap();
    let client_key = KeyPair::generate().unwrap();
    let mut client = CertificateParams::new(Vec::<String>::new()).unwrap();
    client.distinguished_name.push(DnType::CommonName, "nosey");
    client.extended_key_usages = vec![ExtendedKeyUsagePurpose::ClientAuth];
    let client_cert = client.signed_by(&client_key, &issuer).unwrap();
    Pki {
        ca_pem: ca_cert.pem(),
        ca_der: ca_cert.der().clone(),
        server_cert: server_cert.der().clone(),
        server_key: server_key.serialize_der(),
        client_cert_pem: client_cert.pem(),
        client_key_pem: client_key.serialize_pem(),
    }
}

/// A TLS server on loopback; returns its port and the count of application bytes received.
async fn tls_server(pki: &Pki, require_client_cert: bool) -> (u16, Arc<AtomicUsize>) {
    let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(pki.server_key.clone()));
    let builder = ServerConfig::builder();
    let builder = if require_client_cert {
        let mut roots = RootCertStore::empty();
        roots.add(pki.ca_der.clone()).unwrap();
        builder
            .with_client_cert_verifier(WebPkiClientVerifier::builder(roots.into()).build().unwrap())
    } else {
        builder.with_no_client_auth()
    };
    let config = builder
        .with_single_cert(vec![pki.server_cert.clone()], key)
        .unwrap();
    let acceptor = TlsAcceptor::from(Arc::new(config));
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let received = Arc::new(AtomicUsize::new(0));
    let counter = received.clone();
    tokio::spawn(async move {
        loop {
            let Ok((tcp, _)) = listener.accept().await else {
                return;
            };
            let (acceptor, counter) = (acceptor.clone(), counter.clone());
            tokio::spawn(async move {
                let Ok(mut tls) = acceptor.accept(tcp).await else {
                    return;
                };
                let mut buf = [0u8; 1024];
                while let Ok(n @ 1..) = tls.read(&mut buf).await {
                    counter.fetch_add(n, Ordering::SeqCst);
                }
            });
        }
    });
    (port, received)
}

fn route(port: u16, tls: &str) -> String {
    format!(
        "[[route]]\nname = \"secure\"\nurl = \"https://127.0.0.1:{port}/hook\"\npreset = \"enrolled\"\n{tls}\n"
    )
}

fn write(dir: &Path, name: &str, content: &str) -> String {
    let path = dir.join(name);
    std::fs::write(&path, content).unwrap();
    path.display().to_string()
}

#[tokio::test(flavor = "multi_thread")]
async fn receivers_over_tls() {
    let db = site_db(Kind::Postgres);
    let pki = pki();
    let dir = tempfile::tempdir().unwrap();
    let ca = write(dir.path(), "ca.pem", &pki.ca_pem);
    let cert = write(dir.path(), "client.pem", &pki.client_cert_pem);
    let key = write(dir.path(), "client.key", &pki.client_key_pem);
    let (open_port, open_bytes) = tls_server(&pki, false).await;
    let (mtls_port, mtls_bytes) = tls_server(&pki, true).await;
    let with_ca = format!("tls = {{ ca = \"{ca}\" }}");
    let with_identity =
        format!("tls = {{ ca = \"{ca}\", client_cert = \"{cert}\", client_key = \"{key}\" }}");
    let cases = [
        (
            open_port,
            String::new(),
            "fail",
            "signed by a CA nosey does not trust",
            Some("tls.ca"),
        ),
        (
            open_port,
            with_ca.clone(),
            "ok",
            "TLS handshake done, certificate verified",
            None,
        ),
        (
            open_port,
            "tls = { insecure_skip_verify = true }".to_string(),
            "warn",
            "the certificate was not verified",
            Some("remove insecure_skip_verify"),
        ),
        (
            mtls_port,
            with_ca,
            "fail",
            "the receiver requires a client certificate",
            Some("tls.client_cert"),
        ),
        (mtls_port, with_identity, "ok", "certificate verified", None),
    ];
    for (port, tls, expected, detail, fix) in cases {
        let config = write_config(dir.path(), &db.url, "", &route(port, &tls));
        let (ok, items) = check_json(&config);
        let receiver = item(&items, "receiver secure");
        assert_eq!(receiver["status"], expected, "{tls}: {receiver}");
        assert_eq!(ok, expected != "fail");
        assert!(
            receiver["detail"].as_str().unwrap().contains(detail),
            "{tls}: {receiver}"
        );
        if let Some(fix) = fix {
            assert!(
                receiver["fix"].as_str().unwrap().contains(fix),
                "{tls}: {receiver}"
            );
        }
    }
    assert_eq!(open_bytes.load(Ordering::SeqCst), 0, "check sent a request");
    assert_eq!(mtls_bytes.load(Ordering::SeqCst), 0, "check sent a request");
}
