//! The examples of `server/examples/`, run as their own processes: each is
//! started on an ephemeral port and what it serves is checked event by
//! event, as a user running `cargo run --example NAME` would see it.
//!
//! The binaries are those `cargo test` builds beside this test (in
//! `target/<profile>/examples/`); `cargo test --test examples` alone does
//! not build them, so run `cargo build --examples` first in that case.
#![allow(clippy::unwrap_used)]

mod common;

use std::path::PathBuf;
use std::process::Stdio;
use std::time::{Duration, Instant};

use common::{client, SseReader, DEADLINE};
use pushwire_protocol::names::{END_COMPLETE, END_EVENT, RESET_EVENT};
use pushwire_protocol::{
    Close, Connection, DemoData, End, Event, Item, MonitoringData, PerformanceData,
    PerformanceSummary, Reset, ResetReason, TypedEvent,
};
use tokio::io::{AsyncBufReadExt, BufReader, Lines};
use tokio::process::{Child, ChildStdout, Command};

/// The built example `name`, next to this test's own binary
/// (`target/<profile>/deps/examples-…` → `target/<profile>/examples/name`).
fn example_path(name: &str) -> PathBuf {
    let exe = std::env::current_exe().unwrap();
    let profile_dir = exe
        .parent()
        .and_then(|deps| deps.parent())
        .expect("the test binary lives in target/<profile>/deps");
    let path = profile_dir
        .join("examples")
        .join(format!("{name}{}", std::env::consts::EXE_SUFFIX));
    assert!(
        path.is_file(),
        "example binary {} not found: run cargo build --examples -p pushwire-server \
         (cargo test builds them, cargo test --test examples does not)",
        path.display()
    );
    let source = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(format!("examples/{name}.rs"));
    let modified = |p: &PathBuf| std::fs::metadata(p).and_then(|m| m.modified()).ok();
    if let (Some(built), Some(edited)) = (modified(&path), modified(&source)) {
        assert!(
            built >= edited,
            "example binary {} is older than {}: run cargo build --examples -p pushwire-server",
            path.display(),
            source.display()
        );
    }
    path
}

/// A running example; killed when dropped.
struct Example {
    _child: Child,
    /// Keeps the example's stdout open.
    _stdout: Lines<BufReader<ChildStdout>>,
    base: String,
}

impl Example {
    /// Starts example `name` on an ephemeral port with `extra` arguments
    /// and waits for its `listening on http://ADDR` line.
    async fn start(name: &str, extra: &[&str]) -> Example {
        let mut child = Command::new(example_path(name))
            .args(["--addr", "127.0.0.1:0"])
            .args(extra)
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .kill_on_drop(true)
            .spawn()
            .unwrap();
        let mut stdout = BufReader::new(child.stdout.take().unwrap()).lines();
        let base = tokio::time::timeout(DEADLINE, async {
            loop {
                let line = stdout
                    .next_line()
                    .await
                    .unwrap()
                    .unwrap_or_else(|| panic!("example {name} exited before listening"));
                if let Some(base) = line.strip_prefix("listening on ") {
                    return base.trim().to_owned();
                }
            }
        })
        .await
        .unwrap_or_else(|_| panic!("example {name} did not say where it listens"));
        assert!(base.starts_with("http://127.0.0.1:"), "{base}");
        assert!(
            !base.ends_with(":0"),
            "the real port, not the asked one: {base}"
        );
        Example {
            _child: child,
            _stdout: stdout,
            base,
        }
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// Opens `path` as an SSE stream and checks its response head.
    async fn sse(&self, path: &str, last_event_id: Option<&str>) -> SseReader {
        let reader = SseReader::open_with(&self.url(path), last_event_id).await;
        assert_eq!(reader.status, 200, "GET {path}");
        assert_eq!(
            reader.response_headers["content-type"], "text/event-stream",
            "GET {path}"
        );
        assert_eq!(reader.response_headers["cache-control"], "no-cache");
        reader
    }
}

/// Every item until the example ends the stream.
async fn all_items(reader: &mut SseReader) -> Vec<Item> {
    let mut items = Vec::new();
    while let Some(item) = reader.next_item().await {
        items.push(item);
    }
    items
}

fn events_of(items: &[Item]) -> Vec<Event> {
    items
        .iter()
        .filter_map(|item| match item {
            Item::Event(e) => Some(e.clone()),
            _ => None,
        })
        .collect()
}

/// Decodes `event` as `T`, checking it travels under `T`'s name.
fn decode<T: TypedEvent>(event: &Event) -> T {
    event
        .decode_typed::<T>()
        .unwrap_or_else(|| panic!("expected a {} event, got {event:?}", T::NAME))
        .unwrap_or_else(|err| panic!("{} event with bad data {:?}: {err}", T::NAME, event.data))
}

fn assert_end(event: &Event) {
    assert_eq!(event.event, END_EVENT);
    assert_eq!(decode::<End>(event).reason, END_COMPLETE);
}

/// Waits for the id-only frame that opens a hub subscription: the
/// subscription is registered once it arrives.
async fn wait_until_live(reader: &mut SseReader) {
    while reader.last_event_id().is_empty() {
        assert!(
            reader.pump().await,
            "subscription ended before it went live"
        );
    }
}

/// The sequence number of a hub event id (`<epoch>-<seq>`).
fn seq(id: &str) -> u64 {
    id.rsplit('-')
        .next()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("not a hub event id: {id:?}"))
}

