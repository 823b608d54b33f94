//! [`Handlers`]: the handlers registered with one client — JavaScript
//! functions and Rust closures, for built-in client events or for server
//! events of one name — and which of them an event goes to.

use std::rc::Rc;

use pushwire_protocol::names::DEFAULT_EVENT;

use crate::events::{ClientEvent, ParseError, ServerEvent, BUILTIN_EVENTS};

/// Identifies a registered handler, for [`SseClient::off`](crate::SseClient::off).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct HandlerId(u64);

/// A Rust handler of server events; an error is reported as `parse-error`.
pub(crate) type ServerCallback = Rc<dyn Fn(&ServerEvent) -> Result<(), ParseError>>;
/// A Rust handler of every built-in event.
pub(crate) type ClientCallback = Rc<dyn Fn(&ClientEvent)>;

/// One handler.
#[derive(Clone)]
pub(crate) enum Callback {
    /// A JavaScript function, for a built-in or a server event name.
    Js(js_sys::Function),
    /// A Rust handler of server events of one name.
    Server(ServerCallback),
    /// A Rust handler of every built-in event.
    Client(ClientCallback),
}

struct Registered {
    id: HandlerId,
    /// Event name (`Js`, `Server`); empty for `Client`.
    name: String,
    callback: Callback,
}

/// The handlers of one client, in registration order.
#[derive(Default)]
pub(crate) struct Handlers {
    list: Vec<Registered>,
    next: u64,
}

impl std::fmt::Debug for Handlers {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Handlers")
            .field("count", &self.list.len())
            .finish()
    }
}

/// The handlers of one server event, split by kind.
pub(crate) struct ServerHandlers {
    /// JavaScript functions, called in one go across the wasm boundary.
    pub js: Vec<js_sys::Function>,
    /// Rust handlers.
    pub rust: Vec<ServerCallback>,
}

impl Handlers {
    /// Registers `callback` for `name` (empty for a `Client` callback).
    pub(crate) fn add(&mut self, name: &str, callback: Callback) -> HandlerId {
        let id = HandlerId(self.next);
        self.next += 1;
        self.list.push(Registered {
            id,
            name: name.to_owned(),
            callback,
        });
        id
    }

    /// Removes handler `id`; `false` if it was already gone.
    pub(crate) fn remove(&mut self, id: HandlerId) -> bool {
        let before = self.list.len();
        self.list.retain(|h| h.id != id);
        before != self.list.len()
    }

    /// The handlers a built-in event goes to: JS handlers of its name and
    /// every Rust client-event handler.
    pub(crate) fn for_client_event(&self, event: &ClientEvent) -> Vec<Callback> {
        self.list
            .iter()
            .filter(|h| match h.callback {
                Callback::Js(_) => h.name == event.name(),
                Callback::Client(_) => true,
                Callback::Server(_) => false,
            })
            .map(|h| h.callback.clone())
            .collect()
    }

    /// The handlers of server events named `name`.
    pub(crate) fn for_server_event(&self, name: &str) -> ServerHandlers {
        let mut handlers = ServerHandlers {
            js: Vec::new(),
            rust: Vec::new(),
        };
        for h in self.list.iter().filter(|h| h.name == name) {
            match &h.callback {
                Callback::Js(f) => handlers.js.push(f.clone()),
                Callback::Server(f) => handlers.rust.push(f.clone()),
                Callback::Client(_) => {}
            }
        }
        handlers
    }

    /// The server event names handlers wait for.
    pub(crate) fn server_event_names(&self) -> impl Iterator<Item = &str> {
        self.list
            .iter()
            .map(|h| h.name.as_str())
            .filter(|name| needs_listener(name))
    }
}

/// Whether a handler name is a server event name, needing an
/// `EventSource` listener of that name (`message` is both built-in and a
/// server event).
pub(crate) fn needs_listener(name: &str) -> bool {
    !name.is_empty() && (name == DEFAULT_EVENT || !BUILTIN_EVENTS.contains(&name))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn server_event_names_are_the_non_builtin_ones_and_message() {
        assert!(needs_listener(DEFAULT_EVENT));
        assert!(needs_listener("monitoring"));
        assert!(!needs_listener("reconnecting"));
        assert!(!needs_listener(""));
    }

    #[test]
    fn handlers_are_removed_once() {
        let mut h = Handlers::default();
        let a = h.add("x", Callback::Server(Rc::new(|_| Ok(()))));
        let b = h.add("", Callback::Client(Rc::new(|_| {})));
        assert_eq!(h.for_server_event("x").rust.len(), 1);
        assert_eq!(h.for_client_event(&ClientEvent::Open).len(), 1);
        assert_eq!(h.server_event_names().collect::<Vec<_>>(), ["x"]);
        assert!(h.remove(a));
        assert!(!h.remove(a));
        assert!(h.remove(b));
        assert!(h.for_client_event(&ClientEvent::Open).is_empty());
    }
}
