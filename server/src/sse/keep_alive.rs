//! `KeepAlive`: a `: heartbeat` comment when a stream has been idle for one
//! interval. It keeps proxies from timing out an idle response and makes a
//! write fail promptly on a dead peer.

use std::pin::Pin;
use std::sync::LazyLock;
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use futures_util::Stream;
use tokio::time::{Instant, Interval, MissedTickBehavior};

use super::Chunk;

/// Interval of the heartbeat comment on an idle stream, unless configured.
pub const DEFAULT_KEEP_ALIVE: Duration = Duration::from_secs(15);

/// The heartbeat frame, encoded once for every connection.
static HEARTBEAT: LazyLock<Bytes> = LazyLock::new(|| {
    pushwire_protocol::encode_comment("heartbeat").unwrap_or_else(|_| Bytes::from_static(b":\n\n"))
});

/// Adds heartbeats to `S` while it is idle.
pub(crate) struct KeepAlive<S> {
    inner: S,
    heartbeat: Interval,
    every: Duration,
    /// When data was last written; the heartbeat is due one interval later.
    last_write: Instant,
}

impl<S> KeepAlive<S> {
    pub(crate) fn new(inner: S, every: Duration) -> Self {
        let mut heartbeat = tokio::time::interval_at(Instant::now() + every, every);
        heartbeat.set_missed_tick_behavior(MissedTickBehavior::Delay);
        KeepAlive {
            inner,
            heartbeat,
            every,
            last_write: Instant::now(),
        }
    }
}

impl<S: Stream<Item = Chunk> + Unpin> Stream for KeepAlive<S> {
    type Item = Chunk;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Chunk>> {
        let this = self.get_mut();
        match Pin::new(&mut this.inner).poll_next(cx) {
            Poll::Ready(Some(chunk)) => {
                this.last_write = Instant::now();
                return Poll::Ready(Some(chunk));
            }
            Poll::Ready(None) => return Poll::Ready(None),
            Poll::Pending => {}
        }
        while this.heartbeat.poll_tick(cx).is_ready() {
            // Rescheduled here, once per interval, rather than on every
            // write: resetting a timer per frame is costly at high rates.
            let due = this.last_write + this.every;
            if Instant::now() >= due {
                this.last_write = Instant::now();
                return Poll::Ready(Some(Chunk {
                    bytes: HEARTBEAT.clone(),
                    frames: 1,
                }));
            }
            this.heartbeat.reset_at(due);
        }
        Poll::Pending
    }
}
