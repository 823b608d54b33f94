//! `pushwire-bench`: pushwire against peer SSE servers, side by side in one
//! run. Run it through `cargo xtask bench` (it builds pushwire in release
//! mode first). Every load goes to loopback only, is bounded in count and
//! time, and stops by itself.

mod cluster;
mod floor;
mod histogram;
mod loadgen;
mod peers;
mod report;
mod scenarios;
mod sweep;
mod target;
mod tls;
mod workers;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

use crate::target::{free_addr, Kind};

#[derive(Debug, Parser)]
#[command(name = "pushwire-bench", about = "pushwire against peer SSE servers")]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
    /// About a minute: small counts, short runs.
    #[arg(long)]
    quick: bool,
    /// Connections up to the file-descriptor ceiling.
    #[arg(long)]
    full: bool,
    /// Servers to compare (comma-separated: pushwire, axum, hyperlane, warp).
    #[arg(
        long,
        value_delimiter = ',',
        default_value = "pushwire,axum,hyperlane,warp"
    )]
    servers: Vec<String>,
    /// Scenarios to run (comma-separated: held, fan-out, single, storm;
    /// cluster: pushwire nodes on a local NATS JetStream, which needs
    /// `nats-server`; tls: connections held and fan-out over HTTP/1.1 and
    /// HTTP/2 over TLS, pushwire against axum; sweep: fan-out over a grid of
    /// rates against a minimal floor. The last three run only when asked
    /// for).
    #[arg(
        long,
        value_delimiter = ',',
        default_value = "held,fan-out,single,storm"
    )]
    scenarios: Vec<String>,
    /// Where to write the Markdown report.
    #[arg(long, default_value = "BENCHMARKS.md")]
    out: String,
    /// The exact command, recorded in the report.
    #[arg(long, default_value = "cargo xtask bench")]
    command_line: String,
    /// Sweep only these points (comma-separated SUBSCRIBERSxRATE, such as
    /// `1000x100`), to study one point with more rounds.
    #[arg(long, value_delimiter = ',', value_parser = sweep::parse_point)]
    points: Vec<(usize, u64)>,
    /// Rounds of the sweep (default 3).
    #[arg(long)]
    rounds: Option<usize>,
    /// Seconds each sweep run publishes (default 4, 1 with `--quick`).
    #[arg(long)]
    secs: Option<u64>,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Runs one peer server (used by the benchmark itself).
    ServePeer {
        peer: String,
        addr: SocketAddr,
        /// Serve HTTPS with this PEM certificate (axum only; with --tls-key).
        #[arg(long, requires = "tls_key")]
        tls_cert: Option<PathBuf>,
        /// The PEM private key of --tls-cert.
        #[arg(long, requires = "tls_cert")]
        tls_key: Option<PathBuf>,
    },
    /// Runs the floor of the rate sweep (used by the benchmark itself).
    ServeFloor,
    /// Holds N subscriptions until stdin closes (a load-generator worker).
    Hold {
        addr: SocketAddr,
        kind: String,
        n: usize,
        first_source: u32,
        /// Servers to resume on once a stream ends (comma-separated).
        #[arg(long, value_delimiter = ',')]
        failover: Vec<SocketAddr>,
        /// First source address of the resumed connections.
        #[arg(long, default_value_t = 0)]
        failover_source: u32,
        /// Connect over TLS, trusting the CA certificate(s) in this PEM file.
        #[arg(long)]
        tls_ca: Option<PathBuf>,
        /// Over TLS, speak HTTP/2 (one stream per connection), not HTTP/1.1.
        #[arg(long, requires = "tls_ca")]
        h2: bool,
    },
}

