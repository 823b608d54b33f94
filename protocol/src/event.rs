//! Typed events: the Rust types carried by pushwire streams and the SSE event
//! name each one travels under.
//!
//! A type implements [`TypedEvent`] to tie itself to its event name; the
//! encoder ([`crate::encode_typed`]) writes it as JSON `data` with that name as
//! `event`, and [`crate::Event::decode`] reads it back. JSON field names are
//! snake_case exactly as the Rust fields are written.

use serde::{de::DeserializeOwned, Deserialize, Serialize};

/// A Rust type that travels as the JSON data of one named SSE event.
///
/// ```
/// use pushwire_protocol::TypedEvent;
/// #[derive(serde::Serialize, serde::Deserialize)]
/// struct Chat { text: String }
/// impl TypedEvent for Chat { const NAME: &'static str = "chat"; }
/// assert_eq!(Chat::NAME, "chat");
/// ```
pub trait TypedEvent: Serialize + DeserializeOwned {
    /// The SSE `event` field this type is sent under.
    const NAME: &'static str;
}

macro_rules! typed_event {
    ($ty:ident, $name:literal) => {
        impl TypedEvent for $ty {
            const NAME: &'static str = $name;
        }
    };
}

/// First event of the advanced demo stream (`/sse/demo`), id `conn-1`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Connection {
    /// Human-readable greeting.
    pub message: String,
    /// Server time in milliseconds since the Unix epoch.
    pub timestamp: u64,
}
typed_event!(Connection, "connection");

/// One of the 20 `data` events of the advanced demo stream, ids `data-1`…`data-20`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DemoData {
    /// Server time in milliseconds since the Unix epoch.
    pub timestamp: u64,
    /// `i * 10` for the i-th data event.
    pub value: u64,
    /// Always `"active"` in the demo.
    pub status: String,
}
typed_event!(DemoData, "data");

/// Last event of the advanced demo stream, id `close-1`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Close {
    /// Human-readable farewell.
    pub message: String,
    /// Server time in milliseconds since the Unix epoch.
    pub timestamp: u64,
}
typed_event!(Close, "close");

/// One event of the performance stream (`/sse/perf`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PerformanceData {
    /// 0-based position in the run; also the event id.
    pub sequence: u64,
    /// Server time in milliseconds since the Unix epoch.
    pub timestamp: u64,
    /// Random id of the connection the run belongs to.
    pub client_id: String,
}
typed_event!(PerformanceData, "perf");

/// Final event of a performance run, measured on the server.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PerformanceSummary {
    /// Events sent in this run (this connection).
    pub total_events: u64,
    /// Wall time from the first to the last event, in milliseconds.
    pub total_time_ms: f64,
    /// `total_time_ms` per event, in microseconds.
    pub average_event_time_us: f64,
    /// Events per second over the run.
    pub events_per_second: f64,
}
typed_event!(PerformanceSummary, "summary");

/// One sample of the host and server, published on the `monitoring` topic.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MonitoringData {
    /// Sample time in milliseconds since the Unix epoch.
    pub timestamp: u64,
    /// Host CPU usage in percent (0–100).
    pub cpu_usage: f64,
    /// Host memory in use, in percent (0–100).
    pub memory_usage: f64,
    /// Host network traffic (received + transmitted) in bytes per second.
    pub network_io: f64,
    /// Open connections to this server.
    pub active_connections: u64,
    /// Mean time this server took to answer requests since the previous sample, in ms.
    pub response_time_ms: f64,
}
typed_event!(MonitoringData, "monitoring");

/// Why a resume could not be honoured; see [`Reset`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ResetReason {
    /// The id was issued by an earlier run of the server (it restarted).
    UnknownEpoch,
    /// The id is not one this server issues.
    Malformed,
    /// Events after the id have already left the replay buffer.
    TooOld,
    /// The id lies beyond anything the server has issued.
    Future,
}

/// Sent instead of a silent gap when a `Last-Event-ID` cannot be honoured:
/// events the client has not seen may have been missed, so it should reload
/// whatever state it derives from the stream. Live events follow.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Reset {
    /// Machine-readable cause.
    pub reason: ResetReason,
    /// Human-readable explanation.
    pub message: String,
    /// The id the client asked to resume after.
    pub last_event_id: String,
}
typed_event!(Reset, "pushwire.reset");

impl Reset {
    /// The reset for a resume after `last_event_id` that cannot be honoured
    /// for `reason`, with the standard explanation.
    ///
    /// ```
    /// use pushwire_protocol::{Reset, ResetReason};
    /// let reset = Reset::new(ResetReason::TooOld, "5f3a9c01-42");
    /// assert_eq!(reset.last_event_id, "5f3a9c01-42");
    /// assert!(reset.message.contains("missed"));
    /// ```
    pub fn new(reason: ResetReason, last_event_id: &str) -> Reset {
        let message = match reason {
            ResetReason::UnknownEpoch => {
                "the server restarted since this id was issued: events may have been missed"
            }
            ResetReason::Malformed => "this is not an event id issued by this stream",
            ResetReason::TooOld => {
                "events after this id are no longer in the replay buffer: events were missed"
            }
            ResetReason::Future => "this id is ahead of the newest event of this server",
        };
        Reset {
            reason,
            message: message.to_owned(),
            last_event_id: last_event_id.to_owned(),
        }
    }
}

/// Last event of a finite stream: complete, do not reconnect.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct End {
    /// Why the stream ended (`"complete"` for a finished finite stream).
    pub reason: String,
}
typed_event!(End, "pushwire.end");

/// Why the server ended a stream with [`Expired`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ExpiredReason {
    /// The token the stream was opened with has passed its `exp`.
    TokenExpired,
}

/// Last event of a stream whose credentials ran out; the server then
/// closes the stream. The client gets a fresh token and resumes with its
/// last event id: nothing is lost.
///
/// ```
/// use pushwire_protocol::{Expired, ExpiredReason, TypedEvent};
/// let json = serde_json::to_string(&Expired::token()).unwrap();
/// assert_eq!(json, r#"{"reason":"token_expired"}"#);
/// assert_eq!(Expired::NAME, "pushwire.expired");
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Expired {
    /// Machine-readable cause.
    pub reason: ExpiredReason,
}
typed_event!(Expired, "pushwire.expired");

impl Expired {
    /// The token the stream was opened with has expired.
    pub fn token() -> Expired {
        Expired {
            reason: ExpiredReason::TokenExpired,
        }
    }
}

/// The answer of `POST /api/tickets`: a single-use credential for a URL
/// (`?ticket=`), where a browser's `EventSource` cannot send a header.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Ticket {
    /// The ticket, for the `ticket` query parameter; accepted once.
    pub ticket: String,
    /// Milliseconds until the ticket is no longer accepted.
    pub expires_in_ms: u64,
}
