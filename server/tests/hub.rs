//! The topic hub over real HTTP: fan-out, order, replay, resets, polling,
//! slow subscribers, heartbeats and disconnects.
#![allow(clippy::unwrap_used)]

mod common;

use std::time::Duration;

use common::{client, datas, ids, SseReader, TestServer};
use pushwire_protocol::{Item, Reset, ResetReason, TypedEvent};
use serde_json::json;

#[tokio::test]
async fn every_one_of_200_subscribers_gets_every_event_once_in_order() {
    let server = TestServer::start().await;
    let mut readers = Vec::new();
    for _ in 0..200 {
        readers.push(SseReader::open(&server.url("/sse/subscribe?topic=news")).await);
    }
    server
        .wait_for_stats("200 subscribers", |s| s["subscribers"] == 200)
        .await;
    let mut published = Vec::new();
    for i in 0..50 {
        published.push(server.publish("news", "headline", json!({ "n": i })).await);
    }
    let want: Vec<String> = (0..50).map(|i| json!({ "n": i }).to_string()).collect();
    for (i, r) in readers.iter_mut().enumerate() {
        let events = r.events(50).await;
        assert_eq!(ids(&events), published);
        assert_eq!(datas(&events), want);
        assert!(events.iter().all(|e| e.event == "headline"));
        if i == 0 {
            r.check_with_independent_parser(&events).await;
        }
    }
    server.stop().await;
}

#[tokio::test]
async fn independent_parser_agrees_on_a_live_subscription() {
    let server = TestServer::start().await;
    let mut r = SseReader::open(&server.url("/sse/subscribe?topic=x")).await;
    server
        .wait_for_stats("subscriber", |s| s["subscribers"] == 1)
        .await;
    server.publish("x", "a", json!("line one\nline two")).await;
    server.publish("x", "b", json!({ "k": [1, 2, 3] })).await;
    let events = r.events(2).await;
    r.check_with_independent_parser(&events).await;
    server.stop().await;
}

#[tokio::test]
async fn one_connection_follows_several_topics_in_id_order() {
    let server = TestServer::start().await;
    let mut r = SseReader::open(&server.url("/sse/subscribe?topic=a&topic=b")).await;
    server
        .wait_for_stats("subscriber", |s| s["subscribers"] == 1)
        .await;
    let mut published = Vec::new();
    for i in 0..10 {
        let topic = if i % 2 == 0 { "a" } else { "b" };
        published.push(server.publish(topic, "message", json!(i)).await);
    }
    server.publish("c", "message", json!("not followed")).await;
    let last = server.publish("a", "message", json!("last")).await;
    published.push(last);
    assert_eq!(ids(&r.events(11).await), published);
    server.stop().await;
}

#[tokio::test]
async fn fresh_subscription_gets_a_position_so_an_early_reconnect_loses_nothing() {
    let server = TestServer::start().await;
    server.publish("p", "message", json!("before")).await;
    let mut r = SseReader::open(&server.url("/sse/subscribe?topic=p")).await;
    // The id-only frame dispatches nothing but sets the last event id.
    while r.last_event_id().is_empty() {
        assert!(r.pump().await, "stream ended before the position frame");
    }
    let position = r.last_event_id().to_owned();
    r.disconnect();
    let missed = server.publish("p", "message", json!("while away")).await;
    let mut r = SseReader::open_with(&server.url("/sse/subscribe?topic=p"), Some(&position)).await;
    let e = r.events(1).await;
    assert_eq!(ids(&e), [missed]);
    assert_eq!(datas(&e), ["\"while away\""]);
    server.stop().await;
}

