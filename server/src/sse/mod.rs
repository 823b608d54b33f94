//! `Sse`: a Server-Sent Events response, usable as a warp [`Reply`].
//!
//! Its body is composed of small wrappers, each doing one thing (in the
//! manner of axum's `KeepAliveStream`), outermost first:
//!
//! | wrapper | file | what it does |
//! |---|---|---|
//! | `Counted` | `counted.rs` | counts the open stream, its frames and bytes |
//! | `Until` | `until.rs` | ends cleanly on shutdown or after the stream's lifetime |
//! | `Expiry` | `expiry.rs` | `pushwire.expired`, then the end, when its token expires |
//! | `KeepAlive` | `keep_alive.rs` | a heartbeat comment after an idle interval |
//! | `Batched` | `batch.rs` | frames already waiting go out as one chunk |
//!
//! Inside are encoded frames: a hub [`Subscription`] (already encoded once
//! for every subscriber) or the user's [`SseEvent`]s, encoded as they come.

mod batch;
mod counted;
mod event;
mod expiry;
mod keep_alive;
mod until;

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use bytes::Bytes;
use futures_util::stream::BoxStream;
use futures_util::{Stream, StreamExt};
use http::{header, HeaderValue, StatusCode};
use std::future::Future;

use sync_wrapper::SyncStream;
use tokio_util::sync::CancellationToken;
use warp::reply::Response;
use warp::Reply;

pub use event::SseEvent;
pub use keep_alive::DEFAULT_KEEP_ALIVE;

use crate::hub::Subscription;
use crate::stats::Stats;
use batch::Batched;
use counted::Counted;
use expiry::Expiry;
use keep_alive::KeepAlive;
use until::{Stop, Until};

/// Encoded frames on their way to the socket, and how many frames a chunk
/// holds (for the counters).
pub(crate) struct Chunk {
    bytes: Bytes,
    frames: u64,
}

/// What the server's own SSE responses share: counters, heartbeat
/// interval, stream lifetime, shutdown signal.
#[derive(Debug, Clone)]
pub(crate) struct SseContext {
    pub(crate) stats: Arc<Stats>,
    pub(crate) heartbeat: Duration,
    /// Streams end cleanly after this long, when set.
    pub(crate) lifetime: Option<Duration>,
    pub(crate) shutdown: CancellationToken,
}

/// A Server-Sent Events response: status 200, `Content-Type:
/// text/event-stream`, `Cache-Control: no-cache`, `X-Accel-Buffering: no`,
/// never compressed; a `: heartbeat` comment after every idle
/// [`keep_alive`](Sse::keep_alive) interval.
///
/// ```
/// use futures_util::stream;
/// use pushwire_server::{Sse, SseEvent};
/// use warp::Filter;
///
/// // GET /count: ten events with data 0…9 and ids 0…9.
/// let route = warp::path("count").map(|| {
///     Sse::new(stream::iter((0..10).map(|n| SseEvent::text(n.to_string()).id(n.to_string()))))
/// });
/// # let _ = route;
/// ```
#[must_use = "an Sse response does nothing unless returned from a route"]
pub struct Sse {
    frames: BoxStream<'static, Bytes>,
    /// The frames come from a hub subscription (see [`Sse::subscription`]).
    subscription: bool,
    keep_alive: Duration,
    lifetime: Option<Duration>,
    expires_at: Option<SystemTime>,
    shutdown: Option<Stop>,
    stats: Option<Arc<Stats>>,
}

impl std::fmt::Debug for Sse {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Sse")
            .field("keep_alive", &self.keep_alive)
            .field("lifetime", &self.lifetime)
            .finish_non_exhaustive()
    }
}

impl Sse {
    /// A response streaming `events`. An event that cannot be encoded (a
    /// line break in its id or name) is logged and skipped, never written.
    pub fn new<S>(events: S) -> Self
    where
        S: Stream<Item = SseEvent> + Send + 'static,
    {
        let frames = events.filter_map(|event| {
            let frame = event
                .encode()
                .map_err(|err| tracing::error!(%err, "SSE event not sent: it cannot be encoded"))
                .ok();
            std::future::ready(frame)
        });
        Self::from_frames(frames.boxed(), false)
    }

    /// A response streaming a hub [`Subscription`]: its replay (or
    /// `pushwire.reset`), then live events. The subscription ends when the
    /// hub is closed or cuts it off as too slow.
    pub fn subscription(subscription: Subscription) -> Self {
        Self::from_frames(subscription.boxed(), true)
    }

    /// A response streaming already-encoded frames.
    pub(crate) fn from_frames(frames: BoxStream<'static, Bytes>, subscription: bool) -> Self {
        Sse {
            frames,
            subscription,
            keep_alive: DEFAULT_KEEP_ALIVE,
            lifetime: None,
            expires_at: None,
            shutdown: None,
            stats: None,
        }
    }

    /// Sends a `: heartbeat` comment when nothing was sent for `interval`
    /// (default [`DEFAULT_KEEP_ALIVE`], 15 s).
    pub fn keep_alive(mut self, interval: Duration) -> Self {
        self.keep_alive = interval.max(Duration::from_millis(1));
        self
    }

    /// Ends the stream cleanly after `lifetime`; clients reconnect and
    /// resume by id (this rebalances long-lived connections).
    pub fn lifetime(mut self, lifetime: Duration) -> Self {
        self.lifetime = Some(lifetime);
        self
    }

    /// Sends `pushwire.expired` (`{"reason":"token_expired"}`) at
    /// `deadline`, then ends the stream: for a stream opened with a token
    /// that expires then. The client gets a fresh token and resumes with
    /// its last event id.
    pub fn expires_at(mut self, deadline: SystemTime) -> Self {
        self.expires_at = Some(deadline);
        self
    }

    /// Ends the stream cleanly when `signal` completes (your shutdown
    /// signal, so that a graceful shutdown does not wait for endless
    /// streams). A hub subscription also ends when the hub is closed
    /// ([`Hub::close`](crate::Hub::close)).
    pub fn until(mut self, signal: impl Future<Output = ()> + Send + 'static) -> Self {
        self.shutdown = Some(Box::pin(signal));
        self
    }

    /// The server's settings for its own streams: heartbeat, lifetime,
    /// counters and (except for hub subscriptions, which the hub ends)
    /// the shutdown signal.
    pub(crate) fn in_context(mut self, ctx: &SseContext) -> Self {
        self.keep_alive = ctx.heartbeat;
        self.lifetime = ctx.lifetime;
        self.stats = Some(ctx.stats.clone());
        if !self.subscription {
            // A child token per stream: polling the shared token would lock
            // one mutex (and its waiter list) shared by every stream on
            // every wake-up; a child's lock is this stream's alone.
            self.shutdown = Some(Box::pin(ctx.shutdown.child_token().cancelled_owned()));
        }
        self
    }
}

impl Reply for Sse {
    fn into_response(self) -> Response {
        let body = Counted::new(
            Until::new(
                Expiry::new(
                    KeepAlive::new(
                        Batched::new(self.frames, self.subscription),
                        self.keep_alive,
                    ),
                    self.expires_at,
                ),
                self.shutdown,
                self.lifetime,
            ),
            self.stats,
        );
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
}

/// `204 No Content`: tells a native EventSource the stream is over for good.
pub(crate) fn no_content() -> Response {
    let mut res = Response::default();
    *res.status_mut() = StatusCode::NO_CONTENT;
    res
}
