//! Native tests of the state machine: every transition, with injected
//! randomness, and the commands each one asks of the driver.

use std::cell::RefCell;
use std::rc::Rc;
use std::time::Duration;

use pushwire_protocol::names::{END_COMPLETE, RESET_EVENT};
use pushwire_protocol::{End, Reset, ResetReason};

use super::*;
use crate::policy::Jitter;

const URL: &str = "https://example.test/sse/subscribe?topic=t";

/// 100 ms, doubling, capped at 1 s, no jitter, three attempts.
fn config() -> Config {
    Config {
        url: URL.to_owned(),
        policy: ReconnectPolicy {
            initial: Duration::from_millis(100),
            multiplier: 2.0,
            max: Duration::from_millis(1000),
            jitter: Jitter::None,
            max_attempts: 3,
        },
        last_event_id: None,
        reconnect_on_online: false,
        pause_when_hidden: false,
    }
}

fn machine(config: Config) -> Machine {
    Machine::new(config, || 0.5)
}

/// A machine whose jitter draws `randoms` in turn (then 0).
fn with_randoms(config: Config, randoms: &[f64]) -> Machine {
    let queue = Rc::new(RefCell::new(randoms.to_vec()));
    Machine::new(config, move || {
        let mut q = queue.borrow_mut();
        if q.is_empty() {
            0.0
        } else {
            q.remove(0)
        }
    })
}

/// Handles `input` as the driver does without reentrant handlers: the
/// machine's `Continue` is fed back at once.
fn step(m: &mut Machine, input: Input) -> Vec<Command> {
    let mut all = Vec::new();
    let mut batch = m.handle(input);
    loop {
        let more = batch.last() == Some(&Command::Continue);
        all.append(&mut batch);
        if !more {
            return all;
        }
        batch = m.handle(Input::Continue);
    }
}

fn emitted(commands: &[Command]) -> Vec<ClientEvent> {
    commands
        .iter()
        .filter_map(|c| match c {
            Command::Emit(e) => Some(e.clone()),
            _ => None,
        })
        .collect()
}

fn open(id: Option<&str>) -> Command {
    Command::Open {
        url: URL.to_owned(),
        last_event_id: id.map(str::to_owned),
    }
}

fn lost() -> Input {
    Input::ConnectionLost {
        message: "gone".into(),
    }
}

fn message(id: &str) -> Input {
    Input::Message { id: id.into() }
}

fn delays(commands: &[Command]) -> Vec<u32> {
    commands
        .iter()
        .filter_map(|c| match c {
            Command::Schedule { delay_ms } => Some(*delay_ms),
            _ => None,
        })
        .collect()
}

/// Connected and open.
fn open_machine(config: Config) -> Machine {
    let mut m = machine(config);
    step(&mut m, Input::Connect);
    step(&mut m, Input::Opened);
    m
}

fn reset(id: &str) -> Reset {
    Reset {
        reason: ResetReason::TooOld,
        message: "too old".into(),
        last_event_id: id.into(),
    }
}

#[test]
fn a_new_machine_is_closed_and_idle() {
    let m = machine(config());
    assert_eq!(m.state(), State::Closed);
    assert_eq!(m.stats(), &Stats::default());
    assert!(!m.connected());
    assert_eq!(m.url(), URL);
}

#[test]
fn connect_reports_connecting_then_opens() {
    let mut m = machine(config());
    let c = step(&mut m, Input::Connect);
    assert_eq!(
        c,
        [
            Command::Emit(ClientEvent::State(State::Connecting)),
            open(None)
        ]
    );
    assert_eq!(m.state(), State::Connecting);
    assert!(m.connected());
}

#[test]
fn connect_while_active_does_nothing() {
    let mut m = machine(config());
    step(&mut m, Input::Connect);
    assert!(step(&mut m, Input::Connect).is_empty(), "connecting");
    step(&mut m, Input::Opened);
    assert!(step(&mut m, Input::Connect).is_empty(), "open");
    step(&mut m, lost());
    assert_eq!(m.state(), State::Reconnecting);
    assert!(step(&mut m, Input::Connect).is_empty(), "reconnecting");
}

#[test]
fn opened_reports_the_state_then_open() {
    let mut m = machine(config());
    step(&mut m, Input::Connect);
    let c = step(&mut m, Input::Opened);
    assert_eq!(
        emitted(&c),
        [ClientEvent::State(State::Open), ClientEvent::Open]
    );
    assert_eq!(m.state(), State::Open);
}

