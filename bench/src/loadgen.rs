//! The load generator: SSE subscribers over loopback, spread across several
//! source addresses in 127.0.0.0/8 so their count is not capped by one
//! address's ephemeral ports, each parsing its stream with
//! `pushwire-protocol`; and a publisher on one keep-alive connection.

use std::future::Future;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::ops::RangeInclusive;
use std::sync::atomic::{AtomicU32, AtomicU64, AtomicUsize, Ordering::Relaxed};
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use http_body_util::{BodyExt, Empty, Full};
use hyper::client::conn::http1;
use pushwire_protocol::names::{LAST_EVENT_ID_HEADER, RESET_EVENT};
use pushwire_protocol::{Item, Parser};
use tokio::net::TcpSocket;
use tokio::sync::{watch, Notify, OwnedSemaphorePermit, Semaphore};
use tokio::task::JoinHandle;

use crate::histogram::Histogram;
use crate::scenarios::DRAIN_TIMEOUT;
use crate::target::Kind;
use crate::tls::Transport;

/// Connections opened from one source address before moving to the next.
pub const SOCKETS_PER_SOURCE: usize = 8_000;

/// Microseconds since the Unix epoch: one clock for publisher and subscribers.
pub fn now_us() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_micros() as u64)
}

/// When each event of a run is due, and what time it carries. Event `seq`
/// (from 1) is due at `start + (seq - 1) / rate`. A server that answers
/// publishes slowly holds the one publisher back; stamping each event with
/// its send time would leave that wait out of every latency (coordinated
/// omission, as wrk2 corrects it). So each event is charged for how late a
/// publisher with a perfect timer would have sent it, given how long the
/// server took to answer each publish before it (its *hold*), and not for
/// the publisher's own timer, which wakes it late now and then (when
/// tokio's 1 ms timer paced it, charging the whole lateness added about
/// 0.8 ms to every server's p99 at 2,000 events/s; see [`pace_until`]).
#[derive(Debug, Clone, Copy)]
pub struct Schedule {
    start_us: u64,
    rate: u64,
    /// When a perfectly timed publisher would have had the previous
    /// publish answered.
    ideal_answered_us: u64,
    /// The previous publish: when a perfectly timed publisher would have
    /// sent it, and when it was sent.
    ideal_sent_us: u64,
    sent_us: u64,
}

impl Schedule {
    /// Events at `rate` per second from now.
    pub fn starting_now(rate: u64) -> Schedule {
        Schedule::starting_at(now_us(), rate)
    }

    fn starting_at(start_us: u64, rate: u64) -> Schedule {
        Schedule {
            start_us,
            rate: rate.max(1),
            ideal_answered_us: 0,
            ideal_sent_us: 0,
            sent_us: 0,
        }
    }

    /// When event `seq` is due, in [`now_us`] time.
    pub fn due_us(&self, seq: u64) -> u64 {
        self.start_us + seq.saturating_sub(1) * 1_000_000 / self.rate
    }

    /// The time event `seq` carries, sent at `now_us`: the send time moved
    /// back by the server's hold on it.
    pub fn stamp(&mut self, seq: u64, now_us: u64) -> u64 {
        let due = self.due_us(seq);
        self.ideal_sent_us = due.max(self.ideal_answered_us);
        self.sent_us = now_us;
        now_us.saturating_sub(self.ideal_sent_us - due)
    }

    /// The publish stamped last was answered at `now_us`.
    pub fn answered(&mut self, now_us: u64) {
        self.ideal_answered_us = self.ideal_sent_us + now_us.saturating_sub(self.sent_us);
    }
}

/// What every subscriber reports into.
#[derive(Debug, Default)]
pub struct Shared {
    pub connected: AtomicUsize,
    pub failed: AtomicUsize,
    pub ended: AtomicUsize,
    pub delivered: AtomicU64,
    pub lost: AtomicU64,
    pub duplicates: AtomicU64,
    /// `pushwire.reset` events received (a resume the server could not honour).
    pub resets: AtomicU64,
    pub latency: Histogram,
    /// Sequence numbers to watch for (0: none yet); see [`Shared::mark`].
    pub marks: [AtomicU64; MARKS],
    /// Subscribers that have received an event at or past each mark.
    pub past: [AtomicUsize; MARKS],
    /// When the last subscriber passed each mark (µs since the epoch, 0: none yet).
    pub past_at_us: [AtomicU64; MARKS],
    /// When the latest connection was accepted (`200`; µs since the epoch).
    pub last_connect_us: AtomicU64,
    /// The first sequence number every subscriber must have (0: each
    /// from its own first event); see the worker's final count.
    pub from: AtomicU64,
    /// Signalled on every connect and every delivery (for waits).
    pub progress: Notify,
}

