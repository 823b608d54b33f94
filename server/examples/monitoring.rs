//! `monitoring`: one sampler, any number of viewers, through a [`Hub`].
//!
//! A single task samples the host every `--interval-ms` (default 500) and
//! publishes a `monitoring` event ([`MonitoringData`]) on the hub topic
//! `host` with [`Hub::publish_typed`] (the topic `monitoring` itself is
//! reserved for the `pushwire` server's own sampler). `GET /` subscribes to that
//! topic: every viewer shares the same samples (each encoded once), and a
//! viewer that reconnects with a `Last-Event-ID` header gets the samples it
//! missed from the hub's replay buffer, or a `pushwire.reset` event when
//! they are gone. Viewers cost no sampling.
//!
//! ```text
//! cargo run -p pushwire-server --example monitoring [-- --addr 127.0.0.1:60000 --interval-ms 500]
//! curl -N http://127.0.0.1:60000/
//! curl -N -H 'Last-Event-ID: <an id from above>' http://127.0.0.1:60000/
//! ```

mod common;

use std::time::Duration;

use pushwire_protocol::MonitoringData;
use pushwire_server::{filters, Hub};
use tokio::time::MissedTickBehavior;
use warp::Filter;

/// The topic the samples are published on.
const TOPIC: &str = "host";

/// Samples the host's CPU and memory (0 where the platform does not let
/// `sysinfo` read them) and the hub's live subscriptions.
fn sample(system: Option<&mut sysinfo::System>, hub: &Hub) -> MonitoringData {
    let (cpu_usage, memory_usage) = system.map_or((0.0, 0.0), |system| {
        system.refresh_cpu_usage();
        system.refresh_memory();
        let total = system.total_memory().max(1);
        (
            f64::from(system.global_cpu_usage()),
            system.used_memory() as f64 * 100.0 / total as f64,
        )
    });
    MonitoringData {
        timestamp: common::now_ms(),
        cpu_usage,
        memory_usage,
        network_io: 0.0,
        // Viewers of this app: its hub's live subscriptions.
        active_connections: hub.stats().subscribers,
        response_time_ms: 0.0,
    }
}

/// Publishes one sample every `interval`, for as long as the program runs.
async fn sampler(hub: Hub, interval: Duration) {
    let mut system = sysinfo::System::new().ok();
    let mut ticker = tokio::time::interval(interval);
    ticker.set_missed_tick_behavior(MissedTickBehavior::Delay);
    loop {
        ticker.tick().await;
        let data = sample(system.as_mut(), &hub);
        if let Err(err) = hub.publish_typed(TOPIC, &data) {
            eprintln!("monitoring sample not published: {err}");
        }
    }
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args = common::Args::parse("monitoring", &[("--interval-ms", 500)])?;
    let hub = Hub::new();
    let interval = Duration::from_millis(args.get("--interval-ms").max(1));
    tokio::spawn(sampler(hub.clone(), interval));

    // GET /: the topic as SSE, resumed after `Last-Event-ID`.
    let routes = warp::path::end().and(filters::topics(hub, &[TOPIC]));

    common::serve(routes, args.addr).await
}
