//! Connections: everything between an accepted socket and its last byte,
//! done explicitly (in the manner of tokio's mini-redis) rather than hidden
//! in a framework.
//!
//! The path of a connection:
//!
//! 1. **accept**: [`serve`] accepts sockets until shutdown.
//! 2. **permit**: each connection holds one of `max_connections` permits for
//!    as long as it lives ([`limit`]); without one it is answered `503` with
//!    `Retry-After` and closed, so the server never runs out of file
//!    descriptors serving streams it cannot keep.
//! 3. **lean HTTP/1.1**: [`lean`] serves the connection's requests, reading
//!    each head with [`head`] and writing each response with [`response`];
//!    a publish skips warp's routing ([`shortcut`]).
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
use std::sync::Arc;
use std::time::Duration;

use hyper_util::server::graceful::{GracefulShutdown, Watcher};
use tokio::net::{TcpListener, TcpStream};
use tokio_util::task::TaskTracker;
use tower_service::Service;

use crate::demo::monitoring;
use crate::hub::delivery_first::ConnectionTask;
use crate::stats::Stats;
use crate::web::routes;
use crate::web::App;
use handoff::{DeadlineBody, Prefixed};
use lean::Outcome;
use limit::{reject_full, ConnectionGuard, ConnectionLimit};
use shortcut::PublishShortcut;

mod handoff;
pub(crate) mod head;
mod lean;
mod limit;
mod panics;
mod response;
mod shortcut;
#[cfg(feature = "tls")]
mod tls;

/// What [`run`] serves TLS with: nothing can be built without the feature.
#[cfg(feature = "tls")]
type TlsConfig = crate::tls::Tls;
#[cfg(not(feature = "tls"))]
type TlsConfig = std::convert::Infallible;

pub(crate) use handoff::BodyTimedOut;
pub use head::MAX_REQUEST_HEAD;

/// How long the accept loop pauses after an accept error such as EMFILE,
/// giving closing connections time to free descriptors.
pub(crate) const ACCEPT_ERROR_BACKOFF: Duration = Duration::from_millis(50);

/// Serves `app` on `listener` until `shutdown` completes, then shuts down
/// gracefully. Also runs the monitoring sampler for as long as it serves.
pub async fn serve(listener: TcpListener, app: App, shutdown: impl Future<Output = ()>) {
    run(listener, app, None, shutdown).await;
}

#[cfg(feature = "tls")]
/// [`serve`] over TLS with `tls`: HTTPS, HTTP/2 or HTTP/1.1 as each client's
/// ALPN chooses, with the HTTP/2 limits of the app's configuration
/// (`--max-streams`, `--h2-*`). On shutdown every HTTP/2 connection gets
/// GOAWAY and its event streams end cleanly.
pub async fn serve_tls(
    listener: TcpListener,
    app: App,
    tls: crate::tls::Tls,
    shutdown: impl Future<Output = ()>,
) {
    run(listener, app, Some(tls), shutdown).await;
}

/// The accept loop of [`serve`] and [`serve_tls`].
async fn run(
    listener: TcpListener,
    app: App,
    tls: Option<TlsConfig>,
    shutdown: impl Future<Output = ()>,
) {
    let sampler = tokio::spawn(monitoring::run(
        app.backend.clone(),
        app.stats.clone(),
        app.config.monitoring_interval(),
        app.shutdown.clone(),
    ));
    let shared = Arc::new(ConnectionShared {
        routes: connection_routes(&app),
        stats: app.stats.clone(),
        shutdown: app.shutdown.clone(),
        request_timeout: app.config.request_timeout(),
    });
    let limit = ConnectionLimit::new(app.config.max_connections, app.stats.clone());
    #[cfg(feature = "tls")]
    let h2 = Arc::new(tls::H2Settings::from_config(&app.config));
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
        let Some(guard) = limit.admit(peer) else {
            // Tracked like every connection task: shutdown waits for the
            // 503 to be written (within the grace period) instead of
            // cutting it off.
            tracker.spawn(reject_full(socket));
            continue;
        };
        // Events must leave at once, not wait for Nagle to coalesce them.
        let _ = socket.set_nodelay(true);
        match &tls {
            None => tracker.spawn(serve_connection(
                socket,
                guard,
                shared.clone(),
                graceful.watcher(),
            )),
            #[cfg(not(feature = "tls"))]
            Some(never) => match *never {},
            #[cfg(feature = "tls")]
            Some(tls) => tracker.spawn(ConnectionTask::new(panics::contain(
                tls::serve(
                    socket,
                    guard,
                    tls.clone(),
                    h2.clone(),
                    shared.clone(),
                    graceful.watcher(),
                ),
                app.stats.clone(),
            ))),
        };
    }

    tracing::info!("shutting down: closing streams");
    drop(listener);
    app.shutdown();
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
    request_timeout: Duration,
}

