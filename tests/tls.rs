//! End-to-end tests of the delivery client against real servers on 127.0.0.1:
//! a TLS server (tokio-rustls, optional client-certificate check) and small
//! plain-HTTP servers that misbehave on purpose. Certificates are made here
//! with rcgen, so the tests need no files and no network.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use nosey::deliver::client::{ClientOptions, Sent, build_client, post};
use pkcs8::der::pem::LineEnding;
use pkcs8::pkcs5::{pbes2, scrypt};
use pkcs8::{PrivateKeyInfo, SecretDocument};
use rcgen::{
    BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair,
    KeyUsagePurpose,
};
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::server::WebPkiClientVerifier;
use rustls::{RootCertStore, ServerConfig};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio_rustls::TlsAcceptor;

const CLIENT_CN: &str = "nosey-test-client";
const PASSWORD: &str = "correct horse";
const BODY: &str = r#"{"event":"\\core\\event\\course_viewed"}"#;

// ---------------------------------------------------------------- certificates

/// A CA, a server certificate for 127.0.0.1/localhost and a client certificate, all fresh.
struct Pki {
    ca_pem: String,
    ca_der: CertificateDer<'static>,
    server_cert: CertificateDer<'static>,
    server_key_der: Vec<u8>,
    client_cert_pem: String,
    /// PKCS#8 DER of the client's key.
    client_key_der: Vec<u8>,
}

fn pki_with_client_key(client_key: KeyPair) -> Pki {
    let ca_key = KeyPair::generate().unwrap();
    let mut ca = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca.distinguished_name
        .push(DnType::CommonName, "nosey test CA");
    ca.key_usages = vec![
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::DigitalSignature,
    ];
    let ca_cert = ca.self_signed(&ca_key).unwrap();
    let issuer = Issuer::new(ca, &ca_key);

    let server_key = KeyPair::generate().unwrap();
    let mut server = CertificateParams::new(vec!["localhost".into(), "127.0.0.1".into()]).unwrap();
    server.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
    let server_cert = server.signed_by(&server_key, &issuer).unwrap();

    let mut client = CertificateParams::new(Vec::<String>::new()).unwrap();
    client
        .distinguished_name
        .push(DnType::CommonName, CLIENT_CN);
    client.extended_key_usages = vec![ExtendedKeyUsagePurpose::ClientAuth];
    let client_cert = client.signed_by(&client_key, &issuer).unwrap();

    Pki {
        ca_pem: ca_cert.pem(),
        ca_der: ca_cert.der().clone(),
        server_cert: server_cert.der().clone(),
        server_key_der: server_key.serialize_der(),
        client_cert_pem: client_cert.pem(),
        client_key_der: client_key.serialize_der(),
    }
}

fn pki() -> Pki {
    pki_with_client_key(KeyPair::generate().unwrap())
}

fn pem(label: &str, der: &[u8]) -> String {
    pkcs8::der::pem::encode_string(label, LineEnding::LF, der).unwrap()
}

fn encrypt_pkcs8(der: &[u8], params: pbes2::Parameters<'_>) -> String {
    let info = PrivateKeyInfo::try_from(der).unwrap();
    let doc: SecretDocument = info.encrypt_with_params(params, PASSWORD).unwrap();
    pem("ENCRYPTED PRIVATE KEY", doc.as_bytes())
}

fn scrypt_encrypted(der: &[u8]) -> String {
    // log2(N) = 14 keeps the test fast; the scheme is what matters.
    let params = scrypt::Params::new(14, 8, 1, 32).unwrap();
    let iv = [7u8; 16];
    encrypt_pkcs8(
        der,
        pbes2::Parameters::scrypt_aes256cbc(params, b"saltsalt", &iv).unwrap(),
    )
}

fn pbkdf2_encrypted(der: &[u8]) -> String {
    let iv = [9u8; 16];
    let params = pbes2::Parameters::pbkdf2_sha256_aes256cbc(2048, b"saltsalt", &iv).unwrap();
    encrypt_pkcs8(der, params)
}

/// The key inside a PKCS#8 wrapper: PKCS#1 for RSA, SEC1 for EC.
fn inner_key(der: &[u8]) -> Vec<u8> {
    PrivateKeyInfo::try_from(der).unwrap().private_key.to_vec()
}

