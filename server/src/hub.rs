//! The topic hub: publishers hand it events, it assigns ids, keeps each
//! topic's replay buffer and fans every event out to the topic's subscribers.
//!
//! Data flows one way: publisher → hub → per-subscriber queue → encoder's
//! bytes → socket. Each event is encoded once into [`Bytes`] under the hub
//! lock; every subscriber's bounded queue receives a clone of the same bytes.
//! A subscriber whose queue is full is cut off (its queue closes, its stream
//! ends after draining) and resumes through replay; memory never grows with a
//! slow reader.
//!
//! One lock guards the whole hub so that ids are assigned, buffered and
//! delivered in one global order: a subscription to several topics sees
//! events in id order, so one Last-Event-ID resumes all of them with no gap
//! and no duplicate. Subscribing takes the same lock to snapshot the replay
//! and register its queue atomically, so events published meanwhile are
//! neither missed nor doubled.

use std::collections::hash_map::Entry;
use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex, MutexGuard};

use pushwire_protocol::{encode_typed, EncodeError, Frame, Reset, ResetReason};

use crate::event_id::{Epoch, EventId};
use crate::queue::{frame_queue, QueueSender, TrySendError};
use crate::replay::{Payload, ReplayBuffer, StoredEvent};
use crate::stats::Stats;
use crate::subscription::{Registration, Subscription};

/// Longest topic name, in bytes.
pub const MAX_TOPIC_LEN: usize = 128;

/// Whether `name` is a valid topic name: `[A-Za-z0-9_.:-]{1,128}`.
pub fn is_valid_topic(name: &str) -> bool {
    (1..=MAX_TOPIC_LEN).contains(&name.len())
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b':' | b'-'))
}

/// The hub's limits, taken from the server [`crate::Config`].
#[derive(Debug, Clone, Copy)]
pub struct HubLimits {
    pub replay_capacity: usize,
    pub subscriber_queue: usize,
    pub max_topics: usize,
}

/// Why the hub refused a request.
#[derive(Debug, thiserror::Error)]
pub enum HubError {
    #[error("the server already holds its maximum of {0} topics")]
    TooManyTopics(usize),
    #[error("{0}")]
    Encode(#[from] EncodeError),
}

/// Where a published event ended up.
#[derive(Debug, Clone)]
pub struct Published {
    pub id: String,
    pub seq: u64,
    /// Subscribers the event was queued for.
    pub delivered_to: usize,
}

/// What a poll of a topic returns.
#[derive(Debug)]
pub struct PollResult {
    pub events: Vec<Arc<StoredEvent>>,
    pub reset: Option<Reset>,
    /// The id to send as `after` next time.
    pub last_id: String,
    /// More events are waiting after `last_id`.
    pub more: bool,
}

#[derive(Debug)]
struct Topic {
    replay: ReplayBuffer,
    subscribers: HashMap<u64, QueueSender>,
}

#[derive(Debug, Default)]
struct HubState {
    /// Seq of the newest published event (0: none yet).
    seq: u64,
    topics: HashMap<String, Topic>,
    /// Topics of each live subscription, to unregister it from all at once.
    subscriptions: HashMap<u64, Vec<String>>,
    next_subscription: u64,
    closed: bool,
}

/// The topic hub. Cheap to share behind an `Arc`.
#[derive(Debug)]
pub struct Hub {
    state: Mutex<HubState>,
    epoch: Epoch,
    limits: HubLimits,
    stats: Arc<Stats>,
}

impl Hub {
    /// An empty hub with a fresh random epoch.
    pub fn new(limits: HubLimits, stats: Arc<Stats>) -> Arc<Hub> {
        Arc::new(Hub {
            state: Mutex::new(HubState::default()),
            epoch: Epoch::random(),
            limits,
            stats,
        })
    }

    /// This server run's epoch.
    pub fn epoch(&self) -> Epoch {
        self.epoch
    }

