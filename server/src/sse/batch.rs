//! `Batched`: the frames already waiting are written as one chunk, so a
//! subscriber that is behind catches up in few large writes, not many small.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::{Bytes, BytesMut};
use futures_util::stream::BoxStream;
use futures_util::Stream;

use super::Chunk;

/// Frames already queued are written together, up to this many bytes.
pub(crate) const MAX_BATCH_BYTES: usize = 32 * 1024;

/// A subscriber that finds at least this many frames waiting is behind (the
/// server is saturated): it yields once before writing, to write more at
/// once.
pub(crate) const CATCH_UP_FRAMES: usize = 2;

/// Joins waiting frames of `inner` into chunks of up to [`MAX_BATCH_BYTES`].
pub(crate) struct Batched {
    inner: BoxStream<'static, Bytes>,
    /// The inner stream's `size_hint` counts the frames waiting (hub
    /// subscriptions): batch only while it says more are there, instead of
    /// polling once more after every frame.
    precise_size_hint: bool,
    /// The last poll let others run first to let a backlog grow (see
    /// [`CATCH_UP_FRAMES`]); the next one writes.
    deferred: bool,
    /// The inner stream has ended (after the batch being written).
    inner_done: bool,
}

impl Batched {
    pub(crate) fn new(inner: BoxStream<'static, Bytes>, precise_size_hint: bool) -> Self {
        Batched {
            inner,
            precise_size_hint,
            deferred: false,
            inner_done: false,
        }
    }

    /// Takes `first` and every further frame already waiting, up to
    /// [`MAX_BATCH_BYTES`], as one chunk.
    fn batch(&mut self, first: Bytes, cx: &mut Context<'_>) -> Chunk {
        let mut frames = 1;
        let mut batch: Option<BytesMut> = None;
        let mut len = first.len();
        while len < MAX_BATCH_BYTES {
            if self.precise_size_hint && self.inner.size_hint().0 == 0 {
                break;
            }
            match self.inner.as_mut().poll_next(cx) {
                Poll::Ready(Some(next)) => {
                    let buf = batch.get_or_insert_with(|| {
                        let mut b = BytesMut::with_capacity(MAX_BATCH_BYTES.max(first.len() * 2));
                        b.extend_from_slice(&first);
                        b
                    });
                    buf.extend_from_slice(&next);
                    len += next.len();
                    frames += 1;
                }
                Poll::Ready(None) => {
                    self.inner_done = true;
                    break;
                }
                Poll::Pending => break,
            }
        }
        Chunk {
            bytes: batch.map_or(first, BytesMut::freeze),
            frames,
        }
    }
}

impl Stream for Batched {
    type Item = Chunk;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Chunk>> {
        let this = self.get_mut();
        if this.inner_done {
            return Poll::Ready(None);
        }
        if this.precise_size_hint && !this.deferred && this.inner.size_hint().0 >= CATCH_UP_FRAMES {
            // Behind already: let every other ready task run once before
            // writing, so this subscriber's next write carries what arrives
            // meanwhile. Under saturation that means fewer, larger writes;
            // a subscriber that keeps up never waits here.
            this.deferred = true;
            if std::pin::pin!(tokio::task::yield_now())
                .poll(cx)
                .is_pending()
            {
                return Poll::Pending;
            }
        }
        this.deferred = false;
        match this.inner.as_mut().poll_next(cx) {
            Poll::Ready(Some(frame)) => Poll::Ready(Some(this.batch(frame, cx))),
            Poll::Ready(None) => {
                this.inner_done = true;
                Poll::Ready(None)
            }
            Poll::Pending => Poll::Pending,
        }
    }
}
