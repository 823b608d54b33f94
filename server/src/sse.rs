//! Turning a stream of encoded frames into an SSE HTTP response.
//!
//! [`SseBody`] wraps every SSE stream of the server with what all of them
//! need: an end after the configured stream lifetime, a heartbeat comment when the stream has been idle for one heartbeat
//! interval (it keeps proxies from timing out and makes a write fail promptly
//! on a dead peer), an end on server shutdown, byte and frame counters, and a
//! guard that keeps the open-stream count exact however the stream ends.

use std::convert::Infallible;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::Ordering::Relaxed;
use std::sync::{Arc, LazyLock};
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use futures_util::stream::BoxStream;
use futures_util::Stream;
use http::{header, HeaderValue, StatusCode};
use sync_wrapper::SyncStream;
use tokio::time::{Instant, Interval, MissedTickBehavior};
use tokio_util::sync::{CancellationToken, WaitForCancellationFutureOwned};
use warp::reply::Response;
use warp::Reply;

use crate::stats::Stats;

/// Frames already queued are written together, up to this many bytes, so a
/// subscriber that is behind catches up in few large writes, not many small.
pub const MAX_BATCH_BYTES: usize = 32 * 1024;
/// A stream adds its frame and byte counts to the shared counters every
/// this many frames (and when it ends), not on every frame: the counters are
/// shared by every connection, and a contended cache line per frame costs
/// more than the frame.
pub const STATS_FLUSH_FRAMES: u64 = 64;

/// A subscriber that finds at least this many frames waiting is behind (the
/// server is saturated): it yields once before writing, to write more at
/// once.
pub const CATCH_UP_FRAMES: usize = 2;

/// The heartbeat frame, encoded once for every connection.
static HEARTBEAT: LazyLock<Bytes> = LazyLock::new(|| {
    pushwire_protocol::encode_comment("heartbeat").unwrap_or_else(|_| Bytes::from_static(b":\n\n"))
});

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

/// What every SSE stream shares: counters, heartbeat interval, shutdown signal.
#[derive(Debug, Clone)]
pub struct SseContext {
    pub stats: Arc<Stats>,
    pub heartbeat: Duration,
    /// Streams end cleanly after this long, when set.
    pub lifetime: Option<Duration>,
    pub shutdown: CancellationToken,
}

/// The body of an SSE response: the frames of `inner` plus heartbeats,
/// ending when `inner` ends or the server shuts down.
pub struct SseBody {
    inner: BoxStream<'static, Bytes>,
    heartbeat: Interval,
    heartbeat_every: Duration,
    /// When data was last written; the heartbeat is due one interval later.
    last_write: Instant,
    /// The inner stream's `size_hint` counts the frames waiting (hub
    /// subscriptions): batch only while it says more are there, instead of
    /// polling once more after every frame.
    precise_size_hint: bool,
    /// The last poll let others run first to let a backlog grow (see
    /// [`CATCH_UP_FRAMES`]); the next one writes.
    deferred: bool,
    /// `None` for hub subscriptions: the hub ends those on shutdown.
    shutdown: Option<Pin<Box<WaitForCancellationFutureOwned>>>,
    expiry: Option<Pin<Box<tokio::time::Sleep>>>,
    guard: StreamGuard,
    /// The inner stream has ended (after the batch being written).
    inner_done: bool,
    done: bool,
    unflushed_frames: u64,
    unflushed_bytes: u64,
}

impl std::fmt::Debug for SseBody {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SseBody")
            .field("done", &self.done)
            .finish_non_exhaustive()
    }
}

impl SseBody {
    /// Wraps a stream of encoded frames, ending it on server shutdown.
    pub fn new(ctx: &SseContext, inner: BoxStream<'static, Bytes>) -> Self {
        Self::build(ctx, inner, false)
    }

    /// Wraps a hub subscription. It does not watch the shutdown token: on
    /// shutdown the hub closes every subscriber queue (`Hub::close_all`),
    /// which ends the subscription, and checking the token on every frame
    /// would cost two lock operations per delivery.
    pub fn for_subscription(ctx: &SseContext, inner: BoxStream<'static, Bytes>) -> Self {
        Self::build(ctx, inner, true)
    }

