//! The server's own HTTP/1.1 path (body-less GETs, event streams above all)
//! and its hand-off to hyper, checked byte for byte over raw sockets:
//! framing, keep-alive, pipelining, HTTP/1.0, limits, and noticing a client
//! that hangs up.
#![allow(clippy::unwrap_used)]

mod common;

use common::{TestServer, DEADLINE};
use pushwire_protocol::{Item, Parser};
use pushwire_server::MAX_REQUEST_HEAD;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// One response read off a raw connection.
#[derive(Debug)]
struct RawResponse {
    status: u16,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl RawResponse {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).unwrap()
    }
}

/// Reads responses from a connection, keeping bytes that belong to the next.
struct Reader {
    socket: TcpStream,
    buf: Vec<u8>,
}

impl Reader {
    async fn connect(server: &TestServer) -> Reader {
        let addr = server.base.trim_start_matches("http://");
        Reader {
            socket: TcpStream::connect(addr).await.unwrap(),
            buf: Vec::new(),
        }
    }

    /// Opens a connection, sends `request`, reads the response.
    async fn ask(server: &TestServer, request: &[u8]) -> (Reader, RawResponse) {
        let mut conn = Reader::connect(server).await;
        conn.send(request).await;
        let res = conn.response().await;
        (conn, res)
    }

    async fn send(&mut self, bytes: &[u8]) {
        self.socket.write_all(bytes).await.unwrap();
    }

    /// Reads more bytes; false at end of stream.
    async fn fill(&mut self) -> bool {
        let mut chunk = [0u8; 4096];
        let n = tokio::time::timeout(DEADLINE, self.socket.read(&mut chunk))
            .await
            .expect("server went silent")
            .unwrap();
        self.buf.extend_from_slice(&chunk[..n]);
        n > 0
    }

    async fn take(&mut self, n: usize) -> Vec<u8> {
        while self.buf.len() < n {
            assert!(self.fill().await, "connection closed mid-message");
        }
        self.buf.drain(..n).collect()
    }

    async fn line(&mut self) -> String {
        loop {
            if let Some(i) = self.buf.windows(2).position(|w| w == b"\r\n") {
                let line = String::from_utf8(self.buf.drain(..i + 2).collect()).unwrap();
                return line.trim_end().to_owned();
            }
            assert!(self.fill().await, "connection closed mid-line");
        }
    }

    /// Reads one whole response, decoding whichever framing it uses.
    async fn response(&mut self) -> RawResponse {
        let res = self.response_head().await;
        self.response_body(res).await
    }

    /// Reads a response's status line and headers only (the answer to HEAD).
    async fn response_head(&mut self) -> RawResponse {
        let status_line = self.line().await;
        let status = status_line.split(' ').nth(1).unwrap().parse().unwrap();
        let mut headers = Vec::new();
        loop {
            let line = self.line().await;
            if line.is_empty() {
                break;
            }
            let (name, value) = line.split_once(':').unwrap();
            headers.push((name.trim().to_owned(), value.trim().to_owned()));
        }
        RawResponse {
            status,
            headers,
            body: Vec::new(),
        }
    }

    async fn response_body(&mut self, mut res: RawResponse) -> RawResponse {
        let status = res.status;
        if status == 204 || status == 304 {
            return res;
        }
        if let Some(len) = res.header("content-length") {
            res.body = self.take(len.parse().unwrap()).await;
        } else if res.header("transfer-encoding") == Some("chunked") {
            loop {
                let size = usize::from_str_radix(&self.line().await, 16).unwrap();
                let chunk = self.take(size + 2).await;
                assert_eq!(&chunk[size..], b"\r\n", "chunk not followed by CRLF");
                if size == 0 {
                    break;
                }
                res.body.extend_from_slice(&chunk[..size]);
            }
        } else {
            while self.fill().await {}
            res.body = std::mem::take(&mut self.buf);
        }
        res
    }

    /// True once the server has closed the connection (nothing else sent).
    async fn closed(&mut self) -> bool {
        !self.fill().await && self.buf.is_empty()
    }
}

/// (event type, last event id) of every event in `body`.
fn events(body: &[u8]) -> Vec<(String, String)> {
    let mut parser = Parser::new();
    let mut out = Vec::new();
    parser.feed_with(body, |item| {
        if let Item::Event(e) = item {
            out.push((e.event, e.id));
        }
    });
    out
}

