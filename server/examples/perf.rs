//! `perf`: how fast one connection takes a stream of typed events.
//!
//! `GET /?count=N` streams N `perf` events ([`PerformanceData`], id = the
//! sequence number `0` … `N-1`), one per `interval_ms` (default 1; 0 = as
//! fast as the socket takes them), then a `summary`
//! ([`PerformanceSummary`]) measured in the handler once the last event
//! has left the stream, then `pushwire.end`. `count` defaults to 1000.
//! It shows a stream that does work between events (timing itself) and
//! answers bad parameters with a JSON [`ApiError`].
//!
//! ```text
//! cargo run -p pushwire-server --example perf [-- --addr 127.0.0.1:60000]
//! curl -N 'http://127.0.0.1:60000/?count=20'
//! curl -sN 'http://127.0.0.1:60000/?count=100000&interval_ms=0' | tail -n 6
//! ```

mod common;

use std::time::{Duration, Instant};

use pushwire_protocol::{PerformanceData, PerformanceSummary};
use pushwire_server::{ApiError, Sse, SseEvent};
use tokio::time::MissedTickBehavior;
use warp::reply::{Reply, Response};
use warp::Filter;

/// Largest accepted `count`.
const MAX_COUNT: u64 = 1_000_000;
/// Largest accepted `interval_ms`.
const MAX_INTERVAL_MS: u64 = 1000;

#[derive(Debug, serde::Deserialize)]
struct Params {
    #[serde(default = "default_count")]
    count: u64,
    #[serde(default = "default_interval_ms")]
    interval_ms: u64,
}

fn default_count() -> u64 {
    1000
}

fn default_interval_ms() -> u64 {
    1
}

fn perf(p: Params) -> Response {
    if p.count > MAX_COUNT || p.interval_ms > MAX_INTERVAL_MS {
        return ApiError::bad_request(format!(
            "count must be at most {MAX_COUNT} and interval_ms at most {MAX_INTERVAL_MS}"
        ))
        .into_response();
    }
    let interval = Duration::from_millis(p.interval_ms);
    let client_id = format!("{:016x}", rand::random::<u64>());
    Sse::new(async_stream::stream! {
        let mut ticker = tokio::time::interval(interval.max(Duration::from_millis(1)));
        // Keep the asked rate on average even when one tick is late.
        ticker.set_missed_tick_behavior(MissedTickBehavior::Burst);
        let started = Instant::now();
        for sequence in 0..p.count {
            if !interval.is_zero() {
                ticker.tick().await;
            }
            let data = PerformanceData {
                sequence,
                timestamp: common::now_ms(),
                client_id: client_id.clone(),
            };
            yield SseEvent::named(&data)
                .expect("PerformanceData always serialises")
                .id(sequence.to_string());
        }
        // Measured once the response has taken the last event from this
        // stream: the time covers the whole run.
        yield SseEvent::named(&summarise(p.count, started.elapsed()))
            .expect("PerformanceSummary always serialises");
        yield SseEvent::end();
    })
    .into_response()
}

fn summarise(sent: u64, elapsed: Duration) -> PerformanceSummary {
    let secs = elapsed.as_secs_f64();
    PerformanceSummary {
        total_events: sent,
        total_time_ms: secs * 1000.0,
        average_event_time_us: if sent == 0 {
            0.0
        } else {
            secs * 1e6 / sent as f64
        },
        events_per_second: if secs > 0.0 { sent as f64 / secs } else { 0.0 },
    }
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args = common::Args::parse("perf", &[])?;
    let routes = warp::path::end()
        .and(warp::get())
        .and(warp::query::<Params>())
        .map(perf);

    common::serve(routes, args.addr).await
}
