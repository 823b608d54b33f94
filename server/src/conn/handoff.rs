//! The rest of a connection, served by hyper: requests the
//! [lean](super::lean) path does not serve (`HEAD`, chunked or larger
//! bodies, `Expect`, upgrades), and every request after them.
//!
//! The lean path has already read part of the connection when it finds such
//! a request; [`Prefixed`] replays those bytes in front of the socket, so
//! hyper sees the connection from its first unanswered byte. From then on
//! hyper owns the connection, with its own buffers.

use std::convert::Infallible;
use std::io::{self, IoSlice};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Instant;

use bytes::Bytes;
use hyper::body::Incoming;
use hyper::server::conn::http1 as hyper_http1;
use hyper::service::service_fn;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::Watcher;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;
use tower_service::Service;
use warp::reply::Response;

use super::lean::HEADER_READ_TIMEOUT;
use crate::stats::Stats;

/// Serves `socket` with hyper until it closes, the server shuts down
/// (through `watcher`), or the connection fails.
pub(crate) async fn serve<R>(
    socket: Prefixed,
    routes: &R,
    stats: &Arc<Stats>,
    watcher: Watcher,
) -> Result<(), hyper::Error>
where
    R: Service<http::Request<Incoming>, Response = Response, Error = Infallible> + Clone,
    R::Future: Send + 'static,
{
    let svc = service_fn(move |req| {
        let started = Instant::now();
        let mut routes = routes.clone();
        let stats = stats.clone();
        async move {
            let res = routes.call(req).await;
            stats.record_response(started.elapsed());
            res
        }
    });
    let conn = hyper_http1::Builder::new()
        .timer(TokioTimer::new())
        .header_read_timeout(HEADER_READ_TIMEOUT)
        .serve_connection(TokioIo::new(socket), svc);
    // Boxed, so the (rarer) hyper connections' state does not size every
    // connection's task.
    Box::pin(watcher.watch(conn)).await
}

/// A socket with bytes already read from it replayed first, for hyper.
#[derive(Debug)]
pub(crate) struct Prefixed {
    prefix: Bytes,
    socket: TcpStream,
}

impl Prefixed {
    pub(crate) fn new(socket: TcpStream, prefix: Bytes) -> Self {
        Prefixed { prefix, socket }
    }
}

impl AsyncRead for Prefixed {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        if !this.prefix.is_empty() {
            let n = this.prefix.len().min(buf.remaining());
            buf.put_slice(&this.prefix.split_to(n));
            return Poll::Ready(Ok(()));
        }
        Pin::new(&mut this.socket).poll_read(cx, buf)
    }
}

impl AsyncWrite for Prefixed {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().socket).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().socket).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.socket.is_write_vectored()
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().socket).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().socket).poll_shutdown(cx)
    }
}
