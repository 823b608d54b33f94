//! Single-use tickets: `POST /api/tickets` turns a bearer token into a
//! short-lived random ticket for a URL (`?ticket=`), since a browser's
//! `EventSource` cannot send `Authorization`. The ticket carries its
//! token's grants and `exp`, never the token itself, and is kept by the
//! backend, so any node of a cluster takes it, once.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use rand::RngCore;
use serde::{Deserialize, Serialize};

use super::token::{Grants, VerifiedToken};

/// How long a ticket is accepted by default, in milliseconds.
pub const DEFAULT_TICKET_TTL_MS: u64 = 30_000;
/// Tickets outstanding at once on one node's in-memory store by default.
pub const DEFAULT_MAX_TICKETS: usize = 100_000;

/// Random bytes of a ticket (written as hex: 32 characters).
const TICKET_BYTES: usize = 16;

/// What the backend keeps under a ticket.
#[derive(Debug, Serialize, Deserialize)]
struct Stored {
    grants: Grants,
    /// The token's `exp`, in seconds since 1970.
    exp: u64,
    /// The ticket's own deadline, in milliseconds since 1970 (a backend
    /// may keep the value longer).
    until_ms: u64,
}

/// A new ticket: 128 random bits as lowercase hex.
pub(crate) fn new_ticket() -> String {
    let mut bytes = [0u8; TICKET_BYTES];
    rand::rng().fill_bytes(&mut bytes);
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Whether `ticket` has the form of one this server issues (checked before
/// the backend is asked).
pub(crate) fn is_well_formed(ticket: &str) -> bool {
    ticket.len() == 2 * TICKET_BYTES
        && ticket
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

fn since_epoch(t: SystemTime) -> Duration {
    t.duration_since(UNIX_EPOCH).unwrap_or_default()
}

/// What to store for `token`, a ticket valid for `ttl` from now.
pub(crate) fn encode(token: &VerifiedToken, ttl: Duration) -> Bytes {
    let stored = Stored {
        grants: token.grants.clone(),
        exp: since_epoch(token.expires_at).as_secs(),
        until_ms: since_epoch(SystemTime::now() + ttl).as_millis() as u64,
    };
    Bytes::from(serde_json::to_vec(&stored).unwrap_or_default())
}

/// The token a stored ticket stands for; `None` if the bytes are not one
/// or the ticket's deadline has passed.
pub(crate) fn decode(bytes: &[u8]) -> Option<VerifiedToken> {
    let stored: Stored = serde_json::from_slice(bytes).ok()?;
    if (since_epoch(SystemTime::now()).as_millis() as u64) >= stored.until_ms {
        return None;
    }
    Some(VerifiedToken {
        grants: stored.grants,
        expires_at: UNIX_EPOCH + Duration::from_secs(stored.exp),
    })
}

/// How long a ticket for `token` lives: `ttl`, but never past the token.
pub(crate) fn lifetime(token: &VerifiedToken, ttl: Duration) -> Duration {
    token
        .expires_at
        .duration_since(SystemTime::now())
        .unwrap_or_default()
        .min(ttl)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auth::Selectors;

    #[test]
    fn tickets_are_random_hex_and_round_trip_their_grants() {
        let (a, b) = (new_ticket(), new_ticket());
        assert_ne!(a, b);
        assert!(is_well_formed(&a));
        assert!(!is_well_formed(&a.to_uppercase()));
        assert!(!is_well_formed(&a[1..]));
        let token = VerifiedToken {
            grants: Grants {
                subscribe: Selectors::parse(["user.1.*"]).unwrap(),
                publish: Selectors::default(),
            },
            expires_at: UNIX_EPOCH + Duration::from_secs(2_000_000_000),
        };
        let ttl = Duration::from_secs(30);
        assert_eq!(decode(&encode(&token, ttl)), Some(token.clone()));
        assert_eq!(
            decode(&encode(&token, Duration::ZERO)),
            None,
            "past its deadline"
        );
        assert_eq!(decode(b"{}"), None);
    }
}
