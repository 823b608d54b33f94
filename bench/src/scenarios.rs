//! The four scenarios, each run against one server (the TLS scenario runs
//! the first two over TLS, through their `_over` forms). Every wait is bounded;
//! every run stops by itself.

use std::net::SocketAddr;
use std::sync::atomic::Ordering::Relaxed;
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::loadgen::{
    on_publisher_thread, publish_paced, spawn_subscribers, wait_until, warm_up, Progress,
    Publisher, Shared,
};
use crate::target::{CpuTicks, Kind, Target};
use crate::tls::Transport;
use crate::workers::{CrowdCounts, WorkerCrowd};

/// Longest a ramp-up may take before the scenario reports what it reached.
pub const RAMP_TIMEOUT: Duration = Duration::from_secs(120);
/// Longest the last deliveries of a run may take after the last publish.
pub const DRAIN_TIMEOUT: Duration = Duration::from_secs(10);

/// Subscribers connected to one server.
pub(crate) struct Crowd {
    stop: watch::Sender<bool>,
    tasks: Vec<JoinHandle<Progress>>,
}

impl Crowd {
    /// Starts one subscriber per entry of `resume` (`None`: fresh) and
    /// waits until each has connected or failed; says how long that took.
    pub(crate) async fn connect(
        addr: SocketAddr,
        kind: Kind,
        resume: Vec<Option<Progress>>,
        shared: Arc<Shared>,
    ) -> (Crowd, Duration) {
        Crowd::connect_over(addr, kind, &Transport::Plain, resume, shared).await
    }

    async fn connect_over(
        addr: SocketAddr,
        kind: Kind,
        transport: &Transport,
        resume: Vec<Option<Progress>>,
        shared: Arc<Shared>,
    ) -> (Crowd, Duration) {
        let n = resume.len();
        let (stop, stop_rx) = watch::channel(false);
        let started = Instant::now();
        let tasks = spawn_subscribers(addr, kind, transport, resume, &shared, &stop_rx);
        let deadline = tokio::time::Instant::now() + RAMP_TIMEOUT;
        wait_until(&shared, deadline, |s| {
            s.connected.load(Relaxed) + s.failed.load(Relaxed) >= n
        })
        .await;
        (Crowd { stop, tasks }, started.elapsed())
    }

    /// Disconnects every subscriber; returns their progress.
    pub(crate) async fn disconnect(self) -> Vec<Progress> {
        let _ = self.stop.send(true);
        let mut out = Vec::with_capacity(self.tasks.len());
        for t in self.tasks {
            out.push(t.await.unwrap_or_default());
        }
        out
    }
}

/// Scenario 1: connections held.
#[derive(Debug, Clone)]
pub struct Held {
    pub kind: Kind,
    pub asked: usize,
    pub held: usize,
    pub errors: usize,
    pub accept_rate: f64,
    pub rss_per_connection: f64,
    pub rss_idle: u64,
}

pub async fn connections(kind: Kind, addr: SocketAddr, n: usize) -> Result<Held, String> {
    connections_over(kind, addr, n, &Transport::Plain, &[]).await
}

/// Scenario 1 over `transport`, the server started with `server_args`
/// (the TLS scenario's certificate).
pub async fn connections_over(
    kind: Kind,
    addr: SocketAddr,
    n: usize,
    transport: &Transport,
    server_args: &[String],
) -> Result<Held, String> {
    let target = Target::start_with(kind, addr, n, server_args).await?;
    tokio::time::sleep(Duration::from_millis(300)).await; // let the process settle before the baseline
    let rss0 = target.rss_bytes();
    let started = Instant::now();
    let crowd = WorkerCrowd::start_over(addr, kind, n, transport)?;
    crowd
        .wait_connected(n, tokio::time::Instant::now() + RAMP_TIMEOUT)
        .await;
    let ramp = started.elapsed();
    tokio::time::sleep(Duration::from_secs(2)).await; // hold
    let counts = &crowd.counts;
    let held = CrowdCounts::get(&counts.connected) - CrowdCounts::get(&counts.ended);
    let errors = CrowdCounts::get(&counts.failed);
    let rss1 = target.rss_bytes();
    crowd.stop().await;
    target.stop().await;
    Ok(Held {
        kind,
        asked: n,
        held,
        errors,
        accept_rate: held as f64 / ramp.as_secs_f64().max(1e-9),
        rss_per_connection: rss1.saturating_sub(rss0) as f64 / held.max(1) as f64,
        rss_idle: rss0,
    })
}

/// Scenario 2: fan-out at one rate.
#[derive(Debug, Clone)]
pub struct FanOut {
    pub kind: Kind,
    pub subscribers: usize,
    pub rate: u64,
    pub expected: u64,
    pub delivered: u64,
    pub lost: u64,
    pub deliveries_per_sec: f64,
    pub cpu_per_million: f64,
    pub p50: u64,
    pub p99: u64,
    pub p999: u64,
    pub max: u64,
}

pub async fn fan_out(
    kind: Kind,
    addr: SocketAddr,
    subscribers: usize,
    rate: u64,
    secs: u64,
) -> Result<FanOut, String> {
    fan_out_over(kind, addr, subscribers, rate, secs, &Transport::Plain, &[]).await
}

