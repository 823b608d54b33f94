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
use futures_util::stream::BoxStream;
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

/// What a backend's history stream yields: frames the node-local cache no
/// longer holds, then the cache's own subscription from where they end.
pub(crate) enum Handover {
    /// An older event, fetched from the backend.
    Frame(Bytes),
    /// The rest, from the node-local hub.
    Then(Subscription),
}

impl std::fmt::Debug for Handover {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Handover::Frame(frame) => write!(f, "Frame({} bytes)", frame.len()),
            Handover::Then(_) => f.write_str("Then(..)"),
        }
    }
}

/// A subscription that is not live yet.
enum Pending {
    /// Catching up from the hub's replay.
    Local(Box<CatchUp>),
    /// Catching up from a backend's history, then handed over to the hub.
    Remote(BoxStream<'static, Handover>),
}

impl std::fmt::Debug for Pending {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Pending::Local(c) => f.debug_tuple("Local").field(c).finish(),
            Pending::Remote(_) => f.write_str("Remote(..)"),
        }
    }
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
    pending: Option<Box<Pending>>,
    queue: QueueReceiver,
    registration: Registration,
}

impl Subscription {
    pub(super) fn new(step: Step, queue: QueueReceiver, registration: Registration) -> Self {
        let (prelude, pending) = match step {
            Step::More(frames, catch_up) => (frames, Some(Box::new(Pending::Local(catch_up)))),
            Step::Live(frames) => (frames, None),
        };
        Subscription {
            prelude,
            pending,
            queue,
            registration,
        }
    }

    /// A subscription that first yields what `history` fetches, then
    /// becomes the subscription it hands over. It ends early (the client
    /// reconnects and resumes from what it got) if `history` ends without
    /// handing over.
    pub(crate) fn handover(history: BoxStream<'static, Handover>) -> Self {
        // No queue and no registration of its own until the handover.
        let (_, queue) = super::queue::frame_queue(1, 1);
        Subscription {
            prelude: VecDeque::new(),
            pending: Some(Box::new(Pending::Remote(history))),
            queue,
            registration: Registration::new(Weak::new(), u64::MAX),
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
            let Some(pending) = this.pending.as_mut() else {
                return this.queue.poll_recv(cx);
            };
            if let Pending::Remote(history) = &mut **pending {
                match history.as_mut().poll_next(cx) {
                    Poll::Pending => return Poll::Pending,
                    Poll::Ready(Some(Handover::Frame(frame))) => return Poll::Ready(Some(frame)),
                    Poll::Ready(Some(Handover::Then(next))) => *this = next,
                    Poll::Ready(None) => {
                        this.pending = None;
                        return Poll::Ready(None);
                    }
                }
                continue;
            }
            let Some(pending) = this.pending.take() else {
                continue;
            };
            let Pending::Local(catch_up) = *pending else {
                continue;
            };
            let Some(hub) = this.registration.hub.upgrade() else {
                return Poll::Ready(None);
            };
            match super::catch_up_step(&hub, this.registration.id, catch_up) {
                Step::More(frames, catch_up) => {
                    this.prelude = frames;
                    this.pending = Some(Box::new(Pending::Local(catch_up)));
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
