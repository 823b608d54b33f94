//! `monitoring`: one sampler, any number of viewers, through a [`Hub`].
//!
//! A single task samples the host every `--interval-ms` (default 500) and
//! publishes a `monitoring` event ([`MonitoringData`]) on the hub topic
//! `monitoring` with [`Hub::publish_typed`]. `GET /` subscribes to that
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
#![allow(clippy::print_stdout)] // an example talks to its user on stdout

use std::net::SocketAddr;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use pushwire_protocol::names::MONITORING_TOPIC;
use pushwire_protocol::MonitoringData;
use pushwire_server::{filters, Hub, Sse};
use tokio::time::MissedTickBehavior;
use warp::reply::{Reply, Response};
use warp::Filter;

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
        timestamp: now_ms(),
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
        if let Err(err) = hub.publish_typed(MONITORING_TOPIC, &data) {
            eprintln!("monitoring sample not published: {err}");
        }
    }
}

/// `GET /`: the `monitoring` topic, resumed after `Last-Event-ID`.
fn watch(hub: &Hub, last_event_id: Option<String>) -> Response {
    match hub.subscribe(&[MONITORING_TOPIC], last_event_id.as_deref()) {
        Ok(subscription) => Sse::subscription(subscription).into_response(),
        Err(err) => err.into_response(),
    }
}

/// Milliseconds since the Unix epoch, as the protocol's timestamps are.
fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args = Args::parse()?;
    let hub = Hub::new();
    tokio::spawn(sampler(hub.clone(), args.interval));

    let routes = warp::path::end()
        .and(warp::get())
        .and(filters::last_event_id())
        .map(move |last_event_id| watch(&hub, last_event_id));

    let listener = tokio::net::TcpListener::bind(args.addr).await?;
    println!("listening on http://{}", listener.local_addr()?);
    warp::serve(routes).incoming(listener).run().await;
    Ok(())
}

#[derive(Debug)]
struct Args {
    addr: SocketAddr,
    interval: Duration,
}

impl Args {
    /// `--addr HOST:PORT` (default `127.0.0.1:60000`), `--interval-ms N`
    /// (default 500).
    fn parse() -> Result<Args, String> {
        let usage = "usage: monitoring [--addr HOST:PORT] [--interval-ms N]";
        let mut addr = "127.0.0.1:60000".to_owned();
        let mut interval_ms = "500".to_owned();
        let mut args = std::env::args().skip(1);
        while let Some(arg) = args.next() {
            let value = match arg.as_str() {
                "--addr" => &mut addr,
                "--interval-ms" => &mut interval_ms,
                other => return Err(format!("unknown argument {other:?}; {usage}")),
            };
            *value = args.next().ok_or(format!("{arg} needs a value; {usage}"))?;
        }
        let interval_ms: u64 = interval_ms
            .parse()
            .map_err(|e| format!("--interval-ms {interval_ms}: {e}"))?;
        Ok(Args {
            addr: addr.parse().map_err(|e| format!("--addr {addr}: {e}"))?,
            interval: Duration::from_millis(interval_ms.max(1)),
        })
    }
}
