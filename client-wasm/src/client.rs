//! `SseClient`: the client core, shared by the Rust and JavaScript faces.
//!
//! It wraps one native `EventSource` at a time and owns reconnection: when a
//! connection errors, the native source is closed (so the browser's own
//! retry never runs) and the client reconnects itself on its
//! [`ReconnectPolicy`], sending the last event id it saw as a query
//! parameter so the server resumes without a gap. Everything it registers
//! with the browser — listeners, timers — is owned here and released on
//! `close()` or drop; callbacks hold only weak references, so dropping the
//! client frees it.
//!
//! Handlers never run while the client's state is borrowed, so a handler
//! may call back into the client (even `close()`); after `close()` no
//! handler runs, not even the rest of the current dispatch.

use std::cell::RefCell;
use std::rc::{Rc, Weak};
use std::time::Duration;

use pushwire_protocol::TypedEvent;
use wasm_bindgen::{JsCast, JsValue};
use web_sys::{EventSource, EventSourceInit, EventTarget, MessageEvent};

use crate::events::{
    ClientEvent, ParseError, ServerEvent, State, BUILTIN_EVENTS, END_EVENT, RESET_EVENT,
};
use crate::listener::{ClientToken, EventListener, ReconnectTimer};
use crate::options::ClientOptions;
use crate::policy::ReconnectPolicy;

/// Identifies a registered handler, for [`SseClient::off`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct HandlerId(u64);

/// Counters of one client.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Stats {
    /// Server events received (control events included).
    pub events_received: u64,
    /// Events whose data could not be decoded.
    pub parse_errors: u64,
    /// Reconnect attempts made.
    pub reconnects: u64,
    /// The last event id seen, sent on reconnects.
    pub last_event_id: Option<String>,
}

/// Why a client could not be created.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientError(pub String);

impl std::fmt::Display for ClientError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for ClientError {}

type ServerCallback = Rc<dyn Fn(&ServerEvent) -> Result<(), ParseError>>;
type ClientCallback = Rc<dyn Fn(&ClientEvent)>;

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

/// One open native connection and its listeners; closed when dropped.
struct Connection {
    source: EventSource,
    listeners: Vec<EventListener>,
}

impl Drop for Connection {
    fn drop(&mut self) {
        self.source.close();
    }
}

pub(crate) struct Inner {
    url: String,
    options: ClientOptions,
    state: State,
    /// Bumped by `close()` and pauses: dispatches of an older generation stop.
    generation: u64,
    /// The generation as seen from JavaScript: `{ closed }`, set when the
    /// generation ends, so a JS dispatch loop stops without asking Rust.
    token: js_sys::Object,
    handlers: Vec<Registered>,
    next_handler: u64,
    connection: Option<Connection>,
    timer: Option<ReconnectTimer>,
    window_listeners: Vec<EventListener>,
    /// Failed attempts since the last successful open.
    attempt: u32,
    paused: bool,
    /// The owner let go while the connection was live; see [`SseClient::detach`].
    detached: bool,
    stats: Stats,
    _token: ClientToken,
}

thread_local! {
    /// Clients whose owner let go while they were live: kept until they
    /// close, end or give up, like a native EventSource.
    static DETACHED: RefCell<Vec<Rc<RefCell<Inner>>>> = const { RefCell::new(Vec::new()) };
}

impl Inner {
    /// Closes the native connection (if any) and cancels a pending reconnect.
    fn disconnect(&mut self) {
        self.connection = None;
        self.timer = None;
    }

    fn end_generation(&mut self) {
        self.generation += 1;
        let _ = js_sys::Reflect::set(&self.token, &JsValue::from_str("closed"), &JsValue::TRUE);
        self.token = js_sys::Object::new();
    }
}

/// A typed Server-Sent Events client; see the [crate documentation](crate).
pub struct SseClient {
    shared: Rc<RefCell<Inner>>,
}

impl std::fmt::Debug for SseClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let inner = self.shared.borrow();
        f.debug_struct("SseClient")
            .field("url", &inner.url)
            .field("state", &inner.state)
            .finish_non_exhaustive()
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

