//! [`Source`]: one connection and the listeners on it, owned together:
//! dropping it closes the connection (so the browser's own retry never
//! runs) and removes every listener.
//!
//! Both transports are an `EventSource` as far as the driver can tell: the
//! browser's own, or the `fetch` transport's look-alike
//! ([`network::fetch_source`]), which dispatches the same `open`,
//! `MessageEvent` and `error` events. So every event takes the same path
//! whichever transport read it.

use js_sys::{Array, Uint8Array};
use wasm_bindgen::closure::Closure;
use web_sys::{EventSource, EventSourceInit, EventTarget};

use crate::listener::EventListener;
use crate::network;
use crate::parser::JsSseParser;

/// An open (or opening) connection, closed when dropped.
#[must_use = "the connection is closed when dropped"]
pub(crate) struct Source {
    source: EventSource,
    listeners: Vec<EventListener>,
    /// The `fetch` transport's parser of the body, called by the source.
    _parse: Option<Closure<dyn FnMut(Uint8Array) -> Array>>,
}

impl std::fmt::Debug for Source {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Source")
            .field("listeners", &self.listeners)
            .finish_non_exhaustive()
    }
}

impl Source {
    /// Opens `url` (see [`stream_url`](crate::url::stream_url)) with the
    /// browser's `EventSource`.
    pub(crate) fn open(url: &str, with_credentials: bool) -> Result<Source, String> {
        let init = EventSourceInit::new();
        init.set_with_credentials(with_credentials);
        let source = EventSource::new_with_event_source_init_dict(url, &init).map_err(|err| {
            err.as_string()
                .unwrap_or_else(|| "could not open EventSource".into())
        })?;
        Ok(Source {
            source,
            listeners: Vec::new(),
            _parse: None,
        })
    }

    /// Opens `url` with a streaming `fetch` sending `token`, its body read
    /// by the protocol's spec-exact parser (the one `SseParser` exports).
    pub(crate) fn fetch(url: &str, token: Option<&str>, with_credentials: bool) -> Source {
        let mut parser = JsSseParser::new();
        let parse = Closure::<dyn FnMut(Uint8Array) -> Array>::new(move |chunk| parser.feed(chunk));
        Source {
            source: network::fetch_source(url, token, with_credentials, parse.as_ref()),
            listeners: Vec::new(),
            _parse: Some(parse),
        }
    }

    /// Listens for events named `name` with `callback`, unless something
    /// already listens for that name.
    pub(crate) fn listen(&mut self, name: &str, callback: impl FnMut(web_sys::Event) + 'static) {
        if self.listeners.iter().any(|l| l.event_type() == name) {
            return;
        }
        let target: &EventTarget = self.source.as_ref();
        self.listeners
            .push(EventListener::new(target, name, callback));
    }
}

impl Drop for Source {
    fn drop(&mut self) {
        self.source.close();
    }
}
