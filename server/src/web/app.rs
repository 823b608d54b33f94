//! `App`: the state every route handler gets — configuration, hub,
//! counters, CORS policy and the shutdown signal. Built from a [`Config`]
//! (the binary) or around a [`Hub`] a user already has (an embedding app).

use std::sync::Arc;
use std::time::Duration;

use tokio_util::sync::CancellationToken;

use super::cors::CorsPolicy;
use crate::auth::Auth;
#[cfg(feature = "jetstream")]
use crate::backend::jetstream::{JetStream, JetStreamError};
use crate::backend::Backend;
use crate::config::Config;
use crate::demo::tokens::DemoTokens;
use crate::hub::Hub;
use crate::sse::SseContext;
use crate::stats::Stats;

/// A pushwire server's state: its [`Config`] and [`Hub`]. Cheap to clone;
/// every clone is the same server. Give it to [`serve`](crate::serve), or
/// mount its routes in your own warp app with [`filters`](crate::filters).
#[derive(Debug, Clone)]
#[must_use = "an App serves nothing until given to serve() or mounted as filters"]
pub struct App {
    pub(crate) config: Arc<Config>,
    /// Where events live; everything publishes, subscribes and polls here.
    pub(crate) backend: Arc<dyn Backend>,
    /// The node-local hub the backend fans out from (its counters).
    pub(crate) hub: Hub,
    pub(crate) stats: Arc<Stats>,
    pub(crate) sse: SseContext,
    pub(crate) cors: CorsPolicy,
    /// Who may subscribe, poll and publish where.
    pub(crate) auth: Auth,
    /// `POST /demo/token`, when `--demo-token-ttl-ms` asks for it.
    pub(crate) demo_tokens: Option<DemoTokens>,
    pub(crate) shutdown: CancellationToken,
}

impl App {
    /// A server with a new in-memory hub built with `config`'s limits.
    pub fn new(config: Config) -> Self {
        let hub = config.hub_builder().build();
        Self::with_hub(config, hub)
    }

    /// A server with the backend `config` asks for: NATS JetStream with
    /// `--nats` (connecting, and creating the stream if it is missing),
    /// else a new in-memory hub.
    #[cfg(feature = "jetstream")]
    pub async fn connect(config: Config) -> Result<Self, JetStreamError> {
        match config.jetstream() {
            None => Ok(Self::new(config)),
            Some(js) => {
                let backend = JetStream::connect(js, config.hub_builder()).await?;
                Ok(Self::with_backend(config, Arc::new(backend)))
            }
        }
    }

    /// A server around an existing `hub` (its own limits apply; those of
    /// `config` are for the rest: tokens, bodies, heartbeats, connections).
    pub fn with_hub(config: Config, hub: Hub) -> Self {
        Self::with_backend(config, Arc::new(hub))
    }

    /// A server around any [`Backend`] (the in-memory [`Hub`] or a
    /// distributed one).
    pub fn with_backend(config: Config, backend: Arc<dyn Backend>) -> Self {
        let hub = backend.local_hub().clone();
        let stats = hub.counters().clone();
        let shutdown = CancellationToken::new();
        App {
            sse: SseContext {
                stats: stats.clone(),
                heartbeat: config.heartbeat(),
                lifetime: config.stream_lifetime(),
                shutdown: shutdown.clone(),
            },
            cors: CorsPolicy::new(&config.cors_origins),
            auth: Auth::from_config(&config, stats.clone()),
            demo_tokens: config
                .jwt_secret
                .as_deref()
                .filter(|_| config.demo_token_ttl_ms > 0)
                .and_then(|secret| {
                    DemoTokens::new(secret, Duration::from_millis(config.demo_token_ttl_ms))
                }),
            config: Arc::new(config),
            backend,
            hub,
            stats,
            shutdown,
        }
    }

    /// The node-local hub this server fans events out from (with the
    /// in-memory backend, the hub events are published to).
    pub fn hub(&self) -> &Hub {
        &self.hub
    }

    /// Where this server's events live.
    pub fn backend(&self) -> &Arc<dyn Backend> {
        &self.backend
    }

    /// The configuration.
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// Ends every SSE stream of this server cleanly and closes the hub
    /// (what [`serve`](crate::serve) does on shutdown).
    pub fn shutdown(&self) {
        self.shutdown.cancel();
        self.backend.close();
    }
}

impl From<Hub> for App {
    /// The default configuration around `hub`.
    fn from(hub: Hub) -> Self {
        App::with_hub(Config::default(), hub)
    }
}
