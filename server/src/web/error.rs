//! API errors: every failure is answered with a JSON body `{"error": "…"}`
//! and the right status code, whether it comes from our handlers
//! ([`ApiError`]) or from warp's own filters (unknown route, wrong method…).

use std::convert::Infallible;

use http::{header, HeaderValue, StatusCode};
use warp::reply::Response;
use warp::{Rejection, Reply};

use crate::config::RETRY_AFTER_SECS;
use crate::hub::HubError;

/// An error answered to the client as JSON `{"error": message}` with its
/// status; `401` adds `WWW-Authenticate: Bearer`, `503` adds `Retry-After`.
///
/// ```
/// use pushwire_server::ApiError;
/// use warp::Reply;
///
/// let err = ApiError::bad_request("give at least one topic");
/// assert_eq!(err.to_string(), "400 Bad Request: give at least one topic");
/// assert_eq!(err.into_response().status(), 400);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    status: StatusCode,
    message: String,
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.status, self.message)
    }
}

impl std::error::Error for ApiError {}

impl warp::reject::Reject for ApiError {}

impl ApiError {
    /// An error with this status and message.
    pub fn new(status: StatusCode, message: impl Into<String>) -> Self {
        ApiError {
            status,
            message: message.into(),
        }
    }

    /// A `400 Bad Request`.
    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, message)
    }

    /// The status code.
    pub fn status(&self) -> StatusCode {
        self.status
    }

    /// The message sent as `error`.
    pub fn message(&self) -> &str {
        &self.message
    }

    /// As a warp rejection, to leave a filter chain.
    pub fn reject(self) -> Rejection {
        warp::reject::custom(self)
    }
}

impl Reply for ApiError {
    fn into_response(self) -> Response {
        let body = serde_json::json!({ "error": self.message });
        let mut res =
            warp::reply::with_status(warp::reply::json(&body), self.status).into_response();
        match self.status {
            StatusCode::UNAUTHORIZED => {
                res.headers_mut()
                    .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
            }
            StatusCode::SERVICE_UNAVAILABLE => {
                res.headers_mut()
                    .insert(header::RETRY_AFTER, HeaderValue::from(RETRY_AFTER_SECS));
            }
            _ => {}
        }
        res
    }
}

impl From<HubError> for ApiError {
    fn from(err: HubError) -> Self {
        let status = match err {
            HubError::TooManyTopics(_) => StatusCode::INSUFFICIENT_STORAGE,
            HubError::ReservedTopic(_) => StatusCode::FORBIDDEN,
            HubError::EventTooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            HubError::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            _ => StatusCode::BAD_REQUEST,
        };
        ApiError::new(status, err.to_string())
    }
}

impl Reply for HubError {
    /// The JSON error with the status the push API answers it with.
    fn into_response(self) -> Response {
        ApiError::from(self).into_response()
    }
}

/// Turns any rejection into a JSON error response.
pub(crate) async fn handle_rejection(err: Rejection) -> Result<Response, Infallible> {
    use warp::reject::*;
    let error = if let Some(e) = err.find::<ApiError>() {
        e.clone()
    } else if err.is_not_found() {
        ApiError::new(StatusCode::NOT_FOUND, "no such route or file")
    } else if err.find::<MethodNotAllowed>().is_some() {
        ApiError::new(
            StatusCode::METHOD_NOT_ALLOWED,
            "method not allowed on this route",
        )
    } else if err.find::<PayloadTooLarge>().is_some() {
        ApiError::new(StatusCode::PAYLOAD_TOO_LARGE, "request body too large")
    } else if let Some(e) = err.find::<InvalidHeader>() {
        ApiError::bad_request(e.to_string())
    } else if let Some(e) = err.find::<InvalidQuery>() {
        ApiError::bad_request(e.to_string())
    } else if err.find::<UnsupportedMediaType>().is_some() {
        ApiError::new(StatusCode::UNSUPPORTED_MEDIA_TYPE, "unsupported media type")
    } else {
        tracing::error!(?err, "unhandled rejection");
        ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "internal error")
    };
    Ok(error.into_response())
}