/// Scenario 2 with subscribers on `transport` (the publisher on HTTP/1.1,
/// over TLS when it is TLS), the server started with `server_args`.
pub async fn fan_out_over(
    kind: Kind,
    addr: SocketAddr,
    subscribers: usize,
    rate: u64,
    secs: u64,
    transport: &Transport,
    server_args: &[String],
) -> Result<FanOut, String> {
    let target = Target::start_with(kind, addr, subscribers, server_args).await?;
    let shared = Arc::new(Shared::default());
    let resume = vec![None; subscribers];
    let (crowd, _) = Crowd::connect_over(addr, kind, transport, resume, shared.clone()).await;
    let connected = shared.connected.load(Relaxed);
    // The connection belongs to the publisher's thread: it is opened there.
    let transport = transport.clone();
    let publisher =
        on_publisher_thread(async move { Publisher::connect_over(addr, kind, &transport).await })
            .await??;
    let publisher = warm_up(publisher, &shared, connected).await?;
    shared.lost.store(0, Relaxed);

    let events = rate * secs;
    let cpu0 = target.cpu_seconds();
    let started = Instant::now();
    publish_paced(publisher, 1..=events, Some(rate)).await?;
    let expected = events * connected as u64;
    let deadline = tokio::time::Instant::now() + DRAIN_TIMEOUT;
    wait_until(&shared, deadline, |s| s.delivered.load(Relaxed) >= expected).await;
    let elapsed = started.elapsed().as_secs_f64();
    let cpu = target.cpu_seconds() - cpu0;
    let delivered = shared.delivered.load(Relaxed);
    let result = FanOut {
        kind,
        subscribers: connected,
        rate,
        expected,
        delivered,
        lost: expected.saturating_sub(delivered),
        deliveries_per_sec: delivered as f64 / elapsed,
        cpu_per_million: cpu / (delivered.max(1) as f64 / 1e6),
        p50: shared.latency.quantile(0.5),
        p99: shared.latency.quantile(0.99),
        p999: shared.latency.quantile(0.999),
        max: shared.latency.max(),
    };
    crowd.disconnect().await;
    target.stop().await;
    Ok(result)
}

/// Scenario 3: one subscriber, many events.
#[derive(Debug, Clone)]
pub struct Latency {
    pub kind: Kind,
    pub events: u64,
    pub delivered: u64,
    pub p50: u64,
    pub p99: u64,
    /// The share of the machine's CPU time the hypervisor gave to other
    /// guests during the run, in %: a stolen millisecond delays every event
    /// in flight, so a round's p99 is comparable only at similar steal.
    pub steal_percent: f64,
    /// Every round of this server, in order, as (p99, steal %): filled in
    /// for the round the report shows.
    pub rounds: Vec<(u64, f64)>,
}

/// Publishing pace of the single-client scenario: fast, without queueing.
pub const SINGLE_CLIENT_RATE: u64 = 2_000;

pub async fn single_client(kind: Kind, addr: SocketAddr, events: u64) -> Result<Latency, String> {
    let before = CpuTicks::now();
    let r = fan_out(
        kind,
        addr,
        1,
        SINGLE_CLIENT_RATE,
        events / SINGLE_CLIENT_RATE,
    )
    .await?;
    Ok(Latency {
        kind,
        events: r.expected,
        delivered: r.delivered,
        p50: r.p50,
        p99: r.p99,
        steal_percent: CpuTicks::now().steal_percent_since(before),
        rounds: Vec::new(),
    })
}

/// Scenario 4: every client drops at once and resumes while publishing goes on.
#[derive(Debug, Clone)]
pub struct Storm {
    pub kind: Kind,
    pub clients: usize,
    pub back_after: Duration,
    pub back: usize,
    pub lost: u64,
    pub duplicates: u64,
}

/// Publishing pace during the storm.
pub const STORM_RATE: u64 = 100;

pub async fn reconnect_storm(
    kind: Kind,
    addr: SocketAddr,
    clients: usize,
) -> Result<Storm, String> {
    let target = Target::start(kind, addr, clients).await?;
    let shared = Arc::new(Shared::default());
    let (crowd, _) = Crowd::connect(addr, kind, vec![None; clients], shared.clone()).await;
    let mut publisher = Publisher::connect(addr, kind).await?;
    let (pub_stop, mut pub_stop_rx) = watch::channel(false);
    let publishing = tokio::spawn(async move {
        let mut seq = 0;
        let mut ticker = tokio::time::interval(Duration::from_millis(1000 / STORM_RATE));
        loop {
            tokio::select! {
                _ = ticker.tick() => {}
                _ = pub_stop_rx.wait_for(|s| *s) => break,
            }
            seq += 1;
            if publisher.publish(seq).await.is_err() {
                break;
            }
        }
        seq
    });
    // Let every client see some events, then drop them all at once.
    let deadline = tokio::time::Instant::now() + DRAIN_TIMEOUT;
    wait_until(&shared, deadline, |s| {
        s.delivered.load(Relaxed) >= 5 * clients as u64
    })
    .await;
    let progress = crowd.disconnect().await;
    let dropped_at = Instant::now();
    let resumed = Arc::new(Shared::default());
    let resume: Vec<Option<Progress>> = progress.into_iter().map(Some).collect();
    let (crowd, _) = Crowd::connect(addr, kind, resume, resumed.clone()).await;
    let back_after = dropped_at.elapsed();
    let back = resumed.connected.load(Relaxed);
    tokio::time::sleep(Duration::from_secs(1)).await;
    let _ = pub_stop.send(true);
    let last = publishing.await.unwrap_or(0);
    // The last events reach everyone who is back within milliseconds.
    tokio::time::sleep(Duration::from_secs(1)).await;
    let final_progress = crowd.disconnect().await;
    let lost_tail: u64 = final_progress
        .iter()
        .map(|p| last.saturating_sub(p.next_seq.saturating_sub(1)))
        .sum();
    target.stop().await;
    Ok(Storm {
        kind,
        clients,
        back_after,
        back,
        lost: resumed.lost.load(Relaxed) + lost_tail,
        duplicates: resumed.duplicates.load(Relaxed),
    })
}
