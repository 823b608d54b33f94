//! `Subscription`: one subscriber's view of the hub, as a stream of encoded
//! frames: first what it missed (replay, or one `pushwire.reset`), then
//! the live frames from its bounded queue.
//!
//! A resume that is far behind is not copied out of the replay all at
//! once, which would let every reconnecting client pin up to the whole
//! replay budget: the subscription *catches up* in steps of at most
//! `--subscriber-queue-bytes`, fetching the next step from the hub when the
//! previous one is written, and joins the live fan-out (registers its
//! queue) under the same lock as its last step, so nothing published
//! meanwhile is missed or doubled. If eviction overtakes it, it gets a
//! `pushwire.reset` and goes live.
//!
//! Dropping it (the client went away) unregisters it from every topic at
//! once, so no dead queue lingers until the next publish.

use std::collections::VecDeque;
use std::pin::Pin;
use std::sync::{Arc, Weak};
use std::task::{Context, Poll};

use bytes::Bytes;
use futures_util::Stream;

use super::queue::{QueueReceiver, QueueSender};
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

/// Where a subscription that has not joined the live fan-out yet stands.
#[derive(Debug)]
pub(super) struct CatchUp {
    /// The subscription's topics.
    pub(super) topics: Vec<Arc<str>>,
    /// Seq of the last event handed to the subscriber.
    pub(super) after: u64,
    /// The queue's sending end, registered with the topics on going live.
    pub(super) sender: QueueSender,
}

/// What the hub answers a catching-up subscription.
#[derive(Debug)]
pub(super) enum Step {
    /// More frames; the subscription is still catching up.
    More(VecDeque<Bytes>, Box<CatchUp>),
    /// The last frames (replay, or a reset): it is live now.
    Live(VecDeque<Bytes>),
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
    /// Set while replaying history ahead of the live fan-out.
    catch_up: Option<Box<CatchUp>>,
    queue: QueueReceiver,
    registration: Registration,
}

impl Subscription {
    pub(super) fn new(step: Step, queue: QueueReceiver, registration: Registration) -> Self {
        let (prelude, catch_up) = match step {
            Step::More(frames, catch_up) => (frames, Some(catch_up)),
            Step::Live(frames) => (frames, None),
        };
        Subscription {
            prelude,
            catch_up,
            queue,
            registration,
        }
    }
}

impl Stream for Subscription {
    type Item = Bytes;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Bytes>> {
        let this = self.get_mut();
        loop {
            if let Some(frame) = this.prelude.pop_front() {
                return Poll::Ready(Some(frame));
            }
            let Some(catch_up) = this.catch_up.take() else {
                return this.queue.poll_recv(cx);
            };
            let Some(hub) = this.registration.hub.upgrade() else {
                return Poll::Ready(None);
            };
            match super::catch_up_step(&hub, this.registration.id, catch_up) {
                Step::More(frames, catch_up) => {
                    this.prelude = frames;
                    this.catch_up = Some(catch_up);
                }
                Step::Live(frames) => this.prelude = frames,
            }
        }
    }

    /// Exact lower bound: the frames waiting now, so a writer can batch
    /// them without polling for more that are not there.
    fn size_hint(&self) -> (usize, Option<usize>) {
        (self.prelude.len() + self.queue.len(), None)
    }
}
