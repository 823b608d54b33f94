//! Our own HTTP/1.1 for the common requests: event streams above all, and
//! publishes and other requests with small bodies.
//!
//! hyper gives every connection an 8 KiB read buffer and an 8 KiB write
//! buffer for as long as it lives. For a server whose connections are mostly
//! idle event streams, those 16 KiB are most of what a subscriber costs. So
//! the accept loop hands each new connection here first:
//!
//! * A request with no body or a `Content-Length` body of at most
//!   [`MAX_INLINE_BODY`] bytes is parsed with `httparse` from a small buffer,
//!   answered by the same warp routes as everything else (routing stays in
//!   `routes.rs`), and its response written straight to the socket: sized
//!   bodies with `Content-Length` (head and body in one write), streams with
//!   chunked encoding (or until close for HTTP/1.0). While a stream is open,
//!   the connection holds only the stream's own state; a read of a few bytes
//!   on the stack notices a client that hangs up.
//! * Anything else (`HEAD`, chunked or larger bodies, `Expect`, upgrades)
//!   goes to hyper, with the bytes already read replayed in front of the
//!   socket ([`Prefixed`]). From then on hyper owns the connection.
//!
//! Limits: [`MAX_REQUEST_HEAD`] bytes and [`MAX_HEADERS`] headers per request
//! head (`431` past either), [`HEADER_READ_TIMEOUT`] to send a request,
//! conflicting `Content-Length`s are `400`, and [`WRITE_STALL_TIMEOUT`] for a
//! client that stops reading altogether.

use std::convert::Infallible;
use std::future::Future;
use std::io::{self, IoSlice};
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::{Duration, Instant, SystemTime};

use bytes::{Buf, Bytes, BytesMut};
use http::header::{self, HeaderName, HeaderValue};
use http::{Method, Request, StatusCode, Uri, Version};
use http_body_util::Full;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, ReadBuf};
use tokio::net::TcpStream;
use tokio_util::sync::CancellationToken;
use warp::reply::Response;

use crate::error::ApiError;
use crate::stats::Stats;