/// The structural reasons behind the rows pushwire loses, measured while
/// optimising (they do not change from run to run; the figures above do).
const BEHIND: &str = "\
- **CPU per delivery when saturated** (10,000 subscribers × 100 events/s, where the server and the load generator together need more than the two cores): pushwire writes each subscriber's frames as soon as it is woken, so it answers sooner and with smaller writes. Counted with `perf stat` on this machine: about 3.3 events per `write` for pushwire against 7.6 for axum. More system calls per delivery cost server CPU, and the load generator, sharing the cores, reads more, smaller chunks, which lowers the deliveries per second it can take in. The peers' larger batches come with two to five times pushwire's p99. A subscriber already behind yields once before writing (fewer, larger writes); going further would trade away latency.
- **1,000,000 deliveries/s with p99 under 10 ms** is out of reach on two shared cores: at 100 events/s per subscriber, batching would add 10 ms, so every delivery is its own write, and a loopback write costs 1.5 to 2 µs of kernel time (the receiving side's TCP processing runs in the sender's system call). That is 1.5 to 2 cores for the server alone before the load generator parses a single event. It needs the load generator on another machine.
- **The single client's p99, run to run.** With deliveries before answers and one yield of the CPU after the event's write (server/src/hub/delivery_first.rs), pushwire's single-client p50 is the lowest of the four servers and its p99 is level with the best peer's, not below it in every run. In the run above (0.1–0.5% steal) its median round had p99 159 µs against 210–315 µs for the peers; in two more runs of all four servers the same day, 189 µs against 261–419, and 308 µs against hyperlane's 225 (pushwire's other two rounds in that run: 196 and 216 µs). Before the yield, the order of two writes decided the p99 on this machine, because a loopback write wakes its reader on the writer's CPU. Answering first, the event waited while the publisher's thread handled the answer: median 155 and 164 µs, p99 401–758 µs. Delivering first without the yield, the load generator's threads spread over both vCPUs and the hypervisor's steal rose with them: p99 341–11,100 µs at 0.7–4.2% steal. The yield keeps the subscriber's read ahead of the answer and on one vCPU (1,982 of 2,007 events in a scheduler trace); with nothing else to run, it costs 0.75 µs. Any p99 on this virtual machine still depends on the steal: compare rounds at similar steal.
- **Accept rate** moves between runs from about 4,000 to 15,000 connections/s for every server (the load generator's worker processes starting up and the machine's scheduling dominate it); compare it across runs, not within one.\n";

/// Rounds of the single-client scenario; each server's median round counts.
const SINGLE_CLIENT_ROUNDS: usize = 3;

/// The scenarios, by the names `--scenarios` takes.
const SCENARIOS: [&str; 7] = [
    "held", "fan-out", "single", "storm", "cluster", "tls", "sweep",
];

/// The scenarios that compare pushwire with the peers (the report's sections 1 to 4).
const PEER_SCENARIOS: [&str; 4] = ["held", "fan-out", "single", "storm"];

/// Connections asked for by `--full`: the per-process file limit (20,000)
/// less the files a server needs besides its sockets.
pub(crate) const FULL_CONNECTIONS: usize = 19_900;

/// What limits the cluster scenario on this machine (kept with its figures).
const CLUSTER_NOTES: &str = "**Limits.** Everything shares two cores: five nodes, nats-server and the load generator (whose worker processes parse every event). Each node is capped at 19,900 connections by the per-process file limit (20,000, which cannot be raised here), hence 5 × 19,900. Memory is not the limit: about 2.6 KB per held connection per node, some 290 MiB for all 99,500, and NATS stays near 14 MiB (it only sees the five nodes). Cross-node latency came out lower than the single node's at the same load: there, one process writes all 1,000 subscribers' frames, while on the cluster four node processes share them; the JetStream hop (storing each event before the publish is answered, then each node's consumer) is smaller than that difference. The single-node figure also varies between runs (an earlier run of section 2 measured p99 7.3 ms at the same load; the current section 2, taken later on a busier machine with the publisher charged for the server's hold, 59.6 ms). The storm publishes 10 events/s: at 100/s one node would owe 19,900 subscribers 2 million deliveries/s, both cores saturate and the node is far behind when it is killed. The time until all are back (11.6 s for 19,900 in this run, 8.7 s in another, against about 0.1 s for 1,000 in `--quick`) is CPU-bound: while resuming, the machine has no idle time, split between the four surviving nodes, the three load-generator workers reconnecting and the kernel's loopback TCP; one node taking all the resumes, a NATS cluster or the load generator on another machine were not measured.\n";

