//! The incremental SSE parser, following the WHATWG HTML algorithm
//! "interpreting an event stream" to the letter.
//!
//! Feed it bytes in chunks of any size, split anywhere (inside a UTF-8
//! sequence, between the CR and LF of a CRLF, inside the BOM); it returns the
//! [`Item`]s completed so far. What the algorithm says:
//!
//! * one leading UTF-8 BOM is stripped; invalid UTF-8 becomes U+FFFD;
//! * lines end with CRLF, LF or CR;
//! * a line starting with `:` is a comment; otherwise the field name runs to
//!   the first `:` and one space after the colon is stripped from the value;
//!   a line with no colon is a field with an empty value;
//! * `data` lines are joined with LF; `event` sets the type (default
//!   `message`); `id` sets the last event id unless it holds NUL (an empty id
//!   resets it); `retry` counts only when it is all ASCII digits;
//! * a blank line dispatches the event, unless no `data` was seen;
//! * an event not finished when the stream ends is discarded.
//!
//! ```
//! use pushwire_protocol::{Item, Parser};
//! let mut p = Parser::new();
//! assert!(p.feed(b"id: 1\nevent: greet\ndata: hel").is_empty());
//! let items = p.feed(b"lo\r\n\r\n");
//! let Item::Event(e) = &items[0] else { panic!() };
//! assert_eq!((e.id.as_str(), e.event.as_str(), e.data.as_str()), ("1", "greet", "hello"));
//! ```

use serde::de::DeserializeOwned;

use crate::event::TypedEvent;

const BOM: [u8; 3] = [0xEF, 0xBB, 0xBF];

/// One event dispatched by the parser.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Event {
    /// The event type: the last `event` field of the block, or `message`.
    pub event: String,
    /// The `data` lines of the block joined with LF.
    pub data: String,
    /// The last event id at dispatch time (it carries over from earlier
    /// events when this one has no `id` field; empty when none was set).
    pub id: String,
}

impl Event {
    /// Decodes the data as JSON into any type.
    pub fn decode<T: DeserializeOwned>(&self) -> Result<T, serde_json::Error> {
        serde_json::from_str(&self.data)
    }

    /// Whether this event travels under `T`'s name.
    pub fn is<T: TypedEvent>(&self) -> bool {
        self.event == T::NAME
    }

    /// Decodes the data as `T` if this event carries `T`'s name; `None` for
    /// events of other names.
    pub fn decode_typed<T: TypedEvent>(&self) -> Option<Result<T, serde_json::Error>> {
        self.is::<T>().then(|| self.decode())
    }
}

/// What the parser produces, in stream order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Item {
    /// A dispatched event.
    Event(Event),
    /// A comment line (text after the colon, one leading space stripped).
    /// Clients ignore these; they are reported for diagnostics and tests.
    Comment(String),
    /// A valid `retry` field: the new reconnection delay in milliseconds.
    Retry(u64),
}

/// Incremental SSE parser. See the [module documentation](self).
#[derive(Debug, Clone, Default)]
pub struct Parser {
    /// Bytes of the line not yet terminated.
    line: Vec<u8>,
    /// How many bytes of a leading BOM have been matched so far.
    bom_matched: usize,
    /// Whether the start of the stream has been checked for a BOM.
    bom_done: bool,
    /// The previous line ended with CR: an LF right after it belongs to it.
    after_cr: bool,
    data: String,
    /// Whether any `data` field was seen in this block (the data buffer is non-empty).
    has_data: bool,
    event_type: String,
    /// The spec's "last event ID buffer": set by `id` fields as they are read.
    id_buffer: String,
    /// The spec's "last event ID string": the buffer as of the last blank line.
    last_event_id: String,
    retry: Option<u64>,
}

impl Parser {
    /// A parser at the start of a stream.
    pub fn new() -> Self {
        Self::default()
    }

    /// The last event id string: what a client sends as `Last-Event-ID` when it
    /// reconnects. Updated on every blank line, even one that dispatches nothing,
    /// so an id-only frame moves it.
    pub fn last_event_id(&self) -> &str {
        &self.last_event_id
    }

    /// The reconnection delay last set by a valid `retry` field.
    pub fn retry(&self) -> Option<u64> {
        self.retry
    }

    /// Parses the next chunk and returns the items it completed.
    pub fn feed(&mut self, chunk: &[u8]) -> Vec<Item> {
        let mut out = Vec::new();
        self.feed_with(chunk, |item| out.push(item));
        out
    }

