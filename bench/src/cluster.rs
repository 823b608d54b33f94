//! The cluster scenario: pushwire nodes, each its own process, sharing one
//! NATS JetStream stream (`--nats`) on a local `nats-server -js` with a
//! temporary store. Three parts, on one cluster:
//!
//! 1. connections held over every node at once (sockets from worker
//!    processes), with each node's RSS from `/proc`;
//! 2. cross-node latency: the publisher on the first node, subscribers on
//!    the others, against the same load on one node without NATS;
//! 3. a reconnect storm: the last node, holding a crowd, is SIGKILLed
//!    while events are published; its subscribers resume on the others
//!    with their Last-Event-ID.
//!
//! Every wait is bounded; every run stops by itself.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering::Relaxed};
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::sync::{watch, Mutex};

use crate::loadgen::{
    now_us, on_publisher_thread, publish_paced, spawn_subscribers, wait_until, warm_up, Progress,
    Publisher, Shared,
};
use crate::scenarios::{DRAIN_TIMEOUT, RAMP_TIMEOUT};
use crate::target::{free_addrs, Kind, Nats, Target};
use crate::tls::Transport;
use crate::workers::{CrowdCounts, WorkerCrowd};

/// The cluster scenario's sizes.
#[derive(Debug, Clone)]
pub struct ClusterParams {
    pub nodes: usize,
    /// Connections held per node in part 1.
    pub per_node: usize,
    /// Subscribers of part 2, spread over every node but the publisher's.
    pub latency_subscribers: usize,
    pub latency_rate: u64,
    pub latency_secs: u64,
    /// Subscribers of the killed node in part 3.
    pub storm_clients: usize,
    /// Publishes a second during the storm.
    pub storm_rate: u64,
    /// Seconds of publishing once every storm client is back.
    pub storm_tail_secs: u64,
}

impl ClusterParams {
    pub fn new(quick: bool, full: bool) -> ClusterParams {
        let per_node = if quick {
            1_000
        } else if full {
            crate::FULL_CONNECTIONS
        } else {
            10_000
        };
        ClusterParams {
            nodes: 5,
            per_node,
            latency_subscribers: if quick { 200 } else { 1_000 },
            latency_rate: 100,
            latency_secs: if quick { 2 } else { 10 },
            storm_clients: per_node,
            // 19,900 subscribers at 100/s would need 2 million deliveries/s
            // from one node: both cores saturate and the kill lands on a
            // node far behind. At 10/s the node keeps up.
            storm_rate: 10,
            storm_tail_secs: if quick { 1 } else { 2 },
        }
    }
}

/// Part 1, per node.
#[derive(Debug, Clone)]
pub struct NodeHeld {
    pub name: String,
    pub asked: usize,
    pub held: usize,
    pub errors: usize,
    pub rss_idle: u64,
    pub rss_held: u64,
}

/// Part 1.
#[derive(Debug, Clone)]
pub struct ClusterHeld {
    pub nodes: Vec<NodeHeld>,
    pub establish: Duration,
    pub nats_rss: u64,
}

/// Part 2, one setup.
#[derive(Debug, Clone)]
pub struct CrossLatency {
    pub setup: String,
    pub subscribers: usize,
    pub rate: u64,
    pub events: u64,
    pub expected: u64,
    pub delivered: u64,
    pub lost: u64,
    pub duplicates: u64,
    pub resets: u64,
    pub p50: u64,
    pub p99: u64,
    pub p999: u64,
    pub max: u64,
}

/// Part 3.
#[derive(Debug, Clone)]
pub struct ClusterStorm {
    pub clients: usize,
    pub connected: usize,
    pub survivors: usize,
    /// Every subscriber reconnected (`200` from another node).
    pub back_after: Duration,
    /// Every subscriber received an event published after the kill.
    pub receiving_after: Duration,
    pub back: usize,
    pub receiving: usize,
    pub refused: usize,
    pub published: u64,
    pub publish_errors: u64,
    pub lost: usize,
    pub duplicates: usize,
    pub resets: usize,
}

/// Everything the cluster scenario measured.
#[derive(Debug, Clone)]
pub struct ClusterReport {
    pub params: ClusterParams,
    pub held: ClusterHeld,
    pub latency: Vec<CrossLatency>,
    pub storm: ClusterStorm,
}

