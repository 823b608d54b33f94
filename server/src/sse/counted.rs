//! `Counted`: the last wrapper of every SSE body. It counts the stream as
//! open for as long as it lives (exact however it ends) and adds its frames
//! and bytes to the server's counters.

use std::convert::Infallible;
use std::pin::Pin;
use std::sync::atomic::Ordering::Relaxed;
use std::sync::Arc;
use std::task::{Context, Poll};

use bytes::Bytes;
use futures_util::Stream;

use super::Chunk;
use crate::stats::Stats;

/// A stream adds its frame and byte counts to the shared counters every
/// this many frames (and when it ends), not on every frame: the counters are
/// shared by every connection, and a contended cache line per frame costs
/// more than the frame.
pub(crate) const STATS_FLUSH_FRAMES: u64 = 64;

/// Counts an open SSE stream for as long as it lives.
#[derive(Debug)]
struct StreamGuard {
    stats: Arc<Stats>,
}

impl StreamGuard {
    fn new(stats: Arc<Stats>) -> Self {
        stats.streams_open.fetch_add(1, Relaxed);
        StreamGuard { stats }
    }
}

impl Drop for StreamGuard {
    fn drop(&mut self) {
        self.stats.streams_open.fetch_sub(1, Relaxed);
    }
}

/// Counts the chunks of `S` (when it has counters to count into) and turns
/// them into the body's bytes.
pub(crate) struct Counted<S> {
    inner: S,
    guard: Option<StreamGuard>,
    unflushed_frames: u64,
    unflushed_bytes: u64,
}

impl<S> Counted<S> {
    pub(crate) fn new(inner: S, stats: Option<Arc<Stats>>) -> Self {
        Counted {
            inner,
            guard: stats.map(StreamGuard::new),
            unflushed_frames: 0,
            unflushed_bytes: 0,
        }
    }

    fn flush_stats(&mut self) {
        if let Some(guard) = &self.guard {
            if self.unflushed_frames > 0 {
                guard.stats.record_frames(
                    std::mem::take(&mut self.unflushed_frames),
                    std::mem::take(&mut self.unflushed_bytes),
                );
            }
        }
    }
}

impl<S> Drop for Counted<S> {
    fn drop(&mut self) {
        self.flush_stats();
    }
}

impl<S: Stream<Item = Chunk> + Unpin> Stream for Counted<S> {
    type Item = Result<Bytes, Infallible>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = self.get_mut();
        match Pin::new(&mut this.inner).poll_next(cx) {
            Poll::Ready(Some(chunk)) => {
                this.unflushed_frames += chunk.frames;
                this.unflushed_bytes += chunk.bytes.len() as u64;
                if this.unflushed_frames >= STATS_FLUSH_FRAMES {
                    this.flush_stats();
                }
                Poll::Ready(Some(Ok(chunk.bytes)))
            }
            Poll::Ready(None) => Poll::Ready(None),
            Poll::Pending => Poll::Pending,
        }
    }
}