#[test]
fn opened_without_a_connection_is_ignored() {
    let mut m = machine(config());
    assert!(step(&mut m, Input::Opened).is_empty());
    step(&mut m, Input::Connect);
    step(&mut m, Input::Close);
    assert!(step(&mut m, Input::Opened).is_empty());
    assert_eq!(m.state(), State::Closed);
}

#[test]
fn a_lost_connection_closes_it_and_schedules_a_reconnect() {
    let mut m = open_machine(config());
    let c = step(&mut m, lost());
    assert_eq!(
        c,
        [
            Command::CloseSource,
            Command::Schedule { delay_ms: 100 },
            Command::Emit(ClientEvent::Error {
                message: "gone".into()
            }),
            Command::Continue,
            Command::Emit(ClientEvent::State(State::Reconnecting)),
            Command::Emit(ClientEvent::Reconnecting {
                attempt: 1,
                delay_ms: 100
            }),
        ]
    );
    assert!(!m.connected());
}

#[test]
fn error_handlers_see_the_state_before_the_reconnect() {
    let mut m = open_machine(config());
    let c = m.handle(lost());
    assert_eq!(c.last(), Some(&Command::Continue));
    assert_eq!(m.state(), State::Open, "not yet reconnecting");
    // An error handler calling connect() changes nothing meanwhile.
    assert!(m.handle(Input::Connect).is_empty());
    m.handle(Input::Continue);
    assert_eq!(m.state(), State::Reconnecting);
}

#[test]
fn an_error_while_connecting_counts_as_a_failed_attempt() {
    let mut m = machine(config());
    step(&mut m, Input::Connect);
    let c = step(&mut m, lost());
    assert_eq!(
        emitted(&c)[1..],
        [
            ClientEvent::State(State::Reconnecting),
            ClientEvent::Reconnecting {
                attempt: 1,
                delay_ms: 100
            }
        ]
    );
}

#[test]
fn the_timer_reopens_and_counts_a_reconnect() {
    let mut m = open_machine(config());
    step(&mut m, lost());
    let c = step(&mut m, Input::TimerFired);
    assert_eq!(c, [open(None)]);
    assert_eq!(m.stats().reconnects, 1);
    assert_eq!(m.state(), State::Reconnecting, "until it opens");
    let c = step(&mut m, Input::Opened);
    assert_eq!(
        emitted(&c),
        [ClientEvent::State(State::Open), ClientEvent::Open]
    );
}

#[test]
fn backoff_grows_by_the_multiplier_up_to_the_cap() {
    let mut cfg = config();
    cfg.policy.max_attempts = 10;
    cfg.policy.multiplier = 3.0;
    let mut m = machine(cfg);
    step(&mut m, Input::Connect);
    let mut all = Vec::new();
    for _ in 0..5 {
        all.extend(delays(&step(&mut m, lost())));
        step(&mut m, Input::TimerFired);
    }
    assert_eq!(all, [100, 300, 900, 1000, 1000]);
}

#[test]
fn full_jitter_draws_each_delay_within_zero_and_its_ceiling() {
    let mut cfg = config();
    cfg.policy.jitter = Jitter::Full;
    cfg.policy.max_attempts = 5;
    let mut m = with_randoms(cfg, &[0.0, 0.5, 0.999, 0.25, 1.5]);
    step(&mut m, Input::Connect);
    let mut all = Vec::new();
    for _ in 0..5 {
        all.extend(delays(&step(&mut m, lost())));
        step(&mut m, Input::TimerFired);
    }
    // Ceilings 100, 200, 400, 800, 1000; an out-of-range draw is clamped.
    assert_eq!(all, [0, 100, 399, 200, 1000]);
}

#[test]
fn jitter_none_ignores_the_random_draw() {
    let mut m = with_randoms(config(), &[0.0]);
    step(&mut m, Input::Connect);
    assert_eq!(delays(&step(&mut m, lost())), [100]);
}

#[test]
fn huge_delays_saturate_at_the_timer_limit() {
    let mut cfg = config();
    cfg.policy.initial = Duration::from_secs(10_000_000);
    cfg.policy.max = Duration::from_secs(10_000_000);
    let mut m = machine(cfg);
    step(&mut m, Input::Connect);
    assert_eq!(delays(&step(&mut m, lost())), [u32::MAX]);
}

