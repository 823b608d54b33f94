//! `advanced`: a stream of typed events with ids, names and a retry delay.
//!
//! `GET /` streams a `connection` event (id `conn-1`), twenty `data` events
//! ([`DemoData`], ids `data-1` … `data-20`, value = i × 10, each telling
//! the client to wait 3 s before reconnecting), a `close` event (id
//! `close-1`) and `pushwire.end`. Events go one per second (or every
//! `?interval_ms=N`); every third data event waits twice as long. It shows
//! [`SseEvent::named`] sending the protocol crate's [`TypedEvent`]s under
//! their own names, so a client decodes each by type.
//!
//! ```text
//! cargo run -p pushwire-server --example advanced [-- --addr 127.0.0.1:60000]
//! curl -N http://127.0.0.1:60000/
//! curl -N 'http://127.0.0.1:60000/?interval_ms=100'
//! ```
//!
//! [`TypedEvent`]: pushwire_protocol::TypedEvent

mod common;

use std::time::Duration;

use pushwire_protocol::{Close, Connection, DemoData};
use pushwire_server::{Sse, SseEvent};
use warp::Filter;

/// `data` events in the stream.
const DATA_EVENTS: u64 = 20;
/// The reconnection delay sent with every `data` event.
const RETRY: Duration = Duration::from_millis(3000);

fn demo(interval: Duration) -> Sse {
    Sse::new(async_stream::stream! {
        yield SseEvent::named(&Connection {
            message: "connected to the pushwire demo stream".into(),
            timestamp: common::now_ms(),
        })
        .expect("Connection always serialises")
        .id("conn-1");
        for i in 1..=DATA_EVENTS {
            let pause = if i % 3 == 0 { interval * 2 } else { interval };
            tokio::time::sleep(pause).await;
            let data = DemoData {
                timestamp: common::now_ms(),
                value: i * 10,
                status: "active".into(),
            };
            yield SseEvent::named(&data)
                .expect("DemoData always serialises")
                .id(format!("data-{i}"))
                .retry(RETRY);
        }
        tokio::time::sleep(interval).await;
        yield SseEvent::named(&Close {
            message: "demo complete".into(),
            timestamp: common::now_ms(),
        })
        .expect("Close always serialises")
        .id("close-1");
        yield SseEvent::end();
    })
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args = common::Args::parse("advanced", &[])?;
    let routes = warp::path::end()
        .and(warp::get())
        .and(warp::query::<common::Pace>())
        .map(|pace: common::Pace| demo(pace.interval()));

    common::serve(routes, args.addr).await
}
