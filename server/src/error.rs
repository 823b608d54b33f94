//! API errors: every failure is answered with a JSON body `{"error": "..."}`
//! and the right status code, whether it comes from our handlers
//! ([`ApiError`]) or from warp's own filters (unknown route, wrong method…).

use std::convert::Infallible;

use http::{header, HeaderValue, StatusCode};
use warp::reply::Response;
use warp::{Rejection, Reply};

use crate::config::RETRY_AFTER_SECS;

/// An error answered to the client as JSON.
#[derive(Debug, Clone)]
pub struct ApiError {
    pub status: StatusCode,
    pub message: String,
}

impl warp::reject::Reject for ApiError {}

impl ApiError {
    pub fn new(status: StatusCode, message: impl Into<String>) -> Self {
        ApiError {
            status,
            message: message.into(),
        }
    }

    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, message)
    }

    /// As a warp rejection, to leave a filter chain.
    pub fn reject(self) -> Rejection {
        warp::reject::custom(self)
    }

    /// The JSON response.
    pub fn to_response(&self) -> Response {
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

/// Turns any rejection into a JSON error response.
pub async fn handle_rejection(err: Rejection) -> Result<Response, Infallible> {
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
    Ok(error.to_response())
}