// Made with OpenSSL 3.0 from a throwaway P-256 key, password "secret":
// `openssl pkcs8 -topk8 -v1 PBE-SHA1-3DES` and `openssl pkcs8 -topk8 -v2 des3`.
const PBE_SHA1_3DES_KEY: &str = "-----BEGIN ENCRYPTED PRIVATE KEY-----
MIGxMBwGCiqGSIb3DQEMAQMwDgQIhM7sdNJY6y4CAggABIGQNP2b7s/VniSFNGfE
BkF+WwvkQWKOMinjiMMwvGoUKQjHxHWmlKT9y5t8wdkiFKZspCgUm1M9gHLLmDEc
I1s60jHj5FuDfU/BQd2aR1gERFghcgIKiqufXBS+UVXNtS/obn5WomRfSjWkcjaq
BL+DsVEPJaSUMe5pa8WOe9hGxCwdtSZJkoJHLI4dtL73mI/t
-----END ENCRYPTED PRIVATE KEY-----
";
const PBES2_DES3_KEY: &str = "-----BEGIN ENCRYPTED PRIVATE KEY-----
MIHjME4GCSqGSIb3DQEFDTBBMCkGCSqGSIb3DQEFDDAcBAgovnieAa3RBAICCAAw
DAYIKoZIhvcNAgkFADAUBggqhkiG9w0DBwQIc9C5WzBORSQEgZD+3qCTi2zSHCf7
nBCpBirVJWLFK3ORndZaBROg4zfW4psLylmGNPrumBi42MWHAOSW9RDSeHfjjvt0
2LEAfoQBfB4qUOMLh4ee3Y5f3S5i6bcTsSQrPwmKQT4AnDW7W3lDEft/ze2ETGVL
R9dnDwITWyEHdyubDrK5qqf7hwxSVgW70w6VKXAFFAB8VrQPrec=
-----END ENCRYPTED PRIVATE KEY-----
";
/// Only the headers matter: nosey refuses this format before decoding it.
const LEGACY_ENCRYPTED_KEY: &str = "-----BEGIN RSA PRIVATE KEY-----
Proc-Type: 4,ENCRYPTED
DEK-Info: AES-256-CBC,3F8E2B1A0C9D4E5F6A7B8C9D0E1F2A3B

bm90IGEgcmVhbCBrZXksIG9ubHkgdGhlIGhlYWRlcnMgbWF0dGVyIGhlcmU=
-----END RSA PRIVATE KEY-----
";

// ---------------------------------------------------------------- files

/// A directory removed on drop, so each test writes its own PEM files.
struct TempDir(PathBuf);

impl TempDir {
    fn new() -> Self {
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        let n = NEXT.fetch_add(1, Ordering::SeqCst);
        let dir = std::env::temp_dir().join(format!("nosey-tls-{}-{n}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        TempDir(dir)
    }

    fn file(&self, name: &str, content: &str) -> PathBuf {
        let path = self.0.join(name);
        std::fs::write(&path, content).unwrap();
        path
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn options(timeout: Duration) -> ClientOptions {
    ClientOptions {
        timeout,
        concurrency: 4,
        ca: None,
        client_cert: None,
        client_key: None,
        client_key_password: None,
        insecure_skip_verify: false,
        user_agent: "nosey/test".into(),
    }
}

/// Options trusting the test CA and presenting the client certificate with `key_pem`.
fn mtls_options(dir: &TempDir, pki: &Pki, key_pem: &str, password: Option<&str>) -> ClientOptions {
    ClientOptions {
        ca: Some(dir.file("ca.pem", &pki.ca_pem)),
        client_cert: Some(dir.file("client.pem", &pki.client_cert_pem)),
        client_key: Some(dir.file("client.key", key_pem)),
        client_key_password: password.map(str::to_owned),
        ..options(Duration::from_secs(5))
    }
}

fn build_error(opts: &ClientOptions) -> String {
    match build_client(opts) {
        Ok(_) => panic!("build_client accepted {opts:?}"),
        Err(e) => e.to_string(),
    }
}

// ---------------------------------------------------------------- HTTP/1.1 bits

struct Request {
    head: String,
    body: Vec<u8>,
}

/// Reads one request; `buf` keeps bytes of the next one. `None` at EOF.
async fn read_request<S: AsyncRead + Unpin>(stream: &mut S, buf: &mut Vec<u8>) -> Option<Request> {
    let head_end = loop {
        if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break i + 4;
        }
        read_more(stream, buf).await?;
    };
    let head = String::from_utf8_lossy(&buf[..head_end]).into_owned();
    let length = content_length(&head);
    while buf.len() < head_end + length {
        read_more(stream, buf).await?;
    }
    let body = buf[head_end..head_end + length].to_vec();
    buf.drain(..head_end + length);
    Some(Request { head, body })
}

async fn read_more<S: AsyncRead + Unpin>(stream: &mut S, buf: &mut Vec<u8>) -> Option<()> {
    let mut chunk = [0u8; 8192];
    match stream.read(&mut chunk).await {
        Ok(0) | Err(_) => None,
        Ok(n) => {
            buf.extend_from_slice(&chunk[..n]);
            Some(())
        }
    }
}

fn content_length(head: &str) -> usize {
    head.lines()
        .filter_map(|line| line.split_once(':'))
        .find(|(name, _)| name.eq_ignore_ascii_case("content-length"))
        .and_then(|(_, value)| value.trim().parse().ok())
        .unwrap_or(0)
}

fn header<'a>(head: &'a str, name: &str) -> Option<&'a str> {
    head.lines()
        .filter_map(|line| line.split_once(':'))
        .find(|(n, _)| n.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.trim())
}

/// What a test server saw: one entry per request.
#[derive(Default)]
struct Log {
    connections: AtomicUsize,
    requests: Mutex<Vec<Seen>>,
}

struct Seen {
    connection: usize,
    request: Request,
    client_cert: Option<Vec<u8>>,
}

impl Log {
    fn open_connection(&self) -> usize {
        self.connections.fetch_add(1, Ordering::SeqCst)
    }

