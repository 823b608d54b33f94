//! Real `pushwire` servers for the browser test suites: started on
//! ephemeral loopback ports, their URLs read from their log, killed when
//! dropped.

use std::io::{BufRead, BufReader};
use std::net::TcpListener;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use crate::util::root;

/// How long a server may take to start listening.
const START_TIMEOUT: Duration = Duration::from_secs(30);

/// A running server process.
pub struct Server {
    child: Child,
    pub url: String,
}

impl Server {
    /// Starts the debug `pushwire` binary (built beforehand) with `args`.
    pub fn start(args: &[&str]) -> Result<Server, String> {
        Self::start_binary("target/debug/pushwire", args)
    }

    /// Starts the release `pushwire` binary (built beforehand) with `args`.
    pub fn start_release(args: &[&str]) -> Result<Server, String> {
        Self::start_binary("target/release/pushwire", args)
    }

    /// Starts the binary at `path` (relative to the repository) with `args`.
    pub fn start_binary(path: &str, args: &[&str]) -> Result<Server, String> {
        let bin = root().join(path);
        let mut child = Command::new(&bin)
            .args(["--addr", "127.0.0.1:0"])
            .args(args)
            .current_dir(root())
            .env("RUST_LOG", "info")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|e| format!("cannot start {}: {e}", bin.display()))?;
        let stderr = child.stderr.take().ok_or("no stderr")?;
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                if let Some(url) = line.split("pushwire listening on ").nth(1) {
                    let _ = tx.send(url.trim().to_owned());
                }
                // Keep draining so the server never blocks on a full pipe.
            }
        });
        match rx.recv_timeout(START_TIMEOUT) {
            Ok(url) => Ok(Server { child, url }),
            Err(_) => {
                let _ = child.kill();
                Err("the pushwire server did not start listening".into())
            }
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A loopback URL where nothing listens: a port bound, then released.
pub fn dead_url() -> Result<String, String> {
    let listener = TcpListener::bind("127.0.0.1:0").map_err(|e| e.to_string())?;
    let port = listener.local_addr().map_err(|e| e.to_string())?.port();
    drop(listener);
    Ok(format!(
        "http://127.0.0.1:{port}/sse/subscribe?topic=nobody"
    ))
}
