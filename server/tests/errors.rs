//! Bad input gets a JSON error with the right status, and nothing is
//! published; limits, auth and CORS behave as documented.
#![allow(clippy::unwrap_used)]

mod common;

use common::{client, TestServer};
use futures_util::future::BoxFuture;
use pushwire_server::hub::Payload;
use pushwire_server::{
    App, Backend, Config, Hub, HubError, PollResult, Publish, Published, Subscription,
};
use reqwest::StatusCode;
use serde_json::json;

async fn expect_error(
    res: reqwest::Response,
    status: u16,
    contains: &str,
) -> reqwest::header::HeaderMap {
    assert_eq!(res.status().as_u16(), status, "status");
    let headers = res.headers().clone();
    assert_eq!(headers["content-type"], "application/json");
    let body: serde_json::Value = res.json().await.unwrap();
    let message = body["error"]
        .as_str()
        .unwrap_or_else(|| panic!("no error message in {body}"));
    assert!(
        message.contains(contains),
        "{message:?} does not contain {contains:?}"
    );
    headers
}

#[tokio::test]
async fn publish_rejects_bad_input_and_publishes_nothing() {
    let server = TestServer::start().await;
    let c = client();
    let post = |path: &str| c.post(server.url(path));

    let long_topic = "t".repeat(129);
    for topic in ["bad%20topic", "a.b!", long_topic.as_str(), "caf%C3%A9"] {
        expect_error(
            post(&format!("/api/topics/{topic}"))
                .json(&json!({"data": 1}))
                .send()
                .await
                .unwrap(),
            400,
            "invalid topic",
        )
        .await;
    }
    let long = "e".repeat(129);
    for event in ["", long.as_str(), "a\nb", "a\rb"] {
        expect_error(
            post("/api/topics/t")
                .json(&json!({"event": event, "data": 1}))
                .send()
                .await
                .unwrap(),
            400,
            "invalid event name",
        )
        .await;
    }
    expect_error(
        post("/api/topics/t")
            .json(&json!({"event": "pushwire.reset", "data": 1}))
            .send()
            .await
            .unwrap(),
        400,
        "reserved",
    )
    .await;
    expect_error(
        post("/api/topics/t")
            .body("{not json")
            .send()
            .await
            .unwrap(),
        400,
        "invalid JSON body",
    )
    .await;
    expect_error(
        post("/api/topics/t")
            .json(&json!({"event": "x"}))
            .send()
            .await
            .unwrap(),
        400,
        "exactly one of \"data\" (any JSON) or \"text\"",
    )
    .await;
    expect_error(
        post("/api/topics/t")
            .json(&json!({"data": 1, "text": "x"}))
            .send()
            .await
            .unwrap(),
        400,
        "exactly one of",
    )
    .await;
    expect_error(
        post("/api/topics/t")
            .json(&json!({"text": 5}))
            .send()
            .await
            .unwrap(),
        400,
        "invalid type",
    )
    .await;
    expect_error(
        post("/api/topics/t")
            .json(&json!({"data": 1, "evnt": "typo"}))
            .send()
            .await
            .unwrap(),
        400,
        "unknown field `evnt`",
    )
    .await;
    expect_error(
        post("/api/topics/t").send().await.unwrap(),
        400,
        "invalid JSON body",
    )
    .await;

    // Over 64 KiB: refused by Content-Length, and also when streamed chunked.
    let big = json!({ "data": "x".repeat(64 * 1024) }).to_string();
    expect_error(
        post("/api/topics/t")
            .body(big.clone())
            .send()
            .await
            .unwrap(),
        413,
        "exceeds 65536 bytes",
    )
    .await;
    let chunks: Vec<Result<String, std::io::Error>> = big
        .as_bytes()
        .chunks(8192)
        .map(|c| Ok(String::from_utf8_lossy(c).into_owned()))
        .collect();
    let streamed = reqwest::Body::wrap_stream(futures_util::stream::iter(chunks));
    expect_error(
        post("/api/topics/t").body(streamed).send().await.unwrap(),
        413,
        "exceeds",
    )
    .await;
    // Exactly at the limit is fine.
    let filler = 64 * 1024 - json!({ "data": "" }).to_string().len();
    let at_limit = json!({ "data": "y".repeat(filler) }).to_string();
    assert_eq!(at_limit.len(), 64 * 1024);
    assert_eq!(
        post("/api/topics/t")
            .body(at_limit)
            .send()
            .await
            .unwrap()
            .status(),
        202
    );

    let published = server.topic_events("t").await;
    assert_eq!(published.len(), 1, "only the valid publish went through");
    assert_eq!(published[0]["data"].as_str().unwrap().len(), filler);
    server.stop().await;
}

