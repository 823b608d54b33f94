//! Load-generator processes for the connections-held scenario.
//!
//! One process may open at most 20,000 files (the hard limit here cannot be
//! raised), so a crowd as large as the server's ceiling has to come from
//! several processes. The benchmark starts `pushwire-bench hold …` workers,
//! each holding up to [`CONNECTIONS_PER_WORKER`] subscriptions from its own
//! source addresses. A worker prints its counts (see [`FIELDS`]) whenever
//! they change; takes `mark SLOT SEQ` (see [`Shared::mark`]) and `from SEQ`
//! lines on stdin, reporting at once after each; and disconnects
//! everything, prints its final counts and exits when its stdin closes (so
//! it also stops if the benchmark itself dies).
//!
//! With `--failover`, a subscriber whose stream ends (its server was
//! killed) reconnects at once to one of the failover servers with its
//! `Last-Event-ID`, from a second range of source addresses: the cluster's
//! reconnect storm.

use std::net::SocketAddr;
use std::process::Stdio;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::Arc;
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::process::{Child, ChildStdin, Command};
use tokio::sync::{watch, Notify, Semaphore};
use tokio::task::JoinHandle;

use crate::loadgen::{self, Progress, Shared, CONNECTING_AT_ONCE, MARKS};
use crate::target::Kind;
use crate::tls::Transport;

/// Subscriptions per worker process: well under the per-process file limit.
pub const CONNECTIONS_PER_WORKER: usize = 9_000;
/// How often a worker reports its counts (only when they changed).
const REPORT_EVERY: Duration = Duration::from_millis(100);
/// Longest a worker may take to disconnect and exit once told to.
const EXIT_TIMEOUT: Duration = Duration::from_secs(30);
/// Longest the workers may take to confirm a command.
const COMMAND_TIMEOUT: Duration = Duration::from_secs(10);
/// Connection attempts a failing-over subscriber makes at most.
const FAILOVER_ATTEMPTS: usize = 20;
/// Pause before a failing-over subscriber tries the next server after a refusal.
const FAILOVER_PAUSE: Duration = Duration::from_millis(100);

/// The counts a worker reports, in the order of its report lines: first
/// the ones summed over the workers of a crowd ([`SUMMED`] of them), then
/// times in µs since the epoch, of which the crowd keeps the latest.
pub const FIELDS: [&str; 13] = [
    "connected",
    "failed",
    "ended",
    "delivered",
    "lost",
    "duplicates",
    "resets",
    "past0",
    "past1",
    "commands",
    "last_connect_us",
    "past0_at_us",
    "past1_at_us",
];

/// How many of [`FIELDS`] are counts (summed); the rest are times (latest kept).
const SUMMED: usize = 10;

/// The counts of every worker of a crowd, summed (in [`FIELDS`] order).
#[derive(Debug, Default)]
pub struct CrowdCounts {
    pub connected: AtomicU64,
    pub failed: AtomicU64,
    pub ended: AtomicU64,
    pub delivered: AtomicU64,
    pub lost: AtomicU64,
    pub duplicates: AtomicU64,
    pub resets: AtomicU64,
    /// Subscribers past each mark (see [`Shared::mark`]).
    pub past: [AtomicU64; MARKS],
    /// Commands (`mark`, `from`) the workers have carried out: a worker
    /// reports at once after each, which is how [`WorkerCrowd`] knows every
    /// worker has it.
    pub commands: AtomicU64,
    /// When the latest connection of any worker was accepted (µs since the epoch).
    pub last_connect_us: AtomicU64,
    /// When the last subscriber of any worker passed each mark (µs since the epoch).
    pub past_at_us: [AtomicU64; MARKS],
    /// Signalled whenever a worker reports.
    pub progress: Notify,
}

impl CrowdCounts {
    fn fields(&self) -> [&AtomicU64; FIELDS.len()] {
        [
            &self.connected,
            &self.failed,
            &self.ended,
            &self.delivered,
            &self.lost,
            &self.duplicates,
            &self.resets,
            &self.past[0],
            &self.past[1],
            &self.commands,
            &self.last_connect_us,
            &self.past_at_us[0],
            &self.past_at_us[1],
        ]
    }

