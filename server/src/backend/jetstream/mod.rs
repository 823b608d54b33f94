//! `JetStream`: the distributed backend. One NATS JetStream stream holds
//! every topic; any node publishes to it, and each node feeds its own
//! node-local [`Hub`] from one consumer on it (encode once per node, then
//! the hub's per-subscriber queues), so that a subscriber can publish,
//! subscribe and resume on any node.
//!
//! | file | what it holds |
//! |---|---|
//! | `mod.rs` | [`JetStream`]: connecting, the stream, publishing, the `Backend` |
//! | `subject.rs` | topics as subjects, reversibly |
//! | `ingest.rs` | the one consumer that feeds the node-local hub |
//! | `history.rs` | what the local cache no longer holds, from the stream |
//!
//! Ids stay `<epoch>-<seq>`: `seq` is the stream sequence (the same id for
//! the same event on every node, increasing in publish order across
//! topics), and the epoch comes from the stream's creation time, so a
//! recreated stream answers old ids with `pushwire.reset`.
//!
//! A publish is answered only once JetStream has stored it (a quorum of
//! replicas for R3). `Idempotency-Key` becomes JetStream's message id, so a
//! retry on any node within the duplicate window gets the first id. When
//! NATS is unreachable a publish is refused at once (`503`), and one that
//! times out is answered `503` too: its outcome is unknown, so the caller
//! retries with the same key.

mod history;
mod ingest;
mod subject;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use async_nats::connection::State;
use async_nats::jetstream::{self, message::PublishMessage, stream};
use bytes::Bytes;
use futures_util::future::BoxFuture;
use tokio::sync::watch;
use tokio_util::sync::CancellationToken;

use super::{Backend, Publish};
use crate::hub::event_id::Epoch;
use crate::hub::{Hub, HubBuilder, HubError, Payload, PollResult, Published, Subscription};

/// Header carrying an event's name in the stream.
const EVENT_HEADER: &str = "Pushwire-Event";
/// Header marking an event published as text.
const TEXT_HEADER: &str = "Pushwire-Text";
/// How long a publish waits for JetStream's acknowledgement.
const ACK_TIMEOUT: Duration = Duration::from_secs(5);
/// Attempts to open the stream at start, [`STREAM_RETRY`] apart.
const STREAM_ATTEMPTS: u32 = 30;
/// Pause between attempts to open the stream.
const STREAM_RETRY: Duration = Duration::from_millis(500);
/// How long a subscription from an id the node has not received yet waits
/// for it to arrive from the stream.
const CATCH_UP_WAIT: Duration = Duration::from_secs(5);

/// How to reach the stream.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct JetStreamConfig {
    /// NATS server URLs.
    pub urls: Vec<String>,
    /// The stream's name; every topic is a subject under it.
    pub stream: String,
    /// Replicas of the stream (3 on a 3-node NATS cluster).
    pub replicas: usize,
    /// How long events are kept (0: no limit).
    pub max_age: Duration,
    /// Bytes the stream keeps at most.
    pub max_bytes: u64,
    /// JetStream's duplicate window, for `Idempotency-Key`.
    pub duplicate_window: Duration,
}

impl JetStreamConfig {
    /// The defaults, at `urls`.
    pub fn new(urls: Vec<String>) -> Self {
        JetStreamConfig {
            urls,
            stream: "PUSHWIRE".into(),
            replicas: 1,
            max_age: Duration::ZERO,
            max_bytes: crate::hub::DEFAULT_REPLAY_MAX_BYTES as u64,
            duplicate_window: Duration::from_millis(crate::hub::DEFAULT_IDEMPOTENCY_WINDOW_MS),
        }
    }
}

/// Why the backend could not start.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum JetStreamError {
    /// NATS did not answer.
    #[error("cannot connect to NATS at {urls}: {reason}")]
    Connect {
        /// The URLs tried.
        urls: String,
        /// What failed.
        reason: String,
    },
    /// The stream could not be created or read.
    #[error("JetStream stream {stream:?}: {reason}")]
    Stream {
        /// The stream's name.
        stream: String,
        /// What failed.
        reason: String,
    },
}

