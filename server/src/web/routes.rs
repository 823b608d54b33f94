//! Every route of the server, readable top-down in one place.
//!
//! | route | handler |
//! |---|---|
//! | `GET /sse/counter?count&interval_ms` | `handlers/streams.rs` |
//! | `GET /sse/demo?interval_ms` | `handlers/streams.rs` |
//! | `GET /sse/perf?count&interval_ms` | `handlers/streams.rs` |
//! | `GET /sse/monitoring` | `handlers/subscribe.rs` |
//! | `GET /sse/subscribe?topic=a&topic=b` | `handlers/subscribe.rs` |
//! | `POST /api/topics/{topic}` | `handlers/publish.rs` |
//! | `GET /api/topics/{topic}/events?after&limit` | `handlers/poll.rs` |
//! | `GET /api/stats` | `handlers/stats.rs` |
//! | `POST /api/tickets` | `auth/mod.rs`: a single-use ticket for a URL |
//! | `POST /demo/token` | `demo/tokens.rs`: the demo user's token (off by default) |
//! | `GET /metrics` | `handlers/stats.rs` |
//! | `GET /healthz` | `ok`: the process runs |
//! | `GET /readyz` | `handlers/stats.rs`: the backend is usable (`503` when not) |
//! | `GET /*` | files of the www directory |
//!
//! The four routes of the push API (subscribe, publish, poll, stats) are
//! also what [`crate::filters`] mounts in a user's own warp app.
//!
//! SSE routes resume from the `Last-Event-ID` header, or from the
//! `lastEventId` query parameter (a fresh browser EventSource cannot set
//! headers); the header wins, since a native EventSource sends the newer id
//! there when it reconnects by itself.

use std::convert::Infallible;
use std::future::Future;

use http::{HeaderMap, HeaderValue};
use pushwire_protocol::names::{
    IDEMPOTENCY_KEY_HEADER, LAST_EVENT_ID_HEADER, LAST_EVENT_ID_PARAM, NODE_HEADER,
};
use warp::filters::BoxedFilter;
use warp::reply::Response;
use warp::{Filter, Rejection, Reply};

use super::error::{handle_rejection, ApiError};
use super::handlers::{self, no_store, poll, publish, respond, stats, streams, subscribe};
use super::query::{self, Query};
use super::App;
use crate::auth::Credentials;

/// Every route of the `pushwire` binary, with JSON errors and CORS.
pub(crate) fn routes(app: App) -> BoxedFilter<(Response,)> {
    let demo = warp::path("sse").and(
        sse_route(&app, "counter", at_once(streams::counter))
            .or(sse_route(&app, "demo", at_once(streams::demo)))
            .unify()
            .or(sse_route(&app, "perf", at_once(streams::perf)))
            .unify()
            .or(sse_route(
                &app,
                "monitoring",
                |app, q, id, creds| async move {
                    subscribe::monitoring(&app, &creds, &q, id.as_deref()).await
                },
            ))
            .unify(),
    );
    let routes = demo
        .or(demo_token_route(&app))
        .unify()
        .or(push_api(&app))
        .unify()
        .or(get_exact(&app, "metrics", stats::metrics))
        .unify()
        .or(get_exact(&app, "healthz", |_| "ok".into_response()))
        .unify()
        .or(get_exact(&app, "readyz", stats::readyz))
        .unify()
        .or(static_files(&app))
        .unify();
    with_cors(app, routes)
}

/// The push API: subscribe, publish, poll, stats.
pub(crate) fn push_api(app: &App) -> BoxedFilter<(Response,)> {
    subscribe_route(app)
        .or(publish_route(app))
        .unify()
        .or(poll_route(app))
        .unify()
        .or(stats_route(app))
        .unify()
        .or(tickets_route(app))
        .unify()
        .boxed()
}

/// `GET /sse/subscribe?topic=a&topic=b`
pub(crate) fn subscribe_route(app: &App) -> BoxedFilter<(Response,)> {
    warp::path("sse")
        .and(sse_route(
            app,
            "subscribe",
            |app, query, id, creds| async move {
                subscribe::subscribe(&app, &creds, &query, id.as_deref()).await
            },
        ))
        .boxed()
}