#[test]
fn reaching_max_attempts_gives_up_without_a_timer() {
    let mut m = machine(config());
    step(&mut m, Input::Connect);
    for _ in 0..3 {
        step(&mut m, lost());
        step(&mut m, Input::TimerFired);
    }
    let c = step(&mut m, lost());
    assert_eq!(
        c,
        [
            Command::CloseSource,
            Command::Emit(ClientEvent::Error {
                message: "gone".into()
            }),
            Command::Continue,
            Command::Emit(ClientEvent::State(State::Failed)),
            Command::Emit(ClientEvent::MaxReconnectReached { attempts: 3 }),
        ]
    );
    assert_eq!(m.state(), State::Failed);
    assert_eq!(m.stats().reconnects, 3);
    // Failed is final until connect(): errors and timers do nothing.
    assert!(step(&mut m, lost()).is_empty());
    assert!(step(&mut m, Input::TimerFired).is_empty());
}

#[test]
fn zero_max_attempts_fails_at_the_first_error() {
    let mut cfg = config();
    cfg.policy.max_attempts = 0;
    let mut m = machine(cfg);
    step(&mut m, Input::Connect);
    let c = step(&mut m, lost());
    assert_eq!(
        emitted(&c)[1..],
        [
            ClientEvent::State(State::Failed),
            ClientEvent::MaxReconnectReached { attempts: 0 }
        ]
    );
}

#[test]
fn a_successful_open_resets_the_attempt_count() {
    let mut m = machine(config());
    step(&mut m, Input::Connect);
    step(&mut m, lost());
    step(&mut m, Input::TimerFired);
    step(&mut m, lost());
    step(&mut m, Input::TimerFired);
    step(&mut m, Input::Opened);
    let c = step(&mut m, lost());
    assert_eq!(delays(&c), [100], "the first ceiling again");
    assert!(emitted(&c).contains(&ClientEvent::Reconnecting {
        attempt: 1,
        delay_ms: 100
    }));
    // Three more failures are allowed before giving up.
    for _ in 0..2 {
        step(&mut m, Input::TimerFired);
        step(&mut m, lost());
    }
    assert_eq!(m.state(), State::Reconnecting);
}

#[test]
fn the_resume_id_is_carried_into_the_next_open() {
    let mut m = open_machine(config());
    assert_eq!(step(&mut m, message("e1-41")), [Command::Deliver]);
    step(&mut m, lost());
    assert_eq!(step(&mut m, Input::TimerFired), [open(Some("e1-41"))]);
    assert_eq!(m.stats().last_event_id.as_deref(), Some("e1-41"));
    assert_eq!(m.stats().events_received, 1);
}

#[test]
fn the_configured_id_is_used_on_the_first_open() {
    let mut cfg = config();
    cfg.last_event_id = Some("e1-7".into());
    let mut m = machine(cfg);
    assert_eq!(m.stats().last_event_id.as_deref(), Some("e1-7"));
    assert_eq!(step(&mut m, Input::Connect)[1], open(Some("e1-7")));
}

#[test]
fn an_event_without_an_id_keeps_the_last_one() {
    let mut m = open_machine(config());
    step(&mut m, message("e1-1"));
    step(&mut m, message(""));
    assert_eq!(m.stats().last_event_id.as_deref(), Some("e1-1"));
    assert_eq!(m.stats().events_received, 2);
}

#[test]
fn a_reset_is_reported_and_its_own_id_becomes_the_resume_point() {
    let mut m = open_machine(config());
    step(&mut m, message("e1-5"));
    let c = step(
        &mut m,
        Input::ResetReceived {
            id: "e2-9".into(),
            reset: Ok(reset("e1-5")),
        },
    );
    assert_eq!(c, [Command::Emit(ClientEvent::Reset(reset("e1-5")))]);
    assert_eq!(m.stats().last_event_id.as_deref(), Some("e2-9"));
    assert_eq!(m.state(), State::Open, "a reset does not disconnect");
    step(&mut m, lost());
    assert_eq!(step(&mut m, Input::TimerFired), [open(Some("e2-9"))]);
}