/// The distributed backend: see [the module](self).
#[derive(Debug, Clone)]
pub struct JetStream {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    client: async_nats::Client,
    js: jetstream::Context,
    /// The stream's name.
    stream: String,
    /// The stream, for reading history.
    handle: stream::Stream,
    hub: Hub,
    /// The newest seq the local hub has taken in.
    head: watch::Receiver<u64>,
    /// The ingest consumer is running.
    ingesting: Arc<AtomicBool>,
    shutdown: CancellationToken,
}

impl JetStream {
    /// Connects, creates the stream if it is missing (or checks it), and
    /// starts feeding a node-local hub built by `hub` from it.
    pub async fn connect(config: JetStreamConfig, hub: HubBuilder) -> Result<Self, JetStreamError> {
        let urls = config.urls.join(",");
        let connect_error = |e: &dyn std::fmt::Display| JetStreamError::Connect {
            urls: urls.clone(),
            reason: e.to_string(),
        };
        let addrs: Vec<async_nats::ServerAddr> = config
            .urls
            .iter()
            .map(|u| u.parse())
            .collect::<Result<_, _>>()
            .map_err(|e| connect_error(&e))?;
        let client = async_nats::ConnectOptions::new()
            .connection_timeout(Duration::from_secs(5))
            .event_callback(|event| async move {
                tracing::info!(%event, "NATS");
            })
            .connect(addrs)
            .await
            .map_err(|e| connect_error(&e))?;
        let js = jetstream::ContextBuilder::new()
            .timeout(ACK_TIMEOUT)
            .build(client.clone());
        let stream_error = |e: &dyn std::fmt::Display| JetStreamError::Stream {
            stream: config.stream.clone(),
            reason: e.to_string(),
        };
        // A NATS cluster that is still forming answers "no responders" for
        // a few seconds (measured: 2.7 s after start on 2.9.10): retry.
        let mut attempt = 0;
        let mut stream = loop {
            match open_stream(&js, &config).await {
                Ok(stream) => break stream,
                Err(StreamProblem::Conflict(err)) => return Err(stream_error(&err)),
                Err(StreamProblem::Unavailable(err)) if attempt < STREAM_ATTEMPTS => {
                    attempt += 1;
                    tracing::info!(%err, attempt, "the stream is not available yet; retrying");
                    tokio::time::sleep(STREAM_RETRY).await;
                }
                Err(StreamProblem::Unavailable(err)) => return Err(stream_error(&err)),
            }
        };
        let info = stream.info().await.map_err(|e| stream_error(&e))?;
        let epoch = Epoch::derived(info.created.unix_timestamp_nanos());
        let last = info.state.last_sequence;
        let hub = hub.build_with_epoch(epoch);
        hub.start_at(last);
        tracing::info!(stream = %config.stream, %epoch, last, "JetStream stream ready");

        let (head_tx, head) = watch::channel(last);
        let ingesting = Arc::new(AtomicBool::new(false));
        let shutdown = CancellationToken::new();
        tokio::spawn(ingest::run(ingest::Ingest {
            stream: stream.clone(),
            client: client.clone(),
            name: config.stream.clone(),
            hub: hub.clone(),
            head: head_tx,
            running: ingesting.clone(),
            shutdown: shutdown.clone(),
        }));
        Ok(JetStream {
            inner: Arc::new(Inner {
                client,
                js,
                stream: config.stream,
                handle: stream,
                hub,
                head,
                ingesting,
                shutdown,
            }),
        })
    }

    /// Publishes after the same checks as the in-memory hub; answers once
    /// JetStream has stored the event.
    async fn send(&self, publish: Publish<'_>, reserved_ok: bool) -> Result<Published, HubError> {
        let inner = &self.inner;
        let Publish {
            topic,
            event,
            data,
            idempotency_key,
            ..
        } = publish;
        inner
            .hub
            .check_publish(topic, event, &data, idempotency_key, reserved_ok)?;
        if inner.client.connection_state() != State::Connected {
            return Err(unavailable("NATS is not reachable"));
        }
        let mut message = PublishMessage::build()
            .payload(Bytes::copy_from_slice(data.as_str().as_bytes()))
            .header(EVENT_HEADER, event);
        if matches!(data, Payload::Text(_)) {
            message = message.header(TEXT_HEADER, "1");
        }
        if let Some(key) = idempotency_key {
            // JetStream de-duplicates per stream: scope the key by topic.
            message = message.message_id(format!("{topic}/{key}"));
        }
        let subject = subject::subject(&inner.stream, topic);
        let ack = inner
            .js
            .send_publish(subject, message)
            .await
            .map_err(|e| unavailable(&format!("publish failed: {e}")))?;
        let ack = ack
            .await
            .map_err(|e| unavailable(&format!("publish not acknowledged: {e}")))?;
        Ok(Published {
            id: inner.hub.id_of(ack.sequence),
            delivered_to: 0,
        })
    }

