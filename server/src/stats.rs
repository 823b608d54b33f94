//! Live counters of the server, read by `/api/stats`, `/metrics` and the
//! monitoring sampler. Plain relaxed atomics, private to the crate: each
//! counter is exact on its own; users see [`StatsSnapshot`], a copy of plain
//! values (not a transaction across counters).

use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::time::{Duration, Instant};

use serde::Serialize;

use crate::auth::FAILURE_LABELS;

/// The server's counters.
#[derive(Debug)]
pub(crate) struct Stats {
    started: Instant,
    pub(crate) connections_open: AtomicU64,
    pub(crate) connections_total: AtomicU64,
    pub(crate) connections_rejected: AtomicU64,
    pub(crate) streams_open: AtomicU64,
    events_published: AtomicU64,
    frames_written: AtomicU64,
    bytes_written: AtomicU64,
    subscribers_cut_off: AtomicU64,
    requests_total: AtomicU64,
    panics: AtomicU64,
    /// Refused credentials, by [`FAILURE_LABELS`] index.
    auth_failures: [AtomicU64; FAILURE_LABELS.len()],
    events_evicted: AtomicU64,
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
            panics: AtomicU64::new(0),
            auth_failures: Default::default(),
            events_evicted: AtomicU64::new(0),
            response_time_sum_us: AtomicU64::new(0),
            response_time_count: AtomicU64::new(0),
        }
    }
}

/// A point-in-time copy of the counters, as served by `/api/stats`
/// ([`Hub::stats`](crate::Hub::stats)).
///
/// The hub's own figures (topics, subscribers, events published, subscribers
/// cut off) are always counted. Connections, requests, open streams and
/// frames written are counted by what pushwire serves itself: [`serve`](crate::serve)
/// and the streams of [`filters`](crate::filters); they stay 0 for a hub used
/// only through your own routes on `warp::serve`.
#[derive(Debug, Clone, Serialize, serde::Deserialize, PartialEq)]
#[non_exhaustive]
pub struct StatsSnapshot {
    /// Open TCP connections (served by [`serve`](crate::serve)).
    pub connections_open: u64,
    /// TCP connections accepted since start.
    pub connections_total: u64,
    /// Connections answered 503 because the server was full.
    pub connections_rejected: u64,
    /// Open SSE streams.
    pub streams_open: u64,
    /// Live hub subscriptions.
    pub subscribers: u64,
    /// Topics in the hub: those holding events and those only waited on.
    pub topics: u64,
    /// Bytes of encoded events kept for replay (bounded by `--replay-max-bytes`).
    pub replay_bytes: u64,
    /// Events evicted from replay to stay within its byte budget or a
    /// topic's event count.
    pub events_evicted: u64,
    /// Events published to the hub.
    pub events_published: u64,
    /// SSE frames written to clients (heartbeats included).
    pub frames_written: u64,
    /// SSE bytes written to clients.
    pub bytes_written: u64,
    /// Subscribers disconnected for falling behind.
    pub subscribers_cut_off: u64,
    /// HTTP requests answered.
    pub requests_total: u64,
    /// Panics caught in connection tasks (each a bug: please report it).
    pub panics: u64,
    /// Requests refused for their credentials, by reason (`missing`,
    /// `expired`, `forbidden`, …); tokens themselves are never logged.
    pub auth_failures: std::collections::BTreeMap<String, u64>,
    /// Seconds since the hub was built.
    pub uptime_seconds: f64,
    /// The hub's epoch: the first part of every event id it issues.
    pub epoch: String,
}

