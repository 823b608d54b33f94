//! The floor: the least a process can do to deliver the sweep's events,
//! against which pushwire's CPU per delivery is reported as a ratio.
//!
//! `pushwire-bench serve-floor` binds loopback on a free port, prints the
//! address on stdout, and then only accepts connections, reads each request
//! up to its blank line (no parsing), answers with a fixed `200` head and
//! writes every event to every socket: one line of payload on stdin
//! becomes one frame with the same bytes pushwire puts on the wire for it
//! (`id: EPOCH-SEQ\ndata: PAYLOAD\n\n` in an HTTP/1.1 chunk). No router, no
//! hub, no queues per subscriber, no heartbeats. It exits when its stdin
//! closes, so it stops with the benchmark.
//!
//! Design: a simple fan-out loop, not a task per connection. The
//! connections are dealt round-robin to one shard per core (so, like
//! pushwire, it may use both cores), and a shard writes each frame to each
//! of its sockets in turn, straight from the loop. That is one `write(2)`
//! per delivery and nothing else — no wake-up, no channel and no task
//! switch per subscriber, which a task per connection would add (that cost
//! belongs to a design, not to the work). A socket whose buffer is full
//! holds up its shard until it drains (on loopback, with readers keeping
//! up, it does not happen); a socket that fails is dropped.

use std::net::SocketAddr;
use std::process::Stdio;
use std::time::Duration;

use bytes::Bytes;
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};
use tokio::process::{Child, ChildStdin, Command};
use tokio::sync::mpsc;

/// The response head: what pushwire answers a subscription with, less the
/// headers a client does not need to read the stream.
const HEAD: &[u8] = b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ncache-control: no-cache\r\ntransfer-encoding: chunked\r\n\r\n";

/// Longest request head read before the connection is dropped.
const MAX_REQUEST: usize = 8 * 1024;

/// Longest a client may take to send its request.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);

/// What a shard is handed.
enum Message {
    /// A connection whose request has been read: answer it and keep it.
    Connection(TcpStream),
    /// A chunk to write to every connection.
    Frame(Bytes),
}

/// The chunk for event `seq` (carrying `payload`), as pushwire writes it:
/// `id: EPOCH-SEQ\ndata: PAYLOAD\n\n`, chunk-encoded.
pub fn chunk(epoch: u32, seq: u64, payload: &str) -> Bytes {
    let frame = format!("id: {epoch:08x}-{seq}\ndata: {payload}\n\n");
    Bytes::from(format!("{:x}\r\n{frame}\r\n", frame.len()))
}

/// Reads until the end of the request head (a blank line), unparsed.
async fn read_request(stream: &mut TcpStream) -> std::io::Result<()> {
    let mut head = Vec::with_capacity(512);
    let mut buf = [0u8; 1024];
    loop {
        let n = stream.read(&mut buf).await?;
        if n == 0 || head.len() + n > MAX_REQUEST {
            return Err(std::io::ErrorKind::InvalidData.into());
        }
        head.extend_from_slice(&buf[..n]);
        if head.windows(4).any(|w| w == b"\r\n\r\n") {
            return Ok(());
        }
    }
}

/// One shard: its connections, and every frame written to each in turn.
async fn shard(mut rx: mpsc::UnboundedReceiver<Message>) {
    let mut connections: Vec<TcpStream> = Vec::new();
    while let Some(message) = rx.recv().await {
        match message {
            // The head is written here, not where the request was read, so
            // that a client counts as subscribed only once its shard has
            // it: a frame sent after that reaches it.
            Message::Connection(mut stream) => {
                if stream.write_all(HEAD).await.is_ok() {
                    connections.push(stream);
                }
            }
            Message::Frame(chunk) => {
                let mut i = 0;
                while i < connections.len() {
                    if connections[i].write_all(&chunk).await.is_ok() {
                        i += 1;
                    } else {
                        connections.swap_remove(i);
                    }
                }
            }
        }
    }
}

/// Serves on `listener`, writing one frame per payload from `payloads`,
/// until `payloads` ends.
pub async fn serve_on(listener: TcpListener, mut payloads: mpsc::Receiver<String>) {
    let shards = std::thread::available_parallelism().map_or(2, |n| n.get());
    let txs: Vec<mpsc::UnboundedSender<Message>> = (0..shards)
        .map(|_| {
            let (tx, rx) = mpsc::unbounded_channel();
            tokio::spawn(shard(rx));
            tx
        })
        .collect();
    let accepting = {
        let txs = txs.clone();
        tokio::spawn(async move {
            let mut next = 0;
            while let Ok((mut stream, _)) = listener.accept().await {
                let _ = stream.set_nodelay(true); // as pushwire does
                let tx = txs[next % txs.len()].clone();
                next += 1;
                tokio::spawn(async move {
                    let read = tokio::time::timeout(REQUEST_TIMEOUT, read_request(&mut stream));
                    if let Ok(Ok(())) = read.await {
                        let _ = tx.send(Message::Connection(stream));
                    }
                });
            }
        })
    };
    let epoch = (crate::loadgen::now_us() / 1_000_000) as u32;
    let mut seq = 0;
    while let Some(payload) = payloads.recv().await {
        seq += 1;
        let chunk = chunk(epoch, seq, &payload);
        for tx in &txs {
            let _ = tx.send(Message::Frame(chunk.clone()));
        }
    }
    accepting.abort();
}

