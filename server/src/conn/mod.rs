//! Connections: everything between an accepted socket and its last byte,
//! done explicitly (in the manner of tokio's mini-redis) rather than hidden
//! in a framework.
//!
//! The path of a connection:
//!
//! 1. **accept**: [`serve`] accepts sockets until shutdown.
//! 2. **limit**: every accepted socket is counted; past `max_connections` a
//!    connection is answered `503` with `Retry-After` and closed, so the
//!    server never runs out of file descriptors serving streams it cannot
//!    keep.
//! 3. **lean HTTP/1.1**: [`lean`] serves the connection's requests, reading
//!    each head with [`head`] and writing each response with [`response`].
//! 4. **hand-off**: from the first request the lean path does not serve
//!    (`HEAD`, chunked or larger bodies, `Expect`, upgrades), hyper serves
//!    the rest of the connection ([`handoff`]).
//!
//! Why a hand-written HTTP/1.1 path: hyper gives every connection an 8 KiB
//! read buffer and an 8 KiB write buffer for as long as it lives. For a
//! server whose connections are mostly idle event streams, those 16 KiB are
//! most of what a subscriber costs. Measured with `cargo xtask bench
//! --scenarios held` (see `BENCHMARKS.md`), a held connection costs
//! pushwire 2.7 KB of RSS, against 14.5–20.4 KB for the servers it is
//! compared with (axum and warp on hyper, hyperlane). The lean path keeps no
//! buffer while a stream idles.
//!
//! On shutdown the listener closes, every SSE stream ends cleanly (clients
//! reconnect and resume by id), hub queues close, and open connections get
//! `shutdown_grace_ms` to finish before the server returns anyway.

use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::sync::atomic::Ordering::Relaxed;
use std::sync::Arc;
use std::time::{Duration, Instant};

use http::StatusCode;
use hyper::server::conn::http1 as hyper_http1;
use hyper::service::service_fn;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::{GracefulShutdown, Watcher};
use tokio::net::{TcpListener, TcpStream};
use tokio_util::task::TaskTracker;
use tower_service::Service;

use crate::app::App;
use crate::error::ApiError;
use crate::stats::Stats;
use crate::{monitoring, routes};
use handoff::Prefixed;
use lean::Outcome;

mod handoff;
mod head;
mod lean;
mod response;

pub use head::MAX_REQUEST_HEAD;

/// How long the accept loop pauses after an accept error such as EMFILE,
/// giving closing connections time to free descriptors.
pub(crate) const ACCEPT_ERROR_BACKOFF: Duration = Duration::from_millis(50);

/// Counts one open TCP connection; logs its open and close at debug level.
struct ConnectionGuard {
    stats: Arc<Stats>,
    peer: SocketAddr,
    opened: Instant,
}

impl ConnectionGuard {
    fn new(stats: Arc<Stats>, peer: SocketAddr) -> Self {
        stats.connections_open.fetch_add(1, Relaxed);
        stats.connections_total.fetch_add(1, Relaxed);
        tracing::debug!(%peer, "connection open");
        ConnectionGuard {
            stats,
            peer,
            opened: Instant::now(),
        }
    }
}

impl Drop for ConnectionGuard {
    fn drop(&mut self) {
        self.stats.connections_open.fetch_sub(1, Relaxed);
        tracing::debug!(peer = %self.peer, duration_ms = self.opened.elapsed().as_millis() as u64, "connection closed");
    }
}

/// Serves `app` on `listener` until `shutdown` completes, then shuts down
/// gracefully. Also runs the monitoring sampler for as long as it serves.
pub async fn serve(listener: TcpListener, app: App, shutdown: impl Future<Output = ()>) {
    let sampler = tokio::spawn(monitoring::run(
        app.hub.clone(),
        app.stats.clone(),
        app.config.monitoring_interval(),
        app.shutdown.clone(),
    ));
    let shared = Arc::new(ConnectionShared {
        routes: warp::service(routes::routes(app.clone())),
        stats: app.stats.clone(),
        shutdown: app.shutdown.clone(),
    });
    let graceful = GracefulShutdown::new();
    let tracker = TaskTracker::new();
    let mut shutdown = std::pin::pin!(shutdown);
    loop {
        let (socket, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(pair) => pair,
                Err(err) => {
                    handle_accept_error(err).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
            () = app.shutdown.cancelled() => break,
        };
        if app.stats.connections_open.load(Relaxed) as usize >= app.config.max_connections {
            app.stats.connections_rejected.fetch_add(1, Relaxed);
            tokio::spawn(reject_full(socket));
            continue;
        }
        // Events must leave at once, not wait for Nagle to coalesce them.
        let _ = socket.set_nodelay(true);
        let guard = ConnectionGuard::new(app.stats.clone(), peer);
        tracker.spawn(serve_connection(
            socket,
            guard,
            shared.clone(),
            graceful.watcher(),
        ));
    }

    tracing::info!("shutting down: closing streams");
    drop(listener);
    app.shutdown.cancel();
    app.hub.close_all();
    let grace = Duration::from_millis(app.config.shutdown_grace_ms);
    tracker.close();
    let all_closed = async {
        graceful.shutdown().await;
        tracker.wait().await;
    };
    if tokio::time::timeout(grace, all_closed).await.is_err() {
        tracing::warn!(
            ?grace,
            "connections still open after the grace period; closing them"
        );
    }
    let _ = sampler.await;
}

/// What every connection task shares: one allocation for the whole server,
/// so each task holds a pointer, not its own copy of the routes.
struct ConnectionShared<R> {
    routes: R,
    stats: Arc<Stats>,
    shutdown: tokio_util::sync::CancellationToken,
}

/// One connection: served by [`lean`] while its requests are ones it
/// serves (event streams, small bodies), by hyper from the first that is not.
async fn serve_connection<R>(
    socket: TcpStream,
    guard: ConnectionGuard,
    shared: Arc<ConnectionShared<R>>,
    watcher: Watcher,
) where
    R: lean::Routes
        + Service<
            http::Request<hyper::body::Incoming>,
            Response = warp::reply::Response,
            Error = std::convert::Infallible,
        > + Clone,
    <R as Service<http::Request<hyper::body::Incoming>>>::Future: Send + 'static,
{
    let outcome = lean::serve(socket, &shared.routes, &shared.stats, &shared.shutdown).await;
    let socket = match outcome {
        Ok(Outcome::Closed) => return,
        Ok(Outcome::HandOff(socket, read)) => Prefixed::new(socket, read),
        Err(err) => {
            tracing::debug!(%err, peer = %guard.peer, "connection ended with an error");
            return;
        }
    };
    if let Err(err) = handoff::serve(socket, &shared.routes, &shared.stats, watcher).await {
        tracing::debug!(%err, peer = %guard.peer, "connection ended with an error");
    }
}

async fn handle_accept_error(err: io::Error) {
    match err.kind() {
        io::ErrorKind::ConnectionAborted
        | io::ErrorKind::ConnectionReset
        | io::ErrorKind::ConnectionRefused => {}
        _ => {
            tracing::error!(%err, "accept failed");
            tokio::time::sleep(ACCEPT_ERROR_BACKOFF).await;
        }
    }
}

/// Answers one request on a connection over the limit with 503 and closes it.
async fn reject_full(socket: TcpStream) {
    let svc = service_fn(|_req| async {
        let mut res = ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "server is at its connection limit; retry later",
        )
        .to_response();
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
