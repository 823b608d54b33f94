//! HTTPS and HTTP/2, against the `pushwire` binary with a certificate made
//! here (rcgen) and clients nobody here wrote: curl (`--http2`,
//! `--http1.1`) and Node's `http2` module (`tests/h2/client.mjs`). Every
//! handshake is real and verified against the test's own CA file.
#![cfg(feature = "tls")]
#![allow(clippy::unwrap_used)]

mod common;

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use common::process::{signal, spawn};
use common::tokens::{bearer, grants, hs, SECRET};
use serde_json::Value;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

const NODE_CLIENT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/h2/client.mjs");
const BIN: &str = env!("CARGO_BIN_EXE_pushwire");

/// A certificate for localhost and 127.0.0.1 and its key, as PEM files in
/// a fresh temporary directory (removed when dropped).
struct Certs {
    dir: PathBuf,
    cert: PathBuf,
    key: PathBuf,
}

impl Certs {
    fn new() -> Certs {
        let dir = std::env::temp_dir().join(format!(
            "pushwire-tls-{}-{}",
            std::process::id(),
            rand_suffix()
        ));
        std::fs::create_dir_all(&dir).unwrap();
        let generated =
            rcgen::generate_simple_self_signed(vec!["localhost".into(), "127.0.0.1".into()])
                .unwrap();
        let cert = dir.join("cert.pem");
        let key = dir.join("key.pem");
        std::fs::write(&cert, generated.cert.pem()).unwrap();
        std::fs::write(&key, generated.signing_key.serialize_pem()).unwrap();
        Certs { dir, cert, key }
    }

    fn args(&self) -> Vec<String> {
        vec![
            "--tls-cert".into(),
            path(&self.cert),
            "--tls-key".into(),
            path(&self.key),
        ]
    }
}