#[tokio::test]
async fn resume_replays_what_was_missed_with_no_gap_and_no_duplicate() {
    let server = TestServer::start().await;
    let url = server.url("/sse/subscribe?topic=r");
    let mut r = SseReader::open(&url).await;
    server
        .wait_for_stats("subscriber", |s| s["subscribers"] == 1)
        .await;
    let mut all = Vec::new();
    for i in 0..3 {
        all.push(server.publish("r", "message", json!(i)).await);
    }
    let seen = r.events(3).await;
    assert_eq!(ids(&seen), all);
    r.disconnect();
    server
        .wait_for_stats("disconnect", |s| s["subscribers"] == 0)
        .await;
    for i in 3..8 {
        all.push(server.publish("r", "message", json!(i)).await);
    }

    // Resume while a publisher keeps publishing: replay and live must join
    // exactly, whatever the interleaving.
    let publisher = {
        let base = server.base.clone();
        tokio::spawn(async move {
            let mut ids = Vec::new();
            for i in 8..40 {
                let res = client()
                    .post(format!("{base}/api/topics/r"))
                    .json(&json!({ "data": i }))
                    .send()
                    .await
                    .unwrap();
                let body: serde_json::Value = res.json().await.unwrap();
                ids.push(body["id"].as_str().unwrap().to_owned());
            }
            ids
        })
    };
    let mut r = SseReader::open_with(&url, Some(&seen[2].id)).await;
    all.extend(publisher.await.unwrap());
    let resumed = r.events(all.len() - 3).await;
    assert_eq!(ids(&resumed), all[3..]);
    let numbers: Vec<String> = (3..40).map(|i| i.to_string()).collect();
    assert_eq!(datas(&resumed), numbers);
    server.stop().await;
}

async fn reset_of(server: &TestServer, last_event_id: &str) -> (Reset, String) {
    let mut r =
        SseReader::open_with(&server.url("/sse/subscribe?topic=z"), Some(last_event_id)).await;
    let e = r.events(1).await.remove(0);
    assert_eq!(e.event, Reset::NAME);
    (e.decode().unwrap(), e.id)
}

#[tokio::test]
async fn unresumable_ids_get_an_explicit_reset_then_live_events() {
    let server = TestServer::start_with(|c| c.replay_capacity = 4).await;
    let mut ids_z = Vec::new();
    for i in 0..10 {
        ids_z.push(server.publish("z", "message", json!(i)).await);
    }
    let epoch = ids_z[0].split('-').next().unwrap().to_owned();
    let other_epoch = if epoch == "00000000" {
        "00000001"
    } else {
        "00000000"
    };

    let (reset, id) = reset_of(&server, &ids_z[0]).await;
    assert_eq!(reset.reason, ResetReason::TooOld);
    assert_eq!(reset.last_event_id, ids_z[0]);
    assert_eq!(
        id, ids_z[9],
        "the reset moves the client to the current position"
    );
    assert!(!reset.message.is_empty());

    assert_eq!(
        reset_of(&server, &format!("{other_epoch}-3"))
            .await
            .0
            .reason,
        ResetReason::UnknownEpoch
    );
    assert_eq!(
        reset_of(&server, "garbage").await.0.reason,
        ResetReason::Malformed
    );
    assert_eq!(
        reset_of(&server, &format!("{epoch}-999")).await.0.reason,
        ResetReason::Future
    );

    // The oldest id still fully covered replays normally (ids 6..9 kept).
    let mut r = SseReader::open_with(&server.url("/sse/subscribe?topic=z"), Some(&ids_z[5])).await;
    assert_eq!(ids(&r.events(4).await), ids_z[6..]);
    drop(r);

    // After a reset, live events follow.
    let mut r = SseReader::open_with(&server.url("/sse/subscribe?topic=z"), Some("garbage")).await;
    assert_eq!(r.events(1).await[0].event, Reset::NAME);
    server
        .wait_for_stats("subscriber", |s| s["subscribers"] == 1)
        .await;
    let live = server.publish("z", "message", json!("live")).await;
    assert_eq!(ids(&r.events(1).await), [live]);
    server.stop().await;
}

