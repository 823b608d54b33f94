//! The servers under test: each runs as its own process, so its memory and
//! CPU time can be read from `/proc`, and it can be restarted between
//! scenarios for a clean start.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::Stdio;
use std::time::Duration;

use tokio::process::{Child, Command};

/// Which server.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Pushwire,
    Axum,
    Hyperlane,
    Warp,
}

impl Kind {
    pub fn name(self) -> &'static str {
        match self {
            Kind::Pushwire => "pushwire",
            Kind::Axum => "axum Sse + broadcast",
            Kind::Hyperlane => "hyperlane SSE + broadcast",
            Kind::Warp => "warp, naive (sse_chat)",
        }
    }

    /// Every server, in report order.
    pub const ALL: [Kind; 4] = [Kind::Pushwire, Kind::Axum, Kind::Hyperlane, Kind::Warp];

    /// The server `--servers`, `serve-peer` and `hold` call `s`.
    pub fn parse(s: &str) -> Result<Kind, String> {
        Kind::ALL
            .into_iter()
            .find(|k| k.peer_name() == s)
            .ok_or_else(|| format!("unknown server {s:?}"))
    }

    /// The name `serve-peer` and `--servers` know it by.
    pub fn peer_name(self) -> &'static str {
        match self {
            Kind::Pushwire => "pushwire",
            Kind::Axum => "axum",
            Kind::Hyperlane => "hyperlane",
            Kind::Warp => "warp",
        }
    }

    /// Path of the SSE subscription.
    pub fn subscribe_path(self) -> &'static str {
        match self {
            Kind::Pushwire => "/sse/subscribe?topic=bench",
            Kind::Axum | Kind::Hyperlane | Kind::Warp => "/sse",
        }
    }
}

/// A loopback address no socket is bound to now, picked by the kernel.
///
/// Why not a computed port: a sweep once lost 6 of its 20 minutes when a
/// server could not listen on the port computed for it (127.0.0.1:42010)
/// and the whole run stopped; the kernel's pick is free when it is made.
pub fn free_addr() -> Result<SocketAddr, String> {
    Ok(free_addrs(1)?[0])
}

/// `n` distinct free loopback addresses (each held until all are picked, so
/// the kernel cannot hand out one twice).
pub fn free_addrs(n: usize) -> Result<Vec<SocketAddr>, String> {
    let held = (0..n)
        .map(|_| std::net::TcpListener::bind("127.0.0.1:0"))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| format!("no free loopback port: {e}"))?;
    held.iter()
        .map(|l| l.local_addr())
        .collect::<Result<_, _>>()
        .map_err(|e| format!("no free loopback port: {e}"))
}

/// A running server.
#[derive(Debug)]
pub struct Target {
    child: Child,
}

fn pushwire_binary() -> PathBuf {
    // The release build next to this binary.
    std::env::current_exe()
        .ok()
        .and_then(|p| p.parent().map(|d| d.join("pushwire")))
        .unwrap_or_else(|| PathBuf::from("target/release/pushwire"))
}

impl Target {
    /// Starts `kind` on `addr` and waits until it accepts connections.
    pub async fn start(kind: Kind, addr: SocketAddr, connections: usize) -> Result<Target, String> {
        Target::start_with(kind, addr, connections, &[]).await
    }

