//! The monitoring sampler: ONE task that samples the host (CPU, memory,
//! network, through `sysinfo`) and this server (open connections, mean
//! response time) every interval and publishes a `MonitoringData` event on
//! the hub topic `monitoring`, which `/sse/monitoring` subscribes to. Every
//! viewer shares the same samples; no viewer costs a sampler.

use std::sync::atomic::Ordering::Relaxed;
use std::sync::Arc;
use std::time::{Duration, Instant};

use pushwire_protocol::names::MONITORING_TOPIC;
use pushwire_protocol::{MonitoringData, TypedEvent};
use sysinfo::{Networks, System};
use tokio_util::sync::CancellationToken;

use crate::backend::Backend;
use crate::hub::{HubError, Payload};
use crate::stats::Stats;

/// Samples the host and the server, remembering what it needs to turn
/// cumulative counters into rates.
#[derive(Debug)]
pub struct Sampler {
    /// `None` where the platform does not let sysinfo read the figures;
    /// they are then reported as 0 (a warning is logged once).
    system: Option<System>,
    networks: Option<Networks>,
    last_sample: Instant,
    last_response_ms: f64,
}

impl Default for Sampler {
    fn default() -> Self {
        Self::new()
    }
}

impl Sampler {
    pub fn new() -> Self {
        let system = System::new()
            .map(|mut s| {
                s.refresh_cpu_usage();
                s.refresh_memory();
                s
            })
            .map_err(|err| tracing::warn!(%err, "host CPU and memory figures unavailable"))
            .ok();
        let networks = Networks::new_with_refreshed_list()
            .map_err(|err| tracing::warn!(%err, "host network figures unavailable"))
            .ok();
        Sampler {
            system,
            networks,
            last_sample: Instant::now(),
            last_response_ms: 0.0,
        }
    }

    /// Takes one sample.
    pub fn sample(&mut self, stats: &Stats) -> MonitoringData {
        let elapsed = self.last_sample.elapsed().as_secs_f64().max(1e-3);
        self.last_sample = Instant::now();
        let traffic: u64 = self.networks.as_mut().map_or(0, |networks| {
            networks.refresh(true);
            networks
                .values()
                .map(|n| n.received() + n.transmitted())
                .sum()
        });
        let (cpu_usage, memory_usage) = self.system.as_mut().map_or((0.0, 0.0), |system| {
            system.refresh_cpu_usage();
            system.refresh_memory();
            let total = system.total_memory();
            let memory = if total == 0 {
                0.0
            } else {
                system.used_memory() as f64 * 100.0 / total as f64
            };
            (f64::from(system.global_cpu_usage()), memory)
        });
        if let Some(ms) = stats.take_mean_response_ms() {
            self.last_response_ms = ms;
        }
        MonitoringData {
            timestamp: crate::clock::now_ms(),
            cpu_usage,
            memory_usage,
            network_io: traffic as f64 / elapsed,
            active_connections: stats.connections_open.load(Relaxed),
            response_time_ms: self.last_response_ms,
        }
    }
}

/// Runs the sampler until `shutdown` is cancelled.
pub(crate) async fn run(
    backend: Arc<dyn Backend>,
    stats: Arc<Stats>,
    interval: Duration,
    shutdown: CancellationToken,
) {
    let mut sampler = Sampler::new();
    let mut ticker = tokio::time::interval(interval);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = ticker.tick() => {}
            _ = shutdown.cancelled() => break,
        }
        let sample = sampler.sample(&stats);
        let published = match serde_json::value::to_raw_value(&sample) {
            Ok(json) => {
                backend
                    .publish_reserved(MONITORING_TOPIC, MonitoringData::NAME, Payload::Json(json))
                    .await
            }
            Err(err) => Err(HubError::InvalidJson(err.to_string())),
        };
        if let Err(err) = published {
            tracing::warn!(%err, "monitoring sample not published");
        }
    }
}