#[test]
fn a_reset_without_an_id_keeps_the_previous_one() {
    let mut m = open_machine(config());
    step(&mut m, message("e1-5"));
    step(
        &mut m,
        Input::ResetReceived {
            id: String::new(),
            reset: Ok(reset("e1-5")),
        },
    );
    assert_eq!(m.stats().last_event_id.as_deref(), Some("e1-5"));
}

#[test]
fn an_undecodable_reset_is_a_parse_error() {
    let mut m = open_machine(config());
    let error = ParseError {
        event: RESET_EVENT.into(),
        data: "{".into(),
        error: "invalid JSON".into(),
    };
    let c = step(
        &mut m,
        Input::ResetReceived {
            id: String::new(),
            reset: Err(error.clone()),
        },
    );
    assert_eq!(c, [Command::Emit(ClientEvent::ParseError(error))]);
    assert_eq!(m.stats().parse_errors, 1);
    assert_eq!(m.stats().events_received, 1);
}

#[test]
fn end_disconnects_before_its_handlers_then_closes_for_good() {
    let mut m = open_machine(config());
    let end = End {
        reason: END_COMPLETE.into(),
    };
    let c = m.handle(Input::EndReceived {
        id: "e1-4".into(),
        end: end.clone(),
    });
    assert_eq!(
        c,
        [
            Command::CloseSource,
            Command::Emit(ClientEvent::End(end)),
            Command::Continue
        ]
    );
    assert_eq!(
        m.state(),
        State::Open,
        "end handlers see the state as it was"
    );
    assert!(
        m.handle(Input::Connect).is_empty(),
        "no reconnect from a handler"
    );
    let c = m.handle(Input::Continue);
    assert_eq!(
        c,
        [
            Command::EndGeneration,
            Command::Emit(ClientEvent::State(State::Closed))
        ]
    );
    assert_eq!(m.state(), State::Closed);
    assert_eq!(m.stats().last_event_id.as_deref(), Some("e1-4"));
    assert_eq!(m.stats().reconnects, 0);
    assert!(step(&mut m, Input::TimerFired).is_empty());
}

#[test]
fn close_during_the_backoff_cancels_the_timer() {
    let mut m = open_machine(config());
    step(&mut m, lost());
    let generation = m.generation();
    let c = step(&mut m, Input::Close);
    assert_eq!(
        c,
        [
            Command::CancelTimer,
            Command::EndGeneration,
            Command::Emit(ClientEvent::State(State::Closed))
        ]
    );
    assert_eq!(m.generation(), generation + 1);
    // A timer that fires anyway (already queued) does nothing.
    assert!(step(&mut m, Input::TimerFired).is_empty());
    assert_eq!(m.stats().reconnects, 0);
}

#[test]
fn close_while_open_closes_the_connection() {
    let mut m = open_machine(config());
    let c = step(&mut m, Input::Close);
    assert_eq!(
        c,
        [
            Command::CloseSource,
            Command::EndGeneration,
            Command::Emit(ClientEvent::State(State::Closed))
        ]
    );
    assert!(!m.connected());
}

#[test]
fn close_when_closed_reports_nothing() {
    let mut m = machine(config());
    assert!(step(&mut m, Input::Close).is_empty());
    assert_eq!(m.generation(), 0);
}

#[test]
fn close_drops_an_unfinished_transition() {
    let mut m = open_machine(config());
    m.handle(lost());
    // An error handler closes the client before the batch finishes.
    m.handle(Input::Close);
    assert!(m.handle(Input::Continue).is_empty());
    assert_eq!(m.state(), State::Closed);
}

#[test]
fn reopening_after_close_resumes_by_id_with_a_fresh_count() {
    let mut m = open_machine(config());
    step(&mut m, message("e1-3"));
    step(&mut m, lost());
    step(&mut m, Input::TimerFired);
    step(&mut m, lost());
    step(&mut m, Input::Close);
    let c = step(&mut m, Input::Connect);
    assert_eq!(
        c,
        [
            Command::Emit(ClientEvent::State(State::Connecting)),
            open(Some("e1-3"))
        ]
    );
    let c = step(&mut m, lost());
    assert!(emitted(&c).contains(&ClientEvent::Reconnecting {
        attempt: 1,
        delay_ms: 100
    }));
}

