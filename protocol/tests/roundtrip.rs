//! Property test: whatever the encoder writes, the parser reads back the same
//! event, however the bytes are chunked.
#![allow(clippy::unwrap_used)]

use proptest::prelude::*;
use pushwire_protocol::{Frame, Item, Parser};

/// Any characters, with line breaks, NUL, spaces, colons and non-ASCII made likely.
fn text() -> impl Strategy<Value = String> {
    prop::collection::vec(
        prop_oneof![
            4 => any::<char>(),
            2 => prop::sample::select(vec!['\r', '\n', ' ', ':', '\0', '\u{FEFF}', '\u{e9}', '\u{1F680}']),
            1 => Just('a'),
        ],
        0..40,
    )
    .prop_map(|chars| chars.into_iter().collect())
}

fn single_line() -> impl Strategy<Value = String> {
    text().prop_map(|s| s.replace(['\r', '\n'], ""))
}

/// How the parser sees data: every kind of line break becomes LF.
fn normalise_line_breaks(s: &str) -> String {
    s.replace("\r\n", "\n").replace('\r', "\n")
}

fn chunked(bytes: &[u8], sizes: &[usize]) -> Vec<Item> {
    let mut parser = Parser::new();
    let mut items = Vec::new();
    let mut rest = bytes;
    let mut sizes = sizes.iter().cycle();
    while !rest.is_empty() {
        let n = (*sizes.next().unwrap_or(&1)).clamp(1, rest.len());
        let (chunk, tail) = rest.split_at(n);
        items.extend(parser.feed(chunk));
        rest = tail;
    }
    items
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn parse_of_encode_is_identity(
        id in proptest::option::of(single_line().prop_map(|s| s.replace('\0', ""))),
        event in proptest::option::of(single_line().prop_filter("non-empty", |s| !s.is_empty())),
        data in text(),
        retry in proptest::option::of(any::<u64>()),
        sizes in prop::collection::vec(1usize..17, 1..8),
    ) {
        let mut frame = Frame::new().data(&data);
        if let Some(id) = &id { frame = frame.id(id); }
        if let Some(event) = &event { frame = frame.event(event); }
        if let Some(retry) = retry { frame = frame.retry(retry); }
        let bytes = frame.encode().unwrap();

        let mut expected = Vec::new();
        if let Some(retry) = retry { expected.push(Item::Retry(retry)); }
        expected.push(Item::Event(pushwire_protocol::Event {
            event: event.clone().unwrap_or_else(|| "message".into()),
            data: normalise_line_breaks(&data),
            id: id.clone().unwrap_or_default(),
        }));
        prop_assert_eq!(chunked(&bytes, &sizes), expected);
    }

    #[test]
    fn many_frames_in_a_row_round_trip(
        frames in prop::collection::vec((single_line().prop_map(|s| s.replace('\0', "")), text()), 1..10),
        sizes in prop::collection::vec(1usize..64, 1..8),
    ) {
        let mut wire = Vec::new();
        for (id, data) in &frames {
            wire.extend_from_slice(&Frame::new().id(id).event("x").data(data).encode().unwrap());
        }
        let got: Vec<(String, String)> = chunked(&wire, &sizes)
            .into_iter()
            .filter_map(|i| match i { Item::Event(e) => Some((e.id, e.data)), _ => None })
            .collect();
        let want: Vec<(String, String)> = frames
            .iter()
            .map(|(id, data)| (id.clone(), normalise_line_breaks(data)))
            .collect();
        prop_assert_eq!(got, want);
    }

    #[test]
    fn parser_never_panics_on_arbitrary_bytes(
        bytes in prop::collection::vec(any::<u8>(), 0..512),
        sizes in prop::collection::vec(1usize..32, 1..8),
    ) {
        let _ = chunked(&bytes, &sizes);
    }
}
