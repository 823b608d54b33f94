//! `Until`: ends a stream cleanly when the server shuts down or the
//! stream's lifetime is over. The client then reconnects (elsewhere) and
//! resumes by id.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use futures_util::Stream;

/// A signal that ends a stream.
pub(crate) type Stop = Pin<Box<dyn Future<Output = ()> + Send>>;

/// Ends `S` on a shutdown signal or after a lifetime, whichever comes first.
pub(crate) struct Until<S> {
    inner: S,
    /// The shutdown signal and the lifetime as one boxed future: one field
    /// in every held connection instead of two. `None` for a hub
    /// subscription without a lifetime: the hub ends those on shutdown, and
    /// watching a token would cost two lock operations per delivery.
    stop: Option<Stop>,
    done: bool,
}

impl<S> Until<S> {
    pub(crate) fn new(inner: S, shutdown: Option<Stop>, lifetime: Option<Duration>) -> Self {
        let stop: Option<Stop> = match (shutdown, lifetime) {
            (None, None) => None,
            (Some(shutdown), None) => Some(shutdown),
            (None, Some(lifetime)) => Some(Box::pin(tokio::time::sleep(lifetime))),
            (Some(shutdown), Some(lifetime)) => Some(Box::pin(async move {
                tokio::select! {
                    () = shutdown => {}
                    () = tokio::time::sleep(lifetime) => {}
                }
            })),
        };
        Until {
            inner,
            stop,
            done: false,
        }
    }
}

impl<S: Stream + Unpin> Stream for Until<S> {
    type Item = S::Item;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<S::Item>> {
        let this = self.get_mut();
        if this.done {
            return Poll::Ready(None);
        }
        if this
            .stop
            .as_mut()
            .is_some_and(|stop| stop.as_mut().poll(cx).is_ready())
        {
            this.done = true;
            return Poll::Ready(None);
        }
        let next = Pin::new(&mut this.inner).poll_next(cx);
        if let Poll::Ready(None) = next {
            this.done = true;
        }
        next
    }
}