    /// A count as a number of subscribers.
    pub fn get(field: &AtomicU64) -> usize {
        field.load(Relaxed) as usize
    }
}

/// A crowd of subscribers held by worker processes.
#[derive(Debug)]
pub struct WorkerCrowd {
    workers: Vec<(Child, ChildStdin)>,
    followers: Vec<JoinHandle<()>>,
    pub counts: Arc<CrowdCounts>,
}

impl WorkerCrowd {
    /// Starts enough workers for `n` subscriptions to `server`.
    pub fn start(server: SocketAddr, kind: Kind, n: usize) -> Result<WorkerCrowd, String> {
        WorkerCrowd::start_with_failover(server, kind, n, &[], &Transport::Plain)
    }

    /// Starts enough workers for `n` subscriptions to `server` over `transport`.
    pub fn start_over(
        server: SocketAddr,
        kind: Kind,
        n: usize,
        transport: &Transport,
    ) -> Result<WorkerCrowd, String> {
        WorkerCrowd::start_with_failover(server, kind, n, &[], transport)
    }

    /// Starts enough workers for `n` subscriptions to `server`; when a
    /// stream ends, its subscriber resumes on one of `failover` (none: it
    /// stays ended).
    pub fn start_with_failover(
        server: SocketAddr,
        kind: Kind,
        n: usize,
        failover: &[SocketAddr],
        transport: &Transport,
    ) -> Result<WorkerCrowd, String> {
        let exe = std::env::current_exe().map_err(|e| e.to_string())?;
        let counts = Arc::new(CrowdCounts::default());
        let mut workers = Vec::new();
        let mut followers = Vec::new();
        let mut left = n;
        while left > 0 {
            let share = left.min(CONNECTIONS_PER_WORKER);
            left -= share;
            let first_source = loadgen::reserve_sources(share);
            let mut args = vec![
                "hold".to_owned(),
                server.to_string(),
                kind.peer_name().to_owned(),
                share.to_string(),
                first_source.to_string(),
            ];
            args.extend(transport.worker_args());
            if !failover.is_empty() {
                let list: Vec<String> = failover.iter().map(ToString::to_string).collect();
                args.extend([
                    "--failover".to_owned(),
                    list.join(","),
                    "--failover-source".to_owned(),
                    loadgen::reserve_sources(share).to_string(),
                ]);
            }
            let mut child = Command::new(&exe)
                .args(&args)
                .stdin(Stdio::piped())
                .stdout(Stdio::piped())
                .stderr(Stdio::inherit())
                .kill_on_drop(true)
                .spawn()
                .map_err(|e| format!("cannot start a load-generator worker: {e}"))?;
            let (Some(stdin), Some(stdout)) = (child.stdin.take(), child.stdout.take()) else {
                return Err("worker without pipes".into());
            };
            followers.push(tokio::spawn(follow(stdout, counts.clone())));
            workers.push((child, stdin));
        }
        Ok(WorkerCrowd {
            workers,
            followers,
            counts,
        })
    }

    /// Sets mark `slot` to `seq` in every worker (see [`Shared::mark`]);
    /// returns once every worker has it.
    pub async fn mark(&mut self, slot: usize, seq: u64) -> Result<(), String> {
        self.command(&format!("mark {slot} {seq}")).await
    }

    /// Tells every worker that each of its subscribers must have every
    /// event from `seq` on (what its final `lost` counts against);
    /// returns once every worker has it.
    pub async fn expect_from(&mut self, seq: u64) -> Result<(), String> {
        self.command(&format!("from {seq}")).await
    }

    /// Sends `line` to every worker and waits until each has carried it out.
    async fn command(&mut self, line: &str) -> Result<(), String> {
        let c = self.counts.clone();
        let done = c.commands.load(Relaxed) + self.workers.len() as u64;
        for (_, stdin) in &mut self.workers {
            let sent = async {
                stdin.write_all(format!("{line}\n").as_bytes()).await?;
                stdin.flush().await
            };
            sent.await
                .map_err(|e| format!("a worker did not take {line:?}: {e}"))?;
        }
        let deadline = tokio::time::Instant::now() + COMMAND_TIMEOUT;
        if loadgen::wait_for(&c.progress, deadline, || c.commands.load(Relaxed) >= done).await {
            Ok(())
        } else {
            Err(format!("the workers did not confirm {line:?} in time"))
        }
    }

