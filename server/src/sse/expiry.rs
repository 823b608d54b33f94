//! `Expiry`: ends a stream when the credentials it was opened with run out,
//! with a last `pushwire.expired` event so the client knows to fetch a
//! fresh token and resume by id (rather than reconnect with the old one
//! and be refused).

use std::future::Future;
use std::pin::Pin;
use std::sync::LazyLock;
use std::task::{Context, Poll};
use std::time::SystemTime;

use bytes::Bytes;
use futures_util::Stream;
use pushwire_protocol::Expired;
use tokio::time::{Instant, Sleep};

use super::Chunk;

/// The `pushwire.expired` frame, encoded once. It carries no id, so the
/// client's last event id stays that of the last event it received.
static EXPIRED: LazyLock<Bytes> =
    LazyLock::new(|| pushwire_protocol::encode_typed(None, &Expired::token()).unwrap_or_default());

/// Passes `S` through until `deadline`, then sends `pushwire.expired` and ends.
pub(crate) struct Expiry<S> {
    inner: S,
    /// `None`: no deadline (open and public topics), or already expired.
    deadline: Option<Pin<Box<Sleep>>>,
    done: bool,
}

impl<S> Expiry<S> {
    /// `deadline` is wall-clock (a token's `exp`); the timer runs on the
    /// monotonic clock from now.
    pub(crate) fn new(inner: S, deadline: Option<SystemTime>) -> Self {
        let deadline = deadline.map(|at| {
            let left = at.duration_since(SystemTime::now()).unwrap_or_default();
            Box::pin(tokio::time::sleep_until(Instant::now() + left))
        });
        Expiry {
            inner,
            deadline,
            done: false,
        }
    }
}

impl<S: Stream<Item = Chunk> + Unpin> Stream for Expiry<S> {
    type Item = Chunk;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Chunk>> {
        let this = self.get_mut();
        if this.done {
            return Poll::Ready(None);
        }
        if let Some(deadline) = &mut this.deadline {
            if deadline.as_mut().poll(cx).is_ready() {
                this.done = true;
                return Poll::Ready(Some(Chunk {
                    bytes: EXPIRED.clone(),
                    frames: 1,
                }));
            }
        }
        let next = Pin::new(&mut this.inner).poll_next(cx);
        if let Poll::Ready(None) = next {
            this.done = true;
        }
        next
    }
}
