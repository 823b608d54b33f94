//! `embed`: pushwire inside your own warp app.
//!
//! The app has routes of its own — `GET /hello`, and `POST
//! /orders/{id}/ship`, whose handler publishes an `order.shipped` event
//! into a pushwire [`Hub`] with [`Hub::publish`] — and mounts pushwire's
//! push API beside them under `/push` with [`filters::mount`] (subscribe,
//! publish, poll, stats), ending the chain with
//! `.recover(filters::json_errors)` so every error is JSON. `GET /` streams
//! the `orders` topic, resuming after a `Last-Event-ID` header.
//!
//! ```text
//! cargo run -p pushwire-server --example embed [-- --addr 127.0.0.1:60000]
//! curl -N http://127.0.0.1:60000/                    # watch the orders
//! curl -X POST http://127.0.0.1:60000/orders/42/ship # in another terminal
//! curl -X POST http://127.0.0.1:60000/push/api/topics/orders \
//!      -d '{"event": "order.created", "data": {"order_id": 43}}'
//! curl http://127.0.0.1:60000/push/api/stats
//! ```

mod common;

use pushwire_server::{filters, Hub};
use warp::http::StatusCode;
use warp::reply::{Reply, Response};
use warp::Filter;

/// The topic the order events go to.
const ORDERS: &str = "orders";

/// The data of an `order.shipped` event.
#[derive(Debug, serde::Serialize)]
struct OrderShipped {
    order_id: u64,
    /// Milliseconds since the Unix epoch.
    shipped_at: u64,
}

/// `POST /orders/{id}/ship`: the app's own business, then an event for
/// everyone watching. Answers `202 {"order_id", "id"}`, `id` being the
/// event's.
fn ship(order_id: u64, hub: &Hub) -> Response {
    // … mark the order shipped in your database …
    let shipped = OrderShipped {
        order_id,
        shipped_at: common::now_ms(),
    };
    match hub.publish(ORDERS, "order.shipped", &shipped) {
        Ok(published) => warp::reply::with_status(
            warp::reply::json(&serde_json::json!({ "order_id": order_id, "id": published.id })),
            StatusCode::ACCEPTED,
        )
        .into_response(),
        Err(err) => err.into_response(),
    }
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args = common::Args::parse("embed", &[])?;
    let hub = Hub::new();

    // Path first, then method: a request for an unknown path is then a
    // 404, not a 405 from the first route that checked the method.
    let hello = warp::path!("hello")
        .and(warp::get())
        .map(|| "hello from my own route\n");
    let ship = {
        let hub = hub.clone();
        warp::path!("orders" / u64 / "ship")
            .and(warp::post())
            .map(move |order_id| ship(order_id, &hub))
    };
    // GET /: the `orders` topic as SSE, resumed after `Last-Event-ID`.
    let orders = warp::path::end().and(filters::topics(hub.clone(), &[ORDERS]));
    let routes = hello
        .or(ship)
        .or(orders)
        .or(filters::mount(hub, "push"))
        .recover(filters::json_errors);

    common::serve(routes, args.addr).await
}
