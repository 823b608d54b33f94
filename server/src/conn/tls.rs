//! A connection over TLS: the handshake (bounded by the request timeout,
//! abandoned on shutdown), then hyper serving HTTP/2 or HTTP/1.1, whichever
//! ALPN chose.
//!
//! HTTP/2 is what TLS is for here: a browser opens at most six HTTP/1.1
//! connections per host, so a page with more event streams than that
//! stalls; over HTTP/2 they are streams of one connection, up to
//! `--max-streams`. hyper only polls a response body while its stream has
//! send capacity (`--h2-send-buffer-bytes`), so a stream whose reader stops
//! holds back nothing but itself: its subscriber queue fills, the hub cuts
//! it off, and it resumes through replay.
//!
//! Both protocols go through the same checked service as the hand-off
//! path ([`handoff::service`](super::handoff::service)); the lean HTTP/1.1
//! path stays for plaintext.

use std::sync::Arc;
use std::time::Duration;

use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto;
use hyper_util::server::graceful::Watcher;
use tokio::net::TcpStream;

use super::handoff;
use super::head::{MAX_HEADERS, MAX_REQUEST_HEAD};
use super::limit::ConnectionGuard;
use super::{ConnectionRoutes, ConnectionShared};
use crate::config::Config;
use crate::tls::Tls;

/// The HTTP/2 settings of every TLS connection, from the configuration.
#[derive(Debug, Clone)]
pub(crate) struct H2Settings {
    max_streams: u32,
    keepalive: Option<Duration>,
    keepalive_timeout: Duration,
    stream_window: u32,
    connection_window: u32,
    send_buffer: usize,
    max_header_list: u32,
}

impl H2Settings {
    pub(crate) fn from_config(config: &Config) -> H2Settings {
        H2Settings {
            max_streams: config.max_streams,
            keepalive: (config.h2_keepalive_ms > 0)
                .then(|| Duration::from_millis(config.h2_keepalive_ms)),
            keepalive_timeout: Duration::from_millis(config.h2_keepalive_timeout_ms),
            stream_window: config.h2_stream_window_bytes,
            connection_window: config.h2_connection_window_bytes,
            send_buffer: config.h2_send_buffer_bytes,
            max_header_list: config.h2_max_header_list_bytes,
        }
    }
}

/// Serves one TLS connection until it closes, the server shuts down, or
/// the handshake fails or takes longer than the request timeout.
pub(crate) async fn serve<R>(
    socket: TcpStream,
    guard: ConnectionGuard,
    tls: Tls,
    h2: Arc<H2Settings>,
    shared: Arc<ConnectionShared<R>>,
    watcher: Watcher,
) where
    R: ConnectionRoutes,
{
    let timeout = shared.request_timeout;
    let handshake = tokio::time::timeout(timeout, tls.acceptor().accept(socket));
    let stream = tokio::select! {
        done = handshake => match done {
            Ok(Ok(stream)) => stream,
            Ok(Err(err)) => {
                tracing::debug!(%err, peer = %guard.peer(), "TLS handshake failed");
                return;
            }
            Err(_) => {
                tracing::debug!(peer = %guard.peer(), "TLS handshake timed out");
                return;
            }
        },
        () = shared.shutdown.cancelled() => return,
    };
    let svc = handoff::service(shared.routes.clone(), shared.stats.clone(), timeout);
    let mut builder = auto::Builder::new(TokioExecutor::new());
    builder
        .http1()
        .timer(TokioTimer::new())
        .header_read_timeout(timeout)
        .half_close(true)
        // hyper-util's builder has no `max_header_size`: the buffer bounds
        // a head, give or take the last TLS record read (16 KiB at most).
        .max_buf_size(MAX_REQUEST_HEAD.max(handoff::HYPER_MIN_BUF))
        .max_headers(MAX_HEADERS);
    builder
        .http2()
        .timer(TokioTimer::new())
        .max_concurrent_streams(h2.max_streams)
        .keep_alive_interval(h2.keepalive)
        .keep_alive_timeout(h2.keepalive_timeout)
        .initial_stream_window_size(h2.stream_window)
        .initial_connection_window_size(h2.connection_window)
        .max_send_buf_size(h2.send_buffer)
        .max_header_list_size(h2.max_header_list);
    let conn = builder.serve_connection_with_upgrades(TokioIo::new(stream), svc);
    if let Err(err) = watcher.watch(conn.into_owned()).await {
        tracing::debug!(%err, peer = %guard.peer(), "TLS connection ended with an error");
    }
}