    fn record(&self, connection: usize, request: Request, client_cert: Option<Vec<u8>>) {
        let seen = Seen {
            connection,
            request,
            client_cert,
        };
        self.requests.lock().unwrap().push(seen);
    }
}

/// Answers every request on the connection with `head` plus `body_len` bytes of 'x'.
async fn serve<S>(
    mut stream: S,
    log: Arc<Log>,
    cert: Option<Vec<u8>>,
    head: Arc<str>,
    body_len: usize,
) where
    S: AsyncRead + AsyncWrite + Unpin,
{
    let connection = log.open_connection();
    let mut buf = Vec::new();
    while let Some(request) = read_request(&mut stream, &mut buf).await {
        log.record(connection, request, cert.clone());
        if write_response(&mut stream, &head, body_len).await.is_err() {
            return;
        }
    }
}

async fn write_response<S: AsyncWrite + Unpin>(
    stream: &mut S,
    head: &str,
    body_len: usize,
) -> std::io::Result<()> {
    stream.write_all(head.as_bytes()).await?;
    let chunk = vec![b'x'; 64 * 1024];
    let mut left = body_len;
    while left > 0 {
        let n = left.min(chunk.len());
        stream.write_all(&chunk[..n]).await?;
        left -= n;
    }
    stream.flush().await
}

fn ok_head(body_len: usize) -> String {
    format!("HTTP/1.1 200 OK\r\nContent-Length: {body_len}\r\n\r\n")
}

// ---------------------------------------------------------------- servers

struct TestServer {
    addr: SocketAddr,
    log: Arc<Log>,
}

impl TestServer {
    fn url(&self, scheme: &str) -> String {
        format!("{scheme}://127.0.0.1:{}/hook", self.addr.port())
    }

    fn seen(&self) -> std::sync::MutexGuard<'_, Vec<Seen>> {
        self.log.requests.lock().unwrap()
    }
}

async fn listener() -> (TcpListener, SocketAddr) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    (listener, addr)
}

/// TLS server answering 200 "ok"; with `mtls` it demands a client certificate from the test CA.
async fn tls_server(pki: &Pki, mtls: bool) -> TestServer {
    let acceptor = TlsAcceptor::from(Arc::new(server_config(pki, mtls)));
    let (listener, addr) = listener().await;
    let log = Arc::new(Log::default());
    let server_log = log.clone();
    tokio::spawn(async move {
        while let Ok((tcp, _)) = listener.accept().await {
            let (acceptor, log) = (acceptor.clone(), server_log.clone());
            tokio::spawn(async move {
                // A failed handshake is what some tests expect: just drop it.
                let Ok(tls) = acceptor.accept(tcp).await else {
                    return;
                };
                let cert = tls
                    .get_ref()
                    .1
                    .peer_certificates()
                    .and_then(|c| c.first())
                    .map(|c| c.to_vec());
                serve(tls, log, cert, ok_head(2).into(), 2).await;
            });
        }
    });
    TestServer { addr, log }
}

