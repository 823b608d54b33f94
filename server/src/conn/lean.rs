//! Our own HTTP/1.1 for the common requests: event streams above all, and
//! publishes and other requests with small bodies. The accept loop hands
//! each new connection here first (why: see [the module](super)):
//!
//! * A request with no body or a `Content-Length` body of at most
//!   [`MAX_INLINE_BODY`](super::head::MAX_INLINE_BODY) bytes is parsed with
//!   `httparse` from a small buffer ([`head`](super::head)), answered by the
//!   same warp routes as everything else (routing stays in `routes.rs`), and
//!   its response written straight to the socket
//!   ([`response`](super::response)): sized bodies with `Content-Length`
//!   (head and body in one write), streams with chunked encoding (or until
//!   close for HTTP/1.0). While a stream is open, the connection holds only
//!   the stream's own state; a read of a few bytes on the stack notices a
//!   client that hangs up.
//! * Anything else (`HEAD`, chunked or larger bodies, `Expect`, upgrades)
//!   goes to hyper, with the bytes already read replayed in front of the
//!   socket ([`Prefixed`](super::handoff::Prefixed)). From then on hyper owns
//!   the connection.
//!
//! Limits: [`MAX_REQUEST_HEAD`](super::head::MAX_REQUEST_HEAD) bytes and
//! [`MAX_HEADERS`](super::head::MAX_HEADERS) headers per request head (`431`
//! past either, however many writes the head came in), the server's
//! request timeout (`--request-timeout-ms`) to send a request head and
//! body, `Content-Length` of digits only and never two different ones
//! (`400`), exactly one `Host` (`400`), and
//! [`WRITE_STALL_TIMEOUT`](super::response::WRITE_STALL_TIMEOUT) for a client
//! that stops reading altogether.

use std::convert::Infallible;
use std::future::Future;
use std::io;
use std::pin::Pin;
use std::time::{Duration, Instant};

use bytes::{Bytes, BytesMut};
use http::{Request, StatusCode, Version};
use http_body_util::Full;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio_util::sync::CancellationToken;
use warp::reply::Response;
use warp::Reply;

use super::head::{read_head, wants_keep_alive, Head};
use super::panics::answer_or_500;
use super::response::{write_response, After};
use crate::stats::Stats;
use crate::web::error::ApiError;

/// After answering and before closing, how long the server keeps reading
/// (and discarding) what the client still sends, and at most how much: a
/// close with unread bytes makes the kernel send a reset, and the client
/// could lose the response it has not read yet.
pub(crate) const LINGER_TIMEOUT: Duration = Duration::from_secs(1);
pub(crate) const LINGER_MAX_BYTES: usize = 64 * 1024;

/// What became of a connection served here.
#[derive(Debug)]
pub(crate) enum Outcome {
    /// Finished: the client or the server closed it.
    Closed,
    /// A request for hyper: the socket, and what was already read from it.
    HandOff(TcpStream, Bytes),
}

/// The routes, as a service answering `http::Request`s. The answer is
/// boxed: the routes' future is large and short-lived, and inline its size
/// would stay in the connection's task for as long as a stream runs.
pub(crate) trait Routes: Send + Sync + 'static {
    fn answer(&self, req: Request<Full<Bytes>>) -> Pin<Box<dyn Future<Output = Response> + Send>>;
}

impl<S> Routes for S
where
    S: tower_service::Service<Request<Full<Bytes>>, Response = Response, Error = Infallible>
        + Clone
        + Send
        + Sync
        + 'static,
    S::Future: Send + 'static,
{
    fn answer(&self, req: Request<Full<Bytes>>) -> Pin<Box<dyn Future<Output = Response> + Send>> {
        let mut service = self.clone();
        Box::pin(async move {
            match service.call(req).await {
                Ok(res) => res,
                Err(never) => match never {},
            }
        })
    }
}

