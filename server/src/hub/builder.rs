//! `HubBuilder`: a [`Hub`] with limits other than the defaults.

use std::sync::{Arc, Mutex};

use super::event_id::Epoch;
use super::limits::HubLimits;
use super::state::{HubState, Shared};
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

    /// Topics that may exist at once; beyond it, publishing to a new topic
    /// fails with [`HubError::TooManyTopics`](super::HubError::TooManyTopics). Default [`DEFAULT_MAX_TOPICS`](super::DEFAULT_MAX_TOPICS).
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

    /// The hub, with a fresh random epoch (ids of another hub or an
    /// earlier run are answered with a `pushwire.reset`).
    pub fn build(self) -> Hub {
        Hub {
            shared: Arc::new(Shared {
                state: Mutex::new(HubState::default()),
                epoch: Epoch::random(),
                limits: self.limits,
                stats: Arc::new(Stats::default()),
            }),
        }
    }
}
