//! The client's connection logic as a pure state machine: connecting,
//! reconnecting on the [`ReconnectPolicy`], resuming after the last event
//! id, pausing while the page is hidden, the server's `pushwire.reset` and
//! `pushwire.end`, and the counters.
//!
//! It knows nothing of the browser. The driver ([`crate::driver`]) feeds it
//! [`Input`]s — what the user asked for and what the connection, the timer
//! and the page did — and carries out the [`Command`]s it returns, in
//! order. Randomness (the reconnect jitter) is passed in, so every
//! transition can be tested natively and deterministically.
//!
//! Handlers run while a batch of commands is carried out, and may call back
//! into the client. Two rules make that safe:
//! * once the [generation](Machine::generation) changes (the client closed
//!   or paused) the rest of a batch is dropped;
//! * where today's state only changes after handlers have seen an event
//!   (`error` before `reconnecting`, `end` before `closed`), the batch ends
//!   with [`Command::Continue`] and the machine finishes the transition on
//!   [`Input::Continue`], so those handlers see the state as it was.

use std::fmt;

use pushwire_protocol::{End, Reset};

use crate::events::{AuthError, ClientEvent, ParseError, State};
use crate::policy::ReconnectPolicy;

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

/// What the machine needs to know of the options.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Config {
    /// The resolved URL to connect to.
    pub url: String,
    /// Reconnect delays and the give-up point.
    pub policy: ReconnectPolicy,
    /// Resume after this id on the first connect.
    pub last_event_id: Option<String>,
    /// Watch the browser's `online` event.
    pub reconnect_on_online: bool,
    /// Watch the page's visibility.
    pub pause_when_hidden: bool,
}

/// Something that happened, for the machine to react to.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Input {
    /// The user called `connect()`.
    Connect,
    /// The user called `close()`.
    Close,
    /// The connection opened.
    Opened,
    /// The connection failed, dropped, or could not be created.
    ConnectionLost {
        /// Why, for the `error` event.
        message: String,
    },
    /// The server refused the credentials (401 or 403).
    AuthFailed(AuthError),
    /// The reconnect timer went off.
    TimerFired,
    /// The browser came back online.
    Online,
    /// The page was hidden.
    Hidden,
    /// The page became visible.
    Visible,
    /// A server event arrived; `id` is the connection's last event id.
    Message {
        /// The last event id at this event (empty: none).
        id: String,
    },
    /// The server's `pushwire.reset` arrived (decoded, or why not).
    ResetReceived {
        /// The last event id at this event (empty: none).
        id: String,
        /// The decoded reset.
        reset: Result<Reset, ParseError>,
    },
    /// The server's `pushwire.end` arrived.
    EndReceived {
        /// The last event id at this event (empty: none).
        id: String,
        /// The decoded end.
        end: End,
    },
    /// The server's `pushwire.expired` arrived: the token expired and the
    /// server closes the stream.
    ExpiredReceived {
        /// The last event id at this event (empty: none).
        id: String,
    },
    /// A handler's data did not decode.
    ParseFailed(ParseError),
    /// The handlers of the batch before have run: finish the transition.
    Continue,
}

/// Something the driver must do, in order.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Command {
    /// Open a connection to `url`, resuming after `last_event_id`.
    Open {
        /// The URL, without the id parameter.
        url: String,
        /// The id to resume after, if any.
        last_event_id: Option<String>,
    },
    /// Close the connection.
    CloseSource,
    /// Start the reconnect timer; [`Input::TimerFired`] when it goes off.
    Schedule {
        /// The delay in milliseconds.
        delay_ms: u32,
    },
    /// Cancel the reconnect timer.
    CancelTimer,
    /// Listen for the page's `online` and/or `visibilitychange` events.
    Watch {
        /// Report [`Input::Online`].
        online: bool,
        /// Report [`Input::Hidden`] and [`Input::Visible`].
        visibility: bool,
    },
    /// Stop listening for the page's events.
    Unwatch,
    /// The generation ended: dispatches in flight stop.
    EndGeneration,
    /// Hand a built-in event to its handlers.
    Emit(ClientEvent),
    /// Hand the server event just received to its handlers.
    Deliver,
    /// Feed [`Input::Continue`] (unless the generation changed meanwhile).
    Continue,
}

/// What [`Input::Continue`] finishes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Pending {
    Reconnecting {
        attempt: u32,
        delay_ms: u32,
    },
    Failed {
        attempts: u32,
    },
    /// Refused for good (403): failed, without `max-reconnect-reached`.
    Refused,
    Close,
}

