//! `GET /sse/subscribe?topic=a&topic=b` and `GET /sse/monitoring`: a hub
//! subscription as an SSE response, resuming after the client's last id.

use pushwire_protocol::names::{MONITORING_TOPIC, TOPIC_PARAM};
use warp::reply::Response;
use warp::Reply;

use super::Result;
use crate::sse::Sse;
use crate::web::query::Query;
use crate::web::App;

/// `GET /sse/subscribe?topic=a&topic=b`
pub(crate) fn subscribe(app: &App, query: &Query, last_event_id: Option<&str>) -> Result<Response> {
    topics(app, &query.all(TOPIC_PARAM), last_event_id)
}

/// `GET /sse/monitoring`
pub(crate) fn monitoring(app: &App, last_event_id: Option<&str>) -> Result<Response> {
    topics(app, &[MONITORING_TOPIC], last_event_id)
}

/// `topics` as an SSE response resumed after `last_event_id`.
pub(crate) fn topics<S: AsRef<str>>(
    app: &App,
    topics: &[S],
    last_event_id: Option<&str>,
) -> Result<Response> {
    let subscription = app.hub.subscribe(topics, last_event_id)?;
    Ok(Sse::subscription(subscription)
        .in_context(&app.sse)
        .into_response())
}
