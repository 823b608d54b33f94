//! Every retained byte is bounded: the replay byte budget (oldest of all
//! evicted first, publishing never refused for it), the largest event
//! measured on its frame, per-subscriber queue bytes, resumes that catch up
//! in bounded steps, poll responses in bounded pages, and topics that leave
//! the table once unused. Driven through the library's `Hub`, so each limit
//! is exact and nothing depends on timing.
#![allow(clippy::unwrap_used)]

use futures_util::{FutureExt, Stream, StreamExt};
use pushwire_protocol::names::{MONITORING_TOPIC, RESET_EVENT};
use pushwire_protocol::{Event, Item, Parser, Reset, ResetReason};
use pushwire_server::{Hub, HubError, Subscription};

/// A JSON string payload whose frame is about `bytes` long.
fn payload(n: usize, bytes: usize) -> String {
    format!("\"{n}:{}\"", "x".repeat(bytes.saturating_sub(60)))
}

/// Everything the subscription yields until it ends (`true`) or has
/// nothing more to give right now (`false`). The hub queues synchronously,
/// so "nothing ready when polled" is exact, not a guess with a timeout.
async fn drain(sub: &mut Subscription, parser: &mut Parser) -> (Vec<Event>, bool) {
    let mut events = Vec::new();
    loop {
        match sub.next().now_or_never() {
            Some(Some(frame)) => events.extend(parser.feed(&frame).into_iter().filter_map(
                |item| match item {
                    Item::Event(e) => Some(e),
                    _ => None,
                },
            )),
            Some(None) => return (events, true),
            None => return (events, false),
        }
    }
}

fn ids(events: &[Event]) -> Vec<String> {
    events.iter().map(|e| e.id.clone()).collect()
}

#[tokio::test]
async fn replay_stays_within_its_byte_budget_evicting_the_oldest_event_of_all_topics() {
    let hub = Hub::builder()
        .replay_max_bytes(20_000)
        .max_event_bytes(2_000)
        .build();
    let mut published = Vec::new();
    for n in 0..100 {
        let topic = ["a", "b", "c"][n % 3];
        let p = hub.publish_json(topic, "m", &payload(n, 1_000)).unwrap();
        published.push(p.id);
    }
    let stats = hub.stats();
    assert!(stats.replay_bytes <= 20_000, "{}", stats.replay_bytes);
    assert!(stats.replay_bytes > 15_000, "{}", stats.replay_bytes);
    assert!(stats.events_evicted > 70, "{}", stats.events_evicted);
    assert_eq!(stats.events_published, 100, "publishing never failed");

    // What is kept is exactly the newest events of all topics together: a
    // resume on every topic from just before the oldest kept event gets
    // all of them, in order; one event earlier is a reset.
    let kept = 100 - stats.events_evicted as usize;
    let mut sub = hub
        .subscribe(&["a", "b", "c"], Some(&published[99 - kept]))
        .unwrap();
    let (events, _) = drain(&mut sub, &mut Parser::new()).await;
    assert_eq!(ids(&events), published[100 - kept..]);
    let mut sub = hub
        .subscribe(&["a", "b", "c"], Some(&published[98 - kept]))
        .unwrap();
    let (events, _) = drain(&mut sub, &mut Parser::new()).await;
    assert_eq!(events[0].event, RESET_EVENT);
    let reset: Reset = serde_json::from_str(&events[0].data).unwrap();
    assert_eq!(reset.reason, ResetReason::TooOld);
}

#[tokio::test]
async fn the_largest_event_is_measured_on_its_encoded_frame() {
    let hub = Hub::builder().max_event_bytes(1_000).build();
    // 302 bytes of JSON, but every newline becomes a `data:` line: about
    // 1,800 bytes encoded.
    let bomb = format!("[{}]", "\n".repeat(300));
    match hub.publish_json("t", "m", &bomb) {
        Err(HubError::EventTooLarge { bytes, max }) => {
            assert!(bytes > 1_800, "{bytes}");
            assert_eq!(max, 1_000);
        }
        other => panic!("expected EventTooLarge, got {other:?}"),
    }
    let ok = hub.publish_json("t", "m", "[1]").unwrap();
    assert!(
        ok.id.ends_with("-1"),
        "the refused event took no id: {}",
        ok.id
    );
    assert_eq!(hub.stats().topics, 1);
}

