//! The one consumer each node reads the stream with: an ordered push
//! consumer on every topic's subject, from the event after the newest the
//! node-local hub has, feeding the hub in stream order (the hub encodes
//! each event once for the node and queues it for its subscribers). One
//! consumer per node, not per subscriber: JetStream's work grows with the
//! nodes, not the subscribers, and a slow node only slows itself.
//!
//! The consumer is recreated from the hub's head whenever it fails (NATS
//! restarted, the connection dropped), so the hub never skips an event
//! that is still in the stream.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use async_nats::jetstream::consumer::{push, DeliverPolicy};
use async_nats::jetstream::stream::Stream;
use futures_util::StreamExt;
use tokio::sync::watch;
use tokio_util::sync::CancellationToken;

use super::{subject, EVENT_HEADER, TEXT_HEADER};
use crate::hub::{Hub, Payload};

/// Pause before recreating a failed consumer.
const RETRY: Duration = Duration::from_millis(250);
/// How often a consumer that delivered nothing is checked against the stream.
const STALL_CHECK: Duration = Duration::from_secs(2);

/// What the ingest task needs.
pub(super) struct Ingest {
    pub(super) stream: Stream,
    pub(super) client: async_nats::Client,
    pub(super) name: String,
    pub(super) hub: Hub,
    pub(super) head: watch::Sender<u64>,
    pub(super) running: Arc<AtomicBool>,
    pub(super) shutdown: CancellationToken,
}

/// Feeds the hub until shutdown.
pub(super) async fn run(ingest: Ingest) {
    loop {
        tokio::select! {
            () = consume(&ingest) => {}
            () = ingest.shutdown.cancelled() => break,
        }
        ingest.running.store(false, Ordering::Relaxed);
        tokio::select! {
            () = tokio::time::sleep(RETRY) => {}
            () = ingest.shutdown.cancelled() => break,
        }
    }
    ingest.running.store(false, Ordering::Relaxed);
}

/// One consumer's life: from the hub's head until it fails.
async fn consume(ingest: &Ingest) {
    let start = ingest.hub.head_seq() + 1;
    let consumer = ingest
        .stream
        .create_consumer(push::OrderedConfig {
            deliver_subject: ingest.client.new_inbox(),
            filter_subject: subject::all_topics(&ingest.name),
            deliver_policy: DeliverPolicy::ByStartSequence {
                start_sequence: start,
            },
            ..Default::default()
        })
        .await;
    let mut messages = match consumer {
        Ok(consumer) => match consumer.messages().await {
            Ok(messages) => messages,
            Err(err) => {
                tracing::warn!(%err, "JetStream consumer did not start");
                return;
            }
        },
        Err(err) => {
            tracing::warn!(%err, "JetStream consumer not created");
            return;
        }
    };
    tracing::info!(start, "reading the stream");
    ingest.running.store(true, Ordering::Relaxed);
    let mut watchdog = tokio::time::interval(STALL_CHECK);
    watchdog.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut progressed = true;
    loop {
        let message = tokio::select! {
            message = messages.next() => message,
            _ = watchdog.tick() => {
                if !std::mem::take(&mut progressed) && stalled(ingest).await {
                    tracing::warn!(head = ingest.hub.head_seq(), "the stream has newer events than the consumer delivers; recreating it");
                    return;
                }
                continue;
            }
        };
        let Some(message) = message else {
            return;
        };
        progressed = true;
        let message = match message {
            Ok(message) => message,
            Err(err) => {
                tracing::warn!(%err, "JetStream consumer failed; recreating it");
                return;
            }
        };
        let Ok(info) = message.info() else {
            continue;
        };
        let seq = info.stream_sequence;
        let published_at_ms = (info.published.unix_timestamp_nanos() / 1_000_000) as u64;
        take_in(
            ingest,
            seq,
            &message.subject,
            message.headers.as_ref(),
            &message.payload,
            published_at_ms,
        );
        ingest.head.send_replace(ingest.hub.head_seq());
    }
}

/// Whether the stream holds events past the hub's head that the consumer
/// has not delivered: an ordered consumer whose server died with it can go
/// quiet without an error (seen with a 3-node cluster on 2.9.10, where the
/// client's missed-heartbeat check never fired), and only the stream's
/// own sequence tells.
async fn stalled(ingest: &Ingest) -> bool {
    match ingest.stream.get_info().await {
        Ok(info) => info.state.last_sequence > ingest.hub.head_seq(),
        Err(_) => false, // unreachable: nothing to compare; the client reconnects
    }
}

/// Hands event `seq` to the hub, or skips it when it is not one of ours.
fn take_in(
    ingest: &Ingest,
    seq: u64,
    subject: &str,
    headers: Option<&async_nats::HeaderMap>,
    payload: &[u8],
    published_at_ms: u64,
) {
    let decoded = decode(&ingest.name, subject, headers, payload);
    let Some((topic, event, data)) = decoded else {
        tracing::warn!(seq, subject, "not a pushwire event; skipped");
        ingest.hub.skip(seq);
        return;
    };
    if let Err(err) = ingest
        .hub
        .ingest(seq, &topic, &event, &data, published_at_ms)
    {
        tracing::warn!(seq, %err, "event not taken in");
    }
}

/// The topic, event name and data of a stream message.
pub(super) fn decode(
    stream: &str,
    subject: &str,
    headers: Option<&async_nats::HeaderMap>,
    payload: &[u8],
) -> Option<(String, String, Payload)> {
    let topic = subject::topic(stream, subject)?;
    let headers = headers?;
    let event = headers.get(EVENT_HEADER)?.as_str().to_owned();
    let text = std::str::from_utf8(payload).ok()?.to_owned();
    let data = if headers.get(TEXT_HEADER).is_some() {
        Payload::Text(text)
    } else {
        Payload::Json(serde_json::value::RawValue::from_string(text).ok()?)
    };
    Some((topic, event, data))
}
