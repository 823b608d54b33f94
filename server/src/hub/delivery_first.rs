//! Deliveries before answers: a publish's answer is written after the
//! subscribers it woke have had their turn to write the event.
//!
//! Why: on one worker thread, the subscriber a publish wakes waits in the
//! worker's queue until the publishing connection's task yields, and that
//! task would first write the publish's answer. On loopback that write
//! alone costs tens of microseconds (the kernel delivers into the receiving
//! socket, and wakes its reader, inside the sender's system call), so every
//! event waited for its own publish's answer. Measured with `pushwire-bench
//! --scenarios single` (one subscriber, 2,000 events/s; 15 alternating
//! runs each): median latency 160–179 µs answering first, 117–131 µs with
//! the subscriber first; `perf stat` of the server over 2 s: the same
//! system calls (about 8,000 `sendto` and 4,130 `epoll_wait`), 32–42
//! `futex` calls against 12–20. The p99 moved less reliably: the event and
//! the answer now leave back to back, and on two shared cores the load
//! generator's two threads then wait for a core more often; on this
//! virtual machine the hypervisor's steal during those runs rose from a
//! median 3.4% to 10.6% of the CPU time (BENCHMARKS.md, *Where pushwire is
//! behind*).
//!
//! Then one yield of the CPU, for the reader's sake: a loopback write
//! wakes its reader on the writer's CPU (a scheduler trace, `perf record
//! -e sched:*`, 1 s, tracing on), so a load generator, or a proxy in front
//! of the server, takes turns with the server on one vCPU. Answering
//! first, the publisher took the server's CPU after 1,796 of 1,935 answers,
//! and the event left a median 57 µs after its answer. Delivering first
//! without the yield, the events' readers and the publisher ran on both
//! vCPUs about equally (11,008 and 12,111 scheduler events), and on this
//! virtual machine a wake-up on the other vCPU is where the hypervisor's
//! steal lands. With it (step 4), the subscriber read before the answer
//! was written in 1,982 of 2,007 events, and 70% of the scheduler's events
//! stayed on one vCPU. Measured with `pushwire-bench --scenarios single`,
//! three invocations of 3 rounds each, alternating with hyperlane: median
//! 93–103 µs with the yield, 117–130 without, hyperlane 141–150; every
//! round's p99 189–1,209 µs at 0.4–1.7% steal with it (the nine rounds'
//! median 449), 341–11,100 µs at 0.7–4.2% without, hyperlane 319–877 µs at
//! 0.6–1.4% (median 464). Answering first instead gave a median of 155 and
//! 164 µs, p99 401–758 µs. With nothing else to run, the yield returns at
//! once (0.75 µs per `sched_yield` here).
//!
//! How, without the scheduler's help: `tokio::task::yield_now` after a
//! publish gave the same order, but a yielding task makes its worker look
//! for work and wake the other worker on every publish (7,815 `futex`
//! calls in 2 s against 12, and a p99 of up to 3.5 ms). Instead:
//!
//! 1. Every connection's task runs inside a [`ConnectionTask`]. A
//!    subscriber's queue notes whether its waker was registered from one
//!    ([`in_connection`]).
//! 2. The answer's future runs inside [`CountWoken`]. When a publish in it
//!    reached at most [`MAX_REACHED`] subscribers and is about to wake
//!    connections among them, the hub's
//!    [`Wakeups`](super::queue::Wakeups) calls [`note_woken`], which leaves
//!    a [`DeliveryFirst`] gate for the answer in a list here, *before* the
//!    wake-ups.
//! 3. The answer waits on its gate. The woken subscriber runs next
//!    (tokio's LIFO slot), writes, and at the end of its poll its
//!    [`ConnectionTask`] opens every gate in the list. Woken from inside a
//!    running task, the answer takes the now empty LIFO slot: no other
//!    worker is disturbed.
//! 4. Having opened a gate, the thread yields its CPU once
//!    ([`std::thread::yield_now`]), so that the reader the subscriber's
//!    write woke on this CPU reads before the answer wakes the publisher.
//!
//! Why it cannot hang: an answer waits only when it woke a connection's
//! task, tokio polls every woken task, and the end of *any* connection
//! task's poll, on any thread, opens every gate already listed (so an
//! answer may go out a little early, never late); so does a connection
//! task dropped without being polled (aborted, or its runtime shut down). The gate is listed
//! before the wake-up, so even a subscriber already running on another
//! worker opens it. A subscriber whose client is slow (its task blocked on
//! a write, not reading its queue) is polled all the same. A subscriber
//! that is not a connection of this server (a stream mounted in a user's
//! own warp app) is not counted: its publish answers at once. Only the lean
//! HTTP/1.1 path waits ([`conn::lean`](crate::conn)); answers hyper writes
//! (TLS, HTTP/2, large bodies) go out as they did.