/// Marks a run can set: one for "back after the kill", one for "got the last event".
pub const MARKS: usize = 2;

impl Shared {
    /// From now on, counts in `past[slot]` every subscriber once that
    /// receives an event with sequence number `seq` or later. Set it before
    /// event `seq` is published: a subscriber that already has it counts
    /// only at its next event.
    pub fn mark(&self, slot: usize, seq: u64) {
        self.marks[slot].store(seq, Relaxed);
        self.progress.notify_waiters();
    }
}

/// The payload every benchmark event carries.
#[derive(Debug, serde::Serialize, serde::Deserialize)]
pub struct Payload {
    /// Publish time, µs since the Unix epoch.
    pub t: u64,
    /// Sequence number of the event in the run.
    pub seq: u64,
}

/// One subscriber's view of the sequence, for loss and duplicate counts.
#[derive(Debug, Default, Clone)]
pub struct Progress {
    /// Highest sequence number seen + 1 (0: none yet).
    pub next_seq: u64,
    pub last_event_id: String,
    /// Distinct events received (duplicates not counted).
    pub received: u64,
    /// Connections the server accepted (`200`) for this subscriber.
    pub connections: u32,
    /// Which marks of [`Shared::marks`] this subscriber has passed.
    pub passed: [bool; MARKS],
}

/// Next unused source address, as an offset from 127.1.0.0.
static NEXT_SOURCE: AtomicU32 = AtomicU32::new(0);

/// Reserves fresh source addresses for `n` connections; returns the first.
///
/// Every crowd gets addresses no earlier one used: a port bound before
/// `connect` stays taken while its previous connection sits in TIME_WAIT,
/// so reusing addresses across scenarios would run out of ports.
pub fn reserve_sources(n: usize) -> u32 {
    let blocks = n.div_ceil(SOCKETS_PER_SOURCE).max(1) as u32;
    NEXT_SOURCE.fetch_add(blocks, Relaxed)
}

/// Starts this process's reservations at `offset` (a load-generator worker
/// gets its range from the benchmark, so no two processes share an address).
pub fn skip_sources_to(offset: u32) {
    NEXT_SOURCE.fetch_max(offset, Relaxed);
}

/// The source address of the `n`-th connection of a crowd starting at `first`.
pub fn source_for(first: u32, n: usize) -> IpAddr {
    let k = first + (n / SOCKETS_PER_SOURCE) as u32;
    // 127.1.0.0 + k: never 127.0.0.1, which the servers listen on.
    IpAddr::V4(Ipv4Addr::from(u32::from(Ipv4Addr::new(127, 1, 0, 0)) + k))
}

/// A loopback TCP connection from `source`, with Nagle off (events and
/// publishes must leave at once).
async fn connect_from(
    source: IpAddr,
    server: SocketAddr,
) -> std::io::Result<tokio::net::TcpStream> {
    let socket = TcpSocket::new_v4()?;
    socket.bind(SocketAddr::new(source, 0))?;
    let stream = socket.connect(server).await?;
    stream.set_nodelay(true)?;
    Ok(stream)
}

