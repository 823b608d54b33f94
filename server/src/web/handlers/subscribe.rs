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
pub(crate) async fn subscribe(
    app: &App,
    query: &Query,
    last_event_id: Option<&str>,
) -> Result<Response> {
    topics(app, &query.all(TOPIC_PARAM), last_event_id).await
}

/// `GET /sse/monitoring`
pub(crate) async fn monitoring(app: &App, last_event_id: Option<&str>) -> Result<Response> {
    topics(app, &[MONITORING_TOPIC.to_owned()], last_event_id).await
}

/// `topics` as an SSE response resumed after `last_event_id`.
pub(crate) async fn topics(
    app: &App,
    topics: &[String],
    last_event_id: Option<&str>,
) -> Result<Response> {
    let subscription = app.backend.subscribe(topics, last_event_id).await?;
    Ok(Sse::subscription(subscription)
        .in_context(&app.sse)
        .into_response())
}
