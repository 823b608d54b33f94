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
    shutdown: Pin<Box<WaitForCancellationFutureOwned>>,
    expiry: Option<Pin<Box<tokio::time::Sleep>>>,
    guard: StreamGuard,
    done: bool,
}

impl std::fmt::Debug for SseBody {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SseBody")
            .field("done", &self.done)
            .finish_non_exhaustive()
    }
}

impl SseBody {
    /// Wraps a stream of encoded frames.
    pub fn new(ctx: &SseContext, inner: BoxStream<'static, Bytes>) -> Self {
        let mut heartbeat = tokio::time::interval_at(Instant::now() + ctx.heartbeat, ctx.heartbeat);
        heartbeat.set_missed_tick_behavior(MissedTickBehavior::Delay);
        SseBody {
            inner,
            heartbeat,
            shutdown: Box::pin(ctx.shutdown.clone().cancelled_owned()),
            expiry: ctx.lifetime.map(|l| Box::pin(tokio::time::sleep(l))),
            guard: StreamGuard::new(ctx.stats.clone()),
            done: false,
        }
    }

    fn emit(&mut self, frame: Bytes) -> Poll<Option<Result<Bytes, Infallible>>> {
        self.guard.stats.record_frame(frame.len());
        Poll::Ready(Some(Ok(frame)))
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
        if expired || this.shutdown.as_mut().poll(cx).is_ready() {
            // End cleanly: the client reconnects (elsewhere) and resumes by id.
            this.done = true;
            return Poll::Ready(None);
        }
        match this.inner.as_mut().poll_next(cx) {
            Poll::Ready(Some(frame)) => {
                this.heartbeat.reset();
                return this.emit(frame);
            }
            Poll::Ready(None) => {
                this.done = true;
                return Poll::Ready(None);
            }
            Poll::Pending => {}
        }
        if this.heartbeat.poll_tick(cx).is_ready() {
            return this.emit(HEARTBEAT.clone());
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
