//! Decode throughput in Chromium: how many `MonitoringData` events per
//! second the client turns into JS objects (the JS face) and into Rust
//! structs (`on_typed`), reading the stream with each transport
//! (`EventSource` and the streaming `fetch`). Not a pass/fail test: run it with
//! `cargo xtask bench client`, which starts the server and prints the figures.
#![cfg(all(target_arch = "wasm32", feature = "bench"))]
#![allow(clippy::unwrap_used, clippy::option_env_unwrap)]

use std::cell::Cell;

use futures_channel::oneshot;
use js_sys::Reflect;
use pushwire_client::{JsSseClient, SseClient, Transport};
use pushwire_protocol::MonitoringData;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

/// Events per run; the bench server's replay buffer holds them all.
const EVENTS: u32 = 5000;
/// Publishes in flight at once while filling the topic.
const PUBLISH_BATCH: u32 = 100;

fn now_ms() -> f64 {
    web_sys::window().unwrap().performance().unwrap().now()
}

async fn fill_topic(base: &str, topic: &str) -> String {
    let window = web_sys::window().unwrap();
    let mut first_id = String::new();
    for batch in 0..EVENTS / PUBLISH_BATCH {
        let promises = js_sys::Array::new();
        for i in 0..PUBLISH_BATCH {
            let n = batch * PUBLISH_BATCH + i;
            let body = format!(
                r#"{{"event":"monitoring","data":{{"timestamp":{n},"cpu_usage":12.5,"memory_usage":43.25,"network_io":123456.0,"active_connections":{n},"response_time_ms":0.42}}}}"#
            );
            let init = web_sys::RequestInit::new();
            init.set_method("POST");
            init.set_body(&JsValue::from_str(&body));
            let req = web_sys::Request::new_with_str_and_init(
                &format!("{base}/api/topics/{topic}"),
                &init,
            )
            .unwrap();
            promises.push(&window.fetch_with_request(&req));
        }
        let responses = JsFuture::from(js_sys::Promise::all(&promises))
            .await
            .unwrap();
        if batch == 0 {
            let first: web_sys::Response =
                js_sys::Array::from(&responses).get(0).dyn_into().unwrap();
            let json = JsFuture::from(first.json().unwrap()).await.unwrap();
            first_id = Reflect::get(&json, &"id".into())
                .unwrap()
                .as_string()
                .unwrap();
        }
    }
    first_id
}

/// The position just before `id` (same epoch, previous sequence number).
fn before(id: &str) -> String {
    let (epoch, seq) = id.split_once('-').unwrap();
    format!("{epoch}-{}", seq.parse::<u64>().unwrap() - 1)
}

fn report(face: &str, elapsed_ms: f64) {
    let rate = f64::from(EVENTS) / (elapsed_ms / 1000.0);
    web_sys::console::log_1(&format!("BENCH {face}: {EVENTS} MonitoringData events decoded in {elapsed_ms:.1} ms = {rate:.0} events/s").into());
}

/// A handler's clock: call the tick once per event; the receiver gets the
/// milliseconds from the first event to the `EVENTS`th.
fn stopwatch() -> (impl Fn() + 'static, oneshot::Receiver<f64>) {
    let (tx, rx) = oneshot::channel::<f64>();
    let tx = Cell::new(Some(tx));
    let count = Cell::new(0u32);
    let started = Cell::new(0.0);
    let tick = move || {
        let n = count.get() + 1;
        count.set(n);
        if n == 1 {
            started.set(now_ms());
        }
        if n == EVENTS {
            if let Some(tx) = tx.take() {
                let _ = tx.send(now_ms() - started.get());
            }
        }
    };
    (tick, rx)
}

/// JS face: every event becomes a JS object handed to a JS function.
async fn js_face(url: &str, from: &str, transport: Transport) -> f64 {
    let opts = js_sys::Object::new();
    Reflect::set(&opts, &"lastEventId".into(), &from.into()).unwrap();
    Reflect::set(&opts, &"transport".into(), &transport.name().into()).unwrap();
    let client = JsSseClient::new(url, opts.into()).unwrap();
    let (tick, rx) = stopwatch();
    let handler = Closure::<dyn Fn(JsValue)>::new(move |data: JsValue| {
        // Touch a field, as an application would.
        let _ = Reflect::get(&data, &"cpu_usage".into());
        tick();
    });
    client.on("monitoring", handler.as_ref().clone().unchecked_into());
    client.connect();
    let elapsed = rx.await.unwrap();
    client.close();
    elapsed
}

/// Rust face: decoded straight into the protocol type.
async fn rust_face(url: &str, from: &str, transport: Transport) -> f64 {
    let client = SseClient::builder(url)
        .last_event_id(from)
        .transport(transport)
        .build()
        .unwrap();
    let (tick, rx) = stopwatch();
    client.on_typed::<MonitoringData>(move |m| {
        let _ = m.cpu_usage;
        tick();
    });
    client.connect();
    let elapsed = rx.await.unwrap();
    client.close();
    elapsed
}

#[wasm_bindgen_test]
async fn monitoring_decode_throughput() {
    let base =
        option_env!("PUSHWIRE_BENCH_SERVER").expect("run through `cargo xtask bench client`");
    let topic = format!("bench-{}", (js_sys::Math::random() * 1e12) as u64);
    let first = fill_topic(base, &topic).await;
    let url = format!("{base}/sse/subscribe?topic={topic}");
    let from = before(&first);

    for round in 0..3 {
        for transport in [Transport::EventSource, Transport::Fetch] {
            let name = transport.name();
            let elapsed = js_face(&url, &from, transport).await;
            report(&format!("JS objects, {name}, round {round}"), elapsed);
            let elapsed = rust_face(&url, &from, transport).await;
            report(&format!("Rust typed, {name}, round {round}"), elapsed);
        }
    }
}
