//! `TokenVerifier`: checks a JWT's signature and claims with the
//! `jsonwebtoken` crate (signatures are not hand-rolled) and reads its
//! grants from the `pushwire` claim.
//!
//! One key, one algorithm: an HS256 secret, or a PEM public key whose type
//! fixes the algorithm (RSA → RS256, P-256 → ES256, P-384 → ES384, Ed25519
//! → EdDSA). A token whose header names any other algorithm is refused
//! before its signature is looked at, so neither `none` nor key confusion
//! (an RS256 public key used as an HS256 secret) can pass.

use std::path::Path;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use jsonwebtoken::errors::ErrorKind;
use jsonwebtoken::{Algorithm, DecodingKey, DecodingKeyKind, Validation};
use serde::{Deserialize, Serialize};

use super::Selectors;

/// What a valid token grants, and until when.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Grants {
    /// Topics the bearer may subscribe to and poll.
    #[serde(default)]
    pub subscribe: Selectors,
    /// Topics the bearer may publish on.
    #[serde(default)]
    pub publish: Selectors,
}

/// A verified token: its grants and its `exp`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifiedToken {
    /// The `pushwire` claim (nothing granted when it is missing).
    pub grants: Grants,
    /// When the token expires.
    pub expires_at: SystemTime,
}

/// The claims pushwire reads; `exp`, `aud` and `iss` are checked by
/// `jsonwebtoken` itself.
#[derive(Debug, Deserialize)]
struct Claims {
    /// Optional here so that a missing `exp` is reported as such by the
    /// validation (which requires it), not as malformed claims.
    exp: Option<u64>,
    #[serde(default)]
    pushwire: Grants,
}

/// Why a token was refused (the reason counted in `/metrics`; the message
/// goes to the client, never the token).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenError {
    /// Past its `exp`.
    Expired,
    /// Not three base64url parts of JSON, or a claim of the wrong type.
    Malformed,
    /// No `exp`.
    MissingExp,
    /// Its `alg` is not this server's (`none` included).
    WrongAlgorithm,
    /// The signature does not verify with this server's key.
    BadSignature,
    /// `aud` is not `--jwt-audience`.
    WrongAudience,
    /// `iss` is not `--jwt-issuer`.
    WrongIssuer,
}

impl TokenError {
    /// The label of this reason in `/metrics`.
    pub fn label(self) -> &'static str {
        match self {
            TokenError::Expired => "expired",
            TokenError::Malformed => "malformed",
            TokenError::MissingExp => "missing_exp",
            TokenError::WrongAlgorithm => "wrong_algorithm",
            TokenError::BadSignature => "bad_signature",
            TokenError::WrongAudience => "wrong_audience",
            TokenError::WrongIssuer => "wrong_issuer",
        }
    }

    /// What the client is told.
    pub fn message(self) -> &'static str {
        match self {
            TokenError::Expired => "the token has expired",
            TokenError::Malformed => "the token is not a well-formed JWT",
            TokenError::MissingExp => "the token has no exp claim",
            TokenError::WrongAlgorithm => "the token's alg is not the one this server accepts",
            TokenError::BadSignature => "the token's signature does not verify",
            TokenError::WrongAudience => "the token's aud is not this server's audience",
            TokenError::WrongIssuer => "the token's iss is not this server's issuer",
        }
    }
}

/// A key that cannot be used (a startup error).
#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    /// The PEM file cannot be read.
    #[error("cannot read the JWT public key {path}: {error}")]
    Read {
        /// The file.
        path: String,
        /// Why.
        error: std::io::Error,
    },
    /// The file holds no public key of a supported type.
    #[error(
        "{0} holds no supported public key: give a PEM \"PUBLIC KEY\" for RSA (RS256), \
         P-256 (ES256), P-384 (ES384) or Ed25519 (EdDSA)"
    )]
    Unsupported(String),
    /// An empty HS256 secret would verify tokens anyone can sign.
    #[error("--jwt-secret must not be empty")]
    EmptySecret,
}

/// Checks tokens against one key.
#[derive(Clone)]
pub struct TokenVerifier {
    key: DecodingKey,
    validation: Validation,
}

impl std::fmt::Debug for TokenVerifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenVerifier")
            .field("algorithms", &self.validation.algorithms)
            .finish_non_exhaustive()
    }
}

impl TokenVerifier {
    /// HS256 with a shared `secret`.
    pub fn hs256(secret: &[u8]) -> Result<TokenVerifier, KeyError> {
        if secret.is_empty() {
            return Err(KeyError::EmptySecret);
        }
        let key = DecodingKey::from_secret(secret).map_err(|_| KeyError::EmptySecret)?;
        Ok(TokenVerifier::with(key, Algorithm::HS256))
    }

    /// The algorithm the PEM public key in `path` is for.
    pub fn public_key_file(path: &Path) -> Result<TokenVerifier, KeyError> {
        let pem = std::fs::read(path).map_err(|error| KeyError::Read {
            path: path.display().to_string(),
            error,
        })?;
        TokenVerifier::public_key_pem(&pem)
            .ok_or_else(|| KeyError::Unsupported(path.display().to_string()))
    }