#[tokio::test]
async fn basic_streams_zero_to_nine_then_end() {
    let example = Example::start("basic", &[]).await;
    let mut stream = example.sse("/?interval_ms=0", None).await;
    let events = stream.rest().await;
    assert_eq!(events.len(), 11, "{events:?}");
    for (n, event) in events[..10].iter().enumerate() {
        assert_eq!(event.event, "message");
        assert_eq!(event.data, n.to_string());
        assert_eq!(event.id, n.to_string());
    }
    assert_end(&events[10]);
    stream.check_with_independent_parser(&events).await;

    // The interval is honoured: nine waits between ten events.
    let started = Instant::now();
    let events = example.sse("/?interval_ms=20", None).await.rest().await;
    assert_eq!(events.len(), 11);
    assert!(started.elapsed() >= Duration::from_millis(9 * 20));
}

#[tokio::test]
async fn advanced_streams_connection_twenty_data_close_then_end() {
    let example = Example::start("advanced", &[]).await;
    let mut stream = example.sse("/?interval_ms=0", None).await;
    let items = all_items(&mut stream).await;
    let events = events_of(&items);
    assert_eq!(events.len(), 23, "{events:?}");

    assert_eq!(events[0].id, "conn-1");
    assert!(!decode::<Connection>(&events[0]).message.is_empty());
    for (i, event) in (1..=20u64).zip(&events[1..=20]) {
        assert_eq!(event.id, format!("data-{i}"));
        let data = decode::<DemoData>(event);
        assert_eq!(data.value, i * 10);
        assert_eq!(data.status, "active");
        assert!(data.timestamp > 0);
    }
    assert_eq!(events[21].id, "close-1");
    assert!(!decode::<Close>(&events[21]).message.is_empty());
    assert_end(&events[22]);

    // Every data event, and only they, carries retry: 3000 (the parser
    // reports the field just before the event it belongs to).
    let retried: Vec<&str> = items
        .windows(2)
        .filter_map(|pair| match pair {
            [Item::Retry(3000), Item::Event(e)] => Some(e.id.as_str()),
            _ => None,
        })
        .collect();
    let data_ids: Vec<String> = (1..=20).map(|i| format!("data-{i}")).collect();
    assert_eq!(retried, data_ids);
    let retries = items.iter().filter(|i| matches!(i, Item::Retry(_))).count();
    assert_eq!(retries, 20);
    stream.check_with_independent_parser(&events).await;
}

