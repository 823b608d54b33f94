//! The topic hub: publishers hand it events, it assigns ids, keeps each
//! topic's replay buffer and fans every event out to the topic's subscribers.
//!
//! Data flows one way: publisher → hub → per-subscriber queue → encoder's
//! bytes → socket. Each event is encoded once into [`Bytes`](bytes::Bytes)
//! under the hub lock; every subscriber's bounded queue receives a clone of
//! the same bytes. A subscriber whose queue is full is cut off (its queue
//! closes, its stream ends after draining) and resumes through replay;
//! memory never grows with a slow reader.
//!
//! One lock guards the whole hub so that ids are assigned, buffered and
//! delivered in one global order: a subscription to several topics sees
//! events in id order, so one Last-Event-ID resumes all of them with no gap
//! and no duplicate. Subscribing takes the same lock to snapshot the replay
//! and register its queue atomically, so events published meanwhile are
//! neither missed nor doubled.
//!
//! | file | what it holds |
//! |---|---|
//! | `mod.rs` | [`Hub`] and the publish / subscribe / poll paths |
//! | `builder.rs` | [`HubBuilder`] |
//! | `state.rs` | what the hub lock guards: sequence, topics, subscriptions |
//! | `limits.rs` | limits, defaults and name rules |
//! | `error.rs` | [`HubError`] |
//! | `event_id.rs` | `<epoch>-<seq>` ids |
//! | `replay.rs` | the replay buffer of each topic, [`StoredEvent`] |
//! | `queue.rs` | the bounded per-subscriber frame queue |
//! | `subscription.rs` | [`Subscription`], the subscriber's stream |

mod builder;
mod error;
mod event_id;
mod limits;
mod queue;
mod replay;
mod state;
mod subscription;

use std::collections::VecDeque;
use std::sync::{Arc, MutexGuard};

use pushwire_protocol::names::RESERVED_EVENT_PREFIX;
use pushwire_protocol::{encode_typed, Frame, Reset, ResetReason, TypedEvent};
use serde::Serialize;
use serde_json::value::RawValue;

pub use builder::HubBuilder;
pub use error::HubError;
pub use limits::{
    is_valid_topic, DEFAULT_MAX_TOPICS, DEFAULT_MAX_TOPICS_PER_SUBSCRIPTION,
    DEFAULT_REPLAY_CAPACITY, DEFAULT_SUBSCRIBER_QUEUE, MAX_EVENT_NAME_LEN, MAX_TOPIC_LEN,
};
pub use replay::{Payload, StoredEvent};
pub use subscription::Subscription;

use event_id::EventId;
use queue::{frame_queue, TrySendError};
use state::{HubState, Shared};
use subscription::Registration;

use crate::stats::{HubFigures, Stats, StatsSnapshot};

/// Where a published event ended up.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Published {
    /// The event's id, as subscribers receive it. Opaque to clients.
    pub id: String,
    /// Subscribers the event was queued for.
    pub delivered_to: usize,
}

/// What a poll of a topic returns: the polling counterpart of a
/// subscription.
#[derive(Debug)]
#[non_exhaustive]
pub struct PollResult {
    /// The events, oldest first.
    pub events: Vec<Arc<StoredEvent>>,
    /// Set when `after` could not be honoured: events may have been missed.
    pub reset: Option<Reset>,
    /// The id to send as `after` next time.
    pub last_id: String,
    /// More events are waiting after `last_id`.
    pub more: bool,
}

/// The topic hub: publish events to topics, subscribe to topics with
/// Last-Event-ID resume, poll them. A cheap [`Clone`] handle: every clone
/// is the same hub.
///
/// ```
/// use futures_util::StreamExt;
/// use pushwire_protocol::{Item, Parser};
/// use pushwire_server::Hub;
///
/// # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), pushwire_server::HubError> {
/// let hub = Hub::builder().replay_capacity(100).build();
/// let mut subscription = hub.subscribe(&["chat"], None)?;
/// let published = hub.publish("chat", "message", &serde_json::json!({"text": "hi"}))?;
///
/// let mut parser = Parser::new();
/// let mut events = Vec::new();
/// while events.is_empty() {
///     let frame = subscription.next().await.expect("open");
///     events.extend(parser.feed(&frame).into_iter().filter_map(|item| match item {
///         Item::Event(event) => Some(event),
///         _ => None,
///     }));
/// }
/// assert_eq!(events[0].id, published.id);
/// assert_eq!(events[0].data, r#"{"text":"hi"}"#);
/// # Ok(()) }
/// ```
#[derive(Debug, Clone)]
#[must_use = "a hub does nothing until events are published to it"]
pub struct Hub {
    shared: Arc<Shared>,
}