impl Stats {
    /// A snapshot of the counters, with the hub's own figures.
    pub(crate) fn snapshot(&self, hub: HubFigures, epoch: &str) -> StatsSnapshot {
        StatsSnapshot {
            connections_open: self.connections_open.load(Relaxed),
            connections_total: self.connections_total.load(Relaxed),
            connections_rejected: self.connections_rejected.load(Relaxed),
            streams_open: self.streams_open.load(Relaxed),
            subscribers: hub.subscribers as u64,
            topics: hub.topics as u64,
            replay_bytes: hub.replay_bytes as u64,
            events_evicted: self.events_evicted.load(Relaxed),
            events_published: self.events_published.load(Relaxed),
            frames_written: self.frames_written.load(Relaxed),
            bytes_written: self.bytes_written.load(Relaxed),
            subscribers_cut_off: self.subscribers_cut_off.load(Relaxed),
            requests_total: self.requests_total.load(Relaxed),
            panics: self.panics.load(Relaxed),
            auth_failures: FAILURE_LABELS
                .iter()
                .zip(&self.auth_failures)
                .map(|(label, n)| ((*label).to_owned(), n.load(Relaxed)))
                .collect(),
            uptime_seconds: self.uptime().as_secs_f64(),
            epoch: epoch.to_owned(),
        }
    }

    /// Counts one event published.
    pub(crate) fn count_published(&self) {
        self.events_published.fetch_add(1, Relaxed);
    }

    /// Counts one subscriber cut off for falling behind.
    pub(crate) fn count_cut_off(&self) {
        self.subscribers_cut_off.fetch_add(1, Relaxed);
    }

    /// Counts events evicted from replay.
    pub(crate) fn count_evicted(&self, events: u64) {
        self.events_evicted.fetch_add(events, Relaxed);
    }

    /// Counts a panic caught in a connection task.
    pub(crate) fn count_panic(&self) {
        self.panics.fetch_add(1, Relaxed);
    }

    /// Counts a request refused for its credentials, by reason.
    pub(crate) fn count_auth_failure(&self, label: &str) {
        if let Some(i) = FAILURE_LABELS.iter().position(|l| *l == label) {
            self.auth_failures[i].fetch_add(1, Relaxed);
        }
    }

    /// Panics caught so far.
    #[cfg(test)]
    pub(crate) fn snapshot_panics(&self) -> u64 {
        self.panics.load(Relaxed)
    }

    /// Counts frames and bytes handed to the socket.
    pub(crate) fn record_frames(&self, frames: u64, bytes: u64) {
        self.frames_written.fetch_add(frames, Relaxed);
        self.bytes_written.fetch_add(bytes, Relaxed);
    }

    /// Records how long a request took until its response head was ready.
    pub(crate) fn record_response(&self, elapsed: Duration) {
        self.requests_total.fetch_add(1, Relaxed);
        self.response_time_sum_us
            .fetch_add(elapsed.as_micros().min(u64::MAX as u128) as u64, Relaxed);
        self.response_time_count.fetch_add(1, Relaxed);
    }

    /// Mean response time in ms since the previous call (the sampler's
    /// window), or `None` when no request was answered in that window.
    pub(crate) fn take_mean_response_ms(&self) -> Option<f64> {
        let sum = self.response_time_sum_us.swap(0, Relaxed);
        let count = self.response_time_count.swap(0, Relaxed);
        (count > 0).then(|| sum as f64 / count as f64 / 1000.0)
    }

    /// Time since the server started.
    pub(crate) fn uptime(&self) -> Duration {
        self.started.elapsed()
    }
}

/// The hub's own figures, read under its lock.
#[derive(Debug, Clone, Copy)]
pub(crate) struct HubFigures {
    pub(crate) topics: usize,
    pub(crate) subscribers: usize,
    pub(crate) replay_bytes: usize,
}

/// Renders a snapshot in the Prometheus text exposition format.
pub(crate) fn prometheus(s: &StatsSnapshot) -> String {
    let rows: [(&str, &str, &str, f64); 15] = [
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
            "pushwire_replay_bytes",
            "gauge",
            "Bytes of encoded events kept for replay.",
            s.replay_bytes as f64,
        ),
        (
            "pushwire_events_evicted_total",
            "counter",
            "Events evicted from replay (byte budget or per-topic count).",
            s.events_evicted as f64,
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
            "pushwire_panics_total",
            "counter",
            "Panics caught in connection tasks.",
            s.panics as f64,
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
    let name = "pushwire_auth_failures_total";
    out.push_str(&format!(
        "# HELP {name} Requests refused for their credentials, by reason.\n# TYPE {name} counter\n"
    ));
    for (reason, n) in &s.auth_failures {
        out.push_str(&format!("{name}{{reason=\"{reason}\"}} {n}\n"));
    }
    out
}
