//! `/sse/perf`: `perf` events (`PerformanceData`, id = sequence) as fast as
//! asked, then a `summary` event whose figures are measured on the server
//! for this connection's run, then `pushwire.end`.

use std::time::{Duration, Instant};

use futures_util::stream::{BoxStream, StreamExt};
use pushwire_protocol::{PerformanceData, PerformanceSummary};
use tokio::time::MissedTickBehavior;

use super::{event, Resume};
use crate::clock::now_ms;
use crate::sse::SseEvent;

/// Events sent when `count` is not given.
pub const DEFAULT_COUNT: u64 = 1000;
/// Largest accepted `count`.
pub const MAX_COUNT: u64 = 1_000_000;
/// Interval when `interval_ms` is not given (0 = as fast as the socket takes them).
pub const DEFAULT_INTERVAL_MS: u64 = 1;
/// Largest accepted `interval_ms`.
pub const MAX_INTERVAL_MS: u64 = 1000;

/// Parameters of one performance run.
#[derive(Debug, Clone, Copy)]
pub struct PerfParams {
    pub count: u64,
    pub interval: Duration,
}

/// Where a run resumes after `last_event_id`.
pub fn resume(params: &PerfParams, last_event_id: Option<&str>) -> Resume {
    super::resume_numbered(last_event_id, params.count)
}

/// The summary of `sent` events that took `elapsed`.
pub fn summarise(sent: u64, elapsed: Duration) -> PerformanceSummary {
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

/// The run's frames from position `start`.
pub(crate) fn stream(
    params: PerfParams,
    start: usize,
    reset: Option<SseEvent>,
) -> BoxStream<'static, SseEvent> {
    async_stream::stream! {
        if let Some(reset) = reset {
            yield reset;
        }
        let client_id = format!("{:016x}", rand::random::<u64>());
        let mut ticker = tokio::time::interval(params.interval.max(Duration::from_millis(1)));
        // Keep the asked rate on average even when one tick is late.
        ticker.set_missed_tick_behavior(MissedTickBehavior::Burst);
        let started = Instant::now();
        let mut sent = 0;
        for sequence in start as u64..params.count {
            if !params.interval.is_zero() {
                ticker.tick().await;
            }
            let data = PerformanceData { sequence, timestamp: now_ms(), client_id: client_id.clone() };
            if let Some(frame) = event(Some(&sequence.to_string()), &data) {
                sent += 1;
                yield frame;
            }
        }
        // Measured once the last event has been taken by the socket writer.
        if let Some(summary) = event(None, &summarise(sent, started.elapsed())) {
            yield summary;
        }
        yield SseEvent::end();
    }
    .boxed()
}
