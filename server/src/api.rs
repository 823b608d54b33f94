//! Handlers of the HTTP API and the SSE routes. Each takes already-extracted
//! inputs and returns a response or an [`ApiError`]; routing lives in
//! [`crate::routes`].

use std::sync::atomic::Ordering::Relaxed;

use bytes::{Buf, Bytes, BytesMut};
use futures_util::{Stream, StreamExt};
use http::{header, HeaderValue, StatusCode};
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;
use warp::reply::Response;
use warp::Reply;

use crate::app::App;
use crate::error::ApiError;
use crate::hub::{is_valid_topic, HubError, MAX_TOPIC_LEN};
use crate::monitoring::MONITORING_TOPIC;
use crate::query::Query;
use crate::replay::Payload;
use crate::sse::{no_content, sse_response, SseBody};
use crate::stats::{prometheus, StatsSnapshot};
use crate::streams::{counter, demo, perf, Resume};

/// Longest event name accepted for publishing, in bytes.
pub const MAX_EVENT_NAME_LEN: usize = 128;
/// Event names starting with this are the server's own control events and
/// cannot be published, so nobody can forge a reset or an end.
pub const RESERVED_EVENT_PREFIX: &str = "pushwire.";
/// Default and largest `limit` of a poll.
pub const DEFAULT_POLL_LIMIT: u64 = 100;
pub const MAX_POLL_LIMIT: u64 = 1000;

type Result<T> = std::result::Result<T, ApiError>;

fn check_topic(topic: &str) -> Result<()> {
    if is_valid_topic(topic) {
        Ok(())
    } else {
        Err(ApiError::bad_request(format!(
            "invalid topic {topic:?}: use 1 to {MAX_TOPIC_LEN} characters from A-Z a-z 0-9 _ . : -"
        )))
    }
}

fn hub_error(err: HubError) -> ApiError {
    match err {
        HubError::TooManyTopics(_) => {
            ApiError::new(StatusCode::INSUFFICIENT_STORAGE, err.to_string())
        }
        HubError::Encode(e) => ApiError::bad_request(e.to_string()),
    }
}

fn resumed_or_ended(
    app: &App,
    resume: Resume,
    stream: impl FnOnce(usize, Option<Bytes>) -> futures_util::stream::BoxStream<'static, Bytes>,
) -> Response {
    match resume {
        Resume::Ended => no_content(),
        Resume::At { index, reset } => sse_response(SseBody::new(&app.sse, stream(index, reset))),
    }
}

/// `GET /sse/counter`
pub fn counter(app: &App, query: &Query, last_event_id: Option<&str>) -> Result<Response> {
    let params = counter::CounterParams::from_query(query)?;
    let resume = counter::resume(&params, last_event_id);
    Ok(resumed_or_ended(app, resume, |i, r| {
        counter::stream(params, i, r)
    }))
}

/// `GET /sse/demo`
pub fn demo(app: &App, query: &Query, last_event_id: Option<&str>) -> Result<Response> {
    let interval = demo::interval_from_query(query)?;
    Ok(resumed_or_ended(
        app,
        demo::resume(last_event_id),
        |i, r| demo::stream(interval, i, r),
    ))
}

/// `GET /sse/perf`
pub fn perf(app: &App, query: &Query, last_event_id: Option<&str>) -> Result<Response> {
    let params = perf::PerfParams::from_query(query)?;
    let resume = perf::resume(&params, last_event_id);
    Ok(resumed_or_ended(app, resume, |i, r| {
        perf::stream(params, i, r)
    }))
}

/// `GET /sse/monitoring`
pub fn monitoring(app: &App, last_event_id: Option<&str>) -> Result<Response> {
    subscribe_topics(app, vec![MONITORING_TOPIC.to_owned()], last_event_id)
}