#[tokio::test]
async fn parameters_out_of_range_are_400() {
    let server = TestServer::start().await;
    let c = client();
    for (path, needle) in [
        (
            "/sse/counter?count=0",
            "count must be an integer from 1 to 100000",
        ),
        ("/sse/counter?count=100001", "count must be"),
        ("/sse/counter?interval_ms=abc", "interval_ms must be"),
        ("/sse/demo?interval_ms=-5", "interval_ms must be"),
        ("/sse/perf?count=2000000", "count must be"),
        ("/sse/perf?interval_ms=5000", "interval_ms must be"),
        ("/api/topics/t/events?limit=0", "limit must be"),
        ("/api/topics/t/events?limit=1001", "limit must be"),
        ("/sse/subscribe", "at least one topic"),
        ("/sse/subscribe?topic=bad!", "invalid topic"),
        ("/api/topics/no%20pe/events", "invalid topic"),
    ] {
        expect_error(c.get(server.url(path)).send().await.unwrap(), 400, needle).await;
    }
    let many: String = (0..33).map(|i| format!("topic=t{i}&")).collect();
    expect_error(
        c.get(server.url(&format!("/sse/subscribe?{many}")))
            .send()
            .await
            .unwrap(),
        400,
        "too many topics: 33 given, at most 32",
    )
    .await;
    server.stop().await;
}

#[tokio::test]
async fn unknown_routes_and_methods() {
    let server = TestServer::start().await;
    let c = client();
    expect_error(
        c.get(server.url("/nope")).send().await.unwrap(),
        404,
        "no such route",
    )
    .await;
    expect_error(
        c.post(server.url("/nope")).send().await.unwrap(),
        404,
        "no such route",
    )
    .await;
    expect_error(
        c.get(server.url("/sse/counter/extra"))
            .send()
            .await
            .unwrap(),
        404,
        "no such route",
    )
    .await;
    expect_error(
        c.delete(server.url("/api/stats")).send().await.unwrap(),
        405,
        "method not allowed",
    )
    .await;
    expect_error(
        c.get(server.url("/api/topics/t")).send().await.unwrap(),
        405,
        "method not allowed",
    )
    .await;
    server.stop().await;
}

#[tokio::test]
async fn publishing_requires_the_token_when_one_is_set() {
    let server = TestServer::start_with(|c| c.publish_token = Some("s3cret".into())).await;
    let c = client();
    let url = server.url("/api/topics/t");
    let h = expect_error(
        c.post(&url).json(&json!({"data": 1})).send().await.unwrap(),
        401,
        "Authorization: Bearer",
    )
    .await;
    assert_eq!(h["www-authenticate"], "Bearer");
    expect_error(
        c.post(&url)
            .bearer_auth("wrong")
            .json(&json!({"data": 1}))
            .send()
            .await
            .unwrap(),
        401,
        "wrong publish token",
    )
    .await;
    expect_error(
        c.post(&url)
            .header("authorization", "Basic czNjcmV0")
            .json(&json!({"data": 1}))
            .send()
            .await
            .unwrap(),
        401,
        "Bearer",
    )
    .await;
    let ok = c
        .post(&url)
        .bearer_auth("s3cret")
        .json(&json!({"data": 1}))
        .send()
        .await
        .unwrap();
    assert_eq!(ok.status(), StatusCode::ACCEPTED);
    assert_eq!(server.topic_events("t").await.len(), 1);
    server.stop().await;
}

#[tokio::test]
async fn too_many_topics_is_507_and_waiting_subscribers_take_no_slot() {
    // The built-in monitoring topic holds events, so it counts as one.
    let server = TestServer::start_with(|c| c.max_topics = 3).await;
    server
        .wait_for_stats("monitoring topic", |s| s["topics"] == 1)
        .await;
    // Anonymous subscribers to topics nobody publishes to: more of them
    // than the topic limit, all served, none taking a slot (on the old
    // code the third was answered 507 and publishers were locked out).
    let c = client();
    let mut waiting = Vec::new();
    for n in 0..10 {
        let res = c
            .get(server.url(&format!("/sse/subscribe?topic=anon{n}")))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 200, "subscriber {n}");
        waiting.push(res);
    }
    server.publish("one", "m", json!(1)).await;
    server.publish("two", "m", json!(1)).await;
    expect_error(
        c.post(server.url("/api/topics/three"))
            .json(&json!({"data": 1}))
            .send()
            .await
            .unwrap(),
        507,
        "maximum of 3 topics",
    )
    .await;
    // Existing topics keep working, and a topic someone waits on becomes a
    // topic with events only when published to.
    server.publish("one", "m", json!(2)).await;
    drop(waiting);
    // Their topics leave the table with them.
    server
        .wait_for_stats("waiting topics reclaimed", |s| s["topics"] == 3)
        .await;
    server.stop().await;
}