use std::cell::{Cell, RefCell};
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};

use futures_util::task::AtomicWaker;

thread_local! {
    /// A connection's task is being polled on this thread.
    static IN_CONNECTION: Cell<bool> = const { Cell::new(false) };
    /// A [`CountWoken`] future is being polled on this thread.
    static COUNTING: Cell<bool> = const { Cell::new(false) };
    /// The gate [`note_woken`] listed for the [`CountWoken`] being polled.
    static LISTED: RefCell<Option<Arc<Gate>>> = const { RefCell::new(None) };
    /// The connection task being polled listed a gate of its own: the end
    /// of its poll must not open it.
    static LISTED_HERE: Cell<bool> = const { Cell::new(false) };
}

/// Gates of answers waiting for the next connection task's poll to end,
/// and how many (read without the lock at the end of every such poll).
static LISTED_GATES: Mutex<Vec<Arc<Gate>>> = Mutex::new(Vec::new());
static LISTED_COUNT: AtomicUsize = AtomicUsize::new(0);

#[derive(Default)]
struct Gate {
    open: AtomicBool,
    answer: AtomicWaker,
}

/// A waker registered now belongs to a connection's task.
pub(crate) fn in_connection() -> bool {
    IN_CONNECTION.with(Cell::get)
}

/// A publish that reaches more subscribers than this answers first, even
/// when it wakes only a few of them (the others still busy with earlier
/// events, as on a saturated server).
///
/// Why: at 10,000 subscribers × 100 events/s (the server saturated),
/// waiting cut deliveries from 902,000 to 720,000 per second and raised the
/// worst p99 from 924 to 2,386 ms (`pushwire-bench --scenarios sweep
/// --points 10000x100`, two rounds each; the cause is not traced). A large
/// fan-out's first deliveries go out in the woken tasks' order anyway; the
/// order of writes matters where one subscriber waits for one event. The
/// subscribers reached are counted, not those woken: on a saturated server
/// a publish to 1,000 finds most of them busy and wakes a few, and waiting
/// (and yielding, step 4) for those cost 1.55–2.29 µs of CPU per delivery
/// at 1,000 × 1,000 against 1.23–1.31 µs answering first (two alternating
/// rounds each).
pub(crate) const MAX_REACHED: usize = 16;

/// The hub is about to wake `connections` connection tasks, of the
/// `reached` subscribers a publish queued its frame for: when an answer is
/// being counted ([`CountWoken`]), has no gate yet, woke one at least and
/// reached at most [`MAX_REACHED`], lists one.
pub(crate) fn note_woken(connections: usize, reached: usize) {
    if connections == 0 || reached > MAX_REACHED || !COUNTING.with(Cell::get) {
        return;
    }
    LISTED.with(|listed| {
        let mut listed = listed.borrow_mut();
        if listed.is_none() {
            let gate = Arc::new(Gate::default());
            lock_gates().push(gate.clone());
            LISTED_COUNT.fetch_add(1, Ordering::Relaxed);
            LISTED_HERE.with(|here| here.set(true));
            *listed = Some(gate);
        }
    });
}