    /// The node-local hub.
    pub fn hub(&self) -> &Hub {
        &self.inner.hub
    }
}

/// A `503` for a publish or subscription the stream cannot take now.
fn unavailable(what: &str) -> HubError {
    HubError::Unavailable(format!(
        "{what}; retry later (with the same Idempotency-Key: the outcome of an unanswered publish is unknown)"
    ))
}

/// Why the stream could not be opened.
#[derive(Debug)]
enum StreamProblem {
    /// NATS or JetStream cannot answer yet (a cluster still forming): retry.
    Unavailable(String),
    /// The stream exists and is not ours to use: retrying cannot help.
    Conflict(String),
}

/// The stream: created with `config` if missing; if present, checked to
/// hold the subjects this backend writes.
async fn open_stream(
    js: &jetstream::Context,
    config: &JetStreamConfig,
) -> Result<stream::Stream, StreamProblem> {
    let unavailable = |e: &dyn std::fmt::Display| StreamProblem::Unavailable(e.to_string());
    let subjects = vec![subject::all_topics(&config.stream)];
    match js.get_stream(&config.stream).await {
        Ok(mut existing) => {
            let info = existing.info().await.map_err(|e| unavailable(&e))?;
            if info.config.subjects != subjects {
                return Err(StreamProblem::Conflict(format!(
                    "it exists with subjects {:?}, not {subjects:?}: use another --nats-stream",
                    info.config.subjects
                )));
            }
            if info.config.num_replicas != config.replicas {
                tracing::warn!(
                    stream = %config.stream,
                    existing = info.config.num_replicas,
                    asked = config.replicas,
                    "the stream exists with another replica count; keeping it"
                );
            }
            Ok(existing)
        }
        Err(_) => js
            .create_stream(stream::Config {
                name: config.stream.clone(),
                subjects,
                max_bytes: i64::try_from(config.max_bytes).unwrap_or(i64::MAX),
                max_age: config.max_age,
                num_replicas: config.replicas,
                duplicate_window: config.duplicate_window,
                allow_direct: true,
                discard: stream::DiscardPolicy::Old,
                storage: stream::StorageType::File,
                ..Default::default()
            })
            .await
            .map_err(|e| unavailable(&e)),
    }
}

impl Backend for JetStream {
    fn publish<'a>(&'a self, publish: Publish<'a>) -> BoxFuture<'a, Result<Published, HubError>> {
        Box::pin(self.send(publish, false))
    }

    fn publish_reserved<'a>(
        &'a self,
        topic: &'a str,
        event: &'a str,
        data: Payload,
    ) -> BoxFuture<'a, Result<Published, HubError>> {
        Box::pin(self.send(Publish::new(topic, event, data), true))
    }

    fn subscribe<'a>(
        &'a self,
        topics: &'a [String],
        last_event_id: Option<&'a str>,
    ) -> BoxFuture<'a, Result<Subscription, HubError>> {
        Box::pin(history::subscribe(
            self.inner.clone(),
            topics,
            last_event_id,
        ))
    }

    fn poll<'a>(
        &'a self,
        topic: &'a str,
        after: Option<&'a str>,
        limit: usize,
    ) -> BoxFuture<'a, Result<PollResult, HubError>> {
        Box::pin(history::poll(self.inner.clone(), topic, after, limit))
    }

    fn ready(&self) -> bool {
        self.inner.client.connection_state() == State::Connected
            && self.inner.ingesting.load(Ordering::Relaxed)
    }

    fn local_hub(&self) -> &Hub {
        &self.inner.hub
    }

    fn close(&self) {
        self.inner.shutdown.cancel();
        self.inner.hub.close();
    }
}
