//! Every name that travels on the wire between pushwire servers and
//! clients, in one place: control event names, reset reasons, headers,
//! query parameters and the topics the server keeps for itself.
//!
//! Server, client, tests and tools refer to these constants instead of
//! repeating the literals, so a rename is one edit and a typo is a compile
//! error.

use crate::event::{End, Expired, Reset, ResetReason, TypedEvent};

/// The event type the SSE specification gives an event without an
/// `event:` line; the encoder leaves it out.
pub use crate::encode::DEFAULT_EVENT;

/// Event names starting with this are the server's own control events
/// ([`RESET_EVENT`], [`END_EVENT`], [`EXPIRED_EVENT`]); publishers cannot use them, so nobody can
/// forge a reset or an end.
pub const RESERVED_EVENT_PREFIX: &str = "pushwire.";

/// `pushwire.reset`: a resume the server could not honour ([`Reset`]).
pub const RESET_EVENT: &str = <Reset as TypedEvent>::NAME;

/// `pushwire.end`: a finite stream is complete; do not reconnect ([`End`]).
pub const END_EVENT: &str = <End as TypedEvent>::NAME;

/// `pushwire.expired`: the stream's token expired; the server closes the
/// stream, and the client resumes with a fresh token ([`Expired`]).
pub const EXPIRED_EVENT: &str = <Expired as TypedEvent>::NAME;

/// The reason carried by [`End`] when a finite stream ran to its end.
pub const END_COMPLETE: &str = "complete";

/// The request header a publisher names a publish with, so that a retry
/// is answered with the first publish's id instead of storing it twice.
pub const IDEMPOTENCY_KEY_HEADER: &str = "Idempotency-Key";

/// The response header naming the node that answered.
pub const NODE_HEADER: &str = "X-Pushwire-Node";

/// The request header a reconnecting `EventSource` sends its last id in.
pub const LAST_EVENT_ID_HEADER: &str = "Last-Event-ID";

/// The query parameter that carries the last id where a header cannot be
/// set (a fresh `EventSource`). The header wins when both are present.
pub const LAST_EVENT_ID_PARAM: &str = "lastEventId";

/// The cookie a browser sends a subscriber's token in (an `EventSource`
/// cannot set `Authorization`).
pub const TOKEN_COOKIE: &str = "pushwire_token";

/// The query parameter carrying a single-use ticket from `POST
/// /api/tickets` (a token itself is never accepted in a URL: URLs end up
/// in logs).
pub const TICKET_PARAM: &str = "ticket";

/// The path where a token is traded for a single-use ticket (`POST`,
/// with the token as `Authorization: Bearer`).
pub const TICKETS_PATH: &str = "/api/tickets";

/// The query parameter naming a topic of `/sse/subscribe` (repeatable).
pub const TOPIC_PARAM: &str = "topic";

/// The topic the server's own monitoring sampler publishes on.
pub const MONITORING_TOPIC: &str = "monitoring";

/// Topics only the server publishes on; a publish request for one is
/// refused.
pub const RESERVED_TOPICS: &[&str] = &[MONITORING_TOPIC];

impl ResetReason {
    /// Every reason, in declaration order.
    pub const ALL: [ResetReason; 4] = [
        ResetReason::UnknownEpoch,
        ResetReason::Malformed,
        ResetReason::TooOld,
        ResetReason::Future,
    ];

    /// The reason as it travels in [`Reset::reason`] (`"too_old"`, …).
    ///
    /// ```
    /// use pushwire_protocol::ResetReason;
    /// assert_eq!(ResetReason::TooOld.as_str(), "too_old");
    /// assert_eq!(ResetReason::from_wire("too_old"), Some(ResetReason::TooOld));
    /// ```
    pub const fn as_str(self) -> &'static str {
        match self {
            ResetReason::UnknownEpoch => "unknown_epoch",
            ResetReason::Malformed => "malformed",
            ResetReason::TooOld => "too_old",
            ResetReason::Future => "future",
        }
    }

    /// The reason named `wire`, if it is one.
    pub fn from_wire(wire: &str) -> Option<ResetReason> {
        Self::ALL.into_iter().find(|r| r.as_str() == wire)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reason_names_agree_with_serde() {
        for reason in ResetReason::ALL {
            let json = serde_json::to_string(&reason).expect("serialises");
            assert_eq!(json, format!("\"{}\"", reason.as_str()));
            assert_eq!(ResetReason::from_wire(reason.as_str()), Some(reason));
        }
        assert_eq!(ResetReason::from_wire("TooOld"), None);
    }

    #[test]
    fn control_events_are_reserved() {
        assert!(RESET_EVENT.starts_with(RESERVED_EVENT_PREFIX));
        assert!(END_EVENT.starts_with(RESERVED_EVENT_PREFIX));
        assert!(EXPIRED_EVENT.starts_with(RESERVED_EVENT_PREFIX));
        assert_eq!(RESET_EVENT, "pushwire.reset");
        assert_eq!(END_EVENT, "pushwire.end");
        assert_eq!(EXPIRED_EVENT, "pushwire.expired");
    }
}
