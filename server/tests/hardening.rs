//! Regression tests for the HTTP/1.1 hardening (issue 11) and for what the
//! differential test (`differential.rs`) found: each sends raw bytes, and
//! asserts the exact status, the JSON error, and that the server then
//! closes the connection, on the lean path and, where the rule must hold
//! there too, after the connection was handed to hyper.
#![allow(clippy::unwrap_used)]

mod common;

use std::time::{Duration, Instant};

use common::raw::{ask_until_closed, exchange, parse_responses, RawResponse};
use common::TestServer;
use pushwire_server::MAX_REQUEST_HEAD;

/// Longest any exchange here may take before the server must have closed.
const BOUND: Duration = Duration::from_secs(5);
/// The request timeout of the servers here: short, so a stalled body is
/// answered quickly.
const REQUEST_TIMEOUT_MS: u64 = 300;

async fn server() -> TestServer {
    TestServer::start_with(|c| c.request_timeout_ms = REQUEST_TIMEOUT_MS).await
}

/// A publish with a chunked body: the lean path hands the connection to
/// hyper at it, so what follows it on the connection is served by hyper.
fn chunked_publish(topic: &str) -> Vec<u8> {
    let body = r#"{"event":"e","data":1}"#;
    format!(
        "POST /api/topics/{topic} HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n\
         {:x}\r\n{body}\r\n0\r\n\r\n",
        body.len()
    )
    .into_bytes()
}

/// `res` is `status` with the JSON body `{"error": message}`.
fn assert_error(res: &RawResponse, status: u16, message: &str) {
    assert_eq!(res.status, status, "{res:?}");
    assert_eq!(
        res.header("content-type"),
        Some(b"application/json".as_slice())
    );
    assert_eq!(
        res.json(),
        Some(serde_json::json!({ "error": message })),
        "{:?}",
        String::from_utf8_lossy(&res.body)
    );
}

/// Sends `request` (in one write) and returns the one response before the
/// server closed the connection.
async fn only_response(server: &TestServer, request: &[u8]) -> RawResponse {
    let mut responses = ask_until_closed(server.addr(), &[request], BOUND).await;
    assert_eq!(responses.len(), 1, "{responses:?}");
    responses.remove(0)
}

/// Sends a chunked publish and then `request` on one connection: the
/// publish is answered `202` (by hyper), and the second response, the last
/// before the server closes, is returned.
async fn after_hand_off(server: &TestServer, request: &[u8]) -> RawResponse {
    let stream = [chunked_publish("handoff"), request.to_vec()].concat();
    let mut responses = ask_until_closed(server.addr(), &[&stream], BOUND).await;
    assert_eq!(responses.len(), 2, "{responses:?}");
    assert_eq!(responses[0].status, 202, "{responses:?}");
    responses.remove(1)
}

/// A head of `len` bytes: a request line and one large header.
fn head_of(len: usize) -> Vec<u8> {
    let start = b"GET /healthz HTTP/1.1\r\nHost: t\r\nX-Big: ".as_slice();
    let end = b"\r\n\r\n".as_slice();
    let filler = vec![b'a'; len - start.len() - end.len()];
    [start, &filler, end].concat()
}

async fn still_serves(server: &TestServer) {
    let res = only_response(
        server,
        b"GET /healthz HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n",
    )
    .await;
    assert_eq!((res.status, res.body.as_slice()), (200, b"ok".as_slice()));
}

#[tokio::test]
async fn an_authority_form_target_is_refused_400() {
    // The old code panicked inside warp's path filter on this target.
    let server = server().await;
    let res = only_response(&server, b"GET evil.example:443 HTTP/1.1\r\nHost: t\r\n\r\n").await;
    assert_error(
        &res,
        400,
        "the request target must be a path starting with /",
    );
    still_serves(&server).await;
}

