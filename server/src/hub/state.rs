//! What every handle of one hub shares, and what the hub lock guards: the
//! global sequence, the topics (replay buffer and subscriber queues each),
//! the replay byte budget and the live subscriptions.
//!
//! A topic's lifetime: it enters the table when it is published to or
//! subscribed to, and leaves it as soon as it holds no event and has no
//! subscriber, so the table holds only what is in use. `--max-topics`
//! limits the topics *holding events*: an anonymous subscriber waiting on a
//! topic costs no slot (waiting subscribers are bounded by
//! `--max-connections`), and a publisher is refused (`507`) only when that
//! many topics really hold history.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};

use super::dedupe::Dedupe;
use super::event_id::Epoch;
use super::limits::HubLimits;
use super::queue::QueueSender;
use super::replay::{ReplayBuffer, StoredEvent, TooOld};
use super::retention::Retention;
use super::HubError;
use crate::stats::Stats;

/// What every handle of one hub shares.
#[derive(Debug)]
pub(super) struct Shared {
    pub(super) state: Mutex<HubState>,
    /// Single-use tickets, apart from the state's lock (auth, not events).
    pub(super) tickets: super::tickets::TicketBook,
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

impl Topic {
    fn unused(&self) -> bool {
        self.replay.is_empty() && self.subscribers.is_empty()
    }
}

/// Everything the hub lock guards.
#[derive(Debug)]
pub(super) struct HubState {
    /// Seq of the newest published event (0: none yet).
    pub(super) seq: u64,
    pub(super) topics: HashMap<Arc<str>, Topic>,
    pub(super) retention: Retention,
    pub(super) dedupe: Dedupe,
    /// Topics of each live subscription, to unregister it from all at once.
    pub(super) subscriptions: HashMap<u64, Vec<Arc<str>>>,
    pub(super) next_subscription: u64,
    pub(super) closed: bool,
}

impl HubState {
    pub(super) fn new(limits: &HubLimits) -> Self {
        HubState {
            seq: 0,
            topics: HashMap::new(),
            retention: Retention::new(limits.replay_max_bytes),
            dedupe: Dedupe::new(
                std::time::Duration::from_millis(limits.idempotency_window_ms),
                limits.idempotency_max_keys,
            ),
            subscriptions: HashMap::new(),
            next_subscription: 0,
            closed: false,
        }
    }

    /// The table's key for `name`, entering the topic when missing.
    pub(super) fn enter(&mut self, name: &str, limits: &HubLimits) -> Arc<str> {
        if let Some((key, _)) = self.topics.get_key_value(name) {
            return key.clone();
        }
        let key: Arc<str> = Arc::from(name);
        let topic = Topic {
            replay: ReplayBuffer::new(limits.replay_capacity, self.retention.reclaimed_up_to()),
            subscribers: HashMap::new(),
        };
        self.topics.insert(key.clone(), topic);
        key
    }

    /// Checks that `name` may receive an event: a topic that holds none yet
    /// needs a free slot of `--max-topics`.
    pub(super) fn check_room(&self, name: &str, limits: &HubLimits) -> Result<(), HubError> {
        let holds_events = self.topics.get(name).is_some_and(|t| !t.replay.is_empty());
        if !holds_events && self.retention.topics_holding_events() >= limits.max_topics {
            return Err(HubError::TooManyTopics(limits.max_topics));
        }
        Ok(())
    }

    /// Keeps `event` for replay on topic `key` (entered already), then
    /// evicts the oldest events of all until the byte budget holds.
    /// Returns how many events were evicted.
    pub(super) fn retain(&mut self, key: &Arc<str>, event: Arc<StoredEvent>) -> u64 {
        let mut evicted = 0;
        if let Some(topic) = self.topics.get_mut(key) {
            let before = topic.replay.oldest_seq();
            self.retention.add(event.cost());
            if let Some(old) = topic.replay.push(event) {
                self.retention.remove(old.cost());
                evicted += 1;
            }
            self.retention
                .reindex(key, before, topic.replay.oldest_seq());
        }
        while self.retention.over_budget() {
            let Some((seq, name)) = self.retention.oldest() else {
                break;
            };
            let Some(topic) = self.topics.get_mut(&name) else {
                debug_assert!(false, "an indexed topic is in the table");
                self.retention.reindex(&name, Some(seq), None);
                continue;
            };
            if let Some(old) = topic.replay.pop_oldest() {
                self.retention.remove(old.cost());
                evicted += 1;
            }
            self.retention
                .reindex(&name, Some(seq), topic.replay.oldest_seq());
            self.reclaim_if_unused(&name);
        }
        evicted
    }

    /// Drops topic `name` from the table when it holds no event and has no
    /// subscriber, remembering what it had lost.
    pub(super) fn reclaim_if_unused(&mut self, name: &str) {
        if self.topics.get(name).is_some_and(Topic::unused) {
            if let Some(topic) = self.topics.remove(name) {
                self.retention.reclaimed(topic.replay.evicted_up_to());
            }
        }
    }

    /// The events of `names` after `seq` in id order: at most `max_events`
    /// of them and about `max_bytes` of frames (always at least one event
    /// when there is one), and whether that was all of them; `TooOld` when
    /// some were evicted.
    pub(super) fn events_after(
        &self,
        names: &[Arc<str>],
        seq: u64,
        max_events: usize,
        max_bytes: usize,
    ) -> Result<(Vec<Arc<StoredEvent>>, bool), TooOld> {
        let mut found = Vec::new();
        let mut cut_short = false;
        for name in names {
            match self.topics.get(name) {
                Some(topic) => {
                    let (mut count, mut bytes) = (0, 0);
                    for event in topic.replay.after(seq)? {
                        if count >= max_events || bytes >= max_bytes {
                            cut_short = true;
                            break;
                        }
                        count += 1;
                        bytes += event.frame.len();
                        found.push(event.clone());
                    }
                }
                // Gone from the table: it lost nothing after `seq` only if
                // no reclaimed topic lost anything after it.
                None if seq < self.retention.reclaimed_up_to() => return Err(TooOld),
                None => {}
            }
        }
        // Merged in id order, then cut where the budget ends: every topic
        // was read at least that far, so the prefix has no gap.
        found.sort_unstable_by_key(|e| e.seq);
        let mut bytes = 0;
        let fit = found
            .iter()
            .enumerate()
            .position(|(i, e)| {
                let over = i >= max_events || (i > 0 && bytes + e.frame.len() > max_bytes);
                bytes += e.frame.len();
                over
            })
            .unwrap_or(found.len());
        let complete = !cut_short && fit == found.len();
        found.truncate(fit);
        Ok((found, complete))
    }

    /// Removes subscription `id` from every topic (its stream ends once
    /// drained), and drops the topics it leaves unused.
    pub(super) fn unregister(&mut self, id: u64) {
        if let Some(names) = self.subscriptions.remove(&id) {
            for name in names {
                if let Some(t) = self.topics.get_mut(&name) {
                    t.subscribers.remove(&id);
                }
                self.reclaim_if_unused(&name);
            }
        }
    }
}
