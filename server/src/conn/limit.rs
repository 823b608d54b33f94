//! The connection limit: at most `max_connections` connections are served
//! at once, each holding one permit of a semaphore for as long as it lives.
//!
//! Every accepted socket asks [`ConnectionLimit::admit`] for a permit. One
//! that gets it is served holding a [`ConnectionGuard`], which also counts
//! the connection in the stats and logs its open and close; the guard drops
//! with the connection's task, however that ends, and gives the permit
//! back. One that does not is answered `503` with `Retry-After` and closed
//! ([`reject_full`]), so the server never runs out of file descriptors
//! serving streams it cannot keep.

use std::net::SocketAddr;
use std::sync::atomic::Ordering::Relaxed;
use std::sync::Arc;
use std::time::{Duration, Instant};

use http::StatusCode;
use hyper::server::conn::http1 as hyper_http1;
use hyper::service::service_fn;
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::net::TcpStream;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use warp::Reply;

use crate::stats::Stats;
use crate::web::error::ApiError;

/// The permits for open connections, one per connection.
pub(crate) struct ConnectionLimit {
    permits: Arc<Semaphore>,
    stats: Arc<Stats>,
}

impl ConnectionLimit {
    pub(crate) fn new(max_connections: usize, stats: Arc<Stats>) -> Self {
        // A semaphore holds at most `MAX_PERMITS` (2^61 - 1 on 64-bit), and
        // panics beyond; a larger limit is no limit, as it was before.
        let permits = max_connections.min(Semaphore::MAX_PERMITS);
        ConnectionLimit {
            permits: Arc::new(Semaphore::new(permits)),
            stats,
        }
    }

    /// A guard for one more connection from `peer`, or `None` when every
    /// permit is taken (the connection is then counted as rejected).
    pub(crate) fn admit(&self, peer: SocketAddr) -> Option<ConnectionGuard> {
        match self.permits.clone().try_acquire_owned() {
            Ok(permit) => Some(ConnectionGuard::new(permit, self.stats.clone(), peer)),
            Err(_) => {
                self.stats.connections_rejected.fetch_add(1, Relaxed);
                None
            }
        }
    }
}

/// One admitted connection: holds its permit and counts it as open; logs its
/// open and close at debug level.
pub(crate) struct ConnectionGuard {
    stats: Arc<Stats>,
    peer: SocketAddr,
    opened: Instant,
    /// Given back when the guard drops, just after the count goes down.
    _permit: OwnedSemaphorePermit,
}

impl ConnectionGuard {
    fn new(permit: OwnedSemaphorePermit, stats: Arc<Stats>, peer: SocketAddr) -> Self {
        stats.connections_open.fetch_add(1, Relaxed);
        stats.connections_total.fetch_add(1, Relaxed);
        tracing::debug!(%peer, "connection open");
        ConnectionGuard {
            stats,
            peer,
            opened: Instant::now(),
            _permit: permit,
        }
    }

    /// The client's address, for logs.
    pub(crate) fn peer(&self) -> SocketAddr {
        self.peer
    }
}

impl Drop for ConnectionGuard {
    fn drop(&mut self) {
        self.stats.connections_open.fetch_sub(1, Relaxed);
        tracing::debug!(peer = %self.peer, duration_ms = self.opened.elapsed().as_millis() as u64, "connection closed");
    }
}

/// Answers one request on a connection over the limit with 503 and closes it.
pub(crate) async fn reject_full(socket: TcpStream) {
    let svc = service_fn(|_req| async {
        let mut res = ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "server is at its connection limit; retry later",
        )
        .into_response();
        res.headers_mut().insert(
            http::header::CONNECTION,
            http::HeaderValue::from_static("close"),
        );
        Ok::<_, std::convert::Infallible>(res)
    });
    let conn = hyper_http1::Builder::new()
        .keep_alive(false)
        .timer(TokioTimer::new())
        .header_read_timeout(Duration::from_secs(5))
        .serve_connection(TokioIo::new(socket), svc);
    let _ = conn.await;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_permit_per_open_connection_and_the_stats_stay_exact() {
        let stats = Arc::new(Stats::default());
        let limit = ConnectionLimit::new(2, stats.clone());
        let peer: SocketAddr = "127.0.0.1:9".parse().unwrap();
        let counts = || {
            (
                stats.connections_open.load(Relaxed),
                stats.connections_total.load(Relaxed),
                stats.connections_rejected.load(Relaxed),
            )
        };
        let first = limit.admit(peer).unwrap();
        let _second = limit.admit(peer).unwrap();
        assert!(limit.admit(peer).is_none());
        assert_eq!(counts(), (2, 2, 1));
        // A closed connection gives its permit back.
        drop(first);
        assert_eq!(counts(), (1, 2, 1));
        let _third = limit.admit(peer).unwrap();
        assert!(limit.admit(peer).is_none());
        assert_eq!(counts(), (2, 3, 2));
    }
}