fn random() -> f64 {
    js_sys::Math::random()
}

impl SseClient {
    /// A client for `url` (absolute, or relative to the page). Nothing
    /// connects until [`SseClient::connect`].
    pub fn new(url: &str, options: ClientOptions) -> Result<SseClient, ClientError> {
        let url = resolve(url)?;
        let stats = Stats {
            last_event_id: options.last_event_id.clone(),
            ..Stats::default()
        };
        Ok(SseClient {
            shared: Rc::new(RefCell::new(Inner {
                url,
                options,
                state: State::Closed,
                generation: 0,
                token: js_sys::Object::new(),
                handlers: Vec::new(),
                next_handler: 0,
                connection: None,
                timer: None,
                window_listeners: Vec::new(),
                attempt: 0,
                paused: false,
                detached: false,
                stats,
                _token: ClientToken::new(),
            })),
        })
    }

    /// A builder with the default options.
    pub fn builder(url: &str) -> SseClientBuilder {
        SseClientBuilder {
            url: url.to_owned(),
            options: ClientOptions::default(),
        }
    }

    /// The current state.
    pub fn state(&self) -> State {
        self.shared.borrow().state
    }

    /// The counters.
    pub fn stats(&self) -> Stats {
        self.shared.borrow().stats.clone()
    }

    /// The last event id seen (or given in the options).
    pub fn last_event_id(&self) -> Option<String> {
        self.shared.borrow().stats.last_event_id.clone()
    }

    /// The resolved URL the client connects to (before the id parameter).
    pub fn url(&self) -> String {
        self.shared.borrow().url.clone()
    }

    /// Opens the connection. Does nothing if one is open or being opened.
    pub fn connect(&self) {
        connect(&self.shared);
    }

    /// Closes the connection and cancels any pending reconnect. Nothing
    /// reopens afterwards and no handler runs, until `connect` is called.
    pub fn close(&self) {
        close(&self.shared);
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
        register(&self.shared, "", Callback::Client(Rc::new(handler)))
    }

    pub(crate) fn on_server_event(
        &self,
        name: &str,
        handler: impl Fn(&ServerEvent) -> Result<(), ParseError> + 'static,
    ) -> HandlerId {
        register(&self.shared, name, Callback::Server(Rc::new(handler)))
    }

    pub(crate) fn on_js(&self, name: &str, handler: js_sys::Function) -> HandlerId {
        register(&self.shared, name, Callback::Js(handler))
    }

    /// Removes a handler; `false` if it was already gone.
    pub fn off(&self, id: HandlerId) -> bool {
        remove_handler(&self.shared, id)
    }

    pub(crate) fn downgrade(&self) -> Weak<RefCell<Inner>> {
        Rc::downgrade(&self.shared)
    }

    pub(crate) fn options(&self) -> ClientOptions {
        self.shared.borrow().options.clone()
    }
}

impl SseClient {
    /// Lets the connection outlive this handle, as a native `EventSource`
    /// outlives the last reference to it: a client that is not closed keeps
    /// delivering to its handlers, and its resources are released once it
    /// closes, ends or gives up. Used when the JavaScript object is freed
    /// or garbage-collected while connected.
    pub(crate) fn detach(&self) {
        let state = self.state();
        if matches!(state, State::Closed | State::Failed) {
            return;
        }
        self.shared.borrow_mut().detached = true;
        let weak = Rc::downgrade(&self.shared);
        self.on_client_event(move |event| {
            if let ClientEvent::State(State::Closed | State::Failed) = event {
                let Some(shared) = weak.upgrade() else { return };
                DETACHED.with(|d| d.borrow_mut().retain(|c| !Rc::ptr_eq(c, &shared)));
            }
        });
        DETACHED.with(|d| d.borrow_mut().push(self.shared.clone()));
    }
}

impl Drop for SseClient {
    fn drop(&mut self) {
        if !self.shared.borrow().detached {
            close(&self.shared);
        }
    }
}

/// Removes handler `id` from the client behind `weak`, if it still exists.
pub(crate) fn remove_handler_weak(weak: &Weak<RefCell<Inner>>, id: HandlerId) -> bool {
    weak.upgrade()
        .is_some_and(|shared| remove_handler(&shared, id))
}