fn server_config(pki: &Pki, mtls: bool) -> ServerConfig {
    let builder = ServerConfig::builder();
    let builder = if mtls {
        let mut roots = RootCertStore::empty();
        roots.add(pki.ca_der.clone()).unwrap();
        let verifier = WebPkiClientVerifier::builder(Arc::new(roots))
            .build()
            .unwrap();
        builder.with_client_cert_verifier(verifier)
    } else {
        builder.with_no_client_auth()
    };
    let key = PrivateKeyDer::Pkcs8(pki.server_key_der.clone().into());
    builder
        .with_single_cert(vec![pki.server_cert.clone()], key)
        .unwrap()
}

/// Plain HTTP server answering each request with `head` + `body_len` bytes.
async fn plain_server(head: String, body_len: usize) -> TestServer {
    let (listener, addr) = listener().await;
    let log = Arc::new(Log::default());
    let server_log = log.clone();
    let head: Arc<str> = head.into();
    tokio::spawn(async move {
        while let Ok((tcp, _)) = listener.accept().await {
            tokio::spawn(serve(tcp, server_log.clone(), None, head.clone(), body_len));
        }
    });
    TestServer { addr, log }
}

/// Runs `handle` on every accepted connection, for servers that misbehave.
async fn raw_server<F, Fut>(handle: F) -> SocketAddr
where
    F: Fn(TcpStream) -> Fut + Send + 'static,
    Fut: std::future::Future<Output = ()> + Send + 'static,
{
    let (listener, addr) = listener().await;
    tokio::spawn(async move {
        while let Ok((tcp, _)) = listener.accept().await {
            tokio::spawn(handle(tcp));
        }
    });
    addr
}

async fn deliver(opts: &ClientOptions, url: &str) -> Sent {
    let client = build_client(opts).expect("client builds");
    let headers = vec![("webhook-id".to_owned(), "msg_1".to_owned())];
    post(
        &client,
        url,
        &headers,
        Bytes::from_static(BODY.as_bytes()),
        opts.timeout,
    )
    .await
}

fn assert_delivered(sent: &Sent, server: &TestServer, with_cert: bool) {
    assert_eq!(sent.status, Some(200), "{sent:?}");
    assert_eq!(sent.error, None);
    assert_eq!(sent.response_snippet, "xx");
    let seen = server.seen();
    assert_eq!(seen.len(), 1);
    assert_eq!(seen[0].request.body, BODY.as_bytes());
    let cert = seen[0].client_cert.as_deref();
    // The CN is stored verbatim in the DER, which is all we need to recognise it.
    let has_cn = cert.is_some_and(|c| {
        c.windows(CLIENT_CN.len())
            .any(|w| w == CLIENT_CN.as_bytes())
    });
    assert_eq!(has_cn, with_cert, "client certificate seen by the server");
}

// ---------------------------------------------------------------- TLS tests

#[tokio::test]
async fn mtls_with_encrypted_pkcs8_keys() {
    let pki = pki();
    let server = tls_server(&pki, true).await;
    for key_pem in [
        scrypt_encrypted(&pki.client_key_der),
        pbkdf2_encrypted(&pki.client_key_der),
    ] {
        let dir = TempDir::new();
        let sent = deliver(
            &mtls_options(&dir, &pki, &key_pem, Some(PASSWORD)),
            &server.url("https"),
        )
        .await;
        assert_delivered(&sent, &server, true);
        server.log.requests.lock().unwrap().clear();
    }
}

#[tokio::test]
async fn mtls_with_plain_pkcs8_key() {
    let pki = pki();
    let server = tls_server(&pki, true).await;
    let dir = TempDir::new();
    let key_pem = pem("PRIVATE KEY", &pki.client_key_der);
    let sent = deliver(
        &mtls_options(&dir, &pki, &key_pem, None),
        &server.url("https"),
    )
    .await;
    assert_delivered(&sent, &server, true);
}

