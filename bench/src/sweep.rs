//! The rate sweep (`--scenarios sweep`): fan-out at a grid of subscriber
//! counts and rates, in rounds that alternate the servers and the floor
//! (see [`crate::floor`]), so that a slow moment of the machine falls on
//! one round of one server rather than on all of a server's rounds. For
//! each point the report gives, per server, the median round and the worst
//! one; lost and duplicated are exact counts per subscriber, summed over
//! the rounds.
//!
//! The subscribers run in this process, as in the fan-out scenario (10,000
//! sockets are well under the 20,000-file limit; the servers and the floor
//! run in their own processes, so their CPU time is theirs alone).

use std::fmt::Write;
use std::net::SocketAddr;
use std::sync::atomic::Ordering::Relaxed;
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::floor::Floor;
use crate::loadgen::{
    on_publisher_thread, publish_paced, wait_until, warm_up, Payload, Publisher, Shared, Stamped,
};
use crate::scenarios::Crowd;
use crate::target::{cpu_seconds_of, free_addr, CpuTicks, CpuTime, Kind, Target};

/// The heading of the sweep section, which `report::splice_section` looks for.
pub const HEADING: &str = "## 7. Rate sweep and the floor";

/// What the figures of the last full sweep say (kept with them, as the
/// cluster notes are); only under the full sweep's table.
const NOTES: &str = "**Reading it.** Lost and duplicated are 0 for every server at every point (the floor, which is no server, does not keep up at 10,000 × 100 and 1,000 × 1,000: 4,789,627 and 3,784,829 deliveries were still missing when the drain ended). The hypervisor's steal was 0.0–0.5% in every server's run (2.4% in one of the floor's), so these rounds are comparable. Compare servers within this table, not with earlier reports: the machine's speed moves between runs (the floor's CPU per delivery at 1,000 × 10 was 12.50 µs here, 13.00 in the previous sweep, 8.75 in an earlier one). The bars at 10,000 × 10 and × 20 sit inside the spread of the rounds: a sweep earlier the same day, on a build that differed only at saturated points, met the CPU bar at × 20 (5.53 against 5.74 µs) and missed both latency bars (275 against 228 ms, 317 against 297); the sweep before that met both latency bars and missed the CPU bar at × 20. That earlier build also yielded the CPU after publishes that reached many subscribers but woke few: at 1,000 × 1,000 it cost 1.57 µs per delivery against 1.07 here (server/src/hub/delivery_first.rs, `MAX_REACHED`).\n\n**Where pushwire is ahead.** The latency target is met at four of the seven points: 10,000 × 20 (worst round 297 ms against warp's median 631), × 50 (525 against axum's 3,992), × 100 (2,124 against 9,440) and 1,000 × 1,000 (832 against 18,504). CPU per delivery is the lowest at four: 10,000 × 10 (11.70 against axum's 11.80 µs), × 50 (2.28 against 3.06), × 100 (1.27 against 3.02) and 1,000 × 1,000 (1.07 against 4.92). From 10,000 × 50 on and at 1,000 × 1,000 pushwire is the one server that comes near the offered rate (790,675 deliveries/s at 10,000 × 100 against axum's 299,480; 852,452 at 1,000 × 1,000 against 176,027): a subscriber that is behind gets what waits in one write, so its CPU per delivery falls as the load grows, while the floor, one write per frame, stays near 13 µs and falls seconds behind from 10,000 × 10 on. pushwire's CPU per delivery is at most 1.40× the floor's (1,000 × 10), and below it wherever the floor falls behind.\n\n**Where a target is missed, and why.** Every run's table splits the server's CPU into its own code (utime) and the kernel's work in its system calls (stime); on loopback a write's kernel time includes the receiving side's TCP processing and waking the reader, which over a network would run on the receiving machine. At each missed point pushwire's own code costs no more than the best peer's; what it loses, it loses in the kernel or in the spread of the rounds. *10,000 × 10, latency*: worst round 256 ms against axum's median 247; pushwire's median round is 233 ms, axum's rounds 236–271, and pushwire's CPU per delivery is the lowest (11.70 against 11.80 µs). *10,000 × 20, CPU*: 5.70 against axum's 5.41 µs (rounds 5.65–5.79 against 5.39–5.71). pushwire's own code 1.64–1.68 µs per delivery against axum's 1.94–2.08; the kernel 4.01–4.11 against 3.31–3.67. The kernel's share follows the number of writes, and axum writes less often because it writes later: its one round as fast as pushwire's (p99 325 ms) cost 5.71 µs, and its two cheapest rounds were its slowest (p99 973 and 837 ms). Counted apart on this build (`perf stat` on the server, one round each): pushwire made 209,701 `sendto` (p99 297 ms, 5.92 µs) against axum's 153,849 `writev` (p99 1,088 ms, 5.49 µs) for the same deliveries, and its threads woke 7,535 others against axum's 17,445 (`sched:sched_waking`), so waking the load generator's reader is not where pushwire pays more (as an earlier reading of `perf record` samples had it). pushwire's batching rule, tried at 1, 2 and 3 waiting frames (`CATCH_UP_FRAMES` in server/src/sse/batch.rs, made variable for the test; 3 alternating rounds each), cost 5.59–5.98 µs every time against axum's 5.53–5.64: a subscriber that keeps up finds one frame waiting, and writing fewer, larger chunks would mean writing later. *1,000 × 100*: worst p99 57.8 ms against hyperlane's median 47.4 (pushwire's median 48.5, hyperlane's worst 52.1), CPU 9.92 against axum's 9.25. Own code 2.52–2.87 µs against axum's 3.83–3.95 and hyperlane's 1.75–2.03; kernel 7.03–7.40 against axum's 5.05–5.42 and hyperlane's 9.25–9.40. There the two cores are full (the server takes one, the load generator the other) and latency and CPU trade against each other: axum writes less often because its subscribers run later (p99 101–141 ms, two to three times pushwire's) and find more events waiting; hyperlane delivers sooner than pushwire and pays 11.00–11.43 µs. No peer is ahead of pushwire on both. Counted apart (`perf stat` in 1 s intervals, one round each): at 100,000 deliveries a second pushwire made 48,000–66,000 `sendto` a second, axum 53,000–60,000 `writev` (p99 293 ms in that round) and hyperlane 100,000 `sendto`, one per frame. The batching rule at 1 to 4 waiting frames cost 9.98–10.43 µs (3 alternating rounds each; axum 9.03–9.60, hyperlane 11.40–11.78): it does not move this trade. *1,000 × 10*: worst p99 24.5 ms against hyperlane's median 19.1, CPU 17.50 against 17.25 (rounds 16.50–18.25 against 16.25–17.50). The floor, which writes pushwire's frames and does nothing else, misses the latency bar as well (its worst 21.7 ms): hyperlane's stream is bare `data:` lines, without the chunk framing and the `id:` line that resume needs, and the load generator reads it for 14.50–16.00 µs per delivery against 15.75–17.75 for pushwire's frames (16.00 for the floor's), on the same two cores. pushwire's own code here is 4.00–5.00 µs per delivery against hyperlane's 3.25–5.50 (one 10 ms tick is 0.25 µs per delivery at this rate), its kernel time 12.25–14.25 against 11.75–13.75. Measured in an earlier session, one round each with `perf` attached: pushwire 18.50 µs per delivery against hyperlane's 18.75, 41,695 `sendto` against 42,041, p99 23.8 ms against 23.6: at this point the two servers do the same work, and the spread of the rounds decides the bar. Ten more alternating rounds of this build against hyperlane (two invocations of 5) agree on the work and not on the latency: both make one `sendto` a delivery (10,010 a second each) and the same TCP traffic (`nstat`: 45,000–45,500 data segments and 91,000–94,500 segments in all, per run, for either); pushwire's CPU per delivery was the lower in 3 of the 10 rounds and level in 1, but its p50 was the higher in 9 and its p99 in 6 (23.8–28.4 ms against 23.3–30.9), and the load generator spent 19.00–21.25 µs per delivery reading pushwire against 17.50–19.75 reading hyperlane. Two changes were tried there and left out. Ending the stream with the connection instead of chunked framing, as hyperlane does, moved the load generator's median cost from 20.25 to 20.00 µs (hyperlane's 19.25) and not the p99 (median 27.0 ms, against 27.6 for the shipped build and 26.0 for hyperlane, 5 rounds). Waking subscribers while the hub still queues the event, in batches of 32 or of 4, instead of after, gave p99 27.3–30.5 and 26.9–33.4 ms against the shipped build's 23.8–27.6.\n";

