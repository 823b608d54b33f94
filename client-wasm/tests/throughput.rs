//! Decode throughput in Chromium: how many `MonitoringData` events per
//! second the client turns into JS objects (the JS face) and into Rust
//! structs (`on_typed`). Not a pass/fail test: run it with
//! `cargo xtask bench client`, which starts the server and prints the figures.
#![cfg(all(target_arch = "wasm32", feature = "bench"))]
#![allow(clippy::unwrap_used, clippy::option_env_unwrap)]

use std::cell::Cell;
use std::rc::Rc;

use futures_channel::oneshot;
use js_sys::Reflect;
use pushwire_client::{JsSseClient, SseClient};
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

#[wasm_bindgen_test]
async fn monitoring_decode_throughput() {
    let base =
        option_env!("PUSHWIRE_BENCH_SERVER").expect("run through `cargo xtask bench client`");
    let topic = format!("bench-{}", (js_sys::Math::random() * 1e12) as u64);
    let first = fill_topic(base, &topic).await;
    let url = format!("{base}/sse/subscribe?topic={topic}");

    for round in 0..3 {
        // JS face: every event becomes a JS object handed to a JS function.
        let opts = js_sys::Object::new();
        Reflect::set(&opts, &"lastEventId".into(), &before(&first).into()).unwrap();
        let client = JsSseClient::new(&url, opts.into()).unwrap();
        let (tx, rx) = oneshot::channel::<f64>();
        let tx = Rc::new(Cell::new(Some(tx)));
        let count = Rc::new(Cell::new(0u32));
        let started = Rc::new(Cell::new(0.0));
        let (c, s) = (count.clone(), started.clone());
        let handler = Closure::<dyn Fn(JsValue)>::new(move |data: JsValue| {
            let n = c.get() + 1;
            c.set(n);
            if n == 1 {
                s.set(now_ms());
            }
            // Touch a field, as an application would.
            let _ = Reflect::get(&data, &"cpu_usage".into());
            if n == EVENTS {
                if let Some(tx) = tx.take() {
                    let _ = tx.send(now_ms() - s.get());
                }
            }
        });
        client.on("monitoring", handler.as_ref().clone().unchecked_into());
        client.connect();
        let elapsed = rx.await.unwrap();
        client.close();
        report(&format!("JS objects, round {round}"), elapsed);

        // Rust face: decoded straight into the protocol type.
        let client = SseClient::builder(&url)
            .last_event_id(before(&first))
            .build()
            .unwrap();
        let (tx, rx) = oneshot::channel::<f64>();
        let tx = Rc::new(Cell::new(Some(tx)));
        let count = Rc::new(Cell::new(0u32));
        let started = Rc::new(Cell::new(0.0));
        let (c, s) = (count.clone(), started.clone());
        client.on_typed::<MonitoringData>(move |m| {
            let n = c.get() + 1;
            c.set(n);
            if n == 1 {
                s.set(now_ms());
            }
            let _ = m.cpu_usage;
            if n == EVENTS {
                if let Some(tx) = tx.take() {
                    let _ = tx.send(now_ms() - s.get());
                }
            }
        });
        client.connect();
        let elapsed = rx.await.unwrap();
        client.close();
        report(&format!("Rust typed, round {round}"), elapsed);
    }
}
