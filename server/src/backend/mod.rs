//! `Backend`: where events live, behind one trait. Everything above it —
//! the routes, the demo's sampler, [`filters`](crate::filters) — publishes,
//! subscribes and polls through it and never knows which one runs.
//!
//! The embedded default is the in-memory [`Hub`] itself: ids, replay and
//! fan-out in this process. A distributed backend keeps its events
//! elsewhere and feeds a node-local `Hub` (encode once per node, then the
//! same per-subscriber queues), so the trait's subscriptions are always the
//! hub's [`Subscription`]s.

#[cfg(feature = "jetstream")]
pub mod jetstream;

use std::fmt::Debug;

use futures_util::future::BoxFuture;

use crate::hub::{Hub, HubError, Payload, PollResult, Published, Subscription};

/// One event to publish.
#[derive(Debug)]
#[non_exhaustive]
pub struct Publish<'a> {
    /// The topic.
    pub topic: &'a str,
    /// The SSE event name.
    pub event: &'a str,
    /// The data.
    pub data: Payload,
    /// The publisher's `Idempotency-Key`: a retry with the same key is
    /// answered with the first publish's id and not stored again.
    pub idempotency_key: Option<&'a str>,
}

impl<'a> Publish<'a> {
    /// `data` as event `event` on `topic`.
    pub fn new(topic: &'a str, event: &'a str, data: Payload) -> Self {
        Publish {
            topic,
            event,
            data,
            idempotency_key: None,
        }
    }

    /// With the publisher's idempotency key.
    pub fn idempotency_key(mut self, key: Option<&'a str>) -> Self {
        self.idempotency_key = key;
        self
    }
}

/// Where events are stored and fanned out from. Each call resolves once
/// its work is done: a publish once the event is stored (and, for a
/// replicated backend, acknowledged), a subscription once its first frames
/// are ready.
pub trait Backend: Send + Sync + Debug + 'static {
    /// Publishes an event after checking its names; the topic must not be
    /// one of the server's own.
    fn publish<'a>(&'a self, publish: Publish<'a>) -> BoxFuture<'a, Result<Published, HubError>>;

    /// Publishes on one of the server's reserved topics: for the server's
    /// own producers, never for requests.
    fn publish_reserved<'a>(
        &'a self,
        topic: &'a str,
        event: &'a str,
        data: Payload,
    ) -> BoxFuture<'a, Result<Published, HubError>>;

    /// Subscribes to `topics`, resuming after `last_event_id`; see
    /// [`Hub::subscribe`].
    fn subscribe<'a>(
        &'a self,
        topics: &'a [String],
        last_event_id: Option<&'a str>,
    ) -> BoxFuture<'a, Result<Subscription, HubError>>;

    /// Events of `topic` after `after`; see [`Hub::poll`].
    fn poll<'a>(
        &'a self,
        topic: &'a str,
        after: Option<&'a str>,
        limit: usize,
    ) -> BoxFuture<'a, Result<PollResult, HubError>>;

    /// Whether it can serve publishes and subscriptions now (`/readyz`).
    fn ready(&self) -> bool;

    /// The node-local hub subscribers are fanned out from: its counters
    /// are this node's.
    fn local_hub(&self) -> &Hub;

    /// Stops it: ends every subscription (what shutdown does).
    fn close(&self);
}

/// The in-memory hub is the embedded backend: everything happens at once,
/// in this process.
impl Backend for Hub {
    fn publish<'a>(&'a self, publish: Publish<'a>) -> BoxFuture<'a, Result<Published, HubError>> {
        let result = self.publish_keyed(publish);
        Box::pin(std::future::ready(result))
    }

    fn publish_reserved<'a>(
        &'a self,
        topic: &'a str,
        event: &'a str,
        data: Payload,
    ) -> BoxFuture<'a, Result<Published, HubError>> {
        let result = Hub::publish_reserved(self, topic, event, data);
        Box::pin(std::future::ready(result))
    }

    fn subscribe<'a>(
        &'a self,
        topics: &'a [String],
        last_event_id: Option<&'a str>,
    ) -> BoxFuture<'a, Result<Subscription, HubError>> {
        Box::pin(std::future::ready(Hub::subscribe(
            self,
            topics,
            last_event_id,
        )))
    }

    fn poll<'a>(
        &'a self,
        topic: &'a str,
        after: Option<&'a str>,
        limit: usize,
    ) -> BoxFuture<'a, Result<PollResult, HubError>> {
        Box::pin(std::future::ready(Hub::poll(self, topic, after, limit)))
    }

    fn ready(&self) -> bool {
        true
    }

    fn local_hub(&self) -> &Hub {
        self
    }

    fn close(&self) {
        Hub::close(self);
    }
}