/// Longest the last deliveries of a run may take after the last publish:
/// longer than the fan-out scenario's, since at the saturated points a
/// server is seconds behind, and whatever is still missing at the end
/// counts as lost.
const DRAIN_TIMEOUT: Duration = Duration::from_secs(30);

/// The grid and the rounds.
#[derive(Debug, Clone)]
pub struct SweepParams {
    /// (subscribers, events/s per subscriber).
    pub points: Vec<(usize, u64)>,
    pub rounds: usize,
    /// How long each run publishes.
    pub secs: u64,
}

impl SweepParams {
    pub fn new(quick: bool) -> SweepParams {
        if quick {
            SweepParams {
                points: vec![(1_000, 10), (1_000, 100)],
                rounds: 3,
                secs: 1,
            }
        } else {
            SweepParams {
                points: vec![
                    (10_000, 10),
                    (10_000, 20),
                    (10_000, 50),
                    (10_000, 100),
                    (1_000, 10),
                    (1_000, 100),
                    (1_000, 1_000),
                ],
                rounds: 3,
                secs: 4,
            }
        }
    }
}

/// A point of the sweep from the command line: `SUBSCRIBERSxRATE`.
pub fn parse_point(s: &str) -> Result<(usize, u64), String> {
    let (n, rate) = s
        .split_once(['x', 'X'])
        .ok_or_else(|| format!("{s:?}: expected SUBSCRIBERSxRATE, such as 1000x100"))?;
    let n: usize = n
        .trim()
        .parse()
        .map_err(|e| format!("{s:?}: subscribers: {e}"))?;
    let rate: u64 = rate
        .trim()
        .parse()
        .map_err(|e| format!("{s:?}: rate: {e}"))?;
    if n == 0 || rate == 0 {
        return Err(format!("{s:?}: subscribers and rate must be above 0"));
    }
    Ok((n, rate))
}

