//! `POST /api/topics/{topic}`: read the body (bounded), publish `{"event",
//! "data"}` or `{"event", "text"}` (the route has authorised it first, in
//! `auth/`: the publish token or a JWT publish grant).

use bytes::{Buf, Bytes, BytesMut};
use futures_util::{Stream, StreamExt};
use http::StatusCode;
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;
use warp::reply::Response;
use warp::Reply;

use super::{check_topic, Result};
use crate::backend::Publish;
use crate::conn::BodyTimedOut;
use crate::hub::Payload;
use crate::web::error::ApiError;
use crate::web::App;

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

/// Reads a request body, refusing it as soon as it exceeds `limit` bytes.
pub(crate) async fn read_limited<S, B, E>(
    content_length: Option<u64>,
    body: S,
    limit: usize,
) -> Result<Bytes>
where
    S: Stream<Item = std::result::Result<B, E>>,
    B: Buf,
    E: std::error::Error + 'static,
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
        let mut chunk = chunk.map_err(|e| body_error(&e))?;
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

/// Why a body could not be read: `408` when it did not arrive in time (see
/// `conn/handoff.rs`), `400` otherwise.
fn body_error(err: &(dyn std::error::Error + 'static)) -> ApiError {
    let mut source = Some(err);
    while let Some(e) = source {
        if e.is::<BodyTimedOut>() {
            return ApiError::new(StatusCode::REQUEST_TIMEOUT, e.to_string());
        }
        source = e.source();
    }
    ApiError::bad_request(format!("could not read body: {err}"))
}

/// `POST /api/topics/{topic}`: the body is already read and authorised.
/// With an `Idempotency-Key`, a retry is answered with the first id.
pub(crate) async fn publish(
    app: &App,
    topic: &str,
    body: &[u8],
    idempotency_key: Option<&str>,
) -> Result<Response> {
    check_topic(topic)?;
    let request: PublishRequest = serde_json::from_slice(body).map_err(|e| {
        ApiError::bad_request(format!(
            "invalid JSON body: {e}; expected {{\"event\": \"name\", \"data\": <any JSON>}}"
        ))
    })?;
    let event = request
        .event
        .as_deref()
        .unwrap_or(pushwire_protocol::names::DEFAULT_EVENT);
    let payload = match (request.data, request.text) {
        (Some(json), None) => Payload::Json(json),
        (None, Some(text)) => Payload::Text(text),
        _ => {
            return Err(ApiError::bad_request(
                "give exactly one of \"data\" (any JSON) or \"text\" (plain text)",
            ))
        }
    };
    let publish = Publish::new(topic, event, payload).idempotency_key(idempotency_key);
    let published = app.backend.publish(publish).await?;
    Ok(warp::reply::with_status(
        warp::reply::json(&PublishResponse { id: &published.id }),
        StatusCode::ACCEPTED,
    )
    .into_response())
}
