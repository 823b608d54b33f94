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
        let mut cmd = match kind {
            Kind::Pushwire => {
                let mut c = Command::new(pushwire_binary());
                c.args([
                    "--addr",
                    &addr.to_string(),
                    "--max-connections",
                    &(connections + 100).to_string(),
                ]);
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
        let target = Target { child };
        for _ in 0..200 {
            if tokio::net::TcpStream::connect(addr).await.is_ok() {
                return Ok(target);
            }
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
        Err(format!("{} did not start listening on {addr}", kind.name()))
    }

    fn pid(&self) -> Option<u32> {
        self.child.id()
    }

    /// Resident memory in bytes, from /proc.
    pub fn rss_bytes(&self) -> u64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.pid().unwrap_or(0)))
            .unwrap_or_default();
        status
            .lines()
            .find_map(|l| l.strip_prefix("VmRSS:"))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
            .map_or(0, |kb| kb * 1024)
    }

    /// User + system CPU time in seconds, from /proc.
    pub fn cpu_seconds(&self) -> f64 {
        let stat = std::fs::read_to_string(format!("/proc/{}/stat", self.pid().unwrap_or(0)))
            .unwrap_or_default();
        // Fields after the parenthesised command name; utime and stime are 14th and 15th.
        let rest = stat.rsplit_once(')').map_or("", |(_, r)| r);
        let fields: Vec<&str> = rest.split_whitespace().collect();
        let ticks: u64 = fields.get(11).and_then(|f| f.parse().ok()).unwrap_or(0)
            + fields.get(12).and_then(|f| f.parse().ok()).unwrap_or(0);
        ticks as f64 / clock_ticks_per_second()
    }

    pub async fn stop(mut self) {
        let _ = self.child.kill().await;
    }
}

fn clock_ticks_per_second() -> f64 {
    // sysconf(_SC_CLK_TCK) is 100 on every Linux this runs on; read it from
    // getconf when available rather than calling libc.
    std::process::Command::new("getconf")
        .arg("CLK_TCK")
        .output()
        .ok()
        .and_then(|o| String::from_utf8_lossy(&o.stdout).trim().parse().ok())
        .unwrap_or(100.0)
}
