//! Load-generator processes for the connections-held scenario.
//!
//! One process may open at most 20,000 files (the hard limit here cannot be
//! raised), so a crowd as large as the server's ceiling has to come from
//! several processes. The benchmark starts `pushwire-bench hold …` workers,
//! each holding up to [`CONNECTIONS_PER_WORKER`] subscriptions from its own
//! source addresses. A worker prints `connected failed ended` whenever the
//! counts change and disconnects everything and exits when its stdin closes
//! (so it also stops if the benchmark itself dies).

use std::net::SocketAddr;
use std::process::Stdio;
use std::sync::atomic::{AtomicUsize, Ordering::Relaxed};
use std::sync::Arc;
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::process::{Child, ChildStdin, Command};
use tokio::sync::{watch, Notify};

use crate::loadgen::{self, Shared};
use crate::target::Kind;

/// Subscriptions per worker process: well under the per-process file limit.
pub const CONNECTIONS_PER_WORKER: usize = 9_000;
/// How often a worker reports its counts (only when they changed).
const REPORT_EVERY: Duration = Duration::from_millis(100);
/// Longest a worker may take to disconnect and exit once told to.
const EXIT_TIMEOUT: Duration = Duration::from_secs(30);

/// The counts of every worker of a crowd, summed.
#[derive(Debug, Default)]
pub struct CrowdCounts {
    pub connected: AtomicUsize,
    pub failed: AtomicUsize,
    pub ended: AtomicUsize,
    /// Signalled whenever a worker reports.
    pub progress: Notify,
}

/// A crowd of subscribers held by worker processes.
#[derive(Debug)]
pub struct WorkerCrowd {
    workers: Vec<(Child, ChildStdin)>,
    pub counts: Arc<CrowdCounts>,
}

impl WorkerCrowd {
    /// Starts enough workers for `n` subscriptions to `server`.
    pub fn start(server: SocketAddr, kind: Kind, n: usize) -> Result<WorkerCrowd, String> {
        let exe = std::env::current_exe().map_err(|e| e.to_string())?;
        let counts = Arc::new(CrowdCounts::default());
        let mut workers = Vec::new();
        let mut left = n;
        while left > 0 {
            let share = left.min(CONNECTIONS_PER_WORKER);
            left -= share;
            let first_source = loadgen::reserve_sources(share);
            let mut child = Command::new(&exe)
                .args([
                    "hold",
                    &server.to_string(),
                    kind.peer_name(),
                    &share.to_string(),
                    &first_source.to_string(),
                ])
                .stdin(Stdio::piped())
                .stdout(Stdio::piped())
                .stderr(Stdio::inherit())
                .kill_on_drop(true)
                .spawn()
                .map_err(|e| format!("cannot start a load-generator worker: {e}"))?;
            let (Some(stdin), Some(stdout)) = (child.stdin.take(), child.stdout.take()) else {
                return Err("worker without pipes".into());
            };
            tokio::spawn(follow(stdout, counts.clone()));
            workers.push((child, stdin));
        }
        Ok(WorkerCrowd { workers, counts })
    }

    /// Waits until every subscription connected or failed, or `deadline`.
    pub async fn wait_connected(&self, n: usize, deadline: tokio::time::Instant) {
        let c = &self.counts;
        loadgen::wait_for(&c.progress, deadline, || {
            c.connected.load(Relaxed) + c.failed.load(Relaxed) >= n
        })
        .await;
    }

    /// Tells every worker to disconnect and waits for them to exit.
    pub async fn stop(self) {
        for (mut child, stdin) in self.workers {
            drop(stdin);
            if tokio::time::timeout(EXIT_TIMEOUT, child.wait())
                .await
                .is_err()
            {
                let _ = child.kill().await;
            }
        }
    }
}

/// Adds one worker's reports into `counts` (each report replaces the last).
async fn follow(stdout: tokio::process::ChildStdout, counts: Arc<CrowdCounts>) {
    let mut lines = BufReader::new(stdout).lines();
    let mut last = [0usize; 3];
    while let Ok(Some(line)) = lines.next_line().await {
        let now: Vec<usize> = line
            .split_whitespace()
            .filter_map(|f| f.parse().ok())
            .collect();
        let [connected, failed, ended] = now[..] else {
            continue;
        };
        for (total, (new, old)) in [&counts.connected, &counts.failed, &counts.ended]
            .into_iter()
            .zip([connected, failed, ended].into_iter().zip(last))
        {
            total.fetch_add(new.saturating_sub(old), Relaxed);
        }
        last = [connected, failed, ended];
        counts.progress.notify_waiters();
    }
}

/// The worker itself (`pushwire-bench hold SERVER KIND N FIRST_SOURCE`).
pub async fn hold(server: SocketAddr, kind: Kind, n: usize, first_source: u32) {
    loadgen::skip_sources_to(first_source);
    let shared = Arc::new(Shared::default());
    let (stop, stop_rx) = watch::channel(false);
    let tasks = loadgen::spawn_subscribers(server, kind, vec![None; n], &shared, &stop_rx);
    let mut stdout = tokio::io::stdout();
    let mut stdin = tokio::io::stdin();
    let mut sink = [0u8; 64];
    let mut reported = [usize::MAX; 3];
    let mut ticker = tokio::time::interval(REPORT_EVERY);
    loop {
        tokio::select! {
            read = stdin.read(&mut sink) => {
                if matches!(read, Ok(0) | Err(_)) {
                    break;
                }
            }
            _ = ticker.tick() => {
                let now = [
                    shared.connected.load(Relaxed),
                    shared.failed.load(Relaxed),
                    shared.ended.load(Relaxed),
                ];
                if now != reported {
                    reported = now;
                    let line = format!("{} {} {}\n", now[0], now[1], now[2]);
                    if stdout.write_all(line.as_bytes()).await.is_err()
                        || stdout.flush().await.is_err()
                    {
                        break;
                    }
                }
            }
        }
    }
    let _ = stop.send(true);
    for task in tasks {
        let _ = task.await;
    }
}