/// `pushwire-bench serve-floor`: binds a free loopback port, prints its
/// address, and serves the payload lines read from stdin until it closes.
pub async fn serve() -> Result<(), String> {
    // Inherited from the benchmark already; raised again when run by hand.
    let _ = rlimit::increase_nofile_limit(u64::MAX);
    let listener = TcpListener::bind("127.0.0.1:0")
        .await
        .map_err(|e| e.to_string())?;
    let addr = listener.local_addr().map_err(|e| e.to_string())?;
    let mut stdout = tokio::io::stdout();
    stdout
        .write_all(format!("{addr}\n").as_bytes())
        .await
        .map_err(|e| e.to_string())?;
    stdout.flush().await.map_err(|e| e.to_string())?;
    let (tx, rx) = mpsc::channel(1024);
    tokio::spawn(async move {
        let mut lines = BufReader::new(tokio::io::stdin()).lines();
        while let Ok(Some(line)) = lines.next_line().await {
            if tx.send(line).await.is_err() {
                break;
            }
        }
    });
    serve_on(listener, rx).await;
    Ok(())
}

/// A running floor process.
#[derive(Debug)]
pub struct Floor {
    child: Child,
    stdin: ChildStdin,
    pub addr: SocketAddr,
}

impl Floor {
    /// Starts `pushwire-bench serve-floor` and reads the address it listens on.
    pub async fn start() -> Result<Floor, String> {
        let exe = std::env::current_exe().map_err(|e| e.to_string())?;
        let mut child = Command::new(exe)
            .arg("serve-floor")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .kill_on_drop(true)
            .spawn()
            .map_err(|e| format!("cannot start the floor: {e}"))?;
        let (Some(stdin), Some(stdout)) = (child.stdin.take(), child.stdout.take()) else {
            return Err("floor without pipes".into());
        };
        let mut line = String::new();
        let mut stdout = BufReader::new(stdout);
        let read = stdout.read_line(&mut line);
        tokio::time::timeout(Duration::from_secs(10), read)
            .await
            .map_err(|_| "the floor did not say where it listens".to_owned())?
            .map_err(|e| e.to_string())?;
        let addr = line
            .trim()
            .parse()
            .map_err(|e| format!("floor address {line:?}: {e}"))?;
        Ok(Floor { child, stdin, addr })
    }

    /// Has the floor write one event carrying `payload` to every connection.
    pub async fn publish(&mut self, payload: &str) -> Result<(), String> {
        let line = format!("{payload}\n");
        self.stdin
            .write_all(line.as_bytes())
            .await
            .map_err(|e| format!("floor: {e}"))
    }

    /// User and system CPU time, from /proc (as
    /// [`Target::cpu_time`](crate::target::Target::cpu_time) reads it).
    pub fn cpu_time(&self) -> crate::target::CpuTime {
        crate::target::cpu_time_of(self.child.id().unwrap_or(0))
    }

    pub async fn stop(mut self) {
        let _ = self.child.kill().await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_chunk_is_pushwires_frame() {
        // Captured from pushwire (curl --raw) for a publish of {"t":1,"seq":2}.
        let c = chunk(0x246f_86d7, 5, r#"{"t":1,"seq":2}"#);
        assert_eq!(
            &c[..],
            b"26\r\nid: 246f86d7-5\ndata: {\"t\":1,\"seq\":2}\n\n\r\n"
        );
    }

    #[tokio::test]
    async fn every_connection_gets_every_frame() {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().expect("addr");
        let (tx, rx) = mpsc::channel(8);
        let server = tokio::spawn(serve_on(listener, rx));
        let mut clients = Vec::new();
        for _ in 0..3 {
            let mut s = TcpStream::connect(addr).await.expect("connect");
            s.write_all(b"GET /sse HTTP/1.1\r\nhost: x\r\n\r\n")
                .await
                .expect("request");
            let mut head = vec![0u8; HEAD.len()];
            s.read_exact(&mut head).await.expect("head");
            assert_eq!(head, HEAD);
            clients.push(s);
        }
        for p in ["a", "b"] {
            tx.send(p.to_owned()).await.expect("send");
        }
        for s in &mut clients {
            let mut got = Vec::new();
            while !got.ends_with(b"data: b\n\n\r\n") {
                let mut buf = [0u8; 256];
                let n = tokio::time::timeout(Duration::from_secs(5), s.read(&mut buf))
                    .await
                    .expect("in time")
                    .expect("read");
                assert!(n > 0, "stream ended");
                got.extend_from_slice(&buf[..n]);
            }
            let text = String::from_utf8(got).expect("utf-8");
            assert!(text.contains("-1\ndata: a\n\n\r\n"), "{text}");
            assert!(text.contains("-2\ndata: b\n\n\r\n"), "{text}");
        }
        drop(tx);
        tokio::time::timeout(Duration::from_secs(5), server)
            .await
            .expect("stops when the payloads end")
            .expect("no panic");
    }
}