/// Who served a run: one of the servers, or the floor.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Who {
    Server(Kind),
    Floor,
}

impl Who {
    pub fn name(self) -> &'static str {
        match self {
            Who::Server(kind) => kind.name(),
            Who::Floor => "floor (fan-out loop, no hub)",
        }
    }

    /// Colour in the plot (as in the fan-out plot; the floor grey).
    fn color(self) -> &'static str {
        match self {
            Who::Server(Kind::Pushwire) => "#1f6feb",
            Who::Server(Kind::Axum) => "#e4572e",
            Who::Server(Kind::Hyperlane) => "#8338ec",
            Who::Server(Kind::Warp) => "#2a9d8f",
            Who::Floor => "#777777",
        }
    }
}

/// One run: one server (or the floor) at one point, one round.
#[derive(Debug, Clone)]
pub struct Run {
    pub who: Who,
    pub subscribers: usize,
    pub rate: u64,
    pub round: usize,
    pub connected: usize,
    pub events: u64,
    pub delivered: u64,
    pub lost: u64,
    pub duplicates: u64,
    pub deliveries_per_sec: f64,
    pub cpu_us_per_delivery: f64,
    /// The part of `cpu_us_per_delivery` spent in the kernel (system calls
    /// and the loopback delivery they do), not in the server's own code.
    pub kernel_us_per_delivery: f64,
    /// The load generator's (this process's) CPU per delivery: the other
    /// tenant of the two cores, which parses every event.
    pub loadgen_cpu_us_per_delivery: f64,
    /// The hypervisor's steal during the run (see [`CpuTicks`]).
    pub steal_percent: f64,
    pub p50: u64,
    pub p99: u64,
    pub p999: u64,
}

/// What a run publishes to.
enum Under {
    Server(Target, Publisher),
    Floor(Floor),
}

impl Stamped for Under {
    async fn send_event(&mut self, seq: u64, t: u64) -> Result<(), String> {
        match self {
            Under::Server(_, publisher) => publisher.publish_stamped(seq, t).await,
            Under::Floor(floor) => {
                let payload =
                    serde_json::to_string(&Payload { t, seq }).map_err(|e| e.to_string())?;
                floor.publish(&payload).await
            }
        }
    }
}

impl Under {
    fn cpu_time(&self) -> CpuTime {
        match self {
            Under::Server(target, _) => target.cpu_time(),
            Under::Floor(floor) => floor.cpu_time(),
        }
    }

    async fn stop(self) {
        match self {
            Under::Server(target, _) => target.stop().await,
            // The floor's process was started on the publisher's thread.
            Under::Floor(floor) => {
                let _ = on_publisher_thread(floor.stop()).await;
            }
        }
    }
}

/// One run of `who` at `rate` events/s to `subscribers`, publishing for
/// `secs`; `addr` is where a server listens (the floor picks its own port).
pub async fn run_once(
    who: Who,
    addr: SocketAddr,
    subscribers: usize,
    rate: u64,
    secs: u64,
    round: usize,
) -> Result<Run, String> {
    let (addr, target) = match who {
        Who::Server(kind) => (addr, Some(Target::start(kind, addr, subscribers).await?)),
        Who::Floor => (addr, None),
    };
    let floor = match who {
        Who::Floor => Some(on_publisher_thread(Floor::start()).await??),
        Who::Server(_) => None,
    };
    let addr = floor.as_ref().map_or(addr, |f| f.addr);
    // The floor reads no path: its subscribers ask what pushwire's do.
    let kind = match who {
        Who::Server(kind) => kind,
        Who::Floor => Kind::Pushwire,
    };
    let shared = Arc::new(Shared::default());
    let (crowd, _) = Crowd::connect(addr, kind, vec![None; subscribers], shared.clone()).await;
    let connected = shared.connected.load(Relaxed);
    let under = match (target, floor) {
        (Some(target), _) => {
            let publisher = on_publisher_thread(Publisher::connect(addr, kind)).await??;
            Under::Server(target, publisher)
        }
        (None, Some(floor)) => Under::Floor(floor),
        (None, None) => return Err("nothing to run against".into()),
    };
    let events = rate * secs;
    let mut under = Some(under);
    let measured = async {
        let Some(mut under) = under.take() else {
            return Err("nothing to run against".to_owned());
        };
        // Every subscriber has the warm-up event before the measured ones;
        // it is not in the latencies, the deliveries or the CPU time.
        under = warm_up(under, &shared, connected).await?;
        let cpu0 = under.cpu_time();
        let own0 = cpu_seconds_of(std::process::id());
        let ticks0 = CpuTicks::now();
        let started = Instant::now();
        under = publish_paced(under, 1..=events, Some(rate)).await?;
        let expected = events * connected as u64;
        let deadline = tokio::time::Instant::now() + DRAIN_TIMEOUT;
        wait_until(&shared, deadline, |s| s.delivered.load(Relaxed) >= expected).await;
        let elapsed = started.elapsed().as_secs_f64();
        let cpu = under.cpu_time().since(cpu0);
        let own = cpu_seconds_of(std::process::id()) - own0;
        let steal = CpuTicks::now().steal_percent_since(ticks0);
        Ok::<_, String>((elapsed, cpu, own, steal, under))
    }
    .await;
    let progress = crowd.disconnect().await;
    let (elapsed, cpu, own, steal_percent, under) = measured?;
    under.stop().await;
    let delivered = shared.delivered.load(Relaxed);
    // Seconds of CPU to µs per delivery.
    let us_per_delivery = 1e6 / delivered.max(1) as f64;
    Ok(Run {
        who,
        subscribers,
        rate,
        round,
        connected,
        events,
        delivered,
        // Every connected subscriber should have every event 0..=events once.
        lost: progress
            .iter()
            .filter(|p| p.connections > 0)
            .map(|p| (events + 1).saturating_sub(p.received))
            .sum(),
        duplicates: shared.duplicates.load(Relaxed),
        deliveries_per_sec: delivered as f64 / elapsed.max(1e-9),
        cpu_us_per_delivery: cpu.total() * us_per_delivery,
        kernel_us_per_delivery: cpu.kernel * us_per_delivery,
        loadgen_cpu_us_per_delivery: own * us_per_delivery,
        steal_percent,
        p50: shared.latency.quantile(0.5),
        p99: shared.latency.quantile(0.99),
        p999: shared.latency.quantile(0.999),
    })
}