/// The routes as both paths of a connection call them: the lean path
/// through [`lean::Routes`], hyper as a `Service` of requests whose bodies
/// have a deadline.
trait ConnectionRoutes:
    lean::Routes
    + Service<
        http::Request<DeadlineBody>,
        Response = warp::reply::Response,
        Error = std::convert::Infallible,
        Future: Send + 'static,
    > + Clone
{
}

impl<R> ConnectionRoutes for R where
    R: lean::Routes
        + Service<
            http::Request<DeadlineBody>,
            Response = warp::reply::Response,
            Error = std::convert::Infallible,
            Future: Send + 'static,
        > + Clone
{
}

/// Every route of the server, publishes on the lean path taken by the
/// [`shortcut`].
fn connection_routes(app: &App) -> impl ConnectionRoutes {
    PublishShortcut::new(app.clone(), warp::service(routes::routes(app.clone())))
}

/// One connection: served by [`lean`] while its requests are ones it
/// serves (event streams, small bodies), by hyper from the first that is
/// not; a panic anywhere in it is contained ([`panics`]).
fn serve_connection<R>(
    socket: TcpStream,
    guard: ConnectionGuard,
    shared: Arc<ConnectionShared<R>>,
    watcher: Watcher,
) -> impl Future<Output = ()> + Send
where
    R: ConnectionRoutes,
{
    let stats = shared.stats.clone();
    ConnectionTask::new(panics::contain(
        connection(socket, guard, shared, watcher),
        stats,
    ))
}

/// [`serve_connection`]'s work, inside its panic boundary.
///
/// A plain `fn` returning an `async move` block, not an `async fn`: the
/// block holds what it captures once, where an `async fn` keeps its
/// arguments apart from the locals they move into, so that every byte of
/// the guard counted twice in every connection's task (measured: the task
/// is 96 B smaller this way).
#[allow(clippy::manual_async_fn)] // on purpose: see above
fn connection<R>(
    socket: TcpStream,
    guard: ConnectionGuard,
    shared: Arc<ConnectionShared<R>>,
    watcher: Watcher,
) -> impl Future<Output = ()> + Send
where
    R: ConnectionRoutes,
{
    async move {
        let timeout = shared.request_timeout;
        let outcome = lean::serve(
            socket,
            &shared.routes,
            &shared.stats,
            &shared.shutdown,
            timeout,
        )
        .await;
        let socket = match outcome {
            Ok(Outcome::Closed) => return,
            Ok(Outcome::HandOff(socket, read)) => Prefixed::new(socket, read),
            Err(err) => {
                tracing::debug!(%err, peer = %guard.peer(), "connection ended with an error");
                return;
            }
        };
        if let Err(err) =
            handoff::serve(socket, &shared.routes, &shared.stats, watcher, timeout).await
        {
            tracing::debug!(%err, peer = %guard.peer(), "connection ended with an error");
        }
    }
}

/// Serves `app` with hyper alone, no lean path: the reference the
/// differential test compares the lean path with. Runs until the task is
/// dropped.
pub(crate) async fn serve_hyper_only(listener: TcpListener, app: App) {
    let routes = warp::service(routes::routes(app.clone()));
    let graceful = GracefulShutdown::new();
    let timeout = app.config.request_timeout();
    loop {
        let Ok((socket, _)) = listener.accept().await else {
            continue;
        };
        let _ = socket.set_nodelay(true);
        let (routes, stats, watcher) = (routes.clone(), app.stats.clone(), graceful.watcher());
        tokio::spawn(async move {
            let socket = Prefixed::new(socket, bytes::Bytes::new());
            let _ = handoff::serve(socket, &routes, &stats, watcher, timeout).await;
        });
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

#[cfg(test)]
mod size_tests {
    use super::*;

    /// Every held connection is one task whose size is fixed by this future
    /// (a hand-off to hyper boxes the rest), so it must not grow. It was
    /// 1320 B unoptimised before the connection limit became a permit, and
    /// measures 1256 B now (1224 B in release builds).
    #[tokio::test]
    async fn a_connection_task_does_not_grow() {
        let app = App::new(crate::Config::default());
        let shared = Arc::new(ConnectionShared {
            routes: connection_routes(&app),
            stats: app.stats.clone(),
            shutdown: app.shutdown.clone(),
            request_timeout: app.config.request_timeout(),
        });
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let socket = TcpStream::connect(listener.local_addr().unwrap())
            .await
            .unwrap();
        let peer = socket.local_addr().unwrap();
        let limit = ConnectionLimit::new(1, app.stats.clone());
        let guard = limit.admit(peer).unwrap();
        let graceful = GracefulShutdown::new();
        let fut = serve_connection(socket, guard, shared, graceful.watcher());
        let size = std::mem::size_of_val(&fut);
        assert!(size <= 1280, "the connection task grew to {size} bytes");
    }
}