/// The demo stream: connection, 20 data events, close, then the end event
/// (which has no id of its own, so the last id stays `close-1`).
fn demo_events() -> Vec<(String, String)> {
    let mut out = vec![("connection".to_owned(), "conn-1".to_owned())];
    out.extend((1..=20).map(|n| ("data".to_owned(), format!("data-{n}"))));
    out.push(("close".to_owned(), "close-1".to_owned()));
    out.push(("pushwire.end".to_owned(), "close-1".to_owned()));
    out
}

#[tokio::test]
async fn a_stream_is_chunked_ends_with_the_last_chunk_and_keeps_the_connection() {
    let server = TestServer::start().await;
    let mut conn = Reader::connect(&server).await;
    conn.send(
        b"GET /sse/demo?interval_ms=1 HTTP/1.1\r\nHost: t\r\nAccept: text/event-stream\r\n\r\n",
    )
    .await;
    let res = conn.response().await;
    assert_eq!(res.status, 200);
    assert_eq!(res.header("content-type"), Some("text/event-stream"));
    assert_eq!(res.header("cache-control"), Some("no-cache"));
    assert_eq!(res.header("transfer-encoding"), Some("chunked"));
    assert_eq!(res.header("connection"), None);
    assert!(res.header("date").is_some());
    assert_eq!(events(&res.body), demo_events());

    // Same connection, next request.
    conn.send(b"GET /api/stats HTTP/1.1\r\nHost: t\r\n\r\n")
        .await;
    let stats = conn.response().await;
    assert_eq!(stats.status, 200);
    assert_eq!(stats.json()["streams_open"], 0);
}

#[tokio::test]
async fn a_request_pipelined_behind_a_finite_stream_is_answered_after_it() {
    let server = TestServer::start().await;
    let mut conn = Reader::connect(&server).await;
    conn.send(b"GET /sse/demo?interval_ms=5 HTTP/1.1\r\nHost: t\r\n\r\n")
        .await;
    // Once the stream has begun, the next request arrives while it runs.
    assert!(conn.fill().await);
    conn.send(b"GET /api/topics/after/events HTTP/1.1\r\nHost: t\r\n\r\n")
        .await;
    let stream = conn.response().await;
    assert_eq!(events(&stream.body), demo_events());
    let next = conn.response().await;
    assert_eq!(next.status, 200);
    assert_eq!(next.json()["events"], serde_json::json!([]));
}

#[tokio::test]
async fn pipelined_gets_then_a_post_are_answered_in_order_on_one_connection() {
    let server = TestServer::start().await;
    let mut conn = Reader::connect(&server).await;
    let body = r#"{"event":"note","data":{"n":1}}"#;
    let requests = format!(
        "GET /api/stats HTTP/1.1\r\nHost: t\r\n\r\n\
         GET /api/topics/pipe/events HTTP/1.1\r\nHost: t\r\n\r\n\
         POST /api/topics/pipe HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}\
         GET /api/topics/pipe/events HTTP/1.1\r\nHost: t\r\n\r\n",
        body.len()
    );
    conn.send(requests.as_bytes()).await;

    let stats = conn.response().await;
    assert_eq!(stats.status, 200);
    assert!(stats.json()["epoch"].is_string());
    let before = conn.response().await;
    assert_eq!(before.status, 200);
    assert_eq!(before.json()["events"], serde_json::json!([]));
    let published = conn.response().await;
    assert_eq!(published.status, 202);
    let id = published.json()["id"].as_str().unwrap().to_owned();
    let after = conn.response().await;
    assert_eq!(after.status, 200);
    let events = after.json()["events"].clone();
    assert_eq!(events.as_array().unwrap().len(), 1);
    assert_eq!(events[0]["id"], id.as_str());
    assert_eq!(events[0]["data"], serde_json::json!({"n": 1}));
}

#[tokio::test]
async fn requests_for_hyper_are_handed_over_with_the_bytes_already_read() {
    let server = TestServer::start().await;
    let mut conn = Reader::connect(&server).await;
    // A chunked body is hyper's to read: the connection moves to hyper
    // mid-way, with the pipelined request after it.
    let chunked = r#"{"event":"note","data":{"n":2}}"#;
    let requests = format!(
        "GET /api/topics/handoff/events HTTP/1.1\r\nHost: t\r\n\r\n\
         POST /api/topics/handoff HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n{:x}\r\n{chunked}\r\n0\r\n\r\n\
         GET /api/topics/handoff/events HTTP/1.1\r\nHost: t\r\n\r\n",
        chunked.len()
    );
    conn.send(requests.as_bytes()).await;
    assert_eq!(
        conn.response().await.json()["events"],
        serde_json::json!([])
    );
    let published = conn.response().await;
    assert_eq!(published.status, 202);
    let after = conn.response().await;
    assert_eq!(
        after.json()["events"][0]["data"],
        serde_json::json!({"n": 2})
    );

    // HEAD too: hyper answers it (the routes are GET-only: 405) without a
    // body, and serves the connection on.
    let mut conn = Reader::connect(&server).await;
    conn.send(b"HEAD /api/stats HTTP/1.1\r\nHost: t\r\n\r\n")
        .await;
    assert_eq!(conn.response_head().await.status, 405);
    conn.send(b"GET /api/topics/handoff/events HTTP/1.1\r\nHost: t\r\n\r\n")
        .await;
    assert_eq!(conn.response().await.status, 200);
}