/// Every point, in rounds: each round runs every server and then the
/// floor once, so their runs alternate.
pub async fn run(p: &SweepParams, kinds: &[Kind]) -> Result<Vec<Run>, String> {
    let whos: Vec<Who> = kinds
        .iter()
        .map(|&k| Who::Server(k))
        .chain([Who::Floor])
        .collect();
    let mut runs = Vec::new();
    for &(subscribers, rate) in &p.points {
        for round in 1..=p.rounds {
            for &who in &whos {
                let addr = match who {
                    Who::Server(_) => free_addr()?,
                    Who::Floor => SocketAddr::from(([127, 0, 0, 1], 0)),
                };
                let run = run_once(who, addr, subscribers, rate, p.secs, round).await?;
                eprintln!(
                    "bench: sweep, {subscribers} × {rate}/s on {} (round {round} of {}): p99 {} µs, {:.2} µs CPU per delivery, {} lost",
                    who.name(),
                    p.rounds,
                    run.p99,
                    run.cpu_us_per_delivery,
                    run.lost
                );
                runs.push(run);
            }
        }
    }
    Ok(runs)
}

/// One server at one point, over its rounds.
#[derive(Debug, Clone)]
pub struct Summary {
    pub who: Who,
    pub subscribers: usize,
    pub rate: u64,
    pub rounds: usize,
    /// (median, worst) of each.
    pub p50: (u64, u64),
    pub p99: (u64, u64),
    pub p999: (u64, u64),
    pub deliveries_per_sec: (f64, f64),
    pub cpu_us: (f64, f64),
    /// The load generator's CPU per delivery (median, worst).
    pub loadgen_cpu_us: (f64, f64),
    /// Summed over the rounds.
    pub expected: u64,
    pub delivered: u64,
    pub lost: u64,
    pub duplicates: u64,
}

/// The median (the upper one of an even count) and the worst of `values`,
/// worst being the highest unless `higher_is_better`.
fn median_worst<T: PartialOrd + Copy>(mut values: Vec<T>, higher_is_better: bool) -> (T, T) {
    values.sort_by(|a, b| a.partial_cmp(b).unwrap_or(std::cmp::Ordering::Equal));
    let worst = if higher_is_better {
        values[0]
    } else {
        values[values.len() - 1]
    };
    (values[values.len() / 2], worst)
}

/// Each server's rounds at each point, in the order they were first run.
pub fn summarize(runs: &[Run]) -> Vec<Summary> {
    let mut keys: Vec<(usize, u64, Who)> = Vec::new();
    for r in runs {
        let key = (r.subscribers, r.rate, r.who);
        if !keys.contains(&key) {
            keys.push(key);
        }
    }
    keys.into_iter()
        .map(|(subscribers, rate, who)| {
            let rs: Vec<&Run> = runs
                .iter()
                .filter(|r| r.subscribers == subscribers && r.rate == rate && r.who == who)
                .collect();
            let of = |f: fn(&Run) -> u64| median_worst(rs.iter().map(|r| f(r)).collect(), false);
            Summary {
                who,
                subscribers,
                rate,
                rounds: rs.len(),
                p50: of(|r| r.p50),
                p99: of(|r| r.p99),
                p999: of(|r| r.p999),
                deliveries_per_sec: median_worst(
                    rs.iter().map(|r| r.deliveries_per_sec).collect(),
                    true,
                ),
                cpu_us: median_worst(rs.iter().map(|r| r.cpu_us_per_delivery).collect(), false),
                loadgen_cpu_us: median_worst(
                    rs.iter().map(|r| r.loadgen_cpu_us_per_delivery).collect(),
                    false,
                ),
                expected: rs.iter().map(|r| r.events * r.connected as u64).sum(),
                delivered: rs.iter().map(|r| r.delivered).sum(),
                lost: rs.iter().map(|r| r.lost).sum(),
                duplicates: rs.iter().map(|r| r.duplicates).sum(),
            }
        })
        .collect()
}

fn ms(us: u64) -> String {
    if us >= 100_000 {
        format!("{:.0} ms", us as f64 / 1000.0)
    } else {
        format!("{:.1} ms", us as f64 / 1000.0)
    }
}