/// `GET` of fixed `topics` as SSE, wherever the caller mounts it.
pub(crate) fn fixed_topics_route(app: &App, topics: Vec<String>) -> BoxedFilter<(Response,)> {
    warp::get()
        .and(with_app(app))
        .and(last_event_id())
        .and(credentials())
        .then(move |app: App, id: Option<String>, creds: Credentials| {
            let topics = topics.clone();
            async move {
                let result =
                    async { subscribe::topics(&app, &creds, &topics, id.as_deref()).await };
                respond(result.await)
            }
        })
        .boxed()
}

/// `POST /api/topics/{topic}`: authorise, read the body (bounded), publish.
/// The lean path serves most publishes without this filter
/// ([`conn::shortcut`](crate::conn)), through the same [`publish_answer`].
pub(crate) fn publish_route(app: &App) -> BoxedFilter<(Response,)> {
    warp::path!("api" / "topics" / String)
        .and(warp::post())
        .and(with_app(app))
        .and(credentials())
        .and(warp::header::optional::<String>(IDEMPOTENCY_KEY_HEADER))
        .and(warp::header::optional::<u64>("content-length"))
        .and(warp::body::stream())
        .then(
            |topic: String,
             app: App,
             creds: Credentials,
             key: Option<String>,
             length: Option<u64>,
             body| async move {
                publish_answer(&app, &topic, &creds, key.as_deref(), length, body).await
            },
        )
        .boxed()
}

/// The publish route's answer, from the parts of its request: authorise,
/// read the body (at most `--max-body-bytes`), publish.
pub(crate) async fn publish_answer<S, B, E>(
    app: &App,
    topic: &str,
    creds: &Credentials,
    idempotency_key: Option<&str>,
    content_length: Option<u64>,
    body: S,
) -> Response
where
    S: futures_util::Stream<Item = std::result::Result<B, E>>,
    B: bytes::Buf,
    E: std::error::Error + 'static,
{
    let result = async {
        app.auth.publisher(creds, topic)?;
        let max = app.config.max_body_bytes;
        let bytes = publish::read_limited(content_length, body, max).await?;
        publish::publish(app, topic, &bytes, idempotency_key).await
    };
    respond(result.await)
}

/// `GET /api/topics/{topic}/events`
pub(crate) fn poll_route(app: &App) -> BoxedFilter<(Response,)> {
    warp::path!("api" / "topics" / String / "events")
        .and(warp::get())
        .and(with_app(app))
        .and(query::raw())
        .and(warp::header::headers_cloned())
        .then(
            |topic: String, app: App, raw: String, headers: HeaderMap| async move {
                let result = async {
                    // Parsed once, for the parameters and the ticket.
                    let q = Query::parse(&raw)?;
                    let creds = Credentials::from_request(&headers, &q);
                    poll::poll(&app, &creds, &topic, &q).await
                };
                respond(result.await)
            },
        )
        .boxed()
}

/// `POST /api/tickets`: a single-use ticket for the bearer token's grants.
pub(crate) fn tickets_route(app: &App) -> BoxedFilter<(Response,)> {
    warp::path!("api" / "tickets")
        .and(warp::post())
        .and(with_app(app))
        .and(credentials())
        .then(|app: App, creds: Credentials| async move {
            let result = async {
                let ticket = app.auth.issue_ticket(&*app.backend, &creds).await?;
                Ok(no_store(warp::reply::json(&ticket).into_response()))
            };
            respond(result.await)
        })
        .boxed()
}

/// `POST /demo/token`: a short-lived token for the demo user, when
/// `--demo-token-ttl-ms` is set (404 otherwise).
fn demo_token_route(app: &App) -> BoxedFilter<(Response,)> {
    warp::path!("demo" / "token")
        .and(warp::post())
        .and(with_app(app))
        .map(|app: App| {
            let minted = app
                .demo_tokens
                .as_ref()
                .ok_or_else(|| {
                    ApiError::new(
                        http::StatusCode::NOT_FOUND,
                        "demo tokens are off (--demo-token-ttl-ms)",
                    )
                })
                .and_then(|tokens| {
                    tokens.mint(std::time::SystemTime::now()).ok_or_else(|| {
                        ApiError::new(
                            http::StatusCode::INTERNAL_SERVER_ERROR,
                            "could not sign a demo token",
                        )
                    })
                });
            respond(minted.map(|t| no_store(warp::reply::json(&t).into_response())))
        })
        .boxed()
}