/// Runs the three parts.
pub async fn run(p: &ClusterParams) -> Result<ClusterReport, String> {
    let mut addrs = free_addrs(p.nodes + 2)?;
    let (single_addr, nats_addr) = (addrs.remove(0), addrs.remove(0));
    let node_addrs = addrs;
    // The baseline first, on a machine with nothing else running.
    eprintln!(
        "bench: cluster, latency baseline: {} subscribers on one node without NATS",
        p.latency_subscribers
    );
    let single = Target::start(Kind::Pushwire, single_addr, p.latency_subscribers).await?;
    let baseline = cross_latency(
        "1 node, in-memory hub (no NATS)".into(),
        single_addr,
        &[single_addr],
        p,
    )
    .await;
    single.stop().await;
    let baseline = baseline?;

    let nats = Nats::start(nats_addr.port()).await?;
    let mut nodes = Vec::new();
    for (i, addr) in node_addrs.into_iter().enumerate() {
        let name = format!("node-{}", i + 1);
        match Target::start_node(addr, p.per_node, &nats.url, &name).await {
            Ok(node) => nodes.push((name, addr, node)),
            Err(e) => {
                for (_, _, node) in nodes {
                    node.stop().await;
                }
                nats.stop().await;
                return Err(e);
            }
        }
    }
    let result = on_cluster(p, &nats, &mut nodes, baseline).await;
    for (_, _, node) in nodes {
        node.stop().await;
    }
    nats.stop().await;
    result
}

async fn on_cluster(
    p: &ClusterParams,
    nats: &Nats,
    nodes: &mut [(String, SocketAddr, Target)],
    baseline: CrossLatency,
) -> Result<ClusterReport, String> {
    eprintln!(
        "bench: cluster, {} connections held over {} nodes",
        p.per_node * nodes.len(),
        nodes.len()
    );
    let held = held(p, nats, nodes).await?;

    let addrs: Vec<SocketAddr> = nodes.iter().map(|n| n.1).collect();
    eprintln!(
        "bench: cluster, latency: publisher on {}, {} subscribers on the {} others",
        nodes[0].0,
        p.latency_subscribers,
        nodes.len() - 1
    );
    let setup = format!(
        "{} nodes on NATS JetStream: publisher on {}, subscribers on the other {}",
        nodes.len(),
        nodes[0].0,
        nodes.len() - 1
    );
    let cross = cross_latency(setup, addrs[0], &addrs[1..], p).await?;

    eprintln!(
        "bench: cluster, reconnect storm: {} subscribers on {}, SIGKILLed",
        p.storm_clients,
        nodes[nodes.len() - 1].0
    );
    let storm = storm(p, nodes).await?;
    Ok(ClusterReport {
        params: p.clone(),
        held,
        latency: vec![baseline, cross],
        storm,
    })
}

/// Part 1: `per_node` connections to every node at once.
async fn held(
    p: &ClusterParams,
    nats: &Nats,
    nodes: &[(String, SocketAddr, Target)],
) -> Result<ClusterHeld, String> {
    tokio::time::sleep(Duration::from_millis(300)).await; // settle before the baseline
    let idle: Vec<u64> = nodes.iter().map(|n| n.2.rss_bytes()).collect();
    let started = Instant::now();
    let mut crowds = Vec::new();
    for (_, addr, _) in nodes {
        crowds.push(WorkerCrowd::start(*addr, Kind::Pushwire, p.per_node)?);
    }
    let deadline = tokio::time::Instant::now() + RAMP_TIMEOUT;
    for crowd in &crowds {
        crowd.wait_connected(p.per_node, deadline).await;
    }
    let establish = started.elapsed();
    tokio::time::sleep(Duration::from_secs(2)).await; // hold
    let mut rows = Vec::new();
    for (((name, _, node), crowd), rss_idle) in nodes.iter().zip(&crowds).zip(idle) {
        let c = &crowd.counts;
        rows.push(NodeHeld {
            name: name.clone(),
            asked: p.per_node,
            held: CrowdCounts::get(&c.connected) - CrowdCounts::get(&c.ended),
            errors: CrowdCounts::get(&c.failed),
            rss_idle,
            rss_held: node.rss_bytes(),
        });
    }
    let nats_rss = nats.rss_bytes();
    for crowd in crowds {
        crowd.stop().await;
    }
    Ok(ClusterHeld {
        nodes: rows,
        establish,
        nats_rss,
    })
}

