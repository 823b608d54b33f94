//! The topic hub: publishers hand it events, it assigns ids, keeps each
//! topic's replay buffer and fans every event out to the topic's subscribers.
//!
//! Data flows one way: publisher → hub → per-subscriber queue → encoder's
//! bytes → socket. Each event is encoded once into [`Bytes`](bytes::Bytes)
//! under the hub lock; every subscriber's bounded queue receives a clone of
//! the same bytes, and replay keeps that same frame: an event is stored
//! once. A subscriber whose queue is full (by frames or bytes) is cut off:
//! its queue is released at once, its stream ends, and it resumes through
//! replay; memory never grows with a slow reader. Replay itself is bounded
//! in bytes across all topics, the oldest event of all evicted first.
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
//! | `state.rs` | what the hub lock guards: sequence, topics, subscriptions; topic lifetime |
//! | `retention.rs` | the replay byte budget across topics, oldest evicted first |
//! | `limits.rs` | limits, defaults and name rules |
//! | `error.rs` | [`HubError`] |
//! | `event_id.rs` | `<epoch>-<seq>` ids |
//! | `replay.rs` | the replay buffer of each topic, [`StoredEvent`] |
//! | `queue.rs` | the per-subscriber frame queue, bounded by frames and bytes |
//! | `delivery_first.rs` | a publish's answer waits for the subscribers it woke to write first |
//! | `subscription.rs` | [`Subscription`], the subscriber's stream, catching up in steps |

mod builder;
mod cache;
mod dedupe;
pub(crate) mod delivery_first;
mod error;
pub(crate) mod event_id;
mod limits;
mod queue;
mod replay;
mod retention;
mod state;
mod subscription;
mod tickets;

use std::collections::VecDeque;
use std::sync::{Arc, MutexGuard};

use pushwire_protocol::names::{RESERVED_EVENT_PREFIX, RESERVED_TOPICS};
use pushwire_protocol::{encode_typed, Frame, Reset, ResetReason, TypedEvent};
use serde::Serialize;
use serde_json::value::RawValue;

pub use builder::HubBuilder;
pub use dedupe::MAX_IDEMPOTENCY_KEY_LEN;
pub use error::HubError;
pub use limits::{
    is_valid_topic, DEFAULT_IDEMPOTENCY_MAX_KEYS, DEFAULT_IDEMPOTENCY_WINDOW_MS,
    DEFAULT_MAX_EVENT_BYTES, DEFAULT_MAX_TOPICS, DEFAULT_MAX_TOPICS_PER_SUBSCRIPTION,
    DEFAULT_POLL_MAX_BYTES, DEFAULT_REPLAY_CAPACITY, DEFAULT_REPLAY_MAX_BYTES,
    DEFAULT_SUBSCRIBER_QUEUE, DEFAULT_SUBSCRIBER_QUEUE_BYTES, MAX_EVENT_NAME_LEN, MAX_TOPIC_LEN,
};
pub use replay::{Payload, StoredEvent};
pub(crate) use subscription::Handover;
pub use subscription::Subscription;

use event_id::EventId;
use limits::HubLimits;
use queue::{frame_queue, TrySendError, Wakeups};
use replay::TooOld;
use state::{HubState, Shared};
use subscription::{CatchUp, Registration, Step};

use crate::backend::Publish;
use crate::stats::{HubFigures, Stats, StatsSnapshot};

