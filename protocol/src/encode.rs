//! The SSE frame encoder: turns one event into the exact bytes put on the wire.
//!
//! Encoding is injection-proof. `data` is split into one `data:` line per line
//! (CRLF, CR and LF all count as line breaks, as they do for the parser), so
//! no payload can end a frame early or smuggle in a field. `event`, `id` and
//! comments are single-line by definition: one holding CR or LF (or an `id`
//! holding NUL, which the parser would ignore) is rejected with an
//! [`EncodeError`] and nothing is written.
//!
//! The result is a [`Bytes`], cheap to clone: the server encodes an event once
//! and hands the same bytes to every subscriber.

use bytes::{BufMut, Bytes, BytesMut};

use crate::event::TypedEvent;

/// Why a frame could not be encoded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EncodeError {
    /// The `event` field holds a CR or LF.
    #[error("event name must not contain CR or LF")]
    LineBreakInEvent,
    /// The `event` field is empty (the parser would read it as `message`).
    #[error("event name must not be empty")]
    EmptyEvent,
    /// The `id` field holds a CR or LF.
    #[error("event id must not contain CR or LF")]
    LineBreakInId,
    /// The `id` field holds NUL, which makes the parser ignore the field.
    #[error("event id must not contain NUL")]
    NulInId,
    /// The comment holds a CR or LF.
    #[error("comment must not contain CR or LF")]
    LineBreakInComment,
    /// The typed value could not be serialised to JSON.
    #[error("event data could not be serialised as JSON: {0}")]
    Json(String),
}

/// One SSE frame, built field by field and encoded with [`Frame::encode`].
///
/// Fields are written in the order comment, `id`, `event`, `retry`, `data`,
/// followed by the blank line that dispatches the event.
///
/// ```
/// use pushwire_protocol::Frame;
/// let bytes = Frame::new().id("7").event("chat").data("hi\nthere").encode().unwrap();
/// assert_eq!(&bytes[..], b"id: 7\nevent: chat\ndata: hi\ndata: there\n\n");
/// // Line breaks cannot be smuggled into single-line fields.
/// assert!(Frame::new().event("x\ndata: evil").data("").encode().is_err());
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Frame<'a> {
    id: Option<&'a str>,
    event: Option<&'a str>,
    retry: Option<u64>,
    data: Option<&'a str>,
    comment: Option<&'a str>,
}

/// The event type a frame without an `event` field dispatches as.
pub const DEFAULT_EVENT: &str = "message";

