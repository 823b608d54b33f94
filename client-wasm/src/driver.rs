//! [`Driver`]: the browser driver of the pure [state machine](crate::machine).
//!
//! It turns what the browser reports (the `EventSource`'s `open`, `error`
//! and message events, the reconnect timer, the page's `online` and
//! `visibilitychange`) and what the user asks (`connect`, `close`) into
//! machine [`Input`]s, and carries out the [`Command`]s the machine returns
//! with resources that release themselves: a [`Source`] closes its
//! `EventSource` and removes its listeners when dropped, a [`Timer`]
//! cancels itself, an [`EventListener`] removes itself. Callbacks hold only
//! weak references ([`WeakDriver`]), so dropping the client frees it.
//!
//! Handlers never run while the client's state is borrowed, so a handler
//! may call back into the client (even `close()`); after `close()` no
//! handler runs, not even the rest of the current dispatch.

use std::cell::RefCell;
use std::rc::{Rc, Weak};

use pushwire_protocol::names::{
    DEFAULT_EVENT, END_EVENT, EXPIRED_EVENT, RESET_EVENT, TICKET_PARAM,
};
use wasm_bindgen::closure::Closure;
use wasm_bindgen::{JsCast, JsValue};
use web_sys::MessageEvent;

use crate::control::{decode_end, decode_reset};
use crate::events::{ClientEvent, ServerEvent, State};
use crate::handlers::{needs_listener, Callback, HandlerId, Handlers};
use crate::js_dispatch::{self, Token};
use crate::listener::EventListener;
use crate::live::Live;
use crate::machine::{Command, Input, Machine, Stats};
use crate::network;
use crate::options::ClientOptions;
use crate::source::Source;
use crate::timer::Timer;
use crate::transport::Transport;
use crate::url::stream_url;

/// Server events every connection listens for, handlers or not.
const CONTROL_EVENTS: [&str; 4] = [DEFAULT_EVENT, RESET_EVENT, END_EVENT, EXPIRED_EVENT];

/// Attempt `serial` of a client, as the callbacks of its requests see it.
struct Attempt {
    driver: WeakDriver,
    serial: u64,
}

impl Attempt {
    /// The driver, while this attempt is the current one.
    fn current(&self) -> Option<Driver> {
        self.driver
            .upgrade()
            .filter(|d| d.0.borrow().serial == self.serial)
    }
}

/// Everything one client holds.
struct Inner {
    machine: Machine,
    options: ClientOptions,
    handlers: Handlers,
    /// The current attempt's connection, once it is opened (while the
    /// attempt waits for a token, a ticket or a probe there is none).
    source: Option<Source>,
    /// Bumped with every attempt begun or ended: answers to the token,
    /// ticket and probe requests of an older attempt are ignored.
    serial: u64,
    /// The token of the current attempt, for the probe of a refused
    /// `EventSource`.
    bearer: Option<String>,
    timer: Option<Timer>,
    /// Listeners of the page's `online` and `visibilitychange`.
    watchers: Vec<EventListener>,
    /// The generation as seen from JavaScript dispatch loops.
    token: Token,
    /// The owner let go while the connection was live.
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
    /// The driver, if the client still exists.
    pub(crate) fn upgrade(&self) -> Option<Driver> {
        self.0.upgrade().map(Driver)
    }

