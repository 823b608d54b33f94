//! The SSE parser and encoder of `pushwire-protocol`.
//!
//! 1. Chunking never matters: the stream fed whole gives exactly the items,
//!    last event id and retry delay it gives fed in chunks split where the
//!    fuzzer chooses (inside a CRLF, a UTF-8 sequence, the BOM…).
//! 2. The encoder is injection-proof: frames built from arbitrary fields
//!    parse back to exactly those fields, or the encoder refuses them, and
//!    only for a documented reason.
//!
//! Input layout (so that a seed is a real stream with a short prefix): byte 0
//! holds the number of cuts in its low 4 bits (bit 7: also feed the stream
//! one byte at a time); the next that many bytes are the lengths of the
//! chunks before each cut; the rest is the stream. The stream's bytes, read
//! as `arbitrary` data, also describe the frames of check 2.
#![no_main]

use arbitrary::{Arbitrary, Unstructured};
use libfuzzer_sys::fuzz_target;
use pushwire_protocol::{EncodeError, Event, Frame, Item, Parser, DEFAULT_EVENT};

fuzz_target!(|input: &[u8]| {
    let Some((&control, rest)) = input.split_first() else {
        return;
    };
    let cuts = usize::from(control & 0x0F).min(rest.len());
    let (lengths, stream) = rest.split_at(cuts);

    let whole = parse(std::iter::once(stream));
    let mut chunks = Vec::with_capacity(cuts + 1);
    let mut tail = stream;
    for &len in lengths {
        let (chunk, after) = tail.split_at(usize::from(len).min(tail.len()));
        chunks.push(chunk);
        tail = after;
    }
    chunks.push(tail);
    assert_eq!(whole, parse(chunks.into_iter()), "split at {lengths:?}");
    if control & 0x80 != 0 {
        assert_eq!(whole, parse(stream.chunks(1)), "fed byte by byte");
    }

    if let Ok(frames) = Vec::<FrameFields>::arbitrary_take_rest(Unstructured::new(stream)) {
        round_trip(&frames);
    }
});

/// What a parser makes of a stream: its items, then its last event id and
/// retry delay once the stream is finished.
type Parsed = (Vec<Item>, String, Option<u64>);

fn parse<'a>(chunks: impl Iterator<Item = &'a [u8]>) -> Parsed {
    let mut parser = Parser::new();
    let mut items = Vec::new();
    for chunk in chunks {
        parser.feed_with(chunk, |item| items.push(item));
    }
    parser.finish();
    (items, parser.last_event_id().to_owned(), parser.retry())
}

/// The fields of one frame, as a publisher could set them.
#[derive(Debug, Arbitrary)]
struct FrameFields {
    comment: Option<String>,
    id: Option<String>,
    event: Option<String>,
    retry: Option<u64>,
    data: Option<String>,
}

impl FrameFields {
    fn frame(&self) -> Frame<'_> {
        let mut frame = Frame::new();
        if let Some(comment) = &self.comment {
            frame = frame.comment(comment);
        }
        if let Some(id) = &self.id {
            frame = frame.id(id);
        }
        if let Some(event) = &self.event {
            frame = frame.event(event);
        }
        if let Some(retry) = self.retry {
            frame = frame.retry(retry);
        }
        if let Some(data) = &self.data {
            frame = frame.data(data);
        }
        frame
    }

    /// Why the encoder must refuse these fields, if it must (EncodeError's
    /// documented reasons).
    fn refusal(&self) -> Option<EncodeError> {
        let breaks = |s: &str| s.contains(['\r', '\n']);
        match (&self.event, &self.id, &self.comment) {
            (Some(e), _, _) if breaks(e) => Some(EncodeError::LineBreakInEvent),
            (Some(e), _, _) if e.is_empty() => Some(EncodeError::EmptyEvent),
            (_, Some(i), _) if breaks(i) => Some(EncodeError::LineBreakInId),
            (_, Some(i), _) if i.contains('\0') => Some(EncodeError::NulInId),
            (_, _, Some(c)) if breaks(c) => Some(EncodeError::LineBreakInComment),
            _ => None,
        }
    }
}

/// Encodes every frame the encoder accepts into one stream and checks that
/// the parser gives back exactly their fields.
fn round_trip(frames: &[FrameFields]) {
    let mut stream = Vec::new();
    let mut expected = Vec::new();
    let mut last_id = String::new();
    let mut retry = None;
    for fields in frames {
        match (fields.frame().encode(), fields.refusal()) {
            (Err(got), Some(want)) => {
                assert_eq!(got, want, "{fields:?}");
                continue;
            }
            (Err(got), None) => panic!("refused without reason ({got}): {fields:?}"),
            (Ok(bytes), Some(want)) => panic!("accepted despite {want}: {fields:?} -> {bytes:?}"),
            (Ok(bytes), None) => stream.extend_from_slice(&bytes),
        }
        if let Some(comment) = &fields.comment {
            expected.push(Item::Comment(comment.clone()));
        }
        if let Some(id) = &fields.id {
            last_id.clone_from(id);
        }
        if let Some(ms) = fields.retry {
            expected.push(Item::Retry(ms));
            retry = Some(ms);
        }
        if let Some(data) = &fields.data {
            expected.push(Item::Event(Event {
                event: fields.event.as_deref().unwrap_or(DEFAULT_EVENT).to_owned(),
                // CRLF, CR and LF are all line breaks; the parser joins lines with LF.
                data: data.replace("\r\n", "\n").replace('\r', "\n"),
                id: last_id.clone(),
            }));
        }
    }
    let (items, parsed_id, parsed_retry) = parse(std::iter::once(&stream[..]));
    assert_eq!(
        items,
        expected,
        "stream {:?}",
        String::from_utf8_lossy(&stream)
    );
    assert_eq!(parsed_id, last_id);
    assert_eq!(parsed_retry, retry);
}