/// What the TLS scenario's figures rest on (kept with them).
const TLS_NOTES: &str = "\
**Method.** One certificate for both servers: an ECDSA P-256 certificate for `localhost` and `127.0.0.1`, signed by a test CA, both made by rcgen when the scenario starts; the load generator's rustls client trusts that CA only and offers one ALPN protocol per transport (a connection on which the server chose another fails). Both servers use rustls 0.23 with the ring provider, the safe default protocol versions (TLS 1.3 is negotiated) and ALPN `h2` then `http/1.1`. pushwire runs with `--tls-cert`/`--tls-key` and otherwise its defaults (HTTP/2: 256 streams, 64 KiB send buffer per stream, 30 s pings); the axum peer serves its plaintext router through hyper-util's auto builder with hyper's defaults, as `axum::serve` does, behind the same rustls configuration, with Nagle off as pushwire has it. Same events, subscriber counts and rates as section 2. The plaintext rows are measured again in the same run as the baseline: over plaintext pushwire serves event streams on its own lean HTTP/1.1 path, over TLS every connection goes through hyper. The load generator (hyper's client over rustls) shares the two cores and decrypts every event, so at the higher rates it is the bottleneck; the machine was shared with other work while these figures were taken, so compare within a row group.\n\n**What the figures say** (from the `--full` run above; the figures move between runs, the structure does not). Memory: a held connection costs pushwire 27.0 KB over HTTP/1.1+TLS and 32.2 KB over HTTP/2, against 2.6 KB in plaintext: TLS adds 24.4 KB and 29.6 KB per connection. axum adds only 4.7 KB and 9.0 KB because its plaintext connections already go through hyper; over TLS the two servers are within about 10% of each other (27.0 against 25.0 KB, 32.2 against 29.3 KB), so pushwire's plaintext lead (2.6 against 20.3 KB) does not carry over. Where it goes, from the throwaway probe recorded in the team's TLS notes (same crates, 2,000 connections): a TLS handshake alone left 10.1 kB per connection (rustls's connection state and buffers), TLS with hyper's HTTP/1.1 connection 25.1 kB, TLS with an h2 session 28.2 kB; the rest is pushwire's subscriber and the checked service. The lean path is what keeps plaintext at 2.6 KB, and over TLS it is not used: running it over the TLS stream when ALPN picks `http/1.1` would take back the hyper share (about 15 KB), leaving rustls's. Fan-out: up to 1,000 subscribers both servers deliver everything at the offered rate; TLS adds about 1 ms to p50 and 1 to 2 ms to p99 over HTTP/1.1, HTTP/2 about 2 to 3 ms to p50 and up to 9 ms to p99, with pushwire and axum within about 15% of each other in every row. At 10,000 × 100 events/s, where the load generator saturates the cores, pushwire over HTTP/1.1+TLS delivered more per second than in plaintext (924,000 against 631,000) with p99 215 ms (axum: 675,000/s, p99 451 ms): over TLS pushwire's streams go through hyper and rustls rather than its lean path, which writes each event as soon as its subscriber is woken (see \"Where pushwire is behind\"); that fewer, larger writes explain it is likely but was not measured here. Over HTTP/2 at that load pushwire delivered 313,000/s against axum's 443,000/s and used more CPU per delivery (3.44 against 2.58 s per 10⁶), with the lower p99 (249 against 441 ms). Accept rate over TLS was 2,400 to 2,700 connections/s for pushwire and 4,300 to 5,200 for axum in this run (every handshake signs with ECDSA P-256 on the same two cores as the workers' own handshakes); as section 1 says of accept rates, compare it across runs before reading much into it.\n";

/// The servers the TLS scenario compares: pushwire serves TLS itself; the
/// axum peer serves the same router over rustls (`serve-peer axum
/// --tls-cert … --tls-key …`).
const TLS_SERVERS: [Kind; 2] = [Kind::Pushwire, Kind::Axum];