    fn lock(&self) -> MutexGuard<'_, HubState> {
        // A panic while holding the lock leaves consistent data behind (every
        // mutation is a single push/insert), so poisoning is not fatal.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Number of topics and of live subscriptions.
    pub fn counts(&self) -> (usize, usize) {
        let st = self.lock();
        (st.topics.len(), st.subscriptions.len())
    }

    fn head_id(&self, st: &HubState) -> String {
        EventId {
            epoch: self.epoch,
            seq: st.seq,
        }
        .to_string()
    }

    /// The seq a client's last event id stands for, or why it cannot be
    /// resumed from: issued by another run, malformed, or ahead of the newest event.
    fn resume_position(&self, st: &HubState, raw: &str) -> Result<u64, ResetReason> {
        let seq = EventId::parse_for(raw, self.epoch)?;
        if seq > st.seq {
            return Err(ResetReason::Future);
        }
        Ok(seq)
    }

    fn topic_mut<'a>(
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

    /// Publishes `data` (JSON) as event `event` on `topic` (created on first
    /// use). The caller validates the topic name and event name.
    pub fn publish(&self, topic: &str, event: &str, data: Payload) -> Result<Published, HubError> {
        let mut guard = self.lock();
        let st = &mut *guard;
        let limits = self.limits;
        let t = Self::topic_mut(&mut st.topics, topic, &limits)?;
        let seq = st.seq + 1;
        let id = EventId {
            epoch: self.epoch,
            seq,
        }
        .to_string();
        let frame = Frame::new()
            .id(&id)
            .event(event)
            .data(data.as_str())
            .encode()?;
        st.seq = seq;

        let mut dropped = Vec::new();
        for (&sub, queue) in &t.subscribers {
            match queue.try_send(frame.clone()) {
                Ok(()) => {}
                Err(TrySendError::Full) => {
                    self.stats
                        .subscribers_cut_off
                        .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    tracing::debug!(subscription = sub, topic, "subscriber fell behind: cut off");
                    dropped.push(sub);
                }
                Err(TrySendError::Closed) => dropped.push(sub),
            }
        }
        let delivered_to = t.subscribers.len() - dropped.len();
        t.replay.push(Arc::new(StoredEvent {
            seq,
            id: id.clone(),
            event: event.to_owned(),
            data,
            frame,
            published_at_ms: crate::clock::now_ms(),
        }));
        for sub in dropped {
            Self::unregister(st, sub);
        }
        self.stats
            .events_published
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        Ok(Published {
            id,
            seq,
            delivered_to,
        })
    }

    /// Subscribes to `topics` (created on first use), resuming after
    /// `last_event_id` when given. The returned stream yields the replayed
    /// frames (or a `pushwire.reset` frame) first, then live frames.
    pub fn subscribe(
        self: &Arc<Self>,
        topics: &[String],
        last_event_id: Option<&str>,
    ) -> Result<Subscription, HubError> {
        let mut guard = self.lock();
        let st = &mut *guard;
        let new_topics = topics
            .iter()
            .filter(|t| !st.topics.contains_key(*t))
            .count();
        if st.topics.len() + new_topics > self.limits.max_topics {
            return Err(HubError::TooManyTopics(self.limits.max_topics));
        }
        let head_id = self.head_id(st);
        let mut prelude = VecDeque::new();
        match last_event_id.filter(|id| !id.is_empty()) {
            None => {
                // An id-only frame: no event is dispatched, but the client's
                // last event id becomes the current position, so a reconnect
                // before any event arrives still resumes without a gap.
                prelude.push_back(Frame::new().id(&head_id).encode()?);
            }
            Some(raw) => {
                let resumed = self.resume_position(st, raw).and_then(|seq| {
                    let mut replay = Vec::new();
                    for name in topics {
                        if let Some(t) = st.topics.get(name) {
                            let after = t.replay.after(seq).map_err(|_| ResetReason::TooOld)?;
                            replay.extend(after.cloned());
                        }
                    }
                    Ok(replay)
                });
                match resumed {
                    Ok(mut replay) => {
                        replay.sort_unstable_by_key(|e| e.seq);
                        prelude.extend(replay.into_iter().map(|e| e.frame.clone()));
                    }
                    Err(reason) => {
                        let reset = reset_for(reason, raw);
                        prelude.push_back(encode_typed(Some(&head_id), &reset)?);
                    }
                }
            }
        }

        let (tx, rx) = frame_queue(self.limits.subscriber_queue);
        let id = st.next_subscription;
        st.next_subscription += 1;
        let mut names: Vec<String> = Vec::with_capacity(topics.len());
        if !st.closed {
            for name in topics {
                if names.contains(name) {
                    continue;
                }
                let t = Self::topic_mut(&mut st.topics, name, &self.limits)?;
                t.subscribers.insert(id, tx.clone());
                names.push(name.clone());
            }
            st.subscriptions.insert(id, names);
        }
        drop(tx);
        Ok(Subscription::new(
            prelude,
            rx,
            Registration::new(Arc::downgrade(self), id),
        ))
    }

