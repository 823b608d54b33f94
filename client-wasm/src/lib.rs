//! # pushwire-client
//!
//! Typed Server-Sent Events for the browser, for JavaScript/TypeScript (the
//! npm package `pushwire-client`) and for Rust web apps compiled to wasm.
//!
//! A thin wrapper of the browser's `EventSource` (or of a streaming
//! `fetch`, [`Transport::Fetch`], which can send an `Authorization` header)
//! that
//! * decodes JSON data, straight into the protocol's types for Rust
//!   ([`SseClient::on_typed`], [`SseClient::events`]), reporting data that
//!   does not decode as `parse-error` without stopping the stream;
//! * owns reconnection: capped exponential backoff with full jitter
//!   ([`ReconnectPolicy`]), resuming after the last event id it saw, so no
//!   event is lost or doubled across reconnects;
//! * understands the server's control events: `pushwire.reset` (a gap the
//!   server could not fill) and `pushwire.end` (complete: do not reconnect);
//! * reads private topics: a [`TokenSource`] is asked for a token before
//!   every connect and when the server says it expired (`pushwire.expired`:
//!   the client resumes at once, by id); refusals arrive as
//!   [`ClientEvent::AuthError`] (401 retried with a fresh token, 403 final);
//! * owns every listener and timer it registers and releases them on
//!   `close()` or drop.
//!
//! The connection logic is a pure state machine (`machine`), tested
//! natively; the browser layer (`driver`) only carries out its commands.
//!
//! ```no_run
//! use pushwire_client::{ClientEvent, SseClient};
//! use pushwire_protocol::MonitoringData;
//!
//! let client = SseClient::builder("/sse/monitoring").max_reconnect_attempts(10).build().unwrap();
//! client.on_typed::<MonitoringData>(|m| { let _ = m.memory_usage; });
//! client.on_client_event(|e| if let ClientEvent::Reconnecting { attempt, .. } = e { let _ = attempt; });
//! client.connect();
//! ```
//!
//! A private topic, with tokens from the app (here a JS function on the
//! page returning a promise of one):
//!
//! ```no_run
//! use pushwire_client::{SseClient, TokenSource, Transport};
//! # fn app_token_promise() -> js_sys::Promise { js_sys::Promise::resolve(&wasm_bindgen::JsValue::from_str("token")) }
//!
//! let client = SseClient::builder("/sse/subscribe?topic=user.42.inbox")
//!     .transport(Transport::Fetch)
//!     .get_token(TokenSource::new(app_token_promise))
//!     .build()
//!     .unwrap();
//! client.connect();
//! ```
#![warn(missing_docs)]

// Pure logic, tested natively.
mod const_str;
mod events;
mod handlers;
mod machine;
mod options;
mod policy;

// The browser layer.
mod builder;
mod client;
mod control;
mod driver;
mod dts;
mod js;
mod js_dispatch;
mod js_object;
mod listener;
mod live;
mod network;
mod parser;
mod source;
mod stream;
mod timer;
mod token;
mod transport;
mod url;

pub use builder::SseClientBuilder;
pub use client::{ClientError, SseClient};
pub use events::{AuthError, ClientEvent, ParseError, ServerEvent, State, BUILTIN_EVENTS};
pub use handlers::HandlerId;
pub use js::JsSseClient;
pub use live::{live_counts, LiveCounts};
pub use machine::Stats;
pub use options::{ClientOptions, DEFAULT_STREAM_CAPACITY};
pub use parser::JsSseParser;
pub use policy::{
    Jitter, ReconnectPolicy, DEFAULT_BACKOFF_MULTIPLIER, DEFAULT_MAX_RECONNECT_ATTEMPTS,
    DEFAULT_MAX_RECONNECT_INTERVAL, DEFAULT_RECONNECT_INTERVAL,
};
/// Default name of the query parameter carrying the last event id (the
/// protocol's [`LAST_EVENT_ID_PARAM`](pushwire_protocol::names::LAST_EVENT_ID_PARAM)).
pub use pushwire_protocol::names::LAST_EVENT_ID_PARAM as DEFAULT_LAST_EVENT_ID_PARAM;
pub use stream::{StreamError, TypedStream};
pub use token::TokenSource;
pub use transport::Transport;

/// The allocator of the wasm build: lol_alloc's free list (sorted, adjacent
/// blocks merged) instead of the standard dlmalloc, which is 3.0 KB of the
/// package gzipped against 0.3 KB; a client allocates little (an event's
/// strings, briefly), so a list search per allocation costs nothing
/// measurable (see the client README's throughput figures). The locked
/// variant because the unlocked one needs `unsafe`.
#[cfg(target_arch = "wasm32")]
#[global_allocator]
static ALLOCATOR: lol_alloc::LockedAllocator<lol_alloc::FreeListAllocator> =
    lol_alloc::LockedAllocator::new(lol_alloc::FreeListAllocator::new());