/// The sizes of the TLS scenario.
#[derive(Debug, Clone)]
struct TlsParams {
    connections: usize,
    fan_out_subscribers: Vec<usize>,
    rates: Vec<u64>,
    fan_out_secs: u64,
}

impl TlsParams {
    /// The fan-out's subscriber counts, rates and duration are those of
    /// section 2 (`Params`); held connections as many as `--full` or
    /// `--quick` ask for.
    fn for_cli(cli: &Cli) -> TlsParams {
        let p = Params::for_cli(cli);
        TlsParams {
            connections: if cli.quick { 2_000 } else { p.connections },
            fan_out_subscribers: p.fan_out_subscribers,
            rates: p.rates,
            fan_out_secs: p.fan_out_secs,
        }
    }
}

/// The TLS scenario: a test certificate made now, then connections held
/// and fan-out over plaintext (the baseline), HTTP/1.1 over TLS and HTTP/2
/// over TLS, on pushwire and the axum peer (those of `kinds`).
async fn run_tls(cli: &Cli, kinds: &[Kind]) -> Result<String, String> {
    let p = TlsParams::for_cli(cli);
    let kinds: Vec<Kind> = TLS_SERVERS
        .into_iter()
        .filter(|k| kinds.contains(k))
        .collect();
    let cert = tls::TestCert::generate()?;
    let measured = async {
        let client = std::sync::Arc::new(tls::TlsClient::new(&cert.ca)?);
        let transports = [
            tls::Transport::Plain,
            tls::Transport::Tls {
                h2: false,
                client: client.clone(),
            },
            tls::Transport::Tls { h2: true, client },
        ];
        let args_for = |t: &tls::Transport| match t {
            tls::Transport::Plain => Vec::new(),
            tls::Transport::Tls { .. } => cert.server_args(),
        };
        let mut held = Vec::new();
        for &kind in &kinds {
            for t in &transports {
                eprintln!(
                    "bench: tls, connections held, {} on {} over {}",
                    p.connections,
                    kind.name(),
                    t.name()
                );
                let row =
                    scenarios::connections_over(kind, free_addr()?, p.connections, t, &args_for(t))
                        .await?;
                held.push(report::Over {
                    transport: t.name(),
                    row,
                });
            }
        }
        let mut fan = Vec::new();
        for &subs in &p.fan_out_subscribers {
            for &rate in &p.rates {
                for t in &transports {
                    for &kind in &kinds {
                        eprintln!(
                            "bench: tls, fan-out, {subs} subscribers at {rate}/s on {} over {}",
                            kind.name(),
                            t.name()
                        );
                        let addr = free_addr()?;
                        let args = args_for(t);
                        let row = scenarios::fan_out_over(
                            kind,
                            addr,
                            subs,
                            rate,
                            p.fan_out_secs,
                            t,
                            &args,
                        )
                        .await?;
                        fan.push(report::Over {
                            transport: t.name(),
                            row,
                        });
                    }
                }
            }
        }
        Ok::<_, String>((held, fan))
    }
    .await;
    cert.remove();
    let (held, fan) = measured?;
    Ok(report::tls_section(
        &held,
        &fan,
        tls::Transport::Plain.name(),
        &cli.command_line,
        &machine(),
        &format!("{p:?}"),
        TLS_NOTES,
    ))
}

/// The parameters of a run.
#[derive(Debug, Clone)]
struct Params {
    connections: usize,
    fan_out_subscribers: Vec<usize>,
    rates: Vec<u64>,
    fan_out_secs: u64,
    single_client_events: u64,
    storm_clients: usize,
}

impl Params {
    fn for_cli(cli: &Cli) -> Params {
        if cli.quick {
            Params {
                connections: 1_000,
                fan_out_subscribers: vec![100, 1_000],
                rates: vec![10, 100],
                fan_out_secs: 2,
                single_client_events: 2_000,
                storm_clients: 500,
            }
        } else {
            Params {
                connections: if cli.full { FULL_CONNECTIONS } else { 10_000 },
                fan_out_subscribers: vec![1_000, 10_000],
                rates: vec![10, 100],
                fan_out_secs: 5,
                single_client_events: 10_000,
                storm_clients: 5_000,
            }
        }
    }
}

