//! `App`: the shared state every route handler gets — configuration, hub,
//! counters and the SSE context.

use std::sync::Arc;

use tokio_util::sync::CancellationToken;

use crate::config::Config;
use crate::cors::CorsPolicy;
use crate::hub::{Hub, HubLimits};
use crate::sse::SseContext;
use crate::stats::Stats;

/// Shared server state; cheap to clone.
#[derive(Debug, Clone)]
pub struct App {
    pub config: Arc<Config>,
    pub hub: Arc<Hub>,
    pub stats: Arc<Stats>,
    pub sse: SseContext,
    pub cors: CorsPolicy,
    pub shutdown: CancellationToken,
}

impl App {
    pub fn new(config: Config) -> Self {
        let stats = Arc::new(Stats::default());
        let hub = Hub::new(
            HubLimits {
                replay_capacity: config.replay_capacity,
                subscriber_queue: config.subscriber_queue,
                max_topics: config.max_topics,
            },
            stats.clone(),
        );
        let shutdown = CancellationToken::new();
        App {
            sse: SseContext {
                stats: stats.clone(),
                heartbeat: config.heartbeat(),
                lifetime: config.stream_lifetime(),
                shutdown: shutdown.clone(),
            },
            cors: CorsPolicy::new(&config.cors_origins),
            config: Arc::new(config),
            hub,
            stats,
            shutdown,
        }
    }
}