fn remove_handler(shared: &Rc<RefCell<Inner>>, id: HandlerId) -> bool {
    let mut inner = shared.borrow_mut();
    let before = inner.handlers.len();
    inner.handlers.retain(|h| h.id != id);
    before != inner.handlers.len()
}

fn register(shared: &Rc<RefCell<Inner>>, name: &str, callback: Callback) -> HandlerId {
    let mut inner = shared.borrow_mut();
    let id = HandlerId(inner.next_handler);
    inner.next_handler += 1;
    inner.handlers.push(Registered {
        id,
        name: name.to_owned(),
        callback,
    });
    // A server event name registered after connect is listened for at once.
    let listens = needs_listener(name);
    if listens {
        let weak = Rc::downgrade(shared);
        if let Some(conn) = inner.connection.as_mut() {
            if !conn.listeners.iter().any(|l| l.event_type() == name) {
                let target: &EventTarget = conn.source.as_ref();
                conn.listeners.push(message_listener(target, name, weak));
            }
        }
    }
    id
}

/// Whether a handler name needs an EventSource listener of that name.
fn needs_listener(name: &str) -> bool {
    !name.is_empty() && (name == "message" || !BUILTIN_EVENTS.contains(&name))
}

fn message_listener(target: &EventTarget, name: &str, weak: Weak<RefCell<Inner>>) -> EventListener {
    let event_name = name.to_owned();
    EventListener::new(target, name, move |event| {
        if let Some(shared) = weak.upgrade() {
            on_message(&shared, &event_name, event);
        }
    })
}

fn connect(shared: &Rc<RefCell<Inner>>) {
    {
        let mut inner = shared.borrow_mut();
        if matches!(
            inner.state,
            State::Connecting | State::Open | State::Reconnecting
        ) {
            return;
        }
        if inner.window_listeners.is_empty() {
            inner.window_listeners = window_listeners(shared, &inner.options);
        }
    }
    restart(shared);
}

/// Connects afresh: a new count of attempts, state `connecting`.
fn restart(shared: &Rc<RefCell<Inner>>) {
    {
        let mut inner = shared.borrow_mut();
        inner.attempt = 0;
        inner.paused = false;
    }
    set_state(shared, State::Connecting);
    open_connection(shared);
}

/// Listeners for `online` and `visibilitychange`, when the options ask.
fn window_listeners(shared: &Rc<RefCell<Inner>>, options: &ClientOptions) -> Vec<EventListener> {
    let mut listeners = Vec::new();
    let Some(window) = web_sys::window() else {
        return listeners;
    };
    if options.reconnect_on_online {
        let weak = Rc::downgrade(shared);
        listeners.push(EventListener::new(window.as_ref(), "online", move |_| {
            if let Some(shared) = weak.upgrade() {
                on_online(&shared);
            }
        }));
    }
    if options.pause_when_hidden {
        if let Some(document) = window.document() {
            let weak = Rc::downgrade(shared);
            let doc = document.clone();
            listeners.push(EventListener::new(
                document.as_ref(),
                "visibilitychange",
                move |_| {
                    if let Some(shared) = weak.upgrade() {
                        on_visibility(&shared, doc.hidden());
                    }
                },
            ));
        }
    }
    listeners
}

