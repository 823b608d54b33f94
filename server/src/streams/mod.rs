//! The per-connection demo streams (`/sse/counter`, `/sse/demo`, `/sse/perf`).
//!
//! Each is a finite sequence of events with known ids, so resuming is
//! positional: a `Last-Event-ID` names the last event seen and the stream
//! continues right after it. The last id-bearing event marks the end: a
//! resume after it answers `204 No Content`, which stops a native
//! EventSource. An id the stream never issues gets a `pushwire.reset` event,
//! then the stream from its start. Every stream ends with `pushwire.end`.

pub mod counter;
pub mod demo;
pub mod perf;

use bytes::Bytes;
use pushwire_protocol::{encode_typed, End, ResetReason, TypedEvent};

use crate::hub::reset_for;

/// Longest interval accepted between events of a demo stream, in ms.
pub const MAX_INTERVAL_MS: u64 = 60_000;

/// Where a per-connection stream starts.
#[derive(Debug)]
pub enum Resume {
    /// At this position, after an optional reset frame.
    At { index: usize, reset: Option<Bytes> },
    /// The client already saw the last event: answer 204.
    Ended,
}

/// Works out where to resume a stream of `len` events whose id at position
/// `i` is recognised by `position(id) == Some(i)`.
pub fn resume(
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
            reset: frame(None, &reset_for(ResetReason::Malformed, raw)),
        },
    }
}

/// [`resume`] for streams whose ids are the positions `0`…`len-1` in
/// canonical decimal ("007" is not an id such a stream issues).
pub fn resume_numbered(last_event_id: Option<&str>, len: u64) -> Resume {
    resume(last_event_id, len as usize, |id| {
        id.parse::<u64>()
            .ok()
            .filter(|n| *n < len && n.to_string() == id)
            .map(|n| n as usize)
    })
}

/// Encodes a typed event. Our own ids and types always encode; should one
/// ever fail, it is logged and the frame skipped rather than panicking.
pub fn frame<T: TypedEvent>(id: Option<&str>, value: &T) -> Option<Bytes> {
    match encode_typed(id, value) {
        Ok(bytes) => Some(bytes),
        Err(err) => {
            tracing::error!(%err, event = T::NAME, "failed to encode event");
            None
        }
    }
}

/// The `pushwire.end` frame closing every finite stream.
pub fn end_frame() -> Option<Bytes> {
    frame(
        None,
        &End {
            reason: "complete".into(),
        },
    )
}
