//! `Subscription`: one subscriber's view of the hub, as a stream of encoded
//! frames: first the replay (or reset) prepared at subscribe time, then the
//! live frames from its bounded queue.
//!
//! Dropping it (the client went away) unregisters it from every topic at
//! once, so no dead queue lingers until the next publish.

use std::collections::VecDeque;
use std::pin::Pin;
use std::sync::Weak;
use std::task::{Context, Poll};

use bytes::Bytes;
use futures_util::Stream;

use super::queue::QueueReceiver;
use super::state::Shared;

/// Unregisters a subscription from the hub when dropped.
#[derive(Debug)]
pub(super) struct Registration {
    hub: Weak<Shared>,
    id: u64,
}

impl Registration {
    pub(super) fn new(hub: Weak<Shared>, id: u64) -> Self {
        Registration { hub, id }
    }
}

impl Drop for Registration {
    fn drop(&mut self) {
        if let Some(hub) = self.hub.upgrade() {
            hub.unregister(self.id);
        }
    }
}

/// The frames of one subscription, from [`Hub::subscribe`](super::Hub::subscribe):
/// encoded SSE frames ready to be written, shared with every other
/// subscriber. Ends when the hub closes its queue: the subscriber was cut
/// off for falling behind (it should reconnect and resume by id), or the
/// hub was closed. Dropping it unsubscribes at once.
#[derive(Debug)]
#[must_use = "a subscription receives nothing unless polled"]
pub struct Subscription {
    prelude: VecDeque<Bytes>,
    queue: QueueReceiver,
    _registration: Registration,
}

impl Subscription {
    pub(super) fn new(
        prelude: VecDeque<Bytes>,
        queue: QueueReceiver,
        registration: Registration,
    ) -> Self {
        Subscription {
            prelude,
            queue,
            _registration: registration,
        }
    }
}

impl Stream for Subscription {
    type Item = Bytes;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Bytes>> {
        let this = self.get_mut();
        if let Some(frame) = this.prelude.pop_front() {
            return Poll::Ready(Some(frame));
        }
        this.queue.poll_recv(cx)
    }

    /// Exact lower bound: the frames waiting now, so a writer can batch
    /// them without polling for more that are not there.
    fn size_hint(&self) -> (usize, Option<usize>) {
        (self.prelude.len() + self.queue.len(), None)
    }
}