/// `median (worst)`.
fn mw(pair: (u64, u64)) -> String {
    format!("{} ({})", ms(pair.0), ms(pair.1))
}

/// The sweep table: one row per server and point, with its CPU per
/// delivery as a multiple of the floor's at the same point.
pub fn table(summaries: &[Summary]) -> String {
    let mut out = String::from("| subscribers | events/s | server | rounds | p50 | p99 | p99.9 | deliveries/s | CPU µs per delivery | CPU × floor | load generator CPU µs per delivery | deliveries expected | delivered | lost | duplicated |\n|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|\n");
    for s in summaries {
        let floor = summaries
            .iter()
            .find(|f| f.who == Who::Floor && f.subscribers == s.subscribers && f.rate == s.rate);
        let ratio = match floor {
            Some(f) if f.cpu_us.0 > 0.0 && s.who != Who::Floor => {
                format!("{:.2}×", s.cpu_us.0 / f.cpu_us.0)
            }
            _ => "—".to_owned(),
        };
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} | {} | {} | {} | {:.0} ({:.0}) | {:.2} ({:.2}) | {ratio} | {:.2} ({:.2}) | {} | {} | {} | {} |",
            s.subscribers,
            s.rate,
            s.who.name(),
            s.rounds,
            mw(s.p50),
            mw(s.p99),
            mw(s.p999),
            s.deliveries_per_sec.0,
            s.deliveries_per_sec.1,
            s.cpu_us.0,
            s.cpu_us.1,
            s.loadgen_cpu_us.0,
            s.loadgen_cpu_us.1,
            s.expected,
            s.delivered,
            s.lost,
            s.duplicates
        );
    }
    out
}

/// The issue's targets at each point, checked: pushwire's worst p99 at or
/// below the best peer's median p99, its median CPU per delivery at or
/// below the best peer's median, nothing lost or duplicated. The floor's
/// worst p99 against the same peer median says whether the latency target
/// is within reach of the least any server can do on this machine: where
/// the floor misses it too, the round-to-round spread is larger than the
/// margin the target asks for.
pub fn targets_table(summaries: &[Summary]) -> String {
    let mut out = String::from(
        "| subscribers | events/s | pushwire worst p99 | best peer median p99 | met | floor worst p99 | floor meets it | pushwire CPU µs | best peer CPU µs | met | lost + duplicated |\n|---|---|---|---|---|---|---|---|---|---|---|\n",
    );
    let yes_no = |b: bool| if b { "yes" } else { "**no**" };
    for pw in summaries
        .iter()
        .filter(|s| s.who == Who::Server(Kind::Pushwire))
    {
        let at_point = |s: &&Summary| s.subscribers == pw.subscribers && s.rate == pw.rate;
        let peers: Vec<&Summary> = summaries
            .iter()
            .filter(at_point)
            .filter(|s| matches!(s.who, Who::Server(k) if k != Kind::Pushwire))
            .collect();
        let Some(fastest) = peers.iter().min_by_key(|s| s.p99.0) else {
            continue;
        };
        let thriftiest = peers
            .iter()
            .map(|s| s.cpu_us.0)
            .fold(f64::INFINITY, f64::min);
        let floor = summaries
            .iter()
            .filter(at_point)
            .find(|s| s.who == Who::Floor);
        let (floor_worst, floor_meets) = floor.map_or(("—".to_owned(), "—"), |f| {
            (ms(f.p99.1), yes_no(f.p99.1 <= fastest.p99.0))
        });
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} ({}) | {} | {} | {} | {:.2} | {:.2} | {} | {} |",
            pw.subscribers,
            pw.rate,
            ms(pw.p99.1),
            ms(fastest.p99.0),
            fastest.who.name(),
            yes_no(pw.p99.1 <= fastest.p99.0),
            floor_worst,
            floor_meets,
            pw.cpu_us.0,
            thriftiest,
            yes_no(pw.cpu_us.0 <= thriftiest),
            pw.lost + pw.duplicates,
        );
    }
    out
}

/// pushwire's CPU per delivery as a multiple of the floor's, per point (medians).
pub fn floor_ratios(summaries: &[Summary]) -> Vec<(usize, u64, f64)> {
    summaries
        .iter()
        .filter(|s| s.who == Who::Server(Kind::Pushwire))
        .filter_map(|s| {
            let f = summaries.iter().find(|f| {
                f.who == Who::Floor && f.subscribers == s.subscribers && f.rate == s.rate
            })?;
            (f.cpu_us.0 > 0.0).then(|| (s.subscribers, s.rate, s.cpu_us.0 / f.cpu_us.0))
        })
        .collect()
}

/// Every run, one line each, for a closer look at the rounds.
pub fn runs_table(runs: &[Run]) -> String {
    let mut out = String::from("| subscribers | events/s | round | server | p50 | p99 | p99.9 | deliveries/s | CPU µs per delivery | of it in the kernel | load generator CPU µs per delivery | steal | lost | duplicated |\n|---|---|---|---|---|---|---|---|---|---|---|---|---|---|\n");
    for r in runs {
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} | {} | {} | {} | {:.0} | {:.2} | {:.2} | {:.2} | {:.1}% | {} | {} |",
            r.subscribers,
            r.rate,
            r.round,
            r.who.name(),
            ms(r.p50),
            ms(r.p99),
            ms(r.p999),
            r.deliveries_per_sec,
            r.cpu_us_per_delivery,
            r.kernel_us_per_delivery,
            r.loadgen_cpu_us_per_delivery,
            r.steal_percent,
            r.lost,
            r.duplicates
        );
    }
    out
}

