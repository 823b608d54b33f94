//! `SseParser` for JavaScript: the protocol crate's spec-exact incremental
//! parser, for pages that read a stream with `fetch()` (to see what
//! `EventSource` hides, such as `retry`, comments and id-only frames).

use js_sys::{Array, Object, Reflect, Uint8Array};
use pushwire_protocol::{Item, Parser};
use wasm_bindgen::prelude::*;

/// Incremental SSE parser (WHATWG algorithm).
#[wasm_bindgen(js_name = SseParser, skip_typescript)]
#[derive(Debug, Default)]
pub struct JsSseParser {
    parser: Parser,
}

fn set(obj: &Object, key: &str, value: &JsValue) {
    let _ = Reflect::set(obj, &JsValue::from_str(key), value);
}

#[wasm_bindgen(js_class = SseParser)]
impl JsSseParser {
    /// A parser at the start of a stream.
    #[wasm_bindgen(constructor)]
    pub fn new() -> JsSseParser {
        JsSseParser::default()
    }

    /// Parses the next chunk; returns the items it completed.
    pub fn feed(&mut self, chunk: Uint8Array) -> Array {
        let out = Array::new();
        // `feed`, not `feed_with` and a closure: the fetch transport feeds
        // the same way, so the parser is compiled once (about 1 KB of wasm).
        for item in self.parser.feed(&chunk.to_vec()) {
            let obj = Object::new();
            match item {
                Item::Event(e) => {
                    set(&obj, "type", &"event".into());
                    set(&obj, "event", &JsValue::from_str(&e.event));
                    set(&obj, "data", &JsValue::from_str(&e.data));
                    set(&obj, "id", &JsValue::from_str(&e.id));
                }
                Item::Retry(ms) => {
                    set(&obj, "type", &"retry".into());
                    set(&obj, "retry", &JsValue::from_f64(ms as f64));
                }
                Item::Comment(text) => {
                    set(&obj, "type", &"comment".into());
                    set(&obj, "text", &JsValue::from_str(&text));
                }
            }
            out.push(&obj);
        }
        out
    }

    /// The last event id so far (moved by id-only frames too).
    #[wasm_bindgen(getter, js_name = lastEventId)]
    pub fn last_event_id(&self) -> String {
        self.parser.last_event_id().to_owned()
    }

    /// Ends the stream: an unfinished event is discarded.
    pub fn finish(&mut self) {
        self.parser.finish();
    }
}
