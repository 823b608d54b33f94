//! The TLS scenario's plumbing: a test CA and a certificate for
//! `localhost` and `127.0.0.1` signed by it, made at run time with rcgen
//! and written where the servers read them; the load generator's rustls
//! client, which trusts that CA and nothing else; and how a subscriber or
//! the publisher reaches a server: plaintext HTTP/1.1, HTTP/1.1 over TLS,
//! or HTTP/2 over TLS with one stream per connection (ALPN decides, and is
//! checked). rustls with the ring provider on both sides (aws-lc-rs needs
//! cmake to build), as in pushwire.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::Empty;
use hyper::body::Incoming;
use hyper::client::conn::{http1, http2};
use hyper_util::rt::{TokioExecutor, TokioIo};
use rcgen::{
    BasicConstraints, CertificateParams, CertifiedIssuer, DnType, IsCa, KeyPair, KeyUsagePurpose,
};
use tokio::net::TcpStream;
use tokio_rustls::rustls::pki_types::pem::PemObject;
use tokio_rustls::rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName};
use tokio_rustls::rustls::{self, ClientConfig, RootCertStore, ServerConfig};
use tokio_rustls::{TlsAcceptor, TlsConnector};

/// The name the load generator asks for (the certificate also names
/// `127.0.0.1`).
const SERVER_NAME: &str = "localhost";

/// ALPN offered by the servers, most preferred first (as pushwire's).
const SERVER_ALPN: [&[u8]; 2] = [b"h2", b"http/1.1"];

/// Longest a TLS handshake may take, on either side.
pub const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

fn rustls_error(e: impl std::fmt::Display) -> String {
    format!("TLS: {e}")
}

/// A test CA and a server certificate signed by it, as PEM files in a
/// temporary directory (removed by [`TestCert::remove`]).
#[derive(Debug)]
pub struct TestCert {
    dir: PathBuf,
    pub cert: PathBuf,
    pub key: PathBuf,
    pub ca: PathBuf,
}

impl TestCert {
    /// Makes the CA and an ECDSA P-256 certificate for `localhost` and
    /// `127.0.0.1` (rcgen's default key type).
    pub fn generate() -> Result<TestCert, String> {
        let mut ca_params = CertificateParams::new(Vec::<String>::new()).map_err(rustls_error)?;
        ca_params
            .distinguished_name
            .push(DnType::CommonName, "pushwire-bench test CA");
        ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        ca_params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
        let ca_key = KeyPair::generate().map_err(rustls_error)?;
        let ca = CertifiedIssuer::self_signed(ca_params, ca_key).map_err(rustls_error)?;

        let params = CertificateParams::new(vec![SERVER_NAME.to_owned(), "127.0.0.1".to_owned()])
            .map_err(rustls_error)?;
        let key = KeyPair::generate().map_err(rustls_error)?;
        let cert = params.signed_by(&key, &ca).map_err(rustls_error)?;

        let dir = std::env::temp_dir().join(format!("pushwire-bench-tls-{}", std::process::id()));
        std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
        let write = |name: &str, pem: String| {
            let path = dir.join(name);
            std::fs::write(&path, pem)
                .map(|()| path.clone())
                .map_err(|e| format!("{}: {e}", path.display()))
        };
        Ok(TestCert {
            cert: write("cert.pem", cert.pem())?,
            key: write("key.pem", key.serialize_pem())?,
            ca: write("ca.pem", ca.pem())?,
            dir,
        })
    }

    /// pushwire's flags (and the axum peer's) to serve with this certificate.
    pub fn server_args(&self) -> Vec<String> {
        vec![
            "--tls-cert".to_owned(),
            self.cert.to_string_lossy().into_owned(),
            "--tls-key".to_owned(),
            self.key.to_string_lossy().into_owned(),
        ]
    }

