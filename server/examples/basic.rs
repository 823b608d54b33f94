//! `basic`: the smallest pushwire stream, in a plain warp app.
//!
//! `GET /` streams ten `message` events whose data and id are `0` … `9`,
//! one per second (or every `?interval_ms=N`), then `pushwire.end`
//! `{"reason":"complete"}` so a pushwire client knows not to reconnect.
//! It shows [`Sse::new`] answering a warp route with a stream of your own
//! [`SseEvent`]s: no hub, no topics, one stream per request.
//!
//! ```text
//! cargo run -p pushwire-server --example basic [-- --addr 127.0.0.1:60000]
//! curl -N http://127.0.0.1:60000/
//! curl -N 'http://127.0.0.1:60000/?interval_ms=100'
//! ```

mod common;

use std::time::Duration;

use pushwire_server::{Sse, SseEvent};
use warp::Filter;

/// Events in the stream.
const COUNT: u64 = 10;

/// `0` … `9`, then `pushwire.end`.
fn counter(interval: Duration) -> Sse {
    Sse::new(async_stream::stream! {
        let mut ticker = tokio::time::interval(interval.max(Duration::from_millis(1)));
        for n in 0..COUNT {
            if !interval.is_zero() {
                ticker.tick().await;
            }
            yield SseEvent::text(n.to_string()).id(n.to_string());
        }
        yield SseEvent::end();
    })
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args = common::Args::parse("basic", &[])?;
    let routes = warp::path::end()
        .and(warp::get())
        .and(warp::query::<common::Pace>())
        .map(|pace: common::Pace| counter(pace.interval()));

    common::serve(routes, args.addr).await
}
