//! A real `nats-server` with JetStream for a test: its own free loopback
//! port and temporary store directory, killed when dropped. It can be
//! stopped and started again on the same port and store.
//!
//! Readiness is the server's own "Server is ready" log line, not a TCP
//! connect to the port: a connect can succeed against whatever else took
//! the port (another test's listener, or the kernel connecting a socket
//! to itself when its ephemeral source port is the port polled), which
//! once let a test talk to a NATS that had exited on "address already in
//! use" (CI, stop 21).

use std::collections::VecDeque;
use std::path::PathBuf;
use std::process::Stdio;

use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, ChildStderr, Command};
use tokio::sync::oneshot;

use super::DEADLINE;

/// How many tries a first start gets, each on a new free port, when the
/// port it picked was taken before nats-server bound it.
const START_TRIES: usize = 5;

pub struct Nats {
    pub port: u16,
    store: PathBuf,
    /// Arguments joining a cluster, if it is a member of one.
    cluster_args: Vec<String>,
    child: Option<Child>,
    /// Whether it has listened on `port` once; a restart keeps the port.
    started: bool,
}

/// How a start ended: ready, or exited with the last lines it logged.
enum Start {
    Ready,
    Exited(String),
}

/// A loopback port nothing listens on right now.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

impl Nats {
    pub async fn start() -> Nats {
        let mut nats = Nats::new(Vec::new());
        nats.restart().await;
        nats
    }

    fn new(cluster_args: Vec<String>) -> Nats {
        let store = std::env::temp_dir().join(format!(
            "pushwire-nats-{}-{}",
            std::process::id(),
            free_port()
        ));
        std::fs::create_dir_all(&store).unwrap();
        Nats {
            port: free_port(),
            store,
            cluster_args,
            child: None,
            started: false,
        }
    }

    /// A cluster of `n` JetStream servers routed to each other on loopback.
    pub async fn cluster(n: usize) -> Vec<Nats> {
        let cluster_ports: Vec<u16> = (0..n).map(|_| free_port()).collect();
        let routes = cluster_ports
            .iter()
            .map(|p| format!("nats://127.0.0.1:{p}"))
            .collect::<Vec<_>>()
            .join(",");
        let mut members = Vec::new();
        for (i, port) in cluster_ports.iter().enumerate() {
            let args = [
                "-n".to_owned(),
                format!("node{i}"),
                "--cluster_name".to_owned(),
                "pushwire-test".to_owned(),
                "--cluster".to_owned(),
                format!("nats://127.0.0.1:{port}"),
                "--routes".to_owned(),
                routes.clone(),
            ];
            let mut nats = Nats::new(args.to_vec());
            nats.restart().await;
            members.push(nats);
        }
        members
    }

    pub fn url(&self) -> String {
        format!("nats://127.0.0.1:{}", self.port)
    }

    /// Starts (again) on the same port and store; returns once it accepts
    /// connections. A first start whose port was taken meanwhile moves to
    /// another free port.
    pub async fn restart(&mut self) {
        for _ in 0..START_TRIES {
            let mut child = Command::new("nats-server")
                .args([
                    "-js",
                    "-a",
                    "127.0.0.1",
                    "-p",
                    &self.port.to_string(),
                    "-sd",
                ])
                .arg(&self.store)
                .args(&self.cluster_args)
                .stdout(Stdio::null())
                .stderr(Stdio::piped())
                .kill_on_drop(true)
                .spawn()
                .expect("nats-server is installed (cargo xtask test installs it)");
            let started = watch_log(child.stderr.take().expect("stderr is piped"));
            self.child = Some(child);
            let start = tokio::time::timeout(DEADLINE, started)
                .await
                .expect("nats-server says it is ready or exits")
                .expect("the log watch reports");
            match start {
                Start::Ready => {
                    self.started = true;
                    return;
                }
                Start::Exited(log) if !self.started && log.contains("address already in use") => {
                    self.port = free_port();
                }
                Start::Exited(log) => panic!("nats-server exited on start:\n{log}"),
            }
        }
        panic!("nats-server found no free port in {START_TRIES} tries");
    }

    /// Kills it (SIGKILL) and waits until it is gone.
    pub async fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            child.kill().await.unwrap();
        }
    }
}

/// Reads nats-server's log (stderr) to its end, so that it never blocks
/// on a full pipe, and reports once whether it became ready.
fn watch_log(stderr: ChildStderr) -> oneshot::Receiver<Start> {
    let (report, started) = oneshot::channel();
    tokio::spawn(async move {
        let mut report = Some(report);
        let mut last = VecDeque::new();
        let mut lines = BufReader::new(stderr).lines();
        while let Ok(Some(line)) = lines.next_line().await {
            if line.contains("Server is ready") {
                if let Some(report) = report.take() {
                    let _ = report.send(Start::Ready);
                }
            }
            if report.is_some() {
                if last.len() == 20 {
                    last.pop_front();
                }
                last.push_back(line);
            }
        }
        if let Some(report) = report {
            let _ = report.send(Start::Exited(Vec::from(last).join("\n")));
        }
    });
    started
}

impl Drop for Nats {
    fn drop(&mut self) {
        if let Some(child) = self.child.as_mut() {
            let _ = child.start_kill();
        }
        let _ = std::fs::remove_dir_all(&self.store);
    }
}
