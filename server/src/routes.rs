//! Every route of the server, readable top-down in one place.
//!
//! | route | handler |
//! |---|---|
//! | `GET /sse/counter?count&interval_ms` | [`api::counter`] |
//! | `GET /sse/demo?interval_ms` | [`api::demo`] |
//! | `GET /sse/perf?count&interval_ms` | [`api::perf`] |
//! | `GET /sse/monitoring` | [`api::monitoring`] |
//! | `GET /sse/subscribe?topic=a&topic=b` | [`api::subscribe`] |
//! | `POST /api/topics/{topic}` | [`api::publish`] |
//! | `GET /api/topics/{topic}/events?after&limit` | [`api::poll`] |
//! | `GET /api/stats` | [`api::stats`] |
//! | `GET /metrics` | [`api::metrics`] |
//! | `GET /healthz` | `ok` |
//! | `GET /*` | files of the www directory |
//!
//! SSE routes resume from the `Last-Event-ID` header, or from the
//! `lastEventId` query parameter (a fresh browser EventSource cannot set
//! headers); the header wins, since a native EventSource sends the newer id
//! there when it reconnects by itself.

use std::convert::Infallible;

use warp::filters::BoxedFilter;
use warp::reply::Response;
use warp::{Filter, Rejection, Reply};

use crate::api;
use crate::app::App;
use crate::error::{handle_rejection, ApiError};
use crate::query::{self, Query};

/// All routes, with JSON errors and CORS.
pub fn routes(app: App) -> BoxedFilter<(Response,)> {
    let sse = warp::path("sse").and(
        sse_route(&app, "counter", api::counter)
            .or(sse_route(&app, "demo", api::demo))
            .unify()
            .or(sse_route(&app, "perf", api::perf))
            .unify()
            .or(sse_route(&app, "monitoring", |app, _, id| {
                api::monitoring(app, id)
            }))
            .unify()
            .or(sse_route(&app, "subscribe", api::subscribe))
            .unify(),
    );
    let api = warp::path("api").and(
        publish(&app)
            .or(poll(&app))
            .unify()
            .or(get_exact(&app, "stats", api::stats))
            .unify(),
    );
    let routes = sse
        .or(api)
        .unify()
        .or(get_exact(&app, "metrics", api::metrics))
        .unify()
        .or(get_exact(&app, "healthz", |_| "ok".into_response()))
        .unify()
        .or(static_files(&app))
        .unify();
    with_cors(app, routes)
}

fn with_app(app: &App) -> impl Filter<Extract = (App,), Error = Infallible> + Clone {
    let app = app.clone();
    warp::any().map(move || app.clone())
}

fn respond(result: Result<Response, ApiError>) -> Response {
    result.unwrap_or_else(|e| e.to_response())
}

/// The id to resume after: the `Last-Event-ID` header, else `lastEventId`.
fn last_event_id(header: Option<String>, query: &Query) -> Option<String> {
    header.or_else(|| query.get("lastEventId").map(str::to_owned))
}

/// `GET /sse/{name}` handled by `handler(app, query, last_event_id)`.
fn sse_route<H>(app: &App, name: &'static str, handler: H) -> BoxedFilter<(Response,)>
where
    H: Fn(&App, &Query, Option<&str>) -> Result<Response, ApiError> + Clone + Send + Sync + 'static,
{
    warp::path(name)
        .and(warp::path::end())
        .and(warp::get())
        .and(with_app(app))
        .and(query::raw())
        .and(warp::header::optional::<String>("last-event-id"))
        .map(move |app: App, raw: String, header: Option<String>| {
            respond(Query::parse(&raw).and_then(|q| {
                let id = last_event_id(header, &q);
                handler(&app, &q, id.as_deref())
            }))
        })
        .boxed()
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

/// `POST /api/topics/{topic}`: authorise, read the body (bounded), publish.
fn publish(app: &App) -> BoxedFilter<(Response,)> {
    warp::path!("topics" / String)
        .and(warp::post())
        .and(with_app(app))
        .and(warp::header::optional::<String>("authorization"))
        .and(warp::header::optional::<u64>("content-length"))
        .and(warp::body::stream())
        .then(
            |topic: String, app: App, auth: Option<String>, length: Option<u64>, body| async move {
                let result = async {
                    api::authorize(&app, auth.as_deref())?;
                    let bytes = api::read_limited(length, body, app.config.max_body_bytes).await?;
                    api::publish(&app, &topic, &bytes)
                };
                respond(result.await)
            },
        )
        .boxed()
}

/// `GET /api/topics/{topic}/events`
fn poll(app: &App) -> BoxedFilter<(Response,)> {
    warp::path!("topics" / String / "events")
        .and(warp::get())
        .and(with_app(app))
        .and(query::raw())
        .map(|topic: String, app: App, raw: String| {
            respond(Query::parse(&raw).and_then(|q| api::poll(&app, &topic, &q)))
        })
        .boxed()
}

/// Files of the www directory (`/` serves `index.html`).
fn static_files(app: &App) -> BoxedFilter<(Response,)> {
    method_or_not_found(&[http::Method::GET, http::Method::HEAD])
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

/// Answers preflights and adds CORS headers for allowed origins.
fn with_cors(
    app: App,
    routes: impl Filter<Extract = (Response,), Error = Rejection> + Clone + Send + Sync + 'static,
) -> BoxedFilter<(Response,)> {
    let preflight_policy = app.cors.clone();
    let preflight = method_or_not_found(&[http::Method::OPTIONS])
        .and(warp::header::optional::<String>("origin"))
        .map(move |origin: Option<String>| preflight_policy.preflight(origin.as_deref()));
    let policy = app.cors.clone();
    // Errors are recovered inside, so they carry CORS headers too and a
    // cross-origin page can read the message.
    let normal = warp::header::optional::<String>("origin")
        .and(routes.recover(handle_rejection).unify())
        .map(move |origin: Option<String>, res: Response| policy.apply(origin.as_deref(), res));
    preflight
        .or(normal)
        .unify()
        .recover(handle_rejection)
        .unify()
        .boxed()
}
