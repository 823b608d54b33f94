//! The JavaScript face: `SseClient` as exported to JS (its TypeScript
//! declaration is in [`crate::dts`]). A thin layer over the Rust
//! [`SseClient`]: it reads the JS options object, registers JS functions
//! as handlers and converts results to JS values.

use wasm_bindgen::prelude::*;

use crate::client::SseClient;
use crate::driver::WeakDriver;
use crate::handlers::HandlerId;
use crate::js_object::js_object;
use crate::options::ClientOptions;

#[wasm_bindgen(inline_js = r#"
export function remover(handle) { return () => handle.remove(); }
"#)]
extern "C" {
    fn remover(handle: HandlerHandle) -> js_sys::Function;
}

/// The JS `SseClient`.
#[wasm_bindgen(js_name = SseClient, skip_typescript)]
#[derive(Debug)]
pub struct JsSseClient {
    client: SseClient,
}

impl Drop for JsSseClient {
    /// Freed (explicitly, or by the garbage collector) while connected: like
    /// a native EventSource the connection goes on until it closes, ends or
    /// gives up. `close()` first to stop it.
    fn drop(&mut self) {
        self.client.detach();
    }
}

/// Removes one handler; wrapped in the function `on` returns.
#[wasm_bindgen(skip_typescript)]
#[derive(Debug)]
pub struct HandlerHandle {
    client: WeakDriver,
    id: HandlerId,
}

#[wasm_bindgen]
impl HandlerHandle {
    /// Removes the handler (again: no effect).
    pub fn remove(&self) {
        self.client.remove_handler(self.id);
    }
}

#[wasm_bindgen(js_class = SseClient)]
impl JsSseClient {
    /// A client for `url` with the options object `options` (or
    /// `undefined`); throws on an unknown or invalid option.
    #[wasm_bindgen(constructor)]
    pub fn new(url: &str, options: JsValue) -> Result<JsSseClient, JsError> {
        let options = ClientOptions::from_js(&options).map_err(|e| JsError::new(&e))?;
        let client = SseClient::new(url, options).map_err(|e| JsError::new(&e.0))?;
        Ok(JsSseClient { client })
    }

    /// Calls `handler` with every event named `event` (built-in or server
    /// event); returns the function that removes it.
    pub fn on(&self, event: &str, handler: js_sys::Function) -> js_sys::Function {
        let id = self.client.on_js(event, handler);
        remover(HandlerHandle {
            client: self.client.downgrade(),
            id,
        })
    }

    /// Opens the connection.
    pub fn connect(&self) {
        self.client.connect();
    }

    /// Closes the connection; nothing reopens until `connect`.
    pub fn close(&self) {
        self.client.close();
    }

    /// The connection state.
    #[wasm_bindgen(getter)]
    pub fn state(&self) -> String {
        self.client.state().as_str().to_owned()
    }

    /// The counters.
    #[wasm_bindgen(getter)]
    pub fn stats(&self) -> JsValue {
        let s = self.client.stats();
        js_object! {
            eventsReceived: s.events_received as f64,
            parseErrors: s.parse_errors as f64,
            reconnects: s.reconnects as f64,
            lastEventId: s.last_event_id.map_or(JsValue::NULL, |id| JsValue::from_str(&id)),
        }
    }

    /// The last event id seen.
    #[wasm_bindgen(getter, js_name = lastEventId)]
    pub fn last_event_id(&self) -> Option<String> {
        self.client.last_event_id()
    }

    /// The resolved URL.
    #[wasm_bindgen(getter)]
    pub fn url(&self) -> String {
        self.client.url()
    }
}

/// Live browser resources of all clients.
#[wasm_bindgen(js_name = liveCounts, skip_typescript)]
pub fn live_counts_js() -> JsValue {
    let c = crate::live::live_counts();
    js_object! {
        listeners: c.listeners as f64,
        timers: c.timers as f64,
        clients: c.clients as f64,
    }
}