/// Versions of the crates the servers are built on, from `Cargo.lock` (the
/// benchmark runs from the repository root).
fn versions() -> String {
    let lock = std::fs::read_to_string("Cargo.lock").unwrap_or_default();
    let version_of = |name: &str| {
        let header = format!("name = \"{name}\"\nversion = \"");
        lock.find(&header)
            .and_then(|i| lock[i + header.len()..].split('"').next())
            .unwrap_or("?")
            .to_owned()
    };
    ["warp", "hyper", "tokio", "axum", "hyperlane"]
        .map(|c| format!("{c} {}", version_of(c)))
        .join(", ")
}

fn machine() -> String {
    let read = |p: &str| std::fs::read_to_string(p).unwrap_or_default();
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    let mem = read("/proc/meminfo")
        .lines()
        .next()
        .unwrap_or("")
        .replace("MemTotal:", "")
        .trim()
        .to_owned();
    let kernel = read("/proc/sys/kernel/osrelease").trim().to_owned();
    let cpu = read("/proc/cpuinfo")
        .lines()
        .find_map(|l| {
            l.strip_prefix("model name")
                .map(|v| v.trim_start_matches([' ', '\t', ':']).to_owned())
        })
        .unwrap_or_default();
    let rustc = std::process::Command::new("rustc")
        .arg("--version")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
        .unwrap_or_default();
    format!("{cores} cores ({cpu}), {mem} memory, Linux {kernel}, {rustc}")
}

