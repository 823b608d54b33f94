//! [`EventListener`]: one listener on a browser [`EventTarget`], in the
//! manner of gloo: it owns its closure and removes itself when dropped.

use wasm_bindgen::closure::Closure;
use wasm_bindgen::JsCast;
use web_sys::EventTarget;

use crate::live::Live;

/// An event listener on an [`EventTarget`], removed when dropped.
#[must_use = "the listener is removed when dropped"]
pub(crate) struct EventListener {
    target: EventTarget,
    event_type: String,
    callback: Closure<dyn FnMut(web_sys::Event)>,
    _live: Live,
}

impl std::fmt::Debug for EventListener {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EventListener")
            .field("event_type", &self.event_type)
            .finish_non_exhaustive()
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
        EventListener {
            target: target.clone(),
            event_type: event_type.to_owned(),
            callback,
            _live: Live::listener(),
        }
    }

    /// The event type listened for.
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
    }
}
