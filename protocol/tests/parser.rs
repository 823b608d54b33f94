//! The parser against every rule of the WHATWG "interpreting an event stream"
//! algorithm; cases follow web-platform-tests' `eventsource/format-*` tests.
#![allow(clippy::unwrap_used)]

use pushwire_protocol::{Event, Item, Parser};

fn parse_all(input: &[u8]) -> Vec<Item> {
    Parser::new().feed(input)
}

/// Feeds `input` in every split into two chunks and in single bytes, and
/// checks all give the same items as one chunk.
fn parse_every_split(input: &[u8]) -> Vec<Item> {
    let whole = parse_all(input);
    for cut in 0..=input.len() {
        let mut p = Parser::new();
        let mut items = p.feed(&input[..cut]);
        items.extend(p.feed(&input[cut..]));
        assert_eq!(items, whole, "split at {cut} of {input:?}");
    }
    let mut p = Parser::new();
    let bytewise: Vec<Item> = input.iter().flat_map(|b| p.feed(&[*b])).collect();
    assert_eq!(bytewise, whole, "byte by byte");
    whole
}

fn events(input: &[u8]) -> Vec<Event> {
    parse_every_split(input)
        .into_iter()
        .filter_map(|i| match i {
            Item::Event(e) => Some(e),
            _ => None,
        })
        .collect()
}

fn datas(input: &[u8]) -> Vec<String> {
    events(input).into_iter().map(|e| e.data).collect()
}

fn ev(event: &str, data: &str, id: &str) -> Event {
    Event {
        event: event.into(),
        data: data.into(),
        id: id.into(),
    }
}

#[test]
fn bom_is_stripped_once() {
    // format-bom: a second BOM is part of the field name, so that field is ignored.
    let input = "\u{FEFF}data:1\n\n\u{FEFF}data:2\n\ndata:3\n\n";
    assert_eq!(datas(input.as_bytes()), ["1", "3"]);
    // format-bom-2: two BOMs at the start: only the first is stripped.
    let input = "\u{FEFF}\u{FEFF}data:1\n\ndata:2\n\ndata:3\n\n";
    assert_eq!(datas(input.as_bytes()), ["2", "3"]);
}

#[test]
fn partial_bom_bytes_are_content() {
    // EF BB then 'd': not a BOM; the two bytes are invalid UTF-8 in the field name.
    assert_eq!(datas(b"\xEF\xBBdata:1\n\ndata:2\n\n"), ["2"]);
    assert_eq!(datas(b"\xEF\xBB\xBF"), Vec::<String>::new());
}

#[test]
fn all_line_endings() {
    assert_eq!(
        datas(b"data:a\r\rdata:b\n\ndata:c\r\n\r\n"),
        ["a", "b", "c"]
    );
    // format-newlines: mixed endings inside one event.
    assert_eq!(
        datas(b"data:a\rdata:b\ndata:c\r\ndata:d\n\n"),
        ["a\nb\nc\nd"]
    );
}

#[test]
fn crlf_split_across_chunks_is_one_line_ending() {
    let mut p = Parser::new();
    assert!(p.feed(b"data:x\r").is_empty());
    // The LF completes the CRLF; the following CR is the blank line.
    assert_eq!(p.feed(b"\n\r"), vec![Item::Event(ev("message", "x", ""))]);
    // A lone LF chunk after a CR chunk, then a second LF: the second is a blank line.
    let mut p = Parser::new();
    assert!(p.feed(b"data:y\r").is_empty());
    assert!(p.feed(b"\n").is_empty());
    assert_eq!(p.feed(b"\n"), vec![Item::Event(ev("message", "y", ""))]);
    // Empty chunks between CR and LF change nothing.
    let mut p = Parser::new();
    assert!(p.feed(b"data:z\r").is_empty());
    assert!(p.feed(b"").is_empty());
    assert!(p.feed(b"\n").is_empty());
    assert_eq!(p.feed(b"\r\n"), vec![Item::Event(ev("message", "z", ""))]);
}

#[test]
fn comments() {
    // format-comments
    let long = "x".repeat(2049);
    let input =
        format!("data:1\r:\0\n:\r\ndata:2\n:{long}\rdata:3\n:data:fail\r:{long}\ndata:4\n\n");
    assert_eq!(datas(input.as_bytes()), ["1\n2\n3\n4"]);
    let items = parse_all(b": keep-alive\n:x\n\n");
    assert_eq!(
        items,
        vec![
            Item::Comment("keep-alive".into()),
            Item::Comment("x".into())
        ]
    );
}

#[test]
fn field_parsing() {
    // format-field-parsing: case-sensitive names, NUL in names, leading spaces.
    let input = "data:\0\ndata:  2\rData:1\ndata\0:2\ndata:1\r\0data:4\nda-ta:3\rdata_5\ndata:3\rdata:\r\n data:32\ndata:4\n\n";
    assert_eq!(datas(input.as_bytes()), ["\0\n 2\n1\n3\n\n4"]);
}

#[test]
fn only_one_leading_space_is_stripped() {
    assert_eq!(datas(b"data:  two\n\ndata:\tx\n\n"), [" two", "\tx"]);
}