#[tokio::test]
async fn a_content_length_with_a_sign_or_a_non_ascii_space_is_refused_400() {
    let server = server().await;
    for length in [b"+12".as_slice(), b"12\xc2\xa0"] {
        let request = [
            b"POST /api/topics/cl HTTP/1.1\r\nHost: t\r\nContent-Length: ".as_slice(),
            length,
            b"\r\n\r\n{\"data\":12}",
        ]
        .concat();
        let res = only_response(&server, &request).await;
        assert_error(&res, 400, "invalid Content-Length");
    }
    assert_eq!(
        server.topic_events("cl").await,
        Vec::<serde_json::Value>::new()
    );
}

#[tokio::test]
async fn a_30_kib_head_sent_in_two_writes_is_refused_431() {
    let server = server().await;
    // The first write one byte short of the limit: the old code saw a
    // partial head under 16 KiB, then a complete one, and served it.
    let head = head_of(30 * 1024);
    let (first, second) = head.split_at(MAX_REQUEST_HEAD - 1);
    let ex = exchange(
        server.addr(),
        &[first, second],
        Duration::from_millis(20),
        false,
        BOUND,
    )
    .await;
    assert!(ex.closed, "the connection was not closed");
    let responses = parse_responses(&ex.bytes, &[]).unwrap();
    assert_eq!(responses.len(), 1, "{responses:?}");
    assert_error(&responses[0], 431, "request head too large");
    still_serves(&server).await;
}

#[tokio::test]
async fn after_a_hand_off_a_30_kib_head_is_refused_431() {
    let server = server().await;
    let res = after_hand_off(&server, &head_of(30 * 1024)).await;
    // hyper answers its own parse errors, without a body.
    assert_eq!(res.status, 431, "{res:?}");
    assert!(res.body.is_empty());
    still_serves(&server).await;
}

#[tokio::test]
async fn after_a_hand_off_a_head_just_over_16_kib_is_refused_431() {
    // hyper's read buffer is 16 KiB, but a read on top of bytes already
    // buffered (here: the head's first byte, arrived with the publish) can
    // take it past that, and hyper used to accept such a head whole.
    let server = server().await;
    let publish = chunked_publish("over");
    let stream = [publish.clone(), head_of(16 * 1024 + 100)].concat();
    let cut = publish.len() + 1;
    let ex = exchange(
        server.addr(),
        &[&stream[..cut], &stream[cut..]],
        Duration::from_millis(5),
        false,
        BOUND,
    )
    .await;
    assert!(ex.closed, "the connection was not closed");
    let responses = parse_responses(&ex.bytes, &[]).unwrap();
    let statuses: Vec<u16> = responses.iter().map(|r| r.status).collect();
    assert_eq!(statuses, [202, 431]);
}

#[tokio::test]
async fn a_missing_or_second_host_is_refused_400_before_and_after_a_hand_off() {
    let server = server().await;
    let cases: [(&[u8], &str); 2] = [
        (
            b"GET /healthz HTTP/1.1\r\n\r\n",
            "HTTP/1.1 requests need a Host header",
        ),
        (
            b"GET /healthz HTTP/1.1\r\nHost: t\r\nHost: u\r\n\r\n",
            "more than one Host header",
        ),
    ];
    for (request, message) in cases {
        assert_error(&only_response(&server, request).await, 400, message);
        assert_error(&after_hand_off(&server, request).await, 400, message);
    }
    still_serves(&server).await;
}

#[tokio::test]
async fn a_publish_whose_chunked_body_stalls_is_answered_408_in_time() {
    let server = server().await;
    let started = Instant::now();
    // Half a chunk, then nothing (the connection stays open).
    let ex = exchange(
        server.addr(),
        &[b"POST /api/topics/stall HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n10\r\n{\"event\""],
        Duration::ZERO,
        false,
        BOUND,
    )
    .await;
    let elapsed = started.elapsed();
    assert!(ex.closed, "the connection was not closed");
    let responses = parse_responses(&ex.bytes, &[]).unwrap();
    assert_eq!(responses.len(), 1, "{responses:?}");
    assert_error(
        &responses[0],
        408,
        "the request body was not received in time",
    );
    let timeout = Duration::from_millis(REQUEST_TIMEOUT_MS);
    assert!(
        elapsed >= timeout && elapsed < timeout + Duration::from_secs(2),
        "answered after {elapsed:?}"
    );
    assert_eq!(
        server.topic_events("stall").await,
        Vec::<serde_json::Value>::new()
    );
}

