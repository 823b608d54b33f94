//! `ReplayBuffer`: one topic's recent events, for Last-Event-ID resume and
//! for the polling API; and [`StoredEvent`], an event as the hub keeps it.
//!
//! An event is stored once, as its encoded SSE frame: replay, polling and
//! every subscriber's queue share the same bytes, and the fields a poll
//! answers with (id, event name, data) are read back from the frame rather
//! than kept a second time. Counting a frame's bytes is then counting what
//! the event really costs; a newline-heavy body, which grows about 6× into
//! `data:` lines, is measured as it grew.
//!
//! Events are kept in publish order (increasing `seq`). The buffer
//! remembers the newest seq it has evicted, so it can tell "nothing after
//! your id was lost" from "some events after your id are gone": the latter
//! must become an explicit reset, never a silent gap.

use std::borrow::Cow;
use std::collections::VecDeque;
use std::sync::Arc;

use bytes::Bytes;
use pushwire_protocol::names::DEFAULT_EVENT;
use serde_json::value::RawValue;

/// What an event carries: JSON (the usual case) or plain text.
#[derive(Debug)]
pub enum Payload {
    /// JSON exactly as published.
    Json(Box<RawValue>),
    /// Text sent as-is (clients expecting JSON report a parse error).
    Text(String),
}

impl Payload {
    /// The SSE `data` of the event.
    pub fn as_str(&self) -> &str {
        match self {
            Payload::Json(raw) => raw.get(),
            Payload::Text(text) => text,
        }
    }
}

/// Memory an event costs beyond its frame's bytes: the `Arc`'d
/// `StoredEvent`, the frame's shared header, and a slot in the replay
/// buffer. Counted, so that a flood of tiny events is bounded too.
pub(crate) const EVENT_OVERHEAD: usize = 128;

/// One published event, stored once (as its encoded frame) and shared by
/// replay, polling and fan-out, as [`Hub::poll`](super::Hub::poll) returns it.
#[derive(Debug)]
pub struct StoredEvent {
    /// Position in the hub's sequence.
    pub(crate) seq: u64,
    /// The encoded SSE frame, shared by every subscriber.
    pub(crate) frame: Bytes,
    /// Published as text rather than JSON.
    text: bool,
    published_at_ms: u64,
}

impl StoredEvent {
    pub(crate) fn new(seq: u64, frame: Bytes, text: bool, published_at_ms: u64) -> Self {
        StoredEvent {
            seq,
            frame,
            text,
            published_at_ms,
        }
    }

    /// The fields of the frame, in order. The hub's frames are encoded from
    /// `&str`s by the protocol crate, so they are UTF-8 with one field per
    /// line.
    fn fields(&self) -> impl Iterator<Item = (&str, &str)> {
        std::str::from_utf8(&self.frame)
            .unwrap_or_default()
            .split('\n')
            .take_while(|line| !line.is_empty())
            .filter_map(|line| {
                let (name, value) = line.split_once(':')?;
                Some((name, value.strip_prefix(' ').unwrap_or(value)))
            })
    }

    fn field(&self, name: &str) -> &str {
        self.fields()
            .find(|(n, _)| *n == name)
            .map_or("", |(_, v)| v)
    }

    /// The id as sent to clients.
    pub fn id(&self) -> &str {
        self.field("id")
    }

    /// The SSE event name (`message` when the frame names none, as SSE
    /// defines and as the encoder writes it).
    pub fn event(&self) -> &str {
        match self.field("event") {
            "" => DEFAULT_EVENT,
            event => event,
        }
    }

    /// The data as subscribers receive it: the published JSON or text,
    /// with line breaks as `\n` (SSE carries lines, not line-break bytes).
    pub fn data(&self) -> Cow<'_, str> {
        let mut lines = self.fields().filter(|(n, _)| *n == "data").map(|(_, v)| v);
        let first = lines.next().unwrap_or_default();
        match lines.next() {
            None => Cow::Borrowed(first),
            Some(second) => {
                let mut data = String::with_capacity(self.frame.len());
                data.push_str(first);
                for line in std::iter::once(second).chain(lines) {
                    data.push('\n');
                    data.push_str(line);
                }
                Cow::Owned(data)
            }
        }
    }

    /// Whether it was published as text (`{"text": …}`) rather than JSON.
    pub fn is_text(&self) -> bool {
        self.text
    }

    /// Publish time, milliseconds since the Unix epoch.
    pub fn published_at_ms(&self) -> u64 {
        self.published_at_ms
    }

    /// The encoded SSE frame, exactly as subscribers receive it.
    pub fn frame(&self) -> &Bytes {
        &self.frame
    }

    /// What keeping it costs, in bytes: its frame and [`EVENT_OVERHEAD`].
    pub(crate) fn cost(&self) -> usize {
        self.frame.len() + EVENT_OVERHEAD
    }
}

/// The replay buffer of one topic: its newest events, at most `capacity`
/// of them (the hub's byte budget may keep fewer).
#[derive(Debug)]
pub(crate) struct ReplayBuffer {
    events: VecDeque<Arc<StoredEvent>>,
    capacity: usize,
    /// Seq of the newest evicted event: nothing after it was lost.
    evicted_up_to: u64,
}

/// Events after the requested position have been evicted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct TooOld;

