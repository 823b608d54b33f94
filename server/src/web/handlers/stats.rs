//! `GET /api/stats` (JSON) and `GET /metrics` (Prometheus text): the
//! server's counters.

use http::{header, HeaderValue, StatusCode};
use serde::Serialize;
use warp::reply::Response;
use warp::Reply;

use super::no_store;
use crate::stats::{prometheus, StatsSnapshot};
use crate::web::error::ApiError;
use crate::web::App;

/// `/api/stats`: this node's name and counters.
#[derive(Debug, Serialize)]
struct NodeStats<'a> {
    node: &'a str,
    /// Whether `POST /demo/token` mints tokens (the demo page's private
    /// panel asks here first, rather than provoke a 404).
    demo_tokens: bool,
    #[serde(flatten)]
    stats: StatsSnapshot,
}

/// `GET /api/stats`
pub(crate) fn stats(app: &App) -> Response {
    let body = NodeStats {
        node: &app.config.node_name,
        demo_tokens: app.demo_tokens.is_some(),
        stats: app.hub.stats(),
    };
    no_store(warp::reply::json(&body).into_response())
}

/// `GET /readyz`: `200` when the backend can serve publishes and
/// subscriptions, else `503` (`/healthz` only says the process runs).
pub(crate) fn readyz(app: &App) -> Response {
    if app.backend.ready() {
        no_store("ready".into_response())
    } else {
        ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "the backend is not reachable; retry later",
        )
        .into_response()
    }
}

/// `GET /metrics`
pub(crate) fn metrics(app: &App) -> Response {
    let mut res = prometheus(&app.hub.stats()).into_response();
    res.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; version=0.0.4; charset=utf-8"),
    );
    res
}
