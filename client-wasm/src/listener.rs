//! Browser resources the client owns, each released on drop (in the manner
//! of gloo): [`EventListener`] removes its listener and frees its closure,
//! [`ReconnectTimer`] cancels its timeout. Live counts of both are kept so
//! tests (and curious users) can check that nothing leaks.

use std::cell::Cell;

use gloo_timers::callback::Timeout;
use wasm_bindgen::closure::Closure;
use wasm_bindgen::JsCast;
use web_sys::EventTarget;

thread_local! {
    static LISTENERS: Cell<usize> = const { Cell::new(0) };
    static TIMERS: Cell<usize> = const { Cell::new(0) };
    static CLIENTS: Cell<usize> = const { Cell::new(0) };
}

/// How many listeners, timers and clients are alive right now.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct LiveCounts {
    pub listeners: usize,
    pub timers: usize,
    pub clients: usize,
}

/// The current live counts.
pub fn live_counts() -> LiveCounts {
    LiveCounts {
        listeners: LISTENERS.with(Cell::get),
        timers: TIMERS.with(Cell::get),
        clients: CLIENTS.with(Cell::get),
    }
}

fn bump(counter: &'static std::thread::LocalKey<Cell<usize>>, up: bool) {
    counter.with(|c| {
        c.set(if up {
            c.get() + 1
        } else {
            c.get().saturating_sub(1)
        })
    });
}

/// Counts one live client for as long as it exists.
#[derive(Debug)]
pub(crate) struct ClientToken;

impl ClientToken {
    pub(crate) fn new() -> Self {
        bump(&CLIENTS, true);
        ClientToken
    }
}

impl Drop for ClientToken {
    fn drop(&mut self) {
        bump(&CLIENTS, false);
    }
}

/// An event listener on an [`EventTarget`], removed when dropped.
pub(crate) struct EventListener {
    target: EventTarget,
    event_type: String,
    callback: Closure<dyn FnMut(web_sys::Event)>,
}

impl std::fmt::Debug for EventListener {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EventListener")
            .field("event_type", &self.event_type)
            .finish()
    }
}

impl EventListener {
    /// Listens for `event_type` on `target` with `callback`.
    pub(crate) fn new(
        target: &EventTarget,
        event_type: &str,
        callback: impl FnMut(web_sys::Event) + 'static,
    ) -> Self {
        let callback = Closure::<dyn FnMut(web_sys::Event)>::new(callback);
        // Adding a listener only fails for a non-callable callback, which a
        // Closure never is.
        let _ =
            target.add_event_listener_with_callback(event_type, callback.as_ref().unchecked_ref());
        bump(&LISTENERS, true);
        EventListener {
            target: target.clone(),
            event_type: event_type.to_owned(),
            callback,
        }
    }

    pub(crate) fn event_type(&self) -> &str {
        &self.event_type
    }
}

impl Drop for EventListener {
    fn drop(&mut self) {
        let _ = self.target.remove_event_listener_with_callback(
            &self.event_type,
            self.callback.as_ref().unchecked_ref(),
        );
        bump(&LISTENERS, false);
    }
}

/// A pending reconnect, cancelled when dropped.
#[derive(Debug)]
pub(crate) struct ReconnectTimer {
    _timeout: Timeout,
}

impl ReconnectTimer {
    pub(crate) fn new(delay_ms: u32, callback: impl FnOnce() + 'static) -> Self {
        bump(&TIMERS, true);
        ReconnectTimer {
            _timeout: Timeout::new(delay_ms, callback),
        }
    }
}

impl Drop for ReconnectTimer {
    fn drop(&mut self) {
        bump(&TIMERS, false);
    }
}