impl ReplayBuffer {
    /// An empty buffer keeping at most `capacity` events (at least one),
    /// which already counts everything up to `evicted_up_to` as lost: a
    /// topic created anew cannot vouch for what an earlier one held.
    pub(crate) fn new(capacity: usize, evicted_up_to: u64) -> Self {
        ReplayBuffer {
            events: VecDeque::new(),
            capacity: capacity.max(1),
            evicted_up_to,
        }
    }

    /// Appends an event; returns the oldest one when that made room for it.
    pub(crate) fn push(&mut self, event: Arc<StoredEvent>) -> Option<Arc<StoredEvent>> {
        debug_assert!(self.events.back().is_none_or(|last| last.seq < event.seq));
        let evicted = if self.events.len() >= self.capacity {
            self.pop_oldest()
        } else {
            None
        };
        self.events.push_back(event);
        evicted
    }

    /// Removes the oldest event.
    pub(crate) fn pop_oldest(&mut self) -> Option<Arc<StoredEvent>> {
        let old = self.events.pop_front()?;
        self.evicted_up_to = old.seq;
        if self.events.is_empty() {
            // Give back a buffer grown by a burst.
            self.events = VecDeque::new();
        }
        Some(old)
    }

    /// Seq of the oldest event held.
    pub(crate) fn oldest_seq(&self) -> Option<u64> {
        self.events.front().map(|e| e.seq)
    }

    /// Seq of the newest evicted event (0: none).
    pub(crate) fn evicted_up_to(&self) -> u64 {
        self.evicted_up_to
    }

    /// Counts everything up to `seq` as lost (events that never reached
    /// this buffer), without touching what it holds.
    pub(crate) fn mark_lost_up_to(&mut self, seq: u64) {
        self.evicted_up_to = self.evicted_up_to.max(seq);
    }

    /// Whether it holds no event.
    pub(crate) fn is_empty(&self) -> bool {
        self.events.is_empty()
    }

    /// Every buffered event with a seq greater than `seq`, oldest first, or
    /// `TooOld` when some of them were already evicted.
    pub(crate) fn after(
        &self,
        seq: u64,
    ) -> Result<impl Iterator<Item = &Arc<StoredEvent>>, TooOld> {
        if seq < self.evicted_up_to {
            return Err(TooOld);
        }
        let start = self.events.partition_point(|e| e.seq <= seq);
        Ok(self.events.range(start..))
    }

    /// The newest `n` events, oldest first.
    pub(crate) fn latest(&self, n: usize) -> impl DoubleEndedIterator<Item = &Arc<StoredEvent>> {
        self.events.range(self.events.len().saturating_sub(n)..)
    }

    /// Number of events held.
    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.events.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use pushwire_protocol::Frame;

    fn event(seq: u64) -> Arc<StoredEvent> {
        Arc::new(StoredEvent::new(seq, Bytes::new(), false, 0))
    }

    fn seqs<'a>(it: impl Iterator<Item = &'a Arc<StoredEvent>>) -> Vec<u64> {
        it.map(|e| e.seq).collect()
    }

    #[test]
    fn replays_after_a_position_and_detects_eviction() {
        let mut buf = ReplayBuffer::new(3, 0);
        for seq in [2, 5, 7] {
            assert!(buf.push(event(seq)).is_none());
        }
        assert_eq!(seqs(buf.after(0).expect("nothing evicted")), [2, 5, 7]);
        assert_eq!(seqs(buf.after(5).expect("kept")), [7]);
        assert_eq!(seqs(buf.after(3).expect("kept")), [5, 7]);
        let evicted = buf.push(event(9)).expect("full: evicts the oldest");
        assert_eq!(evicted.seq, 2);
        assert_eq!(buf.after(1).err(), Some(TooOld));
        // Holding id 2 means the client saw 2: everything after it is here.
        assert_eq!(seqs(buf.after(2).expect("kept")), [5, 7, 9]);
        assert_eq!(seqs(buf.after(9).expect("kept")), Vec::<u64>::new());
        assert_eq!(seqs(buf.latest(2)), [7, 9]);
        assert_eq!(buf.len(), 3);
        assert_eq!(buf.oldest_seq(), Some(5));
    }

    #[test]
    fn a_new_buffer_inherits_what_was_lost_before_it() {
        let buf = ReplayBuffer::new(3, 40);
        assert_eq!(buf.after(39).err(), Some(TooOld));
        assert!(buf.after(40).is_ok());
    }

    #[test]
    fn reads_its_fields_back_from_the_frame() {
        let frame = Frame::new()
            .id("e-7")
            .event("chat")
            .data("{\n  \"a\": \" x\"\n}")
            .encode()
            .expect("encodes");
        let stored = StoredEvent::new(7, frame, false, 1);
        assert_eq!(stored.id(), "e-7");
        assert_eq!(stored.event(), "chat");
        assert_eq!(stored.data(), "{\n  \"a\": \" x\"\n}");
        let one_line = Frame::new().id("1").event("message").data(" lead").encode();
        let stored = StoredEvent::new(1, one_line.expect("encodes"), true, 1);
        assert!(matches!(stored.data(), Cow::Borrowed(" lead")));
        assert!(stored.is_text());
        assert_eq!(stored.event(), "message", "the default name, not written");
    }
}