#[tokio::test]
async fn an_encoded_nul_in_the_path_is_refused_400_not_500() {
    let server = server().await;
    for request in [
        b"GET /%00 HTTP/1.1\r\nHost: t\r\n\r\n".as_slice(),
        b"GET /a%00b.html HTTP/1.1\r\nHost: t\r\n\r\n",
    ] {
        let res = only_response(&server, request).await;
        assert_error(&res, 400, "the path must not contain NUL (%00)");
    }
    still_serves(&server).await;
}

// What the differential test found.

#[tokio::test]
async fn a_client_that_half_closes_after_a_chunked_publish_still_gets_its_answer() {
    // The lean path answers a client that shut its write side after its
    // request; hyper (after the hand-off a chunked body causes) used to
    // take the end of stream for an aborted request and drop the answer.
    let server = server().await;
    let ex = exchange(
        server.addr(),
        &[&chunked_publish("half")],
        Duration::ZERO,
        true,
        BOUND,
    )
    .await;
    assert!(ex.closed);
    let responses = parse_responses(&ex.bytes, &[]).unwrap();
    assert_eq!(responses.len(), 1, "{responses:?}");
    assert_eq!(responses[0].status, 202);
    let id = responses[0].json().unwrap()["id"].clone();
    assert_eq!(server.topic_events("half").await[0]["id"], id);
}

#[tokio::test]
async fn sixty_five_headers_are_refused_431_before_and_after_a_hand_off() {
    // hyper allowed 100 headers where the lean path allows 64.
    let server = server().await;
    let mut request = b"GET /healthz HTTP/1.1\r\nHost: t\r\n".to_vec();
    for i in 0..64 {
        request.extend_from_slice(format!("X-H{i}: {i}\r\n").as_bytes());
    }
    request.extend_from_slice(b"\r\n");
    let res = only_response(&server, &request).await;
    assert_error(&res, 431, "too many request headers");
    let res = after_hand_off(&server, &request).await;
    assert_eq!(res.status, 431, "{res:?}");
    still_serves(&server).await;
}

#[tokio::test]
async fn a_malformed_byte_past_16_kib_is_answered_431_however_the_head_arrives() {
    // Only the first 16 KiB of a head are parsed: the head is too large
    // whatever follows. The lean path used to parse all it had read, so
    // the answer (400 or 431) depended on how the bytes were split.
    let server = server().await;
    let mut head = b"GET /".to_vec();
    head.extend(std::iter::repeat_n(b'a', 20_000));
    head.extend_from_slice(b" HTTP/2.0\r\nHost: t\r\n\r\n");
    for cut in [1_000, 15_361, 16_383] {
        let ex = exchange(
            server.addr(),
            &[&head[..cut], &head[cut..]],
            Duration::from_millis(5),
            false,
            BOUND,
        )
        .await;
        assert!(ex.closed, "the connection was not closed");
        let responses = parse_responses(&ex.bytes, &[]).unwrap();
        assert_eq!(responses.len(), 1, "{responses:?}");
        assert_error(&responses[0], 431, "request head too large");
    }
}

#[tokio::test]
async fn a_body_the_client_ends_early_is_answered_400() {
    // The lean path used to close without a word; hyper's routes answer.
    let server = server().await;
    let ex = exchange(
        server.addr(),
        &[b"POST /api/topics/short HTTP/1.1\r\nHost: t\r\nContent-Length: 40\r\n\r\n{\"data\":1}"],
        Duration::ZERO,
        true,
        BOUND,
    )
    .await;
    assert!(ex.closed);
    let responses = parse_responses(&ex.bytes, &[]).unwrap();
    assert_eq!(responses.len(), 1, "{responses:?}");
    assert_error(
        &responses[0],
        400,
        "the request body ended before its Content-Length",
    );
    assert_eq!(
        server.topic_events("short").await,
        Vec::<serde_json::Value>::new()
    );
}