/// Opens every listed gate, then yields the CPU once (step 4 of the
/// module docs).
fn open_gates() {
    if LISTED_COUNT.load(Ordering::Relaxed) == 0 {
        return;
    }
    let gates = std::mem::take(&mut *lock_gates());
    LISTED_COUNT.fetch_sub(gates.len(), Ordering::Relaxed);
    if gates.is_empty() {
        return;
    }
    for gate in gates {
        gate.open.store(true, Ordering::Release);
        gate.answer.wake();
    }
    // Step 4 of the module docs: a local reader of the event just written
    // runs before the answer goes out.
    std::thread::yield_now();
}

fn lock_gates() -> std::sync::MutexGuard<'static, Vec<Arc<Gate>>> {
    // A list stays consistent across a panic.
    LISTED_GATES.lock().unwrap_or_else(|e| e.into_inner())
}

pin_project_lite::pin_project! {
    /// One connection's task (see the module docs); it adds no bytes.
    pub(crate) struct ConnectionTask<F> {
        #[pin]
        task: F,
    }

    impl<F> PinnedDrop for ConnectionTask<F> {
        /// A task dropped instead of polled (aborted after a publish woke
        /// it, or its runtime shutting down) opens the gates as its poll
        /// would have: on an otherwise idle server no other poll might.
        fn drop(_this: Pin<&mut Self>) {
            open_gates();
        }
    }
}

impl<F: Future> ConnectionTask<F> {
    pub(crate) fn new(task: F) -> Self {
        ConnectionTask { task }
    }
}

impl<F: Future> Future for ConnectionTask<F> {
    type Output = F::Output;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        /// Leaves the connection's poll even when the task panics (the
        /// panic is caught further in, but stay safe).
        struct Leave;
        impl Drop for Leave {
            fn drop(&mut self) {
                IN_CONNECTION.with(|c| c.set(false));
            }
        }
        IN_CONNECTION.with(|c| c.set(true));
        LISTED_HERE.with(|here| here.set(false));
        let leave = Leave;
        let out = self.project().task.poll(cx);
        drop(leave);
        if !LISTED_HERE.with(|here| here.replace(false)) {
            open_gates();
        }
        out
    }
}

pin_project_lite::pin_project! {
    /// An answer's future; ready with the answer and, when a publish in it
    /// woke connections, the gate to wait on before writing it.
    pub(crate) struct CountWoken<F> {
        #[pin]
        answer: F,
        gate: Option<Arc<Gate>>,
    }
}

impl<F: Future> CountWoken<F> {
    pub(crate) fn new(answer: F) -> Self {
        CountWoken { answer, gate: None }
    }
}

impl<F: Future> Future for CountWoken<F> {
    type Output = (F::Output, Option<DeliveryFirst>);

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        let counting = Counting::start();
        let out = this.answer.poll(cx);
        if let Some(gate) = counting.finish() {
            *this.gate = Some(gate);
        }
        out.map(|answer| (answer, this.gate.take().map(|gate| DeliveryFirst { gate })))
    }
}

/// The counting of one poll of a [`CountWoken`]; ends even when the answer
/// panics (the panic is answered with a 500 further out, on this thread).
struct Counting;

impl Counting {
    fn start() -> Self {
        COUNTING.with(|c| c.set(true));
        LISTED.with(|l| l.borrow_mut().take());
        Counting
    }

    /// The gate listed during the poll, if any.
    fn finish(self) -> Option<Arc<Gate>> {
        LISTED.with(|l| l.borrow_mut().take())
    }
}

impl Drop for Counting {
    fn drop(&mut self) {
        COUNTING.with(|c| c.set(false));
        LISTED.with(|l| l.borrow_mut().take());
    }
}

/// Ready once the gate a publish listed is open: once a connection task
/// other than the publisher's has been polled since the publish woke it.
#[must_use = "futures do nothing unless polled"]
pub(crate) struct DeliveryFirst {
    gate: Arc<Gate>,
}

impl Future for DeliveryFirst {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        if self.gate.open.load(Ordering::Acquire) {
            return Poll::Ready(());
        }
        self.gate.answer.register(cx.waker());
        if self.gate.open.load(Ordering::Acquire) {
            Poll::Ready(())
        } else {
            Poll::Pending
        }
    }
}
