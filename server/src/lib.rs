//! # pushwire-server
//!
//! The pushwire push server: typed Server-Sent Events over warp and tokio.
//!
//! * [`hub`]: topics, ids, replay buffers and encode-once fan-out;
//! * [`streams`]: the per-connection demo streams;
//! * [`monitoring`]: the one sampler feeding the `monitoring` topic;
//! * [`routes`]: every route in one place, handled in [`api`];
//! * [`serve`]: the accept loop with its connection limit and shutdown, and
//!   the hyper-free HTTP/1.1 path that event streams are served on (the
//!   private `conn` module);
//! * [`config`]: the one `Config`, from flags and `PUSHWIRE_*` variables.
//!
//! ```no_run
//! # async fn run() -> std::io::Result<()> {
//! let config = pushwire_server::Config::default();
//! let listener = tokio::net::TcpListener::bind(config.addr).await?;
//! let app = pushwire_server::App::new(config);
//! pushwire_server::serve(listener, app, async { let _ = tokio::signal::ctrl_c().await; }).await;
//! # Ok(()) }
//! ```

pub mod api;
pub mod app;
pub mod clock;
pub mod config;
mod conn;
pub mod cors;
pub mod error;
pub mod event_id;
pub mod hub;
pub mod monitoring;
pub mod query;
pub mod queue;
pub mod replay;
pub mod routes;
pub mod sse;
pub mod stats;
pub mod streams;
pub mod subscription;

pub use app::App;
pub use config::Config;
pub use conn::serve;
/// Re-exported so tests (and clients probing the limit) follow the real
/// value rather than a copy.
pub use conn::MAX_REQUEST_HEAD;
