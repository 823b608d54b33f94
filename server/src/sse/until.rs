//! `Until`: ends a stream cleanly when the server shuts down or the
//! stream's lifetime is over. The client then reconnects (elsewhere) and
//! resumes by id.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use futures_util::Stream;

/// Ends `S` on a shutdown signal or after a lifetime, whichever comes first.
pub(crate) struct Until<S> {
    inner: S,
    /// `None` for hub subscriptions: the hub ends those on shutdown, and
    /// watching a token would cost two lock operations per delivery.
    shutdown: Option<Pin<Box<dyn Future<Output = ()> + Send>>>,
    expiry: Option<Pin<Box<tokio::time::Sleep>>>,
    done: bool,
}

impl<S> Until<S> {
    pub(crate) fn new(
        inner: S,
        shutdown: Option<Pin<Box<dyn Future<Output = ()> + Send>>>,
        lifetime: Option<Duration>,
    ) -> Self {
        Until {
            inner,
            shutdown,
            expiry: lifetime.map(|l| Box::pin(tokio::time::sleep(l))),
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
        let expired = this
            .expiry
            .as_mut()
            .is_some_and(|e| e.as_mut().poll(cx).is_ready());
        let shut_down = this
            .shutdown
            .as_mut()
            .is_some_and(|s| s.as_mut().poll(cx).is_ready());
        if expired || shut_down {
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
