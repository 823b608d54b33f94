//! Subscriptions and polls on a node: served by the node-local hub when its
//! cache holds everything after the client's id, and otherwise first from
//! the stream, then handed over to the hub (the hub's replay is a cache in
//! front of the stream, not a second truth).
//!
//! Reading history: for each topic, JetStream's direct get of "the next
//! message of this subject from seq N", merged across topics by sequence,
//! up to the point from which the cache holds everything. That point can
//! move while history is read (the cache evicts), so the handover is tried
//! again after every step, under the hub's lock, until it succeeds: no
//! event is missed or sent twice. If the stream itself no longer has
//! events after the client's id (its limits removed them), the client gets
//! `pushwire.reset`.

use std::sync::atomic::Ordering;
use std::sync::Arc;

use async_nats::jetstream::message::StreamMessage;
use async_nats::jetstream::stream::DirectGetErrorKind;
use futures_util::Stream;
use pushwire_protocol::ResetReason;

use super::{ingest, subject, unavailable, Inner, CATCH_UP_WAIT};
use crate::hub::{Handover, HubError, PollResult, StoredEvent, Subscription};

/// Events read from the stream per step of a catch-up.
const STEP: usize = 256;

/// `Backend::subscribe` on a node.
pub(super) async fn subscribe(
    inner: Arc<Inner>,
    topics: &[String],
    last_event_id: Option<&str>,
) -> Result<Subscription, HubError> {
    let hub = &inner.hub;
    let Some(raw) = last_event_id.filter(|id| !id.is_empty()) else {
        return hub.subscribe(topics, None);
    };
    let seq = match hub.parse_id(raw) {
        Ok(seq) => seq,
        Err(reason) => return hub.subscribe_reset(topics, reason, raw),
    };
    wait_for_head(&inner, seq).await?;
    if seq > hub.head_seq() {
        return hub.subscribe_reset(topics, ResetReason::Future, raw);
    }
    if let Some(subscription) = hub.subscribe_cached(topics, seq, raw)? {
        return Ok(subscription);
    }
    Ok(Subscription::handover(Box::pin(from_stream(
        inner.clone(),
        topics.to_vec(),
        seq,
    ))))
}

/// Waits (a bounded time) until the node has taken in event `seq`: an id
/// from another node may be ahead of this one by a few milliseconds.
async fn wait_for_head(inner: &Inner, seq: u64) -> Result<(), HubError> {
    if seq <= inner.hub.head_seq() {
        return Ok(());
    }
    let mut head = inner.head.clone();
    let reached = tokio::time::timeout(CATCH_UP_WAIT, head.wait_for(|h| *h >= seq)).await;
    if matches!(reached, Ok(Ok(_))) || inner.ingesting.load(Ordering::Relaxed) {
        // Reached, or the stream is being read and simply has no such id.
        Ok(())
    } else {
        Err(unavailable("the node cannot read the event stream"))
    }
}

/// The history of `topics` after `after` from the stream, then the hub.
fn from_stream(
    inner: Arc<Inner>,
    topics: Vec<String>,
    mut after: u64,
) -> impl Stream<Item = Handover> {
    async_stream::stream! {
        let subjects: Vec<String> = topics.iter().map(|t| subject::subject(&inner.stream, t)).collect();
        loop {
            let raw = inner.hub.id_of(after);
            match inner.hub.subscribe_cached(&topics, after, &raw) {
                Ok(Some(subscription)) => {
                    yield Handover::Then(subscription);
                    return;
                }
                Ok(None) => {}
                Err(_) => return,
            }
            let floor = inner.hub.cache_floor(&topics);
            let Ok(info) = inner.handle.get_info().await else {
                return; // the client reconnects and resumes from what it got
            };
            if after + 1 < info.state.first_sequence {
                if let Ok(subscription) = inner.hub.subscribe_reset(&topics, ResetReason::TooOld, &raw) {
                    yield Handover::Then(subscription);
                }
                return;
            }
            let Ok(events) = read(&inner, &subjects, after, floor, STEP).await else {
                return;
            };
            if events.is_empty() {
                if after >= floor && after > inner.hub.head_seq() && wait_for_head(&inner, after).await.is_err() {
                    return;
                }
                after = after.max(floor);
                continue;
            }
            for event in events {
                after = event.seq;
                yield Handover::Frame(event.frame().clone());
            }
        }
    }
}