    pub fn remove(self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// A server's TLS configuration from PEM files, as pushwire builds its
/// own: ring, the safe default protocol versions, ALPN `h2` then
/// `http/1.1`, everything else rustls's defaults.
pub fn acceptor(cert: &Path, key: &Path) -> Result<TlsAcceptor, String> {
    let read = |p: &Path| std::fs::read(p).map_err(|e| format!("{}: {e}", p.display()));
    let chain: Vec<CertificateDer<'static>> = CertificateDer::pem_slice_iter(&read(cert)?)
        .filter_map(Result::ok)
        .collect();
    let key = PrivateKeyDer::from_pem_slice(&read(key)?).map_err(rustls_error)?;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(rustls_error)?
        .with_no_client_auth()
        .with_single_cert(chain, key)
        .map_err(rustls_error)?;
    config.alpn_protocols = SERVER_ALPN.iter().map(|p| p.to_vec()).collect();
    Ok(TlsAcceptor::from(Arc::new(config)))
}

/// The load generator's TLS client: trusts the test CA only; one
/// connector per ALPN offer.
pub struct TlsClient {
    ca: PathBuf,
    http1: TlsConnector,
    h2: TlsConnector,
}

impl std::fmt::Debug for TlsClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TlsClient").field("ca", &self.ca).finish()
    }
}

impl TlsClient {
    /// A client trusting the CA certificate(s) in `ca` (PEM).
    pub fn new(ca: &Path) -> Result<TlsClient, String> {
        let pem = std::fs::read(ca).map_err(|e| format!("{}: {e}", ca.display()))?;
        let mut roots = RootCertStore::empty();
        for cert in CertificateDer::pem_slice_iter(&pem) {
            roots
                .add(cert.map_err(rustls_error)?)
                .map_err(rustls_error)?;
        }
        let connector = |alpn: &[u8]| -> Result<TlsConnector, String> {
            let provider = Arc::new(rustls::crypto::ring::default_provider());
            let mut config = ClientConfig::builder_with_provider(provider)
                .with_safe_default_protocol_versions()
                .map_err(rustls_error)?
                .with_root_certificates(roots.clone())
                .with_no_client_auth();
            config.alpn_protocols = vec![alpn.to_vec()];
            Ok(TlsConnector::from(Arc::new(config)))
        };
        Ok(TlsClient {
            ca: ca.to_owned(),
            http1: connector(b"http/1.1")?,
            h2: connector(b"h2")?,
        })
    }

    /// TLS over `stream`, offering only `alpn` (`h2` or `http/1.1`); an
    /// error unless the server chose it.
    async fn connect(
        &self,
        stream: TcpStream,
        h2: bool,
    ) -> std::io::Result<tokio_rustls::client::TlsStream<TcpStream>> {
        let (connector, alpn): (_, &[u8]) = if h2 {
            (&self.h2, b"h2")
        } else {
            (&self.http1, b"http/1.1")
        };
        let name = ServerName::try_from(SERVER_NAME).map_err(std::io::Error::other)?;
        let tls = tokio::time::timeout(HANDSHAKE_TIMEOUT, connector.connect(name, stream))
            .await
            .map_err(|_| std::io::Error::other("TLS handshake timed out"))??;
        let chosen = tls.get_ref().1.alpn_protocol();
        if chosen != Some(alpn) {
            return Err(std::io::Error::other(format!(
                "ALPN chose {:?}, not {:?}",
                chosen.map(String::from_utf8_lossy),
                String::from_utf8_lossy(alpn)
            )));
        }
        Ok(tls)
    }
}

/// How the load generator reaches a server.
#[derive(Debug, Clone, Default)]
pub enum Transport {
    /// HTTP/1.1 in the clear: every scenario but `tls`.
    #[default]
    Plain,
    /// TLS, then HTTP/2 (`h2`: one stream per connection) or HTTP/1.1.
    Tls { h2: bool, client: Arc<TlsClient> },
}

/// What keeps a subscription's connection open: its request sender,
/// held (never read) until the stream ends.
#[derive(Debug)]
#[allow(dead_code)]
pub enum Sender {
    Http1(http1::SendRequest<Empty<Bytes>>),
    Http2(http2::SendRequest<Empty<Bytes>>),
}