/// Largest request head (request line and headers) accepted, in bytes.
pub const MAX_REQUEST_HEAD: usize = 16 * 1024;
/// Most headers accepted in one request.
pub(crate) const MAX_HEADERS: usize = 64;
/// Longest a client may take to send a request head and body (and longest
/// an idle keep-alive connection waits for the next one).
pub(crate) const HEADER_READ_TIMEOUT: Duration = Duration::from_secs(30);
/// Longest one write may make no progress before the client is dropped as
/// gone (a peer that stopped reading but never closed).
pub(crate) const WRITE_STALL_TIMEOUT: Duration = Duration::from_secs(60);
/// After answering and before closing, how long the server keeps reading
/// (and discarding) what the client still sends, and at most how much: a
/// close with unread bytes makes the kernel send a reset, and the client
/// could lose the response it has not read yet.
pub(crate) const LINGER_TIMEOUT: Duration = Duration::from_secs(1);
pub(crate) const LINGER_MAX_BYTES: usize = 64 * 1024;
/// Chunks up to this size (framing included) are copied into one buffer on
/// the stack and written with one plain write.
const SMALL_CHUNK: usize = 512;
/// Bytes read at a time from a client during a stream response.
const PEER_READ: usize = 256;
/// Largest request body read here; larger ones (and chunked ones) are
/// handed to hyper, which streams them to the route.
pub(crate) const MAX_INLINE_BODY: usize = 64 * 1024;
/// First allocation for reading a request head; grows up to the limit.
const HEAD_BUFFER: usize = 1024;

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
/// request arrives that hyper must serve.
pub(crate) async fn serve<R: Routes>(
    mut socket: TcpStream,
    routes: &R,
    stats: &Stats,
    shutdown: &CancellationToken,
) -> io::Result<Outcome> {
    let mut buf = BytesMut::new();
    loop {
        // Boxed: waiting for a head needs a timer and a shutdown watch, and
        // inline their size would stay in the task for the whole stream.
        let head = Box::pin(async {
            tokio::select! {
                head = tokio::time::timeout(HEADER_READ_TIMEOUT, read_head(&socket, &mut buf)) => match head {
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
                        err.to_response(),
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
                let res = ApiError::new(status, message).to_response();
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
        let res = routes.answer(request).await;
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

enum Head {
    /// A request we serve, and the length of its body (still in `buf`).
    Request(Box<Request<Full<Bytes>>>, usize),
    /// Not ours: hyper serves this connection from here (`buf` holds what
    /// was read so far).
    ForHyper,
    Closed,
    TimedOut,
    Invalid(StatusCode, &'static str),
}

/// Reads what the socket has into `buf` (making room for at least
/// `room` bytes); false at end of stream.
async fn read_more(socket: &TcpStream, buf: &mut BytesMut, room: usize) -> io::Result<bool> {
    buf.reserve(room);
    loop {
        socket.readable().await?;
        match socket.try_read_buf(buf) {
            Ok(n) => return Ok(n > 0),
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
            Err(e) => return Err(e),
        }
    }
}

/// Reads until `buf` holds `len` bytes (a request body).
async fn read_body(socket: &TcpStream, buf: &mut BytesMut, len: usize) -> io::Result<()> {
    while buf.len() < len {
        if !read_more(socket, buf, len - buf.len()).await? {
            return Err(io::ErrorKind::UnexpectedEof.into());
        }
    }
    Ok(())
}

/// Reads until `buf` holds a complete request head (and, for a request we
/// serve, its body), and consumes the head.
async fn read_head(socket: &TcpStream, buf: &mut BytesMut) -> io::Result<Head> {
    loop {
        if !buf.is_empty() {
            let mut headers = [httparse::EMPTY_HEADER; MAX_HEADERS];
            let mut parsed = httparse::Request::new(&mut headers);
            match parsed.parse(buf) {
                Ok(httparse::Status::Complete(len)) => {
                    let head = to_request(&parsed);
                    if let Head::Request(_, body_len) = head {
                        buf.advance(len);
                        return read_body(socket, buf, body_len).await.map(|()| head);
                    }
                    return Ok(head);
                }
                Ok(httparse::Status::Partial) if buf.len() >= MAX_REQUEST_HEAD => {
                    return Ok(Head::Invalid(
                        StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE,
                        "request head too large",
                    ));
                }
                Ok(httparse::Status::Partial) => {}
                Err(httparse::Error::TooManyHeaders) => {
                    return Ok(Head::Invalid(
                        StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE,
                        "too many request headers",
                    ));
                }
                Err(_) => {
                    return Ok(Head::Invalid(
                        StatusCode::BAD_REQUEST,
                        "malformed HTTP request",
                    ))
                }
            }
        }
        if !read_more(socket, buf, HEAD_BUFFER).await? {
            return Ok(Head::Closed);
        }
    }
}

/// The request, if it is one we serve ourselves: any method but `HEAD`
/// (whose responses hyper knows to send without a body), no upgrade, no
/// `Expect`, and a body of at most [`MAX_INLINE_BODY`] bytes given by
/// `Content-Length` (chunked or larger bodies go to hyper, which streams
/// them).
fn to_request(parsed: &httparse::Request<'_, '_>) -> Head {
    let Some(method) = parsed.method.filter(|m| *m != "HEAD") else {
        return Head::ForHyper;
    };
    let mut body_len: Option<usize> = None;
    for h in parsed.headers.iter() {
        if h.name.eq_ignore_ascii_case("transfer-encoding")
            || h.name.eq_ignore_ascii_case("upgrade")
            || h.name.eq_ignore_ascii_case("expect")
        {
            return Head::ForHyper;
        }
        if h.name.eq_ignore_ascii_case("content-length") {
            let len = std::str::from_utf8(h.value)
                .ok()
                .and_then(|v| v.trim().parse::<usize>().ok());
            match len {
                // Two different lengths are a request smuggling attempt.
                Some(len) if body_len.is_none_or(|b| b == len) => body_len = Some(len),
                _ => {
                    return Head::Invalid(StatusCode::BAD_REQUEST, "invalid Content-Length");
                }
            }
        }
    }
    let body_len = body_len.unwrap_or(0);
    if body_len > MAX_INLINE_BODY {
        return Head::ForHyper;
    }
    let invalid = Head::Invalid(StatusCode::BAD_REQUEST, "malformed HTTP request");
    let Ok(uri) = parsed.path.unwrap_or("").parse::<Uri>() else {
        return invalid;
    };
    let Ok(method) = Method::from_bytes(method.as_bytes()) else {
        return invalid;
    };
    let mut request = Request::new(Full::new(Bytes::new()));
    *request.method_mut() = method;
    *request.uri_mut() = uri;
    *request.version_mut() = if parsed.version == Some(0) {
        Version::HTTP_10
    } else {
        Version::HTTP_11
    };
    let headers = request.headers_mut();
    headers.reserve(parsed.headers.len());
    for h in parsed.headers.iter() {
        let (Ok(name), Ok(value)) = (
            HeaderName::from_bytes(h.name.as_bytes()),
            HeaderValue::from_bytes(h.value),
        ) else {
            return invalid;
        };
        headers.append(name, value);
    }
    Head::Request(Box::new(request), body_len)
}

fn has_token(headers: &http::HeaderMap, name: HeaderName, token: &str) -> bool {
    headers.get_all(name).iter().any(|v| {
        v.to_str()
            .is_ok_and(|v| v.split(',').any(|t| t.trim().eq_ignore_ascii_case(token)))
    })
}

/// HTTP/1.1 keeps the connection unless told to close; HTTP/1.0 closes
/// unless told to keep it.
fn wants_keep_alive<B>(request: &Request<B>) -> bool {
    if request.version() == Version::HTTP_10 {
        has_token(request.headers(), header::CONNECTION, "keep-alive")
    } else {
        !has_token(request.headers(), header::CONNECTION, "close")
    }
}

/// How a response body is delimited on the wire.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Framing {
    None,
    Length,
    Chunked,
    UntilClose,
}

/// What the connection does after a response.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum After {
    /// Read the next request.
    KeepAlive,
    /// Close, letting the client read the response first.
    Close,
    /// The client is gone: just drop the socket.
    PeerGone,
}

/// Writes `res`; says what the connection does next.
/// Bytes the client sends meanwhile (a pipelined request) are kept in
/// `read_ahead` for the next request.
///
/// Not an `async fn`: the head is prepared here, and only what a stream
/// needs (its body, the head bytes, the framing) goes into the future that
/// lives as long as the stream.
fn write_response<'a>(
    socket: &'a TcpStream,
    res: Response,
    version: Version,
    keep_alive: bool,
    read_ahead: &'a mut BytesMut,
) -> impl Future<Output = io::Result<After>> + Send + 'a {
    let (parts, body) = res.into_parts();
    let status = parts.status;
    let no_body = status.is_informational()
        || status == StatusCode::NO_CONTENT
        || status == StatusCode::NOT_MODIFIED;
    let declared_length = parts.headers.contains_key(header::CONTENT_LENGTH);
    let framing = if no_body {
        Framing::None
    } else if declared_length || http_body::Body::size_hint(&body).exact().is_some() {
        Framing::Length
    } else if version == Version::HTTP_11 {
        Framing::Chunked
    } else {
        Framing::UntilClose
    };
    let keep_alive = keep_alive
        && framing != Framing::UntilClose
        && !has_token(&parts.headers, header::CONNECTION, "close");

    let mut head = Vec::with_capacity(256);
    head.extend_from_slice(b"HTTP/1.1 ");
    head.extend_from_slice(status.as_str().as_bytes());
    head.push(b' ');
    head.extend_from_slice(status.canonical_reason().unwrap_or("").as_bytes());
    head.extend_from_slice(b"\r\n");
    for (name, value) in &parts.headers {
        if name == header::TRANSFER_ENCODING || name == header::CONNECTION {
            continue;
        }
        if no_body && name == header::CONTENT_LENGTH {
            continue;
        }
        push_header(&mut head, name.as_str().as_bytes(), value.as_bytes());
    }
    if framing == Framing::Length && !declared_length {
        let len = http_body::Body::size_hint(&body).exact().unwrap_or(0);
        push_header(&mut head, b"content-length", len.to_string().as_bytes());
    }
    if framing == Framing::Chunked {
        push_header(&mut head, b"transfer-encoding", b"chunked");
    }
    if !parts.headers.contains_key(header::DATE) {
        push_header(
            &mut head,
            b"date",
            httpdate::fmt_http_date(SystemTime::now()).as_bytes(),
        );
    }
    if !keep_alive {
        push_header(&mut head, b"connection", b"close");
    }
    head.extend_from_slice(b"\r\n");
    drop(parts);
    stream_body(socket, head, body, framing, keep_alive, read_ahead)
}

/// Writes the head, then the body in `framing`.
async fn stream_body<B>(
    socket: &TcpStream,
    head: Vec<u8>,
    mut body: B,
    framing: Framing,
    keep_alive: bool,
    read_ahead: &mut BytesMut,
) -> io::Result<After>
where
    B: http_body::Body<Data = Bytes> + Unpin,
    B::Error: std::fmt::Display,
{
    if framing == Framing::None {
        write_all(socket, &mut [IoSlice::new(&head)]).await?;
        return Ok(after(keep_alive));
    }
    // The head waits for the first frame when that is ready at once (a JSON
    // reply, a stream's first replayed events): one write instead of two.
    // Otherwise it goes out alone, so the client sees the response begin.
    let mut head = Some(head);

    // A stream may stay open for hours: while waiting for its next frame,
    // also watch the socket, so a client that hangs up is noticed at once.
    let watch_peer = framing != Framing::Length;
    loop {
        let next = std::future::poll_fn(|cx| {
            if let Poll::Ready(frame) = Pin::new(&mut body).poll_frame(cx) {
                return Poll::Ready(Ok(Next::Frame(frame)));
            }
            if head.is_some() {
                return Poll::Ready(Ok(Next::NotYet));
            }
            if watch_peer {
                return poll_peer_closed(socket, read_ahead, cx).map_ok(|()| Next::PeerGone);
            }
            Poll::Pending
        })
        .await?;
        let frame = match next {
            Next::Frame(frame) => frame,
            Next::NotYet => {
                if let Some(head) = head.take() {
                    write_all(socket, &mut [IoSlice::new(&head)]).await?;
                }
                continue;
            }
            Next::PeerGone => return Ok(After::PeerGone),
        };
        let data = match frame {
            None => break,
            Some(Err(err)) => {
                tracing::debug!(%err, "response body failed");
                return Ok(After::Close);
            }
            Some(Ok(frame)) => match frame.into_data() {
                Ok(data) if !data.is_empty() => data,
                _ => continue,
            },
        };
        let head = head.take().unwrap_or_default();
        let mut size = [0u8; 18];
        let mut parts = if framing == Framing::Chunked {
            [
                IoSlice::new(&head),
                IoSlice::new(chunk_size_line(data.len(), &mut size)),
                IoSlice::new(&data),
                IoSlice::new(b"\r\n"),
            ]
        } else {
            [
                IoSlice::new(&head),
                IoSlice::new(&data),
                IoSlice::new(&[]),
                IoSlice::new(&[]),
            ]
        };
        let written = try_write_contiguous(socket, &parts)?;
        let mut rest = &mut parts[..];
        IoSlice::advance_slices(&mut rest, written);
        write_all(socket, rest).await?;
    }
    // The body ended: the head (if no frame carried it) and the last chunk.
    let head = head.unwrap_or_default();
    let last_chunk: &[u8] = if framing == Framing::Chunked {
        b"0\r\n\r\n"
    } else {
        b""
    };
    write_all(socket, &mut [IoSlice::new(&head), IoSlice::new(last_chunk)]).await?;
    Ok(after(keep_alive))
}

/// What waiting for a response body's next frame gave.
enum Next<F> {
    Frame(Option<F>),
    /// No frame ready yet, and the head is still unsent.
    NotYet,
    PeerGone,
}

fn after(keep_alive: bool) -> After {
    if keep_alive {
        After::KeepAlive
    } else {
        After::Close
    }
}

/// `{len:x}\r\n` without allocating: a chunk's size line.
fn chunk_size_line(len: usize, buf: &mut [u8; 18]) -> &[u8] {
    let mut start = 16;
    let mut n = len;
    loop {
        start -= 1;
        buf[start] = b"0123456789abcdef"[n & 0xf];
        n >>= 4;
        if n == 0 {
            break;
        }
    }
    buf[16] = b'\r';
    buf[17] = b'\n';
    &buf[start..]
}

fn push_header(head: &mut Vec<u8>, name: &[u8], value: &[u8]) {
    head.extend_from_slice(name);
    head.extend_from_slice(b": ");
    head.extend_from_slice(value);
    head.extend_from_slice(b"\r\n");
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

/// Ready when the peer has closed (or reset) the connection. What it sends
/// meanwhile is kept in `read_ahead` (it is the next request), up to
/// [`MAX_REQUEST_HEAD`] bytes; more is an error that drops the connection.
/// Polled directly on the socket's readiness, not through a future built
/// and dropped on every frame: this runs once per delivered frame.
fn poll_peer_closed(
    socket: &TcpStream,
    read_ahead: &mut BytesMut,
    cx: &mut Context<'_>,
) -> Poll<io::Result<()>> {
    loop {
        match socket.poll_read_ready(cx) {
            Poll::Pending => return Poll::Pending,
            Poll::Ready(Err(e)) => return Poll::Ready(Err(e)),
            Poll::Ready(Ok(())) => {}
        }
        if read_ahead.len() > MAX_REQUEST_HEAD {
            return Poll::Ready(Err(io::Error::other(
                "client sent too much during a stream",
            )));
        }
        // Read on the stack: readiness is often stale, and reserving room in
        // `read_ahead` first would leave every stream holding that room.
        let mut scratch = [0u8; PEER_READ];
        match socket.try_read(&mut scratch) {
            Ok(0) => return Poll::Ready(Ok(())),
            Ok(n) => read_ahead.extend_from_slice(&scratch[..n]),
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
            Err(e) => return Poll::Ready(Err(e)),
        }
    }
}

/// Writes `parts` with one plain `write` from a stack buffer when they are
/// small (most events are): cheaper in the kernel than a writev of three
/// parts. Returns how much was written (0 when the socket is full or the
/// parts are large); the caller writes the rest. Synchronous on purpose: the
/// buffer must not live in the connection's future.
fn try_write_contiguous(socket: &TcpStream, parts: &[IoSlice<'_>]) -> io::Result<usize> {
    let total: usize = parts.iter().map(|p| p.len()).sum();
    if total > SMALL_CHUNK {
        return Ok(0);
    }
    let mut buf = [0u8; SMALL_CHUNK];
    let mut n = 0;
    for p in parts {
        buf[n..n + p.len()].copy_from_slice(p);
        n += p.len();
    }
    match socket.try_write(&buf[..n]) {
        Ok(written) => Ok(written),
        Err(e) if e.kind() == io::ErrorKind::WouldBlock => Ok(0),
        Err(e) => Err(e),
    }
}

/// Writes every byte of `bufs`, in as few system calls as the socket allows.
async fn write_all(socket: &TcpStream, mut bufs: &mut [IoSlice<'_>]) -> io::Result<()> {
    loop {
        // Drops the empty slices in front (a write of nothing reports 0,
        // which would read as a closed socket).
        IoSlice::advance_slices(&mut bufs, 0);
        if bufs.is_empty() {
            return Ok(());
        }
        // Try first: a socket with room in its send buffer (the usual case)
        // is written without building a readiness future.
        match socket.try_write_vectored(bufs) {
            Ok(0) => return Err(io::ErrorKind::WriteZero.into()),
            Ok(n) => {
                IoSlice::advance_slices(&mut bufs, n);
                continue;
            }
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
            Err(e) => return Err(e),
        }
        // Boxed: rare (the client reads slower than events come), and
        // inline the timer would enlarge every connection's task.
        match Box::pin(tokio::time::timeout(WRITE_STALL_TIMEOUT, socket.writable())).await {
            Ok(ready) => ready?,
            Err(_) => {
                return Err(io::Error::new(
                    io::ErrorKind::TimedOut,
                    "client stopped reading",
                ))
            }
        }
    }
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

#[cfg(test)]
mod tests {
    use super::chunk_size_line;

    #[test]
    fn chunk_size_lines_are_lowercase_hex() {
        for len in [
            0usize,
            1,
            9,
            10,
            15,
            16,
            255,
            4096,
            32 * 1024 + 7,
            usize::MAX,
        ] {
            let mut buf = [0u8; 18];
            assert_eq!(
                chunk_size_line(len, &mut buf),
                format!("{len:x}\r\n").as_bytes()
            );
        }
    }
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
        let fut = serve(socket, &NoRoutes, &stats, &token);
        let size = std::mem::size_of_val(&fut);
        assert!(size <= 1152, "the connection future grew to {size} bytes");
    }
}