    fn build(ctx: &SseContext, inner: BoxStream<'static, Bytes>, subscription: bool) -> Self {
        let mut heartbeat = tokio::time::interval_at(Instant::now() + ctx.heartbeat, ctx.heartbeat);
        heartbeat.set_missed_tick_behavior(MissedTickBehavior::Delay);
        SseBody {
            inner,
            heartbeat,
            heartbeat_every: ctx.heartbeat,
            last_write: Instant::now(),
            precise_size_hint: subscription,
            deferred: false,
            // A child token per stream: polling the shared token would lock
            // one mutex (and its waiter list) shared by every stream on
            // every wake-up; a child's lock is this stream's alone.
            shutdown: (!subscription)
                .then(|| Box::pin(ctx.shutdown.child_token().cancelled_owned())),
            expiry: ctx.lifetime.map(|l| Box::pin(tokio::time::sleep(l))),
            guard: StreamGuard::new(ctx.stats.clone()),
            inner_done: false,
            done: false,
            unflushed_frames: 0,
            unflushed_bytes: 0,
        }
    }

    fn emit(&mut self, chunk: Bytes, frames: u64) -> Poll<Option<Result<Bytes, Infallible>>> {
        self.unflushed_frames += frames;
        self.unflushed_bytes += chunk.len() as u64;
        if self.unflushed_frames >= STATS_FLUSH_FRAMES {
            self.flush_stats();
        }
        Poll::Ready(Some(Ok(chunk)))
    }

    fn flush_stats(&mut self) {
        if self.unflushed_frames > 0 {
            self.guard.stats.record_frames(
                std::mem::take(&mut self.unflushed_frames),
                std::mem::take(&mut self.unflushed_bytes),
            );
        }
    }

    /// Takes `first` and every further frame already waiting, up to
    /// [`MAX_BATCH_BYTES`], as one chunk.
    fn batch(&mut self, first: Bytes, cx: &mut Context<'_>) -> (Bytes, u64) {
        let mut frames = 1;
        let mut batch: Option<bytes::BytesMut> = None;
        let mut len = first.len();
        while len < MAX_BATCH_BYTES {
            if self.precise_size_hint && self.inner.size_hint().0 == 0 {
                break;
            }
            match self.inner.as_mut().poll_next(cx) {
                Poll::Ready(Some(next)) => {
                    let buf = batch.get_or_insert_with(|| {
                        let mut b =
                            bytes::BytesMut::with_capacity(MAX_BATCH_BYTES.max(first.len() * 2));
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
        (batch.map_or(first, bytes::BytesMut::freeze), frames)
    }
}

impl Drop for SseBody {
    fn drop(&mut self) {
        self.flush_stats();
    }
}

impl Stream for SseBody {
    type Item = Result<Bytes, Infallible>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
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
            // End cleanly: the client reconnects (elsewhere) and resumes by id.
            this.done = true;
            return Poll::Ready(None);
        }
        if this.inner_done {
            this.done = true;
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
            Poll::Ready(Some(frame)) => {
                let (chunk, frames) = this.batch(frame, cx);
                this.last_write = Instant::now();
                return this.emit(chunk, frames);
            }
            Poll::Ready(None) => {
                this.done = true;
                return Poll::Ready(None);
            }
            Poll::Pending => {}
        }
        while this.heartbeat.poll_tick(cx).is_ready() {
            // Rescheduled here, once per interval, rather than on every
            // write: resetting a timer per frame is costly at high rates.
            let due = this.last_write + this.heartbeat_every;
            if Instant::now() >= due {
                this.last_write = Instant::now();
                return this.emit(HEARTBEAT.clone(), 1);
            }
            this.heartbeat.reset_at(due);
        }
        Poll::Pending
    }
}

/// The SSE response for `body`: status 200 and the SSE headers. Compression
/// is never applied (it would buffer events); hyper handles connection headers.
pub fn sse_response(body: SseBody) -> Response {
    let mut res = warp::reply::stream(SyncStream::new(body)).into_response();
    let headers = res.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/event-stream"),
    );
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    headers.insert("x-accel-buffering", HeaderValue::from_static("no"));
    res
}

/// `204 No Content`: tells a native EventSource the stream is over for good.
pub fn no_content() -> Response {
    let mut res = Response::default();
    *res.status_mut() = StatusCode::NO_CONTENT;
    res
}
