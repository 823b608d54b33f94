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

#[cfg(test)]
mod tests {
    use std::pin::Pin;
    use std::time::Duration;

    use bytes::Bytes;
    use http::Request;
    use http_body_util::Full;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio::net::{TcpListener, TcpStream};
    use tokio_util::sync::CancellationToken;

    use super::*;
    use crate::conn::lean::{self, Routes};

    /// Routes with a bug: `/boom` panics.
    struct Buggy;

    impl Routes for Buggy {
        fn answer(
            &self,
            req: Request<Full<Bytes>>,
        ) -> Pin<Box<dyn Future<Output = Response> + Send>> {
            Box::pin(async move {
                assert_ne!(req.uri().path(), "/boom", "a bug in a handler");
                warp::reply::html("fine").into_response()
            })
        }
    }

    /// Sends `request` on a fresh connection served by the lean path; the
    /// whole answer, read until the server closes.
    async fn exchange(stats: Arc<Stats>, request: &str) -> String {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let mut client = TcpStream::connect(listener.local_addr().unwrap())
            .await
            .unwrap();
        let (socket, _) = listener.accept().await.unwrap();
        let server = tokio::spawn(async move {
            let token = CancellationToken::new();
            lean::serve(socket, &Buggy, &stats, &token, Duration::from_secs(5)).await
        });
        client.write_all(request.as_bytes()).await.unwrap();
        client.shutdown().await.unwrap();
        let mut answer = String::new();
        client.read_to_string(&mut answer).await.unwrap();
        server.await.unwrap().unwrap();
        answer
    }

    #[tokio::test]
    async fn a_panic_while_answering_is_a_500_that_closes_and_is_counted() {
        let stats = Arc::new(Stats::default());
        let answer = exchange(
            stats.clone(),
            "GET /boom HTTP/1.1\r\nHost: x\r\n\r\nGET /after HTTP/1.1\r\nHost: x\r\n\r\n",
        )
        .await;
        assert!(answer.starts_with("HTTP/1.1 500 "), "{answer}");
        assert!(
            answer.ends_with(r#"{"error":"internal error"}"#),
            "{answer}"
        );
        assert!(answer.contains("connection: close"), "{answer}");
        assert_eq!(answer.matches("HTTP/1.1").count(), 1, "closed after it");
        assert_eq!(stats.snapshot_panics(), 1);
        // The server goes on serving.
        let answer = exchange(
            stats.clone(),
            "GET /ok HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
        )
        .await;
        assert!(answer.starts_with("HTTP/1.1 200 "), "{answer}");
        assert_eq!(stats.snapshot_panics(), 1);
    }

    #[tokio::test]
    async fn a_panic_later_in_a_connection_ends_only_that_task_and_is_counted() {
        let stats = Arc::new(Stats::default());
        contain(async { panic!("while writing a stream") }, stats.clone()).await;
        assert_eq!(stats.snapshot_panics(), 1);
    }
}