/// Serves requests on `socket` until it closes, the server shuts down, or a
/// request arrives that hyper must serve. `request_timeout` bounds how long
/// a client may take to send a request head and body, and how long an idle
/// keep-alive connection waits for the next request.
pub(crate) async fn serve<R: Routes>(
    mut socket: TcpStream,
    routes: &R,
    stats: &Stats,
    shutdown: &CancellationToken,
    request_timeout: Duration,
) -> io::Result<Outcome> {
    let mut buf = BytesMut::new();
    loop {
        // Boxed: waiting for a head needs a timer and a shutdown watch, and
        // inline their size would stay in the task for the whole stream.
        let head = Box::pin(async {
            tokio::select! {
                head = tokio::time::timeout(request_timeout, read_head(&socket, &mut buf)) => match head {
                    Ok(head) => head,
                    Err(_) => Ok(Head::TimedOut),
                },
                () = shutdown.cancelled() => Ok(Head::Closed),
            }
        })
        .await?;
        let request = match head {
            Head::Request(request, body_len) => {
                let mut request = *request;
                *request.body_mut() = Full::new(buf.split_to(body_len).freeze());
                request
            }
            Head::ForHyper => return Ok(Outcome::HandOff(socket, buf.freeze())),
            Head::Closed => return Ok(Outcome::Closed),
            Head::TimedOut => {
                if !buf.is_empty() {
                    let err = ApiError::new(
                        StatusCode::REQUEST_TIMEOUT,
                        "request head not received in time",
                    );
                    write_response(
                        &socket,
                        err.into_response(),
                        Version::HTTP_11,
                        false,
                        &mut buf,
                    )
                    .await?;
                    close_gracefully(&mut socket).await;
                }
                return Ok(Outcome::Closed);
            }
            Head::Invalid(status, message) => {
                let res = ApiError::new(status, message).into_response();
                write_response(&socket, res, Version::HTTP_11, false, &mut buf).await?;
                close_gracefully(&mut socket).await;
                return Ok(Outcome::Closed);
            }
        };
        // Release the head buffer before a possibly endless response.
        if buf.is_empty() {
            buf = BytesMut::new();
        }
        let version = request.version();
        let keep_alive = wants_keep_alive(&request);
        let started = Instant::now();
        let res = answer_or_500(routes.answer(request), stats).await;
        stats.record_response(started.elapsed());
        match write_response(&socket, res, version, keep_alive, &mut buf).await? {
            After::KeepAlive => {}
            After::Close => {
                close_gracefully(&mut socket).await;
                return Ok(Outcome::Closed);
            }
            After::PeerGone => return Ok(Outcome::Closed),
        }
    }
}

/// Sends FIN after the response, then reads what the client still sends
/// (bounded by [`LINGER_TIMEOUT`] and [`LINGER_MAX_BYTES`]) so the close
/// does not turn into a reset that destroys the response in flight.
///
/// Boxed: its buffer and timer would otherwise enlarge every connection's
/// task for the rare moment it runs.
fn close_gracefully(socket: &mut TcpStream) -> Pin<Box<dyn Future<Output = ()> + Send + '_>> {
    Box::pin(async move {
        if socket.shutdown().await.is_err() {
            return;
        }
        let mut scratch = [0u8; 1024];
        let mut drained = 0;
        let _ = tokio::time::timeout(LINGER_TIMEOUT, async {
            while drained < LINGER_MAX_BYTES {
                match socket.read(&mut scratch).await {
                    Ok(0) | Err(_) => break,
                    Ok(n) => drained += n,
                }
            }
        })
        .await;
    })
}

#[cfg(test)]
mod size_tests {
    use super::*;

    /// Routes that are never called: only the future's size matters here.
    struct NoRoutes;

    impl Routes for NoRoutes {
        fn answer(
            &self,
            _req: Request<Full<Bytes>>,
        ) -> Pin<Box<dyn Future<Output = Response> + Send>> {
            Box::pin(async { Response::default() })
        }
    }

    /// Every held connection is one task whose size is fixed by this future;
    /// a large inline future (a timer, a buffer, the routes' future) would
    /// silently add to every subscriber's memory. Release builds measure
    /// about 1 KiB; unoptimised ones a few dozen bytes more.
    #[tokio::test]
    async fn a_connection_future_stays_near_one_kib() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let socket = TcpStream::connect(listener.local_addr().unwrap())
            .await
            .unwrap();
        let (stats, token) = (Stats::default(), CancellationToken::new());
        let fut = serve(socket, &NoRoutes, &stats, &token, Duration::from_secs(1));
        let size = std::mem::size_of_val(&fut);
        assert!(size <= 1152, "the connection future grew to {size} bytes");
    }
}