/// `GET /sse/subscribe?topic=a&topic=b`
pub fn subscribe(app: &App, query: &Query, last_event_id: Option<&str>) -> Result<Response> {
    let mut topics = query.all("topic");
    if topics.is_empty() {
        return Err(ApiError::bad_request(
            "give at least one topic: /sse/subscribe?topic=name",
        ));
    }
    topics.sort();
    topics.dedup();
    let max = app.config.max_topics_per_subscription;
    if topics.len() > max {
        return Err(ApiError::bad_request(format!(
            "too many topics: {} given, at most {max} per subscription",
            topics.len()
        )));
    }
    for topic in &topics {
        check_topic(topic)?;
    }
    subscribe_topics(app, topics, last_event_id)
}

fn subscribe_topics(
    app: &App,
    topics: Vec<String>,
    last_event_id: Option<&str>,
) -> Result<Response> {
    let subscription = app
        .hub
        .subscribe(&topics, last_event_id)
        .map_err(hub_error)?;
    Ok(sse_response(SseBody::for_subscription(
        &app.sse,
        subscription.boxed(),
    )))
}

/// The body of a publish request: `data` (any JSON, `null` included) or
/// `text` (sent as-is), exactly one of them.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct PublishRequest {
    #[serde(default)]
    event: Option<String>,
    #[serde(default, deserialize_with = "present")]
    data: Option<Box<RawValue>>,
    #[serde(default)]
    text: Option<String>,
}

/// Keeps `"data": null` apart from a missing `data`.
fn present<'de, D: serde::Deserializer<'de>>(
    d: D,
) -> std::result::Result<Option<Box<RawValue>>, D::Error> {
    Box::<RawValue>::deserialize(d).map(Some)
}

#[derive(Debug, Serialize)]
struct PublishResponse<'a> {
    id: &'a str,
}

/// Checks the bearer token when one is configured.
pub fn authorize(app: &App, authorization: Option<&str>) -> Result<()> {
    let Some(expected) = app.config.publish_token.as_deref() else {
        return Ok(());
    };
    let given = authorization.and_then(|h| h.strip_prefix("Bearer "));
    match given {
        Some(token) if constant_time_eq(token.as_bytes(), expected.as_bytes()) => Ok(()),
        Some(_) => Err(ApiError::new(
            StatusCode::UNAUTHORIZED,
            "wrong publish token",
        )),
        None => Err(ApiError::new(
            StatusCode::UNAUTHORIZED,
            "publishing requires the header Authorization: Bearer <token>",
        )),
    }
}

/// Compares without an early exit, so timing does not reveal the token.
fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    let mut diff = a.len() ^ b.len();
    for (i, x) in a.iter().enumerate() {
        diff |= usize::from(x ^ b.get(i % b.len().max(1)).copied().unwrap_or(0));
    }
    diff == 0
}

/// Reads a request body, refusing it as soon as it exceeds `limit` bytes.
pub async fn read_limited<S, B, E>(
    content_length: Option<u64>,
    body: S,
    limit: usize,
) -> Result<Bytes>
where
    S: Stream<Item = std::result::Result<B, E>>,
    B: Buf,
    E: std::fmt::Display,
{
    let too_large = || {
        ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            format!("request body exceeds {limit} bytes"),
        )
    };
    if content_length.is_some_and(|len| len > limit as u64) {
        return Err(too_large());
    }
    let mut buf = BytesMut::new();
    let mut body = std::pin::pin!(body);
    while let Some(chunk) = body.next().await {
        let mut chunk =
            chunk.map_err(|e| ApiError::bad_request(format!("could not read body: {e}")))?;
        if buf.len() + chunk.remaining() > limit {
            return Err(too_large());
        }
        while chunk.has_remaining() {
            let part = chunk.chunk();
            buf.extend_from_slice(part);
            let n = part.len();
            chunk.advance(n);
        }
    }
    Ok(buf.freeze())
}

