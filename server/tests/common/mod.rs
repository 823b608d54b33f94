//! Test support: a real server on an ephemeral loopback port, and an SSE
//! reader that checks every frame with our parser and, at the end, with an
//! independent published parser (`eventsource-stream`), so our parser is not
//! the only judge of what the server wrote.
#![allow(dead_code, clippy::unwrap_used)]

pub mod nats;
pub mod process;
pub mod raw;
pub mod tokens;

use std::time::Duration;

use bytes::Bytes;
use futures_util::StreamExt;
use pushwire_protocol::{Event, Item, Parser};
use pushwire_server::{serve, App, Config};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

/// Upper bound for any single wait in a test; reaching it fails the test.
pub const DEADLINE: Duration = Duration::from_secs(15);

pub struct TestServer {
    pub base: String,
    pub app: App,
    stop: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<()>>,
}

impl TestServer {
    /// Starts a server with the default configuration changed by `tweak`.
    pub async fn start_with(tweak: impl FnOnce(&mut Config)) -> TestServer {
        let mut config = Config {
            addr: "127.0.0.1:0".parse().unwrap(),
            www_dir: concat!(env!("CARGO_MANIFEST_DIR"), "/tests/www").into(),
            ..Config::default()
        };
        tweak(&mut config);
        Self::start_app(App::new(config)).await
    }

    /// Serves `app` (its configuration's address is ignored: a free
    /// loopback port is used).
    pub async fn start_app(app: App) -> TestServer {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let (stop, stopped) = oneshot::channel::<()>();
        let task = tokio::spawn(serve(listener, app.clone(), async move {
            let _ = stopped.await;
        }));
        TestServer {
            base,
            app,
            stop: Some(stop),
            task: Some(task),
        }
    }

    pub async fn start() -> TestServer {
        Self::start_with(|_| {}).await
    }

    /// The address the server listens on.
    pub fn addr(&self) -> std::net::SocketAddr {
        self.base.trim_start_matches("http://").parse().unwrap()
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }

