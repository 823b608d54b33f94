//! JWTs for the tests, signed with the `jsonwebtoken` crate: an HS256
//! secret shared with the servers under test, and claims builders.

use std::time::{SystemTime, UNIX_EPOCH};

use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::{json, Value};

/// The HS256 secret the tests' servers are started with.
pub const SECRET: &str = "test-secret-of-the-auth-tests";

/// Seconds since 1970, `from_now` ahead (negative: in the past).
pub fn at(from_now: i64) -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
        + from_now
}

/// Claims granting `subscribe` and `publish`, valid for an hour.
pub fn grants(subscribe: &[&str], publish: &[&str]) -> Value {
    json!({"exp": at(3600), "pushwire": {"subscribe": subscribe, "publish": publish}})
}

pub fn sign(alg: Algorithm, key: &EncodingKey, claims: &Value) -> String {
    jsonwebtoken::encode(&Header::new(alg), claims, key).unwrap()
}

/// An HS256 token with [`SECRET`].
pub fn hs(claims: &Value) -> String {
    sign(
        Algorithm::HS256,
        &EncodingKey::from_secret(SECRET.as_bytes()).unwrap(),
        claims,
    )
}

/// `Authorization` for `token`.
pub fn bearer(token: &str) -> String {
    format!("Bearer {token}")
}