#[tokio::test]
async fn over_max_connections_is_503_with_retry_after() {
    let server = TestServer::start_with(|c| c.max_connections = 3).await;
    let mut held = Vec::new();
    for _ in 0..3 {
        held.push(common::SseReader::open(&server.url("/sse/subscribe?topic=full")).await);
    }
    let res = client().get(server.url("/healthz")).send().await.unwrap();
    let h = expect_error(res, 503, "connection limit").await;
    assert_eq!(h["retry-after"], "1");
    drop(held);
    // Once the streams are gone there is room again.
    let give_up = tokio::time::Instant::now() + common::DEADLINE;
    loop {
        let res = client().get(server.url("/healthz")).send().await.unwrap();
        if res.status() == 200 {
            break;
        }
        assert!(
            tokio::time::Instant::now() < give_up,
            "connections never freed"
        );
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    assert!(
        server.stats().await["connections_rejected"]
            .as_u64()
            .unwrap()
            >= 1
    );
    server.stop().await;
}

#[tokio::test]
async fn cors_for_allowed_origins_only() {
    let server =
        TestServer::start_with(|c| c.cors_origins = vec!["http://page.test:9000".into()]).await;
    let c = client();
    let res = c
        .get(server.url("/sse/counter?count=1&interval_ms=0"))
        .header("origin", "http://page.test:9000")
        .send()
        .await
        .unwrap();
    assert_eq!(
        res.headers()["access-control-allow-origin"],
        "http://page.test:9000"
    );
    assert_eq!(res.headers()["vary"], "Origin");
    let res = c
        .get(server.url("/healthz"))
        .header("origin", "http://evil.test")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert!(res.headers().get("access-control-allow-origin").is_none());

    let pre = c
        .request(
            reqwest::Method::OPTIONS,
            server.url("/sse/subscribe?topic=a"),
        )
        .header("origin", "http://page.test:9000")
        .header("access-control-request-method", "GET")
        .header("access-control-request-headers", "last-event-id")
        .send()
        .await
        .unwrap();
    assert_eq!(pre.status(), 204);
    assert_eq!(
        pre.headers()["access-control-allow-origin"],
        "http://page.test:9000"
    );
    let allowed = pre.headers()["access-control-allow-headers"]
        .to_str()
        .unwrap();
    assert!(allowed.contains("last-event-id"));
    // A cross-origin publisher may retry safely and send its token.
    assert!(allowed.contains("idempotency-key"), "{allowed}");
    assert!(allowed.contains("authorization"), "{allowed}");
    // Errors carry CORS headers too, so a page can read the message.
    let res = c
        .get(server.url("/nope"))
        .header("origin", "http://page.test:9000")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 404);
    assert_eq!(
        res.headers()["access-control-allow-origin"],
        "http://page.test:9000"
    );
    server.stop().await;
}

#[tokio::test]
async fn the_servers_own_topics_answer_403_to_publishers() {
    let server = TestServer::start().await;
    expect_error(
        client()
            .post(server.url("/api/topics/monitoring"))
            .json(&json!({"event": "monitoring", "data": {"cpu_usage": 0}}))
            .send()
            .await
            .unwrap(),
        403,
        "reserved for the server",
    )
    .await;
    // Subscribers still read it: only publishing is refused.
    let mut r = common::SseReader::open(&server.url("/sse/subscribe?topic=monitoring")).await;
    let sample = r.next_event().await.unwrap();
    assert_eq!(sample.event, "monitoring");
    server.stop().await;
}

#[tokio::test]
async fn an_event_larger_than_max_event_bytes_once_encoded_is_413() {
    let server = TestServer::start_with(|c| c.max_event_bytes = 4_096).await;
    // A 2 KB body of newlines: well under the body limit, but every
    // newline becomes a `data:` line of its own (about 12 KB encoded).
    let bomb = format!("{{\"data\": [{}]}}", "\n".repeat(2_000));
    expect_error(
        client()
            .post(server.url("/api/topics/t"))
            .body(bomb)
            .send()
            .await
            .unwrap(),
        413,
        "over the limit of 4096 bytes",
    )
    .await;
    assert!(server.topic_events("t").await.is_empty(), "nothing stored");
    server.publish("t", "m", json!([1, 2])).await;
    server.stop().await;
}