#[tokio::test]
async fn perf_streams_count_events_a_measured_summary_then_end() {
    let example = Example::start("perf", &[]).await;
    let mut stream = example.sse("/?count=300&interval_ms=0", None).await;
    let events = stream.rest().await;
    assert_eq!(events.len(), 302, "300 perf, summary, end");
    let client_id = decode::<PerformanceData>(&events[0]).client_id;
    assert_eq!(client_id.len(), 16, "{client_id}");
    for (sequence, event) in (0u64..).zip(&events[..300]) {
        assert_eq!(event.id, sequence.to_string());
        let data = decode::<PerformanceData>(event);
        assert_eq!(data.sequence, sequence);
        assert_eq!(data.client_id, client_id, "one run, one client id");
    }
    let summary = decode::<PerformanceSummary>(&events[300]);
    assert_eq!(summary.total_events, 300);
    assert!(summary.total_time_ms >= 0.0);
    assert!(summary.events_per_second > 0.0, "{summary:?}");
    assert_end(&events[301]);
    stream.check_with_independent_parser(&events).await;

    let res = client()
        .get(example.url("/?count=100000000"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 400);
    let body: serde_json::Value = res.json().await.unwrap();
    assert!(body["error"].as_str().unwrap().contains("count"), "{body}");
}

#[tokio::test]
async fn monitoring_streams_shared_samples_and_resumes_by_id() {
    let example = Example::start("monitoring", &["--interval-ms", "20"]).await;
    let mut viewer = example.sse("/", None).await;
    wait_until_live(&mut viewer).await;
    let samples = viewer.events(3).await;
    for event in &samples {
        let data = decode::<MonitoringData>(event);
        assert!(data.timestamp > 0);
        assert!((0.0..=100.0).contains(&data.cpu_usage), "{data:?}");
        assert!((0.0..=100.0).contains(&data.memory_usage), "{data:?}");
    }
    assert!(
        samples.windows(2).all(|w| seq(&w[0].id) < seq(&w[1].id)),
        "ids increase: {samples:?}"
    );
    // Sampled after the first live sample was published, when this viewer
    // was subscribed: it counts itself.
    assert!(decode::<MonitoringData>(&samples[1]).active_connections >= 1);

    // A viewer that comes back after the first sample gets the second from
    // the replay, and goes on from there.
    let mut resumed = example.sse("/", Some(&samples[0].id)).await;
    let replayed = resumed.events(2).await;
    assert_eq!(replayed[0].id, samples[1].id);
    assert_eq!(replayed[1].id, samples[2].id);
    assert_eq!(replayed[0].data, samples[1].data, "the very same sample");

    // An id this hub never issued: a reset, then live samples.
    let mut lost = example.sse("/", Some("not-an-id")).await;
    let first = lost.next_event().await.unwrap();
    assert_eq!(first.event, RESET_EVENT);
    let reset = decode::<Reset>(&first);
    assert_eq!(reset.reason, ResetReason::Malformed);
    assert_eq!(reset.last_event_id, "not-an-id");
    decode::<MonitoringData>(&lost.next_event().await.unwrap());
}

#[tokio::test]
async fn embed_serves_its_own_routes_beside_the_mounted_hub() {
    let example = Example::start("embed", &[]).await;
    let http = client();

    let hello = http.get(example.url("/hello")).send().await.unwrap();
    assert_eq!(hello.status(), 200);
    assert!(hello.text().await.unwrap().contains("hello"));

    let mut orders = example.sse("/", None).await;
    wait_until_live(&mut orders).await;

    // The app's own handler publishes into the hub.
    let res = http
        .post(example.url("/orders/42/ship"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 202);
    let body: serde_json::Value = res.json().await.unwrap();
    assert_eq!(body["order_id"], 42);
    let shipped_id = body["id"].as_str().unwrap().to_owned();
    let shipped = orders.next_event().await.unwrap();
    assert_eq!(shipped.event, "order.shipped");
    assert_eq!(shipped.id, shipped_id);
    let data: serde_json::Value = shipped.decode().unwrap();
    assert_eq!(data["order_id"], 42);
    assert!(data["shipped_at"].as_u64().unwrap() > 0);

    // So does pushwire's publish API, mounted under /push.
    let res = http
        .post(example.url("/push/api/topics/orders"))
        .json(&serde_json::json!({ "event": "order.created", "data": { "order_id": 43 } }))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 202);
    let body: serde_json::Value = res.json().await.unwrap();
    let created = orders.next_event().await.unwrap();
    assert_eq!(created.event, "order.created");
    assert_eq!(created.id, body["id"].as_str().unwrap());
    assert_eq!(created.data, r#"{"order_id":43}"#);
    assert!(seq(&created.id) > seq(&shipped.id));

    let stats = common::get_json(&example.url("/push/api/stats")).await;
    assert_eq!(stats["events_published"], 2, "{stats}");
    assert_eq!(stats["subscribers"], 1, "{stats}");

    // What matches no route is answered as JSON too.
    let res = http.get(example.url("/nope")).send().await.unwrap();
    assert_eq!(res.status(), 404);
    assert_eq!(res.headers()["content-type"], "application/json");
    let body: serde_json::Value = res.json().await.unwrap();
    assert!(body["error"].is_string(), "{body}");
}