    /// Removes handler `id` from the client, if it still exists; `false`
    /// if it (or the handler) was already gone.
    pub(crate) fn remove_handler(&self, id: HandlerId) -> bool {
        self.upgrade()
            .is_some_and(|driver| driver.remove_handler(id))
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

impl Driver {
    /// A driver of `machine`, for a client with `options`.
    pub(crate) fn new(machine: Machine, options: ClientOptions) -> Driver {
        Driver(Rc::new(RefCell::new(Inner {
            machine,
            options,
            handlers: Handlers::default(),
            source: None,
            serial: 0,
            bearer: None,
            timer: None,
            watchers: Vec::new(),
            token: Token::new(),
            detached: false,
            _live: Live::client(),
        })))
    }

    /// A weak reference, for callbacks and handles.
    pub(crate) fn weak(&self) -> WeakDriver {
        WeakDriver(Rc::downgrade(&self.0))
    }

    /// Whether `self` and `other` drive the same client.
    pub(crate) fn same(&self, other: &Driver) -> bool {
        Rc::ptr_eq(&self.0, &other.0)
    }

    /// The current state.
    pub(crate) fn state(&self) -> State {
        self.0.borrow().machine.state()
    }

    /// The counters.
    pub(crate) fn stats(&self) -> Stats {
        self.0.borrow().machine.stats().clone()
    }

    /// The URL connections go to.
    pub(crate) fn url(&self) -> String {
        self.0.borrow().machine.url().to_owned()
    }

    /// The client's options.
    pub(crate) fn options(&self) -> ClientOptions {
        self.0.borrow().options.clone()
    }

    /// Whether the owner let go of the live client.
    pub(crate) fn detached(&self) -> bool {
        self.0.borrow().detached
    }

    /// Marks the client as let go by its owner.
    pub(crate) fn detach(&self) {
        self.0.borrow_mut().detached = true;
    }

    /// Removes handler `id`; `false` if it was already gone.
    pub(crate) fn remove_handler(&self, id: HandlerId) -> bool {
        self.0.borrow_mut().handlers.remove(id)
    }

    /// Feeds `input` to the machine and carries out its commands.
    pub(crate) fn input(&self, input: Input) {
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
                Command::CloseSource => {
                    let closed = self.end_attempt();
                    drop(closed);
                }
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

    /// Ends the current attempt (its late answers are ignored); its
    /// connection, to be dropped once the client is no longer borrowed.
    fn end_attempt(&self) -> Option<Source> {
        let mut inner = self.0.borrow_mut();
        inner.serial += 1;
        inner.bearer = None;
        inner.source.take()
    }

    /// Starts a new attempt, with no connection yet; its serial.
    fn begin_attempt(&self) -> u64 {
        let closed = self.end_attempt();
        drop(closed);
        self.0.borrow().serial
    }

    /// Opens a connection: with a `getToken`, once it has given a token
    /// (and, for `EventSource`, the server a ticket for it).
    fn open(&self, url: &str, last_event_id: Option<&str>) {
        let serial = self.begin_attempt();
        let attempt = Attempt {
            driver: self.weak(),
            serial,
        };
        let options = self.options();
        let url = stream_url(url, &[(&options.last_event_id_param, last_event_id)]);
        let Some(get_token) = options.get_token.as_ref() else {
            return self.connect_transport(&url, None, None);
        };
        let done = Closure::once_into_js(move |outcome: JsValue| {
            let Some(driver) = attempt.current() else {
                return;
            };
            match outcome.dyn_ref::<js_sys::Array>() {
                Some(granted) => driver.connect_transport(
                    &url,
                    granted.get(0).as_string(),
                    granted.get(1).as_string().as_deref(),
                ),
                None => driver.input(network::failure(&outcome)),
            }
        });
        network::authorize(
            &get_token.0,
            &options.ticket_url,
            options.transport == Transport::EventSource,
            options.with_credentials,
            done,
        );
    }

    /// Opens the transport's connection to `url` for the current attempt.
    fn connect_transport(&self, url: &str, token: Option<String>, ticket: Option<&str>) {
        let (transport, with_credentials, serial) = {
            let inner = self.0.borrow();
            (
                inner.options.transport,
                inner.options.with_credentials,
                inner.serial,
            )
        };
        let source = match transport {
            Transport::Fetch => Source::fetch(url, token.as_deref(), with_credentials),
            Transport::EventSource => {
                let with_ticket = stream_url(url, &[(TICKET_PARAM, ticket)]);
                match Source::open(&with_ticket, with_credentials) {
                    Ok(source) => source,
                    Err(message) => return self.input(Input::ConnectionLost { message }),
                }
            }
        };
        let attempt = Attempt {
            driver: self.weak(),
            serial,
        };
        let source = self.listen_all(source, url, attempt);
        let mut inner = self.0.borrow_mut();
        inner.bearer = token;
        inner.source = Some(source);
    }

    /// `source` listening for its opening, its failure, and every server
    /// event the handlers need.
    fn listen_all(&self, mut source: Source, url: &str, attempt: Attempt) -> Source {
        let weak = self.weak();
        source.listen("open", move |_| {
            if let Some(driver) = weak.upgrade() {
                driver.input(Input::Opened);
            }
        });
        let url = url.to_owned();
        source.listen("error", move |event| {
            let Some(driver) = attempt.current() else {
                return;
            };
            // A server event named "error" is a MessageEvent; a failure is
            // not. The fetch transport's failures say why; EventSource's do not.
            if event.is_instance_of::<MessageEvent>() {
                driver.on_event("error", event);
            } else if network::says_why(&event) {
                driver.input(network::failure(&event));
            } else {
                driver.source_failed(&url);
            }
        });
        for name in CONTROL_EVENTS {
            self.listen(&mut source, name);
        }
        let names: Vec<String> = self
            .0
            .borrow()
            .handlers
            .server_event_names()
            .map(str::to_owned)
            .collect();
        for name in &names {
            self.listen(&mut source, name);
        }
        source
    }

    /// The `EventSource` failed. One that never opened may have been
    /// refused, which it does not tell: the same request, asked once with
    /// `fetch`, says whether it was a 401 or 403.
    fn source_failed(&self, url: &str) {
        const LOST: &str = "the connection failed or was closed";
        if self.state() == State::Open {
            return self.input(Input::ConnectionLost {
                message: LOST.into(),
            });
        }
        let (token, with_credentials) = {
            let inner = self.0.borrow();
            (inner.bearer.clone(), inner.options.with_credentials)
        };
        let attempt = Attempt {
            driver: self.weak(),
            serial: self.begin_attempt(),
        };
        let done = Closure::once_into_js(move |refusal: JsValue| {
            let Some(driver) = attempt.current() else {
                return;
            };
            driver.input(if refusal.is_null() {
                Input::ConnectionLost {
                    message: LOST.into(),
                }
            } else {
                network::failure(&refusal)
            });
        });
        network::probe(url, token.as_deref(), with_credentials, done);
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
            EXPIRED_EVENT => Input::ExpiredReceived { id: id.clone() },
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
    pub(crate) fn register(&self, name: &str, callback: Callback) -> HandlerId {
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
