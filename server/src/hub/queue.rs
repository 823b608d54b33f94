//! `FrameQueue`: the bounded queue between the hub and one subscriber.
//!
//! The hub pushes encoded frames with [`QueueSender::try_send`] and never
//! waits: a full queue means the subscriber fell behind, and the hub cuts it
//! off instead of buffering without bound. The subscriber's stream pops them
//! with [`QueueReceiver::poll_recv`].
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

/// A drained queue keeps at most this many slots allocated; a burst that
/// needed more gives the memory back.
pub const RETAINED_SLOTS: usize = 8;

/// Why a frame was not queued.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TrySendError {
    /// The subscriber has `capacity` frames waiting already.
    Full,
    /// The subscriber is gone.
    Closed,
}

#[derive(Debug)]
struct State {
    frames: VecDeque<Bytes>,
    waker: Option<Waker>,
    senders: usize,
    receiver_alive: bool,
}

#[derive(Debug)]
struct Shared {
    capacity: usize,
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

/// A bounded frame queue holding at most `capacity` frames (the unit
/// tests below show it refusing the frame past the bound).
pub fn frame_queue(capacity: usize) -> (QueueSender, QueueReceiver) {
    let shared = Arc::new(Shared {
        capacity,
        len: AtomicUsize::new(0),
        state: Mutex::new(State {
            frames: VecDeque::new(),
            waker: None,
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
    /// Queues `frame` unless the queue is full or the receiver is gone.
    pub fn try_send(&self, frame: Bytes) -> Result<(), TrySendError> {
        let waker = {
            let mut st = self.shared.lock();
            if !st.receiver_alive {
                return Err(TrySendError::Closed);
            }
            if st.frames.len() >= self.shared.capacity {
                return Err(TrySendError::Full);
            }
            st.frames.push_back(frame);
            self.shared.len.store(st.frames.len(), Relaxed);
            st.waker.take()
        };
        // Woken outside the lock, so the receiver never wakes into a held lock.
        if let Some(w) = waker {
            w.wake();
        }
        Ok(())
    }
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
    /// The next frame; `None` once the queue is empty and every sender gone
    /// (the hub cut the subscriber off, it unsubscribed, or shutdown).
    pub fn poll_recv(&mut self, cx: &mut Context<'_>) -> Poll<Option<Bytes>> {
        let mut st = self.shared.lock();
        if let Some(frame) = st.frames.pop_front() {
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

    fn frame(n: u8) -> Bytes {
        Bytes::from(vec![n])
    }

    #[test]
    fn delivers_in_order_and_refuses_past_capacity() {
        let (tx, mut rx) = frame_queue(3);
        for n in 0..3 {
            assert_eq!(tx.try_send(frame(n)), Ok(()));
        }
        assert_eq!(tx.try_send(frame(9)), Err(TrySendError::Full));
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
    fn ends_after_the_last_sender_and_drains_first() {
        let (tx, mut rx) = frame_queue(4);
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
        let (tx, rx) = frame_queue(4);
        drop(rx);
        assert_eq!(tx.try_send(frame(1)), Err(TrySendError::Closed));
    }

    #[tokio::test]
    async fn wakes_the_receiver_on_send_and_on_close() {
        let (tx, mut rx) = frame_queue(4);
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

    #[test]
    fn gives_back_a_burst_buffer_once_drained() {
        let (tx, mut rx) = frame_queue(256);
        for n in 0..200 {
            tx.try_send(frame(n as u8)).unwrap();
        }
        let mut cx = Context::from_waker(noop_waker_ref());
        while let Poll::Ready(Some(_)) = rx.poll_recv(&mut cx) {}
        assert!(rx.shared.lock().frames.capacity() <= RETAINED_SLOTS);
    }
}
