//! The client in headless Chromium against a real pushwire server, started
//! by `cargo xtask test`, which passes its URLs at compile time:
//! `PUSHWIRE_TEST_SERVER` (CORS open to the test page),
//! `PUSHWIRE_TEST_ROTATING_SERVER` (ends every stream after a short
//! lifetime, to force reconnects) and `PUSHWIRE_TEST_DEAD_URL` (a port where
//! nothing listens).
#![cfg(target_arch = "wasm32")]
#![allow(clippy::unwrap_used)]
// The URLs are optional at compile time so the suite still builds (for
// clippy) outside `cargo xtask test`; running it without them says why.
#![allow(clippy::option_env_unwrap)]

use std::cell::{Cell, RefCell};
use std::future::Future;
use std::rc::Rc;
use std::time::Duration;

use futures_channel::mpsc;
use futures_util::future::{select, Either};
use futures_util::StreamExt;
use gloo_timers::future::TimeoutFuture;
use js_sys::Reflect;
use pushwire_client::{
    live_counts, ClientEvent, Jitter, JsSseClient, SseClient, State, TokenSource, Transport,
};
use pushwire_protocol::{
    Close, Connection, DemoData, MonitoringData, PerformanceData, PerformanceSummary, ResetReason,
};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

fn server() -> &'static str {
    option_env!("PUSHWIRE_TEST_SERVER").expect("run the wasm tests through `cargo xtask test`")
}
fn rotating_server() -> &'static str {
    option_env!("PUSHWIRE_TEST_ROTATING_SERVER")
        .expect("run the wasm tests through `cargo xtask test`")
}
fn dead_url() -> &'static str {
    option_env!("PUSHWIRE_TEST_DEAD_URL").expect("run the wasm tests through `cargo xtask test`")
}
/// A server with `--jwt-secret` [`jwt_secret`] and `--public-topics public.*`.
fn auth_server() -> &'static str {
    option_env!("PUSHWIRE_TEST_AUTH_SERVER").expect("run the wasm tests through `cargo xtask test`")
}
fn jwt_secret() -> &'static str {
    option_env!("PUSHWIRE_TEST_JWT_SECRET").expect("run the wasm tests through `cargo xtask test`")
}

/// Upper bound of any single wait; reaching it fails the test.
const DEADLINE_MS: u32 = 15_000;

async fn within<T>(what: &str, fut: impl Future<Output = T>) -> T {
    let fut = std::pin::pin!(fut);
    match select(fut, TimeoutFuture::new(DEADLINE_MS)).await {
        Either::Left((value, _)) => value,
        Either::Right(_) => panic!("timed out waiting for {what}"),
    }
}

/// A unique topic per test run, so tests sharing a server never interfere.
fn topic(name: &str) -> String {
    format!("{name}-{}", (js_sys::Math::random() * 1e12) as u64)
}

/// The JS face of a client for `path` on the test server, reading it with
/// `transport`.
fn js_client(path: &str, options: JsValue, transport: Transport) -> JsSseClient {
    let options = if options.is_undefined() {
        js_sys::Object::new().into()
    } else {
        options
    };
    Reflect::set(&options, &"transport".into(), &transport.name().into()).unwrap();
    JsSseClient::new(&format!("{}{path}", server()), options).unwrap()
}

/// Runs each named `async fn(Transport)` as two tests, `eventsource::name`
/// and `fetch::name`: both transports must behave the same way.
macro_rules! both_transports {
    ($group:ident: $($test:ident),* $(,)?) => {
        mod $group {
            mod eventsource {
                use wasm_bindgen_test::wasm_bindgen_test;
                $(
                    #[wasm_bindgen_test]
                    async fn $test() {
                        super::super::$test(super::super::Transport::EventSource).await
                    }
                )*
            }
            mod fetch {
                use wasm_bindgen_test::wasm_bindgen_test;
                $(
                    #[wasm_bindgen_test]
                    async fn $test() {
                        super::super::$test(super::super::Transport::Fetch).await
                    }
                )*
            }
        }
    };
}

both_transports!(
    behaviour:
    counter_stream_decodes_and_ends_without_reconnecting,
    demo_stream_decodes_into_protocol_types_then_ends,
    perf_stream_decodes_events_and_summary,
    monitoring_as_a_typed_rust_stream,
    js_face_delivers_decoded_objects_and_handlers_can_be_removed,
    non_json_data_fires_parse_error_and_the_stream_goes_on,
    js_parse_error_and_raw_option,
    reconnects_after_the_server_cuts_with_no_lost_or_duplicate_events,
    reset_is_delivered_when_the_id_is_unknown,
    backoff_delays_stay_within_their_jittered_bounds_then_it_gives_up,
    close_during_a_pending_reconnect_stays_closed,
    a_thousand_clients_release_every_listener_and_timer,
    handlers_registered_after_connect_are_listened_for,
    the_last_event_id_parameter_name_is_configurable,
    coming_back_online_skips_the_remaining_backoff,
    a_hidden_tab_pauses_and_resumes_by_id,
    a_freed_js_client_keeps_its_connection_until_the_stream_ends,
    close_from_a_connecting_handler_keeps_the_client_closed,
);

/// Publishes through the HTTP API; returns the event id.
async fn publish(base: &str, topic: &str, body: &str) -> String {
    publish_as(base, topic, body, None).await
}

