//! The demo: the per-connection streams (`/sse/counter`, `/sse/demo`,
//! `/sse/perf`), the monitoring sampler feeding the `monitoring` topic, and
//! the demo user's tokens (`POST /demo/token`, off unless asked for).
//! They are built on the crate's public API ([`SseEvent`] streams answered
//! with [`Sse`](crate::Sse), [`Hub::publish_typed`](crate::Hub::publish_typed)),
//! as the examples in `server/examples/` are.
//!
//! Each is a finite sequence of events with known ids, so resuming is
//! positional: a `Last-Event-ID` names the last event seen and the stream
//! continues right after it. The last id-bearing event marks the end: a
//! resume after it answers `204 No Content`, which stops a native
//! EventSource. An id the stream never issues gets a `pushwire.reset` event,
//! then the stream from its start. Every stream ends with `pushwire.end`.

pub(crate) mod advanced;
pub(crate) mod counter;
pub(crate) mod monitoring;
pub(crate) mod perf;
pub(crate) mod tokens;

use pushwire_protocol::{Reset, ResetReason, TypedEvent};

use crate::sse::SseEvent;

/// Longest interval accepted between events of a demo stream, in ms.
pub const MAX_INTERVAL_MS: u64 = 60_000;

/// Where a per-connection stream starts.
#[derive(Debug)]
pub(crate) enum Resume {
    /// At this position, after an optional reset frame.
    At {
        index: usize,
        reset: Option<SseEvent>,
    },
    /// The client already saw the last event: answer 204.
    Ended,
}

/// Works out where to resume a stream of `len` events whose id at position
/// `i` is recognised by `position(id) == Some(i)`.
pub(crate) fn resume(
    last_event_id: Option<&str>,
    len: usize,
    position: impl Fn(&str) -> Option<usize>,
) -> Resume {
    let Some(raw) = last_event_id.filter(|id| !id.is_empty()) else {
        return Resume::At {
            index: 0,
            reset: None,
        };
    };
    match position(raw) {
        Some(i) if i + 1 >= len => Resume::Ended,
        Some(i) => Resume::At {
            index: i + 1,
            reset: None,
        },
        None => Resume::At {
            index: 0,
            reset: event(None, &Reset::new(ResetReason::Malformed, raw)),
        },
    }
}

/// [`resume`] for streams whose ids are the positions `0`…`len-1` in
/// canonical decimal ("007" is not an id such a stream issues).
pub(crate) fn resume_numbered(last_event_id: Option<&str>, len: u64) -> Resume {
    resume(last_event_id, len as usize, |id| {
        id.parse::<u64>()
            .ok()
            .filter(|n| *n < len && n.to_string() == id)
            .map(|n| n as usize)
    })
}

/// A typed event, with an id when given. Our own types always serialise;
/// should one ever fail, it is logged and the event skipped rather than
/// panicking.
pub(crate) fn event<T: TypedEvent>(id: Option<&str>, value: &T) -> Option<SseEvent> {
    match SseEvent::named(value) {
        Ok(event) => Some(match id {
            Some(id) => event.id(id),
            None => event,
        }),
        Err(err) => {
            tracing::error!(%err, event = T::NAME, "failed to serialise event");
            None
        }
    }
}
