//! Calling JavaScript handlers: a server event's data is parsed once, in
//! JavaScript, and handed to every JS handler of its name in one call
//! across the wasm boundary; built-in events get their payload objects.

use js_sys::Object;
use wasm_bindgen::prelude::*;

use crate::events::ClientEvent;
use crate::js_object::js_object;

#[wasm_bindgen(inline_js = r#"
export function deliver(handlers, data, event, lastEventId, raw, token) {
  let value = data;
  if (!raw) {
    try { value = JSON.parse(data); } catch (e) { return String((e && e.message) || e); }
  }
  const meta = { event, lastEventId };
  for (let i = 0; i < handlers.length; i++) {
    if (token.closed) break;
    try { handlers[i](value, meta); } catch (e) { console.error("pushwire-client: a handler threw", e); }
  }
  return undefined;
}
"#)]
extern "C" {
    /// Parses `data` once (unless `raw`) and calls each handler with it and
    /// the event's meta, stopping once `token.closed` is set; the parse
    /// error, if any.
    pub(crate) fn deliver(
        handlers: &js_sys::Array,
        data: &JsValue,
        event: &str,
        last_event_id: &str,
        raw: bool,
        token: &Object,
    ) -> Option<String>;
}

/// Calls a JS handler of a built-in event, logging what it throws.
pub(crate) fn call(handler: &js_sys::Function, payload: &JsValue) {
    if let Err(err) = handler.call1(&JsValue::NULL, payload) {
        web_sys::console::error_2(&JsValue::from_str("pushwire-client: a handler threw"), &err);
    }
}

/// The payload a JS handler of a built-in event receives.
pub(crate) fn client_event_payload(event: &ClientEvent) -> JsValue {
    match event {
        ClientEvent::Open => JsValue::UNDEFINED,
        ClientEvent::Error { message } => js_object! { message: message.as_str() },
        ClientEvent::Reconnecting { attempt, delay_ms } => {
            js_object! { attempt: *attempt, delayMs: *delay_ms }
        }
        ClientEvent::MaxReconnectReached { attempts } => js_object! { attempts: *attempts },
        ClientEvent::ParseError(e) => js_object! {
            event: e.event.as_str(),
            data: e.data.as_str(),
            error: e.error.as_str(),
        },
        ClientEvent::AuthError(e) => js_object! {
            status: e.status,
            message: e.message.as_str(),
        },
        ClientEvent::Reset(r) => js_object! {
            reason: r.reason.as_str(),
            message: r.message.as_str(),
            last_event_id: r.last_event_id.as_str(),
        },
        ClientEvent::End(e) => js_object! { reason: e.reason.as_str() },
        ClientEvent::State(s) => JsValue::from_str(s.as_str()),
    }
}

/// The JS generation token `{ closed }`: set when the client closes or
/// pauses, so a JS dispatch loop stops without asking Rust.
#[derive(Debug)]
pub(crate) struct Token(Object);

impl Token {
    pub(crate) fn new() -> Token {
        Token(Object::new())
    }

    /// The token of the current generation.
    pub(crate) fn current(&self) -> &Object {
        &self.0
    }

    /// Ends the current generation: its dispatches stop.
    pub(crate) fn end(&mut self) {
        let _ = js_sys::Reflect::set(&self.0, &JsValue::from_str("closed"), &JsValue::TRUE);
        self.0 = Object::new();
    }
}