/// Publishes with `bearer` as `Authorization: Bearer`; returns the event id.
async fn publish_as(base: &str, topic: &str, body: &str, bearer: Option<&str>) -> String {
    let init = web_sys::RequestInit::new();
    init.set_method("POST");
    init.set_body(&JsValue::from_str(body));
    let headers = web_sys::Headers::new().unwrap();
    headers.set("content-type", "application/json").unwrap();
    if let Some(token) = bearer {
        headers
            .set("authorization", &format!("Bearer {token}"))
            .unwrap();
    }
    init.set_headers(&headers);
    let req = web_sys::Request::new_with_str_and_init(&format!("{base}/api/topics/{topic}"), &init)
        .unwrap();
    let window = web_sys::window().unwrap();
    let resp: web_sys::Response = JsFuture::from(window.fetch_with_request(&req))
        .await
        .unwrap()
        .dyn_into()
        .unwrap();
    assert_eq!(resp.status(), 202, "publish failed");
    let json = JsFuture::from(resp.json().unwrap()).await.unwrap();
    Reflect::get(&json, &"id".into())
        .unwrap()
        .as_string()
        .unwrap()
}

/// Forwards every client event of `client` into a channel.
fn client_events(client: &SseClient) -> mpsc::UnboundedReceiver<ClientEvent> {
    let (tx, rx) = mpsc::unbounded();
    client.on_client_event(move |e| {
        let _ = tx.unbounded_send(e.clone());
    });
    rx
}

/// Forwards the last event id of every server event named `name`.
fn event_ids(client: &SseClient, name: &str) -> mpsc::UnboundedReceiver<String> {
    let (tx, rx) = mpsc::unbounded();
    client.on_raw(name, move |e| {
        let _ = tx.unbounded_send(e.id.clone());
    });
    rx
}

/// The next `n` ids from `rx` (see [`event_ids`]).
async fn next_ids(rx: &mut mpsc::UnboundedReceiver<String>, n: usize, what: &str) -> Vec<String> {
    let mut ids = Vec::new();
    while ids.len() < n {
        ids.push(within(what, rx.next()).await.unwrap());
    }
    ids
}

async fn wait_for(
    rx: &mut mpsc::UnboundedReceiver<ClientEvent>,
    what: &str,
    pred: impl Fn(&ClientEvent) -> bool,
) -> ClientEvent {
    within(what, async {
        loop {
            let e = rx
                .next()
                .await
                .unwrap_or_else(|| panic!("channel closed before {what}"));
            if pred(&e) {
                return e;
            }
        }
    })
    .await
}

fn is_state(s: State) -> impl Fn(&ClientEvent) -> bool {
    move |e| *e == ClientEvent::State(s)
}

async fn counter_stream_decodes_and_ends_without_reconnecting(transport: Transport) {
    let client = SseClient::builder(&format!("{}/sse/counter?count=5&interval_ms=0", server()))
        .transport(transport)
        .build()
        .unwrap();
    let seen = Rc::new(RefCell::new(Vec::new()));
    let sink = seen.clone();
    client.on_raw("message", move |e| {
        sink.borrow_mut().push((e.data.clone(), e.id.clone()))
    });
    let mut events = client_events(&client);
    client.connect();
    wait_for(&mut events, "end", |e| matches!(e, ClientEvent::End(_))).await;
    wait_for(&mut events, "closed", is_state(State::Closed)).await;
    let want: Vec<(String, String)> = (0..5).map(|i| (i.to_string(), i.to_string())).collect();
    assert_eq!(*seen.borrow(), want);
    assert_eq!(client.state(), State::Closed);
    assert_eq!(client.stats().reconnects, 0);
    assert_eq!(client.last_event_id().as_deref(), Some("4"));
}

async fn demo_stream_decodes_into_protocol_types_then_ends(transport: Transport) {
    let client = SseClient::builder(&format!("{}/sse/demo?interval_ms=0", server()))
        .transport(transport)
        .build()
        .unwrap();
    let log = Rc::new(RefCell::new(Vec::<String>::new()));
    let (l1, l2, l3) = (log.clone(), log.clone(), log.clone());
    client.on_typed::<Connection>(move |c| {
        l1.borrow_mut()
            .push(format!("connection:{}", !c.message.is_empty()))
    });
    client.on_typed::<DemoData>(move |d| {
        l2.borrow_mut()
            .push(format!("data:{}:{}", d.value, d.status))
    });
    client.on_typed::<Close>(move |_| l3.borrow_mut().push("close".into()));
    let mut events = client_events(&client);
    client.connect();
    wait_for(&mut events, "end", |e| matches!(e, ClientEvent::End(_))).await;
    wait_for(&mut events, "closed", is_state(State::Closed)).await;
    let mut want = vec!["connection:true".to_owned()];
    want.extend((1..=20).map(|i| format!("data:{}:active", i * 10)));
    want.push("close".into());
    assert_eq!(*log.borrow(), want);
    // Ended for good: no reconnect is scheduled.
    assert_eq!(live_counts().timers, 0);
    assert_eq!(client.stats().reconnects, 0);
    assert_eq!(client.stats().parse_errors, 0);
}

async fn perf_stream_decodes_events_and_summary(transport: Transport) {
    let client = SseClient::builder(&format!("{}/sse/perf?count=50&interval_ms=0", server()))
        .transport(transport)
        .build()
        .unwrap();
    let seqs = Rc::new(RefCell::new(Vec::new()));
    let summary = Rc::new(RefCell::new(None));
    let (s1, s2) = (seqs.clone(), summary.clone());
    client.on_typed::<PerformanceData>(move |p| s1.borrow_mut().push(p.sequence));
    client.on_typed::<PerformanceSummary>(move |s| *s2.borrow_mut() = Some(s));
    let mut events = client_events(&client);
    client.connect();
    wait_for(&mut events, "end", |e| matches!(e, ClientEvent::End(_))).await;
    assert_eq!(*seqs.borrow(), (0..50).collect::<Vec<u64>>());
    let s = summary.borrow().clone().unwrap();
    assert_eq!(s.total_events, 50);
    assert!(s.events_per_second > 0.0);
}

