//! Raw HTTP/1.1 over a socket, for tests that send bytes no client library
//! would: a byte stream written in pieces, everything the server answers
//! read until it closes, and the responses in it parsed with `httparse`
//! and their own framing (`Content-Length`, chunked, or until close).

use std::net::SocketAddr;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// What the server sent on one connection.
#[derive(Debug)]
pub struct Exchange {
    /// Every byte received.
    pub bytes: Vec<u8>,
    /// True when the server closed the connection (end of stream or reset)
    /// within the bound; false when the bound ran out first.
    pub closed: bool,
}

/// Connects to `addr`, writes each of `pieces` in its own write (with
/// `TCP_NODELAY`, waiting `pause` between them so the server really sees
/// them apart), half-closes the write side when `half_close`, and reads
/// until the server closes or `bound` runs out. Reads while writing, so a
/// server answering early is never blocked; a write the server refuses
/// (it closed) ends the writing, not the reading.
pub async fn exchange(
    addr: SocketAddr,
    pieces: &[&[u8]],
    pause: Duration,
    half_close: bool,
    bound: Duration,
) -> Exchange {
    let socket = TcpStream::connect(addr).await.expect("connect");
    socket.set_nodelay(true).expect("nodelay");
    let (mut rd, mut wr) = socket.into_split();
    let write = async move {
        for (i, piece) in pieces.iter().enumerate() {
            if i > 0 && !pause.is_zero() {
                tokio::time::sleep(pause).await;
            }
            if wr.write_all(piece).await.is_err() {
                return wr;
            }
        }
        if half_close {
            let _ = wr.shutdown().await;
        }
        // Kept open (not dropped) until reading ends: dropping the write
        // half would half-close it.
        wr
    };
    let read = async move {
        let mut bytes = Vec::new();
        let mut chunk = vec![0u8; 16 * 1024];
        let closed = tokio::time::timeout(bound, async {
            loop {
                match rd.read(&mut chunk).await {
                    Ok(0) | Err(_) => break,
                    Ok(n) => bytes.extend_from_slice(&chunk[..n]),
                }
            }
        })
        .await
        .is_ok();
        Exchange { bytes, closed }
    };
    let (_wr, exchange) = tokio::join!(write, read);
    exchange
}

/// One response as parsed from the wire.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RawResponse {
    pub status: u16,
    pub headers: Vec<(String, Vec<u8>)>,
    pub framing: Framing,
    pub body: Vec<u8>,
}

/// How a response's body was delimited.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Framing {
    /// No body by rule (1xx, 204, 304, or the answer to a HEAD).
    None,
    Length,
    Chunked,
    UntilClose,
}

impl RawResponse {
    pub fn header(&self, name: &str) -> Option<&[u8]> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_slice())
    }

    /// The body as JSON, when it is JSON.
    pub fn json(&self) -> Option<serde_json::Value> {
        serde_json::from_slice(&self.body).ok()
    }

    /// The `error` message of a JSON error body.
    pub fn error(&self) -> Option<String> {
        self.json()?.get("error")?.as_str().map(str::to_owned)
    }
}