#[tokio::test]
async fn conflicting_content_lengths_are_rejected() {
    let server = TestServer::start().await;
    let (mut conn, res) = Reader::ask(
        &server,
        b"POST /api/topics/x HTTP/1.1\r\nHost: t\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\n{}",
    )
    .await;
    assert_eq!(res.status, 400);
    assert_eq!(res.json()["error"], "invalid Content-Length");
    assert!(conn.closed().await);
    // A zero among them conflicts too.
    let (_, res) = Reader::ask(
        &server,
        b"POST /api/topics/x HTTP/1.1\r\nHost: t\r\nContent-Length: 0\r\nContent-Length: 2\r\n\r\n{}",
    )
    .await;
    assert_eq!(res.status, 400);
    assert_eq!(
        server.get_json("/api/topics/x/events").await["events"],
        serde_json::json!([])
    );
}

#[tokio::test]
async fn http10_streams_end_by_closing_the_connection() {
    let server = TestServer::start().await;
    let (_conn, res) = Reader::ask(&server, b"GET /sse/demo?interval_ms=1 HTTP/1.0\r\n\r\n").await;
    assert_eq!(res.status, 200);
    assert_eq!(res.header("transfer-encoding"), None);
    assert_eq!(res.header("content-length"), None);
    assert_eq!(res.header("connection"), Some("close"));
    assert_eq!(events(&res.body), demo_events());
}

#[tokio::test]
async fn connection_close_is_honoured() {
    let server = TestServer::start().await;
    let (mut conn, res) = Reader::ask(
        &server,
        b"GET /api/stats HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n",
    )
    .await;
    assert_eq!(res.status, 200);
    assert_eq!(res.header("connection"), Some("close"));
    assert!(conn.closed().await);
}

#[tokio::test]
async fn oversized_and_malformed_heads_get_json_errors() {
    let server = TestServer::start().await;

    let mut conn = Reader::connect(&server).await;
    let big = format!(
        "GET /api/stats HTTP/1.1\r\nHost: t\r\nX-Big: {}\r\n\r\n",
        "a".repeat(MAX_REQUEST_HEAD)
    );
    conn.send(big.as_bytes()).await;
    let res = conn.response().await;
    assert_eq!(res.status, 431);
    assert_eq!(res.json()["error"], "request head too large");
    assert!(conn.closed().await);

    let (mut conn, res) =
        Reader::ask(&server, b"GET /api/stats HTTP/1.1\r\nBad Header\r\n\r\n").await;
    assert_eq!(res.status, 400);
    assert_eq!(res.json()["error"], "malformed HTTP request");
    assert!(conn.closed().await);

    // The server is unharmed.
    assert_eq!(
        server.get_json("/api/stats").await["connections_rejected"],
        0
    );
}

#[tokio::test]
async fn a_subscriber_that_hangs_up_is_removed_without_waiting_for_a_heartbeat() {
    // Heartbeats far beyond the test's deadline: only noticing the hang-up
    // itself can remove the subscriber in time.
    let server = TestServer::start_with(|c| c.heartbeat_ms = 600_000).await;
    let mut conn = Reader::connect(&server).await;
    conn.send(b"GET /sse/subscribe?topic=gone HTTP/1.1\r\nHost: t\r\n\r\n")
        .await;
    assert_eq!(conn.line().await, "HTTP/1.1 200 OK");
    let stats = server.get_json("/api/stats").await;
    assert_eq!(
        (
            stats["subscribers"].as_u64(),
            stats["streams_open"].as_u64()
        ),
        (Some(1), Some(1))
    );

    drop(conn);
    let deadline = tokio::time::Instant::now() + DEADLINE;
    loop {
        let stats = server.get_json("/api/stats").await;
        if stats["subscribers"] == 0 && stats["streams_open"] == 0 {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "subscriber still registered: {stats}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
}
