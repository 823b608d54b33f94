//! `SseClient`: the client as Rust code uses it, and the core the
//! JavaScript face wraps. Its connection logic is the pure
//! [state machine](crate::machine), run in the browser by the
//! [driver](crate::driver).

use std::cell::RefCell;
use std::rc::Rc;

use pushwire_protocol::TypedEvent;

use crate::builder::SseClientBuilder;
use crate::driver::{Driver, WeakDriver};
use crate::events::{ClientEvent, ParseError, ServerEvent, State};
use crate::handlers::{Callback, HandlerId};
use crate::machine::{Config, Input, Machine, Stats};
use crate::options::ClientOptions;

/// Why a client could not be created.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientError(pub String);

impl std::fmt::Display for ClientError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for ClientError {}

thread_local! {
    /// Clients whose owner let go while they were live: kept until they
    /// close, end or give up, like a native EventSource.
    static DETACHED: RefCell<Vec<Driver>> = const { RefCell::new(Vec::new()) };
}

/// `url` resolved against `base`, or else the page's location.
fn resolve(url: &str, base: Option<&str>) -> Result<String, ClientError> {
    crate::url::resolve(url, base).ok_or_else(|| ClientError(format!("invalid URL \"{url}\"")))
}

/// A typed Server-Sent Events client; see the [crate documentation](crate).
#[must_use = "a client closes when dropped, unless it is connected from JavaScript"]
pub struct SseClient {
    driver: Driver,
}

impl std::fmt::Debug for SseClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SseClient")
            .field("url", &self.driver.url())
            .field("state", &self.driver.state())
            .finish_non_exhaustive()
    }
}

impl SseClient {
    /// A client for `url` (absolute, or relative to the page). Nothing
    /// connects until [`SseClient::connect`].
    pub fn new(url: &str, mut options: ClientOptions) -> Result<SseClient, ClientError> {
        let url = resolve(url, None)?;
        options.ticket_url = resolve(&options.ticket_url, Some(&url))?;
        let config = Config {
            url,
            policy: options.reconnect_policy(),
            last_event_id: options.last_event_id.clone(),
            reconnect_on_online: options.reconnect_on_online,
            pause_when_hidden: options.pause_when_hidden,
        };
        let machine = Machine::new(config, js_sys::Math::random);
        Ok(SseClient {
            driver: Driver::new(machine, options),
        })
    }

    /// A builder with the default options.
    pub fn builder(url: &str) -> SseClientBuilder {
        SseClientBuilder::new(url)
    }

    /// The current state.
    pub fn state(&self) -> State {
        self.driver.state()
    }

    /// The counters.
    pub fn stats(&self) -> Stats {
        self.driver.stats()
    }

    /// The last event id seen (or given in the options).
    pub fn last_event_id(&self) -> Option<String> {
        self.driver.stats().last_event_id
    }

    /// The resolved URL the client connects to (before the id parameter).
    pub fn url(&self) -> String {
        self.driver.url()
    }

    /// Opens the connection. Does nothing if one is open or being opened.
    pub fn connect(&self) {
        self.driver.input(Input::Connect);
    }

    /// Closes the connection and cancels any pending reconnect. Nothing
    /// reopens afterwards and no handler runs, until `connect` is called.
    pub fn close(&self) {
        self.driver.input(Input::Close);
    }

    /// Calls `handler` with every `T` event, decoded. Data that does not
    /// decode as `T` fires `parse-error` instead.
    pub fn on_typed<T: TypedEvent + 'static>(&self, handler: impl Fn(T) + 'static) -> HandlerId {
        self.on_server_event(T::NAME, move |event: &ServerEvent| {
            handler(event.decode::<T>()?);
            Ok(())
        })
    }

    /// Calls `handler` with every server event named `name`, undecoded.
    pub fn on_raw(&self, name: &str, handler: impl Fn(&ServerEvent) + 'static) -> HandlerId {
        self.on_server_event(name, move |event: &ServerEvent| {
            handler(event);
            Ok(())
        })
    }

    /// Calls `handler` with every built-in client event (`open`, `state`,
    /// `reconnecting`, `reset`, …).
    pub fn on_client_event(&self, handler: impl Fn(&ClientEvent) + 'static) -> HandlerId {
        self.driver.register("", Callback::Client(Rc::new(handler)))
    }

    pub(crate) fn on_server_event(
        &self,
        name: &str,
        handler: impl Fn(&ServerEvent) -> Result<(), ParseError> + 'static,
    ) -> HandlerId {
        self.driver
            .register(name, Callback::Server(Rc::new(handler)))
    }

    pub(crate) fn on_js(&self, name: &str, handler: js_sys::Function) -> HandlerId {
        self.driver.register(name, Callback::Js(handler))
    }

    /// Removes a handler; `false` if it was already gone.
    pub fn off(&self, id: HandlerId) -> bool {
        self.driver.remove_handler(id)
    }

    /// A weak reference, for handles that remove handlers.
    pub(crate) fn downgrade(&self) -> WeakDriver {
        self.driver.weak()
    }

    /// The options the client was created with.
    pub(crate) fn options(&self) -> ClientOptions {
        self.driver.options()
    }

    /// Lets the connection outlive this handle, as a native `EventSource`
    /// outlives the last reference to it: a client that is not closed keeps
    /// delivering to its handlers, and its resources are released once it
    /// closes, ends or gives up. Used when the JavaScript object is freed
    /// or garbage-collected while connected.
    pub(crate) fn detach(&self) {
        if matches!(self.state(), State::Closed | State::Failed) {
            return;
        }
        self.driver.detach();
        let weak = self.driver.weak();
        self.on_client_event(move |event| {
            if let ClientEvent::State(State::Closed | State::Failed) = event {
                let Some(driver) = weak.upgrade() else { return };
                DETACHED.with(|d| d.borrow_mut().retain(|c| !c.same(&driver)));
            }
        });
        DETACHED.with(|d| d.borrow_mut().push(self.driver.clone()));
    }
}

impl Drop for SseClient {
    fn drop(&mut self) {
        if !self.driver.detached() {
            self.driver.input(Input::Close);
        }
    }
}