/// Opens one SSE subscription and reads it until the task is aborted or the
/// server ends it; returns the subscriber's progress.
#[allow(clippy::too_many_arguments)]
pub async fn subscribe(
    server: SocketAddr,
    kind: Kind,
    transport: &Transport,
    source: IpAddr,
    resume: Option<Progress>,
    shared: Arc<Shared>,
    mut stop: watch::Receiver<bool>,
    mut connecting: Option<OwnedSemaphorePermit>,
) -> Progress {
    let mut progress = resume.clone().unwrap_or_default();
    let result = async {
        let stream = connect_from(source, server).await?;
        let mut req = http::Request::get(kind.subscribe_path())
            .header(http::header::HOST, server.to_string())
            .header(http::header::ACCEPT, "text/event-stream");
        if let Some(r) = resume.as_ref().filter(|r| !r.last_event_id.is_empty()) {
            req = req.header(LAST_EVENT_ID_HEADER, r.last_event_id.as_str());
        }
        let req = req.body(Empty::new()).map_err(std::io::Error::other)?;
        // Held to the end of the stream: it keeps the connection open.
        let (res, _sender) = transport.open(stream, server, req).await?;
        if res.status() != 200 {
            return Err(std::io::Error::other(format!("status {}", res.status())));
        }
        shared.connected.fetch_add(1, Relaxed);
        shared.last_connect_us.fetch_max(now_us(), Relaxed);
        progress.connections += 1;
        connecting.take();
        shared.progress.notify_waiters();
        let mut body = res.into_body();
        let mut parser = Parser::new();
        loop {
            let frame = tokio::select! {
                frame = body.frame() => frame,
                _ = stop.wait_for(|s| *s) => break,
            };
            let Some(Ok(frame)) = frame else {
                shared.ended.fetch_add(1, Relaxed);
                break;
            };
            let Ok(data) = frame.into_data() else {
                continue;
            };
            let now = now_us();
            parser.feed_with(&data, |item| {
                if let Item::Event(e) = item {
                    if e.event == RESET_EVENT {
                        shared.resets.fetch_add(1, Relaxed);
                    }
                    if let Ok(p) = serde_json::from_str::<Payload>(&e.data) {
                        shared.latency.record(now.saturating_sub(p.t));
                        shared.delivered.fetch_add(1, Relaxed);
                        if progress.next_seq > 0 && p.seq < progress.next_seq {
                            shared.duplicates.fetch_add(1, Relaxed);
                        } else {
                            if progress.next_seq > 0 && p.seq > progress.next_seq {
                                shared.lost.fetch_add(p.seq - progress.next_seq, Relaxed);
                            }
                            progress.next_seq = p.seq + 1;
                            progress.received += 1;
                            for (slot, passed) in progress.passed.iter_mut().enumerate() {
                                let mark = shared.marks[slot].load(Relaxed);
                                if !*passed && mark > 0 && p.seq >= mark {
                                    *passed = true;
                                    shared.past[slot].fetch_add(1, Relaxed);
                                    shared.past_at_us[slot].fetch_max(now, Relaxed);
                                }
                            }
                        }
                    }
                }
            });
            shared.progress.notify_waiters();
        }
        // What a client resumes from: the parser's last event id, which
        // id-only frames move too (a fresh pushwire stream starts with one
        // carrying the current position, so a subscriber that gets no event
        // before its server dies still resumes without a gap). Read once
        // the stream is over, not copied after every frame: that copy made
        // streams with ids cost the load generator more than streams
        // without, on the cores the server shares.
        let id = parser.last_event_id();
        if !id.is_empty() {
            id.clone_into(&mut progress.last_event_id);
        }
        Ok::<_, std::io::Error>(())
    }
    .await;
    if result.is_err() {
        shared.failed.fetch_add(1, Relaxed);
        shared.progress.notify_waiters();
    }
    progress
}

/// Most connection attempts under way at once (the listen backlog is finite).
pub const CONNECTING_AT_ONCE: usize = 256;

/// Starts one subscriber per entry of `resume` (`None`: fresh), connecting
/// at most [`CONNECTING_AT_ONCE`] at a time. They run until `stop` is set.
pub fn spawn_subscribers(
    server: SocketAddr,
    kind: Kind,
    transport: &Transport,
    resume: Vec<Option<Progress>>,
    shared: &Arc<Shared>,
    stop: &watch::Receiver<bool>,
) -> Vec<JoinHandle<Progress>> {
    let gate = Arc::new(Semaphore::new(CONNECTING_AT_ONCE));
    let first = reserve_sources(resume.len());
    resume
        .into_iter()
        .enumerate()
        .map(|(i, resume)| {
            let (shared, stop, gate) = (shared.clone(), stop.clone(), gate.clone());
            let transport = transport.clone();
            tokio::spawn(async move {
                let permit = gate.acquire_owned().await.ok();
                subscribe(
                    server,
                    kind,
                    &transport,
                    source_for(first, i),
                    resume,
                    shared,
                    stop,
                    permit,
                )
                .await
            })
        })
        .collect()
}

/// Waits until `pred(shared)` holds or `deadline` passes; true if it held.
pub async fn wait_until(
    shared: &Shared,
    deadline: tokio::time::Instant,
    pred: impl Fn(&Shared) -> bool,
) -> bool {
    wait_for(&shared.progress, deadline, || pred(shared)).await
}

/// Waits until `pred()` holds or `deadline` passes, checking again each
/// time `progress` is signalled; true if it held.
pub async fn wait_for(
    progress: &Notify,
    deadline: tokio::time::Instant,
    pred: impl Fn() -> bool,
) -> bool {
    loop {
        // Registered before the check, so a signal in between is not lost.
        let notified = progress.notified();
        if pred() {
            return true;
        }
        if tokio::time::timeout_at(deadline, notified).await.is_err() {
            return pred();
        }
    }
}