/// Where a new subscription starts.
#[derive(Debug, Clone, Copy)]
enum Start<'a> {
    /// Now, with an id-only frame carrying the position.
    Fresh,
    /// After this seq (the client's raw id), replaying what it missed.
    After(u64, &'a str),
    /// With a reset, for this reason, against the client's raw id.
    Reset(ResetReason, &'a str),
}

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
                replay_bytes: st.retention.bytes(),
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

    /// Publishes an already-built payload after checking the names. The
    /// topic must not be one of the server's own
    /// ([`RESERVED_TOPICS`]).
    pub fn publish_payload(
        &self,
        topic: &str,
        event: &str,
        data: Payload,
    ) -> Result<Published, HubError> {
        check_topic(topic)?;
        if RESERVED_TOPICS.contains(&topic) {
            return Err(HubError::ReservedTopic(topic.to_owned()));
        }
        check_event_name(event)?;
        self.store_and_fan_out(topic, event, data, None)
    }

    /// Publishes on one of the server's reserved topics: for the server's
    /// own producers (the monitoring sampler), never for requests.
    pub(crate) fn publish_reserved(
        &self,
        topic: &str,
        event: &str,
        data: Payload,
    ) -> Result<Published, HubError> {
        self.store_and_fan_out(topic, event, data, None)
    }

    /// [`Hub::publish_payload`] with the publisher's idempotency key.
    pub(crate) fn publish_keyed(&self, publish: Publish<'_>) -> Result<Published, HubError> {
        let Publish {
            topic,
            event,
            data,
            idempotency_key,
            ..
        } = publish;
        check_topic(topic)?;
        if RESERVED_TOPICS.contains(&topic) {
            return Err(HubError::ReservedTopic(topic.to_owned()));
        }
        check_event_name(event)?;
        if let Some(key) = idempotency_key.filter(|k| !dedupe::is_valid_key(k)) {
            return Err(HubError::InvalidIdempotencyKey(key.to_owned()));
        }
        self.store_and_fan_out(topic, event, data, idempotency_key)
    }

    /// Assigns the event its id, encodes it once, queues it for every
    /// subscriber of the topic and keeps it for replay; or, for a key
    /// already used on the topic, answers the first publish's id.
    fn store_and_fan_out(
        &self,
        topic: &str,
        event: &str,
        data: Payload,
        idempotency_key: Option<&str>,
    ) -> Result<Published, HubError> {
        let limits = self.shared.limits;
        let now = std::time::Instant::now();
        let mut guard = self.lock();
        let st = &mut *guard;
        if let Some(seq) = idempotency_key.and_then(|key| st.dedupe.seen(topic, key, now)) {
            return Ok(Published {
                id: EventId {
                    epoch: self.shared.epoch,
                    seq,
                }
                .to_string(),
                delivered_to: 0,
            });
        }
        st.check_room(topic, &limits)?;
        let seq = st.seq + 1;
        let mut wakes = Wakeups::default();
        let published = self.deliver(
            st,
            seq,
            topic,
            event,
            &data,
            crate::clock::now_ms(),
            &mut wakes,
        );
        if let (Ok(_), Some(key)) = (&published, idempotency_key) {
            st.dedupe.remember(topic, key, seq, now);
        }
        drop(guard);
        wakes.wake_all();
        published
    }

    /// Event `seq`: encodes it once, queues it for every subscriber of the
    /// topic, keeps it for replay and makes `seq` the head; the
    /// subscribers' wake-ups are left in `wakes`, for after the lock.
    /// Nothing is changed when it fails (too large, or not encodable).
    #[allow(clippy::too_many_arguments)]
    fn deliver(
        &self,
        st: &mut HubState,
        seq: u64,
        topic: &str,
        event: &str,
        data: &Payload,
        published_at_ms: u64,
        wakes: &mut Wakeups,
    ) -> Result<Published, HubError> {
        let limits = self.shared.limits;
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
        if frame.len() > limits.max_event_bytes {
            return Err(HubError::EventTooLarge {
                bytes: frame.len(),
                max: limits.max_event_bytes,
            });
        }
        st.seq = seq;
        let key = st.enter(topic, &limits);

        let mut dropped = Vec::new();
        if let Some(t) = st.topics.get(&key) {
            for (&sub, queue) in &t.subscribers {
                match queue.try_send_deferred(frame.clone(), wakes) {
                    Ok(()) => {}
                    Err(TrySendError::Full) => {
                        self.shared.stats.count_cut_off();
                        tracing::debug!(
                            subscription = sub,
                            topic,
                            "subscriber fell behind: cut off"
                        );
                        dropped.push(sub);
                    }
                    Err(TrySendError::Closed) => dropped.push(sub),
                }
            }
        }
        let subscribers = st.topics.get(&key).map_or(0, |t| t.subscribers.len());
        let text = matches!(data, Payload::Text(_));
        let stored = StoredEvent::new(seq, frame, text, published_at_ms);
        let evicted = st.retain(&key, Arc::new(stored));
        for sub in &dropped {
            st.unregister(*sub);
        }
        self.shared.stats.count_published();
        self.shared.stats.count_evicted(evicted);
        Ok(Published {
            id,
            delivered_to: subscribers - dropped.len(),
        })
    }

    /// Subscribes to `topics`, resuming after `last_event_id` when given.
    /// The returned stream yields encoded SSE frames: first what was missed
    /// (or one `pushwire.reset` frame when the id cannot be honoured), then
    /// live frames, in id order across all the topics. A fresh subscription
    /// starts with an id-only frame carrying the current position.
    ///
    /// Subscribing to a topic nobody has published to is allowed and takes
    /// no slot of the topic limit. Duplicate topic names count once.
    pub fn subscribe<S: AsRef<str>>(
        &self,
        topics: &[S],
        last_event_id: Option<&str>,
    ) -> Result<Subscription, HubError> {
        let names = self.checked_topics(topics)?;
        let mut guard = self.lock();
        let st = &mut *guard;
        let start = match last_event_id.filter(|id| !id.is_empty()) {
            None => Start::Fresh,
            Some(raw) => match self.resume_position(st, raw) {
                Ok(seq) => Start::After(seq, raw),
                Err(reason) => Start::Reset(reason, raw),
            },
        };
        self.open(st, names, start)
    }

    /// The distinct topic names of a subscription, checked.
    fn checked_topics<S: AsRef<str>>(&self, topics: &[S]) -> Result<Vec<Arc<str>>, HubError> {
        let mut names: Vec<Arc<str>> = Vec::with_capacity(topics.len());
        for topic in topics {
            let topic = topic.as_ref();
            check_topic(topic)?;
            if !names.iter().any(|n| &**n == topic) {
                names.push(Arc::from(topic));
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
        Ok(names)
    }

    /// Opens a subscription to `names` from `start`, under the hub lock.
    fn open(
        &self,
        st: &mut HubState,
        names: Vec<Arc<str>>,
        start: Start<'_>,
    ) -> Result<Subscription, HubError> {
        let limits = self.shared.limits;
        let (sender, rx) = frame_queue(limits.subscriber_queue, limits.subscriber_queue_bytes);
        let id = st.next_subscription;
        st.next_subscription += 1;
        let mut catch_up = Box::new(CatchUp {
            topics: names,
            after: st.seq,
            sender,
        });
        let head_id = self.head_id(st);
        let step = match start {
            Start::Fresh => {
                // An id-only frame: no event is dispatched, but the client's
                // last event id becomes the current position, so a reconnect
                // before any event arrives still resumes without a gap.
                let frame = Frame::new().id(&head_id).encode()?;
                go_live(st, &limits, id, *catch_up);
                Step::Live(VecDeque::from([frame]))
            }
            Start::After(seq, raw) => {
                catch_up.after = seq;
                advance(&self.shared, st, id, catch_up, raw)?
            }
            Start::Reset(reason, raw) => {
                let reset = encode_typed(Some(&head_id), &Reset::new(reason, raw))?;
                go_live(st, &limits, id, *catch_up);
                Step::Live(VecDeque::from([reset]))
            }
        };
        Ok(Subscription::new(
            step,
            rx,
            Registration::new(Arc::downgrade(&self.shared), id),
        ))
    }

    /// Events of `topic` after `after`, at most `limit` and about
    /// `--poll-max-bytes` of them (always at least one); the polling
    /// counterpart of [`Hub::subscribe`]. Without `after`, the newest
    /// events. Polling never creates a topic.
    pub fn poll(
        &self,
        topic: &str,
        after: Option<&str>,
        limit: usize,
    ) -> Result<PollResult, HubError> {
        check_topic(topic)?;
        let limit = limit.max(1);
        let max_bytes = self.shared.limits.poll_max_bytes;
        let st = self.lock();
        let head_id = self.head_id(&st);
        let Some(raw) = after.filter(|a| !a.is_empty()) else {
            let mut events = Vec::new();
            let mut bytes = 0;
            if let Some(t) = st.topics.get(topic) {
                for e in t.replay.latest(limit).rev() {
                    if !events.is_empty() && bytes + e.frame.len() > max_bytes {
                        break;
                    }
                    bytes += e.frame.len();
                    events.push(e.clone());
                }
            }
            events.reverse();
            return Ok(PollResult {
                events,
                reset: None,
                last_id: head_id,
                more: false,
            });
        };
        let names = [Arc::<str>::from(topic)];
        let found = self.resume_position(&st, raw).and_then(|seq| {
            st.events_after(&names, seq, limit, max_bytes)
                .map_err(|_| ResetReason::TooOld)
        });
        let (events, more, reset) = match found {
            Ok((events, complete)) => (events, !complete, None),
            Err(reason) => (Vec::new(), false, Some(Reset::new(reason, raw))),
        };
        let last_id = match events.last() {
            Some(e) if more => e.id().to_owned(),
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
        let ids: Vec<u64> = st.subscriptions.keys().copied().collect();
        for id in ids {
            st.unregister(id);
        }
    }
}

/// The next step of a catching-up subscription, taken under the hub lock.
fn catch_up_step(shared: &Shared, id: u64, catch_up: Box<CatchUp>) -> Step {
    let mut st = shared.lock();
    let last_id = EventId {
        epoch: shared.epoch,
        seq: catch_up.after,
    }
    .to_string();
    advance(shared, &mut st, id, catch_up, &last_id).unwrap_or_else(|err| {
        // Only a client's malformed id fails to encode, and this one is ours.
        tracing::error!(%err, "could not encode a reset");
        Step::Live(VecDeque::new())
    })
}

/// Hands a subscription at `catch_up.after` its next frames: the events
/// after it (a step's worth), going live once none are left; or a reset,
/// against `last_id`, when some were evicted.
fn advance(
    shared: &Shared,
    st: &mut HubState,
    id: u64,
    mut catch_up: Box<CatchUp>,
    last_id: &str,
) -> Result<Step, HubError> {
    let limits = &shared.limits;
    let found = st.events_after(
        &catch_up.topics,
        catch_up.after,
        limits.subscriber_queue,
        limits.subscriber_queue_bytes,
    );
    match found {
        Ok((events, complete)) => {
            let frames: VecDeque<_> = events.iter().map(|e| e.frame.clone()).collect();
            if let Some(last) = events.last() {
                catch_up.after = last.seq;
            }
            // An empty step is the end too: a step that made no progress
            // must never be asked for again.
            if complete || events.is_empty() {
                go_live(st, limits, id, *catch_up);
                Ok(Step::Live(frames))
            } else {
                Ok(Step::More(frames, catch_up))
            }
        }
        Err(TooOld) => {
            let head_id = EventId {
                epoch: shared.epoch,
                seq: st.seq,
            }
            .to_string();
            let reset = Reset::new(ResetReason::TooOld, last_id);
            let frame = encode_typed(Some(&head_id), &reset)?;
            go_live(st, limits, id, *catch_up);
            Ok(Step::Live(VecDeque::from([frame])))
        }
    }
}

/// Registers subscription `id`'s queue with its topics (entering them),
/// unless the hub is closed: then its sender is dropped and its stream ends
/// after what it already has.
fn go_live(st: &mut HubState, limits: &HubLimits, id: u64, catch_up: CatchUp) {
    if st.closed {
        return;
    }
    let mut keys = Vec::with_capacity(catch_up.topics.len());
    for name in &catch_up.topics {
        let key = st.enter(name, limits);
        if let Some(t) = st.topics.get_mut(&key) {
            t.subscribers.insert(id, catch_up.sender.clone());
        }
        keys.push(key);
    }
    st.subscriptions.insert(id, keys);
}

#[cfg(test)]
mod tests {
    use std::pin::Pin;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::task::{Context, Poll, Wake, Waker};

    use futures_util::Stream;

    use super::*;

    /// Records, at each wake-up, whether the hub's lock was free.
    struct LockProbe {
        shared: Arc<Shared>,
        woken: AtomicUsize,
        woken_while_free: AtomicUsize,
    }

    impl Wake for LockProbe {
        fn wake(self: Arc<Self>) {
            self.wake_by_ref();
        }
        fn wake_by_ref(self: &Arc<Self>) {
            self.woken.fetch_add(1, Ordering::SeqCst);
            if self.shared.state.try_lock().is_ok() {
                self.woken_while_free.fetch_add(1, Ordering::SeqCst);
            }
        }
    }

    #[test]
    fn subscribers_are_woken_after_the_hub_lock_is_released() {
        let hub = Hub::new();
        let probe = Arc::new(LockProbe {
            shared: hub.shared.clone(),
            woken: AtomicUsize::new(0),
            woken_while_free: AtomicUsize::new(0),
        });
        let waker = Waker::from(probe.clone());
        let mut cx = Context::from_waker(&waker);
        let mut subs: Vec<Subscription> = (0..3)
            .map(|_| hub.subscribe(&["t"], None).unwrap())
            .collect();
        for sub in &mut subs {
            // The id-only frame with the current position, then nothing.
            assert!(matches!(
                Pin::new(&mut *sub).poll_next(&mut cx),
                Poll::Ready(Some(_))
            ));
            assert!(Pin::new(&mut *sub).poll_next(&mut cx).is_pending());
        }
        hub.publish_text("t", "e", "hello").unwrap();
        assert_eq!(
            probe.woken.load(Ordering::SeqCst),
            3,
            "every subscriber woken"
        );
        assert_eq!(
            probe.woken_while_free.load(Ordering::SeqCst),
            3,
            "no wake-up while the hub is locked"
        );
        for sub in &mut subs {
            let Poll::Ready(Some(frame)) = Pin::new(&mut *sub).poll_next(&mut cx) else {
                panic!("the event is queued");
            };
            assert!(frame.ends_with(b"event: e\ndata: hello\n\n"), "{frame:?}");
        }
    }
}