/// Part 2: the publisher on `publish_to`, `p.latency_subscribers` spread
/// evenly over `subscribe_to`; lost and duplicated counted per subscriber.
async fn cross_latency(
    setup: String,
    publish_to: SocketAddr,
    subscribe_to: &[SocketAddr],
    p: &ClusterParams,
) -> Result<CrossLatency, String> {
    let n = p.latency_subscribers;
    let shared = Arc::new(Shared::default());
    let (stop, stop_rx) = watch::channel(false);
    let mut tasks = Vec::new();
    for (j, &addr) in subscribe_to.iter().enumerate() {
        let share = n / subscribe_to.len() + usize::from(j < n % subscribe_to.len());
        tasks.extend(spawn_subscribers(
            addr,
            Kind::Pushwire,
            &Transport::Plain,
            vec![None; share],
            &shared,
            &stop_rx,
        ));
    }
    let deadline = tokio::time::Instant::now() + RAMP_TIMEOUT;
    wait_until(&shared, deadline, |s| {
        s.connected.load(Relaxed) + s.failed.load(Relaxed) >= n
    })
    .await;
    let connected = shared.connected.load(Relaxed);
    let measured = async {
        let publisher =
            on_publisher_thread(Publisher::connect(publish_to, Kind::Pushwire)).await??;
        let publisher = warm_up(publisher, &shared, connected).await?;
        let events = p.latency_rate * p.latency_secs;
        // Set before the last event is published (see `Shared::mark`).
        shared.mark(1, events);
        publish_paced(publisher, 1..=events, Some(p.latency_rate)).await?;
        let deadline = tokio::time::Instant::now() + DRAIN_TIMEOUT;
        wait_until(&shared, deadline, |s| s.past[1].load(Relaxed) >= connected).await;
        Ok::<u64, String>(events)
    }
    .await;
    let _ = stop.send(true);
    let mut progress: Vec<Progress> = Vec::with_capacity(tasks.len());
    for t in tasks {
        progress.push(t.await.unwrap_or_default());
    }
    let events = measured?;
    // Every connected subscriber should have every event 0..=events once.
    let lost = progress
        .iter()
        .filter(|p| p.connections > 0)
        .map(|p| (events + 1).saturating_sub(p.received))
        .sum();
    Ok(CrossLatency {
        setup,
        subscribers: connected,
        rate: p.latency_rate,
        events,
        expected: events * connected as u64,
        delivered: shared.delivered.load(Relaxed),
        lost,
        duplicates: shared.duplicates.load(Relaxed),
        resets: shared.resets.load(Relaxed),
        p50: shared.latency.quantile(0.5),
        p99: shared.latency.quantile(0.99),
        p999: shared.latency.quantile(0.999),
        max: shared.latency.max(),
    })
}