#[test]
fn connect_after_giving_up_starts_over() {
    let mut cfg = config();
    cfg.policy.max_attempts = 0;
    let mut m = machine(cfg);
    step(&mut m, Input::Connect);
    step(&mut m, lost());
    assert_eq!(m.state(), State::Failed);
    let c = step(&mut m, Input::Connect);
    assert_eq!(
        c,
        [
            Command::Emit(ClientEvent::State(State::Connecting)),
            open(None)
        ]
    );
}

#[test]
fn coming_online_skips_the_rest_of_the_backoff() {
    let mut cfg = config();
    cfg.reconnect_on_online = true;
    let mut m = open_machine(cfg);
    step(&mut m, lost());
    let c = step(&mut m, Input::Online);
    assert_eq!(c, [Command::CancelTimer, open(None)]);
    assert_eq!(m.stats().reconnects, 1);
    // The next failure is the second attempt.
    let c = step(&mut m, lost());
    assert!(emitted(&c).contains(&ClientEvent::Reconnecting {
        attempt: 2,
        delay_ms: 200
    }));
}

#[test]
fn coming_online_after_giving_up_starts_over() {
    let mut cfg = config();
    cfg.policy.max_attempts = 0;
    let mut m = machine(cfg);
    step(&mut m, Input::Connect);
    step(&mut m, lost());
    let c = step(&mut m, Input::Online);
    assert_eq!(
        c,
        [
            Command::Emit(ClientEvent::State(State::Connecting)),
            open(None)
        ]
    );
}

#[test]
fn coming_online_while_open_or_closed_does_nothing() {
    let mut m = open_machine(config());
    assert!(step(&mut m, Input::Online).is_empty());
    step(&mut m, Input::Close);
    assert!(step(&mut m, Input::Online).is_empty());
}

#[test]
fn page_events_are_watched_once_and_released_on_close() {
    let mut cfg = config();
    cfg.pause_when_hidden = true;
    let mut m = machine(cfg);
    let c = step(&mut m, Input::Connect);
    assert_eq!(
        c[0],
        Command::Watch {
            online: false,
            visibility: true
        }
    );
    let c = step(&mut m, Input::Close);
    assert_eq!(c[0], Command::CloseSource);
    assert_eq!(c[1], Command::Unwatch);
    assert!(matches!(
        step(&mut m, Input::Connect)[0],
        Command::Watch { .. }
    ));
}

#[test]
fn without_the_options_nothing_is_watched() {
    let mut m = machine(config());
    let c = step(&mut m, Input::Connect);
    assert!(!c.iter().any(|c| matches!(c, Command::Watch { .. })));
    let c = step(&mut m, Input::Close);
    assert!(!c.contains(&Command::Unwatch));
}

#[test]
fn a_hidden_page_pauses_and_a_visible_one_resumes_by_id() {
    let mut cfg = config();
    cfg.pause_when_hidden = true;
    let mut m = open_machine(cfg);
    step(&mut m, message("e1-2"));
    let generation = m.generation();
    let c = step(&mut m, Input::Hidden);
    assert_eq!(
        c,
        [
            Command::CloseSource,
            Command::EndGeneration,
            Command::Emit(ClientEvent::State(State::Closed))
        ]
    );
    assert_eq!(m.generation(), generation + 1);
    let c = step(&mut m, Input::Visible);
    assert_eq!(
        c,
        [
            Command::Emit(ClientEvent::State(State::Connecting)),
            open(Some("e1-2"))
        ]
    );
}

#[test]
fn hiding_during_the_backoff_cancels_the_timer() {
    let mut m = open_machine(config());
    step(&mut m, lost());
    let c = step(&mut m, Input::Hidden);
    assert_eq!(c[0], Command::CancelTimer);
    assert_eq!(m.state(), State::Closed);
}

#[test]
fn visibility_changes_a_closed_client_ignores() {
    let mut m = machine(config());
    assert!(step(&mut m, Input::Hidden).is_empty());
    assert!(step(&mut m, Input::Visible).is_empty(), "not paused");
    // Paused, then closed by the user: becoming visible does not reopen.
    step(&mut m, Input::Connect);
    step(&mut m, Input::Hidden);
    step(&mut m, Input::Close);
    assert!(step(&mut m, Input::Visible).is_empty());
    // Hidden after giving up: nothing to pause.
    let mut cfg = config();
    cfg.policy.max_attempts = 0;
    let mut m = machine(cfg);
    step(&mut m, Input::Connect);
    step(&mut m, lost());
    assert!(step(&mut m, Input::Hidden).is_empty());
}