/// The request's credentials (`auth/credentials.rs`), unchecked.
fn credentials() -> impl Filter<Extract = (Credentials,), Error = Infallible> + Clone {
    warp::header::headers_cloned()
        .and(query::raw())
        .map(|headers: HeaderMap, raw: String| credentials_of(&headers, &raw))
}

/// The credentials of a request with these headers and raw query string; a
/// query string that does not parse carries none.
pub(crate) fn credentials_of(headers: &HeaderMap, raw_query: &str) -> Credentials {
    Credentials::from_request(headers, &Query::parse(raw_query).unwrap_or_default())
}

/// `GET /api/stats`
pub(crate) fn stats_route(app: &App) -> BoxedFilter<(Response,)> {
    warp::path("api")
        .and(get_exact(app, "stats", stats::stats))
        .boxed()
}

fn with_app(app: &App) -> impl Filter<Extract = (App,), Error = Infallible> + Clone {
    let app = app.clone();
    warp::any().map(move || app.clone())
}

/// The id to resume after: the `Last-Event-ID` header, else `lastEventId`.
fn resume_id(header: Option<String>, query: &Query) -> Option<String> {
    header.or_else(|| query.get(LAST_EVENT_ID_PARAM).map(str::to_owned))
}

/// [`resume_id`] as a filter, for users' own subscription routes. A query
/// string that does not parse counts as no `lastEventId`.
pub(crate) fn last_event_id() -> impl Filter<Extract = (Option<String>,), Error = Infallible> + Clone
{
    warp::header::optional::<String>(LAST_EVENT_ID_HEADER)
        .or(warp::any().map(|| None))
        .unify()
        .and(query::raw())
        .map(|header: Option<String>, raw: String| {
            resume_id(header, &Query::parse(&raw).unwrap_or_default())
        })
}

