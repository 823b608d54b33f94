//! `/sse/counter`: the basic stream. `message` events with data `0`…`count-1`,
//! id = the number, one per interval (the first at once), then `pushwire.end`.

use std::time::Duration;

use futures_util::stream::{BoxStream, StreamExt};

use super::Resume;
use crate::sse::SseEvent;

/// Events sent when `count` is not given.
pub const DEFAULT_COUNT: u64 = 10;
/// Largest accepted `count`.
pub const MAX_COUNT: u64 = 100_000;
/// Interval when `interval_ms` is not given.
pub const DEFAULT_INTERVAL_MS: u64 = 1000;

/// Parameters of one counter stream.
#[derive(Debug, Clone, Copy)]
pub struct CounterParams {
    pub count: u64,
    pub interval: Duration,
}

/// Where a counter stream resumes after `last_event_id`.
pub fn resume(params: &CounterParams, last_event_id: Option<&str>) -> Resume {
    super::resume_numbered(last_event_id, params.count)
}

/// The counter's frames from position `start`.
pub fn stream(
    params: CounterParams,
    start: usize,
    reset: Option<SseEvent>,
) -> BoxStream<'static, SseEvent> {
    async_stream::stream! {
        if let Some(reset) = reset {
            yield reset;
        }
        let mut ticker = tokio::time::interval(params.interval.max(Duration::from_millis(1)));
        for n in start as u64..params.count {
            if !params.interval.is_zero() {
                ticker.tick().await;
            }
            let text = n.to_string();
            yield SseEvent::text(text.clone()).id(text);
        }
        yield SseEvent::end();
    }
    .boxed()
}
