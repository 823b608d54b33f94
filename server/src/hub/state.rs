//! What every handle of one hub shares, and what the hub lock guards: the
//! global sequence, the topics (replay buffer and subscriber queues each)
//! and the live subscriptions.

use std::collections::hash_map::Entry;
use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};

use super::event_id::Epoch;
use super::limits::HubLimits;
use super::queue::QueueSender;
use super::replay::ReplayBuffer;
use super::HubError;
use crate::stats::Stats;

/// What every handle of one hub shares.
#[derive(Debug)]
pub(super) struct Shared {
    pub(super) state: Mutex<HubState>,
    pub(super) epoch: Epoch,
    pub(super) limits: HubLimits,
    pub(super) stats: Arc<Stats>,
}

impl Shared {
    pub(super) fn lock(&self) -> MutexGuard<'_, HubState> {
        // A panic while holding the lock leaves consistent data behind (every
        // mutation is a single push/insert), so poisoning is not fatal.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Removes subscription `id` from every topic (its stream ends once drained).
    pub(super) fn unregister(&self, id: u64) {
        self.lock().unregister(id);
    }
}

/// One topic: its replay buffer and the queues of its subscribers.
#[derive(Debug)]
pub(super) struct Topic {
    pub(super) replay: ReplayBuffer,
    pub(super) subscribers: HashMap<u64, QueueSender>,
}

/// Everything the hub lock guards.
#[derive(Debug, Default)]
pub(super) struct HubState {
    /// Seq of the newest published event (0: none yet).
    pub(super) seq: u64,
    pub(super) topics: HashMap<String, Topic>,
    /// Topics of each live subscription, to unregister it from all at once.
    pub(super) subscriptions: HashMap<u64, Vec<String>>,
    pub(super) next_subscription: u64,
    pub(super) closed: bool,
}

impl HubState {
    /// Removes subscription `id` from every topic (its stream ends once drained).
    pub(super) fn unregister(&mut self, id: u64) {
        if let Some(names) = self.subscriptions.remove(&id) {
            for name in names {
                if let Some(t) = self.topics.get_mut(&name) {
                    t.subscribers.remove(&id);
                }
            }
        }
    }
}

/// The topic `name`, created when missing unless that would exceed the
/// topic limit.
pub(super) fn topic_mut<'a>(
    topics: &'a mut HashMap<String, Topic>,
    name: &str,
    limits: &HubLimits,
) -> Result<&'a mut Topic, HubError> {
    let len = topics.len();
    match topics.entry(name.to_owned()) {
        Entry::Occupied(e) => Ok(e.into_mut()),
        Entry::Vacant(e) => {
            if len >= limits.max_topics {
                return Err(HubError::TooManyTopics(limits.max_topics));
            }
            Ok(e.insert(Topic {
                replay: ReplayBuffer::new(limits.replay_capacity),
                subscribers: HashMap::new(),
            }))
        }
    }
}
