//! `SseClient`: the client core shared by the Rust and JavaScript faces —
//! a thin browser driver of the pure [state machine](crate::machine).
//!
//! The driver turns what the browser reports (the `EventSource`'s `open`,
//! `error` and message events, the reconnect timer, the page's `online`
//! and `visibilitychange`) and what the user asks (`connect`, `close`) into
//! machine [`Input`]s, and carries out the [`Command`]s the machine returns
//! with resources that release themselves: a [`Source`] closes its
//! `EventSource` and removes its listeners when dropped, a [`Timer`]
//! cancels itself, an [`EventListener`] removes itself. Callbacks hold only
//! weak references, so dropping the client frees it.
//!
//! Handlers never run while the client's state is borrowed, so a handler
//! may call back into the client (even `close()`); after `close()` no
//! handler runs, not even the rest of the current dispatch.

use std::cell::RefCell;
use std::rc::{Rc, Weak};

use pushwire_protocol::names::{DEFAULT_EVENT, END_EVENT, RESET_EVENT};
use pushwire_protocol::TypedEvent;
use wasm_bindgen::{JsCast, JsValue};
use web_sys::MessageEvent;

use crate::builder::SseClientBuilder;
use crate::control::{decode_end, decode_reset};
use crate::events::{ClientEvent, ParseError, ServerEvent, State};
use crate::handlers::{needs_listener, Callback, HandlerId, Handlers};
use crate::js_dispatch::{self, Token};
use crate::listener::EventListener;
use crate::live::Live;
use crate::machine::{Command, Config, Input, Machine, Stats};
use crate::options::ClientOptions;
use crate::source::Source;
use crate::timer::Timer;

/// Why a client could not be created.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientError(pub String);

impl std::fmt::Display for ClientError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for ClientError {}

/// Everything one client holds.
struct Inner {
    machine: Machine,
    options: ClientOptions,
    handlers: Handlers,
    source: Option<Source>,
    timer: Option<Timer>,
    /// Listeners of the page's `online` and `visibilitychange`.
    watchers: Vec<EventListener>,
    /// The generation as seen from JavaScript dispatch loops.
    token: Token,
    /// The owner let go while the connection was live; see [`SseClient::detach`].
    detached: bool,
    _live: Live,
}

/// A strong reference to a client's state, through which the browser's
/// callbacks and the user's calls drive the machine.
#[derive(Clone)]
pub(crate) struct Driver(Rc<RefCell<Inner>>);

/// A weak reference to a client, held by callbacks and handles.
#[derive(Clone)]
pub(crate) struct WeakDriver(Weak<RefCell<Inner>>);

impl std::fmt::Debug for WeakDriver {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WeakDriver").finish_non_exhaustive()
    }
}

impl WeakDriver {
    fn upgrade(&self) -> Option<Driver> {
        self.0.upgrade().map(Driver)
    }

    /// Removes handler `id` from the client, if it still exists; `false`
    /// if it (or the handler) was already gone.
    pub(crate) fn remove_handler(&self, id: HandlerId) -> bool {
        self.0
            .upgrade()
            .is_some_and(|inner| inner.borrow_mut().handlers.remove(id))
    }
}

/// The server event being handled, for [`Command::Deliver`].
struct Delivery<'a> {
    name: &'a str,
    data: &'a JsValue,
    id: &'a str,
}

impl Delivery<'_> {
    fn server_event(&self) -> ServerEvent {
        ServerEvent {
            event: self.name.to_owned(),
            data: self.data.as_string().unwrap_or_default(),
            id: self.id.to_owned(),
        }
    }
}

thread_local! {
    /// Clients whose owner let go while they were live: kept until they
    /// close, end or give up, like a native EventSource.
    static DETACHED: RefCell<Vec<Driver>> = const { RefCell::new(Vec::new()) };
}