/// Opens a native EventSource with every listener the handlers need.
fn open_connection(shared: &Rc<RefCell<Inner>>) {
    let weak = Rc::downgrade(shared);
    let mut inner = shared.borrow_mut();
    inner.disconnect();
    let url = connect_url(&inner);
    let init = EventSourceInit::new();
    init.set_with_credentials(inner.options.with_credentials);
    let source = match EventSource::new_with_event_source_init_dict(&url, &init) {
        Ok(source) => source,
        Err(err) => {
            drop(inner);
            let message = err
                .as_string()
                .unwrap_or_else(|| "could not open EventSource".into());
            connection_failed(shared, message);
            return;
        }
    };
    let target: &EventTarget = source.as_ref();
    let mut listeners = Vec::new();
    {
        let weak = weak.clone();
        listeners.push(EventListener::new(target, "open", move |_| {
            if let Some(shared) = weak.upgrade() {
                on_open(&shared);
            }
        }));
    }
    {
        let weak = weak.clone();
        listeners.push(EventListener::new(target, "error", move |event| {
            // A server event named "error" is a MessageEvent; a failure is not.
            if let Some(shared) = weak.upgrade() {
                if event.is_instance_of::<MessageEvent>() {
                    on_message(&shared, "error", event);
                } else {
                    connection_failed(&shared, "the connection failed or was closed".into());
                }
            }
        }));
    }
    let mut names: Vec<&str> = vec!["message", RESET_EVENT, END_EVENT];
    for h in &inner.handlers {
        if needs_listener(&h.name) && !names.contains(&h.name.as_str()) {
            names.push(&h.name);
        }
    }
    for name in names {
        listeners.push(message_listener(target, name, weak.clone()));
    }
    inner.connection = Some(Connection { source, listeners });
}

/// The URL with the last event id as a query parameter, when there is one.
fn connect_url(inner: &Inner) -> String {
    let Some(id) = inner.stats.last_event_id.as_deref() else {
        return inner.url.clone();
    };
    match web_sys::Url::new(&inner.url) {
        Ok(url) => {
            url.search_params()
                .set(&inner.options.last_event_id_param, id);
            url.href()
        }
        Err(_) => inner.url.clone(),
    }
}

fn on_open(shared: &Rc<RefCell<Inner>>) {
    {
        let mut inner = shared.borrow_mut();
        if inner.connection.is_none() {
            return;
        }
        inner.attempt = 0;
    }
    set_state(shared, State::Open);
    emit(shared, &ClientEvent::Open);
}

fn connection_failed(shared: &Rc<RefCell<Inner>>, message: String) {
    let (next, attempt, delay_ms) = {
        let mut inner = shared.borrow_mut();
        if matches!(inner.state, State::Closed | State::Failed) {
            return;
        }
        // Close the native source: its own retry would bypass our policy.
        inner.connection = None;
        inner.attempt += 1;
        let attempt = inner.attempt;
        let policy: &ReconnectPolicy = &inner.options.reconnect;
        if policy.allows(attempt) {
            let delay = policy.delay(attempt, random());
            let delay_ms = delay.as_millis().min(u128::from(u32::MAX)) as u32;
            let weak = Rc::downgrade(shared);
            inner.timer = Some(ReconnectTimer::new(delay_ms, move || {
                if let Some(shared) = weak.upgrade() {
                    reconnect_now(&shared);
                }
            }));
            (State::Reconnecting, attempt, delay_ms)
        } else {
            inner.timer = None;
            (State::Failed, attempt - 1, 0)
        }
    };
    let generation = shared.borrow().generation;
    emit(shared, &ClientEvent::Error { message });
    if shared.borrow().generation != generation {
        return; // an error handler closed the client
    }
    set_state(shared, next);
    if next == State::Reconnecting {
        emit(shared, &ClientEvent::Reconnecting { attempt, delay_ms });
    } else {
        emit(
            shared,
            &ClientEvent::MaxReconnectReached { attempts: attempt },
        );
    }
}

fn reconnect_now(shared: &Rc<RefCell<Inner>>) {
    {
        let mut inner = shared.borrow_mut();
        if inner.state != State::Reconnecting {
            return;
        }
        inner.stats.reconnects += 1;
    }
    open_connection(shared);
}

fn on_online(shared: &Rc<RefCell<Inner>>) {
    let state = shared.borrow().state;
    match state {
        State::Reconnecting => {
            // Skip the rest of the backoff: the network is back.
            shared.borrow_mut().stats.reconnects += 1;
            open_connection(shared);
        }
        State::Failed => restart(shared),
        _ => {}
    }
}

