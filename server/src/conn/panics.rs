//! No panic reachable from the network takes the server down or goes
//! unnoticed. A panic while answering a request is caught, logged, counted
//! in `/metrics` (`pushwire_panics_total`) and answered `500` with a JSON
//! error, and the connection is then closed; a panic later in a
//! connection's life (while a stream is written) is caught at the task's
//! edge, logged and counted, and only that connection ends.

use std::any::Any;
use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::sync::Arc;

use futures_util::FutureExt;
use http::{header, HeaderValue, StatusCode};
use warp::reply::Response;
use warp::Reply;

use crate::stats::Stats;
use crate::web::error::ApiError;

/// `fut`'s response, or a `500` when it panics.
///
/// `AssertUnwindSafe`: what a request handler shares with the rest of the
/// server (the hub, the counters) stays consistent across a panic: the hub
/// treats a poisoned lock as usable because every mutation under it is a
/// single step, and counters are atomics.
pub(crate) async fn answer_or_500(fut: impl Future<Output = Response>, stats: &Stats) -> Response {
    match AssertUnwindSafe(fut).catch_unwind().await {
        Ok(res) => res,
        Err(panic) => {
            record(&*panic, stats, "answering a request");
            closing(
                ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "internal error").into_response(),
            )
        }
    }
}

/// Runs a connection's task, catching a panic at its edge.
///
/// Combinators rather than an `async` block: a block would hold `fut`
/// twice (as captured, and as awaited), doubling every connection's task.
pub(crate) fn contain(
    fut: impl Future<Output = ()>,
    stats: Arc<Stats>,
) -> impl Future<Output = ()> {
    AssertUnwindSafe(fut).catch_unwind().map(move |result| {
        if let Err(panic) = result {
            record(&*panic, &stats, "serving a connection");
        }
    })
}

/// Marks a response as the last one on its connection.
pub(crate) fn closing(mut res: Response) -> Response {
    res.headers_mut()
        .insert(header::CONNECTION, HeaderValue::from_static("close"));
    res
}

fn record(panic: &(dyn Any + Send), stats: &Stats, doing: &str) {
    stats.count_panic();
    let message = panic
        .downcast_ref::<&str>()
        .copied()
        .or_else(|| panic.downcast_ref::<String>().map(String::as_str))
        .unwrap_or("(not a string)");
    tracing::error!(
        panic = message,
        "a panic was caught while {doing}; please report it"
    );
}
