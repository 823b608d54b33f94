//! The `pushwire` binary as a process: refusing unsafe configurations,
//! logging, and graceful shutdown on SIGTERM / SIGINT.
#![allow(clippy::unwrap_used)]

mod common;

use std::process::Stdio;
use std::time::{Duration, Instant};

use common::process::{signal, spawn};
use common::{SseReader, DEADLINE};
use tokio::process::Command;

const BIN: &str = env!("CARGO_BIN_EXE_pushwire");

#[tokio::test]
async fn refuses_a_public_address_without_a_token() {
    let out = Command::new(BIN)
        .args(["--addr", "0.0.0.0:0"])
        .env_remove("PUSHWIRE_PUBLISH_TOKEN")
        .output()
        .await
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("refusing to listen on 0.0.0.0:0 without a publish token"),
        "{stderr}"
    );
}

#[tokio::test]
async fn configuration_comes_from_pushwire_env_vars() {
    let out = Command::new(BIN).args(["--help"]).output().await.unwrap();
    let help = String::from_utf8_lossy(&out.stdout);
    for var in [
        "PUSHWIRE_ADDR",
        "PUSHWIRE_REPLAY_CAPACITY",
        "PUSHWIRE_SUBSCRIBER_QUEUE",
        "PUSHWIRE_HEARTBEAT_MS",
        "PUSHWIRE_MONITORING_MS",
        "PUSHWIRE_MAX_CONNECTIONS",
        "PUSHWIRE_PUBLISH_TOKEN",
        "PUSHWIRE_CORS_ORIGINS",
        "PUSHWIRE_WWW_DIR",
    ] {
        assert!(help.contains(var), "--help lacks {var}");
    }
    // An env var really configures the server: a token makes publishing need it.
    let mut child = Command::new(BIN)
        .args(["--addr", "127.0.0.1:0"])
        .env("PUSHWIRE_PUBLISH_TOKEN", "")
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let status = tokio::time::timeout(DEADLINE, child.wait())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(status.code(), Some(2), "an empty token is refused");
}

#[tokio::test]
async fn sigterm_ends_streams_cleanly_and_exits_within_five_seconds() {
    let (mut child, base, mut logs) = spawn(&[]).await;
    let mut sub = SseReader::open(&format!("{base}/sse/subscribe?topic=bye")).await;
    let mut counter =
        SseReader::open(&format!("{base}/sse/counter?count=1000&interval_ms=50")).await;
    counter.events(2).await;
    // Let the subscription's position frame arrive, so we know it is live.
    while sub.last_event_id().is_empty() {
        assert!(sub.pump().await);
    }
    let started = Instant::now();
    signal(&child, "-TERM").await;
    // Both streams end cleanly (a terminated chunked body, not an error)...
    let rest = counter.rest().await;
    assert!(
        rest.iter().all(|e| e.event == "message"),
        "no pushwire.end on shutdown: clients must reconnect"
    );
    assert!(sub.rest().await.is_empty());
    // ...and the process exits, successfully, in time.
    let status = tokio::time::timeout(Duration::from_secs(5), child.wait())
        .await
        .expect("exit within 5 s")
        .unwrap();
    assert!(status.success());
    assert!(started.elapsed() < Duration::from_secs(5));
    let mut saw_open = false;
    let mut saw_close = false;
    while let Ok(line) = logs.try_recv() {
        saw_open |= line.contains("connection open");
        saw_close |= line.contains("connection closed");
    }
    assert!(
        saw_open && saw_close,
        "connection open/close are logged at debug level"
    );
}

#[tokio::test]
async fn sigint_also_shuts_down() {
    let (mut child, base, _logs) = spawn(&[]).await;
    let res = common::client()
        .get(format!("{base}/healthz"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    signal(&child, "-INT").await;
    let status = tokio::time::timeout(Duration::from_secs(5), child.wait())
        .await
        .expect("exit within 5 s")
        .unwrap();
    assert!(status.success());
}

/// Resident memory of process `pid`, in bytes.
fn rss_bytes(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    let kb: u64 = status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap();
    kb * 1024
}

/// The worst case of README "Limits and memory" for the flags given, for
/// `connections` open connections, beyond the idle process.
fn worst_case_bytes(replay: u64, queue: u64, body: u64, poll: u64, connections: u64) -> u64 {
    const CONNECTION: u64 = 4 * 1024; // a held connection, rounded up
    const HEAD: u64 = 16 * 1024; // MAX_REQUEST_HEAD
    replay + connections * (CONNECTION + HEAD + 2 * body + 2 * queue + 6 * poll)
}

#[tokio::test]
async fn newline_bombs_past_the_replay_budget_keep_rss_within_the_formula() {
    const REPLAY: u64 = 32 * 1024 * 1024;
    const QUEUE: u64 = 2 * 1024 * 1024;
    const BODY: u64 = 64 * 1024;
    const POLL: u64 = 1024 * 1024;
    let (child, base, _logs) = spawn(&[
        "--replay-max-bytes",
        &REPLAY.to_string(),
        "--subscriber-queue-bytes",
        &QUEUE.to_string(),
        "--max-body-bytes",
        &BODY.to_string(),
        "--poll-max-bytes",
        &POLL.to_string(),
        "--monitoring-ms",
        "60000",
    ])
    .await;
    let pid = child.id().unwrap();
    let http = common::client();
    let start = common::get_json(&format!("{base}/api/topics/bomb0/events")).await["last_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let idle = rss_bytes(pid);

    // A subscriber reading along on a few of the topics.
    let mut reader =
        SseReader::open(&format!("{base}/sse/subscribe?topic=bomb0&topic=bomb1")).await;
    // 60 KB bodies of newlines, each about 360 KB once encoded, into 40
    // topics: 400 of them are about 140 MB, over four times the budget.
    let bomb = format!("{{\"data\": [{}]}}", "\n".repeat(60_000));
    let mut encoded = 0u64;
    let mut peak = idle;
    for round in 0..10 {
        for topic in 0..40 {
            let res = http
                .post(format!("{base}/api/topics/bomb{topic}"))
                .body(bomb.clone())
                .send()
                .await
                .unwrap();
            assert_eq!(
                res.status(),
                202,
                "round {round}, topic {topic}: never refused"
            );
            encoded += 6 * 60_000;
        }
        peak = peak.max(rss_bytes(pid));
        // Keep the reader current, so it is a live subscriber, not a cut-off one.
        reader.events(2).await;
    }
    assert!(encoded > 4 * REPLAY);
    let bound = worst_case_bytes(REPLAY, QUEUE, BODY, POLL, 2);
    let grew = peak.saturating_sub(idle);
    eprintln!(
        "newline bombs: {} MB encoded, RSS idle {} MB, peak {} MB, grew {} MB, bound {} MB",
        encoded >> 20,
        idle >> 20,
        peak >> 20,
        grew >> 20,
        bound >> 20
    );
    assert!(
        grew <= bound,
        "RSS grew {grew} B, over the worst case {bound} B"
    );

    // Alive, and the oldest events were evicted: resuming from before them
    // is an explicit reset.
    let health = http.get(format!("{base}/healthz")).send().await.unwrap();
    assert_eq!(health.status(), 200);
    let poll = common::get_json(&format!("{base}/api/topics/bomb0/events?after={start}")).await;
    assert_eq!(poll["reset"]["reason"], "too_old", "{poll}");
    let stats = common::get_json(&format!("{base}/api/stats")).await;
    assert!(stats["replay_bytes"].as_u64().unwrap() <= REPLAY, "{stats}");
    assert!(stats["events_evicted"].as_u64().unwrap() > 300, "{stats}");
    drop(child);
}