/// The client's state machine; see the [module documentation](self).
pub(crate) struct Machine {
    config: Config,
    random: Box<dyn FnMut() -> f64>,
    state: State,
    /// Bumped when the client closes or pauses: dispatches of an older
    /// generation stop.
    generation: u64,
    /// Failed attempts since the last successful open.
    attempt: u32,
    /// A connection is open or being opened.
    source: bool,
    /// A reconnect is scheduled.
    timer: bool,
    /// The page's events are listened for.
    watching: bool,
    /// Closed because the page is hidden; reopens when it is visible.
    paused: bool,
    pending: Option<Pending>,
    stats: Stats,
}

impl fmt::Debug for Machine {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Machine")
            .field("state", &self.state)
            .field("generation", &self.generation)
            .field("attempt", &self.attempt)
            .field("source", &self.source)
            .field("timer", &self.timer)
            .field("paused", &self.paused)
            .finish_non_exhaustive()
    }
}

impl Machine {
    /// A closed machine; `random` yields uniform numbers in `[0, 1)` for
    /// the jitter.
    pub(crate) fn new(config: Config, random: impl FnMut() -> f64 + 'static) -> Machine {
        let stats = Stats {
            last_event_id: config.last_event_id.clone(),
            ..Stats::default()
        };
        Machine {
            config,
            random: Box::new(random),
            state: State::Closed,
            generation: 0,
            attempt: 0,
            source: false,
            timer: false,
            watching: false,
            paused: false,
            pending: None,
            stats,
        }
    }

    /// The current state.
    pub(crate) fn state(&self) -> State {
        self.state
    }

    /// The current generation; see [`Command::EndGeneration`].
    pub(crate) fn generation(&self) -> u64 {
        self.generation
    }

    /// The counters.
    pub(crate) fn stats(&self) -> &Stats {
        &self.stats
    }

    /// The URL connections go to.
    pub(crate) fn url(&self) -> &str {
        &self.config.url
    }

    /// Whether a connection is open or being opened.
    #[cfg(test)]
    pub(crate) fn connected(&self) -> bool {
        self.source
    }

    /// Reacts to `input`: the commands to carry out, in order.
    pub(crate) fn handle(&mut self, input: Input) -> Vec<Command> {
        let mut out = Vec::new();
        match input {
            Input::Connect => self.connect(&mut out),
            Input::Close => self.close(&mut out),
            Input::Opened => self.opened(&mut out),
            Input::ConnectionLost { message } => {
                self.lost(ClientEvent::Error { message }, &mut out);
            }
            Input::AuthFailed(error) if error.status == 403 => {
                // The token is valid but lacks the grant: asking again
                // cannot help, so no reconnect until the app connects anew.
                if self.is_active() {
                    self.disconnect(&mut out);
                    out.push(Command::Emit(ClientEvent::AuthError(error)));
                    self.then(Pending::Refused, &mut out);
                }
            }
            Input::AuthFailed(error) => self.lost(ClientEvent::AuthError(error), &mut out),
            Input::TimerFired => {
                self.timer = false;
                if self.state == State::Reconnecting {
                    self.reconnect(&mut out);
                }
            }
            Input::Online => match self.state {
                // Skip the rest of the backoff: the network is back.
                State::Reconnecting => self.reconnect(&mut out),
                State::Failed => self.restart(&mut out),
                _ => {}
            },
            Input::Hidden => {
                if self.is_active() {
                    self.disconnect(&mut out);
                    self.paused = true;
                    self.end_generation(&mut out);
                    self.set_state(State::Closed, &mut out);
                }
            }
            Input::Visible => {
                if self.paused && self.state == State::Closed {
                    self.restart(&mut out);
                }
            }
            Input::Message { id } => {
                if self.received(id) {
                    out.push(Command::Deliver);
                }
            }
            Input::ResetReceived { id, reset } => {
                if self.received(id) {
                    match reset {
                        Ok(reset) => out.push(Command::Emit(ClientEvent::Reset(reset))),
                        Err(error) => self.parse_failed(error, &mut out),
                    }
                }
            }
            Input::EndReceived { id, end } => {
                if self.received(id) {
                    // Disconnect first: "end" means no reconnect, whatever
                    // handlers do; the client closes once they have run.
                    self.disconnect(&mut out);
                    out.push(Command::Emit(ClientEvent::End(end)));
                    self.then(Pending::Close, &mut out);
                }
            }
            Input::ExpiredReceived { id } => {
                if self.received(id) {
                    // Not a failure: resume at once, with a fresh token.
                    out.push(Command::Deliver);
                    self.set_state(State::Reconnecting, &mut out);
                    self.reconnect(&mut out);
                }
            }
            Input::ParseFailed(error) => self.parse_failed(error, &mut out),
            Input::Continue => match self.pending.take() {
                Some(Pending::Reconnecting { attempt, delay_ms }) => {
                    self.set_state(State::Reconnecting, &mut out);
                    out.push(Command::Emit(ClientEvent::Reconnecting {
                        attempt,
                        delay_ms,
                    }));
                }
                Some(Pending::Failed { attempts }) => {
                    self.set_state(State::Failed, &mut out);
                    out.push(Command::Emit(ClientEvent::MaxReconnectReached { attempts }));
                }
                Some(Pending::Refused) => self.set_state(State::Failed, &mut out),
                Some(Pending::Close) => self.close(&mut out),
                None => {}
            },
        }
        out
    }

