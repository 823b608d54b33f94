//! Writing a response straight to the socket: the second half of the
//! [lean](super::lean) HTTP/1.1 path.
//!
//! Sized bodies go out with `Content-Length` (head and body in one write),
//! streams with chunked encoding (or until close for HTTP/1.0). While a
//! stream waits for its next frame, the connection holds only the stream's
//! own state, and a read of a few bytes on the stack notices a client that
//! hangs up. [`write_response`] says what the connection does next
//! ([`After`]).

use std::future::Future;
use std::io::{self, IoSlice};
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::{Duration, SystemTime};

use bytes::{Bytes, BytesMut};
use http::header;
use http::{StatusCode, Version};
use tokio::net::TcpStream;
use warp::reply::Response;

use super::head::{has_token, MAX_REQUEST_HEAD};

/// Longest one write may make no progress before the client is dropped as
/// gone (a peer that stopped reading but never closed).
pub(crate) const WRITE_STALL_TIMEOUT: Duration = Duration::from_secs(60);
/// Chunks up to this size (framing included) are copied into one buffer on
/// the stack and written with one plain write.
const SMALL_CHUNK: usize = 512;
/// Bytes read at a time from a client during a stream response.
const PEER_READ: usize = 256;

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
pub(crate) enum After {
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
pub(crate) fn write_response<'a>(
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