/// Every response in `bytes`, in order. `head_requests[i]` says whether
/// the request the i-th final (non-1xx) response answers was a `HEAD`
/// (its response has no body whatever its headers say); past the end of
/// the list, requests count as not `HEAD`. `Err` describes bytes that are
/// not a well-framed response (a truncated one included), with what was
/// parsed before them.
pub fn parse_responses(
    mut bytes: &[u8],
    head_requests: &[bool],
) -> Result<Vec<RawResponse>, (Vec<RawResponse>, String)> {
    let mut out: Vec<RawResponse> = Vec::new();
    let mut finals = 0;
    while !bytes.is_empty() {
        let mut headers = [httparse::EMPTY_HEADER; 64];
        let mut res = httparse::Response::new(&mut headers);
        let head_len = match res.parse(bytes) {
            Ok(httparse::Status::Complete(len)) => len,
            Ok(httparse::Status::Partial) => return Err((out, "truncated head".into())),
            Err(e) => return Err((out, format!("bad response head: {e}"))),
        };
        let status = res.code.unwrap_or(0);
        let headers: Vec<(String, Vec<u8>)> = res
            .headers
            .iter()
            .map(|h| (h.name.to_owned(), h.value.to_vec()))
            .collect();
        let mut parsed = RawResponse {
            status,
            headers,
            framing: Framing::None,
            body: Vec::new(),
        };
        bytes = &bytes[head_len..];
        let informational = (100..200).contains(&status);
        // A HEAD the server could not parse (a bad version, say) is not
        // known to it as a HEAD: its error comes with a body, which shows
        // as bytes that do not start the next response.
        let was_head = !informational
            && head_requests.get(finals).copied().unwrap_or(false)
            && (bytes.is_empty() || bytes.starts_with(b"HTTP/"));
        if !informational {
            finals += 1;
        }
        let chunked = parsed
            .header("transfer-encoding")
            .is_some_and(|v| v.eq_ignore_ascii_case(b"chunked"));
        let length = parsed.header("content-length").map(|v| {
            std::str::from_utf8(v)
                .ok()
                .and_then(|v| v.trim().parse::<usize>().ok())
        });
        if informational || was_head || status == 204 || status == 304 {
            parsed.framing = Framing::None;
        } else if chunked {
            parsed.framing = Framing::Chunked;
            match dechunk(bytes) {
                Ok((body, used)) => {
                    parsed.body = body;
                    bytes = &bytes[used..];
                }
                Err(e) => return Err((out, e)),
            }
        } else if let Some(length) = length {
            let Some(len) = length else {
                return Err((out, "bad Content-Length in a response".into()));
            };
            if bytes.len() < len {
                return Err((out, format!("body truncated at {} of {len}", bytes.len())));
            }
            parsed.framing = Framing::Length;
            parsed.body = bytes[..len].to_vec();
            bytes = &bytes[len..];
        } else {
            parsed.framing = Framing::UntilClose;
            parsed.body = bytes.to_vec();
            bytes = &[];
        }
        out.push(parsed);
    }
    Ok(out)
}

/// A chunked body at the start of `bytes`: the body and the bytes used.
fn dechunk(bytes: &[u8]) -> Result<(Vec<u8>, usize), String> {
    let mut body = Vec::new();
    let mut at = 0;
    let line = |at: usize| -> Result<(&[u8], usize), String> {
        let rest = &bytes[at..];
        let end = rest
            .windows(2)
            .position(|w| w == b"\r\n")
            .ok_or("truncated chunk line")?;
        Ok((&rest[..end], at + end + 2))
    };
    loop {
        let (size_line, next) = line(at)?;
        let size = std::str::from_utf8(size_line)
            .ok()
            .map(|s| s.split(';').next().unwrap_or("").trim())
            .and_then(|s| usize::from_str_radix(s, 16).ok())
            .ok_or("bad chunk size")?;
        at = next;
        if size == 0 {
            // Trailers, then the empty line.
            loop {
                let (trailer, next) = line(at)?;
                at = next;
                if trailer.is_empty() {
                    return Ok((body, at));
                }
            }
        }
        if bytes.len() < at + size + 2 {
            return Err("truncated chunk".into());
        }
        body.extend_from_slice(&bytes[at..at + size]);
        if &bytes[at + size..at + size + 2] != b"\r\n" {
            return Err("chunk not followed by CRLF".into());
        }
        at += size + 2;
    }
}

/// Sends `request` (in `pieces`, when given more than one) without
/// half-closing, reads until the server closes, and returns its responses;
/// fails when the server does not close within `bound`.
pub async fn ask_until_closed(
    addr: SocketAddr,
    pieces: &[&[u8]],
    bound: Duration,
) -> Vec<RawResponse> {
    let ex = exchange(addr, pieces, Duration::ZERO, false, bound).await;
    assert!(
        ex.closed,
        "the server did not close the connection within {bound:?}; it sent {:?}",
        String::from_utf8_lossy(&ex.bytes)
    );
    parse_responses(&ex.bytes, &[]).unwrap_or_else(|(_, e)| {
        panic!(
            "{e} in {:?}",
            String::from_utf8_lossy(&ex.bytes[..ex.bytes.len().min(2000)])
        )
    })
}

/// Writes bytes escaped for reading: printable ASCII as is, the rest
/// `\xNN`, and a run of more than 16 equal bytes as `{a×20480}`.
pub fn escape(bytes: &[u8]) -> String {
    let mut out = String::new();
    let mut rest = bytes;
    while let Some(&b) = rest.first() {
        let run = rest.iter().take_while(|&&c| c == b).count();
        let one = [b].escape_ascii().to_string();
        if run > 16 {
            out.push_str(&format!("{{{one}×{run}}}"));
        } else {
            out.push_str(&one.repeat(run));
        }
        rest = &rest[run..];
    }
    out
}
