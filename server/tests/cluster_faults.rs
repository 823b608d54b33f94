//! Faults of a cluster of `pushwire` processes on real `nats-server`s,
//! each of which must lose nothing: 0 events lost, 0 duplicated, order
//! kept, no `pushwire.reset`.
#![cfg(feature = "jetstream")]
#![allow(clippy::unwrap_used)]

mod common;

use std::time::Duration;

use common::nats::{free_port, Nats};
use common::process::{signal, spawn_at};
use common::{client, ids, SseReader, DEADLINE};
use pushwire_protocol::names::RESET_EVENT;
use serde_json::json;
use tokio::process::Child;

/// A `pushwire` node process on `nats_urls`, listening on `port`; returns
/// once it is ready.
async fn node(port: u16, name: &str, nats_urls: &str, extra: &[&str]) -> (Child, String) {
    let mut args = vec![
        "--nats",
        nats_urls,
        "--node-name",
        name,
        "--monitoring-ms",
        "3600000",
    ];
    args.extend_from_slice(extra);
    let (child, base, _logs) = spawn_at(&format!("127.0.0.1:{port}"), &args).await;
    wait_ready(&base).await;
    (child, base)
}

async fn wait_ready(base: &str) {
    tokio::time::timeout(DEADLINE, async {
        loop {
            if let Ok(res) = client().get(format!("{base}/readyz")).send().await {
                if res.status() == 200 {
                    return;
                }
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    })
    .await
    .expect("the node became ready");
}

/// Publishes `n` on `topic` through `base` with an idempotency key,
/// retrying with the same key while the answer is 503 (the outcome of an
/// unanswered publish is unknown); returns the id.
async fn publish(base: &str, topic: &str, n: u64) -> String {
    let key = format!("{topic}-{n}");
    tokio::time::timeout(DEADLINE, async {
        loop {
            let res = client()
                .post(format!("{base}/api/topics/{topic}"))
                .header("Idempotency-Key", &key)
                .json(&json!({"event": "m", "data": n}))
                .send()
                .await;
            if let Ok(res) = res {
                if res.status() == 202 {
                    let body: serde_json::Value = res.json().await.unwrap();
                    return body["id"].as_str().unwrap().to_owned();
                }
                assert_eq!(res.status(), 503, "only 'retry later' is expected");
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    })
    .await
    .expect("published before the deadline")
}

#[tokio::test]
async fn a_node_killed_while_another_publishes_50_per_second_loses_none_of_its_subscribers_events()
{
    let nats = Nats::start().await;
    let (_a, base_a) = node(free_port(), "a", &nats.url(), &[]).await;
    let (mut b, base_b) = node(free_port(), "b", &nats.url(), &[]).await;
    let mut reader = SseReader::open(&format!("{base_b}/sse/subscribe?topic=t")).await;
    reader.tolerate_failure = true;
    let publisher = {
        let base_a = base_a.clone();
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(Duration::from_millis(20));
            let mut ids = Vec::new();
            for n in 0..150 {
                tick.tick().await;
                ids.push(publish(&base_a, "t", n).await);
            }
            ids
        })
    };
    let mut got = reader.events(40).await;
    b.start_kill().unwrap(); // SIGKILL
    got.extend(reader.rest().await);
    let last = reader.last_event_id().to_owned();
    let mut resumed =
        SseReader::open_with(&format!("{base_a}/sse/subscribe?topic=t"), Some(&last)).await;
    let published = publisher.await.unwrap();
    got.extend(resumed.events(published.len() - got.len()).await);
    assert!(got.iter().all(|e| e.event != RESET_EVENT));
    assert_eq!(ids(&got), published, "every event once, in order");
}

#[tokio::test]
async fn every_node_stopped_and_restarted_on_its_port_resumes_without_a_reset() {
    let nats = Nats::start().await;
    let (port_a, port_b) = (free_port(), free_port());
    let (mut a, base_a) = node(port_a, "a", &nats.url(), &[]).await;
    let (mut b, base_b) = node(port_b, "b", &nats.url(), &[]).await;
    let mut reader = SseReader::open(&format!("{base_b}/sse/subscribe?topic=t")).await;
    let mut published = Vec::new();
    for n in 0..10 {
        published.push(publish(&base_a, "t", n).await);
    }
    let mut got = reader.events(10).await;
    for child in [&mut a, &mut b] {
        signal(child, "-TERM").await;
        child.wait().await.unwrap();
    }
    got.extend(reader.rest().await);
    assert!(reader.ended, "the stream ended cleanly at shutdown");

    // The first node back takes publishes while the other is still down.
    let (_a, base_a) = node(port_a, "a", &nats.url(), &[]).await;
    for n in 10..20 {
        published.push(publish(&base_a, "t", n).await);
    }
    let (_b, base_b) = node(port_b, "b", &nats.url(), &[]).await;
    let mut resumed = SseReader::open_with(
        &format!("{base_b}/sse/subscribe?topic=t"),
        Some(reader.last_event_id()),
    )
    .await;
    got.extend(resumed.events(10).await);
    assert!(got.iter().all(|e| e.event != RESET_EVENT));
    assert_eq!(ids(&got), published);
}

#[tokio::test]
async fn with_three_replicas_a_nats_node_killed_stops_neither_publishing_nor_delivery() {
    let mut cluster = Nats::cluster(3).await;
    let urls = cluster.iter().map(Nats::url).collect::<Vec<_>>().join(",");
    let (_a, base) = node(free_port(), "a", &urls, &["--nats-replicas", "3"]).await;
    let mut reader = SseReader::open(&format!("{base}/sse/subscribe?topic=t")).await;
    let mut published = Vec::new();
    for n in 0..10 {
        published.push(publish(&base, "t", n).await);
    }
    cluster[0].stop().await;
    for n in 10..30 {
        published.push(publish(&base, "t", n).await);
    }
    let got = reader.events(30).await;
    assert!(got.iter().all(|e| e.event != RESET_EVENT));
    assert_eq!(ids(&got), published, "every event once, in order");
}

#[tokio::test]
async fn a_frozen_node_stalls_neither_publishing_nor_the_other_nodes_and_catches_up_when_it_thaws()
{
    let nats = Nats::start().await;
    let (_a, base_a) = node(free_port(), "a", &nats.url(), &[]).await;
    let (_b, base_b) = node(free_port(), "b", &nats.url(), &[]).await;
    let (c, base_c) = node(free_port(), "c", &nats.url(), &[]).await;
    let mut on_b = SseReader::open(&format!("{base_b}/sse/subscribe?topic=t")).await;
    let mut on_c = SseReader::open(&format!("{base_c}/sse/subscribe?topic=t")).await;

    // The slowest a node can be: it reads nothing from NATS or its sockets.
    signal(&c, "-STOP").await;
    let mut published = Vec::new();
    for n in 0..30 {
        published.push(publish(&base_a, "t", n).await);
    }
    let on_b_while_frozen = on_b.events(30).await;
    assert_eq!(ids(&on_b_while_frozen), published, "b is not held back");

    signal(&c, "-CONT").await;
    let on_c_after = on_c.events(30).await;
    assert!(on_c_after.iter().all(|e| e.event != RESET_EVENT));
    assert_eq!(ids(&on_c_after), published, "c catches up: every event once, in order");
}