/// Checks an event name a publisher chose.
fn check_event_name(event: &str) -> Result<(), HubError> {
    if event.is_empty() || event.len() > MAX_EVENT_NAME_LEN || event.contains(['\r', '\n']) {
        return Err(HubError::InvalidEventName);
    }
    if event.starts_with(RESERVED_EVENT_PREFIX) {
        return Err(HubError::ReservedEventName);
    }
    Ok(())
}

fn check_topic(topic: &str) -> Result<(), HubError> {
    if is_valid_topic(topic) {
        Ok(())
    } else {
        Err(HubError::InvalidTopic(topic.to_owned()))
    }
}

impl Hub {
    /// A builder for a hub with other limits than the defaults.
    pub fn builder() -> HubBuilder {
        HubBuilder::default()
    }

    /// A hub with the default limits.
    pub fn new() -> Hub {
        Hub::default()
    }

    /// The counters shared with the server around this hub.
    pub(crate) fn counters(&self) -> &Arc<Stats> {
        &self.shared.stats
    }

    fn lock(&self) -> MutexGuard<'_, HubState> {
        self.shared.lock()
    }

    /// A snapshot of the counters: topics, subscribers, events published,
    /// frames written… (plain values, read at one moment).
    pub fn stats(&self) -> StatsSnapshot {
        let figures = {
            let st = self.lock();
            HubFigures {
                topics: st.topics.len(),
                subscribers: st.subscriptions.len(),
                replay_bytes: 0,
            }
        };
        self.shared
            .stats
            .snapshot(figures, &self.shared.epoch.to_string())
    }

    fn head_id(&self, st: &HubState) -> String {
        EventId {
            epoch: self.shared.epoch,
            seq: st.seq,
        }
        .to_string()
    }

    /// The seq a client's last event id stands for, or why it cannot be
    /// resumed from: issued by another run, malformed, or ahead of the newest event.
    fn resume_position(&self, st: &HubState, raw: &str) -> Result<u64, ResetReason> {
        let seq = EventId::parse_for(raw, self.shared.epoch)?;
        if seq > st.seq {
            return Err(ResetReason::Future);
        }
        Ok(seq)
    }

    /// Publishes `data`, serialised as JSON, as event `event` on `topic`
    /// (created on first use). Returns the event's id.
    ///
    /// The topic must match `[A-Za-z0-9_.:-]{1,128}`; the event name must
    /// be 1 to 128 bytes without CR or LF and must not start with
    /// `pushwire.` (the server's control events).
    pub fn publish<T: Serialize + ?Sized>(
        &self,
        topic: &str,
        event: &str,
        data: &T,
    ) -> Result<Published, HubError> {
        let json = serde_json::value::to_raw_value(data)
            .map_err(|e| HubError::InvalidJson(e.to_string()))?;
        self.publish_payload(topic, event, Payload::Json(json))
    }

    /// Publishes a [`TypedEvent`] under its own event name.
    ///
    /// ```
    /// # fn main() -> Result<(), pushwire_server::HubError> {
    /// let hub = pushwire_server::Hub::new();
    /// let sample = pushwire_protocol::DemoData { timestamp: 1, value: 10, status: "active".into() };
    /// let published = hub.publish_typed("demo", &sample)?;
    /// assert!(!published.id.is_empty());
    /// # Ok(()) }
    /// ```
    pub fn publish_typed<T: TypedEvent>(
        &self,
        topic: &str,
        value: &T,
    ) -> Result<Published, HubError> {
        self.publish(topic, T::NAME, value)
    }

    /// Publishes JSON text exactly as given (checked to be valid JSON).
    pub fn publish_json(
        &self,
        topic: &str,
        event: &str,
        json: &str,
    ) -> Result<Published, HubError> {
        let json = RawValue::from_string(json.to_owned())
            .map_err(|e| HubError::InvalidJson(e.to_string()))?;
        self.publish_payload(topic, event, Payload::Json(json))
    }

    /// Publishes plain text as the event's data, as-is (clients that expect
    /// JSON report a parse error for it).
    pub fn publish_text(
        &self,
        topic: &str,
        event: &str,
        text: impl Into<String>,
    ) -> Result<Published, HubError> {
        self.publish_payload(topic, event, Payload::Text(text.into()))
    }

    /// Publishes an already-built payload after checking the names.
    pub fn publish_payload(
        &self,
        topic: &str,
        event: &str,
        data: Payload,
    ) -> Result<Published, HubError> {
        check_topic(topic)?;
        check_event_name(event)?;
        let mut guard = self.lock();
        let st = &mut *guard;
        let limits = self.shared.limits;
        let t = state::topic_mut(&mut st.topics, topic, &limits)?;
        let seq = st.seq + 1;
        let id = EventId {
            epoch: self.shared.epoch,
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
                    self.shared.stats.count_cut_off();
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
            st.unregister(sub);
        }
        self.shared.stats.count_published();
        Ok(Published { id, delivered_to })
    }

    /// Subscribes to `topics` (each created on first use), resuming after
    /// `last_event_id` when given. The returned stream yields encoded SSE
    /// frames: first the replay of what was missed (or one
    /// `pushwire.reset` frame when the id cannot be honoured), then live
    /// frames, in id order across all the topics. A fresh subscription
    /// starts with an id-only frame carrying the current position.
    ///
    /// Duplicate topic names count once.
    pub fn subscribe<S: AsRef<str>>(
        &self,
        topics: &[S],
        last_event_id: Option<&str>,
    ) -> Result<Subscription, HubError> {
        let mut names: Vec<String> = Vec::with_capacity(topics.len());
        for topic in topics {
            let topic = topic.as_ref();
            check_topic(topic)?;
            if !names.iter().any(|n| n == topic) {
                names.push(topic.to_owned());
            }
        }
        if names.is_empty() {
            return Err(HubError::NoTopics);
        }
        let max = self.shared.limits.max_topics_per_subscription;
        if names.len() > max {
            return Err(HubError::TooManyTopicsPerSubscription {
                given: names.len(),
                max,
            });
        }
        let mut guard = self.lock();
        let st = &mut *guard;
        let limits = self.shared.limits;
        let new_topics = names.iter().filter(|t| !st.topics.contains_key(*t)).count();
        if st.topics.len() + new_topics > limits.max_topics {
            return Err(HubError::TooManyTopics(limits.max_topics));
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
                    for name in &names {
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
                        let reset = Reset::new(reason, raw);
                        prelude.push_back(encode_typed(Some(&head_id), &reset)?);
                    }
                }
            }
        }

        let (tx, rx) = frame_queue(limits.subscriber_queue);
        let id = st.next_subscription;
        st.next_subscription += 1;
        if !st.closed {
            for name in &names {
                let t = state::topic_mut(&mut st.topics, name, &limits)?;
                t.subscribers.insert(id, tx.clone());
            }
            st.subscriptions.insert(id, names);
        }
        drop(tx);
        Ok(Subscription::new(
            prelude,
            rx,
            Registration::new(Arc::downgrade(&self.shared), id),
        ))
    }

    /// Events of `topic` after `after`, at most `limit`; the polling
    /// counterpart of [`Hub::subscribe`]. Without `after`, the newest
    /// `limit` events. Polling never creates a topic.
    pub fn poll(
        &self,
        topic: &str,
        after: Option<&str>,
        limit: usize,
    ) -> Result<PollResult, HubError> {
        check_topic(topic)?;
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
                .map_err(|reason| Reset::new(reason, raw))
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
        Ok(PollResult {
            events,
            reset,
            last_id,
            more,
        })
    }

    /// Shutdown: closes every subscriber queue (their streams end once
    /// drained) and accepts no new live subscribers.
    pub fn close(&self) {
        let mut st = self.lock();
        st.closed = true;
        st.subscriptions.clear();
        for t in st.topics.values_mut() {
            t.subscribers.clear();
        }
    }
}
