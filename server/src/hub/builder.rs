//! `HubBuilder`: a [`Hub`] with limits other than the defaults.

use std::sync::{Arc, Mutex};

use super::event_id::Epoch;
use super::limits::HubLimits;
use super::replay::EVENT_OVERHEAD;
use super::state::{HubState, Shared};
use super::tickets::TicketBook;
use super::Hub;
use crate::stats::Stats;

impl Default for Hub {
    fn default() -> Self {
        Hub::builder().build()
    }
}

/// Builds a [`Hub`] with limits other than the defaults (which are the
/// `pushwire` binary's defaults).
#[derive(Debug, Clone, Default)]
#[must_use = "call .build() to get the hub"]
pub struct HubBuilder {
    limits: HubLimits,
}

impl HubBuilder {
    /// Events kept per topic for Last-Event-ID replay and polling (at
    /// least 1). Default [`DEFAULT_REPLAY_CAPACITY`](super::DEFAULT_REPLAY_CAPACITY).
    pub fn replay_capacity(mut self, events: usize) -> Self {
        self.limits.replay_capacity = events.max(1);
        self
    }

    /// Frames queued per subscriber before it is cut off as too slow (it
    /// then resumes through replay). Default [`DEFAULT_SUBSCRIBER_QUEUE`](super::DEFAULT_SUBSCRIBER_QUEUE).
    pub fn subscriber_queue(mut self, frames: usize) -> Self {
        self.limits.subscriber_queue = frames.max(1);
        self
    }

    /// Bytes of encoded events kept for replay across all topics; past it
    /// the oldest events of all are evicted (publishing never fails for
    /// it). Raised to fit one event of [`max_event_bytes`](Self::max_event_bytes).
    /// Default [`DEFAULT_REPLAY_MAX_BYTES`](super::DEFAULT_REPLAY_MAX_BYTES).
    pub fn replay_max_bytes(mut self, bytes: usize) -> Self {
        self.limits.replay_max_bytes = bytes;
        self
    }

    /// Largest event, measured on its encoded SSE frame; a larger one is
    /// refused with [`HubError::EventTooLarge`](super::HubError::EventTooLarge).
    /// Default [`DEFAULT_MAX_EVENT_BYTES`](super::DEFAULT_MAX_EVENT_BYTES).
    pub fn max_event_bytes(mut self, bytes: usize) -> Self {
        self.limits.max_event_bytes = bytes;
        self
    }

    /// Bytes of frames queued per subscriber before it is cut off as too
    /// slow (its queue is released at once; it resumes through replay).
    /// Raised to fit one event of [`max_event_bytes`](Self::max_event_bytes).
    /// Default [`DEFAULT_SUBSCRIBER_QUEUE_BYTES`](super::DEFAULT_SUBSCRIBER_QUEUE_BYTES).
    pub fn subscriber_queue_bytes(mut self, bytes: usize) -> Self {
        self.limits.subscriber_queue_bytes = bytes;
        self
    }

    /// Bytes of event frames one [`Hub::poll`] returns at most (it always
    /// returns one event when there is one). Default
    /// [`DEFAULT_POLL_MAX_BYTES`](super::DEFAULT_POLL_MAX_BYTES).
    pub fn poll_max_bytes(mut self, bytes: usize) -> Self {
        self.limits.poll_max_bytes = bytes;
        self
    }

    /// How long a publisher's idempotency key is remembered (a retry with
    /// it within that time is answered with the first publish's id).
    /// Default [`DEFAULT_IDEMPOTENCY_WINDOW_MS`](super::DEFAULT_IDEMPOTENCY_WINDOW_MS).
    pub fn idempotency_window(mut self, window: std::time::Duration) -> Self {
        self.limits.idempotency_window_ms = window.as_millis().min(u64::MAX as u128) as u64;
        self
    }

    /// Idempotency keys remembered at most; past it the oldest is
    /// forgotten early. Default [`DEFAULT_IDEMPOTENCY_MAX_KEYS`](super::DEFAULT_IDEMPOTENCY_MAX_KEYS).
    pub fn idempotency_max_keys(mut self, keys: usize) -> Self {
        self.limits.idempotency_max_keys = keys;
        self
    }

    /// Topics that may hold events at once; beyond it, publishing to another
    /// topic fails with [`HubError::TooManyTopics`](super::HubError::TooManyTopics).
    /// Topics that are only subscribed to take no slot. Default [`DEFAULT_MAX_TOPICS`](super::DEFAULT_MAX_TOPICS).
    pub fn max_topics(mut self, topics: usize) -> Self {
        self.limits.max_topics = topics;
        self
    }

    /// Topics one subscription may follow. Default
    /// [`DEFAULT_MAX_TOPICS_PER_SUBSCRIPTION`](super::DEFAULT_MAX_TOPICS_PER_SUBSCRIPTION).
    pub fn max_topics_per_subscription(mut self, topics: usize) -> Self {
        self.limits.max_topics_per_subscription = topics;
        self
    }

    /// Single-use tickets (`POST /api/tickets`) outstanding at once; more
    /// are refused until some are used or expire. Default
    /// [`DEFAULT_MAX_TICKETS`](crate::auth::DEFAULT_MAX_TICKETS).
    pub fn max_tickets(mut self, tickets: usize) -> Self {
        self.limits.max_tickets = tickets;
        self
    }

    /// The hub, with a fresh random epoch (ids of another hub or an
    /// earlier run are answered with a `pushwire.reset`).
    pub fn build(self) -> Hub {
        self.build_with_epoch(Epoch::random())
    }

    /// The hub, issuing ids of `epoch` (a distributed backend's stream).
    pub(crate) fn build_with_epoch(self, epoch: Epoch) -> Hub {
        let mut limits = self.limits;
        // One event of the largest size must fit in replay and in a queue.
        limits.replay_max_bytes = limits
            .replay_max_bytes
            .max(limits.max_event_bytes + EVENT_OVERHEAD);
        limits.subscriber_queue_bytes = limits.subscriber_queue_bytes.max(limits.max_event_bytes);
        Hub {
            shared: Arc::new(Shared {
                state: Mutex::new(HubState::new(&limits)),
                tickets: TicketBook::new(limits.max_tickets),
                epoch,
                limits,
                stats: Arc::new(Stats::default()),
            }),
        }
    }
}
