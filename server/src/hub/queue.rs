//! `FrameQueue`: the bounded queue between the hub and one subscriber.
//!
//! The hub pushes encoded frames with [`QueueSender::try_send_deferred`]
//! and never waits: a full queue (by frames or by bytes) means the
//! subscriber fell behind, and the hub cuts it off instead of buffering
//! without bound. A cut-off queue drops its frames at once (the memory is
//! released then, not when the subscriber's task next runs) and its stream
//! ends; the client resumes from the last frame it got, through replay. The subscriber's
//! stream pops frames with [`QueueReceiver::poll_recv`].
//!
//! Why not `tokio::sync::mpsc`: its channel allocates a block of 32 slots up
//! front (about 1.5 KiB with the channel itself) for every subscriber,
//! which is more than everything else an idle subscriber costs here. This
//! queue starts empty, grows only while frames are waiting, and gives back
//! a large buffer once it has drained.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicUsize, Ordering::Relaxed};
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{Context, Poll, Waker};

use bytes::Bytes;

use super::delivery_first;

/// A drained queue keeps at most this many slots allocated; a burst that
/// needed more gives the memory back.
pub const RETAINED_SLOTS: usize = 8;

/// Why a frame was not queued.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TrySendError {
    /// The frame would exceed the queue's frames or bytes: the queue is
    /// now cut off.
    Full,
    /// The subscriber is gone.
    Closed,
}

#[derive(Debug)]
struct State {
    frames: VecDeque<Bytes>,
    /// Bytes of the frames waiting.
    bytes: usize,
    /// Cut off for falling behind: the stream ends without draining.
    cut_off: bool,
    waker: Option<Waker>,
    /// `waker` is a connection task's ([`delivery_first`]).
    waker_in_connection: bool,
    senders: usize,
    receiver_alive: bool,
}

