//! # pushwire-server
//!
//! Typed, real-time server push for warp: Server-Sent Events with topics,
//! encode-once fan-out, Last-Event-ID resume and an explicit
//! `pushwire.reset` whenever a resume cannot be honoured — never a silent
//! gap. This crate is the `pushwire` binary's library: use it to run the
//! whole server, or to put typed push inside your own warp app.
//!
//! * [`Hub`]: topics, ids, replay and fan-out. [`Hub::publish`] an event,
//!   [`Hub::subscribe`] to topics (a [`Subscription`] stream of encoded
//!   frames), [`Hub::poll`] them, read [`Hub::stats`].
//! * [`Sse`] and [`SseEvent`]: an SSE response (a warp `Reply`) for any
//!   stream of your own events, with keep-alive and the lean encoder.
//! * [`filters`]: the push API as warp filters, to mount beside your routes.
//! * [`App`], [`Config`] and [`serve`]: the whole server, as the binary runs it;
//!   [`serve_tls`] with a [`tls::Tls`] for HTTPS and HTTP/2.
//! * [`Backend`]: where events live. The in-memory [`Hub`] is the embedded
//!   one; [`backend::jetstream::JetStream`] shares one NATS JetStream stream
//!   between any number of nodes ([`App::connect`] picks it with `--nats`).
//!
//! ```no_run
//! # async fn run() -> std::io::Result<()> {
//! let config = pushwire_server::Config::default();
//! let listener = tokio::net::TcpListener::bind(config.addr).await?;
//! let app = pushwire_server::App::new(config);
//! pushwire_server::serve(listener, app, async { let _ = tokio::signal::ctrl_c().await; }).await;
//! # Ok(()) }
//! ```
//!
//! Runnable examples live in `server/examples/` (`cargo run -p
//! pushwire-server --example basic`); ARCHITECTURE.md at the repository root
//! maps every concept to its file.
#![warn(missing_docs)]
// Without `jetstream` the hub's cache half (feeding from a remote stream,
// handovers) has no caller; the default build keeps the dead-code lints.
#![cfg_attr(not(feature = "jetstream"), allow(dead_code, unused_imports))]

pub mod auth;
pub mod backend;
pub mod config;
pub mod filters;
pub mod hub;
pub mod sse;
#[cfg(feature = "tls")]
pub mod tls;

#[doc(hidden)]
pub mod fuzzing;

mod clock;
mod conn;
mod demo;
mod stats;
mod web;

pub use backend::{Backend, Publish};
pub use config::Config;
#[cfg(feature = "tls")]
pub use conn::serve_tls;
pub use conn::{serve, MAX_REQUEST_HEAD};
pub use hub::{Hub, HubBuilder, HubError, PollResult, Published, Subscription};
pub use sse::{Sse, SseEvent};
pub use stats::StatsSnapshot;
pub use web::error::ApiError;
pub use web::App;