    /// Waits until every subscription connected or failed, or `deadline`.
    pub async fn wait_connected(&self, n: usize, deadline: tokio::time::Instant) {
        let c = &self.counts;
        loadgen::wait_for(&c.progress, deadline, || {
            CrowdCounts::get(&c.connected) + CrowdCounts::get(&c.failed) >= n
        })
        .await;
    }

    /// Tells every worker to disconnect and waits for them to exit and for
    /// their final counts (which include the events still missing at the
    /// last mark, as lost).
    pub async fn stop(self) {
        let mut children = Vec::new();
        for (child, stdin) in self.workers {
            drop(stdin);
            children.push(child);
        }
        for mut child in children {
            if tokio::time::timeout(EXIT_TIMEOUT, child.wait())
                .await
                .is_err()
            {
                let _ = child.kill().await;
            }
        }
        for follower in self.followers {
            let _ = follower.await;
        }
    }
}

/// Adds one worker's reports into `counts` (each report replaces the last).
async fn follow(stdout: tokio::process::ChildStdout, counts: Arc<CrowdCounts>) {
    let mut lines = BufReader::new(stdout).lines();
    let mut last = [0u64; FIELDS.len()];
    while let Ok(Some(line)) = lines.next_line().await {
        let now: Vec<u64> = line
            .split_whitespace()
            .filter_map(|f| f.parse().ok())
            .collect();
        if now.len() != FIELDS.len() {
            continue;
        }
        for (i, ((total, &new), old)) in counts
            .fields()
            .into_iter()
            .zip(&now)
            .zip(&mut last)
            .enumerate()
        {
            if i < SUMMED {
                // Counts only grow (the final `lost` replaces the running
                // one and is never smaller); never below what was added.
                total.fetch_add(new.saturating_sub(*old), Relaxed);
                *old = new.max(*old);
            } else {
                total.fetch_max(new, Relaxed);
            }
        }
        counts.progress.notify_waiters();
    }
}

/// One report line of a worker: its counts in [`FIELDS`] order.
fn report_line(shared: &Shared, commands: u64) -> String {
    let now: [u64; FIELDS.len()] = [
        shared.connected.load(Relaxed) as u64,
        shared.failed.load(Relaxed) as u64,
        shared.ended.load(Relaxed) as u64,
        shared.delivered.load(Relaxed),
        shared.lost.load(Relaxed),
        shared.duplicates.load(Relaxed),
        shared.resets.load(Relaxed),
        shared.past[0].load(Relaxed) as u64,
        shared.past[1].load(Relaxed) as u64,
        commands,
        shared.last_connect_us.load(Relaxed),
        shared.past_at_us[0].load(Relaxed),
        shared.past_at_us[1].load(Relaxed),
    ];
    let mut line = now.map(|v| v.to_string()).join(" ");
    line.push('\n');
    line
}

/// One subscriber of a failing-over crowd: follows `server` and, once its
/// stream there ends, resumes on the failover servers (starting with its
/// own share of them) until stopped or out of attempts.
#[allow(clippy::too_many_arguments)]
async fn follow_with_failover(
    i: usize,
    server: SocketAddr,
    failover: Arc<Vec<SocketAddr>>,
    sources: (u32, u32),
    kind: Kind,
    transport: Arc<Transport>,
    shared: Arc<Shared>,
    stop: watch::Receiver<bool>,
    gate: Arc<Semaphore>,
) -> Progress {
    let permit = gate.clone().acquire_owned().await.ok();
    let source = loadgen::source_for(sources.0, i);
    let mut progress = loadgen::subscribe(
        server,
        kind,
        &transport,
        source,
        None,
        shared.clone(),
        stop.clone(),
        permit,
    )
    .await;
    if progress.connections == 0 || failover.is_empty() {
        return progress;
    }
    let source = loadgen::source_for(sources.1, i);
    for attempt in 0..FAILOVER_ATTEMPTS {
        if *stop.borrow() {
            break;
        }
        let next = failover[(i + attempt) % failover.len()];
        let before = progress.connections;
        let permit = gate.clone().acquire_owned().await.ok();
        progress = loadgen::subscribe(
            next,
            kind,
            &transport,
            source,
            Some(progress),
            shared.clone(),
            stop.clone(),
            permit,
        )
        .await;
        if progress.connections == before {
            tokio::time::sleep(FAILOVER_PAUSE).await;
        }
    }
    progress
}

