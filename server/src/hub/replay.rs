//! `ReplayBuffer`: the last N events of one topic, for Last-Event-ID resume
//! and for the polling API.
//!
//! Events are kept in publish order (increasing `seq`). The buffer remembers
//! the newest seq it has evicted, so it can tell "nothing after your id was
//! lost" from "some events after your id are gone": the latter must become an
//! explicit reset, never a silent gap.

use std::collections::VecDeque;
use std::sync::Arc;

use bytes::Bytes;
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

/// One published event, stored once and shared by replay, polling and
/// fan-out, as [`Hub::poll`](super::Hub::poll) returns it.
#[derive(Debug)]
pub struct StoredEvent {
    /// Position in the server's sequence.
    pub(crate) seq: u64,
    /// The id as sent to clients.
    pub id: String,
    /// SSE event name.
    pub event: String,
    /// The data as published.
    pub data: Payload,
    /// The encoded SSE frame, shared by every subscriber.
    pub(crate) frame: Bytes,
    /// Publish time, milliseconds since the Unix epoch.
    pub published_at_ms: u64,
}

/// The replay buffer of one topic.
#[derive(Debug)]
pub struct ReplayBuffer {
    events: VecDeque<Arc<StoredEvent>>,
    capacity: usize,
    /// Seq of the newest evicted event; 0 when nothing was evicted.
    evicted_up_to: u64,
}

/// Events after the requested position have been evicted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TooOld;

impl ReplayBuffer {
    /// An empty buffer keeping at most `capacity` events (at least one).
    pub fn new(capacity: usize) -> Self {
        ReplayBuffer {
            events: VecDeque::with_capacity(capacity.clamp(1, 64)),
            capacity: capacity.max(1),
            evicted_up_to: 0,
        }
    }

    /// Appends an event, evicting the oldest one when full.
    pub fn push(&mut self, event: Arc<StoredEvent>) {
        debug_assert!(self.events.back().is_none_or(|last| last.seq < event.seq));
        if self.events.len() == self.capacity {
            if let Some(old) = self.events.pop_front() {
                self.evicted_up_to = old.seq;
            }
        }
        self.events.push_back(event);
    }

    /// Every buffered event with a seq greater than `seq`, oldest first, or
    /// `TooOld` when some of them were already evicted.
    pub fn after(&self, seq: u64) -> Result<impl Iterator<Item = &Arc<StoredEvent>>, TooOld> {
        if seq < self.evicted_up_to {
            return Err(TooOld);
        }
        let start = self.events.partition_point(|e| e.seq <= seq);
        Ok(self.events.range(start..))
    }

    /// The newest `n` events, oldest first.
    pub fn latest(&self, n: usize) -> impl Iterator<Item = &Arc<StoredEvent>> {
        self.events.range(self.events.len().saturating_sub(n)..)
    }

    /// Number of events held.
    #[cfg(test)]
    pub fn len(&self) -> usize {
        self.events.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(seq: u64) -> Arc<StoredEvent> {
        Arc::new(StoredEvent {
            seq,
            id: seq.to_string(),
            event: "message".into(),
            data: Payload::Json(RawValue::from_string("null".into()).expect("valid json")),
            frame: Bytes::new(),
            published_at_ms: 0,
        })
    }

    fn seqs<'a>(it: impl Iterator<Item = &'a Arc<StoredEvent>>) -> Vec<u64> {
        it.map(|e| e.seq).collect()
    }

    #[test]
    fn replays_after_a_position_and_detects_eviction() {
        let mut buf = ReplayBuffer::new(3);
        for seq in [2, 5, 7] {
            buf.push(event(seq));
        }
        assert_eq!(seqs(buf.after(0).expect("nothing evicted")), [2, 5, 7]);
        assert_eq!(seqs(buf.after(5).expect("kept")), [7]);
        assert_eq!(seqs(buf.after(3).expect("kept")), [5, 7]);
        buf.push(event(9)); // evicts 2
        assert_eq!(buf.after(1).err(), Some(TooOld));
        // Holding id 2 means the client saw 2: everything after it is here.
        assert_eq!(seqs(buf.after(2).expect("kept")), [5, 7, 9]);
        assert_eq!(seqs(buf.after(9).expect("kept")), Vec::<u64>::new());
        assert_eq!(seqs(buf.latest(2)), [7, 9]);
        assert_eq!(buf.len(), 3);
    }
}
