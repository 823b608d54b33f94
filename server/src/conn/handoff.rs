//! The rest of a connection, served by hyper: requests the
//! [lean](super::lean) path does not serve (`HEAD`, chunked or larger
//! bodies, `Expect`, upgrades), and every request after them.
//!
//! The lean path has already read part of the connection when it finds such
//! a request; [`Prefixed`] replays those bytes in front of the socket, so
//! hyper sees the connection from its first unanswered byte. From then on
//! hyper owns the connection, with its own buffers, held to the lean
//! path's rules: every request passes [`check_request`], a head is at most
//! [`MAX_REQUEST_HEAD`] bytes and [`MAX_HEADERS`] headers (`431` past
//! either), a body must arrive within the request timeout
//! ([`DeadlineBody`]), and a client that shuts its write side after its
//! request still gets the answer. An error answered here closes the
//! connection.

use std::convert::Infallible;
use std::future::Future;
use std::io::{self, IoSlice};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body::{Body, Frame, SizeHint};
use hyper::body::Incoming;
use hyper::server::conn::http1 as hyper_http1;
use hyper::service::service_fn;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::Watcher;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;
use tower_service::Service;
use warp::reply::Response;
use warp::Reply;

use super::head::{check_request, MAX_HEADERS, MAX_REQUEST_HEAD};
use super::panics::{answer_or_500, closing};
use crate::stats::Stats;
use crate::web::error::ApiError;

/// The routes as [`service`] calls them for hyper.
pub(crate) trait HyperRoutes:
    Service<
        http::Request<DeadlineBody>,
        Response = Response,
        Error = Infallible,
        Future: Send + 'static,
    > + Clone
    + Send
    + 'static
{
}

impl<R> HyperRoutes for R where
    R: Service<
            http::Request<DeadlineBody>,
            Response = Response,
            Error = Infallible,
            Future: Send + 'static,
        > + Clone
        + Send
        + 'static
{
}

/// hyper refuses a read buffer under 8 KiB.
pub(crate) const HYPER_MIN_BUF: usize = 8 * 1024;

/// Serves `socket` with hyper until it closes, the server shuts down
/// (through `watcher`), or the connection fails.
pub(crate) async fn serve<R>(
    socket: Prefixed,
    routes: &R,
    stats: &Arc<Stats>,
    watcher: Watcher,
    request_timeout: Duration,
) -> Result<(), hyper::Error>
where
    R: HyperRoutes,
{
    let svc = service(routes.clone(), stats.clone(), request_timeout);
    let conn = hyper_http1::Builder::new()
        .timer(TokioTimer::new())
        .header_read_timeout(request_timeout)
        // A client may shut its write side once its request is sent and
        // still read the answer; the lean path answers it, so hyper must
        // too (by default it drops the response, calling the end of stream
        // an aborted request).
        .half_close(true)
        .max_buf_size(MAX_REQUEST_HEAD.max(HYPER_MIN_BUF))
        // The buffer's size alone does not bound a head: a read on top of
        // bytes already buffered can take it past the limit, and a 20 KiB
        // head would reach the routes. This bounds every complete head.
        .max_header_size(MAX_REQUEST_HEAD)
        // The lean path's header count limit, not hyper's 100: the same
        // head gets the same 431 wherever the connection is served. (hyper
        // then keeps the headers on the heap, not the stack: a cost only
        // the rarer hyper connections pay.)
        .max_headers(MAX_HEADERS)
        .serve_connection(TokioIo::new(socket), svc);
    // Boxed, so the (rarer) hyper connections' state does not size every
    // connection's task.
    Box::pin(watcher.watch(conn)).await
}

/// The routes as hyper calls them, on HTTP/1.1 here and on HTTP/2 over
/// TLS ([`super::tls`]): every request checked as the lean path checks it,
/// its body under a deadline, a panic answered `500`, its time recorded.
pub(crate) fn service<R>(
    routes: R,
    stats: Arc<Stats>,
    request_timeout: Duration,
) -> impl hyper::service::Service<
    http::Request<Incoming>,
    Response = Response,
    Error = Infallible,
    Future: Send + 'static,
> + Clone
       + 'static
where
    R: HyperRoutes,
{
    service_fn(move |req: http::Request<Incoming>| {
        let started = Instant::now();
        let mut routes = routes.clone();
        let stats = stats.clone();
        async move {
            let res = match check_request(&req) {
                Err((status, message)) => closing(ApiError::new(status, message).into_response()),
                Ok(()) => {
                    let req = req.map(|body| DeadlineBody::new(body, request_timeout));
                    let answer = async move {
                        match routes.call(req).await {
                            Ok(res) => res,
                            Err(never) => match never {},
                        }
                    };
                    answer_or_500(answer, &stats).await
                }
            };
            stats.record_response(started.elapsed());
            Ok::<_, Infallible>(res)
        }
    })
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

/// A request body that must arrive in full within the request timeout,
/// counted from the end of its head: a client that stops sending half-way
/// gets an error (the publish route answers it `408`) instead of holding
/// the connection forever.
#[derive(Debug)]
pub(crate) struct DeadlineBody {
    body: Incoming,
    deadline: Pin<Box<tokio::time::Sleep>>,
}

impl DeadlineBody {
    fn new(body: Incoming, timeout: Duration) -> Self {
        DeadlineBody {
            body,
            deadline: Box::pin(tokio::time::sleep(timeout)),
        }
    }
}

/// The error of a body that did not arrive in time.
#[derive(Debug, thiserror::Error)]
#[error("the request body was not received in time")]
pub(crate) struct BodyTimedOut;

impl Body for DeadlineBody {
    type Data = Bytes;
    type Error = Box<dyn std::error::Error + Send + Sync>;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
        let this = self.get_mut();
        match Pin::new(&mut this.body).poll_frame(cx) {
            Poll::Ready(frame) => Poll::Ready(frame.map(|f| f.map_err(Into::into))),
            Poll::Pending => match this.deadline.as_mut().poll(cx) {
                Poll::Ready(()) => Poll::Ready(Some(Err(Box::new(BodyTimedOut)))),
                Poll::Pending => Poll::Pending,
            },
        }
    }

    fn is_end_stream(&self) -> bool {
        self.body.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.body.size_hint()
    }
}