/// Up to `max` events of `subjects` in `(after, until]`, in stream order.
async fn read(
    inner: &Inner,
    subjects: &[String],
    after: u64,
    until: u64,
    max: usize,
) -> Result<Vec<Arc<StoredEvent>>, HubError> {
    let mut next = Vec::with_capacity(subjects.len());
    for subject in subjects {
        next.push(next_of(inner, subject, after + 1).await?);
    }
    let mut events = Vec::new();
    while events.len() < max {
        let pick = next
            .iter()
            .enumerate()
            .filter_map(|(i, m)| m.as_ref().map(|m| (i, m.sequence)))
            .filter(|&(_, seq)| seq <= until)
            .min_by_key(|&(_, seq)| seq);
        let Some((i, seq)) = pick else {
            break;
        };
        if let Some(message) = next[i].take() {
            if let Some(event) = to_event(inner, &message) {
                events.push(event);
            }
        }
        next[i] = next_of(inner, &subjects[i], seq + 1).await?;
    }
    Ok(events)
}

/// The first message of `subject` at or after `from`.
async fn next_of(
    inner: &Inner,
    subject: &str,
    from: u64,
) -> Result<Option<StreamMessage>, HubError> {
    match inner
        .handle
        .direct_get_next_for_subject(subject, Some(from))
        .await
    {
        Ok(message) => Ok(Some(message)),
        Err(err) if matches!(err.kind(), DirectGetErrorKind::NotFound) => Ok(None),
        Err(err) => Err(unavailable(&format!("reading the stream failed: {err}"))),
    }
}

/// A stream message as the hub stores events.
fn to_event(inner: &Inner, message: &StreamMessage) -> Option<Arc<StoredEvent>> {
    let (_, event, data) = ingest::decode(
        &inner.stream,
        &message.subject,
        Some(&message.headers),
        &message.payload,
    )?;
    let published_at_ms = (message.time.unix_timestamp_nanos() / 1_000_000) as u64;
    inner
        .hub
        .encode_event(message.sequence, &event, &data, published_at_ms)
        .ok()
}

/// `Backend::poll` on a node: the hub's cache when it holds everything
/// after `after`, else a page read from the stream.
pub(super) async fn poll(
    inner: Arc<Inner>,
    topic: &str,
    after: Option<&str>,
    limit: usize,
) -> Result<PollResult, HubError> {
    let hub = &inner.hub;
    let Some(raw) = after.filter(|a| !a.is_empty()) else {
        return hub.poll(topic, None, limit);
    };
    let Ok(seq) = hub.parse_id(raw) else {
        return hub.poll(topic, after, limit); // the hub answers the reset
    };
    wait_for_head(&inner, seq).await?;
    let topics = [topic.to_owned()];
    if seq > hub.head_seq() || seq >= hub.cache_floor(&topics) {
        return hub.poll(topic, after, limit);
    }
    let info = inner
        .handle
        .get_info()
        .await
        .map_err(|e| unavailable(&format!("reading the stream failed: {e}")))?;
    if seq + 1 < info.state.first_sequence {
        return Ok(hub.poll_reset(ResetReason::TooOld, raw));
    }
    let limit = limit.max(1);
    let subjects = [subject::subject(&inner.stream, topic)];
    let events = read(&inner, &subjects, seq, u64::MAX, limit + 1).await?;
    Ok(hub.poll_page(events, limit))
}