    /// As [`public_key_file`](Self::public_key_file), from the PEM text.
    pub fn public_key_pem(pem: &[u8]) -> Option<TokenVerifier> {
        // `from_rsa_pem` also takes a private key: a server given one by
        // mistake must refuse to start, not hold a secret it does not need.
        let text = String::from_utf8_lossy(pem);
        if !text.contains("-----BEGIN PUBLIC KEY-----")
            && !text.contains("-----BEGIN RSA PUBLIC KEY-----")
        {
            return None;
        }
        if let Ok(key) = DecodingKey::from_ed_pem(pem) {
            return Some(TokenVerifier::with(key, Algorithm::EdDSA));
        }
        if let Ok(key) = DecodingKey::from_ec_pem(pem) {
            // An uncompressed point: 0x04, then x and y of the curve's size.
            let alg = match key.kind() {
                DecodingKeyKind::SecretOrDer(point) if point.len() == 65 => Algorithm::ES256,
                DecodingKeyKind::SecretOrDer(point) if point.len() == 97 => Algorithm::ES384,
                _ => return None,
            };
            return Some(TokenVerifier::with(key, alg));
        }
        if let Ok(key) = DecodingKey::from_rsa_pem(pem) {
            return Some(TokenVerifier::with(key, Algorithm::RS256));
        }
        None
    }

    fn with(key: DecodingKey, alg: Algorithm) -> TokenVerifier {
        let mut validation = Validation::new(alg);
        // `exp` is checked to the second, with no grace: a stream is ended
        // at that same instant (see `sse/expiry.rs`).
        validation.leeway = 0;
        validation.validate_aud = false;
        TokenVerifier { key, validation }
    }

    /// Also requires `aud` to be `audience`.
    pub fn audience(mut self, audience: &str) -> Self {
        self.validation.set_audience(&[audience]);
        self.validation.validate_aud = true;
        self.validation.required_spec_claims.insert("aud".into());
        self
    }

    /// Also requires `iss` to be `issuer`.
    pub fn issuer(mut self, issuer: &str) -> Self {
        self.validation.set_issuer(&[issuer]);
        self.validation.required_spec_claims.insert("iss".into());
        self
    }

    /// The algorithm tokens must be signed with.
    pub fn algorithm(&self) -> Algorithm {
        self.validation.algorithms[0]
    }

    /// Verifies `token`: signature, `alg`, `exp`, and `aud`/`iss` when set.
    pub fn verify(&self, token: &str) -> Result<VerifiedToken, TokenError> {
        let data =
            jsonwebtoken::decode::<Claims>(token, &self.key, &self.validation).map_err(|e| {
                match classify(e.kind()) {
                    // `jsonwebtoken` cannot read a header naming an algorithm
                    // it does not know (`none` above all): say what it is.
                    TokenError::Malformed if names_another_algorithm(token, self.algorithm()) => {
                        TokenError::WrongAlgorithm
                    }
                    other => other,
                }
            })?;
        let exp = data.claims.exp.ok_or(TokenError::MissingExp)?;
        Ok(VerifiedToken {
            grants: data.claims.pushwire,
            expires_at: UNIX_EPOCH + Duration::from_secs(exp),
        })
    }
}

/// Whether the token's header is JSON with an `alg` other than `ours`.
fn names_another_algorithm(token: &str, ours: Algorithm) -> bool {
    use base64::Engine;
    #[derive(Deserialize)]
    struct Header {
        alg: String,
    }
    let ours = serde_json::to_value(ours).unwrap_or_default();
    let Some(header) = token.split('.').next() else {
        return false;
    };
    base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(header)
        .ok()
        .and_then(|json| serde_json::from_slice::<Header>(&json).ok())
        .is_some_and(|h| ours.as_str() != Some(h.alg.as_str()))
}

fn classify(kind: &ErrorKind) -> TokenError {
    match kind {
        ErrorKind::ExpiredSignature => TokenError::Expired,
        ErrorKind::MissingRequiredClaim(claim) if claim == "exp" => TokenError::MissingExp,
        ErrorKind::MissingRequiredClaim(claim) if claim == "aud" => TokenError::WrongAudience,
        ErrorKind::MissingRequiredClaim(claim) if claim == "iss" => TokenError::WrongIssuer,
        ErrorKind::InvalidAlgorithm
        | ErrorKind::InvalidAlgorithmName
        | ErrorKind::UnsupportedAlgorithm
        | ErrorKind::MissingAlgorithm => TokenError::WrongAlgorithm,
        ErrorKind::InvalidSignature
        | ErrorKind::InvalidEcdsaKey
        | ErrorKind::InvalidEddsaKey
        | ErrorKind::InvalidRsaKey(_)
        | ErrorKind::InvalidKeyFormat => TokenError::BadSignature,
        ErrorKind::InvalidAudience => TokenError::WrongAudience,
        ErrorKind::InvalidIssuer => TokenError::WrongIssuer,
        _ => TokenError::Malformed,
    }
}
