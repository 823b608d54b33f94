//! Handlers of the HTTP API and the SSE routes, one file per endpoint. Each
//! takes already-extracted inputs and returns a response or an
//! [`ApiError`]; routing lives in `web/routes.rs` and `filters.rs`.

pub(crate) mod poll;
pub(crate) mod publish;
pub(crate) mod stats;
pub(crate) mod streams;
pub(crate) mod subscribe;

use http::{header, HeaderValue};
use warp::reply::Response;
use warp::Reply;

use super::error::ApiError;

/// What a handler gives back.
pub(crate) type Result<T> = std::result::Result<T, ApiError>;

/// A handler's answer: its response, or its error as JSON.
pub(crate) fn respond(result: Result<Response>) -> Response {
    result.unwrap_or_else(|e| e.into_response())
}

/// Checks a topic name from the path before anything else about the request.
pub(crate) fn check_topic(topic: &str) -> Result<()> {
    if crate::hub::is_valid_topic(topic) {
        Ok(())
    } else {
        Err(crate::hub::HubError::InvalidTopic(topic.to_owned()).into())
    }
}

/// Marks a response as never to be cached (live figures, polls).
pub(crate) fn no_store(mut res: Response) -> Response {
    res.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    res
}