#[tokio::test]
async fn polling_returns_the_same_events_as_json() {
    let server = TestServer::start_with(|c| c.replay_capacity = 8).await;
    let empty = server.get_json("/api/topics/q/events").await;
    assert_eq!(empty["events"], json!([]));
    let mut published = Vec::new();
    for i in 0..5 {
        published.push(server.publish("q", "tick", json!({ "i": i })).await);
    }
    let body = server
        .get_json(&format!(
            "/api/topics/q/events?after={}&limit=2",
            published[0]
        ))
        .await;
    assert_eq!(body["events"][0]["id"], published[1]);
    assert_eq!(body["events"][0]["event"], "tick");
    assert_eq!(body["events"][0]["data"], json!({ "i": 1 }));
    assert_eq!(body["events"][1]["id"], published[2]);
    assert_eq!(body["more"], true);
    assert_eq!(body["last_id"], published[2]);
    assert!(body["reset"].is_null());
    let body = server
        .get_json(&format!(
            "/api/topics/q/events?after={}",
            body["last_id"].as_str().unwrap()
        ))
        .await;
    let got: Vec<_> = body["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["id"].clone())
        .collect();
    assert_eq!(got, [json!(published[3]), json!(published[4])]);
    assert_eq!(body["more"], false);
    let body = server.get_json("/api/topics/q/events?after=nonsense").await;
    assert_eq!(body["reset"]["reason"], "malformed");
    assert_eq!(body["events"], json!([]));
    server.stop().await;
}

#[tokio::test]
async fn a_slow_subscriber_is_cut_off_while_others_get_everything() {
    let server = TestServer::start_with(|c| c.subscriber_queue = 16).await;
    let url = server.url("/sse/subscribe?topic=firehose");
    let mut fast = SseReader::open(&url).await;
    // The slow one never reads: first socket buffers fill, then its queue.
    let mut slow = SseReader::open(&url).await;
    server
        .wait_for_stats("2 subscribers", |s| s["subscribers"] == 2)
        .await;
    let payload = "x".repeat(32 * 1024);
    let mut published = Vec::new();
    let mut received = Vec::new();
    for _batch in 0..60 {
        for _ in 0..10 {
            published.push(server.publish("firehose", "blob", json!(payload)).await);
        }
        received.extend(ids(&fast.events(10).await));
        if server.stats().await["subscribers_cut_off"] == 1 {
            break;
        }
    }
    assert_eq!(
        received, published,
        "the fast subscriber got everything, in order"
    );
    let stats = server
        .wait_for_stats("cut-off", |s| s["subscribers_cut_off"] == 1)
        .await;
    assert_eq!(stats["subscribers"], 1, "only the fast subscriber remains");
    // Bounded: far fewer events were buffered for the slow one than published
    // would be needed to hold everything (kernel buffers + queue of 16).
    let slow_events = slow.rest().await;
    assert!(
        slow_events.len() < published.len(),
        "slow got {} of {}",
        slow_events.len(),
        published.len()
    );
    assert_eq!(
        ids(&slow_events),
        published[..slow_events.len()],
        "what it got is a gapless prefix"
    );
    // It resumes through replay from its last id and catches up.
    let last = slow_events.last().map(|e| e.id.clone()).unwrap();
    let mut resumed = SseReader::open_with(&url, Some(&last)).await;
    let rest = resumed.events(published.len() - slow_events.len()).await;
    assert_eq!(ids(&rest), published[slow_events.len()..]);
    server.stop().await;
}

#[tokio::test]
async fn idle_streams_carry_heartbeats() {
    let server = TestServer::start_with(|c| c.heartbeat_ms = 50).await;
    let mut r = SseReader::open(&server.url("/sse/subscribe?topic=quiet")).await;
    let mut heartbeats = 0;
    while heartbeats < 2 {
        match r.next_item().await.unwrap() {
            Item::Comment(c) => {
                assert_eq!(c, "heartbeat");
                heartbeats += 1;
            }
            Item::Event(e) => panic!("unexpected event {e:?}"),
            Item::Retry(_) => {}
        }
    }
    server.stop().await;
}

#[tokio::test]
async fn closed_clients_are_removed_and_counts_stay_exact() {
    let server = TestServer::start_with(|c| c.heartbeat_ms = 100).await;
    let mut readers = Vec::new();
    for _ in 0..10 {
        readers.push(SseReader::open(&server.url("/sse/subscribe?topic=d")).await);
    }
    server
        .wait_for_stats("10 streams", |s| {
            s["streams_open"] == 10 && s["subscribers"] == 10
        })
        .await;
    for r in readers.iter_mut().take(4) {
        r.disconnect();
    }
    let started = std::time::Instant::now();
    let s = server
        .wait_for_stats("6 streams", |s| {
            s["streams_open"] == 6 && s["subscribers"] == 6
        })
        .await;
    assert!(started.elapsed() < Duration::from_secs(5));
    // The stats request itself is the only other connection.
    assert_eq!(s["connections_open"], 7);
    drop(readers);
    server
        .wait_for_stats("0 streams", |s| {
            s["streams_open"] == 0 && s["subscribers"] == 0 && s["connections_open"] == 1
        })
        .await;
    server.stop().await;
}

#[tokio::test]
async fn text_and_null_payloads_travel_as_published() {
    let server = TestServer::start().await;
    let mut r = SseReader::open(&server.url("/sse/subscribe?topic=txt")).await;
    server
        .wait_for_stats("subscriber", |s| s["subscribers"] == 1)
        .await;
    let c = client();
    for body in [
        json!({"event": "note", "text": "not json {\nsecond line"}),
        json!({"data": null}),
    ] {
        let res = c
            .post(server.url("/api/topics/txt"))
            .json(&body)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 202);
    }
    let events = r.events(2).await;
    assert_eq!(events[0].event, "note");
    assert_eq!(events[0].data, "not json {\nsecond line");
    assert_eq!(events[1].data, "null");
    let polled = server.topic_events("txt").await;
    assert_eq!(polled[0]["text"], "not json {\nsecond line");
    assert!(polled[0].get("data").is_none());
    assert_eq!(polled[1]["data"], serde_json::Value::Null);
    assert!(polled[1].get("text").is_none());
    server.stop().await;
}