#[tokio::test]
async fn a_subscriber_over_its_queue_bytes_is_cut_off_at_once_and_resumes_through_replay() {
    let hub = Hub::builder()
        .subscriber_queue(1_000)
        .subscriber_queue_bytes(5_000)
        .max_event_bytes(2_000)
        .build();
    let mut parser = Parser::new();
    let mut slow = hub.subscribe(&["t"], None).unwrap();
    let position = slow.next().await.unwrap(); // the id-only position frame
    parser.feed(&position);
    let start = parser.last_event_id().to_owned();
    let mut published = Vec::new();
    for n in 0..10 {
        published.push(hub.publish_json("t", "m", &payload(n, 1_000)).unwrap());
    }
    assert_eq!(published[3].delivered_to, 1);
    assert_eq!(published[9].delivered_to, 0, "cut off after ~5 KB");
    let stats = hub.stats();
    assert_eq!((stats.subscribers_cut_off, stats.subscribers), (1, 0));
    // Its queued frames were dropped when it was cut off: the stream ends
    // without yielding them.
    assert_eq!(Stream::size_hint(&slow).0, 0);
    assert!(slow.next().await.is_none());
    // Resuming from what it last received loses nothing.
    let mut again = hub.subscribe(&["t"], Some(&start)).unwrap();
    let (events, _) = drain(&mut again, &mut Parser::new()).await;
    let want: Vec<String> = published.iter().map(|p| p.id.clone()).collect();
    assert_eq!(ids(&events), want);
}

#[tokio::test]
async fn a_far_behind_resume_catches_up_in_steps_then_goes_live_with_nothing_missed() {
    let hub = Hub::builder()
        .subscriber_queue_bytes(3_000)
        .max_event_bytes(2_000)
        .build();
    let mut published = Vec::new();
    for n in 0..40 {
        let topic = if n % 2 == 0 { "a" } else { "b" };
        published.push(hub.publish_json(topic, "m", &payload(n, 500)).unwrap().id);
    }
    let mut sub = hub.subscribe(&["a", "b"], Some(&published[0])).unwrap();
    // The first step holds about 3 KB, not the whole history.
    assert!(
        Stream::size_hint(&sub).0 <= 7,
        "{:?}",
        Stream::size_hint(&sub)
    );
    let mut parser = Parser::new();
    let mut got = Vec::new();
    for _ in 0..3 {
        let frame = sub.next().await.unwrap();
        got.extend(parser.feed(&frame).into_iter().filter_map(|i| match i {
            Item::Event(e) => Some(e),
            _ => None,
        }));
    }
    // Published while it catches up: delivered after the history, once.
    for n in 40..45 {
        published.push(hub.publish_json("a", "m", &payload(n, 500)).unwrap().id);
    }
    let (rest, ended) = drain(&mut sub, &mut parser).await;
    assert!(!ended);
    got.extend(rest);
    assert_eq!(ids(&got), published[1..]);
    assert_eq!(hub.stats().subscribers, 1, "live now");
    let late = hub.publish_json("b", "m", "1").unwrap().id;
    let (live, _) = drain(&mut sub, &mut parser).await;
    assert_eq!(ids(&live), [late]);
}

#[tokio::test]
async fn a_catch_up_overtaken_by_eviction_gets_a_reset_from_where_it_was() {
    let hub = Hub::builder()
        .subscriber_queue_bytes(2_000)
        .replay_max_bytes(30_000)
        .max_event_bytes(2_000)
        .build();
    let mut published = Vec::new();
    for n in 0..20 {
        published.push(hub.publish_json("t", "m", &payload(n, 1_000)).unwrap().id);
    }
    let mut sub = hub.subscribe(&["t"], Some(&published[0])).unwrap();
    let mut parser = Parser::new();
    let first = sub.next().await.unwrap();
    let delivered = parser.feed(&first);
    assert!(matches!(&delivered[..], [Item::Event(e)] if e.id == published[1]));
    // Its next step is evicted before it reads on.
    for n in 0..40 {
        hub.publish_json("t", "m", &payload(n, 1_000)).unwrap();
    }
    let frames = [sub.next().await.unwrap(), sub.next().await.unwrap()];
    let items: Vec<Item> = frames.iter().flat_map(|f| parser.feed(f)).collect();
    let events: Vec<&Event> = items
        .iter()
        .filter_map(|i| match i {
            Item::Event(e) => Some(e),
            _ => None,
        })
        .collect();
    // Either the second frame of its step, then the reset; or the reset.
    let reset = events.iter().find(|e| e.event == RESET_EVENT).unwrap();
    let reset: Reset = serde_json::from_str(&reset.data).unwrap();
    assert_eq!(reset.reason, ResetReason::TooOld);
    assert!(
        reset.last_event_id == published[1] || reset.last_event_id == published[2],
        "{reset:?}"
    );
    let live = hub.publish_json("t", "m", "1").unwrap().id;
    let (after, _) = drain(&mut sub, &mut parser).await;
    assert_eq!(ids(&after), [live]);
}

