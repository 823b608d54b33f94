//! `/sse/demo`: the advanced stream. A `connection` event (id `conn-1`),
//! 20 `data` events (ids `data-1`…`data-20`, value = i × 10, `retry: 3000`,
//! every third interval doubled), a `close` event (id `close-1`), then
//! `pushwire.end`.

use std::time::Duration;

use futures_util::stream::{BoxStream, StreamExt};
use pushwire_protocol::{Close, Connection, DemoData};

use super::{event, Resume};
use crate::clock::now_ms;
use crate::sse::SseEvent;

/// Number of `data` events.
pub const DATA_EVENTS: usize = 20;
/// The `retry` sent with every data event, in ms.
pub const RETRY_MS: u64 = 3000;
/// Interval when `interval_ms` is not given.
pub const DEFAULT_INTERVAL_MS: u64 = 1000;

/// Event ids in stream order: `conn-1`, `data-1`…`data-20`, `close-1`.
fn id_at(index: usize) -> String {
    match index {
        0 => "conn-1".to_owned(),
        i if i <= DATA_EVENTS => format!("data-{i}"),
        _ => "close-1".to_owned(),
    }
}

const LEN: usize = DATA_EVENTS + 2;

/// Where the demo stream resumes after `last_event_id`.
pub fn resume(last_event_id: Option<&str>) -> Resume {
    super::resume(last_event_id, LEN, |id| (0..LEN).find(|&i| id_at(i) == id))
}

/// The delay before the event at `index`: every third data event waits twice.
fn delay_before(index: usize, interval: Duration) -> Duration {
    if (1..=DATA_EVENTS).contains(&index) && index % 3 == 0 {
        interval * 2
    } else {
        interval
    }
}

fn event_at(index: usize) -> Option<SseEvent> {
    let id = id_at(index);
    match index {
        0 => event(
            Some(&id),
            &Connection {
                message: "connected to the pushwire demo stream".into(),
                timestamp: now_ms(),
            },
        ),
        i if i <= DATA_EVENTS => {
            let data = DemoData {
                timestamp: now_ms(),
                value: i as u64 * 10,
                status: "active".into(),
            };
            event(Some(&id), &data).map(|e| e.retry(Duration::from_millis(RETRY_MS)))
        }
        _ => event(
            Some(&id),
            &Close {
                message: "demo complete".into(),
                timestamp: now_ms(),
            },
        ),
    }
}

/// The demo's frames from position `start`.
pub(crate) fn stream(
    interval: Duration,
    start: usize,
    reset: Option<SseEvent>,
) -> BoxStream<'static, SseEvent> {
    async_stream::stream! {
        if let Some(reset) = reset {
            yield reset;
        }
        for index in start..LEN {
            if index > start {
                tokio::time::sleep(delay_before(index, interval)).await;
            }
            if let Some(frame) = event_at(index) {
                yield frame;
            }
        }
        yield SseEvent::end();
    }
    .boxed()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_third_data_interval_is_doubled() {
        let i = Duration::from_millis(10);
        let delays: Vec<u128> = (1..LEN).map(|n| delay_before(n, i).as_millis()).collect();
        assert_eq!(delays[..6], [10, 10, 20, 10, 10, 20]);
        assert_eq!(delays[LEN - 2], 10); // before close
    }

    #[test]
    fn resume_positions() {
        assert!(matches!(
            resume(None),
            Resume::At {
                index: 0,
                reset: None
            }
        ));
        assert!(matches!(
            resume(Some("conn-1")),
            Resume::At {
                index: 1,
                reset: None
            }
        ));
        assert!(matches!(
            resume(Some("data-20")),
            Resume::At {
                index: 21,
                reset: None
            }
        ));
        assert!(matches!(resume(Some("close-1")), Resume::Ended));
        assert!(matches!(
            resume(Some("data-21")),
            Resume::At {
                index: 0,
                reset: Some(_)
            }
        ));
    }
}