    /// Starts a pushwire node of a cluster on `nats` and waits until it is
    /// ready (`/readyz`: it has opened the stream).
    pub async fn start_node(
        addr: SocketAddr,
        connections: usize,
        nats: &str,
        name: &str,
    ) -> Result<Target, String> {
        let args = ["--nats", nats, "--node-name", name].map(str::to_owned);
        let target = Target::start_with(Kind::Pushwire, addr, connections, &args).await?;
        for _ in 0..400 {
            if ready(addr).await {
                return Ok(target);
            }
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
        Err(format!("node {name} on {addr} did not become ready"))
    }

    /// Starts `kind` on `addr` with `extra` flags and waits
    /// until it accepts connections.
    pub async fn start_with(
        kind: Kind,
        addr: SocketAddr,
        connections: usize,
        extra: &[String],
    ) -> Result<Target, String> {
        let mut cmd = match kind {
            Kind::Pushwire => {
                let mut c = Command::new(pushwire_binary());
                c.args([
                    "--addr",
                    &addr.to_string(),
                    "--max-connections",
                    &(connections + 100).to_string(),
                ]);
                c.args(extra);
                c.args([
                    "--heartbeat-ms",
                    "15000",
                    "--monitoring-ms",
                    "60000",
                    "--max-topics",
                    "16",
                ]);
                c
            }
            Kind::Axum | Kind::Hyperlane | Kind::Warp => {
                let mut c = Command::new(std::env::current_exe().map_err(|e| e.to_string())?);
                c.args(["serve-peer", kind.peer_name(), &addr.to_string()]);
                c.args(extra);
                c
            }
        };
        cmd.env("RUST_LOG", "warn")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .kill_on_drop(true);
        let child = cmd
            .spawn()
            .map_err(|e| format!("cannot start {}: {e}", kind.name()))?;
        let mut target = Target { child };
        listening(&mut target.child, addr, kind.name(), SERVER_START).await?;
        Ok(target)
    }

    fn pid(&self) -> Option<u32> {
        self.child.id()
    }

    /// SIGKILLs the server and waits until it is gone.
    pub async fn kill(&mut self) {
        let _ = self.child.kill().await;
    }

    /// Resident memory in bytes, from /proc.
    pub fn rss_bytes(&self) -> u64 {
        rss_of(self.pid())
    }

    /// User + system CPU time in seconds, from /proc.
    pub fn cpu_seconds(&self) -> f64 {
        self.cpu_time().total()
    }

    /// User and system CPU time, from /proc.
    pub fn cpu_time(&self) -> CpuTime {
        cpu_time_of(self.pid().unwrap_or(0))
    }

    pub async fn stop(mut self) {
        let _ = self.child.kill().await;
    }
}

/// Resident memory of process `pid` in bytes, from /proc (0 if gone).
fn rss_of(pid: Option<u32>) -> u64 {
    let status =
        std::fs::read_to_string(format!("/proc/{}/status", pid.unwrap_or(0))).unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        .map_or(0, |kb| kb * 1024)
}

/// Longest a server may take to start listening.
const SERVER_START: Duration = Duration::from_secs(5);
/// Longest `nats-server` may take (it opens its JetStream store first).
const NATS_START: Duration = Duration::from_secs(10);

/// Waits up to `within` until `child` (`name`) accepts connections on
/// `addr`; says so at once when it exits first (a port taken, a bad flag).
async fn listening(
    child: &mut Child,
    addr: SocketAddr,
    name: &str,
    within: Duration,
) -> Result<(), String> {
    const EVERY: Duration = Duration::from_millis(25);
    for _ in 0..within.as_millis() / EVERY.as_millis() {
        if tokio::net::TcpStream::connect(addr).await.is_ok() {
            return Ok(());
        }
        if let Ok(Some(status)) = child.try_wait() {
            return Err(format!(
                "{name} exited ({status}) before listening on {addr}"
            ));
        }
        tokio::time::sleep(EVERY).await;
    }
    Err(format!("{name} did not start listening on {addr}"))
}

/// Whether `GET /readyz` on `addr` answers 200.
async fn ready(addr: SocketAddr) -> bool {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let Ok(mut stream) = tokio::net::TcpStream::connect(addr).await else {
        return false;
    };
    let request = format!("GET /readyz HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n");
    if stream.write_all(request.as_bytes()).await.is_err() {
        return false;
    }
    let mut head = [0u8; 12];
    let read = tokio::time::timeout(Duration::from_secs(2), stream.read_exact(&mut head)).await;
    matches!(read, Ok(Ok(_))) && head.starts_with(b"HTTP/1.1 200")
}

/// A `nats-server -js` on loopback with a temporary store, removed on stop.
#[derive(Debug)]
pub struct Nats {
    child: Child,
    store: PathBuf,
    pub url: String,
}

impl Nats {
    /// Starts `nats-server` (from `PATH`) on `port` and waits until it accepts connections.
    pub async fn start(port: u16) -> Result<Nats, String> {
        let store =
            std::env::temp_dir().join(format!("pushwire-bench-nats-{}-{port}", std::process::id()));
        let _ = std::fs::remove_dir_all(&store);
        std::fs::create_dir_all(&store).map_err(|e| format!("{}: {e}", store.display()))?;
        let child = Command::new("nats-server")
            .args(["-js", "-a", "127.0.0.1", "-p", &port.to_string(), "-sd"])
            .arg(&store)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .map_err(|e| {
                format!("cannot start nats-server ({e}); the cluster scenario needs it (apt-get install nats-server)")
            })?;
        let mut nats = Nats {
            child,
            store,
            url: format!("nats://127.0.0.1:{port}"),
        };
        let addr = SocketAddr::from(([127, 0, 0, 1], port));
        match listening(&mut nats.child, addr, "nats-server", NATS_START).await {
            Ok(()) => Ok(nats),
            Err(e) => {
                nats.stop().await;
                Err(e)
            }
        }
    }

    pub fn rss_bytes(&self) -> u64 {
        rss_of(self.child.id())
    }

    /// Stops the server and removes its store.
    pub async fn stop(mut self) {
        let _ = self.child.kill().await;
        let _ = std::fs::remove_dir_all(&self.store);
    }
}

/// The machine's CPU time so far, and how much of it the hypervisor gave
/// to other guests ("steal", the 8th figure of `/proc/stat`'s `cpu` line),
/// in clock ticks.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct CpuTicks {
    total: u64,
    steal: u64,
}

impl CpuTicks {
    /// Now (zero where `/proc/stat` cannot be read).
    pub fn now() -> CpuTicks {
        let stat = std::fs::read_to_string("/proc/stat").unwrap_or_default();
        CpuTicks::parse(stat.lines().next().unwrap_or_default())
    }