#[tokio::test]
async fn streams_end_cleanly_after_their_lifetime_and_resume_by_id() {
    let server = TestServer::start_with(|c| c.stream_lifetime_ms = 300).await;
    let url = server.url("/sse/subscribe?topic=rotate");
    let mut r = SseReader::open(&url).await;
    server
        .wait_for_stats("subscriber", |s| s["subscribers"] == 1)
        .await;
    let first = server.publish("rotate", "message", json!(1)).await;
    assert_eq!(ids(&r.events(1).await)[0], first);
    // The server ends the stream by itself (a clean end, not an error).
    assert!(r.rest().await.is_empty());
    let missed = server.publish("rotate", "message", json!(2)).await;
    let mut r = SseReader::open_with(&url, Some(&first)).await;
    assert_eq!(ids(&r.events(1).await), [missed]);
    server.stop().await;
}

#[tokio::test]
async fn a_retried_publish_with_the_same_idempotency_key_is_stored_once() {
    let server = TestServer::start().await;
    let c = client();
    let publish = |topic: &'static str, key: &'static str| {
        c.post(server.url(&format!("/api/topics/{topic}")))
            .header("Idempotency-Key", key)
            .json(&json!({"event": "order", "data": {"n": 1}}))
            .send()
    };
    let first = publish("orders", "order-42").await.unwrap();
    assert_eq!(first.status(), 202);
    let first: serde_json::Value = first.json().await.unwrap();
    let retry = publish("orders", "order-42").await.unwrap();
    assert_eq!(retry.status(), 202);
    let retry: serde_json::Value = retry.json().await.unwrap();
    assert_eq!(retry["id"], first["id"], "the retry gets the first id");
    assert_eq!(server.topic_events("orders").await.len(), 1, "stored once");
    // The key counts per topic, and another key is another event.
    let other_topic: serde_json::Value = publish("invoices", "order-42")
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_ne!(other_topic["id"], first["id"]);
    publish("orders", "order-43").await.unwrap();
    assert_eq!(server.topic_events("orders").await.len(), 2);
    // A key that is not visible ASCII is refused, and nothing is stored.
    let bad = publish("orders", "has space").await.unwrap();
    assert_eq!(bad.status(), 400);
    let body: serde_json::Value = bad.json().await.unwrap();
    assert!(
        body["error"].as_str().unwrap().contains("Idempotency-Key"),
        "{body}"
    );
    assert_eq!(server.topic_events("orders").await.len(), 2);
    server.stop().await;
}

#[tokio::test]
async fn an_event_published_without_a_name_polls_as_message() {
    let server = TestServer::start().await;
    let res = client()
        .post(server.url("/api/topics/plain"))
        .json(&json!({"data": 1}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 202);
    let events = server.topic_events("plain").await;
    assert_eq!(events[0]["event"], "message");
    server.stop().await;
}
