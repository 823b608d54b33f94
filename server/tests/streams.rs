//! The per-connection streams: exact events, ids and headers, resume by id,
//! and the end of finite streams.
#![allow(clippy::unwrap_used)]

mod common;

use common::{client, datas, ids, SseReader, TestServer};
use pushwire_protocol::{
    Close, Connection, DemoData, End, Item, MonitoringData, PerformanceData, PerformanceSummary,
    Reset, ResetReason, TypedEvent,
};

fn assert_sse_headers(r: &SseReader) {
    assert_eq!(r.status, 200);
    let h = &r.response_headers;
    assert_eq!(h["content-type"], "text/event-stream");
    assert_eq!(h["cache-control"], "no-cache");
    assert_eq!(h["x-accel-buffering"], "no");
    assert!(
        h.get("content-encoding").is_none(),
        "SSE must not be compressed"
    );
}

fn assert_end(e: &pushwire_protocol::Event) {
    assert_eq!(e.event, End::NAME);
    assert_eq!(e.decode::<End>().unwrap().reason, "complete");
}

/// The status of `GET url` resuming after `last_event_id`.
async fn status_resuming(url: &str, last_event_id: &str) -> u16 {
    client()
        .get(url)
        .header("last-event-id", last_event_id)
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

#[tokio::test]
async fn counter_streams_numbers_with_ids_then_ends() {
    let server = TestServer::start().await;
    let mut r = SseReader::open(&server.url("/sse/counter?count=5&interval_ms=0")).await;
    assert_sse_headers(&r);
    let events = r.rest().await;
    assert_eq!(events.len(), 6);
    assert_eq!(datas(&events[..5]), ["0", "1", "2", "3", "4"]);
    assert_eq!(ids(&events[..5]), ["0", "1", "2", "3", "4"]);
    assert!(events[..5].iter().all(|e| e.event == "message"));
    assert_end(&events[5]);
    r.check_with_independent_parser(&events).await;
    server.stop().await;
}

#[tokio::test]
async fn counter_paces_events_by_interval() {
    let server = TestServer::start().await;
    let started = std::time::Instant::now();
    let mut r = SseReader::open(&server.url("/sse/counter?count=3&interval_ms=100")).await;
    assert_eq!(r.rest().await.len(), 4);
    // Three events, the first at once: two intervals at least.
    assert!(started.elapsed() >= std::time::Duration::from_millis(200));
    server.stop().await;
}

#[tokio::test]
async fn counter_resumes_after_last_event_id() {
    let server = TestServer::start().await;
    let url = server.url("/sse/counter?count=5&interval_ms=0");
    let mut r = SseReader::open_with(&url, Some("2")).await;
    let events = r.rest().await;
    assert_eq!(datas(&events[..2]), ["3", "4"]);
    assert_end(&events[2]);

    // The query parameter works for a fresh EventSource...
    let mut r = SseReader::open(&format!("{url}&lastEventId=3")).await;
    assert_eq!(datas(&r.rest().await[..1]), ["4"]);
    // ...and the header, sent by a reconnecting EventSource, wins over it.
    let mut r = SseReader::open_with(&format!("{url}&lastEventId=0"), Some("3")).await;
    assert_eq!(datas(&r.rest().await[..1]), ["4"]);

    // Resuming after the last event: 204, which stops a native EventSource.
    assert_eq!(status_resuming(&url, "4").await, 204);
    server.stop().await;
}

#[tokio::test]
async fn counter_resets_on_an_id_it_never_issued() {
    let server = TestServer::start().await;
    for bad in ["banana", "99", "007"] {
        let mut r =
            SseReader::open_with(&server.url("/sse/counter?count=2&interval_ms=0"), Some(bad))
                .await;
        let events = r.rest().await;
        assert_eq!(events[0].event, Reset::NAME, "for {bad}");
        let reset: Reset = events[0].decode().unwrap();
        assert_eq!(reset.reason, ResetReason::Malformed);
        assert_eq!(reset.last_event_id, bad);
        assert_eq!(datas(&events[1..3]), ["0", "1"]);
    }
    server.stop().await;
}

#[tokio::test]
async fn demo_stream_is_connection_twenty_data_close_end() {
    let server = TestServer::start().await;
    let mut r = SseReader::open(&server.url("/sse/demo?interval_ms=0")).await;
    assert_sse_headers(&r);
    let mut items = Vec::new();
    while let Some(item) = r.next_item().await {
        items.push(item);
    }
    let events: Vec<_> = items
        .iter()
        .filter_map(|i| match i {
            Item::Event(e) => Some(e.clone()),
            _ => None,
        })
        .collect();
    assert_eq!(events.len(), 23);
    assert_eq!(events[0].event, Connection::NAME);
    assert_eq!(events[0].id, "conn-1");
    events[0].decode::<Connection>().unwrap();
    for (i, e) in events.iter().enumerate().take(21).skip(1) {
        assert_eq!(e.event, DemoData::NAME);
        assert_eq!(e.id, format!("data-{i}"));
        let d: DemoData = e.decode().unwrap();
        assert_eq!(d.value, i as u64 * 10);
        assert_eq!(d.status, "active");
    }
    assert_eq!(events[21].event, Close::NAME);
    assert_eq!(events[21].id, "close-1");
    events[21].decode::<Close>().unwrap();
    assert_end(&events[22]);
    // Every data event carries retry: 3000.
    assert_eq!(
        items.iter().filter(|i| **i == Item::Retry(3000)).count(),
        20
    );
    r.check_with_independent_parser(&events).await;

    // Resume mid-way; after close-1 the stream is over.
    let mut r = SseReader::open_with(&server.url("/sse/demo?interval_ms=0"), Some("data-19")).await;
    // The end event has no id of its own: the last id stays close-1.
    assert_eq!(ids(&r.rest().await), ["data-20", "close-1", "close-1"]);
    assert_eq!(
        status_resuming(&server.url("/sse/demo?interval_ms=0"), "close-1").await,
        204
    );
    server.stop().await;
}

#[tokio::test]
async fn perf_stream_reports_a_measured_summary() {
    let server = TestServer::start().await;
    let started = std::time::Instant::now();
    let mut r = SseReader::open(&server.url("/sse/perf?count=200&interval_ms=0")).await;
    let events = r.rest().await;
    let client_elapsed = started.elapsed();
    assert_eq!(events.len(), 202);
    let first: PerformanceData = events[0].decode().unwrap();
    for (i, e) in events[..200].iter().enumerate() {
        assert_eq!(e.event, PerformanceData::NAME);
        assert_eq!(e.id, i.to_string());
        let d: PerformanceData = e.decode().unwrap();
        assert_eq!(d.sequence, i as u64);
        assert_eq!(d.client_id, first.client_id);
    }
    assert_eq!(events[200].event, PerformanceSummary::NAME);
    let s: PerformanceSummary = events[200].decode().unwrap();
    assert_eq!(s.total_events, 200);
    assert!(s.total_time_ms > 0.0);
    assert!(
        s.total_time_ms <= client_elapsed.as_secs_f64() * 1000.0,
        "server time within client time"
    );
    let expected_avg = s.total_time_ms * 1000.0 / 200.0;
    assert!((s.average_event_time_us - expected_avg).abs() < 1e-6 * expected_avg.max(1.0));
    let expected_rate = 200.0 / (s.total_time_ms / 1000.0);
    assert!((s.events_per_second - expected_rate).abs() < 1e-6 * expected_rate);
    assert_end(&events[201]);

    // Two runs have different client ids.
    let mut r2 = SseReader::open(&server.url("/sse/perf?count=1&interval_ms=0")).await;
    let other: PerformanceData = r2.events(1).await[0].decode().unwrap();
    assert_ne!(other.client_id, first.client_id);
    server.stop().await;
}

#[tokio::test]
async fn monitoring_streams_real_samples_from_one_sampler() {
    let server = TestServer::start_with(|c| c.monitoring_ms = 50).await;
    let mut a = SseReader::open(&server.url("/sse/monitoring")).await;
    let mut b = SseReader::open(&server.url("/sse/monitoring")).await;
    assert_sse_headers(&a);
    let ea = a.events(3).await;
    let eb = b.events(3).await;
    for e in ea.iter().chain(&eb) {
        assert_eq!(e.event, MonitoringData::NAME);
        let m: MonitoringData = e.decode().unwrap();
        assert!(
            m.memory_usage > 0.0 && m.memory_usage <= 100.0,
            "memory {}",
            m.memory_usage
        );
        assert!((0.0..=100.0).contains(&m.cpu_usage));
        assert!(m.network_io >= 0.0);
        assert!(m.active_connections >= 1, "the viewer itself is connected");
    }
    for e in &eb {
        // b connected after a: every sample b sees counts both.
        let m: MonitoringData = e.decode().unwrap();
        assert!(m.active_connections >= 2, "both viewers are connected");
    }
    // One sampler: both viewers see the very same events (same ids), in order.
    let last_a = ea.last().unwrap().id.clone();
    let eb_more = b.events(3).await;
    let all_b: Vec<_> = eb.iter().chain(&eb_more).map(|e| e.id.clone()).collect();
    assert!(all_b.contains(&last_a), "{last_a} not in {all_b:?}");
    server.stop().await;
}

#[tokio::test]
async fn health_stats_metrics_and_static_files() {
    let server = TestServer::start().await;
    let c = client();
    let res = c.get(server.url("/healthz")).send().await.unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(res.text().await.unwrap(), "ok");

    let id = server.publish("t", "message", serde_json::json!(1)).await;
    let stats = server.stats().await;
    assert!(stats["events_published"].as_u64().unwrap() >= 1);
    assert_eq!(
        stats["epoch"].as_str().unwrap(),
        id.split('-').next().unwrap()
    );
    for key in [
        "connections_open",
        "streams_open",
        "frames_written",
        "bytes_written",
        "subscribers_cut_off",
        "uptime_seconds",
        "topics",
        "replay_bytes",
        "events_evicted",
        "panics",
    ] {
        assert!(stats.get(key).is_some(), "stats lack {key}");
    }

    let res = c.get(server.url("/metrics")).send().await.unwrap();
    assert!(res.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/plain; version=0.0.4"));
    let text = res.text().await.unwrap();
    assert!(text.contains(
        "# TYPE pushwire_events_published_total counter\npushwire_events_published_total "
    ));
    assert!(text.contains("# TYPE pushwire_panics_total counter\npushwire_panics_total 0\n"));
    assert!(text.contains("# TYPE pushwire_replay_bytes gauge\npushwire_replay_bytes "));
    assert!(stats["replay_bytes"].as_u64().unwrap() > 0);

    let res = c.get(server.url("/")).send().await.unwrap();
    assert_eq!(res.status(), 200);
    assert!(res.text().await.unwrap().contains("test page"));
    let res = c.get(server.url("/missing.js")).send().await.unwrap();
    assert_eq!(res.status(), 404);
    let body: serde_json::Value = res.json().await.unwrap();
    assert_eq!(body["error"], "no such route or file");
    server.stop().await;
}

#[tokio::test]
async fn frames_and_bytes_written_are_counted_exactly_even_when_batched() {
    let server = TestServer::start().await;
    let before = server.stats().await;
    // interval 0: frames queue up and leave in batches.
    let mut r = SseReader::open(&server.url("/sse/perf?count=500&interval_ms=0")).await;
    let events = r.rest().await;
    assert_eq!(events.len(), 502);
    let after = server
        .wait_for_stats("the stream's counts", |s| s["streams_open"] == 0)
        .await;
    let frames =
        after["frames_written"].as_u64().unwrap() - before["frames_written"].as_u64().unwrap();
    let bytes =
        after["bytes_written"].as_u64().unwrap() - before["bytes_written"].as_u64().unwrap();
    assert_eq!(frames, 502);
    assert_eq!(bytes, r.raw.len() as u64);
    server.stop().await;
}