/// Publishes benchmark events over one keep-alive HTTP/1.1 connection.
pub struct Publisher {
    kind: Kind,
    server: SocketAddr,
    sender: http1::SendRequest<Full<Bytes>>,
}

impl std::fmt::Debug for Publisher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Publisher")
            .field("kind", &self.kind)
            .finish()
    }
}

impl Publisher {
    pub async fn connect(server: SocketAddr, kind: Kind) -> Result<Publisher, String> {
        Publisher::connect_over(server, kind, &Transport::Plain).await
    }

    /// A publisher on HTTP/1.1, over TLS when `transport` is TLS.
    pub async fn connect_over(
        server: SocketAddr,
        kind: Kind,
        transport: &Transport,
    ) -> Result<Publisher, String> {
        let source = source_for(reserve_sources(1), 0);
        let stream = connect_from(source, server)
            .await
            .map_err(|e| format!("publisher: {e}"))?;
        let sender = transport
            .http1(stream)
            .await
            .map_err(|e| format!("publisher: {e}"))?;
        Ok(Publisher {
            kind,
            server,
            sender,
        })
    }

    /// Publishes event `seq`, stamped with the current time.
    pub async fn publish(&mut self, seq: u64) -> Result<(), String> {
        self.publish_stamped(seq, now_us()).await
    }

    /// Publishes event `seq` carrying the time `t` (µs, [`now_us`] clock).
    pub async fn publish_stamped(&mut self, seq: u64, t: u64) -> Result<(), String> {
        let payload = serde_json::to_string(&Payload { t, seq }).map_err(|e| e.to_string())?;
        let (path, body) = match self.kind {
            Kind::Pushwire => (
                "/api/topics/bench",
                format!(r#"{{"event":"message","data":{payload}}}"#),
            ),
            Kind::Axum | Kind::Hyperlane | Kind::Warp => ("/publish", payload),
        };
        let req = http::Request::post(path)
            .header(http::header::HOST, self.server.to_string())
            .header(http::header::CONTENT_TYPE, "application/json")
            .body(Full::new(Bytes::from(body)))
            .map_err(|e| e.to_string())?;
        self.sender.ready().await.map_err(|e| e.to_string())?;
        let res = self
            .sender
            .send_request(req)
            .await
            .map_err(|e| e.to_string())?;
        let status = res.status();
        let _ = res.into_body().collect().await;
        if status.is_success() {
            Ok(())
        } else {
            Err(format!("publish answered {status}"))
        }
    }
}

/// What the benchmark publishes to: a server through a [`Publisher`], or
/// the floor.
pub trait Stamped: Send + 'static {
    /// Publishes event `seq` carrying the time `t` (µs, [`now_us`] clock).
    fn send_event(&mut self, seq: u64, t: u64) -> impl Future<Output = Result<(), String>> + Send;
}

impl Stamped for Publisher {
    fn send_event(&mut self, seq: u64, t: u64) -> impl Future<Output = Result<(), String>> + Send {
        self.publish_stamped(seq, t)
    }
}

/// Publishes events `seqs` from the publisher's own thread: at once
/// (`rate` None) or due at `rate` per second, stamped by a [`Schedule`].
/// Gives `to` back for the next step.
pub async fn publish_paced<P: Stamped>(
    mut to: P,
    seqs: RangeInclusive<u64>,
    rate: Option<u64>,
) -> Result<P, String> {
    on_publisher_thread(async move {
        let Some(rate) = rate else {
            for seq in seqs {
                to.send_event(seq, now_us()).await?;
            }
            return Ok(to);
        };
        let mut schedule = Schedule::starting_now(rate);
        for seq in seqs {
            pace_until(schedule.due_us(seq)).await;
            to.send_event(seq, schedule.stamp(seq, now_us())).await?;
            schedule.answered(now_us());
        }
        Ok(to)
    })
    .await?
}

/// How much of a wait [`pace_until`] leaves to the thread's own sleep.
const FINE_WAIT_US: u64 = 2_000;

/// Waits on the publisher's thread until `due_us` ([`now_us`] time): on
/// tokio's timer for all but the last [`FINE_WAIT_US`], then on the
/// thread's own sleep (`nanosleep`, late by the kernel's 50 µs timer slack
/// and the scheduler). tokio's timer has a 1 ms wheel: at 2,000 events/s it
/// released events in pairs, and in bursts of three or four after a late
/// wake-up, each sent as soon as the previous one was answered. A server
/// then answered the burst's publishes back to back, and the first event's
/// latency included the others' round trips: the benchmark measured its
/// own timer instead of the steady pace it promises. Blocking the thread is
/// safe: its runtime runs only the publisher and its connection, which have
/// nothing in flight between two events.
async fn pace_until(due_us: u64) {
    let now = now_us();
    if due_us > now + FINE_WAIT_US {
        tokio::time::sleep(Duration::from_micros(due_us - now - FINE_WAIT_US)).await;
    }
    let now = now_us();
    if due_us > now {
        std::thread::sleep(Duration::from_micros(due_us - now));
    }
}

