//! The hub's limits and the name rules it enforces, with their defaults.
//! The binary's flags (`crate::Config`) default to the same constants.

/// Longest topic name, in bytes.
pub const MAX_TOPIC_LEN: usize = 128;
/// Longest event name accepted for publishing, in bytes.
pub const MAX_EVENT_NAME_LEN: usize = 128;
/// Events kept per topic for Last-Event-ID replay.
pub const DEFAULT_REPLAY_CAPACITY: usize = 1024;
/// Frames queued per subscriber before it counts as too slow and is cut off.
pub const DEFAULT_SUBSCRIBER_QUEUE: usize = 256;
/// Largest event, measured on its encoded SSE frame: 1 MiB. A body of
/// newlines grows about 6× into `data:` lines, so the frame is what counts.
pub const DEFAULT_MAX_EVENT_BYTES: usize = 1024 * 1024;
/// Bytes of encoded events kept for replay, across all topics: 256 MiB.
/// Past it the oldest events are evicted; publishing never fails for it.
pub const DEFAULT_REPLAY_MAX_BYTES: usize = 256 * 1024 * 1024;
/// Bytes of frames queued for one subscriber before it is cut off (it
/// resumes through replay): 2 MiB, room for two of the largest events.
pub const DEFAULT_SUBSCRIBER_QUEUE_BYTES: usize = 2 * 1024 * 1024;
/// Bytes of event frames one poll response carries at most (it always
/// carries one event, however large): 1 MiB.
pub const DEFAULT_POLL_MAX_BYTES: usize = 1024 * 1024;
/// Topics holding events at once; beyond it, publishing to another answers `507`.
pub const DEFAULT_MAX_TOPICS: usize = 10_000;
/// Topics one subscription may follow.
pub const DEFAULT_MAX_TOPICS_PER_SUBSCRIPTION: usize = 32;

/// How long a publisher's `Idempotency-Key` is remembered: 2 minutes, as
/// JetStream's default duplicate window.
pub const DEFAULT_IDEMPOTENCY_WINDOW_MS: u64 = 120_000;
/// Idempotency keys remembered at most; past it the oldest is forgotten.
pub const DEFAULT_IDEMPOTENCY_MAX_KEYS: usize = 100_000;

/// Whether `name` is a valid topic name: `[A-Za-z0-9_.:-]{1,128}`.
pub fn is_valid_topic(name: &str) -> bool {
    (1..=MAX_TOPIC_LEN).contains(&name.len())
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b':' | b'-'))
}

/// The hub's limits.
#[derive(Debug, Clone, Copy)]
pub(crate) struct HubLimits {
    pub(crate) replay_capacity: usize,
    pub(crate) replay_max_bytes: usize,
    pub(crate) max_event_bytes: usize,
    pub(crate) subscriber_queue: usize,
    pub(crate) subscriber_queue_bytes: usize,
    pub(crate) max_topics: usize,
    pub(crate) poll_max_bytes: usize,
    pub(crate) idempotency_window_ms: u64,
    pub(crate) idempotency_max_keys: usize,
    pub(crate) max_topics_per_subscription: usize,
    pub(crate) max_tickets: usize,
}

impl Default for HubLimits {
    fn default() -> Self {
        HubLimits {
            replay_capacity: DEFAULT_REPLAY_CAPACITY,
            replay_max_bytes: DEFAULT_REPLAY_MAX_BYTES,
            max_event_bytes: DEFAULT_MAX_EVENT_BYTES,
            subscriber_queue: DEFAULT_SUBSCRIBER_QUEUE,
            subscriber_queue_bytes: DEFAULT_SUBSCRIBER_QUEUE_BYTES,
            max_topics: DEFAULT_MAX_TOPICS,
            poll_max_bytes: DEFAULT_POLL_MAX_BYTES,
            idempotency_window_ms: DEFAULT_IDEMPOTENCY_WINDOW_MS,
            idempotency_max_keys: DEFAULT_IDEMPOTENCY_MAX_KEYS,
            max_topics_per_subscription: DEFAULT_MAX_TOPICS_PER_SUBSCRIPTION,
            max_tickets: crate::auth::DEFAULT_MAX_TICKETS,
        }
    }
}
