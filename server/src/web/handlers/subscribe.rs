//! `GET /sse/subscribe?topic=a&topic=b` and `GET /sse/monitoring`: a hub
//! subscription as an SSE response, resuming after the client's last id.

use pushwire_protocol::names::{MONITORING_TOPIC, TOPIC_PARAM};
use warp::reply::Response;
use warp::Reply;

use super::Result;
use crate::auth::Credentials;
use crate::sse::Sse;
use crate::web::query::Query;
use crate::web::App;

/// `GET /sse/subscribe?topic=a&topic=b`
pub(crate) async fn subscribe(
    app: &App,
    creds: &Credentials,
    query: &Query,
    last_event_id: Option<&str>,
) -> Result<Response> {
    topics(app, creds, &query.all(TOPIC_PARAM), last_event_id).await
}

/// `GET /sse/monitoring`
pub(crate) async fn monitoring(
    app: &App,
    creds: &Credentials,
    _query: &Query,
    last_event_id: Option<&str>,
) -> Result<Response> {
    topics(app, creds, &[MONITORING_TOPIC.to_owned()], last_event_id).await
}

/// `topics` as an SSE response resumed after `last_event_id`, if `creds`
/// may read every one of them; it ends with `pushwire.expired` when the
/// token it was opened with expires.
pub(crate) async fn topics(
    app: &App,
    creds: &Credentials,
    topics: &[String],
    last_event_id: Option<&str>,
) -> Result<Response> {
    let expires_at = app.auth.subscriber(&*app.backend, creds, topics).await?;
    let subscription = app.backend.subscribe(topics, last_event_id).await?;
    let mut sse = Sse::subscription(subscription).in_context(&app.sse);
    if let Some(at) = expires_at {
        sse = sse.expires_at(at);
    }
    Ok(sse.into_response())
}