#[test]
fn events_without_a_connection_are_ignored() {
    let mut m = open_machine(config());
    step(&mut m, Input::Close);
    assert!(step(&mut m, message("e1-9")).is_empty());
    assert!(step(
        &mut m,
        Input::EndReceived {
            id: String::new(),
            end: End {
                reason: END_COMPLETE.into()
            }
        }
    )
    .is_empty());
    assert_eq!(m.stats().events_received, 0);
    assert_eq!(m.stats().last_event_id, None);
}

#[test]
fn handler_parse_errors_are_counted_and_reported() {
    let mut m = open_machine(config());
    let error = ParseError {
        event: "data".into(),
        data: "x".into(),
        error: "expected value".into(),
    };
    let c = step(&mut m, Input::ParseFailed(error.clone()));
    assert_eq!(c, [Command::Emit(ClientEvent::ParseError(error))]);
    assert_eq!(m.stats().parse_errors, 1);
}

#[test]
fn only_close_and_pause_end_a_generation() {
    let mut cfg = config();
    cfg.pause_when_hidden = true;
    let mut m = machine(cfg);
    step(&mut m, Input::Connect);
    step(&mut m, Input::Opened);
    step(&mut m, lost());
    step(&mut m, Input::TimerFired);
    step(&mut m, message("1"));
    assert_eq!(m.generation(), 0);
    step(&mut m, Input::Hidden);
    step(&mut m, Input::Visible);
    step(&mut m, Input::Close);
    assert_eq!(m.generation(), 2);
}

fn refused(status: u16) -> Input {
    Input::AuthFailed(AuthError {
        status,
        message: "no".into(),
    })
}

#[test]
fn a_401_reports_auth_error_and_retries_on_the_policy() {
    let mut m = machine(config());
    step(&mut m, Input::Connect);
    let c = step(&mut m, refused(401));
    assert_eq!(
        c,
        [
            Command::CloseSource,
            Command::Schedule { delay_ms: 100 },
            Command::Emit(ClientEvent::AuthError(AuthError {
                status: 401,
                message: "no".into()
            })),
            Command::Continue,
            Command::Emit(ClientEvent::State(State::Reconnecting)),
            Command::Emit(ClientEvent::Reconnecting {
                attempt: 1,
                delay_ms: 100
            }),
        ]
    );
    // Capped like any failure: three attempts, then failed.
    for _ in 0..3 {
        step(&mut m, Input::TimerFired);
        step(&mut m, refused(401));
    }
    assert_eq!(m.state(), State::Failed);
    assert_eq!(m.stats().reconnects, 3);
}

#[test]
fn a_403_reports_auth_error_and_fails_without_retrying() {
    let mut m = machine(config());
    step(&mut m, Input::Connect);
    let c = step(&mut m, refused(403));
    assert_eq!(
        c,
        [
            Command::CloseSource,
            Command::Emit(ClientEvent::AuthError(AuthError {
                status: 403,
                message: "no".into()
            })),
            Command::Continue,
            Command::Emit(ClientEvent::State(State::Failed)),
        ]
    );
    assert!(delays(&c).is_empty(), "nothing scheduled");
    assert!(!m.connected());
    // A late answer changes nothing; the app may connect again.
    assert!(step(&mut m, refused(403)).is_empty());
    assert_eq!(step(&mut m, Input::Connect).last(), Some(&open(None)));
}

#[test]
fn expired_delivers_then_resumes_at_once_after_the_last_id() {
    let mut m = open_machine(config());
    step(&mut m, message("7"));
    let c = step(&mut m, Input::ExpiredReceived { id: String::new() });
    assert_eq!(
        c,
        [
            Command::Deliver,
            Command::Emit(ClientEvent::State(State::Reconnecting)),
            Command::CloseSource,
            open(Some("7")),
        ]
    );
    assert_eq!(m.stats().reconnects, 1);
    assert_eq!(m.stats().events_received, 2);
    let c = step(&mut m, Input::Opened);
    assert_eq!(
        emitted(&c),
        [ClientEvent::State(State::Open), ClientEvent::Open]
    );
}

#[test]
fn expired_without_a_connection_is_ignored() {
    let mut m = machine(config());
    let c = step(&mut m, Input::ExpiredReceived { id: String::new() });
    assert!(c.is_empty());
    assert_eq!(m.state(), State::Closed);
}
