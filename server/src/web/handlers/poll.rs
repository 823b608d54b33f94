//! `GET /api/topics/{topic}/events?after=ID&limit=100`: the polling
//! counterpart of a subscription, as JSON.

use std::borrow::Cow;

use serde::Serialize;
use serde_json::value::RawValue;
use warp::reply::Response;
use warp::Reply;

use super::{check_topic, no_store, Result};
use crate::auth::Credentials;
use crate::web::query::Query;
use crate::web::App;

/// Default `limit` of a poll.
pub const DEFAULT_POLL_LIMIT: u64 = 100;
/// Largest `limit` of a poll.
pub const MAX_POLL_LIMIT: u64 = 1000;

#[derive(Debug, Serialize)]
struct PolledEvent<'a> {
    id: &'a str,
    event: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    data: Option<Box<RawValue>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    text: Option<Cow<'a, str>>,
    published_at_ms: u64,
}

#[derive(Debug, Serialize)]
struct PollResponse<'a> {
    topic: &'a str,
    events: Vec<PolledEvent<'a>>,
    last_id: &'a str,
    more: bool,
    reset: Option<&'a pushwire_protocol::Reset>,
}

/// `GET /api/topics/{topic}/events?after=ID&limit=100`
pub(crate) async fn poll(
    app: &App,
    creds: &Credentials,
    topic: &str,
    query: &Query,
) -> Result<Response> {
    check_topic(topic)?;
    app.auth
        .subscriber(&*app.backend, creds, &[topic.to_owned()])
        .await?;
    let limit = query.u64_in("limit", DEFAULT_POLL_LIMIT, 1..=MAX_POLL_LIMIT)? as usize;
    let result = app.backend.poll(topic, query.get("after"), limit).await?;
    let body = PollResponse {
        topic,
        events: result
            .events
            .iter()
            .map(|e| {
                let (data, text) = if e.is_text() {
                    (None, Some(e.data()))
                } else {
                    // Published as JSON: its lines, rejoined, are that JSON.
                    (RawValue::from_string(e.data().into_owned()).ok(), None)
                };
                PolledEvent {
                    id: e.id(),
                    event: e.event(),
                    data,
                    text,
                    published_at_ms: e.published_at_ms(),
                }
            })
            .collect(),
        last_id: &result.last_id,
        more: result.more,
        reset: result.reset.as_ref(),
    };
    Ok(no_store(warp::reply::json(&body).into_response()))
}