    fn parse(cpu_line: &str) -> CpuTicks {
        let figures: Vec<u64> = cpu_line
            .split_whitespace()
            .skip(1)
            .map(|f| f.parse().unwrap_or(0))
            .collect();
        CpuTicks {
            total: figures.iter().sum(),
            steal: figures.get(7).copied().unwrap_or(0),
        }
    }

    /// The share of the machine's CPU time stolen since `earlier`, in %.
    pub fn steal_percent_since(self, earlier: CpuTicks) -> f64 {
        let total = self.total.saturating_sub(earlier.total);
        let steal = self.steal.saturating_sub(earlier.steal);
        if total == 0 {
            0.0
        } else {
            100.0 * steal as f64 / total as f64
        }
    }
}

/// utime + stime of process `pid` in seconds, from `/proc/PID/stat`.
pub(crate) fn cpu_seconds_of(pid: u32) -> f64 {
    cpu_time_of(pid).total()
}

/// A process's CPU time in seconds: in its own code (user) and in the
/// kernel on its behalf (system calls, and the loopback delivery they do).
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct CpuTime {
    pub user: f64,
    pub kernel: f64,
}

impl CpuTime {
    pub fn total(self) -> f64 {
        self.user + self.kernel
    }

    /// What was spent from `earlier` until `self`.
    pub fn since(self, earlier: CpuTime) -> CpuTime {
        CpuTime {
            user: self.user - earlier.user,
            kernel: self.kernel - earlier.kernel,
        }
    }
}

/// The CPU time of process `pid`, from `/proc/PID/stat` (zero when gone).
pub(crate) fn cpu_time_of(pid: u32) -> CpuTime {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    let (user, kernel) = user_and_kernel_ticks(&stat);
    let per_second = clock_ticks_per_second();
    CpuTime {
        user: user as f64 / per_second,
        kernel: kernel as f64 / per_second,
    }
}

/// utime and stime (the 14th and 15th fields) of a `/proc/PID/stat` line,
/// in clock ticks. The command name in parentheses may hold spaces, so the
/// fields are counted after its closing parenthesis.
fn user_and_kernel_ticks(stat: &str) -> (u64, u64) {
    let rest = stat.rsplit_once(')').map_or("", |(_, r)| r);
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let field = |i: usize| fields.get(i).and_then(|f| f.parse::<u64>().ok());
    (field(11).unwrap_or(0), field(12).unwrap_or(0))
}

/// `getconf CLK_TCK`, read once: sysconf(_SC_CLK_TCK) is 100 on every
/// Linux this runs on; read from getconf when available rather than
/// calling libc.
pub(crate) fn clock_ticks_per_second() -> f64 {
    static TICKS: std::sync::OnceLock<f64> = std::sync::OnceLock::new();
    *TICKS.get_or_init(|| {
        std::process::Command::new("getconf")
            .arg("CLK_TCK")
            .output()
            .ok()
            .and_then(|o| String::from_utf8_lossy(&o.stdout).trim().parse().ok())
            .unwrap_or(100.0)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cpu_ticks_are_read_after_the_command_name() {
        let stat = "42 (a (b) c) S 1 42 42 0 -1 4194560 100 0 0 0 7 5 0 0 20 0 1 0";
        assert_eq!(user_and_kernel_ticks(stat), (7, 5));
        assert_eq!(user_and_kernel_ticks(""), (0, 0));
    }

    #[test]
    fn steal_is_the_eighth_figure_of_the_cpu_line_over_all_of_them() {
        let before = CpuTicks::parse("cpu  100 0 50 800 0 0 0 10 0 0");
        let after = CpuTicks::parse("cpu  160 0 80 880 0 0 0 40 0 0");
        assert_eq!(after.steal_percent_since(before), 100.0 * 30.0 / 200.0);
        assert_eq!(after.steal_percent_since(after), 0.0);
    }

    #[test]
    fn free_addresses_are_distinct_and_free() {
        let addrs = free_addrs(64).unwrap();
        let distinct: std::collections::HashSet<_> = addrs.iter().collect();
        assert_eq!(distinct.len(), 64);
        for addr in addrs {
            assert!(addr.ip().is_loopback(), "{addr}");
            std::net::TcpListener::bind(addr).unwrap_or_else(|e| panic!("{addr}: {e}"));
        }
    }

    #[tokio::test]
    async fn a_server_that_exits_before_listening_is_reported_at_once() {
        let addr = free_addr().unwrap();
        let mut child = Command::new("false").spawn().unwrap();
        let err = listening(&mut child, addr, "false", SERVER_START)
            .await
            .unwrap_err();
        assert_eq!(
            err,
            format!("false exited (exit status: 1) before listening on {addr}")
        );
    }

    #[tokio::test]
    async fn a_server_that_listens_is_waited_for() {
        // Bound to port 0 at once: a port picked free and bound again later
        // can be taken in between by any socket of the parallel tests (it
        // failed that way in CI, AddrInUse).
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let mut child = Command::new("sleep")
            .arg("30")
            .kill_on_drop(true)
            .spawn()
            .unwrap();
        listening(&mut child, addr, "sleep", SERVER_START)
            .await
            .unwrap();
    }
}