fn on_visibility(shared: &Rc<RefCell<Inner>>, hidden: bool) {
    let (state, paused) = {
        let inner = shared.borrow();
        (inner.state, inner.paused)
    };
    if hidden && matches!(state, State::Connecting | State::Open | State::Reconnecting) {
        {
            let mut inner = shared.borrow_mut();
            inner.disconnect();
            inner.paused = true;
            inner.end_generation();
        }
        set_state(shared, State::Closed);
    } else if !hidden && paused && state == State::Closed {
        restart(shared);
    }
}

fn close(shared: &Rc<RefCell<Inner>>) {
    {
        let mut inner = shared.borrow_mut();
        inner.disconnect();
        inner.window_listeners.clear();
        inner.paused = false;
        if inner.state == State::Closed {
            return;
        }
        inner.end_generation();
    }
    set_state(shared, State::Closed);
}

fn set_state(shared: &Rc<RefCell<Inner>>, state: State) {
    {
        let mut inner = shared.borrow_mut();
        if inner.state == state {
            return;
        }
        inner.state = state;
    }
    emit(shared, &ClientEvent::State(state));
}

fn on_message(shared: &Rc<RefCell<Inner>>, name: &str, event: web_sys::Event) {
    let Ok(message) = event.dyn_into::<MessageEvent>() else {
        return;
    };
    // The data stays a JS string unless Rust code needs it.
    let data = message.data();
    let id = message.last_event_id();
    {
        let mut inner = shared.borrow_mut();
        if inner.connection.is_none() {
            return;
        }
        inner.stats.events_received += 1;
        if !id.is_empty() {
            inner.stats.last_event_id = Some(id.clone());
        }
    }
    let server_event = || ServerEvent {
        event: name.to_owned(),
        data: data.as_string().unwrap_or_default(),
        id: id.clone(),
    };
    match name {
        RESET_EVENT => match crate::js::decode_reset(&server_event()) {
            Ok(reset) => emit(shared, &ClientEvent::Reset(reset)),
            Err(err) => parse_failed(shared, err),
        },
        END_EVENT => {
            let end = crate::js::decode_end(&server_event());
            // Close first: "end" means no reconnect, whatever handlers do.
            shared.borrow_mut().disconnect();
            emit(shared, &ClientEvent::End(end));
            close(shared);
        }
        _ => deliver(shared, name, &data, &id, server_event),
    }
}

fn parse_failed(shared: &Rc<RefCell<Inner>>, error: ParseError) {
    shared.borrow_mut().stats.parse_errors += 1;
    emit(shared, &ClientEvent::ParseError(error));
}

fn still_current(shared: &Rc<RefCell<Inner>>, generation: u64) -> bool {
    let inner = shared.borrow();
    inner.generation == generation && inner.state != State::Closed
}

fn report(result: Result<JsValue, JsValue>) {
    if let Err(err) = result {
        web_sys::console::error_2(&JsValue::from_str("pushwire-client: a handler threw"), &err);
    }
}

/// Hands a server event to its handlers. JS handlers get the data parsed
/// once, in JavaScript (or the string itself with `raw`), in one call across
/// the wasm boundary; Rust handlers decode into their own types.
fn deliver(
    shared: &Rc<RefCell<Inner>>,
    name: &str,
    data: &JsValue,
    id: &str,
    server_event: impl Fn() -> ServerEvent,
) {
    let (js, rust, generation, token, raw) = {
        let inner = shared.borrow();
        let js = js_sys::Array::new();
        let mut rust = Vec::new();
        for h in inner.handlers.iter().filter(|h| h.name == name) {
            match &h.callback {
                Callback::Js(f) => {
                    js.push(f);
                }
                Callback::Server(f) => rust.push(f.clone()),
                Callback::Client(_) => {}
            }
        }
        (
            js,
            rust,
            inner.generation,
            inner.token.clone(),
            inner.options.raw,
        )
    };
    if js.length() > 0 {
        if let Some(error) = crate::js::deliver(&js, data, name, id, raw, &token) {
            if still_current(shared, generation) {
                parse_failed(shared, server_event().parse_error(error));
            }
        }
    }
    if rust.is_empty() {
        return;
    }
    let event = server_event();
    for f in rust {
        if !still_current(shared, generation) {
            return;
        }
        if let Err(err) = f(&event) {
            parse_failed(shared, err);
        }
    }
}

