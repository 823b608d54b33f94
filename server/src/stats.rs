//! Live counters of the server, read by `/api/stats`, `/metrics` and the
//! monitoring sampler. Plain relaxed atomics: each counter is exact on its
//! own; a snapshot is not a transaction across counters.

use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::time::{Duration, Instant};

use serde::Serialize;

/// The server's counters.
#[derive(Debug)]
pub struct Stats {
    started: Instant,
    pub connections_open: AtomicU64,
    pub connections_total: AtomicU64,
    pub connections_rejected: AtomicU64,
    pub streams_open: AtomicU64,
    pub events_published: AtomicU64,
    pub frames_written: AtomicU64,
    pub bytes_written: AtomicU64,
    pub subscribers_cut_off: AtomicU64,
    pub requests_total: AtomicU64,
    response_time_sum_us: AtomicU64,
    response_time_count: AtomicU64,
}

impl Default for Stats {
    fn default() -> Self {
        Stats {
            started: Instant::now(),
            connections_open: AtomicU64::new(0),
            connections_total: AtomicU64::new(0),
            connections_rejected: AtomicU64::new(0),
            streams_open: AtomicU64::new(0),
            events_published: AtomicU64::new(0),
            frames_written: AtomicU64::new(0),
            bytes_written: AtomicU64::new(0),
            subscribers_cut_off: AtomicU64::new(0),
            requests_total: AtomicU64::new(0),
            response_time_sum_us: AtomicU64::new(0),
            response_time_count: AtomicU64::new(0),
        }
    }
}

/// A point-in-time copy of the counters, as served by `/api/stats`.
#[derive(Debug, Clone, Serialize, serde::Deserialize, PartialEq)]
pub struct StatsSnapshot {
    pub connections_open: u64,
    pub connections_total: u64,
    pub connections_rejected: u64,
    pub streams_open: u64,
    pub subscribers: u64,
    pub topics: u64,
    pub events_published: u64,
    pub frames_written: u64,
    pub bytes_written: u64,
    pub subscribers_cut_off: u64,
    pub requests_total: u64,
    pub uptime_seconds: f64,
    pub epoch: String,
}

impl Stats {
    /// Counts frames and bytes handed to the socket.
    pub fn record_frames(&self, frames: u64, bytes: u64) {
        self.frames_written.fetch_add(frames, Relaxed);
        self.bytes_written.fetch_add(bytes, Relaxed);
    }

    /// Records how long a request took until its response head was ready.
    pub fn record_response(&self, elapsed: Duration) {
        self.requests_total.fetch_add(1, Relaxed);
        self.response_time_sum_us
            .fetch_add(elapsed.as_micros().min(u64::MAX as u128) as u64, Relaxed);
        self.response_time_count.fetch_add(1, Relaxed);
    }

    /// Mean response time in ms since the previous call (the sampler's
    /// window), or `None` when no request was answered in that window.
    pub fn take_mean_response_ms(&self) -> Option<f64> {
        let sum = self.response_time_sum_us.swap(0, Relaxed);
        let count = self.response_time_count.swap(0, Relaxed);
        (count > 0).then(|| sum as f64 / count as f64 / 1000.0)
    }

    /// Time since the server started.
    pub fn uptime(&self) -> Duration {
        self.started.elapsed()
    }
}

/// Renders a snapshot in the Prometheus text exposition format.
pub fn prometheus(s: &StatsSnapshot) -> String {
    let rows: [(&str, &str, &str, f64); 12] = [
        (
            "pushwire_connections_open",
            "gauge",
            "Open TCP connections.",
            s.connections_open as f64,
        ),
        (
            "pushwire_connections_total",
            "counter",
            "TCP connections accepted.",
            s.connections_total as f64,
        ),
        (
            "pushwire_connections_rejected_total",
            "counter",
            "Connections answered 503 because the server was full.",
            s.connections_rejected as f64,
        ),
        (
            "pushwire_streams_open",
            "gauge",
            "Open SSE streams.",
            s.streams_open as f64,
        ),
        (
            "pushwire_subscribers",
            "gauge",
            "Live hub subscriptions.",
            s.subscribers as f64,
        ),
        (
            "pushwire_topics",
            "gauge",
            "Topics in the hub.",
            s.topics as f64,
        ),
        (
            "pushwire_events_published_total",
            "counter",
            "Events published to the hub.",
            s.events_published as f64,
        ),
        (
            "pushwire_frames_written_total",
            "counter",
            "SSE frames written to clients.",
            s.frames_written as f64,
        ),
        (
            "pushwire_bytes_written_total",
            "counter",
            "SSE bytes written to clients.",
            s.bytes_written as f64,
        ),
        (
            "pushwire_subscribers_cut_off_total",
            "counter",
            "Subscribers disconnected for falling behind.",
            s.subscribers_cut_off as f64,
        ),
        (
            "pushwire_requests_total",
            "counter",
            "HTTP requests answered.",
            s.requests_total as f64,
        ),
        (
            "pushwire_uptime_seconds",
            "gauge",
            "Seconds since the server started.",
            s.uptime_seconds,
        ),
    ];
    let mut out = String::new();
    for (name, kind, help, value) in rows {
        out.push_str(&format!(
            "# HELP {name} {help}\n# TYPE {name} {kind}\n{name} {value}\n"
        ));
    }
    out
}