impl Driver {
    fn weak(&self) -> WeakDriver {
        WeakDriver(Rc::downgrade(&self.0))
    }

    /// Feeds `input` to the machine and carries out its commands.
    fn input(&self, input: Input) {
        let commands = self.0.borrow_mut().machine.handle(input);
        self.run(commands, None);
    }

    /// Carries out `commands` in order; once a handler closes or pauses the
    /// client (a new generation), the rest are dropped.
    fn run(&self, commands: Vec<Command>, delivery: Option<&Delivery<'_>>) {
        let generation = self.0.borrow().machine.generation();
        for command in commands {
            if self.0.borrow().machine.generation() != generation {
                return;
            }
            match command {
                Command::Open { url, last_event_id } => self.open(&url, last_event_id.as_deref()),
                Command::CloseSource => drop(self.0.borrow_mut().source.take()),
                Command::Schedule { delay_ms } => {
                    let weak = self.weak();
                    let timer = Timer::new(delay_ms, move || {
                        if let Some(driver) = weak.upgrade() {
                            // Spent: release it before reacting.
                            let spent = driver.0.borrow_mut().timer.take();
                            drop(spent);
                            driver.input(Input::TimerFired);
                        }
                    });
                    let replaced = self.0.borrow_mut().timer.replace(timer);
                    drop(replaced);
                }
                Command::CancelTimer => drop(self.0.borrow_mut().timer.take()),
                Command::Watch { online, visibility } => {
                    let watchers = self.watchers(online, visibility);
                    self.0.borrow_mut().watchers = watchers;
                }
                Command::Unwatch => drop(std::mem::take(&mut self.0.borrow_mut().watchers)),
                Command::EndGeneration => self.0.borrow_mut().token.end(),
                Command::Emit(event) => self.emit(&event),
                Command::Deliver => {
                    if let Some(delivery) = delivery {
                        self.deliver(delivery);
                    }
                }
                Command::Continue => self.input(Input::Continue),
            }
        }
    }

    /// Opens a connection with every listener the handlers need.
    fn open(&self, url: &str, last_event_id: Option<&str>) {
        let opened = {
            let inner = self.0.borrow();
            Source::open(
                url,
                &inner.options.last_event_id_param,
                last_event_id,
                inner.options.with_credentials,
            )
        };
        let mut source = match opened {
            Ok(source) => source,
            Err(message) => return self.input(Input::ConnectionLost { message }),
        };
        let weak = self.weak();
        source.listen("open", move |_| {
            if let Some(driver) = weak.upgrade() {
                driver.input(Input::Opened);
            }
        });
        let weak = self.weak();
        source.listen("error", move |event| {
            let Some(driver) = weak.upgrade() else { return };
            // A server event named "error" is a MessageEvent; a failure is not.
            if event.is_instance_of::<MessageEvent>() {
                driver.on_event("error", event);
            } else {
                driver.input(Input::ConnectionLost {
                    message: "the connection failed or was closed".into(),
                });
            }
        });
        let mut inner = self.0.borrow_mut();
        for name in [DEFAULT_EVENT, RESET_EVENT, END_EVENT] {
            self.listen(&mut source, name);
        }
        for name in inner.handlers.server_event_names() {
            self.listen(&mut source, name);
        }
        inner.source = Some(source);
    }

    /// Listens on `source` for server events named `name`.
    fn listen(&self, source: &mut Source, name: &str) {
        let weak = self.weak();
        let event_name = name.to_owned();
        source.listen(name, move |event| {
            if let Some(driver) = weak.upgrade() {
                driver.on_event(&event_name, event);
            }
        });
    }