/// The report's sweep section.
pub fn section(
    p: &SweepParams,
    runs: &[Run],
    command_line: &str,
    machine: &str,
    svg_name: &str,
) -> String {
    let summaries = summarize(runs);
    let mut out = format!(
        "{HEADING}\n\nGenerated by `{command_line}` on {machine}. Fan-out at each point (subscribers × events/s per subscriber), {} rounds; each round runs every server and then the floor once, one after another, so their runs alternate. Each cell is the median round and, in parentheses, the worst one (highest latency and CPU, lowest deliveries/s). Latency is from when an event was due to when a subscriber parsed it, on one clock (the load generator, in this process, shares the two cores with the server at every point). Events are due at a steady pace (event *n* at start + *n* / rate) and a server that answers publishes slowly, and so holds the one publisher back past an event's due time, is charged for that wait instead of being offered a lower rate (coordinated omission, corrected as wrk2 does); the publisher's own lateness (its sleep, on its own thread, wakes it a little late now and then) is not charged. CPU is the server process's utime + stime from `/proc/PID/stat` (10 ms ticks) from the first publish until the last delivery, per delivery (every run's table gives the stime part apart: the kernel's work in the server's system calls, which for a loopback write includes the receiving side's TCP processing and waking the reader); every run also gives the hypervisor's steal during it (this machine is a virtual one; see section 3); lost and duplicated are exact, per subscriber (every event from the warm-up to the last, once), summed over the rounds.\n\nThe floor (`pushwire-bench serve-floor`, `bench/src/floor.rs`) accepts the same connections and writes the same bytes pushwire does for each event (`id: …\\ndata: …\\n\\n` in an HTTP/1.1 chunk) to every socket, from one fan-out loop per core, with nothing else: no HTTP parsing beyond reading the request up to its blank line, no hub, no queue per subscriber; the benchmark hands it each event over a pipe. It is the cost of the system calls alone. **CPU × floor** is a server's median CPU per delivery over the floor's.\n\n**Parameters:** {p:?}.\n\n",
        p.rounds
    );
    out.push_str(&table(&summaries));
    out.push_str("\n**Targets**, from the table above:\n\n");
    out.push_str(&targets_table(&summaries));
    let ratios = floor_ratios(&summaries);
    if !ratios.is_empty() {
        out.push_str("\npushwire's CPU per delivery over the floor's: ");
        let parts: Vec<String> = ratios
            .iter()
            .map(|(s, r, x)| format!("{s} × {r}/s {x:.2}×"))
            .collect();
        out.push_str(&parts.join("; "));
        out.push_str(".\n");
    }
    let _ = writeln!(
        out,
        "\n![p99 against rate]({svg_name})\n\n<details><summary>Every run</summary>\n\n{}\n</details>\n",
        runs_table(runs)
    );
    if p.points == SweepParams::new(false).points {
        out.push_str(NOTES);
    }
    out
}