impl Transport {
    /// As the report names it.
    pub fn name(&self) -> &'static str {
        match self {
            Transport::Plain => "HTTP/1.1, plaintext",
            Transport::Tls { h2: false, .. } => "HTTP/1.1 over TLS",
            Transport::Tls { h2: true, .. } => "HTTP/2 over TLS",
        }
    }

    /// The flags a `hold` worker takes to use this transport.
    pub fn worker_args(&self) -> Vec<String> {
        match self {
            Transport::Plain => Vec::new(),
            Transport::Tls { h2, client } => {
                let mut args = vec![
                    "--tls-ca".to_owned(),
                    client.ca.to_string_lossy().into_owned(),
                ];
                if *h2 {
                    args.push("--h2".to_owned());
                }
                args
            }
        }
    }

    /// The transport of a `hold` worker's flags (see [`Transport::worker_args`]).
    pub fn from_worker_args(ca: Option<&Path>, h2: bool) -> Result<Transport, String> {
        match ca {
            None if h2 => Err("--h2 needs --tls-ca".into()),
            None => Ok(Transport::Plain),
            Some(ca) => Ok(Transport::Tls {
                h2,
                client: Arc::new(TlsClient::new(ca)?),
            }),
        }
    }

    /// Sends `req` (a `GET` with a path-only URI and a `Host` header) over
    /// a new connection on `stream` to `server`; returns the response and
    /// what keeps the connection open.
    pub async fn open(
        &self,
        stream: TcpStream,
        server: SocketAddr,
        mut req: http::Request<Empty<Bytes>>,
    ) -> std::io::Result<(http::Response<Incoming>, Sender)> {
        match self {
            Transport::Plain => http1_request(TokioIo::new(stream), req).await,
            Transport::Tls { h2: false, client } => {
                let tls = client.connect(stream, false).await?;
                http1_request(TokioIo::new(tls), req).await
            }
            Transport::Tls { h2: true, client } => {
                let tls = client.connect(stream, true).await?;
                let (mut sender, conn) = http2::handshake(TokioExecutor::new(), TokioIo::new(tls))
                    .await
                    .map_err(std::io::Error::other)?;
                tokio::spawn(conn);
                // HTTP/2 carries the authority in the URI, not in `Host`.
                let path = req.uri().path_and_query().map_or("/", |p| p.as_str());
                *req.uri_mut() = format!("https://{SERVER_NAME}:{}{path}", server.port())
                    .parse()
                    .map_err(std::io::Error::other)?;
                req.headers_mut().remove(http::header::HOST);
                let res = sender
                    .send_request(req)
                    .await
                    .map_err(std::io::Error::other)?;
                Ok((res, Sender::Http2(sender)))
            }
        }
    }

    /// An HTTP/1.1 connection on `stream` (over TLS when this transport
    /// is TLS, whichever its HTTP version: the publisher's).
    pub async fn http1<B>(&self, stream: TcpStream) -> std::io::Result<http1::SendRequest<B>>
    where
        B: hyper::body::Body + Send + 'static,
        B::Data: Send,
        B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
    {
        match self {
            Transport::Plain => http1_sender(TokioIo::new(stream)).await,
            Transport::Tls { client, .. } => {
                let tls = client.connect(stream, false).await?;
                http1_sender(TokioIo::new(tls)).await
            }
        }
    }
}

async fn http1_sender<T, B>(io: T) -> std::io::Result<http1::SendRequest<B>>
where
    T: hyper::rt::Read + hyper::rt::Write + Unpin + Send + 'static,
    B: hyper::body::Body + Send + 'static,
    B::Data: Send,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    let (sender, conn) = http1::handshake(io).await.map_err(std::io::Error::other)?;
    tokio::spawn(conn);
    Ok(sender)
}

async fn http1_request<T>(
    io: T,
    req: http::Request<Empty<Bytes>>,
) -> std::io::Result<(http::Response<Incoming>, Sender)>
where
    T: hyper::rt::Read + hyper::rt::Write + Unpin + Send + 'static,
{
    let mut sender = http1_sender(io).await?;
    let res = sender
        .send_request(req)
        .await
        .map_err(std::io::Error::other)?;
    Ok((res, Sender::Http1(sender)))
}