    /// Listeners of the page's events the machine asked for.
    fn watchers(&self, online: bool, visibility: bool) -> Vec<EventListener> {
        let mut listeners = Vec::new();
        let Some(window) = web_sys::window() else {
            return listeners;
        };
        if online {
            let weak = self.weak();
            listeners.push(EventListener::new(window.as_ref(), "online", move |_| {
                if let Some(driver) = weak.upgrade() {
                    driver.input(Input::Online);
                }
            }));
        }
        if let Some(document) = window.document().filter(|_| visibility) {
            let weak = self.weak();
            let doc = document.clone();
            listeners.push(EventListener::new(
                document.as_ref(),
                "visibilitychange",
                move |_| {
                    if let Some(driver) = weak.upgrade() {
                        driver.input(if doc.hidden() {
                            Input::Hidden
                        } else {
                            Input::Visible
                        });
                    }
                },
            ));
        }
        listeners
    }

    /// A server event named `name` arrived.
    fn on_event(&self, name: &str, event: web_sys::Event) {
        let Ok(message) = event.dyn_into::<MessageEvent>() else {
            return;
        };
        // The data stays a JS string unless Rust code needs it.
        let data = message.data();
        let id = message.last_event_id();
        let delivery = Delivery {
            name,
            data: &data,
            id: &id,
        };
        let input = match name {
            RESET_EVENT => Input::ResetReceived {
                id: id.clone(),
                reset: decode_reset(&delivery.server_event()),
            },
            END_EVENT => Input::EndReceived {
                id: id.clone(),
                end: decode_end(&delivery.server_event()),
            },
            _ => Input::Message { id: id.clone() },
        };
        let commands = self.0.borrow_mut().machine.handle(input);
        self.run(commands, Some(&delivery));
    }

    /// Whether dispatches of `generation` may go on.
    fn still_current(&self, generation: u64) -> bool {
        let inner = self.0.borrow();
        inner.machine.generation() == generation && inner.machine.state() != State::Closed
    }

    /// Hands a server event to its handlers. JS handlers get the data
    /// parsed once, in JavaScript (or the string itself with `raw`), in one
    /// call across the wasm boundary; Rust handlers decode into their own
    /// types.
    fn deliver(&self, delivery: &Delivery<'_>) {
        let (handlers, generation, token, raw) = {
            let inner = self.0.borrow();
            (
                inner.handlers.for_server_event(delivery.name),
                inner.machine.generation(),
                inner.token.current().clone(),
                inner.options.raw,
            )
        };
        if !handlers.js.is_empty() {
            let js: js_sys::Array = handlers.js.iter().collect();
            let error =
                js_dispatch::deliver(&js, delivery.data, delivery.name, delivery.id, raw, &token);
            if let Some(error) = error {
                if self.still_current(generation) {
                    let error = delivery.server_event().parse_error(error);
                    self.input(Input::ParseFailed(error));
                }
            }
        }
        if handlers.rust.is_empty() {
            return;
        }
        let event = delivery.server_event();
        for handler in handlers.rust {
            if !self.still_current(generation) {
                return;
            }
            if let Err(error) = handler(&event) {
                self.input(Input::ParseFailed(error));
            }
        }
    }

    /// Hands a built-in event to the JS handlers of its name and to every
    /// Rust client-event handler.
    fn emit(&self, event: &ClientEvent) {
        let (callbacks, generation) = {
            let inner = self.0.borrow();
            (
                inner.handlers.for_client_event(event),
                inner.machine.generation(),
            )
        };
        // The "closed" state event itself is delivered; nothing after it.
        let closing = matches!(event, ClientEvent::State(State::Closed));
        let mut payload: Option<JsValue> = None;
        for callback in callbacks {
            {
                let inner = self.0.borrow();
                if inner.machine.generation() != generation
                    || (inner.machine.state() == State::Closed && !closing)
                {
                    return;
                }
            }
            match callback {
                Callback::Js(f) => js_dispatch::call(
                    &f,
                    payload.get_or_insert_with(|| js_dispatch::client_event_payload(event)),
                ),
                Callback::Client(f) => f(event),
                Callback::Server(_) => {}
            }
        }
    }

