//! `Dedupe`: publishers' idempotency keys, so that a retried publish (the
//! first answer was lost, or timed out) is answered with the first one's id
//! instead of storing the event twice — what JetStream's message-id
//! de-duplication gives the distributed backend, given by the embedded
//! one too.
//!
//! A key counts per topic, for `--idempotency-window-ms` after its first
//! publish. At most `--idempotency-max-keys` keys are remembered; past it
//! the oldest is forgotten early, so memory stays bounded even when every
//! publish carries a fresh key.

use std::collections::{HashMap, VecDeque};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Longest idempotency key accepted, in bytes.
pub const MAX_IDEMPOTENCY_KEY_LEN: usize = 128;

/// Whether `key` may be an idempotency key: 1 to 128 visible ASCII bytes.
pub(crate) fn is_valid_key(key: &str) -> bool {
    (1..=MAX_IDEMPOTENCY_KEY_LEN).contains(&key.len()) && key.bytes().all(|b| b.is_ascii_graphic())
}

/// The remembered keys.
#[derive(Debug)]
pub(super) struct Dedupe {
    window: Duration,
    max_keys: usize,
    /// `topic \0 key` → seq of the event first published with it.
    seqs: HashMap<Arc<str>, u64>,
    /// The same keys (shared, not copied), oldest first, with when they
    /// were first used. At most about 400 B per key with the longest topic
    /// and key.
    order: VecDeque<(Instant, Arc<str>)>,
}

impl Dedupe {
    pub(super) fn new(window: Duration, max_keys: usize) -> Self {
        Dedupe {
            window,
            max_keys,
            seqs: HashMap::new(),
            order: VecDeque::new(),
        }
    }

    fn scoped(topic: &str, key: &str) -> String {
        format!("{topic}\0{key}")
    }

    /// Forgets keys older than the window.
    fn expire(&mut self, now: Instant) {
        while let Some((at, _)) = self.order.front() {
            if now.duration_since(*at) < self.window {
                break;
            }
            if let Some((_, key)) = self.order.pop_front() {
                self.seqs.remove(&key);
            }
        }
    }

    /// The seq first published with `key` on `topic`, if within the window.
    pub(super) fn seen(&mut self, topic: &str, key: &str, now: Instant) -> Option<u64> {
        self.expire(now);
        self.seqs.get(Self::scoped(topic, key).as_str()).copied()
    }

    /// Remembers that `key` on `topic` published event `seq`.
    pub(super) fn remember(&mut self, topic: &str, key: &str, seq: u64, now: Instant) {
        if self.max_keys == 0 {
            return;
        }
        while self.order.len() >= self.max_keys {
            if let Some((_, old)) = self.order.pop_front() {
                self.seqs.remove(&old);
            }
        }
        let scoped: Arc<str> = Self::scoped(topic, key).into();
        self.seqs.insert(scoped.clone(), seq);
        self.order.push_back((now, scoped));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn remembers_per_topic_within_the_window_and_the_count() {
        let t0 = Instant::now();
        let mut d = Dedupe::new(Duration::from_secs(10), 2);
        d.remember("t", "k1", 1, t0);
        assert_eq!(d.seen("t", "k1", t0), Some(1));
        assert_eq!(d.seen("u", "k1", t0), None, "per topic");
        d.remember("t", "k2", 2, t0);
        d.remember("t", "k3", 3, t0);
        assert_eq!(
            d.seen("t", "k1", t0),
            None,
            "the oldest forgotten past the count"
        );
        assert_eq!(d.seen("t", "k3", t0), Some(3));
        assert_eq!(
            d.seen("t", "k3", t0 + Duration::from_secs(10)),
            None,
            "expired"
        );
        assert!(d.seqs.is_empty() && d.order.is_empty());
    }

    #[test]
    fn keys_are_visible_ascii() {
        assert!(is_valid_key("order-42/retry"));
        assert!(!is_valid_key(""));
        assert!(!is_valid_key("with space"));
        assert!(!is_valid_key(&"k".repeat(129)));
        assert!(!is_valid_key("é"));
    }
}
