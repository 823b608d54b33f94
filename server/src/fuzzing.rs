//! Entry points for the fuzz targets in `fuzz/` and for property tests:
//! the server's parsers of outside input, driven without a network. Hidden
//! from the documentation and not part of the supported API; each function
//! checks the invariants its parser promises and panics when one breaks,
//! which is what a fuzzer reports.

use std::sync::OnceLock;

use futures_util::FutureExt;
use http::StatusCode;

use crate::conn::head::{parse_head, Head, Parsed};
use crate::web::handlers::publish;
use crate::web::query::Query;
use crate::web::App;

/// Serves `app` on `listener` with hyper alone (no lean path), as the
/// reference for the differential test; runs until dropped.
pub async fn serve_hyper_only(listener: tokio::net::TcpListener, app: App) {
    crate::conn::serve_hyper_only(listener, app).await;
}

/// What the lean path decided about a request head, for comparisons.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HeadVerdict {
    /// More bytes are needed.
    Partial,
    /// Served by the lean path, with a body of this many bytes.
    Serve {
        /// The head's length in bytes.
        head_len: usize,
        /// The body's length in bytes.
        body_len: usize,
    },
    /// Handed to hyper.
    HandOff,
    /// Answered with this error status.
    Refuse(u16),
}

/// Parses `bytes` as the start of a request, as the lean HTTP/1.1 path does.
pub fn request_head(bytes: &[u8]) -> HeadVerdict {
    match parse_head(bytes) {
        Parsed::Partial => HeadVerdict::Partial,
        Parsed::Complete(Head::Request(request, body_len), head_len) => {
            assert!(head_len <= bytes.len() && head_len <= crate::MAX_REQUEST_HEAD);
            assert!(request.uri().path().starts_with('/'));
            HeadVerdict::Serve { head_len, body_len }
        }
        Parsed::Complete(Head::ForHyper, _) => HeadVerdict::HandOff,
        Parsed::Complete(Head::Invalid(status, _), _) => {
            assert!(status.is_client_error(), "{status}");
            HeadVerdict::Refuse(status.as_u16())
        }
        Parsed::Complete(Head::Closed | Head::TimedOut, _) => {
            unreachable!("parsing never reports the socket's state")
        }
    }
}

/// Parses a query string as every route does, and reads it as they do.
pub fn query(raw: &str) {
    if let Ok(query) = Query::parse(raw) {
        let topics = query.all("topic");
        assert!(topics.len() <= raw.len());
        let _ = query.get("after");
        if let Ok(limit) = query.u64_in("limit", 100, 1..=1000) {
            assert!((1..=1000).contains(&limit));
        }
    }
}

/// Publishes `body` as `POST /api/topics/fuzz` does, on one in-memory hub
/// shared by every call: a client error or 202, never a panic or a 5xx.
pub fn publish_body(body: &[u8]) -> u16 {
    static APP: OnceLock<App> = OnceLock::new();
    let app = APP.get_or_init(|| App::new(crate::Config::default()));
    // The in-memory backend answers at once: no runtime is needed.
    let answer = publish::publish(app, "fuzz", body, None)
        .now_or_never()
        .expect("the in-memory backend answers at once");
    let status = match answer {
        Ok(res) => res.status(),
        Err(err) => err.status(),
    };
    assert!(
        status == StatusCode::ACCEPTED || status.is_client_error(),
        "{status}"
    );
    status.as_u16()
}