/// p99 against rate, log-log, one panel per subscriber count, one line per
/// server (its median round; a tick at its worst round).
pub fn svg(runs: &[Run]) -> String {
    let summaries = summarize(runs);
    let mut groups: Vec<usize> = summaries.iter().map(|s| s.subscribers).collect();
    groups.sort_unstable_by(|a, b| b.cmp(a));
    groups.dedup();
    let (panel_w, h, left, right, top, bottom) = (460.0, 400.0, 60.0, 20.0, 50.0, 50.0);
    let w = panel_w * groups.len().max(1) as f64;
    let mut svg = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{w}\" height=\"{}\" font-family=\"sans-serif\" font-size=\"12\">\n<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n<text x=\"{left}\" y=\"20\" font-size=\"14\">p99 latency against rate (dot: median round; tick: worst)</text>\n",
        h + 20.0 * 5.0
    );
    // One y range for every panel, in whole decades.
    let decade = |v: f64| v.max(1.0).log10();
    let lo = summaries
        .iter()
        .map(|s| decade(s.p99.0 as f64))
        .fold(f64::INFINITY, f64::min)
        .floor();
    let hi = summaries
        .iter()
        .map(|s| decade(s.p99.1 as f64))
        .fold(f64::NEG_INFINITY, f64::max)
        .ceil();
    let (lo, hi) = if lo.is_finite() && hi > lo {
        (lo, hi)
    } else {
        (2.0, 5.0)
    };
    let y = |us: u64| top + (hi - decade(us as f64)) / (hi - lo) * (h - top - bottom);
    for (g, &subscribers) in groups.iter().enumerate() {
        let x0 = g as f64 * panel_w;
        let rows: Vec<&Summary> = summaries
            .iter()
            .filter(|s| s.subscribers == subscribers)
            .collect();
        let rate_lo = rows
            .iter()
            .map(|s| (s.rate as f64).log10())
            .fold(f64::INFINITY, f64::min);
        let rate_hi = rows
            .iter()
            .map(|s| (s.rate as f64).log10())
            .fold(f64::NEG_INFINITY, f64::max);
        let span = (rate_hi - rate_lo).max(1e-9);
        let plot_w = panel_w - left - right;
        // 20 px in from either end, so no point sits on an axis.
        let x = |rate: u64| {
            if rate_hi > rate_lo {
                x0 + left + 20.0 + ((rate as f64).log10() - rate_lo) / span * (plot_w - 40.0)
            } else {
                x0 + left + plot_w / 2.0
            }
        };
        let bottom_y = h - bottom;
        let _ = writeln!(
            svg,
            "<text x=\"{}\" y=\"{}\" font-size=\"13\">{subscribers} subscribers</text>\n<line x1=\"{}\" y1=\"{bottom_y}\" x2=\"{}\" y2=\"{bottom_y}\" stroke=\"black\"/>\n<line x1=\"{}\" y1=\"{top}\" x2=\"{}\" y2=\"{bottom_y}\" stroke=\"black\"/>\n<text x=\"{}\" y=\"{}\" text-anchor=\"middle\">events/s per subscriber</text>",
            x0 + left,
            top - 10.0,
            x0 + left,
            x0 + left + plot_w,
            x0 + left,
            x0 + left,
            x0 + left + plot_w / 2.0,
            h - 12.0
        );
        // y gridlines and labels at 1, 2 and 5 of every decade.
        let decades = (hi - lo) as u32;
        let ticks = (0..decades)
            .flat_map(|d| [1, 2, 5].map(|step| (d, step)))
            .chain([(decades, 1)]);
        for (d, step) in ticks {
            let us = 10u64.pow(lo as u32 + d) * step;
            let yy = y(us);
            let label = if us >= 1_000_000 {
                format!("{} s", us / 1_000_000)
            } else if us >= 1_000 {
                format!("{} ms", us / 1_000)
            } else {
                format!("{us} µs")
            };
            let _ = writeln!(
                svg,
                "<line x1=\"{}\" y1=\"{yy:.1}\" x2=\"{}\" y2=\"{yy:.1}\" stroke=\"#dddddd\"/>\n<text x=\"{}\" y=\"{:.1}\" text-anchor=\"end\">{label}</text>",
                x0 + left,
                x0 + left + plot_w,
                x0 + left - 4.0,
                yy + 4.0
            );
        }
        // x labels at every measured rate.
        let mut rates: Vec<u64> = rows.iter().map(|s| s.rate).collect();
        rates.sort_unstable();
        rates.dedup();
        for rate in rates {
            let _ = writeln!(
                svg,
                "<line x1=\"{:.1}\" y1=\"{bottom_y}\" x2=\"{:.1}\" y2=\"{}\" stroke=\"black\"/>\n<text x=\"{:.1}\" y=\"{}\" text-anchor=\"middle\">{rate}</text>",
                x(rate),
                x(rate),
                bottom_y + 5.0,
                x(rate),
                bottom_y + 18.0
            );
        }
        let mut whos: Vec<Who> = Vec::new();
        for s in &rows {
            if !whos.contains(&s.who) {
                whos.push(s.who);
            }
        }
        for who in whos {
            let mut points: Vec<&&Summary> = rows.iter().filter(|s| s.who == who).collect();
            points.sort_by_key(|s| s.rate);
            let color = who.color();
            let dash = if who == Who::Floor { "5,4" } else { "" };
            let path: Vec<String> = points
                .iter()
                .map(|s| format!("{:.1},{:.1}", x(s.rate), y(s.p99.0)))
                .collect();
            let _ = writeln!(
                svg,
                "<polyline fill=\"none\" stroke=\"{color}\" stroke-width=\"2\" stroke-dasharray=\"{dash}\" points=\"{}\"/>",
                path.join(" ")
            );
            for s in points {
                let (px, py, pw) = (x(s.rate), y(s.p99.0), y(s.p99.1));
                let _ = writeln!(
                    svg,
                    "<circle cx=\"{px:.1}\" cy=\"{py:.1}\" r=\"3\" fill=\"{color}\"/>\n<line x1=\"{px:.1}\" y1=\"{py:.1}\" x2=\"{px:.1}\" y2=\"{pw:.1}\" stroke=\"{color}\"/>\n<line x1=\"{:.1}\" y1=\"{pw:.1}\" x2=\"{:.1}\" y2=\"{pw:.1}\" stroke=\"{color}\"/>",
                    px - 4.0,
                    px + 4.0
                );
            }
        }
    }
    // The legend, under the panels.
    let mut whos: Vec<Who> = Vec::new();
    for s in &summaries {
        if !whos.contains(&s.who) {
            whos.push(s.who);
        }
    }
    for (i, who) in whos.iter().enumerate() {
        let yy = h + 10.0 + 18.0 * i as f64;
        let dash = if *who == Who::Floor { "5,4" } else { "" };
        let _ = writeln!(
            svg,
            "<line x1=\"{left}\" y1=\"{yy}\" x2=\"{}\" y2=\"{yy}\" stroke=\"{}\" stroke-width=\"2\" stroke-dasharray=\"{dash}\"/>\n<text x=\"{}\" y=\"{}\">{}</text>",
            left + 30.0,
            who.color(),
            left + 38.0,
            yy + 4.0,
            who.name()
        );
    }
    svg.push_str("</svg>\n");
    svg
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(who: Who, subscribers: usize, rate: u64, round: usize, p99: u64, cpu: f64) -> Run {
        Run {
            who,
            subscribers,
            rate,
            round,
            connected: subscribers,
            events: rate,
            delivered: rate * subscribers as u64,
            lost: round as u64 - 1,
            duplicates: 0,
            deliveries_per_sec: 1000.0 * round as f64,
            cpu_us_per_delivery: cpu,
            kernel_us_per_delivery: cpu * 0.75,
            loadgen_cpu_us_per_delivery: 10.0,
            steal_percent: 0.5,
            p50: p99 / 2,
            p99,
            p999: p99 * 2,
        }
    }

    fn sample() -> Vec<Run> {
        let pw = Who::Server(Kind::Pushwire);
        let axum = Who::Server(Kind::Axum);
        let mut runs = Vec::new();
        for (subs, rate) in [(10_000, 10), (10_000, 100), (1_000, 1_000)] {
            for round in 1..=3 {
                let k = round as u64;
                runs.push(run(pw, subs, rate, round, 1_000 * rate * k, 4.0 + k as f64));
                runs.push(run(axum, subs, rate, round, 2_000 * rate, 6.0));
                runs.push(run(Who::Floor, subs, rate, round, 500 * rate, 2.0));
            }
        }
        runs
    }

    #[test]
    fn targets_are_checked_against_the_best_peer_and_the_floor() {
        let text = targets_table(&summarize(&sample()));
        // pushwire 10, 20, 30 ms against axum's 20 ms median; the floor 5 ms;
        // CPU 6.0 median each; 0 + 1 + 2 lost.
        assert!(
            text.contains("| 10000 | 10 | 30.0 ms | 20.0 ms (axum Sse + broadcast) | **no** | 5.0 ms | yes | 6.00 | 6.00 | yes | 3 |"),
            "{text}"
        );
        assert_eq!(text.lines().count(), 2 + 3, "{text}");
    }

    #[test]
    fn every_run_shows_its_kernel_cpu_and_steal() {
        let text = runs_table(&[run(Who::Server(Kind::Pushwire), 1_000, 100, 2, 40_000, 8.0)]);
        assert_eq!(
            text.lines().nth(2),
            Some("| 1000 | 100 | 2 | pushwire | 20.0 ms | 40.0 ms | 80.0 ms | 2000 | 8.00 | 6.00 | 10.00 | 0.5% | 1 | 0 |"),
            "{text}"
        );
        assert_eq!(text.lines().count(), 3, "{text}");
    }

    #[test]
    fn points_are_read_as_subscribers_by_rate() {
        assert_eq!(parse_point("1000x100"), Ok((1000, 100)));
        assert_eq!(parse_point("10000X20"), Ok((10000, 20)));
        assert!(parse_point("1000").is_err());
        assert!(parse_point("0x10").is_err());
        assert!(parse_point("10x").is_err());
    }

    #[test]
    fn median_and_worst_per_server_and_point() {
        assert_eq!(median_worst(vec![3, 1, 2], false), (2, 3));
        assert_eq!(median_worst(vec![3.0, 1.0, 2.0], true), (2.0, 1.0));
        let s = summarize(&sample());
        assert_eq!(s.len(), 9);
        let pw = &s[0];
        assert_eq!(
            (pw.who, pw.subscribers, pw.rate),
            (Who::Server(Kind::Pushwire), 10_000, 10)
        );
        assert_eq!(pw.rounds, 3);
        assert_eq!(pw.p99, (20_000, 30_000));
        assert_eq!(pw.cpu_us, (6.0, 7.0));
        assert_eq!(pw.deliveries_per_sec, (2000.0, 1000.0));
        assert_eq!(pw.lost, 3);
        assert_eq!(pw.expected, 3 * 10 * 10_000);
        assert_eq!(floor_ratios(&s)[0], (10_000, 10, 3.0));
    }

    #[test]
    fn the_section_has_every_point_and_the_ratio() {
        let p = SweepParams::new(true);
        let text = section(&p, &sample(), "cargo xtask bench", "m", "B-sweep.svg");
        assert!(text.starts_with(HEADING));
        assert!(text.contains("| 1000 | 1000 | pushwire | 3 |"), "{text}");
        assert!(text.contains("| 3.00× |"), "{text}");
        assert!(text.contains("10000 × 100/s 3.00×"), "{text}");
        assert!(text.contains("![p99 against rate](B-sweep.svg)"));
    }

    #[test]
    fn the_plot_has_a_line_per_server_and_panel() {
        let text = svg(&sample());
        assert!(text.starts_with("<svg") && text.ends_with("</svg>\n"));
        assert_eq!(text.matches("<polyline").count(), 2 * 3);
        assert!(text.contains("10000 subscribers") && text.contains("1000 subscribers"));
        assert!(!text.contains("NaN") && !text.contains("inf"));
        assert_eq!(svg(&[]).matches("<polyline").count(), 0);
    }

    #[test]
    fn the_section_is_replaced_inserted_or_kept() {
        crate::report::assert_splices_section(HEADING, "## 5. Cluster\n\nc");
    }
}