    /// Publishes `data` as `event` on `topic`; returns the event id.
    pub async fn publish(&self, topic: &str, event: &str, data: serde_json::Value) -> String {
        let res = client()
            .post(self.url(&format!("/api/topics/{topic}")))
            .json(&serde_json::json!({ "event": event, "data": data }))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 202, "publish answered {}", res.status());
        let body: serde_json::Value = res.json().await.unwrap();
        body["id"].as_str().unwrap().to_owned()
    }

    /// `GET path`, its body decoded as JSON.
    pub async fn get_json(&self, path: &str) -> serde_json::Value {
        get_json(&self.url(path)).await
    }

    /// The events of `topic` still in its replay buffer, through the polling API.
    pub async fn topic_events(&self, topic: &str) -> Vec<serde_json::Value> {
        let body = self
            .get_json(&format!("/api/topics/{topic}/events?limit=1000"))
            .await;
        body["events"].as_array().unwrap().clone()
    }

    pub async fn stats(&self) -> serde_json::Value {
        self.get_json("/api/stats").await
    }

    /// Polls `/api/stats` until `pred` holds, failing after [`DEADLINE`].
    pub async fn wait_for_stats(
        &self,
        what: &str,
        pred: impl Fn(&serde_json::Value) -> bool,
    ) -> serde_json::Value {
        let give_up = tokio::time::Instant::now() + DEADLINE;
        loop {
            let stats = self.stats().await;
            if pred(&stats) {
                return stats;
            }
            assert!(
                tokio::time::Instant::now() < give_up,
                "timed out waiting for {what}; stats: {stats}"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// Waits until `/readyz` answers `status`.
    pub async fn wait_for_readiness(&self, status: u16) {
        let give_up = tokio::time::Instant::now() + DEADLINE;
        loop {
            let res = client().get(self.url("/readyz")).send().await.unwrap();
            if res.status().as_u16() == status {
                return;
            }
            assert!(
                tokio::time::Instant::now() < give_up,
                "/readyz never answered {status}"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// Waits until the server is ready.
    pub async fn wait_for_ready(&self) {
        self.wait_for_readiness(200).await;
    }

    /// Stops the server and waits for it to finish.
    pub async fn stop(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(task) = self.task.take() {
            tokio::time::timeout(DEADLINE, task).await.unwrap().unwrap();
        }
    }
}

pub fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .pool_max_idle_per_host(0)
        .build()
        .unwrap()
}

/// `GET url`, its body decoded as JSON.
#[allow(dead_code)] // not every test file uses every helper
pub async fn get_json(url: &str) -> serde_json::Value {
    client()
        .get(url)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

/// A stream cut by a killed server: expected where a test kills it.
fn note_cut(err: &reqwest::Error) {
    eprintln!("SSE stream cut (expected): {err}");
}

/// An open SSE response, read frame by frame.
pub struct SseReader {
    pub response_headers: reqwest::header::HeaderMap,
    pub status: reqwest::StatusCode,
    body: Option<reqwest::Response>,
    parser: Parser,
    pending: std::collections::VecDeque<Item>,
    /// Every byte received, for the independent parser.
    pub raw: Vec<u8>,
    pub ended: bool,
    /// A failed stream (the server was killed) counts as ended.
    pub tolerate_failure: bool,
}

impl SseReader {
    pub async fn open(url: &str) -> SseReader {
        Self::open_with(url, None).await
    }

    pub async fn open_with(url: &str, last_event_id: Option<&str>) -> SseReader {
        let mut req = client().get(url);
        if let Some(id) = last_event_id {
            req = req.header("last-event-id", id);
        }
        Self::open_request(req).await
    }

    /// Opens the stream `req` asks for (its own headers: credentials…).
    pub async fn open_request(req: reqwest::RequestBuilder) -> SseReader {
        let res = tokio::time::timeout(DEADLINE, req.send())
            .await
            .unwrap()
            .unwrap();
        SseReader {
            response_headers: res.headers().clone(),
            status: res.status(),
            body: Some(res),
            parser: Parser::new(),
            pending: Default::default(),
            raw: Vec::new(),
            ended: false,
            tolerate_failure: false,
        }
    }

    /// The next item, or `None` when the stream ended.
    pub async fn next_item(&mut self) -> Option<Item> {
        loop {
            if let Some(item) = self.pending.pop_front() {
                return Some(item);
            }
            if !self.pump().await {
                return None;
            }
        }
    }

    /// Reads one more chunk into the parser; `false` once the stream ended.
    pub async fn pump(&mut self) -> bool {
        {
            if self.ended {
                return false;
            }
            let Some(body) = self.body.as_mut() else {
                return false;
            };
            match tokio::time::timeout(DEADLINE, body.chunk())
                .await
                .expect("no SSE data before the deadline")
            {
                Ok(Some(chunk)) => {
                    self.raw.extend_from_slice(&chunk);
                    let items = self.parser.feed(&chunk);
                    self.pending.extend(items);
                }
                Ok(None) => {
                    self.parser.finish();
                    self.ended = true;
                }
                Err(err) if self.tolerate_failure => {
                    note_cut(&err);
                    self.parser.finish();
                    self.ended = true;
                }
                Err(err) => panic!("SSE stream failed: {err}"),
            }
            !self.ended
        }
    }

    /// The next event, skipping comments and retry items.
    pub async fn next_event(&mut self) -> Option<Event> {
        loop {
            match self.next_item().await? {
                Item::Event(e) => return Some(e),
                _ => continue,
            }
        }
    }

    /// The next `n` events; fails if the stream ends first.
    pub async fn events(&mut self, n: usize) -> Vec<Event> {
        let mut out = Vec::with_capacity(n);
        for i in 0..n {
            let e = self
                .next_event()
                .await
                .unwrap_or_else(|| panic!("stream ended after {i} of {n} events"));
            out.push(e);
        }
        out
    }

    /// Every remaining event until the server ends the stream.
    pub async fn rest(&mut self) -> Vec<Event> {
        let mut out = Vec::new();
        while let Some(e) = self.next_event().await {
            out.push(e);
        }
        out
    }

    /// The client's last event id so far (moved by id-only frames too).
    pub fn last_event_id(&self) -> &str {
        self.parser.last_event_id()
    }

    /// Closes the connection from the client side.
    pub fn disconnect(&mut self) {
        self.body = None;
        self.ended = true;
    }

    /// Parses everything received so far with `eventsource-stream` and checks
    /// it agrees with ours on every event: name, data and id.
    pub async fn check_with_independent_parser(&self, ours: &[Event]) {
        let chunks = futures_util::stream::iter([Ok::<_, std::convert::Infallible>(Bytes::from(
            self.raw.clone(),
        ))]);
        let theirs: Vec<eventsource_stream::Event> = eventsource_stream::EventStream::new(chunks)
            .map(|e| e.unwrap())
            .collect()
            .await;
        let theirs: Vec<(String, String, String)> = theirs
            .into_iter()
            .map(|e| (e.event, e.data, e.id))
            .collect();
        let ours: Vec<(String, String, String)> = ours
            .iter()
            .map(|e| (e.event.clone(), e.data.clone(), e.id.clone()))
            .collect();
        assert_eq!(theirs, ours, "eventsource-stream disagrees with our parser");
    }
}

/// Decoded data of each event.
pub fn datas(events: &[Event]) -> Vec<String> {
    events.iter().map(|e| e.data.clone()).collect()
}

pub fn ids(events: &[Event]) -> Vec<String> {
    events.iter().map(|e| e.id.clone()).collect()
}