#[tokio::test]
async fn mtls_with_pkcs1_rsa_key() {
    let rsa = KeyPair::generate_rsa_for(&rcgen::PKCS_RSA_SHA256, rcgen::RsaKeySize::_2048).unwrap();
    let pki = pki_with_client_key(rsa);
    let server = tls_server(&pki, true).await;
    let dir = TempDir::new();
    let key_pem = pem("RSA PRIVATE KEY", &inner_key(&pki.client_key_der));
    let sent = deliver(
        &mtls_options(&dir, &pki, &key_pem, None),
        &server.url("https"),
    )
    .await;
    assert_delivered(&sent, &server, true);
}

#[tokio::test]
async fn mtls_with_sec1_ec_key() {
    let pki = pki();
    let server = tls_server(&pki, true).await;
    let dir = TempDir::new();
    let key_pem = pem("EC PRIVATE KEY", &inner_key(&pki.client_key_der));
    let sent = deliver(
        &mtls_options(&dir, &pki, &key_pem, None),
        &server.url("https"),
    )
    .await;
    assert_delivered(&sent, &server, true);
}

#[tokio::test]
async fn mtls_without_client_cert_is_refused() {
    let pki = pki();
    let server = tls_server(&pki, true).await;
    let dir = TempDir::new();
    let opts = ClientOptions {
        ca: Some(dir.file("ca.pem", &pki.ca_pem)),
        ..options(Duration::from_secs(5))
    };
    let sent = deliver(&opts, &server.url("https")).await;
    assert_eq!(sent.status, None, "{sent:?}");
    let error = sent.error.unwrap();
    assert_eq!(error, "TLS: the receiver requires a client certificate");
    assert!(server.seen().is_empty());
}

#[tokio::test]
async fn unknown_ca_is_reported() {
    let pki = pki();
    let server = tls_server(&pki, false).await;
    let sent = deliver(&options(Duration::from_secs(5)), &server.url("https")).await;
    assert_eq!(sent.status, None, "{sent:?}");
    let error = sent.error.unwrap();
    assert_eq!(error, "TLS: invalid peer certificate: UnknownIssuer");
}

#[tokio::test]
async fn extra_ca_is_merged_with_system_roots() {
    let pki = pki();
    let server = tls_server(&pki, false).await;
    let dir = TempDir::new();
    let opts = ClientOptions {
        ca: Some(dir.file("ca.pem", &pki.ca_pem)),
        ..options(Duration::from_secs(5))
    };
    assert_delivered(&deliver(&opts, &server.url("https")).await, &server, false);
}

#[tokio::test]
async fn insecure_skip_verify_delivers_without_ca() {
    let pki = pki();
    let server = tls_server(&pki, false).await;
    let opts = ClientOptions {
        insecure_skip_verify: true,
        ..options(Duration::from_secs(5))
    };
    assert_delivered(&deliver(&opts, &server.url("https")).await, &server, false);
}

// ---------------------------------------------------------------- key and file errors

#[test]
fn wrong_password_is_reported() {
    let pki = pki();
    let dir = TempDir::new();
    let opts = mtls_options(
        &dir,
        &pki,
        &pbkdf2_encrypted(&pki.client_key_der),
        Some("wrong"),
    );
    let error = build_error(&opts);
    let path = opts.client_key.unwrap();
    assert_eq!(
        error,
        format!(
            "tls.client_key: the client_key_password does not decrypt {}",
            path.display()
        )
    );
}

#[test]
fn encrypted_key_without_password_is_reported() {
    let pki = pki();
    let dir = TempDir::new();
    let error = build_error(&mtls_options(
        &dir,
        &pki,
        &pbkdf2_encrypted(&pki.client_key_der),
        None,
    ));
    assert!(
        error.contains("set tls.client_key_password_file"),
        "{error}"
    );
}

#[test]
fn unsupported_key_encryptions_name_the_fix() {
    let pki = pki();
    for key in [LEGACY_ENCRYPTED_KEY, PBE_SHA1_3DES_KEY, PBES2_DES3_KEY] {
        let dir = TempDir::new();
        let error = build_error(&mtls_options(&dir, &pki, key, Some("secret")));
        assert!(error.contains("openssl pkcs8 -topk8"), "{error}");
        assert!(!error.contains("secret"), "{error}");
    }
}

#[test]
fn half_configured_identity_is_rejected() {
    let pki = pki();
    let dir = TempDir::new();
    let full = mtls_options(&dir, &pki, &pem("PRIVATE KEY", &pki.client_key_der), None);
    let cert_only = ClientOptions {
        client_key: None,
        ..full.clone()
    };
    assert!(build_error(&cert_only).contains("without tls.client_key"));
    let key_only = ClientOptions {
        client_cert: None,
        ..full
    };
    assert!(build_error(&key_only).contains("without tls.client_cert"));
}