/// A backend that is never ready: the in-memory hub behind a switch that is
/// off, written against the public `Backend` trait as a user would.
#[derive(Debug)]
struct Unreachable(Hub);

impl Backend for Unreachable {
    fn publish<'a>(&'a self, _: Publish<'a>) -> BoxFuture<'a, Result<Published, HubError>> {
        Box::pin(async {
            Err(HubError::Unavailable(
                "the event store is unreachable".into(),
            ))
        })
    }
    fn publish_reserved<'a>(
        &'a self,
        _: &'a str,
        _: &'a str,
        _: Payload,
    ) -> BoxFuture<'a, Result<Published, HubError>> {
        Box::pin(async { Err(HubError::Unavailable("down".into())) })
    }
    fn subscribe<'a>(
        &'a self,
        topics: &'a [String],
        id: Option<&'a str>,
    ) -> BoxFuture<'a, Result<Subscription, HubError>> {
        Box::pin(async move { self.0.subscribe(topics, id) })
    }
    fn poll<'a>(
        &'a self,
        topic: &'a str,
        after: Option<&'a str>,
        limit: usize,
    ) -> BoxFuture<'a, Result<PollResult, HubError>> {
        Box::pin(async move { self.0.poll(topic, after, limit) })
    }
    fn ready(&self) -> bool {
        false
    }
    fn local_hub(&self) -> &Hub {
        &self.0
    }
    fn close(&self) {
        self.0.close();
    }
}

#[tokio::test]
async fn every_answer_names_its_node_and_readiness_follows_the_backend() {
    let server = TestServer::start_with(|c| c.node_name = "node-a".into()).await;
    let c = client();
    for path in ["/healthz", "/readyz", "/api/stats", "/missing"] {
        let res = c.get(server.url(path)).send().await.unwrap();
        assert_eq!(res.headers()["x-pushwire-node"], "node-a", "{path}");
    }
    let ready = c.get(server.url("/readyz")).send().await.unwrap();
    assert_eq!(ready.status(), 200);
    assert_eq!(server.stats().await["node"], "node-a");
    server.stop().await;

    let config = Config {
        node_name: "node-b".into(),
        ..Config::default()
    };
    let backend = std::sync::Arc::new(Unreachable(Hub::new()));
    let server = TestServer::start_app(App::with_backend(config, backend)).await;
    let headers = expect_error(
        c.get(server.url("/readyz")).send().await.unwrap(),
        503,
        "not reachable",
    )
    .await;
    assert_eq!(headers["retry-after"], "1");
    assert_eq!(headers["x-pushwire-node"], "node-b");
    let headers = expect_error(
        c.post(server.url("/api/topics/t"))
            .json(&json!({"data": 1}))
            .send()
            .await
            .unwrap(),
        503,
        "unreachable",
    )
    .await;
    assert_eq!(headers["retry-after"], "1");
    // Liveness is not readiness.
    assert_eq!(
        c.get(server.url("/healthz")).send().await.unwrap().status(),
        200
    );
    server.stop().await;
}

#[tokio::test]
async fn a_path_segment_too_long_to_name_a_file_is_404_not_500() {
    let server = TestServer::start().await;
    for path in [
        format!("/{}", "a".repeat(256)),
        format!("/x/{}.js", "b".repeat(300)),
    ] {
        expect_error(
            client().get(server.url(&path)).send().await.unwrap(),
            404,
            "no such route or file",
        )
        .await;
    }
    server.stop().await;
}

#[tokio::test]
async fn the_bearer_scheme_is_case_insensitive_and_an_empty_token_is_refused() {
    let server = TestServer::start_with(|c| c.publish_token = Some("s3cret".into())).await;
    let c = client();
    let url = server.url("/api/topics/t");
    // RFC 9110 §11.1: the scheme is case-insensitive (refused on the old code).
    for scheme in ["bearer", "BEARER", "Bearer"] {
        let res = c
            .post(&url)
            .header("authorization", format!("{scheme} s3cret"))
            .json(&json!({"data": 1}))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::ACCEPTED, "{scheme}");
    }
    // An empty token is refused as such, before any comparison.
    for value in ["Bearer ", "Bearer", "bearer   "] {
        expect_error(
            c.post(&url)
                .header("authorization", value)
                .json(&json!({"data": 1}))
                .send()
                .await
                .unwrap(),
            401,
            "the bearer token is empty",
        )
        .await;
    }
    assert_eq!(server.topic_events("t").await.len(), 3);
    server.stop().await;
}