impl<'a> Frame<'a> {
    /// An empty frame; on its own it encodes to a lone blank line.
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets the `id` field (the client's last event id after this frame).
    /// An empty id resets the client's last event id.
    pub fn id(mut self, id: &'a str) -> Self {
        self.id = Some(id);
        self
    }

    /// Sets the `event` field (the event type; `message` when absent).
    ///
    /// `message` itself is not written: a frame without an `event` field
    /// dispatches as `message`, so the line would be bytes for every
    /// subscriber to send and parse for nothing.
    ///
    /// ```
    /// use pushwire_protocol::Frame;
    /// let frame = Frame::new().event("message").data("hi").encode().unwrap();
    /// assert_eq!(&frame[..], b"data: hi\n\n");
    /// ```
    pub fn event(mut self, event: &'a str) -> Self {
        self.event = Some(event);
        self
    }

    /// Sets the `retry` field: the client's reconnection delay in milliseconds.
    pub fn retry(mut self, retry_ms: u64) -> Self {
        self.retry = Some(retry_ms);
        self
    }

    /// Sets the data. Without data the frame dispatches no event (it may still
    /// set the id or the retry delay).
    pub fn data(mut self, data: &'a str) -> Self {
        self.data = Some(data);
        self
    }

    /// Adds a comment line, ignored by clients (used for heartbeats).
    pub fn comment(mut self, comment: &'a str) -> Self {
        self.comment = Some(comment);
        self
    }

    /// Checks every field and returns the encoded frame.
    pub fn encode(&self) -> Result<Bytes, EncodeError> {
        let mut buf = BytesMut::with_capacity(self.encoded_len_hint());
        self.encode_into(&mut buf)?;
        Ok(buf.freeze())
    }

    /// Checks every field, then appends the encoded frame to `buf`. On error
    /// nothing is appended.
    pub fn encode_into(&self, buf: &mut BytesMut) -> Result<(), EncodeError> {
        self.validate()?;
        buf.reserve(self.encoded_len_hint());
        if let Some(comment) = self.comment {
            put_field(buf, b"", comment);
        }
        if let Some(id) = self.id {
            put_field(buf, b"id", id);
        }
        if let Some(event) = self.event.filter(|e| *e != DEFAULT_EVENT) {
            put_field(buf, b"event", event);
        }
        if let Some(retry) = self.retry {
            buf.put_slice(b"retry: ");
            buf.put_slice(retry.to_string().as_bytes());
            buf.put_u8(b'\n');
        }
        if let Some(data) = self.data {
            for line in split_lines(data) {
                put_field(buf, b"data", line);
            }
        }
        buf.put_u8(b'\n');
        Ok(())
    }

    fn validate(&self) -> Result<(), EncodeError> {
        if let Some(event) = self.event {
            if has_line_break(event) {
                return Err(EncodeError::LineBreakInEvent);
            }
            if event.is_empty() {
                return Err(EncodeError::EmptyEvent);
            }
        }
        if let Some(id) = self.id {
            if has_line_break(id) {
                return Err(EncodeError::LineBreakInId);
            }
            if id.contains('\0') {
                return Err(EncodeError::NulInId);
            }
        }
        if let Some(comment) = self.comment {
            if has_line_break(comment) {
                return Err(EncodeError::LineBreakInComment);
            }
        }
        Ok(())
    }

    fn encoded_len_hint(&self) -> usize {
        let data = self.data.map_or(0, |d| d.len() + 8);
        let id = self.id.map_or(0, |i| i.len() + 5);
        let event = self.event.map_or(0, |e| e.len() + 8);
        let comment = self.comment.map_or(0, |c| c.len() + 3);
        data + id + event + comment + 24
    }
}

/// Writes `name: value\n` (or `name:\n` for an empty value). The space after
/// the colon is always written when the value is non-empty, so a value that
/// itself starts with a space survives the parser's stripping of one space.
fn put_field(buf: &mut BytesMut, name: &[u8], value: &str) {
    buf.put_slice(name);
    buf.put_u8(b':');
    if !value.is_empty() {
        buf.put_u8(b' ');
        buf.put_slice(value.as_bytes());
    }
    buf.put_u8(b'\n');
}

fn has_line_break(s: &str) -> bool {
    s.bytes().any(|b| b == b'\n' || b == b'\r')
}

/// Splits on CRLF, CR and LF, like the parser does. `"a\n"` gives `["a", ""]`,
/// so a trailing line break survives the round trip.
fn split_lines(data: &str) -> impl Iterator<Item = &str> {
    let mut rest = Some(data);
    std::iter::from_fn(move || {
        let s = rest?;
        match s.find(['\r', '\n']) {
            None => {
                rest = None;
                Some(s)
            }
            Some(i) => {
                let skip = if s[i..].starts_with("\r\n") { 2 } else { 1 };
                rest = Some(&s[i + skip..]);
                Some(&s[..i])
            }
        }
    })
}

/// Encodes a [`TypedEvent`]: its JSON as `data`, its [`TypedEvent::NAME`] as
/// `event`, and `id` if given.
///
/// ```
/// use pushwire_protocol::{encode_typed, End};
/// let bytes = encode_typed(None, &End { reason: "complete".into() }).unwrap();
/// assert_eq!(&bytes[..], b"event: pushwire.end\ndata: {\"reason\":\"complete\"}\n\n");
/// ```
pub fn encode_typed<T: TypedEvent>(id: Option<&str>, value: &T) -> Result<Bytes, EncodeError> {
    let json = serde_json::to_string(value).map_err(|e| EncodeError::Json(e.to_string()))?;
    let mut frame = Frame::new().event(T::NAME).data(&json);
    if let Some(id) = id {
        frame = frame.id(id);
    }
    frame.encode()
}

/// Encodes a comment-only frame, e.g. a heartbeat. Clients ignore it; it keeps
/// proxies from timing the connection out and reveals dead peers.
pub fn encode_comment(comment: &str) -> Result<Bytes, EncodeError> {
    Frame::new().comment(comment).encode()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_fields_in_order() {
        let bytes = Frame::new()
            .comment("hi")
            .id("1")
            .event("e")
            .retry(3000)
            .data("x")
            .encode()
            .unwrap();
        assert_eq!(
            &bytes[..],
            b": hi\nid: 1\nevent: e\nretry: 3000\ndata: x\n\n"
        );
    }

    #[test]
    fn splits_data_on_every_line_break_kind() {
        let bytes = Frame::new().data("a\r\nb\rc\nd").encode().unwrap();
        assert_eq!(&bytes[..], b"data: a\ndata: b\ndata: c\ndata: d\n\n");
    }

    #[test]
    fn keeps_empty_and_trailing_lines() {
        let bytes = Frame::new().data("\n").encode().unwrap();
        assert_eq!(&bytes[..], b"data:\ndata:\n\n");
        let bytes = Frame::new().data("").encode().unwrap();
        assert_eq!(&bytes[..], b"data:\n\n");
    }

    #[test]
    fn data_cannot_inject_fields_or_end_the_frame() {
        let bytes = Frame::new()
            .data("x\n\nevent: evil\rid: 9")
            .encode()
            .unwrap();
        assert_eq!(
            &bytes[..],
            b"data: x\ndata:\ndata: event: evil\ndata: id: 9\n\n"
        );
    }

    #[test]
    fn rejects_line_breaks_in_single_line_fields() {
        for bad in ["a\nb", "a\rb", "a\r\nb", "\n"] {
            assert_eq!(
                Frame::new().event(bad).encode(),
                Err(EncodeError::LineBreakInEvent)
            );
            assert_eq!(
                Frame::new().id(bad).encode(),
                Err(EncodeError::LineBreakInId)
            );
            assert_eq!(
                Frame::new().comment(bad).encode(),
                Err(EncodeError::LineBreakInComment)
            );
        }
        assert_eq!(Frame::new().id("a\0b").encode(), Err(EncodeError::NulInId));
        assert_eq!(
            Frame::new().event("").encode(),
            Err(EncodeError::EmptyEvent)
        );
    }

    #[test]
    fn nothing_is_written_on_error() {
        let mut buf = BytesMut::from(&b"keep"[..]);
        assert!(Frame::new()
            .id("x")
            .event("a\nb")
            .data("d")
            .encode_into(&mut buf)
            .is_err());
        assert_eq!(&buf[..], b"keep");
    }

    #[test]
    fn preserves_leading_space_in_values() {
        let bytes = Frame::new().id(" x").data("  y").encode().unwrap();
        assert_eq!(&bytes[..], b"id:  x\ndata:   y\n\n");
    }

    #[test]
    fn comment_frames() {
        assert_eq!(&encode_comment("").unwrap()[..], b":\n\n");
        assert_eq!(
            &encode_comment("heartbeat").unwrap()[..],
            b": heartbeat\n\n"
        );
    }
}