#[test]
fn unreadable_files_name_key_and_path() {
    let missing = Path::new("/nonexistent/nosey/file.pem").to_path_buf();
    let pki = pki();
    let dir = TempDir::new();
    let good = mtls_options(&dir, &pki, &pem("PRIVATE KEY", &pki.client_key_der), None);
    let cases = [
        (
            "tls.ca",
            ClientOptions {
                ca: Some(missing.clone()),
                ..good.clone()
            },
        ),
        (
            "tls.client_cert",
            ClientOptions {
                client_cert: Some(missing.clone()),
                ..good.clone()
            },
        ),
        (
            "tls.client_key",
            ClientOptions {
                client_key: Some(missing.clone()),
                ..good.clone()
            },
        ),
    ];
    for (key, opts) in cases {
        let error = build_error(&opts);
        assert!(
            error.starts_with(&format!("{key}: cannot read {}", missing.display())),
            "{error}"
        );
    }
    let not_pem = dir.file("not.pem", "hello");
    let error = build_error(&ClientOptions {
        ca: Some(not_pem),
        ..good
    });
    assert!(
        error.starts_with("tls.ca:") && error.contains("no PEM certificate"),
        "{error}"
    );
}

#[test]
fn damaged_pem_names_the_setting() {
    let pki = pki();
    let dir = TempDir::new();
    let junk =
        |label: &str| format!("-----BEGIN {label}-----\naGVsbG8gd29ybGQ=\n-----END {label}-----\n");
    let good = mtls_options(&dir, &pki, &pem("PRIVATE KEY", &pki.client_key_der), None);
    let bad_ca = dir.file("bad-ca.pem", &junk("CERTIFICATE"));
    let error = build_error(&ClientOptions {
        ca: Some(bad_ca.clone()),
        ..good.clone()
    });
    assert!(
        error.starts_with(&format!("tls.ca: {}: ", bad_ca.display())),
        "{error}"
    );
    for label in ["PRIVATE KEY", "ENCRYPTED PRIVATE KEY"] {
        let bad_key = dir.file("bad.key", &junk(label));
        let opts = ClientOptions {
            client_key: Some(bad_key.clone()),
            client_key_password: Some("pw".into()),
            ..good.clone()
        };
        let error = build_error(&opts);
        assert!(
            error.starts_with(&format!("tls.client_key: {}: ", bad_key.display())),
            "{error}"
        );
    }
}

#[test]
fn key_of_another_certificate_is_rejected() {
    let pki = pki();
    let dir = TempDir::new();
    let other_key = pem("PRIVATE KEY", &pki.server_key_der);
    let error = build_error(&mtls_options(&dir, &pki, &other_key, None));
    assert_eq!(
        error,
        "tls.client_key does not belong to the certificate in tls.client_cert"
    );
}

// ---------------------------------------------------------------- plain HTTP behaviour

#[tokio::test]
async fn redirects_are_not_followed() {
    let head =
        "HTTP/1.1 302 Found\r\nLocation: http://127.0.0.1:1/elsewhere\r\nContent-Length: 0\r\n\r\n";
    let server = plain_server(head.into(), 0).await;
    let sent = deliver(&options(Duration::from_secs(5)), &server.url("http")).await;
    assert_eq!(sent.status, Some(302), "{sent:?}");
    assert_eq!(sent.error, None);
    assert_eq!(server.seen().len(), 1);
}

#[tokio::test]
async fn retry_after_is_read_from_503() {
    let head = "HTTP/1.1 503 Service Unavailable\r\nRetry-After: 7\r\nContent-Length: 4\r\n\r\n";
    let server = plain_server(head.into(), 4).await;
    let sent = deliver(&options(Duration::from_secs(5)), &server.url("http")).await;
    assert_eq!(sent.status, Some(503));
    assert_eq!(sent.retry_after, Some(Duration::from_secs(7)));
    assert_eq!(sent.response_snippet, "xxxx");
}

