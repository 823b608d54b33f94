//! `Retention`: the byte budget of everything the hub keeps for replay,
//! across all topics, and the order in which it is given back.
//!
//! Publishing never fails because history is full: when the encoded
//! events kept exceed `--replay-max-bytes`, the oldest event of all is
//! evicted, then the next oldest, until they fit. Ids are one global
//! sequence, so "the oldest event of all" is the oldest event of the topic
//! whose oldest event has the lowest seq; [`Retention`] indexes each topic
//! holding events by that seq, which makes finding it `O(log topics)` and
//! keeps the index as small as the topic table.

use std::collections::BTreeMap;
use std::sync::Arc;

/// The replay byte budget and the eviction order.
#[derive(Debug)]
pub(super) struct Retention {
    /// Bytes kept (frames and overhead, see `StoredEvent::cost`).
    bytes: usize,
    max_bytes: usize,
    /// Every topic holding events, by the seq of its oldest event.
    oldest: BTreeMap<u64, Arc<str>>,
    /// The newest seq that a reclaimed topic (one emptied by eviction and
    /// then dropped from the table) had evicted. A resume from before it,
    /// on a topic the hub no longer knows, cannot be vouched for.
    reclaimed_up_to: u64,
}

impl Retention {
    pub(super) fn new(max_bytes: usize) -> Self {
        Retention {
            bytes: 0,
            max_bytes,
            oldest: BTreeMap::new(),
            reclaimed_up_to: 0,
        }
    }

    /// Bytes kept now.
    pub(super) fn bytes(&self) -> usize {
        self.bytes
    }

    /// Topics holding at least one event: what `--max-topics` limits.
    pub(super) fn topics_holding_events(&self) -> usize {
        self.oldest.len()
    }

    /// Whether more is kept than the budget allows.
    pub(super) fn over_budget(&self) -> bool {
        self.bytes > self.max_bytes
    }

    /// The topic holding the oldest event of all, with that event's seq.
    pub(super) fn oldest(&self) -> Option<(u64, Arc<str>)> {
        self.oldest
            .first_key_value()
            .map(|(&seq, topic)| (seq, topic.clone()))
    }

    /// An event of `cost` bytes was stored.
    pub(super) fn add(&mut self, cost: usize) {
        self.bytes += cost;
    }

    /// An event of `cost` bytes was evicted.
    pub(super) fn remove(&mut self, cost: usize) {
        self.bytes -= cost;
    }

    /// `topic`'s oldest event changed from `before` to `after` (`None`:
    /// it held no event).
    pub(super) fn reindex(&mut self, topic: &Arc<str>, before: Option<u64>, after: Option<u64>) {
        if before == after {
            return;
        }
        if let Some(seq) = before {
            self.oldest.remove(&seq);
        }
        if let Some(seq) = after {
            self.oldest.insert(seq, topic.clone());
        }
    }

    /// A topic was dropped from the table, having lost everything up to
    /// `evicted_up_to`.
    pub(super) fn reclaimed(&mut self, evicted_up_to: u64) {
        self.reclaimed_up_to = self.reclaimed_up_to.max(evicted_up_to);
    }

    /// See [`Retention::reclaimed_up_to`](Self).
    pub(super) fn reclaimed_up_to(&self) -> u64 {
        self.reclaimed_up_to
    }
}