async fn monitoring_as_a_typed_rust_stream(transport: Transport) {
    let client = SseClient::builder(&format!("{}/sse/monitoring", server()))
        .transport(transport)
        .build()
        .unwrap();
    let mut samples = client.events::<MonitoringData>();
    client.connect();
    for _ in 0..2 {
        let sample = within("a monitoring sample", samples.next())
            .await
            .unwrap()
            .unwrap();
        assert!(sample.memory_usage > 0.0 && sample.memory_usage <= 100.0);
        assert!(sample.active_connections >= 1);
    }
    client.close();
    // The stream ends when the client closes.
    assert!(within("stream end", samples.next()).await.is_none());
}

async fn js_face_delivers_decoded_objects_and_handlers_can_be_removed(transport: Transport) {
    let t = topic("js");
    let client = js_client(
        &format!("/sse/subscribe?topic={t}"),
        JsValue::UNDEFINED,
        transport,
    );
    let (tx, mut rx) = mpsc::unbounded::<(String, JsValue, JsValue)>();
    let make = |name: &'static str| {
        let tx = tx.clone();
        Closure::<dyn Fn(JsValue, JsValue)>::new(move |data: JsValue, meta: JsValue| {
            let _ = tx.unbounded_send((name.to_owned(), data, meta));
        })
    };
    let first = make("first");
    let second = make("second");
    let remove_second = client.on("note", second.as_ref().clone().unchecked_into());
    let _remove_first = client.on("note", first.as_ref().clone().unchecked_into());
    let (open_tx, mut open_rx) = mpsc::unbounded::<()>();
    let on_open = Closure::<dyn Fn()>::new(move || {
        let _ = open_tx.unbounded_send(());
    });
    client.on("open", on_open.as_ref().clone().unchecked_into());
    client.connect();
    within("open", open_rx.next()).await;
    assert_eq!(client.state(), "open");

    let id = publish(
        server(),
        &t,
        r#"{"event": "note", "data": {"text": "hi", "n": [1, 2]}}"#,
    )
    .await;
    let mut got = Vec::new();
    for _ in 0..2 {
        got.push(within("note", rx.next()).await.unwrap());
    }
    got.sort_by(|a, b| a.0.cmp(&b.0));
    assert_eq!(got[0].0, "first");
    assert_eq!(got[1].0, "second");
    for (_, data, meta) in &got {
        // A decoded JS object, not a string.
        assert!(data.is_object());
        assert_eq!(Reflect::get(data, &"text".into()).unwrap(), "hi");
        let n: js_sys::Array = Reflect::get(data, &"n".into()).unwrap().dyn_into().unwrap();
        assert_eq!(n.length(), 2);
        assert_eq!(
            Reflect::get(meta, &"lastEventId".into()).unwrap(),
            id.as_str()
        );
        assert_eq!(Reflect::get(meta, &"event".into()).unwrap(), "note");
    }

    remove_second.call0(&JsValue::NULL).unwrap();
    publish(server(), &t, r#"{"event": "note", "data": 2}"#).await;
    let (name, data, _) = within("note after removal", rx.next()).await.unwrap();
    assert_eq!(name, "first");
    assert_eq!(data, 2);
    // Only one delivery: the next event seen is the third publish, by "first".
    publish(server(), &t, r#"{"event": "note", "data": 3}"#).await;
    let (name, data, _) = within("third note", rx.next()).await.unwrap();
    assert_eq!((name.as_str(), data), ("first", JsValue::from(3)));
    let stats = client.stats();
    assert_eq!(Reflect::get(&stats, &"eventsReceived".into()).unwrap(), 3);
    client.close();
}

async fn non_json_data_fires_parse_error_and_the_stream_goes_on(transport: Transport) {
    let t = topic("parse");
    let client = SseClient::builder(&format!("{}/sse/subscribe?topic={t}", server()))
        .transport(transport)
        .build()
        .unwrap();
    let typed = Rc::new(RefCell::new(Vec::new()));
    let sink = typed.clone();
    client.on_typed::<DemoData>(move |d| sink.borrow_mut().push(d.value));
    let mut events = client_events(&client);
    client.connect();
    wait_for(&mut events, "open", is_state(State::Open)).await;
    publish(server(), &t, r#"{"event": "data", "text": "not json {"}"#).await;
    publish(
        server(),
        &t,
        r#"{"event": "data", "data": {"wrong": "shape"}}"#,
    )
    .await;
    publish(
        server(),
        &t,
        r#"{"event": "data", "data": {"timestamp": 1, "value": 7, "status": "active"}}"#,
    )
    .await;
    let e = wait_for(&mut events, "parse-error", |e| {
        matches!(e, ClientEvent::ParseError(_))
    })
    .await;
    let ClientEvent::ParseError(err) = e else {
        unreachable!()
    };
    assert_eq!(err.event, "data");
    assert_eq!(err.data, "not json {");
    assert!(!err.error.is_empty());
    let e = wait_for(&mut events, "second parse-error", |e| {
        matches!(e, ClientEvent::ParseError(_))
    })
    .await;
    let ClientEvent::ParseError(err) = e else {
        unreachable!()
    };
    assert!(err.error.contains("missing field"), "{}", err.error);
    let counts = client.stats();
    // The good event after the bad ones still arrives.
    within("typed event", async {
        while typed.borrow().is_empty() {
            TimeoutFuture::new(10).await;
        }
    })
    .await;
    assert_eq!(*typed.borrow(), [7]);
    assert_eq!(counts.parse_errors, 2);
    assert_eq!(client.state(), State::Open);
    client.close();
}

async fn js_parse_error_and_raw_option(transport: Transport) {
    let t = topic("raw");
    let client = js_client(
        &format!("/sse/subscribe?topic={t}"),
        JsValue::UNDEFINED,
        transport,
    );
    let raw_opts = js_sys::Object::new();
    Reflect::set(&raw_opts, &"raw".into(), &true.into()).unwrap();
    let raw_client = js_client(
        &format!("/sse/subscribe?topic={t}"),
        raw_opts.into(),
        transport,
    );
    let (tx, mut rx) = mpsc::unbounded::<(String, JsValue)>();
    let tag = |name: &'static str| {
        let tx = tx.clone();
        Closure::<dyn Fn(JsValue)>::new(move |v: JsValue| {
            let _ = tx.unbounded_send((name.to_owned(), v));
        })
    };
    let (pe, raw, opened1, opened2) = (tag("parse-error"), tag("raw"), tag("open1"), tag("open2"));
    client.on("parse-error", pe.as_ref().clone().unchecked_into());
    // Data is decoded for handlers: without one for "x", nothing would be.
    let never = Closure::<dyn Fn(JsValue)>::new(|_| panic!("undecodable data reached a handler"));
    client.on("x", never.as_ref().clone().unchecked_into());
    raw_client.on("x", raw.as_ref().clone().unchecked_into());
    client.on("open", opened1.as_ref().clone().unchecked_into());
    raw_client.on("open", opened2.as_ref().clone().unchecked_into());
    client.connect();
    raw_client.connect();
    let mut opened = 0;
    while opened < 2 {
        let (name, _) = within("both open", rx.next()).await.unwrap();
        opened += usize::from(name.starts_with("open"));
    }
    publish(server(), &t, r#"{"event": "x", "text": "plain <text>"}"#).await;
    let mut got = [
        within("first", rx.next()).await.unwrap(),
        within("second", rx.next()).await.unwrap(),
    ];
    got.sort_by(|a, b| a.0.cmp(&b.0));
    assert_eq!(got[0].0, "parse-error");
    assert_eq!(Reflect::get(&got[0].1, &"event".into()).unwrap(), "x");
    assert_eq!(
        Reflect::get(&got[0].1, &"data".into()).unwrap(),
        "plain <text>"
    );
    assert_eq!(
        got[1],
        ("raw".to_owned(), JsValue::from_str("plain <text>"))
    );
    client.close();
    raw_client.close();
}

async fn reconnects_after_the_server_cuts_with_no_lost_or_duplicate_events(transport: Transport) {
    let t = topic("cut");
    // The rotating server ends every stream after a short lifetime.
    let client = SseClient::builder(&format!("{}/sse/subscribe?topic={t}", rotating_server()))
        .reconnect_interval(Duration::from_millis(50))
        .max_reconnect_attempts(50)
        .transport(transport)
        .build()
        .unwrap();
    let mut rx = event_ids(&client, "tick");
    let mut events = client_events(&client);
    client.connect();
    wait_for(&mut events, "open", is_state(State::Open)).await;
    let mut published = Vec::new();
    for i in 0..40 {
        published.push(
            publish(
                rotating_server(),
                &t,
                &format!(r#"{{"event": "tick", "data": {i}}}"#),
            )
            .await,
        );
        TimeoutFuture::new(25).await; // pacing the publisher across several stream lifetimes
    }
    let received = next_ids(&mut rx, published.len(), "all ticks").await;
    assert_eq!(received, published, "every event exactly once, in order");
    assert!(
        client.stats().reconnects >= 1,
        "the server cut the stream at least once"
    );
    client.close();
}

async fn reset_is_delivered_when_the_id_is_unknown(transport: Transport) {
    let t = topic("reset");
    let client = SseClient::builder(&format!("{}/sse/subscribe?topic={t}", server()))
        .last_event_id("not-an-id-of-this-server")
        .transport(transport)
        .build()
        .unwrap();
    let mut events = client_events(&client);
    client.connect();
    let e = wait_for(&mut events, "reset", |e| matches!(e, ClientEvent::Reset(_))).await;
    let ClientEvent::Reset(reset) = e else {
        unreachable!()
    };
    assert_eq!(reset.reason, ResetReason::Malformed);
    assert_eq!(reset.last_event_id, "not-an-id-of-this-server");
    // The reset carries the current position: the client resumes from there.
    assert_ne!(
        client.last_event_id().as_deref(),
        Some("not-an-id-of-this-server")
    );
    let mut rx = event_ids(&client, "message");
    let id = publish(server(), &t, r#"{"data": "after reset"}"#).await;
    assert_eq!(within("live event", rx.next()).await.unwrap(), id);
    client.close();
}

async fn backoff_delays_stay_within_their_jittered_bounds_then_it_gives_up(transport: Transport) {
    let client = SseClient::builder(dead_url())
        .reconnect_interval(Duration::from_millis(20))
        .backoff_multiplier(2.0)
        .max_reconnect_interval(Duration::from_millis(100))
        .max_reconnect_attempts(4)
        .jitter(Jitter::Full)
        .transport(transport)
        .build()
        .unwrap();
    let mut events = client_events(&client);
    client.connect();
    let mut attempts = Vec::new();
    loop {
        match wait_for(&mut events, "reconnecting or give-up", |e| {
            matches!(
                e,
                ClientEvent::Reconnecting { .. } | ClientEvent::MaxReconnectReached { .. }
            )
        })
        .await
        {
            ClientEvent::Reconnecting { attempt, delay_ms } => attempts.push((attempt, delay_ms)),
            ClientEvent::MaxReconnectReached { attempts: n } => {
                assert_eq!(n, 4);
                break;
            }
            _ => unreachable!(),
        }
    }
    assert_eq!(
        attempts.iter().map(|a| a.0).collect::<Vec<_>>(),
        [1, 2, 3, 4]
    );
    for (attempt, delay) in &attempts {
        let ceiling = [20, 40, 80, 100][*attempt as usize - 1];
        assert!(
            *delay <= ceiling,
            "attempt {attempt}: {delay} ms > {ceiling} ms"
        );
    }
    assert_eq!(client.state(), State::Failed);
    assert_eq!(client.stats().reconnects, 4);
    assert_eq!(live_counts().timers, 0);
}

async fn close_during_a_pending_reconnect_stays_closed(transport: Transport) {
    let client = SseClient::builder(dead_url())
        .reconnect_interval(Duration::from_millis(300))
        .jitter(Jitter::None)
        .transport(transport)
        .build()
        .unwrap();
    let mut events = client_events(&client);
    client.connect();
    wait_for(&mut events, "reconnecting", |e| {
        matches!(e, ClientEvent::Reconnecting { .. })
    })
    .await;
    let timers_before = live_counts().timers;
    assert!(timers_before >= 1);
    client.close();
    assert_eq!(live_counts().timers, timers_before - 1);
    assert_eq!(
        wait_for(&mut events, "closed", |_| true).await,
        ClientEvent::State(State::Closed)
    );
    // Nothing may happen any more: wait past the reconnect delay and check.
    TimeoutFuture::new(600).await;
    assert!(events.try_recv().is_err(), "an event after close");
    assert_eq!(client.state(), State::Closed);
    assert_eq!(client.stats().reconnects, 0);
}

async fn a_thousand_clients_release_every_listener_and_timer(transport: Transport) {
    let before = live_counts();
    for i in 0..1000 {
        let client = SseClient::builder(&format!("{}/sse/counter?count=1", server()))
            .transport(transport)
            .build()
            .unwrap();
        client.on_raw("message", |_| {});
        client.on_client_event(|_| {});
        let _stream = client.events::<MonitoringData>();
        client.connect();
        if i % 2 == 0 {
            client.close();
        }
        // Dropped here: closing on drop releases the rest.
    }
    let after = live_counts();
    assert_eq!(after, before, "listeners, timers or clients leaked");
}

#[wasm_bindgen_test]
async fn invalid_options_are_rejected_with_a_message() {
    let opts = js_sys::Object::new();
    Reflect::set(&opts, &"reconnectInterval".into(), &(-5).into()).unwrap();
    let err = JsSseClient::new("/sse/demo", opts.into()).unwrap_err();
    let err: js_sys::Error = JsValue::from(err).dyn_into().unwrap();
    assert!(String::from(err.message()).contains("reconnectInterval"));
    let opts = js_sys::Object::new();
    Reflect::set(&opts, &"maxReconectAttempts".into(), &3.into()).unwrap();
    assert!(
        JsSseClient::new("/sse/demo", opts.into()).is_err(),
        "a misspelt option is an error, not ignored"
    );
}

async fn handlers_registered_after_connect_are_listened_for(transport: Transport) {
    let t = topic("late");
    let client = SseClient::builder(&format!("{}/sse/subscribe?topic={t}", server()))
        .transport(transport)
        .build()
        .unwrap();
    let mut events = client_events(&client);
    client.connect();
    wait_for(&mut events, "open", is_state(State::Open)).await;
    let (tx, mut rx) = mpsc::unbounded::<String>();
    client.on_raw("late-name", move |e| {
        let _ = tx.unbounded_send(e.data.clone());
    });
    publish(server(), &t, r#"{"event": "late-name", "data": "seen"}"#).await;
    assert_eq!(within("late event", rx.next()).await.unwrap(), "\"seen\"");
    client.close();
}

async fn the_last_event_id_parameter_name_is_configurable(transport: Transport) {
    let t = topic("param");
    let id = publish(server(), &t, r#"{"data": 1}"#).await;
    let next = publish(server(), &t, r#"{"data": 2}"#).await;
    // The server only knows `lastEventId`: under another name the id is not
    // understood, so the client starts live (nothing replayed)...
    let client = SseClient::builder(&format!("{}/sse/subscribe?topic={t}", server()))
        .last_event_id(id.clone())
        .last_event_id_param("since")
        .transport(transport)
        .build()
        .unwrap();
    let mut rx = event_ids(&client, "message");
    let mut events = client_events(&client);
    client.connect();
    wait_for(&mut events, "open", is_state(State::Open)).await;
    let live = publish(server(), &t, r#"{"data": 3}"#).await;
    assert_eq!(within("live", rx.next()).await.unwrap(), live);
    client.close();
    // ...while under the default name it resumes right after `id`.
    let client = SseClient::builder(&format!("{}/sse/subscribe?topic={t}", server()))
        .last_event_id(id)
        .transport(transport)
        .build()
        .unwrap();
    let mut rx = event_ids(&client, "message");
    client.connect();
    assert_eq!(within("replayed", rx.next()).await.unwrap(), next);
    client.close();
}

async fn coming_back_online_skips_the_remaining_backoff(transport: Transport) {
    let client = SseClient::builder(dead_url())
        .reconnect_interval(Duration::from_secs(60))
        .jitter(Jitter::None)
        .reconnect_on_online(true)
        .transport(transport)
        .build()
        .unwrap();
    let mut events = client_events(&client);
    client.connect();
    wait_for(&mut events, "first reconnecting", |e| {
        matches!(e, ClientEvent::Reconnecting { attempt: 1, .. })
    })
    .await;
    let window = web_sys::window().unwrap();
    window
        .dispatch_event(&web_sys::Event::new("online").unwrap())
        .unwrap();
    // Long before the 60 s delay, the reconnect was made (and failed again).
    wait_for(&mut events, "second reconnecting", |e| {
        matches!(e, ClientEvent::Reconnecting { attempt: 2, .. })
    })
    .await;
    assert_eq!(client.stats().reconnects, 1);
    client.close();
}

async fn a_hidden_tab_pauses_and_resumes_by_id(transport: Transport) {
    let t = topic("hidden");
    let client = SseClient::builder(&format!("{}/sse/subscribe?topic={t}", server()))
        .pause_when_hidden(true)
        .transport(transport)
        .build()
        .unwrap();
    let mut rx = event_ids(&client, "message");
    let mut events = client_events(&client);
    client.connect();
    wait_for(&mut events, "open", is_state(State::Open)).await;
    let first = publish(server(), &t, r#"{"data": 1}"#).await;
    assert_eq!(within("first", rx.next()).await.unwrap(), first);

    let document = web_sys::window().unwrap().document().unwrap();
    let set_hidden = |hidden: bool| {
        let descriptor = js_sys::Object::new();
        Reflect::set(&descriptor, &"value".into(), &hidden.into()).unwrap();
        Reflect::set(&descriptor, &"configurable".into(), &true.into()).unwrap();
        js_sys::Object::define_property(&document, &"hidden".into(), &descriptor);
        document
            .dispatch_event(&web_sys::Event::new("visibilitychange").unwrap())
            .unwrap();
    };
    set_hidden(true);
    wait_for(&mut events, "paused", is_state(State::Closed)).await;
    let missed = publish(server(), &t, r#"{"data": 2}"#).await;
    set_hidden(false);
    wait_for(&mut events, "open again", is_state(State::Open)).await;
    // Resumed by id: the event published while hidden arrives.
    assert_eq!(within("missed", rx.next()).await.unwrap(), missed);
    Reflect::delete_property(&document, &"hidden".into()).unwrap();
    client.close();
}

#[wasm_bindgen_test]
fn the_js_parser_reports_events_retry_and_comments_across_chunks() {
    let mut parser = pushwire_client::JsSseParser::new();
    let bytes = ": hi\nretry: 3000\nid: 7\nevent: data\ndata: {\"a\":\n data: 1}\n\n".as_bytes();
    let (a, b) = bytes.split_at(20);
    let mut items: Vec<JsValue> = parser.feed(js_sys::Uint8Array::from(a)).iter().collect();
    items.extend(parser.feed(js_sys::Uint8Array::from(b)).iter());
    let get = |i: usize, k: &str| Reflect::get(&items[i], &k.into()).unwrap();
    assert_eq!(items.len(), 3);
    assert_eq!(get(0, "type"), "comment");
    assert_eq!(get(0, "text"), "hi");
    assert_eq!(get(1, "type"), "retry");
    assert_eq!(get(1, "retry"), 3000);
    assert_eq!(get(2, "type"), "event");
    assert_eq!(get(2, "event"), "data");
    assert_eq!(get(2, "id"), "7");
    // " data: 1}" has a leading space: it is a field named " data", ignored.
    assert_eq!(get(2, "data"), "{\"a\":");
    assert_eq!(parser.last_event_id(), "7");
}

async fn a_freed_js_client_keeps_its_connection_until_the_stream_ends(transport: Transport) {
    // Like a native EventSource, a connected client whose JS object is freed
    // or garbage-collected goes on delivering; it is released when it ends.
    let before = live_counts();
    let client = js_client(
        "/sse/counter?count=3&interval_ms=50",
        JsValue::UNDEFINED,
        transport,
    );
    let (tx, mut rx) = mpsc::unbounded::<JsValue>();
    let handler = Closure::<dyn Fn(JsValue)>::new(move |v: JsValue| {
        let _ = tx.unbounded_send(v);
    });
    client.on("message", handler.as_ref().clone().unchecked_into());
    client.connect();
    drop(client); // what free() or the garbage collector does
    for n in 0..3 {
        assert_eq!(within("counter event", rx.next()).await.unwrap(), n);
    }
    within("release after the end", async {
        while live_counts() != before {
            TimeoutFuture::new(10).await;
        }
    })
    .await;
}

async fn close_from_a_connecting_handler_keeps_the_client_closed(transport: Transport) {
    let before = live_counts();
    let client = Rc::new(
        SseClient::builder(&format!("{}/sse/monitoring", server()))
            .transport(transport)
            .build()
            .unwrap(),
    );
    let mut events = client_events(&client);
    let weak = Rc::downgrade(&client);
    client.on_client_event(move |e| {
        if *e == ClientEvent::State(State::Connecting) {
            weak.upgrade().unwrap().close();
        }
    });
    client.connect();
    assert_eq!(
        wait_for(&mut events, "connecting", |_| true).await,
        ClientEvent::State(State::Connecting)
    );
    assert_eq!(
        wait_for(&mut events, "closed", |_| true).await,
        ClientEvent::State(State::Closed)
    );
    // The connection was never opened: nothing arrives, nothing is held.
    TimeoutFuture::new(300).await;
    assert!(events.try_recv().is_err(), "an event after close");
    assert_eq!(client.state(), State::Closed);
    drop(client);
    assert_eq!(live_counts(), before);
}

// Private topics: tokens signed here (HS256, with WebCrypto) against the
// server's `--jwt-secret`, through either transport.

#[wasm_bindgen(inline_js = r#"
const b64 = (bytes) => btoa(String.fromCharCode(...new Uint8Array(bytes)))
  .replace(/=+$/, "").replace(/\+/g, "-").replace(/\//g, "_");
export async function sign(secret, claims) {
  const text = new TextEncoder();
  const head = b64(text.encode(JSON.stringify({ alg: "HS256", typ: "JWT" })));
  const body = b64(text.encode(claims));
  const key = await crypto.subtle.importKey("raw", text.encode(secret), { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
  return head + "." + body + "." + b64(await crypto.subtle.sign("HMAC", key, text.encode(head + "." + body)));
}
"#)]
extern "C" {
    /// An HS256 JWT of the JSON `claims`, signed with `secret`.
    fn sign(secret: &str, claims: &str) -> js_sys::Promise;
}

/// Unix time in seconds, `secs` from now.
fn at(secs: f64) -> u64 {
    (js_sys::Date::now() / 1000.0 + secs) as u64
}

/// Claims granting `subscribe` and `publish`, expiring `secs` from now.
fn claims(subscribe: &[&str], publish: &[&str], secs: f64) -> String {
    let list = |l: &[&str]| {
        l.iter()
            .map(|s| format!("\"{s}\""))
            .collect::<Vec<_>>()
            .join(",")
    };
    format!(
        r#"{{"exp":{},"pushwire":{{"subscribe":[{}],"publish":[{}]}}}}"#,
        at(secs),
        list(subscribe),
        list(publish)
    )
}

/// A token valid for 10 minutes.
async fn token(subscribe: &[&str], publish: &[&str]) -> String {
    JsFuture::from(sign(jwt_secret(), &claims(subscribe, publish, 600.0)))
        .await
        .unwrap()
        .as_string()
        .unwrap()
}

/// Publishes on the auth server with a token granting the topic.
async fn publish_private(topic: &str, body: &str) -> String {
    publish_as(
        auth_server(),
        topic,
        body,
        Some(&token(&[], &[topic]).await),
    )
    .await
}

/// A `getToken` signing `claims()` with `secret` on each call, counted.
fn counted_tokens(
    secret: &'static str,
    claims: impl Fn() -> String + 'static,
) -> (TokenSource, Rc<Cell<u32>>) {
    let calls = Rc::new(Cell::new(0));
    let counter = calls.clone();
    let source = TokenSource::new(move || {
        counter.set(counter.get() + 1);
        sign(secret, &claims())
    });
    (source, calls)
}

/// A client of `topics` on the auth server.
fn private_client(topics: &str, transport: Transport) -> pushwire_client::SseClientBuilder {
    SseClient::builder(&format!("{}/sse/subscribe?topic={topics}", auth_server()))
        .transport(transport)
        .reconnect_interval(Duration::from_millis(20))
        .jitter(Jitter::None)
}

fn is_auth_error(status: u16) -> impl Fn(&ClientEvent) -> bool {
    move |e| matches!(e, ClientEvent::AuthError(a) if a.status == status)
}

async fn private_topic_with_get_token_delivers_every_event(transport: Transport) {
    let t = topic("private.get");
    let (tokens, calls) = counted_tokens(jwt_secret(), || claims(&["private.*"], &[], 600.0));
    let client = private_client(&t, transport)
        .get_token(tokens)
        .build()
        .unwrap();
    let mut rx = event_ids(&client, "message");
    let mut events = client_events(&client);
    client.connect();
    wait_for(&mut events, "open", is_state(State::Open)).await;
    let mut published = Vec::new();
    for i in 0..3 {
        published.push(publish_private(&t, &format!(r#"{{"data": {i}}}"#)).await);
    }
    let received = next_ids(&mut rx, published.len(), "private events").await;
    assert_eq!(received, published);
    assert_eq!(calls.get(), 1, "one token for one connect");
    assert_eq!(client.stats().reconnects, 0);
    client.close();
}

async fn a_public_topic_needs_no_token(transport: Transport) {
    let t = topic("public.open");
    let client = private_client(&t, transport).build().unwrap();
    let mut rx = event_ids(&client, "message");
    let mut events = client_events(&client);
    client.connect();
    wait_for(&mut events, "open", is_state(State::Open)).await;
    let id = publish_private(&t, r#"{"data": "hello"}"#).await;
    assert_eq!(within("public event", rx.next()).await.unwrap(), id);
    client.close();
}

async fn a_token_without_the_grant_is_a_403_and_never_retried(transport: Transport) {
    let t = topic("private.denied");
    let (tokens, calls) = counted_tokens(jwt_secret(), || claims(&["elsewhere.*"], &[], 600.0));
    let client = private_client(&t, transport)
        .get_token(tokens)
        .build()
        .unwrap();
    let mut events = client_events(&client);
    client.connect();
    let e = wait_for(&mut events, "auth-error", is_auth_error(403)).await;
    let ClientEvent::AuthError(error) = e else {
        unreachable!()
    };
    assert!(error.message.contains(&t), "{}", error.message);
    assert_eq!(
        wait_for(&mut events, "failed", |_| true).await,
        ClientEvent::State(State::Failed)
    );
    // No retry: wait well past the 20 ms reconnect interval.
    TimeoutFuture::new(300).await;
    assert!(events.try_recv().is_err(), "an event after the 403");
    assert_eq!(calls.get(), 1);
    assert_eq!(client.stats().reconnects, 0);
    assert_eq!(live_counts().timers, 0);
}

async fn an_invalid_token_is_a_401_retried_with_fresh_tokens(transport: Transport) {
    let t = topic("private.forged");
    let (tokens, calls) = counted_tokens("not-the-server-secret", || {
        claims(&["private.*"], &[], 600.0)
    });
    let client = private_client(&t, transport)
        .get_token(tokens)
        .max_reconnect_attempts(2)
        .build()
        .unwrap();
    let mut events = client_events(&client);
    client.connect();
    let mut refusals = 0;
    loop {
        match wait_for(&mut events, "auth-error or give-up", |e| {
            matches!(
                e,
                ClientEvent::AuthError(_) | ClientEvent::MaxReconnectReached { .. }
            )
        })
        .await
        {
            ClientEvent::AuthError(e) => {
                assert_eq!(e.status, 401);
                refusals += 1;
            }
            ClientEvent::MaxReconnectReached { attempts } => {
                assert_eq!(attempts, 2);
                break;
            }
            _ => unreachable!(),
        }
    }
    assert_eq!(refusals, 3, "the first attempt and two reconnects");
    assert_eq!(calls.get(), 3, "a fresh token for every attempt");
    assert_eq!(client.state(), State::Failed);
}

async fn no_credentials_for_a_private_topic_is_a_401(transport: Transport) {
    let t = topic("private.anonymous");
    let client = private_client(&t, transport)
        .max_reconnect_attempts(0)
        .build()
        .unwrap();
    let mut events = client_events(&client);
    client.connect();
    let e = wait_for(&mut events, "auth-error", |e| {
        matches!(e, ClientEvent::AuthError(_))
    })
    .await;
    let ClientEvent::AuthError(error) = e else {
        unreachable!()
    };
    assert_eq!(error.status, 401);
    assert!(!error.message.is_empty());
    wait_for(&mut events, "failed", is_state(State::Failed)).await;
}

async fn a_get_token_that_fails_is_an_error_and_retried(transport: Transport) {
    let t = topic("private.flaky");
    let calls = Rc::new(Cell::new(0));
    let counter = calls.clone();
    let tokens = TokenSource::new(move || {
        counter.set(counter.get() + 1);
        if counter.get() == 1 {
            js_sys::Promise::reject(&js_sys::Error::new("token service down").into())
        } else {
            sign(jwt_secret(), &claims(&["private.*"], &[], 600.0))
        }
    });
    let client = private_client(&t, transport)
        .get_token(tokens)
        .build()
        .unwrap();
    let mut events = client_events(&client);
    client.connect();
    let e = wait_for(&mut events, "error", |e| {
        matches!(e, ClientEvent::Error { .. })
    })
    .await;
    assert_eq!(
        e,
        ClientEvent::Error {
            message: "token service down".into()
        }
    );
    wait_for(&mut events, "open", is_state(State::Open)).await;
    assert_eq!(calls.get(), 2);
    client.close();
}

async fn a_stream_outlives_its_tokens_without_a_gap(transport: Transport) {
    let t = topic("private.expiring");
    // Tokens live one to two seconds (`exp` is in whole seconds).
    let (tokens, calls) = counted_tokens(jwt_secret(), || claims(&["private.*"], &[], 2.0));
    let client = private_client(&t, transport)
        .get_token(tokens)
        .build()
        .unwrap();
    let mut rx = event_ids(&client, "message");
    let mut events = client_events(&client);
    client.connect();
    wait_for(&mut events, "open", is_state(State::Open)).await;
    let publisher = token(&[], &[&t]).await;
    let mut published = Vec::new();
    // Publish until the client has been given a third token (two expiries).
    let mut i = 0;
    while calls.get() < 3 {
        published.push(
            publish_as(
                auth_server(),
                &t,
                &format!(r#"{{"data": {i}}}"#),
                Some(&publisher),
            )
            .await,
        );
        i += 1;
        assert!(i < 200, "no token expired within 10 s");
        TimeoutFuture::new(50).await; // pacing the publisher across the expiries
    }
    let last = publish_as(auth_server(), &t, r#"{"data": "last"}"#, Some(&publisher)).await;
    published.push(last);
    let received = next_ids(&mut rx, published.len(), "every event").await;
    assert_eq!(received, published, "every event exactly once, in order");
    assert!(client.stats().reconnects >= 2);
    // Expiry is no failure: no error, auth-error or reset on the way.
    while let Ok(e) = events.try_recv() {
        assert!(
            matches!(e, ClientEvent::State(_) | ClientEvent::Open),
            "unexpected {e:?}"
        );
    }
    client.close();
}

both_transports!(
    private_topics:
    private_topic_with_get_token_delivers_every_event,
    a_public_topic_needs_no_token,
    a_token_without_the_grant_is_a_403_and_never_retried,
    an_invalid_token_is_a_401_retried_with_fresh_tokens,
    no_credentials_for_a_private_topic_is_a_401,
    a_get_token_that_fails_is_an_error_and_retried,
    a_stream_outlives_its_tokens_without_a_gap,
);