    fn is_active(&self) -> bool {
        matches!(
            self.state,
            State::Connecting | State::Open | State::Reconnecting
        )
    }

    fn connect(&mut self, out: &mut Vec<Command>) {
        if self.is_active() {
            return;
        }
        let (online, visibility) = (
            self.config.reconnect_on_online,
            self.config.pause_when_hidden,
        );
        if !self.watching && (online || visibility) {
            self.watching = true;
            out.push(Command::Watch { online, visibility });
        }
        self.restart(out);
    }

    /// Connects afresh: a new count of attempts, state `connecting`.
    fn restart(&mut self, out: &mut Vec<Command>) {
        self.attempt = 0;
        self.paused = false;
        self.set_state(State::Connecting, out);
        self.open(out);
    }

    /// A reconnect attempt, counted.
    fn reconnect(&mut self, out: &mut Vec<Command>) {
        self.stats.reconnects += 1;
        self.open(out);
    }

    /// Replaces any connection or pending reconnect by a new connection.
    fn open(&mut self, out: &mut Vec<Command>) {
        self.disconnect(out);
        self.source = true;
        out.push(Command::Open {
            url: self.config.url.clone(),
            last_event_id: self.stats.last_event_id.clone(),
        });
    }

    /// Closes the connection (if any) and cancels a pending reconnect.
    fn disconnect(&mut self, out: &mut Vec<Command>) {
        if std::mem::take(&mut self.source) {
            out.push(Command::CloseSource);
        }
        if std::mem::take(&mut self.timer) {
            out.push(Command::CancelTimer);
        }
    }

    fn close(&mut self, out: &mut Vec<Command>) {
        self.disconnect(out);
        if std::mem::take(&mut self.watching) {
            out.push(Command::Unwatch);
        }
        self.paused = false;
        self.pending = None;
        if self.state == State::Closed {
            return;
        }
        self.end_generation(out);
        self.set_state(State::Closed, out);
    }

    fn opened(&mut self, out: &mut Vec<Command>) {
        if !self.source {
            return;
        }
        self.attempt = 0;
        self.set_state(State::Open, out);
        out.push(Command::Emit(ClientEvent::Open));
    }

    /// The connection failed or was refused: `report` (an `error` or an
    /// `auth-error`), then a reconnect on the policy, or giving up.
    fn lost(&mut self, report: ClientEvent, out: &mut Vec<Command>) {
        if matches!(self.state, State::Closed | State::Failed) {
            return;
        }
        // Close the connection: the browser's own retry would bypass the policy.
        if std::mem::take(&mut self.source) {
            out.push(Command::CloseSource);
        }
        self.attempt += 1;
        let attempt = self.attempt;
        let random = (self.random)();
        let policy = &self.config.policy;
        let pending = if policy.allows(attempt) {
            let delay = policy.delay(attempt, random);
            let delay_ms = delay.as_millis().min(u128::from(u32::MAX)) as u32;
            self.timer = true;
            out.push(Command::Schedule { delay_ms });
            Pending::Reconnecting { attempt, delay_ms }
        } else {
            if std::mem::take(&mut self.timer) {
                out.push(Command::CancelTimer);
            }
            Pending::Failed {
                attempts: attempt - 1,
            }
        };
        out.push(Command::Emit(report));
        self.then(pending, out);
    }

    /// Counts a server event; `false` if no connection is open to have
    /// received it.
    fn received(&mut self, id: String) -> bool {
        if !self.source {
            return false;
        }
        self.stats.events_received += 1;
        if !id.is_empty() {
            self.stats.last_event_id = Some(id);
        }
        true
    }

    fn parse_failed(&mut self, error: ParseError, out: &mut Vec<Command>) {
        self.stats.parse_errors += 1;
        out.push(Command::Emit(ClientEvent::ParseError(error)));
    }

    fn then(&mut self, pending: Pending, out: &mut Vec<Command>) {
        self.pending = Some(pending);
        out.push(Command::Continue);
    }

    fn end_generation(&mut self, out: &mut Vec<Command>) {
        self.generation += 1;
        self.pending = None;
        out.push(Command::EndGeneration);
    }

    fn set_state(&mut self, state: State, out: &mut Vec<Command>) {
        if self.state != state {
            self.state = state;
            out.push(Command::Emit(ClientEvent::State(state)));
        }
    }
}

#[cfg(test)]
mod tests;