/// The worker itself (`pushwire-bench hold SERVER KIND N FIRST_SOURCE
/// [--failover SERVERS --failover-source FIRST] [--tls-ca FILE [--h2]]`).
pub async fn hold(
    server: SocketAddr,
    kind: Kind,
    n: usize,
    first_source: u32,
    failover: Vec<SocketAddr>,
    failover_source: u32,
    transport: Transport,
) {
    loadgen::skip_sources_to(first_source.max(failover_source));
    let shared = Arc::new(Shared::default());
    let (stop, stop_rx) = watch::channel(false);
    let gate = Arc::new(Semaphore::new(CONNECTING_AT_ONCE));
    let failover = Arc::new(failover);
    let transport = Arc::new(transport);
    let tasks: Vec<JoinHandle<Progress>> = (0..n)
        .map(|i| {
            tokio::spawn(follow_with_failover(
                i,
                server,
                failover.clone(),
                (first_source, failover_source),
                kind,
                transport.clone(),
                shared.clone(),
                stop_rx.clone(),
                gate.clone(),
            ))
        })
        .collect();
    let mut stdout = tokio::io::stdout();
    let mut stdin = BufReader::new(tokio::io::stdin()).lines();
    let mut reported = String::new();
    let mut commands = 0u64;
    let mut ticker = tokio::time::interval(REPORT_EVERY);
    loop {
        let command = tokio::select! {
            line = stdin.next_line() => {
                let Ok(Some(line)) = line else {
                    break;
                };
                let words: Vec<&str> = line.split_whitespace().collect();
                match words[..] {
                    ["mark", slot, seq] => {
                        if let (Ok(slot), Ok(seq)) = (slot.parse::<usize>(), seq.parse()) {
                            if slot < MARKS {
                                shared.mark(slot, seq);
                            }
                        }
                    }
                    ["from", seq] => {
                        if let Ok(seq) = seq.parse() {
                            shared.from.store(seq, Relaxed);
                        }
                    }
                    _ => {}
                }
                commands += 1;
                true
            }
            _ = ticker.tick() => false,
        };
        // At once after a command (the benchmark waits for it), else when changed.
        let line = report_line(&shared, commands);
        if command || line != reported {
            if stdout.write_all(line.as_bytes()).await.is_err() || stdout.flush().await.is_err() {
                break;
            }
            reported = line;
        }
    }
    let _ = stop.send(true);
    // Events up to the last mark that a subscriber never got are lost:
    // with `from` set, every event from it to the mark, each received once
    // (a duplicate or an event out of order is not received); without it,
    // the events after the subscriber's last.
    let last = shared.marks[MARKS - 1].load(Relaxed);
    let from = shared.from.load(Relaxed);
    let mut lost = 0;
    for task in tasks {
        if let Ok(p) = task.await {
            if last > 0 && p.connections > 0 {
                lost += if from > 0 {
                    (last + 1).saturating_sub(from).saturating_sub(p.received)
                } else {
                    last.saturating_sub(p.next_seq.saturating_sub(1))
                };
            }
        }
    }
    if from > 0 {
        shared.lost.store(lost, Relaxed);
    } else {
        shared.lost.fetch_add(lost, Relaxed);
    }
    let _ = stdout
        .write_all(report_line(&shared, commands).as_bytes())
        .await;
    let _ = stdout.flush().await;
}
