//! CORS for the allowed origins of the configuration.
//!
//! Responses to a request whose `Origin` is allowed carry
//! `Access-Control-Allow-Origin` (and `Vary: Origin`); preflight `OPTIONS`
//! requests are answered here. Requests from other origins are served
//! without CORS headers, so the browser keeps their responses from the
//! page; same-origin use (the demo page publishing) is never affected.
//!
//! Hand-written instead of `warp::cors()`: warp's filter rejects every
//! request whose `Origin` is not in its list (`CorsForbidden`, 403), and a
//! browser sends `Origin` with same-origin POSTs too, so the demo page's own
//! publishes would be refused unless its origin were configured as well.

use std::sync::Arc;

use http::{header, HeaderValue, StatusCode};
use warp::reply::Response;

/// Request headers a cross-origin page may send.
pub const ALLOWED_HEADERS: &str = "last-event-id, content-type, authorization, idempotency-key";
/// Methods a cross-origin page may use.
pub const ALLOWED_METHODS: &str = "GET, POST, OPTIONS";
/// How long a browser may cache a preflight answer, in seconds.
pub const PREFLIGHT_MAX_AGE_SECS: u32 = 600;

/// The allowed origins.
#[derive(Debug, Clone)]
pub struct CorsPolicy {
    any: bool,
    origins: Arc<Vec<String>>,
}

impl CorsPolicy {
    pub fn new(origins: &[String]) -> Self {
        CorsPolicy {
            any: origins.iter().any(|o| o == "*"),
            origins: Arc::new(
                origins
                    .iter()
                    .map(|o| o.trim_end_matches('/').to_owned())
                    .collect(),
            ),
        }
    }

    fn allowed(&self, origin: &str) -> bool {
        self.any || self.origins.iter().any(|o| o == origin)
    }

    /// Adds the CORS headers to `res` when `origin` is allowed.
    pub fn apply(&self, origin: Option<&str>, mut res: Response) -> Response {
        if let Some(origin) = origin.filter(|o| self.allowed(o)) {
            if let Ok(value) = HeaderValue::from_str(origin) {
                let headers = res.headers_mut();
                headers.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, value);
                headers.append(header::VARY, HeaderValue::from_static("Origin"));
            }
        }
        res
    }

    /// The answer to a preflight request.
    pub fn preflight(&self, origin: Option<&str>) -> Response {
        let mut res = Response::default();
        *res.status_mut() = StatusCode::NO_CONTENT;
        if origin.is_some_and(|o| self.allowed(o)) {
            let headers = res.headers_mut();
            headers.insert(
                header::ACCESS_CONTROL_ALLOW_METHODS,
                HeaderValue::from_static(ALLOWED_METHODS),
            );
            headers.insert(
                header::ACCESS_CONTROL_ALLOW_HEADERS,
                HeaderValue::from_static(ALLOWED_HEADERS),
            );
            headers.insert(
                header::ACCESS_CONTROL_MAX_AGE,
                HeaderValue::from(PREFLIGHT_MAX_AGE_SECS),
            );
        }
        self.apply(origin, res)
    }
}
