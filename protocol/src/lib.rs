//! # pushwire-protocol
//!
//! The wire format of pushwire, shared by the server, the browser client, the
//! tests and the load generator, so that nobody hand-formats `data:` lines:
//!
//! * [`event`]: the typed events ([`TypedEvent`]) every pushwire stream carries,
//!   with their SSE event names and JSON shapes.
//! * [`encode`]: an injection-proof encoder that builds one SSE frame into
//!   [`bytes::Bytes`], ready to be shared by every subscriber.
//! * [`names`]: every name on the wire (control events, reset reasons,
//!   headers, query parameters, reserved topics).
//! * [`parse`]: an incremental parser that follows the WHATWG HTML
//!   "interpreting an event stream" algorithm exactly.
//!
//! The crate has no I/O and no runtime: it builds for native targets and for
//! `wasm32-unknown-unknown` alike.
//!
//! ```
//! use pushwire_protocol::{encode_typed, DemoData, Parser, Item};
//!
//! let frame = encode_typed(Some("data-1"), &DemoData { timestamp: 1, value: 10, status: "active".into() }).unwrap();
//! let mut parser = Parser::new();
//! let items = parser.feed(&frame);
//! let Item::Event(event) = &items[0] else { panic!("expected an event") };
//! assert_eq!(event.event, "data");
//! assert_eq!(event.id, "data-1");
//! let decoded: DemoData = event.decode().unwrap();
//! assert_eq!(decoded.value, 10);
//! ```

#![warn(missing_docs)]

pub mod encode;
pub mod event;
pub mod names;
pub mod parse;

pub use encode::{encode_comment, encode_typed, EncodeError, Frame, DEFAULT_EVENT};
pub use event::*;
pub use parse::{Event, Item, Parser};
