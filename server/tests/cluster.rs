//! Nodes sharing one NATS JetStream stream (a real `nats-server`): publish
//! on any node, deliver on every node, resume on another node or after a
//! restart with nothing lost or doubled, idempotent retries across nodes,
//! and NATS going away and coming back.
#![cfg(feature = "jetstream")]
#![allow(clippy::unwrap_used)]

mod common;

use std::time::{Duration, Instant};

use common::nats::Nats;
use common::{client, datas, ids, SseReader, TestServer};
use pushwire_protocol::names::RESET_EVENT;
use pushwire_server::{App, Config};
use serde_json::json;

/// A node on `nats`, named `name`.
async fn node(nats: &Nats, name: &str) -> TestServer {
    let config = Config {
        nats: vec![nats.url()],
        node_name: name.into(),
        monitoring_ms: 3_600_000,
        www_dir: concat!(env!("CARGO_MANIFEST_DIR"), "/tests/www").into(),
        ..Config::default()
    };
    let app = App::connect(config).await.unwrap();
    let server = TestServer::start_app(app).await;
    server.wait_for_ready().await;
    server
}

#[tokio::test]
async fn events_published_on_one_node_reach_subscribers_of_every_node_with_the_same_ids() {
    let nats = Nats::start().await;
    let (a, b) = (node(&nats, "a").await, node(&nats, "b").await);
    let mut on_a = SseReader::open(&a.url("/sse/subscribe?topic=chat")).await;
    let mut on_b = SseReader::open(&b.url("/sse/subscribe?topic=chat")).await;
    assert_eq!(on_b.response_headers["x-pushwire-node"], "b");
    let mut published = Vec::new();
    for n in 0..20 {
        let at = if n % 2 == 0 { &a } else { &b };
        published.push(at.publish("chat", "m", json!({ "n": n })).await);
    }
    let want: Vec<String> = (0..20).map(|n| json!({ "n": n }).to_string()).collect();
    for reader in [&mut on_a, &mut on_b] {
        let events = reader.events(20).await;
        assert_eq!(
            ids(&events),
            published,
            "same ids, same order on every node"
        );
        assert_eq!(datas(&events), want);
    }
    assert_eq!(b.stats().await["node"], "b");
    a.stop().await;
    b.stop().await;
}

