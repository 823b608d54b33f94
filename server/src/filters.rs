//! warp filters of the push API, to mount a [`Hub`](crate::Hub) in your
//! own warp app beside your own routes.
//!
//! [`mount`] gives all four under a path prefix; [`subscribe`],
//! [`publish`], [`poll`] and [`stats`] give one each, to combine with
//! `.or()`. Each takes an [`App`] or anything that converts into one (a
//! [`Hub`](crate::Hub) gets the default [`Config`](crate::Config): no
//! publish token, 64 KiB bodies, 15 s heartbeats).
//!
//! | filter | route | answer |
//! |---|---|---|
//! | [`subscribe`] | `GET sse/subscribe?topic=a&topic=b` | SSE: replay after `Last-Event-ID`, then live events |
//! | [`publish`] | `POST api/topics/{topic}` with `{"event", "data"}` or `{"event", "text"}` | `202 {"id"}` |
//! | [`poll`] | `GET api/topics/{topic}/events?after=ID&limit=N` | JSON events |
//! | [`stats`] | `GET api/stats` | JSON counters |
//!
//! Errors of these routes are answered as JSON `{"error": "…"}` with their
//! status. Requests they do not match are rejected as usual, so the
//! routes after them in an `.or()` chain still get them; end your chain
//! with `.recover(filters::json_errors)` to answer those as JSON too.
//! (In your own routes, put the path filter before the method filter:
//! warp ranks a "method not allowed" above "not found", so
//! `warp::post().and(warp::path(..))` first in a chain turns every unknown
//! GET into a 405.)
//!
//! For a stream of fixed topics at a path of your own, use [`topics`]; for
//! a subscription route written by hand, [`last_event_id`] reads where
//! the client resumes, and [`Sse::subscription`](crate::Sse::subscription)
//! answers it; a [`HubError`](crate::HubError) is itself a reply (the JSON
//! error with its status).
//!
//! ```
//! use pushwire_server::{filters, Hub};
//! use warp::Filter;
//!
//! # #[tokio::main(flavor = "current_thread")] async fn main() {
//! let hub = Hub::new();
//! let hello = warp::path("hello").map(|| "hello");
//! let app = hello
//!     .or(filters::mount(hub.clone(), "push"))
//!     .recover(filters::json_errors);
//!
//! let res = warp::test::request()
//!     .method("POST")
//!     .path("/push/api/topics/chat")
//!     .body(r#"{"event": "chat", "data": {"text": "hi"}}"#)
//!     .reply(&app)
//!     .await;
//! assert_eq!(res.status(), 202);
//! assert_eq!(hub.stats().events_published, 1);
//! # }
//! ```

use std::convert::Infallible;

use warp::filters::BoxedFilter;
use warp::reply::Response;
use warp::{Filter, Rejection};

use crate::web::{routes, App};

/// The push API (subscribe, publish, poll, stats) under `prefix` (`""`
/// for none, `"push"` or `"a/b"` for `/push/…` or `/a/b/…`), with the CORS
/// policy of the app's configuration.
pub fn mount(app: impl Into<App>, prefix: &str) -> BoxedFilter<(Response,)> {
    let app = app.into();
    let mut path = warp::any().boxed();
    for segment in prefix.split('/').filter(|s| !s.is_empty()) {
        path = path.and(warp::path(segment.to_owned())).boxed();
    }
    let api = path.and(routes::cors(&app, routes::push_api(&app), false));
    routes::node_header(&app, api.boxed())
}

/// `GET sse/subscribe?topic=a&topic=b`: a hub subscription as SSE.
pub fn subscribe(app: impl Into<App>) -> BoxedFilter<(Response,)> {
    routes::subscribe_route(&app.into())
}

/// `GET` of the hub topics `topics` as SSE, resumed after the client's
/// last id ([`last_event_id`]), at whatever path you put before it: a
/// stream of your own choosing without the `topic` query parameter.
///
/// ```
/// use pushwire_server::{filters, Hub};
/// use warp::Filter;
///
/// let hub = Hub::new();
/// // GET /orders/live: the `orders` topic as SSE.
/// let live = warp::path!("orders" / "live").and(filters::topics(hub, &["orders"]));
/// # let _ = live;
/// ```
pub fn topics(app: impl Into<App>, topics: &[&str]) -> BoxedFilter<(Response,)> {
    let topics = topics.iter().map(|t| (*t).to_owned()).collect();
    routes::fixed_topics_route(&app.into(), topics)
}

/// `POST api/topics/{topic}`: publishes the JSON body's event.
pub fn publish(app: impl Into<App>) -> BoxedFilter<(Response,)> {
    routes::publish_route(&app.into())
}

/// `GET api/topics/{topic}/events?after=ID&limit=N`: polls a topic.
pub fn poll(app: impl Into<App>) -> BoxedFilter<(Response,)> {
    routes::poll_route(&app.into())
}

/// `GET api/stats`: the counters as JSON.
pub fn stats(app: impl Into<App>) -> BoxedFilter<(Response,)> {
    routes::stats_route(&app.into())
}

/// Where a client resumes: the `Last-Event-ID` header (a reconnecting
/// `EventSource` sends it), else the `lastEventId` query parameter (a fresh
/// `EventSource` cannot set headers).
///
/// ```
/// use pushwire_server::{filters, Hub, Sse};
/// use warp::{Filter, Reply};
///
/// let hub = Hub::new();
/// let news = warp::path("news")
///     .and(filters::last_event_id())
///     .map(move |last_id: Option<String>| match hub.subscribe(&["news"], last_id.as_deref()) {
///         Ok(subscription) => Sse::subscription(subscription).into_response(),
///         Err(err) => err.into_response(),
///     });
/// # let _ = news;
/// ```
pub fn last_event_id() -> impl Filter<Extract = (Option<String>,), Error = Infallible> + Clone {
    routes::last_event_id()
}

/// Answers any rejection as a JSON error (`404 {"error": "no such route
/// or file"}`, `405`, …): put it last, as `.recover(filters::json_errors)`.
pub async fn json_errors(rejection: Rejection) -> Result<Response, Infallible> {
    crate::web::error::handle_rejection(rejection).await
}