    /// Registers a handler; a server event name registered after connect
    /// is listened for at once.
    fn register(&self, name: &str, callback: Callback) -> HandlerId {
        let mut inner = self.0.borrow_mut();
        let id = inner.handlers.add(name, callback);
        if needs_listener(name) {
            if let Some(source) = inner.source.as_mut() {
                self.listen(source, name);
            }
        }
        id
    }
}

/// Resolves `url` against the page's location (when there is one).
fn resolve(url: &str) -> Result<String, ClientError> {
    let base = web_sys::window().and_then(|w| w.location().href().ok());
    let parsed = match base {
        Some(base) => web_sys::Url::new_with_base(url, &base),
        None => web_sys::Url::new(url),
    };
    parsed
        .map(|u| u.href())
        .map_err(|_| ClientError(format!("invalid URL \"{url}\"")))
}

/// A typed Server-Sent Events client; see the [crate documentation](crate).
#[must_use = "a client closes when dropped, unless it is connected from JavaScript"]
pub struct SseClient {
    driver: Driver,
}

impl std::fmt::Debug for SseClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let inner = self.driver.0.borrow();
        f.debug_struct("SseClient")
            .field("url", &inner.machine.url())
            .field("state", &inner.machine.state())
            .finish_non_exhaustive()
    }
}

impl SseClient {
    /// A client for `url` (absolute, or relative to the page). Nothing
    /// connects until [`SseClient::connect`].
    pub fn new(url: &str, options: ClientOptions) -> Result<SseClient, ClientError> {
        let config = Config {
            url: resolve(url)?,
            policy: options.reconnect_policy(),
            last_event_id: options.last_event_id.clone(),
            reconnect_on_online: options.reconnect_on_online,
            pause_when_hidden: options.pause_when_hidden,
        };
        let inner = Inner {
            machine: Machine::new(config, js_sys::Math::random),
            options,
            handlers: Handlers::default(),
            source: None,
            timer: None,
            watchers: Vec::new(),
            token: Token::new(),
            detached: false,
            _live: Live::client(),
        };
        Ok(SseClient {
            driver: Driver(Rc::new(RefCell::new(inner))),
        })
    }

    /// A builder with the default options.
    pub fn builder(url: &str) -> SseClientBuilder {
        SseClientBuilder::new(url)
    }

    /// The current state.
    pub fn state(&self) -> State {
        self.driver.0.borrow().machine.state()
    }

    /// The counters.
    pub fn stats(&self) -> Stats {
        self.driver.0.borrow().machine.stats().clone()
    }

    /// The last event id seen (or given in the options).
    pub fn last_event_id(&self) -> Option<String> {
        self.driver.0.borrow().machine.stats().last_event_id.clone()
    }

    /// The resolved URL the client connects to (before the id parameter).
    pub fn url(&self) -> String {
        self.driver.0.borrow().machine.url().to_owned()
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
        self.driver.0.borrow_mut().handlers.remove(id)
    }

    /// A weak reference, for handles that remove handlers.
    pub(crate) fn downgrade(&self) -> WeakDriver {
        self.driver.weak()
    }

    /// The options the client was created with.
    pub(crate) fn options(&self) -> ClientOptions {
        self.driver.0.borrow().options.clone()
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
        self.driver.0.borrow_mut().detached = true;
        let weak = self.driver.weak();
        self.on_client_event(move |event| {
            if let ClientEvent::State(State::Closed | State::Failed) = event {
                let Some(driver) = weak.upgrade() else { return };
                DETACHED.with(|d| d.borrow_mut().retain(|c| !Rc::ptr_eq(&c.0, &driver.0)));
            }
        });
        DETACHED.with(|d| d.borrow_mut().push(self.driver.clone()));
    }
}

impl Drop for SseClient {
    fn drop(&mut self) {
        if !self.driver.0.borrow().detached {
            self.driver.input(Input::Close);
        }
    }
}
