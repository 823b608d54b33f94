//! A real `nats-server` with JetStream for a test: its own free loopback
//! port and temporary store directory, killed when dropped. It can be
//! stopped and started again on the same port and store.

use std::path::PathBuf;
use std::process::Stdio;
use std::time::Duration;

use tokio::process::{Child, Command};

use super::DEADLINE;

pub struct Nats {
    pub port: u16,
    store: PathBuf,
    /// Arguments joining a cluster, if it is a member of one.
    cluster_args: Vec<String>,
    child: Option<Child>,
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
    /// connections.
    pub async fn restart(&mut self) {
        let child = Command::new("nats-server")
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
            .stderr(Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .expect("nats-server is installed (cargo xtask test installs it)");
        self.child = Some(child);
        tokio::time::timeout(DEADLINE, async {
            while tokio::net::TcpStream::connect(("127.0.0.1", self.port))
                .await
                .is_err()
            {
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        })
        .await
        .expect("nats-server listens");
    }

    /// Kills it (SIGKILL) and waits until it is gone.
    pub async fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            child.kill().await.unwrap();
        }
    }
}

impl Drop for Nats {
    fn drop(&mut self) {
        if let Some(child) = self.child.as_mut() {
            let _ = child.start_kill();
        }
        let _ = std::fs::remove_dir_all(&self.store);
    }
}