/// `POST /api/topics/{topic}`: the body is already read and authorised.
pub fn publish(app: &App, topic: &str, body: &[u8]) -> Result<Response> {
    check_topic(topic)?;
    let request: PublishRequest = serde_json::from_slice(body).map_err(|e| {
        ApiError::bad_request(format!(
            "invalid JSON body: {e}; expected {{\"event\": \"name\", \"data\": <any JSON>}}"
        ))
    })?;
    let event = request
        .event
        .as_deref()
        .unwrap_or(pushwire_protocol::DEFAULT_EVENT);
    if event.is_empty() || event.len() > MAX_EVENT_NAME_LEN || event.contains(['\r', '\n']) {
        return Err(ApiError::bad_request(format!(
            "invalid event name: it must be 1 to {MAX_EVENT_NAME_LEN} bytes with no CR or LF"
        )));
    }
    if event.starts_with(RESERVED_EVENT_PREFIX) {
        return Err(ApiError::bad_request(format!(
            "event names starting with {RESERVED_EVENT_PREFIX:?} are reserved for the server"
        )));
    }
    let payload = match (request.data, request.text) {
        (Some(json), None) => Payload::Json(json),
        (None, Some(text)) => Payload::Text(text),
        _ => {
            return Err(ApiError::bad_request(
                "give exactly one of \"data\" (any JSON) or \"text\" (plain text)",
            ))
        }
    };
    let published = app.hub.publish(topic, event, payload).map_err(hub_error)?;
    Ok(warp::reply::with_status(
        warp::reply::json(&PublishResponse { id: &published.id }),
        StatusCode::ACCEPTED,
    )
    .into_response())
}

#[derive(Debug, Serialize)]
struct PolledEvent<'a> {
    id: &'a str,
    event: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    data: Option<&'a RawValue>,
    #[serde(skip_serializing_if = "Option::is_none")]
    text: Option<&'a str>,
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
pub fn poll(app: &App, topic: &str, query: &Query) -> Result<Response> {
    check_topic(topic)?;
    let limit = query.u64_in("limit", DEFAULT_POLL_LIMIT, 1..=MAX_POLL_LIMIT)? as usize;
    let result = app.hub.poll(topic, query.get("after"), limit);
    let body = PollResponse {
        topic,
        events: result
            .events
            .iter()
            .map(|e| PolledEvent {
                id: &e.id,
                event: &e.event,
                data: match &e.data {
                    Payload::Json(raw) => Some(raw),
                    Payload::Text(_) => None,
                },
                text: match &e.data {
                    Payload::Text(text) => Some(text),
                    Payload::Json(_) => None,
                },
                published_at_ms: e.published_at_ms,
            })
            .collect(),
        last_id: &result.last_id,
        more: result.more,
        reset: result.reset.as_ref(),
    };
    let mut res = warp::reply::json(&body).into_response();
    res.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(res)
}

/// The counters as served by `/api/stats`.
pub fn snapshot(app: &App) -> StatsSnapshot {
    let s = &app.stats;
    let (topics, subscribers) = app.hub.counts();
    StatsSnapshot {
        connections_open: s.connections_open.load(Relaxed),
        connections_total: s.connections_total.load(Relaxed),
        connections_rejected: s.connections_rejected.load(Relaxed),
        streams_open: s.streams_open.load(Relaxed),
        subscribers: subscribers as u64,
        topics: topics as u64,
        events_published: s.events_published.load(Relaxed),
        frames_written: s.frames_written.load(Relaxed),
        bytes_written: s.bytes_written.load(Relaxed),
        subscribers_cut_off: s.subscribers_cut_off.load(Relaxed),
        requests_total: s.requests_total.load(Relaxed),
        uptime_seconds: s.uptime().as_secs_f64(),
        epoch: app.hub.epoch().to_string(),
    }
}

/// `GET /api/stats`
pub fn stats(app: &App) -> Response {
    let mut res = warp::reply::json(&snapshot(app)).into_response();
    res.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    res
}

/// `GET /metrics`
pub fn metrics(app: &App) -> Response {
    let mut res = prometheus(&snapshot(app)).into_response();
    res.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; version=0.0.4; charset=utf-8"),
    );
    res
}

#[cfg(test)]
mod tests {
    use super::constant_time_eq;

    #[test]
    fn token_comparison() {
        assert!(constant_time_eq(b"secret", b"secret"));
        assert!(!constant_time_eq(b"secret", b"secreT"));
        assert!(!constant_time_eq(b"secret", b"secret2"));
        assert!(!constant_time_eq(b"", b"x"));
    }
}