#[tokio::test]
async fn silent_server_times_out() {
    let addr = raw_server(|mut tcp| async move {
        let _ = read_request(&mut tcp, &mut Vec::new()).await;
        tokio::time::sleep(Duration::from_secs(10)).await;
    })
    .await;
    let timeout = Duration::from_millis(300);
    let sent = deliver(&options(timeout), &format!("http://{addr}/hook")).await;
    assert_eq!(sent.status, None);
    assert_eq!(sent.error.as_deref(), Some("timed out after 300ms"));
    assert!(
        sent.duration >= timeout && sent.duration < Duration::from_secs(2),
        "{sent:?}"
    );
}

#[tokio::test]
async fn half_response_is_an_error() {
    let addr = raw_server(|mut tcp| async move {
        let _ = read_request(&mut tcp, &mut Vec::new()).await;
        let _ = tcp.write_all(b"HTTP/1.1 200 OK\r\nContent-Le").await;
        let _ = tcp.shutdown().await;
    })
    .await;
    let sent = deliver(
        &options(Duration::from_secs(5)),
        &format!("http://{addr}/hook"),
    )
    .await;
    assert_eq!(sent.status, None, "{sent:?}");
    assert_eq!(
        sent.error.as_deref(),
        Some("connection closed before a full response")
    );
}

#[tokio::test]
async fn truncated_body_keeps_status_and_reports_error() {
    let addr = raw_server(|mut tcp| async move {
        let _ = read_request(&mut tcp, &mut Vec::new()).await;
        let _ = tcp
            .write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\npartial")
            .await;
        let _ = tcp.shutdown().await;
    })
    .await;
    let sent = deliver(
        &options(Duration::from_secs(5)),
        &format!("http://{addr}/hook"),
    )
    .await;
    assert_eq!(sent.status, Some(200), "{sent:?}");
    assert_eq!(sent.response_snippet, "partial");
    let error = sent.error.unwrap();
    assert_eq!(
        error,
        "response body: connection closed before a full response"
    );
}

#[tokio::test]
async fn refused_port_is_reported() {
    let (listener, addr) = listener().await;
    drop(listener);
    let url = format!("http://user:hunter2@{addr}/hook");
    let sent = deliver(&options(Duration::from_secs(5)), &url).await;
    assert_eq!(sent.status, None);
    assert_eq!(sent.error.as_deref(), Some("connection refused"));
}

#[tokio::test]
async fn huge_body_is_cut_at_1_kib() {
    let size = 10 * 1024 * 1024;
    let server = plain_server(ok_head(size), size).await;
    let sent = deliver(&options(Duration::from_secs(10)), &server.url("http")).await;
    assert_eq!(sent.status, Some(200));
    assert_eq!(sent.error, None);
    assert_eq!(sent.response_snippet.len(), 1024);
    assert!(sent.duration < Duration::from_secs(2), "{sent:?}");
}

#[tokio::test]
async fn connections_are_reused_and_headers_sent() {
    let server = plain_server(ok_head(2), 2).await;
    let opts = options(Duration::from_secs(5));
    let client = build_client(&opts).unwrap();
    let headers = vec![
        ("webhook-id".to_owned(), "msg_1".to_owned()),
        ("webhook-signature".to_owned(), "v1,abc".to_owned()),
    ];
    for _ in 0..3 {
        let sent = post(
            &client,
            &server.url("http"),
            &headers,
            Bytes::from_static(b"{}"),
            opts.timeout,
        )
        .await;
        assert_eq!(sent.status, Some(200), "{sent:?}");
    }
    assert_eq!(server.log.connections.load(Ordering::SeqCst), 1);
    let seen = server.seen();
    assert_eq!(seen.len(), 3);
    assert!(seen.iter().all(|s| s.connection == 0));
    let head = &seen[0].request.head;
    assert!(head.starts_with("POST /hook HTTP/1.1\r\n"), "{head}");
    assert_eq!(header(head, "content-type"), Some("application/json"));
    assert_eq!(header(head, "user-agent"), Some("nosey/test"));
    assert_eq!(header(head, "webhook-id"), Some("msg_1"));
    assert_eq!(header(head, "webhook-signature"), Some("v1,abc"));
}

#[tokio::test]
async fn invalid_header_is_an_error_not_a_panic() {
    let client = build_client(&options(Duration::from_secs(1))).unwrap();
    let headers = vec![("bad header".to_owned(), "x".to_owned())];
    let sent = post(
        &client,
        "http://127.0.0.1:1/",
        &headers,
        Bytes::new(),
        Duration::from_secs(1),
    )
    .await;
    assert_eq!(sent.status, None);
    assert!(sent.error.unwrap().contains("invalid header name"));
}