#[test]
fn field_with_no_colon_has_empty_value() {
    // format-field-data
    assert_eq!(
        datas(b"data:\n\ndata\ndata\n\ndata:test\n\n"),
        ["", "\n", "test"]
    );
    // format-field-unknown
    assert_eq!(
        datas(
            b"data:test\n data\ndata\nfoobar:xxx\njustsometext\n:thisisacommentyay\ndata:test\n\n"
        ),
        ["test\n\ntest"]
    );
}

#[test]
fn event_field() {
    // format-field-event and format-field-event-empty
    assert_eq!(
        events(b"event:test\ndata:x\n\ndata:x\n\nevent: \ndata:y\n\n"),
        [
            ev("test", "x", ""),
            ev("message", "x", ""),
            ev("message", "y", "")
        ]
    );
    // The event type does not leak from a block that dispatched nothing.
    assert_eq!(
        events(b"event:lost\n\ndata:z\n\n"),
        [ev("message", "z", "")]
    );
}

#[test]
fn id_field() {
    // The id carries over to later events until changed; empty resets it.
    assert_eq!(
        events(b"id:1\ndata:a\n\ndata:b\n\nid\ndata:c\n\nid: 2\ndata:d\n\n"),
        [
            ev("message", "a", "1"),
            ev("message", "b", "1"),
            ev("message", "c", ""),
            ev("message", "d", "2"),
        ]
    );
    // format-field-id-3: an id holding NUL is ignored.
    assert_eq!(
        events(b"id:1\ndata:a\n\nid:1\x002\ndata:b\n\n"),
        [ev("message", "a", "1"), ev("message", "b", "1")]
    );
}

#[test]
fn id_only_block_moves_last_event_id() {
    let mut p = Parser::new();
    assert!(p.feed(b"id: 41\n\n").is_empty());
    assert_eq!(p.last_event_id(), "41");
    // Not yet dispatched: an id line alone does not move it before the blank line.
    assert!(p.feed(b"id: 42\n").is_empty());
    assert_eq!(p.last_event_id(), "41");
    p.feed(b"\n");
    assert_eq!(p.last_event_id(), "42");
}

#[test]
fn retry_field() {
    // format-field-retry and format-field-retry-bogus / -empty
    let items = parse_every_split(
        b"retry:1000\nretry:10a\nretry: 7\nretry:\nretry:-1\nretry:1.5\ndata:x\n\n",
    );
    assert_eq!(
        items,
        vec![
            Item::Retry(1000),
            Item::Retry(7),
            Item::Event(ev("message", "x", ""))
        ]
    );
    let mut p = Parser::new();
    p.feed(b"retry:99999999999999999999999\nretry:12\n");
    assert_eq!(p.retry(), Some(12));
}

#[test]
fn empty_data_dispatches_nothing() {
    assert!(events(b"event:x\n\n\n\nid:3\n\n").is_empty());
}

#[test]
fn unfinished_event_is_discarded() {
    // format-data-before-final-empty-line
    let mut p = Parser::new();
    let items = p.feed(b"retry:1000\ndata:test1\n\nid:test\ndata:test2");
    assert_eq!(
        items,
        vec![Item::Retry(1000), Item::Event(ev("message", "test1", ""))]
    );
    p.finish();
    // After the stream ended, a new one starts clean: test2 is gone.
    assert_eq!(
        p.feed(b"data:next\n\n"),
        vec![Item::Event(ev("message", "next", ""))]
    );
}

#[test]
fn null_character_in_data() {
    // format-null-character
    assert_eq!(datas(b"data:\0\n\n"), ["\0"]);
}

#[test]
fn utf8_split_across_chunks() {
    let input = "data: h\u{e9}llo \u{1F680} \u{4E16}\u{754C}\n\n".as_bytes();
    assert_eq!(datas(input), ["h\u{e9}llo \u{1F680} \u{4E16}\u{754C}"]);
}

#[test]
fn invalid_utf8_becomes_replacement_characters() {
    // format-utf-8 (the decoder's replacement behaviour)
    assert_eq!(datas(b"data:\xFF\xC3x\n\n"), ["\u{FFFD}\u{FFFD}x"]);
}

#[test]
fn decodes_typed_events() {
    use pushwire_protocol::{encode_typed, MonitoringData, Reset};
    let sample = MonitoringData {
        timestamp: 1,
        cpu_usage: 12.5,
        memory_usage: 40.0,
        network_io: 1024.0,
        active_connections: 3,
        response_time_ms: 0.25,
    };
    let bytes = encode_typed(Some("e-1"), &sample).unwrap();
    let items = parse_all(&bytes);
    let Item::Event(e) = &items[0] else {
        panic!("no event in {items:?}")
    };
    assert_eq!(e.event, "monitoring");
    assert!(e.decode_typed::<Reset>().is_none());
    assert_eq!(e.decode_typed::<MonitoringData>().unwrap().unwrap(), sample);
    // snake_case field names on the wire, exactly as written in the issue.
    let json: serde_json::Value = e.decode().unwrap();
    for key in [
        "timestamp",
        "cpu_usage",
        "memory_usage",
        "network_io",
        "active_connections",
        "response_time_ms",
    ] {
        assert!(json.get(key).is_some(), "missing {key}");
    }
}