/// Publishes the warm-up event (sequence 0), waits until each of the
/// `connected` subscribers has it (or [`DRAIN_TIMEOUT`]), then clears the
/// latencies and the delivery count so that it is not measured.
pub async fn warm_up<P: Stamped>(to: P, shared: &Shared, connected: usize) -> Result<P, String> {
    let to = publish_paced(to, 0..=0, None).await?;
    let deadline = tokio::time::Instant::now() + DRAIN_TIMEOUT;
    wait_until(shared, deadline, |s| {
        s.delivered.load(Relaxed) >= connected as u64
    })
    .await;
    shared.latency.reset();
    shared.delivered.store(0, Relaxed);
    Ok(to)
}

/// Runs `work` on the publisher's own thread (a single-threaded runtime,
/// started once). On the benchmark's main runtime the one publisher waits
/// behind thousands of subscriber tasks for every turn: under load it
/// publishes late, and every server is charged for the load generator's
/// own queue. On a thread of its own the kernel schedules it like any
/// other runnable thread. What `work` opens (the publisher's connection,
/// the floor's pipe) belongs to that thread's runtime: use it only there.
pub async fn on_publisher_thread<F>(work: F) -> Result<F::Output, String>
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
{
    static HANDLE: std::sync::OnceLock<Result<tokio::runtime::Handle, String>> =
        std::sync::OnceLock::new();
    let handle = HANDLE
        .get_or_init(|| {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .map_err(|e| format!("publisher runtime: {e}"))?;
            let handle = rt.handle().clone();
            std::thread::Builder::new()
                .name("publisher".into())
                .spawn(move || rt.block_on(std::future::pending::<()>()))
                .map_err(|e| format!("publisher thread: {e}"))?;
            Ok(handle)
        })
        .as_ref()
        .map_err(Clone::clone)?;
    handle
        .spawn(work)
        .await
        .map_err(|e| format!("publisher: {e}"))
}

#[cfg(test)]
mod tests {
    use super::{now_us, pace_until, Schedule};

    #[tokio::test]
    async fn the_pacer_never_releases_an_event_before_it_is_due() {
        // 300 µs apart, finer than tokio's 1 ms timer; the first one far
        // enough out to take the coarse wait as well.
        let s = Schedule::starting_at(now_us() + 5_000, 3_334);
        for seq in 1..=20 {
            let due = s.due_us(seq);
            pace_until(due).await;
            let now = now_us();
            assert!(now >= due, "event {seq} released {} µs early", due - now);
        }
    }

    #[test]
    fn events_are_due_one_period_apart_from_the_start() {
        let s = Schedule::starting_at(1_000_000, 400);
        assert_eq!(s.due_us(1), 1_000_000);
        assert_eq!(s.due_us(2), 1_002_500);
        assert_eq!(s.due_us(401), 2_000_000);
    }

    #[test]
    fn a_server_that_answers_slowly_is_charged_for_holding_the_publisher() {
        // 10 events/s, the server takes 150 ms to answer each publish, the
        // publisher sends 1 ms after each answer (its timer): a perfectly
        // timed one would send event 2 at 1.15 s (50 ms late) and event 3
        // at 1.30 s (100 ms late).
        let mut s = Schedule::starting_at(1_000_000, 10);
        assert_eq!(s.stamp(1, 1_000_000), 1_000_000);
        s.answered(1_150_000);
        assert_eq!(s.stamp(2, 1_151_000), 1_101_000);
        s.answered(1_301_000);
        assert_eq!(s.stamp(3, 1_302_000), 1_202_000);
    }

    #[test]
    fn a_late_timer_with_the_server_on_time_is_not_charged() {
        // 2,000 events/s, answers in 150 µs, the timer firing once a
        // millisecond: every event carries its send time, however late.
        let mut s = Schedule::starting_at(1_000_000, 2_000);
        for (seq, sent) in [
            (1, 1_000_900),
            (2, 1_001_050),
            (3, 1_001_950),
            (4, 1_002_100),
        ] {
            assert_eq!(s.stamp(seq, sent), sent, "event {seq}");
            s.answered(sent + 150);
        }
    }
}
