//! `TypedStream`: a client's events of one type as an async `Stream`.
//!
//! The buffer is bounded (the client's `stream_capacity`). When a consumer
//! falls that far behind, the oldest events are dropped and the stream
//! yields [`StreamError::Lagged`] with how many, so loss is never silent.
//! The stream ends when the client closes, ends or gives up.

use std::cell::RefCell;
use std::collections::VecDeque;
use std::marker::PhantomData;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll, Waker};

use futures_core::Stream;
use pushwire_protocol::TypedEvent;

use crate::client::SseClient;
use crate::driver::WeakDriver;
use crate::events::{ClientEvent, ParseError, ServerEvent, State};
use crate::handlers::HandlerId;

/// Why a stream item is not an event.
#[derive(Debug, Clone, PartialEq)]
pub enum StreamError {
    /// This many events were dropped because the consumer fell behind.
    Lagged(u64),
    /// An event's data did not decode as the stream's type.
    Decode(ParseError),
}

struct Buffer<T> {
    items: VecDeque<Result<T, StreamError>>,
    capacity: usize,
    lagged: u64,
    ended: bool,
    waker: Option<Waker>,
}

impl<T> Buffer<T> {
    fn push(&mut self, item: Result<T, StreamError>) {
        if self.items.len() >= self.capacity {
            self.items.pop_front();
            self.lagged += 1;
        }
        self.items.push_back(item);
        if let Some(w) = self.waker.take() {
            w.wake();
        }
    }
}

/// The events of type `T` of one client. Created by [`SseClient::events`];
/// dropping it unregisters its handlers.
#[must_use = "streams do nothing unless polled"]
pub struct TypedStream<T> {
    buffer: Rc<RefCell<Buffer<T>>>,
    client: WeakDriver,
    handlers: [HandlerId; 2],
    _type: PhantomData<T>,
}

impl<T> std::fmt::Debug for TypedStream<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TypedStream").finish_non_exhaustive()
    }
}

impl SseClient {
    /// The client's `T` events as a `Stream`.
    ///
    /// ```no_run
    /// # async fn run() {
    /// use futures_util::StreamExt;
    /// use pushwire_client::SseClient;
    /// use pushwire_protocol::MonitoringData;
    /// let client = SseClient::builder("/sse/monitoring").build().unwrap();
    /// let mut samples = client.events::<MonitoringData>();
    /// client.connect();
    /// while let Some(Ok(sample)) = samples.next().await {
    ///     let _ = sample.cpu_usage;
    /// }
    /// # }
    /// ```
    pub fn events<T: TypedEvent + 'static>(&self) -> TypedStream<T> {
        let buffer = Rc::new(RefCell::new(Buffer {
            items: VecDeque::new(),
            capacity: self.options().stream_capacity.max(1),
            lagged: 0,
            ended: matches!(self.state(), State::Failed),
            waker: None,
        }));
        let sink = buffer.clone();
        let on_event = self.on_server_event(T::NAME, move |event: &ServerEvent| {
            match event.decode::<T>() {
                Ok(value) => sink.borrow_mut().push(Ok(value)),
                Err(err) => {
                    sink.borrow_mut()
                        .push(Err(StreamError::Decode(err.clone())));
                    return Err(err);
                }
            }
            Ok(())
        });
        let sink = buffer.clone();
        let on_state = self.on_client_event(move |event: &ClientEvent| {
            if let ClientEvent::State(State::Closed | State::Failed) = event {
                let mut b = sink.borrow_mut();
                b.ended = true;
                if let Some(w) = b.waker.take() {
                    w.wake();
                }
            }
        });
        TypedStream {
            buffer,
            client: self.downgrade(),
            handlers: [on_event, on_state],
            _type: PhantomData,
        }
    }
}

impl<T> Stream for TypedStream<T> {
    type Item = Result<T, StreamError>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let mut b = self.buffer.borrow_mut();
        if b.lagged > 0 {
            let n = std::mem::take(&mut b.lagged);
            return Poll::Ready(Some(Err(StreamError::Lagged(n))));
        }
        if let Some(item) = b.items.pop_front() {
            return Poll::Ready(Some(item));
        }
        if b.ended {
            return Poll::Ready(None);
        }
        b.waker = Some(cx.waker().clone());
        Poll::Pending
    }
}

impl<T> Drop for TypedStream<T> {
    fn drop(&mut self) {
        for id in self.handlers {
            self.client.remove_handler(id);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_full_buffer_drops_the_oldest_and_counts_it() {
        let mut b: Buffer<u32> = Buffer {
            items: VecDeque::new(),
            capacity: 2,
            lagged: 0,
            ended: false,
            waker: None,
        };
        for i in 0..5 {
            b.push(Ok(i));
        }
        assert_eq!(b.lagged, 3);
        let kept: Vec<u32> = b.items.iter().map(|r| *r.as_ref().unwrap()).collect();
        assert_eq!(kept, [3, 4]);
    }
}
