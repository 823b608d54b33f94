//! HTTPS: the certificate and key a server presents, loaded (or generated)
//! once at start, so that a bad file stops the server before it listens.
//!
//! [`Tls::from_config`] reads `--tls-cert` and `--tls-key` (PEM), or
//! generates a certificate for `localhost` and `127.0.0.1` with
//! `--tls-self-signed`; [`serve_tls`](crate::serve_tls) serves with it.
//! ALPN offers `h2` then `http/1.1`, so browsers speak HTTP/2 and lift
//! HTTP/1.1's six connections per host. rustls with the ring provider
//! (aws-lc-rs needs cmake to build).

use std::path::{Path, PathBuf};
use std::sync::Arc;

use tokio_rustls::rustls::pki_types::pem::PemObject;
use tokio_rustls::rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use tokio_rustls::rustls::{self, ServerConfig};
use tokio_rustls::TlsAcceptor;

use crate::config::Config;

/// The protocols offered by ALPN, most preferred first.
pub const ALPN: [&[u8]; 2] = [b"h2", b"http/1.1"];

/// The names a `--tls-self-signed` certificate is valid for.
pub const SELF_SIGNED_NAMES: [&str; 2] = ["localhost", "127.0.0.1"];

/// Why the server cannot serve HTTPS with what it was given.
#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    /// A file could not be read.
    #[error("cannot read {what} {}: {source}", path.display())]
    Read {
        /// `the TLS certificate` or `the TLS key`.
        what: &'static str,
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The certificate file holds no PEM certificate.
    #[error("{} holds no PEM certificate (-----BEGIN CERTIFICATE-----)", .0.display())]
    NoCertificate(PathBuf),
    /// The key file holds no PEM private key.
    #[error("{} holds no PEM private key (PKCS#8, PKCS#1 or SEC1)", .0.display())]
    NoKey(PathBuf),
    /// rustls refused the pair: most often, the key is not the
    /// certificate's.
    #[error("the TLS key does not fit the certificate: {0}")]
    Refused(rustls::Error),
    /// The self-signed certificate could not be generated.
    #[error("cannot generate a self-signed certificate: {0}")]
    Generate(#[from] rcgen::Error),
}

/// What the server presents in TLS handshakes.
#[derive(Clone)]
pub struct Tls {
    acceptor: TlsAcceptor,
    /// The certificate (PEM) when it was generated here, for clients to trust.
    self_signed: Option<String>,
}

impl std::fmt::Debug for Tls {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Tls")
            .field("self_signed", &self.self_signed.is_some())
            .finish_non_exhaustive()
    }
}

impl Tls {
    /// The TLS `config` asks for: none without `--tls-cert` or
    /// `--tls-self-signed`.
    pub fn from_config(config: &Config) -> Result<Option<Tls>, TlsError> {
        if config.tls_self_signed {
            return Tls::self_signed().map(Some);
        }
        match (&config.tls_cert, &config.tls_key) {
            (Some(cert), Some(key)) => Tls::from_pem_files(cert, key).map(Some),
            _ => Ok(None),
        }
    }

    /// The certificate chain in `cert` with the private key in `key`.
    pub fn from_pem_files(cert: &Path, key: &Path) -> Result<Tls, TlsError> {
        let read = |what, path: &Path| {
            std::fs::read(path).map_err(|source| TlsError::Read {
                what,
                path: path.to_owned(),
                source,
            })
        };
        let cert_pem = read("the TLS certificate", cert)?;
        let key_pem = read("the TLS key", key)?;
        let chain: Vec<CertificateDer<'static>> = CertificateDer::pem_slice_iter(&cert_pem)
            .filter_map(Result::ok)
            .collect();
        if chain.is_empty() {
            return Err(TlsError::NoCertificate(cert.to_owned()));
        }
        let key_der =
            PrivateKeyDer::from_pem_slice(&key_pem).map_err(|_| TlsError::NoKey(key.to_owned()))?;
        Tls::new(chain, key_der, None)
    }

    /// A certificate generated now for [`SELF_SIGNED_NAMES`]. For
    /// development: clients must be told to trust it.
    pub fn self_signed() -> Result<Tls, TlsError> {
        let names = SELF_SIGNED_NAMES.map(str::to_owned).to_vec();
        let generated = rcgen::generate_simple_self_signed(names)?;
        let key = PrivatePkcs8KeyDer::from(generated.signing_key.serialize_der()).into();
        let pem = generated.cert.pem();
        Tls::new(vec![generated.cert.der().clone()], key, Some(pem))
    }

    fn new(
        chain: Vec<CertificateDer<'static>>,
        key: PrivateKeyDer<'static>,
        self_signed: Option<String>,
    ) -> Result<Tls, TlsError> {
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let mut config = ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(TlsError::Refused)?
            .with_no_client_auth()
            .with_single_cert(chain, key)
            .map_err(TlsError::Refused)?;
        config.alpn_protocols = ALPN.iter().map(|p| p.to_vec()).collect();
        Ok(Tls {
            acceptor: TlsAcceptor::from(Arc::new(config)),
            self_signed,
        })
    }

    /// The generated certificate (PEM), if `--tls-self-signed` made it.
    pub fn self_signed_pem(&self) -> Option<&str> {
        self.self_signed.as_deref()
    }

    pub(crate) fn acceptor(&self) -> &TlsAcceptor {
        &self.acceptor
    }
}