/// Part 3: the last node holds `p.storm_clients` subscribers (from worker
/// processes that fail over to the other nodes) and is SIGKILLed while the
/// first node takes `p.storm_rate` publishes a second.
async fn storm(
    p: &ClusterParams,
    nodes: &mut [(String, SocketAddr, Target)],
) -> Result<ClusterStorm, String> {
    let n = p.storm_clients;
    let (victim, others) = nodes.split_last_mut().ok_or("no nodes")?;
    let survivors: Vec<SocketAddr> = others.iter().map(|o| o.1).collect();
    let mut crowd = WorkerCrowd::start_with_failover(
        victim.1,
        Kind::Pushwire,
        n,
        &survivors,
        &Transport::Plain,
    )?;
    crowd
        .wait_connected(n, tokio::time::Instant::now() + RAMP_TIMEOUT)
        .await;
    let c = crowd.counts.clone();
    let connected = CrowdCounts::get(&c.connected);
    // Every subscriber is connected before event 1: each must have every
    // event from 1 to the last, once.
    crowd.expect_from(1).await?;

    // The publisher is locked while no publish may be under way.
    let publisher = Arc::new(Mutex::new(
        Publisher::connect(survivors[0], Kind::Pushwire).await?,
    ));
    let published = Arc::new(AtomicU64::new(0));
    let errors = Arc::new(AtomicU64::new(0));
    let stop_publishing = Arc::new(AtomicBool::new(false));
    let rate = p.storm_rate;
    let publishing = {
        let (publisher, published, errors, stop) = (
            publisher.clone(),
            published.clone(),
            errors.clone(),
            stop_publishing.clone(),
        );
        tokio::spawn(async move {
            let mut ticker = tokio::time::interval(Duration::from_millis(1000 / rate));
            loop {
                ticker.tick().await;
                let mut publisher = publisher.lock().await;
                if stop.load(Relaxed) {
                    break;
                }
                let seq = published.load(Relaxed) + 1;
                if publisher.publish(seq).await.is_err() {
                    // A refused event would show up as lost everywhere: stop.
                    errors.fetch_add(1, Relaxed);
                    break;
                }
                published.store(seq, Relaxed);
            }
        })
    };
    // Every subscriber sees a few events, then its node dies.
    let deadline = tokio::time::Instant::now() + DRAIN_TIMEOUT;
    let target = 5 * connected as u64;
    crate::loadgen::wait_for(&c.progress, deadline, || {
        c.delivered.load(Relaxed) >= target
    })
    .await;
    let refused_before = CrowdCounts::get(&c.failed);
    let (killed_at, killed_at_us) = {
        // Publishing waits while the mark is set and the node killed, so the
        // marked event is the first one published after the node was gone,
        // and every worker watches for it before it exists.
        let _paused = publisher.lock().await;
        crowd.mark(0, published.load(Relaxed) + 1).await?;
        let killed_at = (Instant::now(), now_us());
        victim.2.kill().await;
        killed_at
    };
    let deadline = tokio::time::Instant::now() + RAMP_TIMEOUT;
    let all_back = crate::loadgen::wait_for(&c.progress, deadline, || {
        CrowdCounts::get(&c.connected) >= 2 * connected
    })
    .await;
    let back = CrowdCounts::get(&c.connected).saturating_sub(connected);
    let all_receiving = crate::loadgen::wait_for(&c.progress, deadline, || {
        CrowdCounts::get(&c.past[0]) >= connected
    })
    .await;
    let receiving = CrowdCounts::get(&c.past[0]);
    // Times from the workers' own clocks (the reports come every 100 ms).
    let since_kill = |at_us: &AtomicU64, all: bool| {
        if all {
            Duration::from_micros(at_us.load(Relaxed).saturating_sub(killed_at_us))
        } else {
            killed_at.elapsed()
        }
    };
    let back_after = since_kill(&c.last_connect_us, all_back);
    let receiving_after = since_kill(&c.past_at_us[0], all_receiving);
    tokio::time::sleep(Duration::from_secs(p.storm_tail_secs)).await;
    stop_publishing.store(true, Relaxed);
    let _ = publishing.await;
    // One last event, published once every worker watches for it.
    let last = published.load(Relaxed) + 1;
    crowd.mark(1, last).await?;
    let published_last = publisher.lock().await.publish(last).await;
    let last = match published_last {
        Ok(()) => last,
        Err(_) => {
            errors.fetch_add(1, Relaxed);
            // The workers count to the mark: lower it to what was published.
            crowd.mark(1, last - 1).await?;
            last - 1
        }
    };
    let deadline = tokio::time::Instant::now() + DRAIN_TIMEOUT;
    crate::loadgen::wait_for(&c.progress, deadline, || {
        CrowdCounts::get(&c.past[1]) >= connected
    })
    .await;
    crowd.stop().await;
    Ok(ClusterStorm {
        clients: n,
        connected,
        survivors: survivors.len(),
        back_after,
        receiving_after,
        back,
        receiving,
        refused: CrowdCounts::get(&c.failed) - refused_before,
        published: last,
        publish_errors: errors.load(Relaxed),
        lost: CrowdCounts::get(&c.lost),
        duplicates: CrowdCounts::get(&c.duplicates),
        resets: CrowdCounts::get(&c.resets),
    })
}