async fn run(cli: Cli) -> Result<(), String> {
    let kinds: Vec<Kind> = cli
        .servers
        .iter()
        .map(|s| Kind::parse(s))
        .collect::<Result<_, _>>()?;
    for s in &cli.scenarios {
        if !SCENARIOS.contains(&s.as_str()) {
            return Err(format!("unknown scenario {s:?} (known: {SCENARIOS:?})"));
        }
    }
    let wants = |s: &str| cli.scenarios.iter().any(|x| x == s);
    let p = Params::for_cli(&cli);
    if let Ok(limit) = rlimit::increase_nofile_limit(u64::MAX) {
        eprintln!("bench: open-file limit {limit}");
    }

    let mut held = Vec::new();
    for &kind in kinds.iter().filter(|_| wants("held")) {
        eprintln!(
            "bench: connections held, {} on {}",
            p.connections,
            kind.name()
        );
        held.push(scenarios::connections(kind, free_addr()?, p.connections).await?);
    }
    let mut fan = Vec::new();
    for &subs in p.fan_out_subscribers.iter().filter(|_| wants("fan-out")) {
        for &rate in &p.rates {
            for &kind in &kinds {
                eprintln!(
                    "bench: fan-out, {subs} subscribers at {rate}/s on {}",
                    kind.name()
                );
                fan.push(scenarios::fan_out(kind, free_addr()?, subs, rate, p.fan_out_secs).await?);
            }
        }
    }
    // Single-client latency is a few tens of µs, the size of this machine's
    // scheduling noise: run it in rounds, alternating servers, and keep
    // each server's median round.
    let mut rounds: Vec<Vec<scenarios::Latency>> = vec![Vec::new(); kinds.len()];
    for round in 1..=SINGLE_CLIENT_ROUNDS {
        for (i, &kind) in kinds.iter().enumerate().filter(|_| wants("single")) {
            eprintln!(
                "bench: single client, {} events on {} (round {round} of {SINGLE_CLIENT_ROUNDS})",
                p.single_client_events,
                kind.name()
            );
            rounds[i]
                .push(scenarios::single_client(kind, free_addr()?, p.single_client_events).await?);
        }
    }
    let single: Vec<scenarios::Latency> = rounds
        .into_iter()
        .filter_map(|mut r| {
            let every: Vec<(u64, f64)> = r.iter().map(|l| (l.p99, l.steal_percent)).collect();
            r.sort_by_key(|l| l.p50);
            let mid = r.len() / 2;
            (!r.is_empty()).then(|| scenarios::Latency {
                rounds: every,
                ..r.swap_remove(mid)
            })
        })
        .collect();
    let mut storm = Vec::new();
    for &kind in kinds.iter().filter(|_| wants("storm")) {
        eprintln!(
            "bench: reconnect storm, {} clients on {}",
            p.storm_clients,
            kind.name()
        );
        storm.push(scenarios::reconnect_storm(kind, free_addr()?, p.storm_clients).await?);
    }
    let tls_section = if wants("tls") {
        Some(run_tls(&cli, &kinds).await?)
    } else {
        None
    };
    let cluster_section = if wants("cluster") {
        let cp = cluster::ClusterParams::new(cli.quick, cli.full);
        let measured = cluster::run(&cp).await?;
        Some(report::cluster_section(
            &measured,
            &cli.command_line,
            &machine(),
            CLUSTER_NOTES,
        ))
    } else {
        None
    };
    let sweep_section = if wants("sweep") {
        let mut sp = sweep::SweepParams::new(cli.quick);
        if !cli.points.is_empty() {
            sp.points.clone_from(&cli.points);
        }
        sp.rounds = cli.rounds.unwrap_or(sp.rounds).max(1);
        sp.secs = cli.secs.unwrap_or(sp.secs).max(1);
        let runs = sweep::run(&sp, &kinds).await?;
        let svg_path = cli.out.replace(".md", "-sweep.svg");
        std::fs::write(&svg_path, sweep::svg(&runs))
            .map_err(|e| format!("cannot write {svg_path}: {e}"))?;
        let svg_name = std::path::Path::new(&svg_path)
            .file_name()
            .map_or(svg_path.clone(), |n| n.to_string_lossy().into_owned());
        Some(sweep::section(
            &sp,
            &runs,
            &cli.command_line,
            &machine(),
            &svg_name,
        ))
    } else {
        None
    };
    // Sections not measured in this run are kept from the existing report.
    let existing = std::fs::read_to_string(&cli.out).unwrap_or_default();
    let kept = [
        (report::CLUSTER_HEADING, cluster_section),
        (report::TLS_HEADING, tls_section),
        (sweep::HEADING, sweep_section),
    ];
    if !PEER_SCENARIOS.iter().any(|s| wants(s)) {
        let mut report = existing;
        for (heading, section) in kept.iter() {
            let Some(section) = section else { continue };
            report = report::splice_section(&report, heading, section);
            #[allow(clippy::print_stdout)]
            {
                println!("{section}");
            }
            eprintln!("bench: wrote the section {heading:?} of {}", cli.out);
        }
        std::fs::write(&cli.out, &report).map_err(|e| format!("cannot write {}: {e}", cli.out))?;
        return Ok(());
    }

    let svg_path = cli.out.replace(".md", "-latency.svg");
    let svg_name = std::path::Path::new(&svg_path)
        .file_name()
        .map_or(svg_path.clone(), |n| n.to_string_lossy().into_owned());
    let report = format!(
        "# Benchmarks\n\nGenerated by `{}` — pushwire against peer SSE servers, each run in its own process on the same machine, one after another, by the load generator in `bench/` (which parses every stream with `pushwire-protocol`).\n\nServers: pushwire (release build, default settings but 15 s heartbeats); axum `Sse` over a tokio `broadcast` channel; hyperlane's documented `SseRoute` pattern over a `broadcast` channel; and warp's naive `sse_chat` pattern (one unbounded channel per user). The peers live in `bench/src/peers/`.

How to read this: the load generator shares the machine's cores with the server under test, so at the higher rates it is the bottleneck and the latencies include its own queueing; compare servers within a row group, not against absolute targets. CPU per delivery and latency trade against each other: a server that answers later finds more events waiting and writes more of them per system call. The connections-held scenario opens its sockets from worker processes (`pushwire-bench hold`, at most 9,000 each), since one process may open at most 20,000 files; RSS is the server's, from `/proc`, after every connection is established.\n\n**Machine:** {}.\n\n**Versions:** pushwire {}; {}.\n\n**Parameters:** {:?}.\n\n## Targets\n\n{}\n## 1. Connections held\n\n{}\n## 2. Fan-out\n\nLatency is from when an event was due to when a subscriber parsed it, on one clock: events are due at a steady pace, and the time a slow answer to a publish holds the one publisher (on a thread of its own) past an event's due time is charged to the server (coordinated omission; see section 7).\n\n{}\n![latency percentiles]({svg_name})\n\n## 3. Single-client latency\n\nOne subscriber; events published one at a time at 2,000/s. Each server ran {} rounds, alternating with the others; the table shows its median round (by p50), and every round's p99 with the hypervisor's steal during it (the share of the machine's CPU time given to other guests, from `/proc/stat`): this machine is a virtual one, and a stolen millisecond delays every event in flight, so compare p99s at similar steal.\n\n{}\n## 4. Reconnect storm\n\nEvery client drops at once and resumes with Last-Event-ID while {} events/s are published.\n\n{}\n## Where pushwire is behind, and why\n\n{}",
        cli.command_line,
        machine(),
        env!("CARGO_PKG_VERSION"),
        versions(),
        p,
        report::targets_table(&held, &fan),
        report::held_table(&held),
        report::fan_out_table(&fan),
        SINGLE_CLIENT_ROUNDS,
        report::latency_table(&single),
        scenarios::STORM_RATE,
        report::storm_table(&storm),
        BEHIND,
    );
    let mut report = report;
    for (heading, section) in &kept {
        if let Some(section) = section
            .as_deref()
            .or_else(|| report::section_of(&existing, heading))
        {
            report = report::splice_section(&report, heading, section);
        }
    }
    std::fs::write(&cli.out, &report).map_err(|e| format!("cannot write {}: {e}", cli.out))?;
    std::fs::write(&svg_path, report::latency_svg(&fan))
        .map_err(|e| format!("cannot write {svg_path}: {e}"))?;
    #[allow(clippy::print_stdout)]
    {
        println!("{report}");
    }
    eprintln!("bench: wrote {} and {svg_path}", cli.out);
    Ok(())
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("bench: {e}");
            return ExitCode::FAILURE;
        }
    };
    let result = runtime.block_on(async move {
        match cli.command {
            Some(Command::ServePeer {
                peer,
                addr,
                tls_cert,
                tls_key,
            }) => match Kind::parse(&peer)? {
                Kind::Axum => match (tls_cert, tls_key) {
                    (Some(cert), Some(key)) => peers::axum_peer::serve_tls(addr, &cert, &key).await,
                    _ => peers::axum_peer::serve(addr)
                        .await
                        .map_err(|e| e.to_string()),
                },
                _ if tls_cert.is_some() => Err(format!("{peer} has no TLS variant here")),
                Kind::Hyperlane => peers::hyperlane_peer::serve(addr).await,
                Kind::Warp => {
                    peers::warp_peer::serve(addr).await;
                    Ok(())
                }
                Kind::Pushwire => Err("pushwire is not a peer: it is its own binary".into()),
            },
            Some(Command::ServeFloor) => floor::serve().await,
            Some(Command::Hold {
                addr,
                kind,
                n,
                first_source,
                failover,
                failover_source,
                tls_ca,
                h2,
            }) => {
                let kind = Kind::parse(&kind)?;
                let transport = tls::Transport::from_worker_args(tls_ca.as_deref(), h2)?;
                let _ = rlimit::increase_nofile_limit(u64::MAX);
                workers::hold(
                    addr,
                    kind,
                    n,
                    first_source,
                    failover,
                    failover_source,
                    transport,
                )
                .await;
                Ok(())
            }
            None => run(cli).await,
        }
    });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("bench: {e}");
            ExitCode::FAILURE
        }
    }
}