#[tokio::test]
async fn a_subscriber_resumes_on_another_node_and_after_a_restart_with_nothing_lost() {
    let nats = Nats::start().await;
    let a = node(&nats, "a").await;
    let mut published = Vec::new();
    for n in 0..30 {
        published.push(a.publish("t", "m", json!(n)).await);
    }
    // A node started after the events: its cache starts empty, so the
    // resume is read from the stream, then handed over to its hub.
    let b = node(&nats, "b").await;
    let mut resumed =
        SseReader::open_with(&b.url("/sse/subscribe?topic=t"), Some(&published[9])).await;
    let events = resumed.events(20).await;
    assert_eq!(ids(&events), published[10..]);
    let live = a.publish("t", "m", json!("live")).await;
    let next = resumed.next_event().await.unwrap();
    assert_eq!(next.id, live, "live after the history, once");
    assert!(events.iter().all(|e| e.event != RESET_EVENT));

    // Polling reads the same history on any node.
    let page = b
        .get_json(&format!(
            "/api/topics/t/events?after={}&limit=5",
            published[0]
        ))
        .await;
    let page_ids: Vec<&str> = page["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["id"].as_str().unwrap())
        .collect();
    assert_eq!(page_ids, published[1..6]);
    assert_eq!(page["more"], true);
    a.stop().await;
    b.stop().await;
}

#[tokio::test]
async fn an_idempotent_retry_on_another_node_gets_the_first_id_and_is_stored_once() {
    let nats = Nats::start().await;
    let (a, b) = (node(&nats, "a").await, node(&nats, "b").await);
    let start = b.get_json("/api/topics/orders/events").await["last_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let c = client();
    let mut answers = Vec::new();
    for at in [&a, &b] {
        let res = c
            .post(at.url("/api/topics/orders"))
            .header("Idempotency-Key", "order-7")
            .json(&json!({"event": "order", "data": {"n": 7}}))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 202);
        answers.push(res.json::<serde_json::Value>().await.unwrap()["id"].clone());
    }
    assert_eq!(answers[0], answers[1]);
    let after = a.publish("orders", "order", json!({"n": 8})).await;
    let mut r = SseReader::open_with(&b.url("/sse/subscribe?topic=orders"), Some(&start)).await;
    let delivered = r.events(2).await;
    assert_eq!(
        ids(&delivered),
        [answers[0].as_str().unwrap(), after.as_str()]
    );
    // Had the retry been stored, it would sit between the two.
    let events = b.topic_events("orders").await;
    let got: Vec<&str> = events.iter().map(|e| e["id"].as_str().unwrap()).collect();
    assert_eq!(got, [answers[0].as_str().unwrap(), after.as_str()]);
    a.stop().await;
    b.stop().await;
}

#[tokio::test]
async fn with_nats_down_publishing_is_a_prompt_503_and_it_recovers_by_itself() {
    let mut nats = Nats::start().await;
    let a = node(&nats, "a").await;
    let mut reader = SseReader::open(&a.url("/sse/subscribe?topic=t")).await;
    let first = a.publish("t", "m", json!(1)).await;
    assert_eq!(reader.next_event().await.unwrap().id, first);

    nats.stop().await;
    let c = client();
    let started = Instant::now();
    let res = c
        .post(a.url("/api/topics/t"))
        .json(&json!({"data": 2}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 503);
    assert_eq!(res.headers()["retry-after"], "1");
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "{:?}",
        started.elapsed()
    );
    a.wait_for_readiness(503).await;

    nats.restart().await;
    a.wait_for_readiness(200).await;
    let back = a.publish("t", "m", json!(3)).await;
    let next = reader.next_event().await.unwrap();
    assert_eq!(
        next.id, back,
        "the open subscriber gets the new event, once"
    );
    assert_eq!(next.data, "3");
    a.stop().await;
}

#[tokio::test]
async fn a_recreated_stream_answers_ids_of_the_old_one_with_a_reset() {
    let nats = Nats::start().await;
    let a = node(&nats, "a").await;
    let old = a.publish("t", "m", json!(1)).await;
    a.stop().await;
    let js = async_nats::jetstream::new(async_nats::connect(nats.url()).await.unwrap());
    js.delete_stream("PUSHWIRE").await.unwrap();

    // The next node creates the stream anew: same sequence numbers, new epoch.
    let b = node(&nats, "b").await;
    let new = b.publish("t", "m", json!(2)).await;
    assert_ne!(new.split('-').next(), old.split('-').next(), "a new epoch");
    let mut r = SseReader::open_with(&b.url("/sse/subscribe?topic=t"), Some(&old)).await;
    let first = r.next_event().await.unwrap();
    assert_eq!(first.event, RESET_EVENT);
    let reset: pushwire_protocol::Reset = serde_json::from_str(&first.data).unwrap();
    assert_eq!(reset.reason, pushwire_protocol::ResetReason::UnknownEpoch);
    b.stop().await;
}

#[tokio::test]
async fn a_stream_that_exists_with_other_subjects_is_refused_at_start() {
    let nats = Nats::start().await;
    let js = async_nats::jetstream::new(async_nats::connect(nats.url()).await.unwrap());
    js.create_stream(async_nats::jetstream::stream::Config {
        name: "ORDERS".into(),
        subjects: vec!["orders.>".into()],
        ..Default::default()
    })
    .await
    .unwrap();
    let config = Config {
        nats: vec![nats.url()],
        nats_stream: "ORDERS".into(),
        ..Config::default()
    };
    let err = App::connect(config).await.unwrap_err().to_string();
    assert!(err.contains("exists with subjects"), "{err}");
    assert!(err.contains("use another --nats-stream"), "{err}");
}
