//! `POST /demo/token`: short-lived tokens for the demo page's private
//! panel, minted by the server itself for a made-up demo user.
//!
//! Only for demos: anyone who can reach the server gets a token, so it is
//! off unless `--demo-token-ttl-ms` is set, needs `--jwt-secret` (tokens
//! are HS256, signed with it) and refuses a non-loopback address. A real app
//! mints its users' tokens itself (README, "Authorisation").

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use jsonwebtoken::{encode, Algorithm, EncodingKey, Header};
use serde::Serialize;

use crate::auth::{Grants, Selectors};

/// Topics a demo token may subscribe to.
pub const DEMO_SUBSCRIBE: &str = "private.demo.*";
/// The `sub` of every demo token.
pub const DEMO_USER: &str = "demo-user";

/// Mints the demo user's tokens.
#[derive(Clone)]
pub(crate) struct DemoTokens {
    key: EncodingKey,
    ttl: Duration,
    grants: Grants,
}

impl std::fmt::Debug for DemoTokens {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DemoTokens")
            .field("ttl", &self.ttl)
            .finish_non_exhaustive()
    }
}

/// The answer of `POST /demo/token`.
#[derive(Debug, Serialize)]
pub(crate) struct DemoToken {
    /// The JWT.
    pub token: String,
    /// Milliseconds until it expires (its `exp` is in whole seconds).
    pub expires_in_ms: u64,
}

#[derive(Serialize)]
struct Claims<'a> {
    sub: &'a str,
    exp: u64,
    pushwire: &'a Grants,
}

impl DemoTokens {
    /// Tokens signed with `secret`, valid for `ttl`, granting subscribe on
    /// [`DEMO_SUBSCRIBE`] and publish on every topic (the demo page
    /// publishes from the browser); `None` for a secret jsonwebtoken
    /// refuses (an empty one, which `Config::validate` refuses first).
    pub(crate) fn new(secret: &str, ttl: Duration) -> Option<DemoTokens> {
        let selectors =
            |items: &[&str]| Selectors::parse(items.iter().copied()).unwrap_or_default();
        Some(DemoTokens {
            key: EncodingKey::from_secret(secret.as_bytes()).ok()?,
            ttl,
            grants: Grants {
                subscribe: selectors(&[DEMO_SUBSCRIBE]),
                publish: selectors(&["*"]),
            },
        })
    }

    /// A fresh token, or `None` if signing failed (it does not for HS256).
    pub(crate) fn mint(&self, now: SystemTime) -> Option<DemoToken> {
        let now_ms = now.duration_since(UNIX_EPOCH).ok()?.as_millis() as u64;
        let exp = (now_ms + self.ttl.as_millis() as u64) / 1000;
        let claims = Claims {
            sub: DEMO_USER,
            exp,
            pushwire: &self.grants,
        };
        let token = encode(&Header::new(Algorithm::HS256), &claims, &self.key).ok()?;
        Some(DemoToken {
            token,
            expires_in_ms: (exp * 1000).saturating_sub(now_ms),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auth::TokenVerifier;

    #[test]
    fn a_demo_token_verifies_with_the_secret_and_grants_the_demo_topics() {
        let tokens = DemoTokens::new("s3cret", Duration::from_secs(10)).unwrap();
        let now = SystemTime::now();
        let minted = tokens.mint(now).unwrap();
        assert!(minted.expires_in_ms <= 10_000 && minted.expires_in_ms > 9_000);
        let verifier = TokenVerifier::hs256(b"s3cret").unwrap();
        let verified = verifier.verify(&minted.token).unwrap();
        assert!(verified.grants.subscribe.matches("private.demo.inbox"));
        assert!(!verified.grants.subscribe.matches("private.other"));
        assert!(verified.grants.publish.matches("anything"));
        assert!(TokenVerifier::hs256(b"other")
            .unwrap()
            .verify(&minted.token)
            .is_err());
    }
}