/// `GET /{name}` (an SSE route) answered by `handler(app, query,
/// last_event_id, credentials)`.
fn sse_route<H, F>(app: &App, name: &'static str, handler: H) -> BoxedFilter<(Response,)>
where
    H: Fn(App, Query, Option<String>, Credentials) -> F + Clone + Send + Sync + 'static,
    F: Future<Output = handlers::Result<Response>> + Send + 'static,
{
    warp::path(name)
        .and(warp::path::end())
        .and(warp::get())
        .and(with_app(app))
        .and(query::raw())
        .and(warp::header::optional::<String>(LAST_EVENT_ID_HEADER))
        .and(warp::header::headers_cloned())
        .then(
            move |app: App, raw: String, header: Option<String>, headers: HeaderMap| {
                let handler = handler.clone();
                async move {
                    let result = match Query::parse(&raw) {
                        Ok(q) => {
                            let id = resume_id(header, &q);
                            let creds = Credentials::from_request(&headers, &q);
                            handler(app, q, id, creds).await
                        }
                        Err(e) => Err(e),
                    };
                    respond(result)
                }
            },
        )
        .boxed()
}

/// A handler that answers without waiting, as [`sse_route`] takes them.
/// (The demo streams are not topics: they need no credentials.)
#[allow(clippy::type_complexity)]
fn at_once(
    handler: fn(&App, &Query, Option<&str>) -> handlers::Result<Response>,
) -> impl Fn(App, Query, Option<String>, Credentials) -> std::future::Ready<handlers::Result<Response>>
       + Clone {
    move |app, query, id, _| std::future::ready(handler(&app, &query, id.as_deref()))
}

/// `GET /{name}` with no parameters.
fn get_exact<H>(app: &App, name: &'static str, handler: H) -> BoxedFilter<(Response,)>
where
    H: Fn(&App) -> Response + Clone + Send + Sync + 'static,
{
    warp::path(name)
        .and(warp::path::end())
        .and(warp::get())
        .and(with_app(app))
        .map(move |app: App| handler(&app))
        .boxed()
}

/// Longest path segment that can name a file (Linux's `NAME_MAX`).
const MAX_FILE_NAME: usize = 255;

/// Files of the www directory (`/` serves `index.html`). A path segment
/// too long to be a file name is a 404 here: the file system would answer
/// "file name too long", which warp turns into a 500.
fn static_files(app: &App) -> BoxedFilter<(Response,)> {
    method_or_not_found(&[http::Method::GET, http::Method::HEAD])
        .and(
            warp::path::full()
                .and_then(|path: warp::path::FullPath| async move {
                    if path.as_str().split('/').all(|s| s.len() <= MAX_FILE_NAME) {
                        Ok(())
                    } else {
                        Err(warp::reject::not_found())
                    }
                })
                .untuple_one(),
        )
        .and(warp::fs::dir(app.config.www_dir.clone()))
        .map(Reply::into_response)
        .boxed()
}

/// Passes requests of the given methods; others get a 404 rejection. Unlike
/// warp's method filters, whose 405 outranks a 404, this keeps catch-all
/// routes from answering "method not allowed" for paths that do not exist.
fn method_or_not_found(
    methods: &'static [http::Method],
) -> impl Filter<Extract = (), Error = Rejection> + Clone {
    warp::method()
        .and_then(move |method: http::Method| async move {
            if methods.contains(&method) {
                Ok(())
            } else {
                Err(warp::reject::not_found())
            }
        })
        .untuple_one()
}

/// Answers preflights and adds CORS headers for allowed origins; with
/// `recover`, errors are recovered inside, so they carry CORS headers too
/// and a cross-origin page can read the message.
pub(crate) fn cors(
    app: &App,
    routes: impl Filter<Extract = (Response,), Error = Rejection> + Clone + Send + Sync + 'static,
    recover: bool,
) -> BoxedFilter<(Response,)> {
    let preflight_policy = app.cors.clone();
    let preflight = method_or_not_found(&[http::Method::OPTIONS])
        .and(warp::header::optional::<String>("origin"))
        .map(move |origin: Option<String>| preflight_policy.preflight(origin.as_deref()));
    let policy = app.cors.clone();
    let routes = if recover {
        routes.recover(handle_rejection).unify().boxed()
    } else {
        routes.boxed()
    };
    let normal = warp::header::optional::<String>("origin")
        .and(routes)
        .map(move |origin: Option<String>, res: Response| policy.apply(origin.as_deref(), res));
    preflight.or(normal).unify().boxed()
}

/// The binary's routes: CORS, JSON errors for everything, and the node's
/// name on every answer.
fn with_cors(
    app: App,
    routes: impl Filter<Extract = (Response,), Error = Rejection> + Clone + Send + Sync + 'static,
) -> BoxedFilter<(Response,)> {
    let routes = cors(&app, routes, true).recover(handle_rejection).unify();
    node_header(&app, routes.boxed())
}

/// Adds `X-Pushwire-Node: <--node-name>` to every response, so a client
/// (or a test) behind a load balancer sees which node answered.
pub(crate) fn node_header(app: &App, routes: BoxedFilter<(Response,)>) -> BoxedFilter<(Response,)> {
    let name = node_name(app);
    routes
        .map(move |res: Response| with_node_name(res, &name))
        .boxed()
}

/// `res` with the node header set to `name` (from [`node_name`]): the one
/// place both the routes and the lean path's publish shortcut name the node.
pub(crate) fn with_node_name(mut res: Response, name: &HeaderValue) -> Response {
    res.headers_mut().insert(NODE_HEADER, name.clone());
    res
}

/// The value of the node header: `--node-name`, or `pushwire` when that is
/// not a valid header value.
pub(crate) fn node_name(app: &App) -> HeaderValue {
    HeaderValue::from_str(&app.config.node_name)
        .unwrap_or_else(|_| HeaderValue::from_static("pushwire"))
}
