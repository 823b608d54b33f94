//! The hub as the node-local cache of a distributed backend: events come
//! from the backend's stream with their sequence already assigned
//! ([`Hub::ingest`]), and the hub fans them out and keeps the recent ones,
//! as it does for its own publishes. What it no longer (or never) held is
//! the backend's to fetch: [`Hub::subscribe_cached`] opens a subscription
//! only when the cache covers it, and [`Hub::cache_floor`] says from where
//! it does.

use std::sync::Arc;

use pushwire_protocol::names::RESERVED_TOPICS;
use pushwire_protocol::{Frame, Reset, ResetReason};

use super::event_id::EventId;
use super::queue::Wakeups;
use super::replay::{Payload, StoredEvent};
use super::state::HubState;
use super::{HubError, PollResult, Start, Subscription};
use crate::hub::Hub;

impl Hub {
    /// Starts the cache at `seq`, the stream's newest event when the node
    /// connects: nothing before it is held here.
    pub(crate) fn start_at(&self, seq: u64) {
        let mut st = self.lock();
        st.seq = st.seq.max(seq);
        st.mark_lost_up_to(seq);
    }

    /// The newest seq the cache has.
    pub(crate) fn head_seq(&self) -> u64 {
        self.lock().seq
    }

    /// Takes in event `seq` of the backend's stream. A seq that skips
    /// ahead means events were removed from the stream before this node
    /// saw them: the cache then counts them as lost (a resume from before
    /// them goes to the backend, which knows whether they are gone).
    pub(crate) fn ingest(
        &self,
        seq: u64,
        topic: &str,
        event: &str,
        data: &Payload,
        published_at_ms: u64,
    ) -> Result<(), HubError> {
        let mut guard = self.lock();
        let st = &mut *guard;
        if seq <= st.seq {
            return Ok(()); // already taken in
        }
        if seq > st.seq + 1 {
            st.mark_lost_up_to(seq - 1);
        }
        let mut wakes = Wakeups::default();
        let delivered = match self.deliver(st, seq, topic, event, data, published_at_ms, &mut wakes)
        {
            Ok(_) => Ok(()),
            Err(err) => {
                // Not deliverable here (too large for this node's limits):
                // skipped, and counted as lost for resumes.
                st.seq = seq;
                st.mark_lost_up_to(seq);
                Err(err)
            }
        };
        drop(guard);
        wakes.wake_all();
        delivered
    }

    /// Skips event `seq` (not one of ours).
    pub(crate) fn skip(&self, seq: u64) {
        let mut st = self.lock();
        if seq > st.seq {
            if seq > st.seq + 1 {
                st.mark_lost_up_to(seq - 1);
            }
            st.seq = seq;
        }
    }

    /// Parses a client's id: its seq, or why it is not one of this
    /// stream's (the cache does not judge "too old" or "in the future").
    pub(crate) fn parse_id(&self, raw: &str) -> Result<u64, ResetReason> {
        EventId::parse_for(raw, self.shared.epoch)
    }

    /// The highest seq up to which the cache may miss events of `topics`:
    /// everything after it is here.
    pub(crate) fn cache_floor(&self, topics: &[String]) -> u64 {
        let st = self.lock();
        topics.iter().map(|t| st.lost_up_to(t)).max().unwrap_or(0)
    }

    /// A subscription to `topics` after `seq` (the client's `raw` id), if
    /// the cache holds everything after it; `None` when the backend must
    /// supply the older part first.
    pub(crate) fn subscribe_cached(
        &self,
        topics: &[String],
        seq: u64,
        raw: &str,
    ) -> Result<Option<Subscription>, HubError> {
        let names = self.checked_topics(topics)?;
        let mut guard = self.lock();
        let st = &mut *guard;
        let covered = seq <= st.seq && names.iter().all(|t| seq >= st.lost_up_to(t));
        if !covered {
            return Ok(None);
        }
        self.open(st, names, Start::After(seq, raw)).map(Some)
    }

    /// A subscription to `topics` that starts with a reset against the
    /// client's `raw` id, then goes live.
    pub(crate) fn subscribe_reset(
        &self,
        topics: &[String],
        reason: ResetReason,
        raw: &str,
    ) -> Result<Subscription, HubError> {
        let names = self.checked_topics(topics)?;
        let mut guard = self.lock();
        self.open(&mut guard, names, Start::Reset(reason, raw))
    }
}

