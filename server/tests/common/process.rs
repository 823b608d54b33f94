//! The `pushwire` binary as a child process of a test: started on a
//! loopback port, its log lines readable, signalled like an operator would.

use std::process::Stdio;

use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};
use tokio::sync::mpsc::UnboundedReceiver;

use super::DEADLINE;

const BIN: &str = env!("CARGO_BIN_EXE_pushwire");

/// Starts the binary on an ephemeral port; returns it and its base URL,
/// read from its "listening on" log line.
pub async fn spawn(extra: &[&str]) -> (Child, String, UnboundedReceiver<String>) {
    spawn_at("127.0.0.1:0", extra).await
}

/// Starts the binary listening on `addr`.
pub async fn spawn_at(addr: &str, extra: &[&str]) -> (Child, String, UnboundedReceiver<String>) {
    let mut child = Command::new(BIN)
        .args([
            "--addr",
            addr,
            "--www-dir",
            concat!(env!("CARGO_MANIFEST_DIR"), "/tests/www"),
        ])
        .args(extra)
        .env("RUST_LOG", "debug,async_nats=info")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    tokio::spawn(async move {
        // Read to the end even when nobody listens any more: a full stderr
        // pipe would block the server on its next log line.
        while let Ok(Some(line)) = lines.next_line().await {
            let _ = tx.send(line);
        }
    });
    let mut seen = Vec::new();
    let give_up = tokio::time::Instant::now() + DEADLINE;
    let base = loop {
        match tokio::time::timeout_at(give_up, rx.recv()).await {
            Ok(Some(line)) => match line.split("pushwire listening on ").nth(1) {
                Some(url) => break url.trim().to_owned(),
                None => seen.push(line),
            },
            Ok(None) => panic!("server exited before listening: {seen:#?}"),
            Err(_) => panic!("server not listening after {DEADLINE:?}: {seen:#?}"),
        }
    };
    (child, base, rx)
}

pub async fn signal(child: &Child, sig: &str) {
    let pid = child.id().unwrap().to_string();
    let status = Command::new("kill")
        .args([sig, &pid])
        .status()
        .await
        .unwrap();
    assert!(status.success());
}