#[tokio::test]
async fn topics_emptied_by_eviction_leave_the_table_and_free_their_slot() {
    let hub = Hub::builder()
        .max_topics(2)
        .replay_max_bytes(10_000)
        .max_event_bytes(5_000)
        .build();
    let before_a = hub.poll("a", None, 1).unwrap().last_id;
    hub.publish_json("a", "m", &payload(0, 4_000)).unwrap();
    hub.publish_json("b", "m", &payload(1, 4_000)).unwrap();
    assert!(matches!(
        hub.publish_json("c", "m", "1"),
        Err(HubError::TooManyTopics(2))
    ));
    // b grows past the budget: a's only event is the oldest of all, so a
    // empties and leaves the table.
    hub.publish_json("b", "m", &payload(2, 4_000)).unwrap();
    assert_eq!(hub.stats().topics, 1);
    hub.publish_json("c", "m", "1").unwrap();
    // A resume on the reclaimed topic from before its loss is a reset,
    // not a silent gap.
    let mut sub = hub.subscribe(&["a"], Some(&before_a)).unwrap();
    let (events, _) = drain(&mut sub, &mut Parser::new()).await;
    assert_eq!(events[0].event, RESET_EVENT);
}

#[tokio::test]
async fn subscribers_alone_take_no_topic_slot() {
    let hub = Hub::builder().max_topics(1).build();
    let waiting: Vec<Subscription> = (0..20)
        .map(|n| hub.subscribe(&[format!("anon{n}")], None).unwrap())
        .collect();
    assert_eq!(hub.stats().topics, 20);
    hub.publish_json("x", "m", "1").unwrap();
    assert!(matches!(
        hub.publish_json("y", "m", "1"),
        Err(HubError::TooManyTopics(1))
    ));
    drop(waiting);
    assert_eq!(hub.stats().topics, 1, "only the topic with events is left");
}

#[tokio::test]
async fn the_servers_own_topics_are_not_publishable() {
    let hub = Hub::new();
    assert!(matches!(
        hub.publish_json(MONITORING_TOPIC, "monitoring", "{}"),
        Err(HubError::ReservedTopic(t)) if t == MONITORING_TOPIC
    ));
    assert_eq!(hub.stats().events_published, 0);
}

#[tokio::test]
async fn polls_come_in_bounded_pages_that_continue_without_a_gap() {
    let hub = Hub::builder().poll_max_bytes(3_000).build();
    let start = hub.poll("t", None, 10).unwrap().last_id;
    let mut published = Vec::new();
    for n in 0..10 {
        published.push(hub.publish_json("t", "m", &payload(n, 1_000)).unwrap().id);
    }
    let mut after = start;
    let mut got = Vec::new();
    let mut pages = 0;
    loop {
        let page = hub.poll("t", Some(&after), 100).unwrap();
        let bytes: usize = page.events.iter().map(|e| e.frame().len()).sum();
        assert!(bytes <= 3_000, "{bytes}");
        got.extend(page.events.iter().map(|e| e.id().to_owned()));
        pages += 1;
        after = page.last_id;
        if !page.more {
            break;
        }
    }
    assert_eq!(got, published);
    assert!(pages >= 4, "{pages}");
    // Without `after`, the newest events that fit.
    let newest = hub.poll("t", None, 100).unwrap();
    let ids: Vec<&str> = newest.events.iter().map(|e| e.id()).collect();
    assert_eq!(ids, published[10 - ids.len()..]);
    assert!(!ids.is_empty() && ids.len() < 10);
}
