//! `SseEvent`: one event of an [`Sse`](super::Sse) response, built with the
//! protocol crate's injection-proof encoder (a newline in an id or event
//! name is refused, never written as a second field).

use std::time::Duration;

use bytes::Bytes;
use pushwire_protocol::names::{END_COMPLETE, END_EVENT};
use pushwire_protocol::{EncodeError, Frame, TypedEvent};
use serde::Serialize;

/// One server-sent event: data (text or JSON), and optionally an event
/// name, an id and a reconnection delay.
///
/// ```
/// use pushwire_server::SseEvent;
///
/// #[derive(serde::Serialize)]
/// struct Tick { n: u32 }
///
/// let event = SseEvent::typed(&Tick { n: 7 })?.event("tick").id("7");
/// assert_eq!(&event.encode()?[..], b"id: 7\nevent: tick\ndata: {\"n\":7}\n\n");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[must_use = "an event does nothing until it is sent in an Sse stream"]
pub struct SseEvent {
    id: Option<String>,
    event: Option<String>,
    data: Option<String>,
    retry_ms: Option<u64>,
}

impl SseEvent {
    /// An event whose data is `text`, sent as-is (newlines become several
    /// `data:` lines, as the SSE format requires).
    pub fn text(text: impl Into<String>) -> Self {
        SseEvent {
            data: Some(text.into()),
            ..SseEvent::default()
        }
    }

    /// An event whose data is `value` as JSON.
    pub fn typed<T: Serialize + ?Sized>(value: &T) -> Result<Self, serde_json::Error> {
        serde_json::to_string(value).map(Self::text)
    }

    /// An event whose data is `value` as JSON and whose name is the type's
    /// [`TypedEvent::NAME`].
    pub fn named<T: TypedEvent>(value: &T) -> Result<Self, serde_json::Error> {
        Ok(Self::typed(value)?.event(T::NAME))
    }

    /// `pushwire.end` `{"reason": "complete"}`: the last event of a finite
    /// stream, telling pushwire clients not to reconnect.
    pub fn end() -> Self {
        let data = serde_json::json!({ "reason": END_COMPLETE });
        Self::text(data.to_string()).event(END_EVENT)
    }

    /// An event with no data: it dispatches nothing in the browser but sets
    /// the client's last event id (so a reconnect resumes from here).
    pub fn position(id: impl Into<String>) -> Self {
        SseEvent::default().id(id)
    }

    /// Sets the event name (`message` when not set).
    pub fn event(mut self, event: impl Into<String>) -> Self {
        self.event = Some(event.into());
        self
    }

    /// Sets the id a reconnecting client sends back as `Last-Event-ID`.
    pub fn id(mut self, id: impl Into<String>) -> Self {
        self.id = Some(id.into());
        self
    }

    /// Sets the client's reconnection delay.
    pub fn retry(mut self, delay: Duration) -> Self {
        self.retry_ms = Some(u64::try_from(delay.as_millis()).unwrap_or(u64::MAX));
        self
    }

    /// The encoded frame. Fails when the id or the event name contains a
    /// line break or the id a NUL (they would forge fields).
    pub fn encode(&self) -> Result<Bytes, EncodeError> {
        let mut frame = Frame::new();
        if let Some(id) = &self.id {
            frame = frame.id(id);
        }
        if let Some(event) = &self.event {
            frame = frame.event(event);
        }
        if let Some(data) = &self.data {
            frame = frame.data(data);
        }
        if let Some(retry) = self.retry_ms {
            frame = frame.retry(retry);
        }
        frame.encode()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use pushwire_protocol::End;

    #[test]
    fn end_is_the_protocol_end_event() {
        let end = End {
            reason: END_COMPLETE.into(),
        };
        let named = SseEvent::named(&end).expect("serialises");
        assert_eq!(SseEvent::end().encode(), named.encode());
    }
}