#[derive(Debug)]
struct Shared {
    capacity: usize,
    max_bytes: usize,
    /// Frames waiting, readable without the lock (updated under it).
    len: AtomicUsize,
    state: Mutex<State>,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, State> {
        // A panic while holding this lock cannot leave the queue inconsistent
        // (every update is a single push/pop/flag), so a poisoned lock is
        // still usable.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// A bounded frame queue holding at most `capacity` frames and `max_bytes`
/// bytes of them (the unit tests below show it cutting off at each bound).
pub fn frame_queue(capacity: usize, max_bytes: usize) -> (QueueSender, QueueReceiver) {
    let shared = Arc::new(Shared {
        capacity,
        max_bytes,
        len: AtomicUsize::new(0),
        state: Mutex::new(State {
            frames: VecDeque::new(),
            bytes: 0,
            cut_off: false,
            waker: None,
            waker_in_connection: false,
            senders: 1,
            receiver_alive: true,
        }),
    });
    (
        QueueSender {
            shared: shared.clone(),
        },
        QueueReceiver { shared },
    )
}

/// The hub's end of a subscriber's queue. Clones share the queue; the
/// receiver sees the end once every sender is dropped.
#[derive(Debug)]
pub struct QueueSender {
    shared: Arc<Shared>,
}

impl QueueSender {
    /// [`QueueSender::try_send_deferred`], waking the receiver at once.
    #[cfg(test)]
    pub fn try_send(&self, frame: Bytes) -> Result<(), TrySendError> {
        let mut wakes = Wakeups::default();
        let result = self.try_send_deferred(frame, &mut wakes);
        wakes.wake_all();
        result
    }

    /// Queues `frame` unless the receiver is gone; cuts the queue off
    /// (dropping what waits) when the frame would exceed its bounds. The
    /// receiver's wake-up is left in `wakes`, for the caller to make once
    /// it has released its own locks.
    pub fn try_send_deferred(&self, frame: Bytes, wakes: &mut Wakeups) -> Result<(), TrySendError> {
        let (waker, result) = {
            let mut st = self.shared.lock();
            if !st.receiver_alive || st.cut_off {
                return Err(TrySendError::Closed);
            }
            if st.frames.len() >= self.shared.capacity
                || st.bytes + frame.len() > self.shared.max_bytes
            {
                st.cut_off = true;
                st.frames = VecDeque::new();
                st.bytes = 0;
                self.shared.len.store(0, Relaxed);
                (take_waker(&mut st), Err(TrySendError::Full))
            } else {
                st.bytes += frame.len();
                st.frames.push_back(frame);
                self.shared.len.store(st.frames.len(), Relaxed);
                (take_waker(&mut st), Ok(()))
            }
        };
        wakes.reached += 1;
        // Woken outside this lock too, so the receiver never wakes into it.
        if let Some((w, in_connection)) = waker {
            wakes.connections += usize::from(in_connection);
            wakes.wakers.push(w);
        }
        result
    }
}

/// Receivers to wake, in the order their frames were queued. The hub
/// queues an event for every subscriber under its lock and wakes them only
/// after releasing it: a publish to 10,000 subscribers then holds the lock
/// for the queueing alone, not for 10,000 wake-ups into the runtime, and a
/// woken task never finds the hub locked by its own wake-up.
///
/// It also counts the receivers reached and those woken that are
/// connection tasks, for [`delivery_first`]: the answer of a publish to a
/// few subscribers waits for them to write first.
#[derive(Debug, Default)]
pub struct Wakeups {
    wakers: Vec<Waker>,
    connections: usize,
    /// Receivers the frames went to, woken or not.
    reached: usize,
}

impl Wakeups {
    /// Wakes every receiver, first queued first.
    pub fn wake_all(self) {
        // Before the wake-ups: a woken subscriber may run (and finish its
        // poll) on another worker at once.
        delivery_first::note_woken(self.connections, self.reached);
        self.wakers.into_iter().for_each(Waker::wake);
    }
}

/// The receiver's waker, and whether a connection's task registered it.
fn take_waker(st: &mut State) -> Option<(Waker, bool)> {
    st.waker.take().map(|w| (w, st.waker_in_connection))
}

impl Clone for QueueSender {
    fn clone(&self) -> Self {
        self.shared.lock().senders += 1;
        QueueSender {
            shared: self.shared.clone(),
        }
    }
}

impl Drop for QueueSender {
    fn drop(&mut self) {
        let waker = {
            let mut st = self.shared.lock();
            st.senders -= 1;
            if st.senders == 0 {
                st.waker.take()
            } else {
                None
            }
        };
        if let Some(w) = waker {
            w.wake();
        }
    }
}

/// The subscriber's end of its queue.
#[derive(Debug)]
pub struct QueueReceiver {
    shared: Arc<Shared>,
}

impl QueueReceiver {
    /// The next frame; `None` once the queue is cut off, or once it is
    /// empty and every sender gone (the subscriber unsubscribed, or shutdown).
    pub fn poll_recv(&mut self, cx: &mut Context<'_>) -> Poll<Option<Bytes>> {
        let mut st = self.shared.lock();
        if st.cut_off {
            return Poll::Ready(None);
        }
        if let Some(frame) = st.frames.pop_front() {
            st.bytes -= frame.len();
            self.shared.len.store(st.frames.len(), Relaxed);
            if st.frames.is_empty() && st.frames.capacity() > RETAINED_SLOTS {
                st.frames.shrink_to(RETAINED_SLOTS);
            }
            return Poll::Ready(Some(frame));
        }
        if st.senders == 0 {
            return Poll::Ready(None);
        }
        match &mut st.waker {
            Some(w) if w.will_wake(cx.waker()) => {}
            slot => *slot = Some(cx.waker().clone()),
        }
        st.waker_in_connection = delivery_first::in_connection();
        Poll::Pending
    }
}

impl QueueReceiver {
    /// Frames waiting right now (a snapshot: senders may add more).
    pub fn len(&self) -> usize {
        self.shared.len.load(Relaxed)
    }

    /// No frame is waiting right now.
    #[cfg(test)]
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl Drop for QueueReceiver {
    fn drop(&mut self) {
        let mut st = self.shared.lock();
        st.receiver_alive = false;
        st.frames = VecDeque::new();
        st.waker = None;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use futures_util::task::noop_waker_ref;
    use std::future::Future;

    fn frame(n: u8) -> Bytes {
        Bytes::from(vec![n])
    }

    #[test]
    fn delivers_in_order_with_room_again_once_drained() {
        let (tx, mut rx) = frame_queue(3, 1024);
        for n in 0..3 {
            assert_eq!(tx.try_send(frame(n)), Ok(()));
        }
        assert_eq!(rx.len(), 3);
        let mut cx = Context::from_waker(noop_waker_ref());
        for n in 0..3 {
            assert_eq!(rx.poll_recv(&mut cx), Poll::Ready(Some(frame(n))));
        }
        assert_eq!(rx.poll_recv(&mut cx), Poll::Pending);
        assert!(rx.is_empty());
        assert_eq!(tx.try_send(frame(3)), Ok(()), "room again once drained");
    }

    #[test]
    fn past_its_frames_it_is_cut_off_and_lets_go_of_them_at_once() {
        let (tx, mut rx) = frame_queue(3, 1024);
        for n in 0..3 {
            tx.try_send(frame(n)).unwrap();
        }
        assert_eq!(tx.try_send(frame(9)), Err(TrySendError::Full));
        assert_eq!(rx.len(), 0);
        assert_eq!(rx.shared.lock().frames.capacity(), 0, "memory released");
        assert_eq!(tx.try_send(frame(1)), Err(TrySendError::Closed));
        let mut cx = Context::from_waker(noop_waker_ref());
        assert_eq!(rx.poll_recv(&mut cx), Poll::Ready(None), "ends at once");
    }

    #[test]
    fn past_its_bytes_it_is_cut_off() {
        let (tx, mut rx) = frame_queue(100, 10);
        tx.try_send(Bytes::from_static(b"0123456")).unwrap();
        tx.try_send(Bytes::from_static(b"789")).unwrap();
        let mut cx = Context::from_waker(noop_waker_ref());
        assert_eq!(
            rx.poll_recv(&mut cx),
            Poll::Ready(Some(Bytes::from_static(b"0123456")))
        );
        tx.try_send(Bytes::from_static(b"abcdefg")).unwrap();
        assert_eq!(rx.shared.lock().bytes, 10);
        assert_eq!(
            tx.try_send(Bytes::from_static(b"!")),
            Err(TrySendError::Full)
        );
        assert_eq!(rx.poll_recv(&mut cx), Poll::Ready(None));
    }

    #[test]
    fn ends_after_the_last_sender_and_drains_first() {
        let (tx, mut rx) = frame_queue(4, 1024);
        let tx2 = tx.clone();
        tx.try_send(frame(1)).unwrap();
        drop(tx);
        let mut cx = Context::from_waker(noop_waker_ref());
        assert_eq!(rx.poll_recv(&mut cx), Poll::Ready(Some(frame(1))));
        assert_eq!(rx.poll_recv(&mut cx), Poll::Pending, "one sender is left");
        drop(tx2);
        assert_eq!(rx.poll_recv(&mut cx), Poll::Ready(None));
    }

    #[test]
    fn a_gone_receiver_refuses_frames() {
        let (tx, rx) = frame_queue(4, 1024);
        drop(rx);
        assert_eq!(tx.try_send(frame(1)), Err(TrySendError::Closed));
    }

    #[tokio::test]
    async fn wakes_the_receiver_on_send_and_on_close() {
        let (tx, mut rx) = frame_queue(4, 1024);
        let recv = tokio::spawn(async move {
            let mut got = Vec::new();
            while let Some(f) = std::future::poll_fn(|cx| rx.poll_recv(cx)).await {
                got.push(f);
            }
            got
        });
        tokio::task::yield_now().await;
        tx.try_send(frame(1)).unwrap();
        tokio::task::yield_now().await;
        tx.try_send(frame(2)).unwrap();
        drop(tx);
        assert_eq!(recv.await.unwrap(), vec![frame(1), frame(2)]);
    }

    /// Only a connection task's receiver counts for
    /// [`delivery_first`]: its answer waits for those alone.
    #[test]
    fn counts_the_receivers_that_are_connection_tasks() {
        let (in_connection, mut rx_a) = frame_queue(4, 1024);
        let (elsewhere, mut rx_b) = frame_queue(4, 1024);
        let registered = std::pin::pin!(delivery_first::ConnectionTask::new(std::future::poll_fn(
            |cx| rx_a.poll_recv(cx).map(|_| ())
        )));
        let mut cx = Context::from_waker(noop_waker_ref());
        assert!(registered.poll(&mut cx).is_pending());
        assert!(rx_b.poll_recv(&mut cx).is_pending());

        let mut wakes = Wakeups::default();
        in_connection
            .try_send_deferred(frame(1), &mut wakes)
            .unwrap();
        elsewhere.try_send_deferred(frame(2), &mut wakes).unwrap();
        assert_eq!(wakes.wakers.len(), 2, "both are woken");
        assert_eq!(wakes.connections, 1, "one of them is a connection's");
    }

    #[test]
    fn gives_back_a_burst_buffer_once_drained() {
        let (tx, mut rx) = frame_queue(256, 1 << 20);
        for n in 0..200 {
            tx.try_send(frame(n as u8)).unwrap();
        }
        let mut cx = Context::from_waker(noop_waker_ref());
        while let Poll::Ready(Some(_)) = rx.poll_recv(&mut cx) {}
        assert!(rx.shared.lock().frames.capacity() <= RETAINED_SLOTS);
    }
}
