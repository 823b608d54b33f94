//! `HubError`: why the hub refused a publish, a subscription or a poll.
//! The web layer maps each variant onto a status code; library users match
//! on it.

use pushwire_protocol::names::RESERVED_EVENT_PREFIX;
use pushwire_protocol::EncodeError;

use super::dedupe::MAX_IDEMPOTENCY_KEY_LEN;
use super::limits::{MAX_EVENT_NAME_LEN, MAX_TOPIC_LEN};

/// Why the hub refused a request.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum HubError {
    /// The topic name is not `[A-Za-z0-9_.:-]{1,128}`.
    #[error("invalid topic {0:?}: use 1 to {MAX_TOPIC_LEN} characters from A-Z a-z 0-9 _ . : -")]
    InvalidTopic(String),
    /// The event name is empty, too long or contains CR or LF.
    #[error("invalid event name: it must be 1 to {MAX_EVENT_NAME_LEN} bytes with no CR or LF")]
    InvalidEventName,
    /// The event name starts with the server's reserved prefix.
    #[error("event names starting with {RESERVED_EVENT_PREFIX:?} are reserved for the server")]
    ReservedEventName,
    /// A subscription named no topic.
    #[error("give at least one topic: /sse/subscribe?topic=name")]
    NoTopics,
    /// A subscription named more topics than allowed.
    #[error("too many topics: {given} given, at most {max} per subscription")]
    TooManyTopicsPerSubscription {
        /// Distinct topics asked for.
        given: usize,
        /// The limit.
        max: usize,
    },
    /// One more topic holding events would exceed the hub's topic limit.
    #[error("the server already holds events in its maximum of {0} topics")]
    TooManyTopics(usize),
    /// The topic belongs to the server (its own producers publish there).
    #[error("topic {0:?} is reserved for the server: nobody may publish to it")]
    ReservedTopic(String),
    /// The encoded event is larger than the hub's limit.
    #[error("the event is {bytes} bytes encoded, over the limit of {max} bytes")]
    EventTooLarge {
        /// Size of the encoded SSE frame.
        bytes: usize,
        /// The limit.
        max: usize,
    },
    /// The `Idempotency-Key` is empty, too long or not visible ASCII.
    #[error("invalid Idempotency-Key {0:?}: use 1 to {MAX_IDEMPOTENCY_KEY_LEN} visible ASCII characters")]
    InvalidIdempotencyKey(String),
    /// The backend cannot store or serve events right now; retry later
    /// (with the same `Idempotency-Key`, since the outcome of a publish
    /// that timed out is unknown).
    #[error("{0}")]
    Unavailable(String),
    /// The data to publish is not valid JSON or could not be serialised.
    #[error("invalid JSON data: {0}")]
    InvalidJson(String),
    /// The event could not be encoded as an SSE frame.
    #[error("{0}")]
    Encode(#[from] EncodeError),
}