impl Drop for Certs {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn rand_suffix() -> u64 {
    use std::time::SystemTime;
    SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .unwrap()
        .as_nanos() as u64
}

fn path(p: &Path) -> String {
    p.to_str().unwrap().to_owned()
}

/// The server over TLS with `certs` and `extra` flags: the child and its
/// `https://127.0.0.1:port` base.
async fn tls_server(certs: &Certs, extra: &[&str]) -> (Child, String) {
    let mut args: Vec<String> = certs.args();
    args.extend(extra.iter().map(|s| (*s).to_owned()));
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let (child, base, _log) = spawn(&args).await;
    assert!(base.starts_with("https://127.0.0.1:"), "{base}");
    (child, base)
}

/// `curl` trusting `certs`, with `args`; its stdout.
async fn curl(certs: &Certs, args: &[&str]) -> String {
    let out = Command::new("curl")
        .args(["-sS", "--max-time", "15", "--cacert", &path(&certs.cert)])
        .args(args)
        .output()
        .await
        .unwrap();
    assert!(
        out.status.success(),
        "curl {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// Publishes `body` on `topic` over HTTP/2; the event id.
async fn publish(certs: &Certs, base: &str, topic: &str, body: &str, auth: Option<&str>) -> String {
    let url = format!("{base}/api/topics/{topic}");
    let mut args = vec![
        "--http2",
        "-X",
        "POST",
        "-H",
        "content-type: application/json",
    ];
    let header;
    if let Some(auth) = auth {
        header = format!("authorization: {auth}");
        args.extend(["-H", &header]);
    }
    args.extend(["-d", body, &url]);
    let answer: Value = serde_json::from_str(&curl(certs, &args).await).unwrap();
    answer["id"].as_str().unwrap().to_owned()
}

/// The Node client in `mode`, trusting `certs`: its JSON lines, as they come.
struct NodeClient {
    /// Killed when dropped (`kill_on_drop`).
    child: Child,
    lines: tokio::io::Lines<BufReader<tokio::process::ChildStdout>>,
}

impl NodeClient {
    fn start(certs: &Certs, mode: &str, url: &str, args: &[&str]) -> NodeClient {
        let mut child = Command::new("node")
            .args([NODE_CLIENT, mode, url, &path(&certs.cert)])
            .args(args)
            .stdout(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .unwrap();
        let lines = BufReader::new(child.stdout.take().unwrap()).lines();
        NodeClient { child, lines }
    }

    /// The next line, within the deadline.
    async fn next(&mut self) -> Value {
        let line = tokio::time::timeout(common::DEADLINE, self.lines.next_line())
            .await
            .expect("the node client said nothing in time")
            .unwrap()
            .expect("the node client ended");
        serde_json::from_str(&line).unwrap()
    }

    /// Lines until one has `key`.
    async fn until(&mut self, key: &str) -> Vec<Value> {
        let mut seen = Vec::new();
        loop {
            let v = self.next().await;
            let done = v.get(key).is_some();
            seen.push(v);
            if done {
                return seen;
            }
        }
    }
}

async fn stats(certs: &Certs, base: &str) -> Value {
    serde_json::from_str(&curl(certs, &["--http2", &format!("{base}/api/stats")]).await).unwrap()
}

#[tokio::test]
async fn curl_reads_an_event_stream_over_http2_and_over_http11() {
    let certs = Certs::new();
    let (_server, base) = tls_server(&certs, &[]).await;
    let url = format!("{base}/sse/counter?count=3&interval_ms=0");
    let want = "id: 0\ndata: 0\n\nid: 1\ndata: 1\n\nid: 2\ndata: 2\n\n\
                event: pushwire.end\ndata: {\"reason\":\"complete\"}\n\n";
    for (flag, version) in [("--http2", "2"), ("--http1.1", "1.1")] {
        let out = curl(&certs, &[flag, "-N", "-w", "\n%{http_version}", &url]).await;
        let (body, got_version) = out.rsplit_once('\n').unwrap();
        assert_eq!(got_version, version, "{flag}");
        // Heartbeat comments aside, exactly the events.
        let events: String = body
            .split_inclusive("\n\n")
            .filter(|frame| !frame.starts_with(':'))
            .collect();
        assert_eq!(events, want, "{flag}");
    }
    // Publishing over HTTP/2 answers as over HTTP/1.1.
    let id = publish(&certs, &base, "t", r#"{"data": 1}"#, None).await;
    assert!(!id.is_empty());
}

#[tokio::test]
async fn a_node_http2_client_reads_published_events_in_order() {
    let certs = Certs::new();
    let (_server, base) = tls_server(&certs, &[]).await;
    let mut node = NodeClient::start(
        &certs,
        "read",
        &format!("{base}/sse/subscribe?topic=news"),
        &["3"],
    );
    let head = node.next().await;
    assert_eq!(head["status"], 200);
    assert_eq!(head["protocol"], "h2");
    let mut ids = Vec::new();
    for n in 0..3 {
        ids.push(
            publish(
                &certs,
                &base,
                "news",
                &format!(r#"{{"event": "m", "data": {n}}}"#),
                None,
            )
            .await,
        );
    }
    let lines = node.until("end").await;
    let got: Vec<(&str, &str, &str)> = lines
        .iter()
        .filter(|l| l.get("id").is_some())
        .map(|l| {
            (
                l["id"].as_str().unwrap(),
                l["event"].as_str().unwrap(),
                l["data"].as_str().unwrap(),
            )
        })
        .collect();
    let want: Vec<(&str, &str, &str)> = ids
        .iter()
        .zip(["0", "1", "2"])
        .map(|(id, d)| (id.as_str(), "m", d))
        .collect();
    assert_eq!(got, want);
}

#[tokio::test]
async fn thirty_streams_share_one_http2_connection() {
    let certs = Certs::new();
    let (_server, base) = tls_server(&certs, &[]).await;
    let before = stats(&certs, &base).await["connections_total"]
        .as_u64()
        .unwrap();
    let paths: Vec<String> = (0..30)
        .map(|i| format!("/sse/counter?count={}&interval_ms=5", i % 4 + 1))
        .collect();
    let args: Vec<&str> = paths.iter().map(String::as_str).collect();
    let mut node = NodeClient::start(&certs, "many", &base, &args);
    let lines = node.until("sessions").await;
    let streams: Vec<&Value> = lines.iter().filter(|l| l.get("path").is_some()).collect();
    assert_eq!(streams.len(), 30);
    for s in streams {
        let path = s["path"].as_str().unwrap();
        let count: u64 = path["/sse/counter?count=".len()..][..1].parse().unwrap();
        assert_eq!(s["status"], 200, "{path}");
        // The counter's events and its pushwire.end.
        assert_eq!(s["events"], count + 1, "{path}");
    }
    let after = stats(&certs, &base).await["connections_total"]
        .as_u64()
        .unwrap();
    // One for the node client, one for each of the two curl calls.
    assert_eq!(after - before, 2, "all 30 streams on one connection");
}

#[tokio::test]
async fn a_stream_whose_reader_stops_holds_back_no_other_stream_on_its_connection() {
    let certs = Certs::new();
    let (_server, base) = tls_server(
        &certs,
        &[
            "--subscriber-queue-bytes",
            "65536",
            "--max-event-bytes",
            "16384",
            "--h2-send-buffer-bytes",
            "16384",
        ],
    )
    .await;
    // 300 events of 8 KiB (2.4 MB) on the unread stream: far past its 64 KiB
    // window, the server's 16 KiB send buffer and its 64 KiB queue.
    let mut node = NodeClient::start(&certs, "slow", &base, &["300", "8192"]);
    let lines = node.until("fast").await;
    assert_eq!(lines.last().unwrap()["fast"], 300, "{lines:?}");
    let s = stats(&certs, &base).await;
    assert!(
        s["subscribers_cut_off"].as_u64().unwrap() >= 1,
        "the unread stream's subscriber was cut off: {s}"
    );
}

#[tokio::test]
async fn private_topics_tickets_and_cookies_work_the_same_over_tls() {
    let certs = Certs::new();
    let (_server, base) = tls_server(
        &certs,
        &["--jwt-secret", SECRET, "--publish-token", "operator"],
    )
    .await;
    let token = hs(&grants(&["private.*"], &[]));
    let url = format!("{base}/sse/subscribe?topic=private.a");
    // Bearer, a cookie, then a ticket bought over HTTP/2.
    let auth_header = format!("authorization={}", bearer(&token));
    let cookie = format!("cookie=theme=dark; pushwire_token={token}");
    let ticket: Value = serde_json::from_str(
        &curl(
            &certs,
            &[
                "--http2",
                "-X",
                "POST",
                "-H",
                &format!("authorization: {}", bearer(&token)),
                &format!("{base}/api/tickets"),
            ],
        )
        .await,
    )
    .unwrap();
    let with_ticket = format!("{url}&ticket={}", ticket["ticket"].as_str().unwrap());
    let cases = [
        (url.as_str(), Some(auth_header.as_str())),
        (url.as_str(), Some(cookie.as_str())),
        (with_ticket.as_str(), None),
    ];
    for (url, header) in cases {
        let mut args = vec!["1"];
        args.extend(header);
        let mut node = NodeClient::start(&certs, "read", url, &args);
        assert_eq!(node.next().await["status"], 200, "{header:?}");
        let id = publish(
            &certs,
            &base,
            "private.a",
            r#"{"data": "secret"}"#,
            Some("Bearer operator"),
        )
        .await;
        let event = node.next().await;
        assert_eq!(
            (event["id"].as_str(), event["data"].as_str()),
            (Some(id.as_str()), Some("\"secret\""))
        );
    }
    // Without credentials: 401, as over plaintext; a used ticket too.
    for url in [url.as_str(), with_ticket.as_str()] {
        let mut node = NodeClient::start(&certs, "read", url, &["1"]);
        assert_eq!(node.next().await["status"], 401, "{url}");
    }
}

#[tokio::test]
async fn sigterm_sends_goaway_and_ends_every_http2_stream_cleanly() {
    let certs = Certs::new();
    let (server, base) = tls_server(&certs, &[]).await;
    let mut node = NodeClient::start(&certs, "goaway", &base, &["/sse/subscribe?topic=t", "3"]);
    assert_eq!(node.next().await["open"], 3);
    let started = Instant::now();
    signal(&server, "-TERM").await;
    let mut goaway = None;
    let mut ended = Vec::new();
    while goaway.is_none() || ended.len() < 3 {
        let line = node.next().await;
        if let Some(code) = line.get("goaway") {
            goaway = Some(code.clone());
        } else if line.get("ended").is_some() {
            assert_eq!(line["clean"], true, "{line}");
            ended.push(line["ended"].as_u64().unwrap());
        }
    }
    assert_eq!(goaway, Some(Value::from(0)), "GOAWAY(NO_ERROR)");
    ended.sort_unstable();
    assert_eq!(ended, [0, 1, 2]);
    let mut server = server;
    let status = tokio::time::timeout(Duration::from_secs(5), server.wait())
        .await
        .expect("the server exits within 5 s")
        .unwrap();
    assert!(status.success(), "{status}");
    assert!(started.elapsed() < Duration::from_secs(5));
}

#[tokio::test]
async fn a_connection_that_stops_answering_pings_is_dropped() {
    let certs = Certs::new();
    let (_server, base) = tls_server(
        &certs,
        &[
            "--h2-keepalive-ms",
            "200",
            "--h2-keepalive-timeout-ms",
            "300",
        ],
    )
    .await;
    let mut node = NodeClient::start(
        &certs,
        "read",
        &format!("{base}/sse/subscribe?topic=t"),
        &["1"],
    );
    assert_eq!(node.next().await["status"], 200);
    let streams = |s: Value| s["streams_open"].as_u64().unwrap();
    assert_eq!(streams(stats(&certs, &base).await), 1);
    // Frozen: the client's kernel still acknowledges bytes, but nobody
    // answers the server's pings.
    signal(&node.child, "-STOP").await;
    let give_up = Instant::now() + common::DEADLINE;
    while streams(stats(&certs, &base).await) != 0 {
        assert!(
            Instant::now() < give_up,
            "the dead connection is still open"
        );
        tokio::time::sleep(Duration::from_millis(50)).await; // polling the server's counter
    }
    signal(&node.child, "-KILL").await;
}

#[cfg(feature = "jetstream")]
#[tokio::test]
async fn nodes_of_a_cluster_serve_over_tls_alike() {
    let nats = common::nats::Nats::start().await;
    let certs = Certs::new();
    let (_a, a) = tls_server(&certs, &["--nats", &nats.url(), "--node-name", "a"]).await;
    let (_b, b) = tls_server(&certs, &["--nats", &nats.url(), "--node-name", "b"]).await;
    let mut node = NodeClient::start(
        &certs,
        "read",
        &format!("{b}/sse/subscribe?topic=t"),
        &["2"],
    );
    assert_eq!(node.next().await["status"], 200);
    let first = publish(&certs, &a, "t", r#"{"data": 1}"#, None).await;
    let second = publish(&certs, &b, "t", r#"{"data": 2}"#, None).await;
    let ids: Vec<Value> = vec![
        node.next().await["id"].clone(),
        node.next().await["id"].clone(),
    ];
    assert_eq!(ids, [Value::from(first), Value::from(second)]);
}

/// Runs the binary with `args` and waits at most 5 s: its exit status and stderr.
fn run_briefly(args: &[&str]) -> (bool, String) {
    let mut child = std::process::Command::new(BIN)
        .args(args)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let give_up = Instant::now() + Duration::from_secs(5);
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            let mut stderr = String::new();
            std::io::Read::read_to_string(&mut child.stderr.take().unwrap(), &mut stderr).unwrap();
            return (status.success(), stderr);
        }
        if Instant::now() > give_up {
            let _ = child.kill();
            panic!("{args:?} still running after 5 s");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn bad_certificates_stop_the_server_within_five_seconds_with_the_reason() {
    let certs = Certs::new();
    let other = Certs::new();
    let garbage = certs.dir.join("garbage.pem");
    std::fs::write(&garbage, "not a PEM file\n").unwrap();
    let missing = certs.dir.join("missing.pem");
    let cases: [(&[&str], &str); 6] = [
        (
            &[
                "--tls-cert",
                &path(&missing),
                "--tls-key",
                &path(&certs.key),
            ],
            "cannot read the TLS certificate",
        ),
        (
            &[
                "--tls-cert",
                &path(&certs.cert),
                "--tls-key",
                &path(&missing),
            ],
            "cannot read the TLS key",
        ),
        (
            &[
                "--tls-cert",
                &path(&garbage),
                "--tls-key",
                &path(&certs.key),
            ],
            "holds no PEM certificate",
        ),
        (
            &[
                "--tls-cert",
                &path(&certs.cert),
                "--tls-key",
                &path(&garbage),
            ],
            "holds no PEM private key",
        ),
        (
            &[
                "--tls-cert",
                &path(&certs.cert),
                "--tls-key",
                &path(&other.key),
            ],
            "the TLS key does not fit the certificate",
        ),
        (
            &[
                "--addr",
                "0.0.0.0:0",
                "--tls-self-signed",
                "--publish-token",
                "t",
            ],
            "refusing --tls-self-signed on 0.0.0.0:0",
        ),
    ];
    for (args, reason) in cases {
        let mut all = if args.contains(&"--addr") {
            vec![]
        } else {
            vec!["--addr", "127.0.0.1:0"]
        };
        all.extend(args);
        let (ok, stderr) = run_briefly(&all);
        assert!(!ok, "{args:?} started");
        assert!(stderr.contains(reason), "{args:?}: {stderr}");
    }
}
