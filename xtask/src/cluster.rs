//! `cargo xtask cluster [--nodes N]`: a local NATS with JetStream and N
//! `pushwire` nodes sharing one stream, on loopback, to try the cluster by
//! hand: publish on one node, watch the demo page on another, stop and
//! restart nodes. Ctrl-C stops everything.
//!
//! NATS keeps its store in `target/cluster/nats`, so events survive a
//! restart of the command; delete the folder for a fresh stream.

use std::net::{TcpListener, TcpStream};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::demo;
use crate::servers::Server;
use crate::tools;
use crate::util::root;

/// Nodes started without `--nodes`.
const DEFAULT_NODES: usize = 3;

pub fn run(args: Vec<String>) -> Result<(), String> {
    let nodes = match args.as_slice() {
        [] => DEFAULT_NODES,
        [flag, n] if flag == "--nodes" => n
            .parse::<usize>()
            .ok()
            .filter(|n| (1..=9).contains(n))
            .ok_or("--nodes takes a number from 1 to 9")?,
        _ => return Err("usage: cargo xtask cluster [--nodes N]".into()),
    };
    let (progress, index) = demo::prepare(&format!("start nats-server and {nodes} nodes"))?;
    let step = progress.start(index);
    tools::ensure_system_packages(&step)?;
    let store = root().join("target/cluster/nats");
    std::fs::create_dir_all(&store).map_err(|e| e.to_string())?;
    let port = free_port()?;
    step.detail(format!("nats-server on 127.0.0.1:{port}"));
    let mut nats = Command::new("nats-server")
        .args(["-js", "-a", "127.0.0.1", "-p", &port.to_string(), "-sd"])
        .arg(&store)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .map_err(|e| format!("cannot start nats-server: {e}"))?;
    let started = Instant::now();
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        if started.elapsed() > Duration::from_secs(10) {
            let _ = nats.kill();
            return Err("nats-server did not start listening".into());
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let url = format!("nats://127.0.0.1:{port}");
    let mut servers = Vec::new();
    for i in 1..=nodes {
        let name = format!("node-{i}");
        step.detail(format!("starting {name}"));
        let args = ["--nats", &url, "--node-name", &name, "--www-dir", "www"];
        match Server::start_binary(demo::SERVER_BIN, &args) {
            Ok(server) => servers.push((name, server)),
            Err(err) => {
                let _ = nats.kill();
                return Err(err);
            }
        }
    }
    step.done();
    drop(progress);
    eprintln!("xtask: NATS JetStream at {url} (store {})", store.display());
    for (name, server) in &servers {
        eprintln!("xtask: {name}: {}/", server.url);
    }
    eprintln!("xtask: every node serves the demo page and the API; Ctrl-C stops them all");
    let status = nats.wait().map_err(|e| e.to_string())?;
    Err(format!("nats-server exited ({status})"))
}

fn free_port() -> Result<u16, String> {
    let listener = TcpListener::bind("127.0.0.1:0").map_err(|e| e.to_string())?;
    Ok(listener.local_addr().map_err(|e| e.to_string())?.port())
}