    /// Parses the next chunk, handing each completed item to `emit`.
    pub fn feed_with(&mut self, mut chunk: &[u8], mut emit: impl FnMut(Item)) {
        while !self.bom_done {
            let Some((&byte, rest)) = chunk.split_first() else {
                return;
            };
            if byte == BOM[self.bom_matched] {
                self.bom_matched += 1;
                chunk = rest;
                if self.bom_matched == BOM.len() {
                    self.bom_done = true;
                }
            } else {
                // Not a BOM after all: the bytes matched so far are content.
                self.bom_done = true;
                self.line.extend_from_slice(&BOM[..self.bom_matched]);
            }
        }
        if self.after_cr && !chunk.is_empty() {
            // The CR that ended the previous chunk's last line may be half of a CRLF.
            self.after_cr = false;
            if let Some(rest) = chunk.strip_prefix(b"\n") {
                chunk = rest;
            }
        }
        while let Some(pos) = chunk.iter().position(|&b| b == b'\n' || b == b'\r') {
            let (content, rest) = chunk.split_at(pos);
            let ended_by_cr = rest[0] == b'\r';
            let mut rest = &rest[1..];
            if ended_by_cr {
                match rest.first() {
                    Some(b'\n') => rest = &rest[1..],
                    Some(_) => {}
                    None => self.after_cr = true,
                }
            }
            if self.line.is_empty() {
                self.process_line(content, &mut emit);
            } else {
                let mut line = std::mem::take(&mut self.line);
                line.extend_from_slice(content);
                self.process_line(&line, &mut emit);
                line.clear();
                self.line = line;
            }
            chunk = rest;
        }
        self.line.extend_from_slice(chunk);
    }

    /// Ends the stream: an unfinished line or event is discarded, as the
    /// algorithm requires. The parser is then ready for a new stream (a
    /// reconnection), keeping its last event id and retry delay.
    pub fn finish(&mut self) {
        self.line.clear();
        self.data.clear();
        self.has_data = false;
        self.event_type.clear();
        self.id_buffer.clone_from(&self.last_event_id);
        self.bom_done = false;
        self.bom_matched = 0;
        self.after_cr = false;
    }

    fn process_line(&mut self, line: &[u8], emit: &mut impl FnMut(Item)) {
        if line.is_empty() {
            self.dispatch(emit);
            return;
        }
        if let Some(comment) = line.strip_prefix(b":") {
            let comment = comment.strip_prefix(b" ").unwrap_or(comment);
            emit(Item::Comment(String::from_utf8_lossy(comment).into_owned()));
            return;
        }
        let (name, value) = match line.iter().position(|&b| b == b':') {
            Some(colon) => {
                let value = &line[colon + 1..];
                (&line[..colon], value.strip_prefix(b" ").unwrap_or(value))
            }
            None => (line, &b""[..]),
        };
        match name {
            b"event" => self.event_type = String::from_utf8_lossy(value).into_owned(),
            b"data" => {
                self.data.push_str(&String::from_utf8_lossy(value));
                self.data.push('\n');
                self.has_data = true;
            }
            b"id" if !value.contains(&0) => {
                self.id_buffer = String::from_utf8_lossy(value).into_owned();
            }
            b"retry" if !value.is_empty() && value.iter().all(u8::is_ascii_digit) => {
                // All digits: only overflow can fail; such a delay is ignored.
                if let Ok(ms) = String::from_utf8_lossy(value).parse::<u64>() {
                    self.retry = Some(ms);
                    emit(Item::Retry(ms));
                }
            }
            _ => {}
        }
    }

    fn dispatch(&mut self, emit: &mut impl FnMut(Item)) {
        if self.last_event_id != self.id_buffer {
            self.last_event_id.clone_from(&self.id_buffer);
        }
        if !self.has_data {
            self.event_type.clear();
            return;
        }
        let mut data = std::mem::take(&mut self.data);
        if data.ends_with('\n') {
            data.pop();
        }
        let event = if self.event_type.is_empty() {
            crate::DEFAULT_EVENT.to_owned()
        } else {
            std::mem::take(&mut self.event_type)
        };
        self.has_data = false;
        self.event_type.clear();
        emit(Item::Event(Event {
            event,
            data,
            id: self.last_event_id.clone(),
        }));
    }
}
