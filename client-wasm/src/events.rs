//! What the client reports to handlers: the built-in client events and the
//! server events it receives.

use pushwire_protocol::{End, Reset};
use serde::Serialize;

/// The client's connection state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum State {
    /// Opening the first connection (or one after a manual `connect`).
    Connecting,
    /// Connected: events flow.
    Open,
    /// The connection dropped; a reconnect is scheduled or under way.
    Reconnecting,
    /// Closed by `close()`, by the server's `pushwire.end`, or paused while hidden.
    Closed,
    /// Gave up after the maximum number of reconnect attempts.
    Failed,
}

impl State {
    /// The name used in JavaScript and in the `state` event.
    pub fn as_str(self) -> &'static str {
        match self {
            State::Connecting => "connecting",
            State::Open => "open",
            State::Reconnecting => "reconnecting",
            State::Closed => "closed",
            State::Failed => "failed",
        }
    }
}

/// Data of an event that could not be decoded.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ParseError {
    /// The SSE event name.
    pub event: String,
    /// The data exactly as received.
    pub data: String,
    /// Why decoding failed.
    pub error: String,
}

/// The server refused the client's credentials.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AuthError {
    /// 401: no valid token (missing, invalid, expired, used ticket); the
    /// client asks for a fresh token on its next attempt. 403: the token
    /// does not grant the topic; the client stops in state "failed".
    pub status: u16,
    /// The server's explanation.
    pub message: String,
}

/// One event received from the server.
#[derive(Debug, Clone, PartialEq)]
pub struct ServerEvent {
    /// The SSE event name (`message` when the server gave none).
    pub event: String,
    /// The data as received.
    pub data: String,
    /// The last event id at this event.
    pub id: String,
}

impl ServerEvent {
    /// Decodes the data as JSON into `T`.
    pub fn decode<T: serde::de::DeserializeOwned>(&self) -> Result<T, ParseError> {
        serde_json::from_str(&self.data).map_err(|e| self.parse_error(e.to_string()))
    }

    /// The parse error reporting this event's data as undecodable.
    pub fn parse_error(&self, error: impl Into<String>) -> ParseError {
        ParseError {
            event: self.event.clone(),
            data: self.data.clone(),
            error: error.into(),
        }
    }
}

/// The built-in events of the client.
#[derive(Debug, Clone, PartialEq)]
pub enum ClientEvent {
    /// A connection opened.
    Open,
    /// A connection failed or dropped.
    Error {
        /// What happened.
        message: String,
    },
    /// A reconnect is scheduled.
    Reconnecting {
        /// The attempt (1-based) the reconnect will be.
        attempt: u32,
        /// The delay before it, in milliseconds.
        delay_ms: u32,
    },
    /// The client gave up.
    MaxReconnectReached {
        /// How many reconnect attempts failed.
        attempts: u32,
    },
    /// An event's data could not be decoded; the stream goes on.
    ParseError(ParseError),
    /// The server refused the credentials (401 or 403).
    AuthError(AuthError),
    /// The server could not resume from our id; events may have been missed.
    Reset(Reset),
    /// The server ended the stream for good; the client closed.
    End(End),
    /// The state changed.
    State(State),
}

impl ClientEvent {
    /// The event's name, as used with `on`.
    pub fn name(&self) -> &'static str {
        match self {
            ClientEvent::Open => "open",
            ClientEvent::Error { .. } => "error",
            ClientEvent::Reconnecting { .. } => "reconnecting",
            ClientEvent::MaxReconnectReached { .. } => "max-reconnect-reached",
            ClientEvent::ParseError(_) => "parse-error",
            ClientEvent::AuthError(_) => "auth-error",
            ClientEvent::Reset(_) => "reset",
            ClientEvent::End(_) => "end",
            ClientEvent::State(_) => "state",
        }
    }
}

/// Names of the built-in events; a handler for any other name listens for
/// server events of that name (`message` is both).
pub const BUILTIN_EVENTS: [&str; 9] = [
    "open",
    "error",
    "auth-error",
    "reconnecting",
    "max-reconnect-reached",
    "parse-error",
    "reset",
    "end",
    "state",
];
