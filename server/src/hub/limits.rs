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
/// Topics that may exist at once.
pub const DEFAULT_MAX_TOPICS: usize = 10_000;
/// Topics one subscription may follow.
pub const DEFAULT_MAX_TOPICS_PER_SUBSCRIPTION: usize = 32;

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
    pub(crate) subscriber_queue: usize,
    pub(crate) max_topics: usize,
    pub(crate) max_topics_per_subscription: usize,
}

impl Default for HubLimits {
    fn default() -> Self {
        HubLimits {
            replay_capacity: DEFAULT_REPLAY_CAPACITY,
            subscriber_queue: DEFAULT_SUBSCRIBER_QUEUE,
            max_topics: DEFAULT_MAX_TOPICS,
            max_topics_per_subscription: DEFAULT_MAX_TOPICS_PER_SUBSCRIPTION,
        }
    }
}
