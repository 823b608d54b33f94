//! Reading a request head, and the small body that comes with it, off a
//! socket: the first half of the [lean](super::lean) HTTP/1.1 path.
//!
//! A head is parsed with `httparse` from a buffer that starts at
//! [`HEAD_BUFFER`] bytes and grows only as the request needs, up to
//! [`MAX_REQUEST_HEAD`]. [`read_head`] says what to do with what arrived:
//! serve it here (with its `Content-Length` body of at most
//! [`MAX_INLINE_BODY`] bytes already read), hand the connection to hyper,
//! or answer an error. Nothing here writes to the socket.

use std::io;

use bytes::{Buf, Bytes, BytesMut};
use http::header::{self, HeaderName, HeaderValue};
use http::{Method, Request, StatusCode, Uri, Version};
use http_body_util::Full;
use tokio::net::TcpStream;

/// Largest request head (request line and headers) accepted, in bytes.
pub const MAX_REQUEST_HEAD: usize = 16 * 1024;
/// Most headers accepted in one request.
pub(crate) const MAX_HEADERS: usize = 64;
/// Largest request body read here; larger ones (and chunked ones) are
/// handed to hyper, which streams them to the route.
pub(crate) const MAX_INLINE_BODY: usize = 64 * 1024;
/// First allocation for reading a request head; grows up to the limit.
const HEAD_BUFFER: usize = 1024;

/// What reading a request head found.
pub(crate) enum Head {
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
pub(crate) async fn read_head(socket: &TcpStream, buf: &mut BytesMut) -> io::Result<Head> {
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

pub(crate) fn has_token(headers: &http::HeaderMap, name: HeaderName, token: &str) -> bool {
    headers.get_all(name).iter().any(|v| {
        v.to_str()
            .is_ok_and(|v| v.split(',').any(|t| t.trim().eq_ignore_ascii_case(token)))
    })
}

/// HTTP/1.1 keeps the connection unless told to close; HTTP/1.0 closes
/// unless told to keep it.
pub(crate) fn wants_keep_alive<B>(request: &Request<B>) -> bool {
    if request.version() == Version::HTTP_10 {
        has_token(request.headers(), header::CONNECTION, "keep-alive")
    } else {
        !has_token(request.headers(), header::CONNECTION, "close")
    }
}
