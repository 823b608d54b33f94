//! `GET /api/stats` (JSON) and `GET /metrics` (Prometheus text): the
//! server's counters.

use http::{header, HeaderValue};
use warp::reply::Response;
use warp::Reply;

use super::no_store;
use crate::stats::prometheus;
use crate::web::App;

/// `GET /api/stats`
pub(crate) fn stats(app: &App) -> Response {
    no_store(warp::reply::json(&app.hub.stats()).into_response())
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