/// Hands a built-in event to the JS handlers of its name and to every Rust
/// client-event handler.
fn emit(shared: &Rc<RefCell<Inner>>, event: &ClientEvent) {
    let (callbacks, generation) = {
        let inner = shared.borrow();
        let callbacks: Vec<Callback> = inner
            .handlers
            .iter()
            .filter(|h| h.name == event.name() || matches!(h.callback, Callback::Client(_)))
            .map(|h| h.callback.clone())
            .collect();
        (callbacks, inner.generation)
    };
    let mut payload: Option<JsValue> = None;
    for callback in callbacks {
        {
            let inner = shared.borrow();
            // The "closed" state event itself is delivered; nothing after it.
            let closing = matches!(event, ClientEvent::State(State::Closed));
            if inner.generation != generation || (inner.state == State::Closed && !closing) {
                return;
            }
        }
        match callback {
            Callback::Js(f) => {
                let payload = payload.get_or_insert_with(|| crate::js::client_event_payload(event));
                report(f.call1(&JsValue::NULL, payload));
            }
            Callback::Client(f) => f(event),
            Callback::Server(_) => {}
        }
    }
}

/// Builder of an [`SseClient`].
///
/// ```no_run
/// use std::time::Duration;
/// use pushwire_client::SseClient;
/// use pushwire_protocol::MonitoringData;
///
/// let client = SseClient::builder("/sse/monitoring")
///     .max_reconnect_attempts(10)
///     .reconnect_interval(Duration::from_secs(2))
///     .build()
///     .expect("valid URL");
/// client.on_typed::<MonitoringData>(|m| { let _ = m.cpu_usage; });
/// client.connect();
/// ```
#[derive(Debug, Clone)]
pub struct SseClientBuilder {
    url: String,
    options: ClientOptions,
}

impl SseClientBuilder {
    /// Send cookies cross-origin.
    pub fn with_credentials(mut self, yes: bool) -> Self {
        self.options.with_credentials = yes;
        self
    }
    /// Consecutive failed attempts before giving up.
    pub fn max_reconnect_attempts(mut self, n: u32) -> Self {
        self.options.reconnect.max_attempts = n;
        self
    }
    /// First reconnect delay ceiling.
    pub fn reconnect_interval(mut self, d: Duration) -> Self {
        self.options.reconnect.initial = d;
        self
    }
    /// Largest reconnect delay ceiling.
    pub fn max_reconnect_interval(mut self, d: Duration) -> Self {
        self.options.reconnect.max = d;
        self
    }
    /// Growth factor between attempts.
    pub fn backoff_multiplier(mut self, m: f64) -> Self {
        self.options.reconnect.multiplier = m;
        self
    }
    /// Delay randomisation.
    pub fn jitter(mut self, jitter: crate::policy::Jitter) -> Self {
        self.options.reconnect.jitter = jitter;
        self
    }
    /// Resume after this id on the first connect.
    pub fn last_event_id(mut self, id: impl Into<String>) -> Self {
        self.options.last_event_id = Some(id.into()).filter(|id: &String| !id.is_empty());
        self
    }
    /// Query parameter that carries the last event id.
    pub fn last_event_id_param(mut self, name: impl Into<String>) -> Self {
        self.options.last_event_id_param = name.into();
        self
    }
    /// Reconnect at once when the browser comes back online.
    pub fn reconnect_on_online(mut self, yes: bool) -> Self {
        self.options.reconnect_on_online = yes;
        self
    }
    /// Close while the tab is hidden and resume when visible.
    pub fn pause_when_hidden(mut self, yes: bool) -> Self {
        self.options.pause_when_hidden = yes;
        self
    }
    /// Capacity of typed event streams.
    pub fn stream_capacity(mut self, n: usize) -> Self {
        self.options.stream_capacity = n.max(1);
        self
    }
    /// All options at once.
    pub fn options(mut self, options: ClientOptions) -> Self {
        self.options = options;
        self
    }
    /// Creates the client (not yet connected).
    pub fn build(self) -> Result<SseClient, ClientError> {
        SseClient::new(&self.url, self.options)
    }
}