impl Hub {
    /// The id of event `seq`.
    pub(crate) fn id_of(&self, seq: u64) -> String {
        EventId {
            epoch: self.shared.epoch,
            seq,
        }
        .to_string()
    }

    /// Checks a publish before it is sent to the backend, with the same
    /// rules as [`Hub::publish_keyed`]: names, reserved topics (unless
    /// `reserved_ok`), the idempotency key, and the event's size once
    /// encoded with the longest id it could get.
    pub(crate) fn check_publish(
        &self,
        topic: &str,
        event: &str,
        data: &Payload,
        idempotency_key: Option<&str>,
        reserved_ok: bool,
    ) -> Result<(), HubError> {
        super::check_topic(topic)?;
        if !reserved_ok && RESERVED_TOPICS.contains(&topic) {
            return Err(HubError::ReservedTopic(topic.to_owned()));
        }
        super::check_event_name(event)?;
        if let Some(key) = idempotency_key.filter(|k| !super::dedupe::is_valid_key(k)) {
            return Err(HubError::InvalidIdempotencyKey(key.to_owned()));
        }
        self.encode_event(u64::MAX, event, data, 0).map(|_| ())
    }

    /// Event `seq` as the hub stores it (for events the backend fetched
    /// from its stream rather than from this cache).
    pub(crate) fn encode_event(
        &self,
        seq: u64,
        event: &str,
        data: &Payload,
        published_at_ms: u64,
    ) -> Result<Arc<StoredEvent>, HubError> {
        let frame = Frame::new()
            .id(&self.id_of(seq))
            .event(event)
            .data(data.as_str())
            .encode()?;
        let max = self.shared.limits.max_event_bytes;
        if frame.len() > max {
            return Err(HubError::EventTooLarge {
                bytes: frame.len(),
                max,
            });
        }
        let text = matches!(data, Payload::Text(_));
        Ok(Arc::new(StoredEvent::new(
            seq,
            frame,
            text,
            published_at_ms,
        )))
    }
}

impl Hub {
    /// A poll answered with a reset against the client's `raw` id.
    pub(crate) fn poll_reset(&self, reason: ResetReason, raw: &str) -> PollResult {
        PollResult {
            events: Vec::new(),
            reset: Some(Reset::new(reason, raw)),
            last_id: self.id_of(self.head_seq()),
            more: false,
        }
    }

    /// A poll page of `events` (read from the backend, in order, one more
    /// than `limit` when there are more): at most `limit` of them and
    /// `--poll-max-bytes` of frames, and where to continue.
    pub(crate) fn poll_page(&self, mut events: Vec<Arc<StoredEvent>>, limit: usize) -> PollResult {
        let max_bytes = self.shared.limits.poll_max_bytes;
        let mut bytes = 0;
        let fit = events
            .iter()
            .enumerate()
            .position(|(i, e)| {
                let over = i >= limit || (i > 0 && bytes + e.frame.len() > max_bytes);
                bytes += e.frame.len();
                over
            })
            .unwrap_or(events.len());
        let more = fit < events.len();
        events.truncate(fit);
        let head = self.head_seq();
        let last_seq = match events.last() {
            Some(e) if more => e.seq,
            Some(e) => e.seq.max(head),
            None => head,
        };
        PollResult {
            events,
            reset: None,
            last_id: self.id_of(last_seq),
            more,
        }
    }
}

impl HubState {
    /// Counts everything up to `seq` as lost for every topic, held or not.
    pub(super) fn mark_lost_up_to(&mut self, seq: u64) {
        self.retention.reclaimed(seq);
        for topic in self.topics.values_mut() {
            topic.replay.mark_lost_up_to(seq);
        }
    }

    /// Up to which seq topic `name` may have lost events.
    pub(super) fn lost_up_to(&self, name: &str) -> u64 {
        match self.topics.get(name) {
            Some(t) => t.replay.evicted_up_to(),
            None => self.retention.reclaimed_up_to(),
        }
    }
}