    /// Removes subscription `id` from every topic (its stream ends once drained).
    pub fn unsubscribe(&self, id: u64) {
        let mut st = self.lock();
        Self::unregister(&mut st, id);
    }

    fn unregister(st: &mut HubState, id: u64) {
        if let Some(names) = st.subscriptions.remove(&id) {
            for name in names {
                if let Some(t) = st.topics.get_mut(&name) {
                    t.subscribers.remove(&id);
                }
            }
        }
    }

    /// Events of `topic` after `after`, at most `limit`; the polling
    /// counterpart of [`Hub::subscribe`]. Without `after`, the newest `limit`
    /// events. Polling never creates a topic.
    pub fn poll(&self, topic: &str, after: Option<&str>, limit: usize) -> PollResult {
        let st = self.lock();
        let head_id = self.head_id(&st);
        let t = st.topics.get(topic);
        let resumed = after.filter(|a| !a.is_empty()).map(|raw| {
            self.resume_position(&st, raw)
                .and_then(|seq| match t {
                    Some(t) => t
                        .replay
                        .after(seq)
                        .map(|it| it.take(limit + 1).cloned().collect::<Vec<_>>())
                        .map_err(|_| ResetReason::TooOld),
                    None => Ok(Vec::new()),
                })
                .map_err(|reason| reset_for(reason, raw))
        });
        let (mut events, reset) = match resumed {
            None => (
                t.map(|t| t.replay.latest(limit).cloned().collect())
                    .unwrap_or_default(),
                None,
            ),
            Some(Ok(events)) => (events, None),
            Some(Err(reset)) => (Vec::new(), Some(reset)),
        };
        let more = events.len() > limit;
        events.truncate(limit);
        let last_id = match events.last() {
            Some(e) if more => e.id.clone(),
            _ => head_id,
        };
        PollResult {
            events,
            reset,
            last_id,
            more,
        }
    }

    /// Shutdown: closes every subscriber queue (their streams end once
    /// drained) and accepts no new live subscribers.
    pub fn close_all(&self) {
        let mut st = self.lock();
        st.closed = true;
        st.subscriptions.clear();
        for t in st.topics.values_mut() {
            t.subscribers.clear();
        }
    }
}

/// The reset event for a resume that cannot be honoured.
pub fn reset_for(reason: ResetReason, last_event_id: &str) -> Reset {
    let message = match reason {
        ResetReason::UnknownEpoch => {
            "the server restarted since this id was issued: events may have been missed".to_owned()
        }
        ResetReason::Malformed => "this is not an event id issued by this stream".to_owned(),
        ResetReason::TooOld => {
            "events after this id are no longer in the replay buffer: events were missed".to_owned()
        }
        ResetReason::Future => "this id is ahead of the newest event of this server".to_owned(),
    };
    Reset {
        reason,
        message,
        last_event_id: last_event_id.to_owned(),
    }
}
