//! Our own HTTP/1.1 for the common requests: event streams above all, and
//! publishes and other requests with small bodies. The accept loop hands
//! each new connection here first (why: see [the module](super)):
//!
//! * A request with no body or a `Content-Length` body of at most
//!   [`MAX_INLINE_BODY`](super::head::MAX_INLINE_BODY) bytes is parsed with
//!   `httparse` from a small buffer ([`head`](super::head)), answered by the
//!   same warp routes as everything else (routing stays in `routes.rs`), and
//!   its response written straight to the socket
//!   ([`response`](super::response)): sized bodies with `Content-Length`
//!   (head and body in one write), streams with chunked encoding (or until
//!   close for HTTP/1.0). A publish that wakes a few connections (at most
//!   16) is answered after they have run, so its event leaves first
//!   ([`delivery_first`](crate::hub::delivery_first)). While a stream is
//!   open, the connection holds only the stream's own state; a read of a few
//!   bytes on the stack notices a client that hangs up.
//! * Anything else (`HEAD`, chunked or larger bodies, `Expect`, upgrades)
//!   goes to hyper, with the bytes already read replayed in front of the
//!   socket ([`Prefixed`](super::handoff::Prefixed)). From then on hyper owns
//!   the connection.
//!
//! Limits: [`MAX_REQUEST_HEAD`](super::head::MAX_REQUEST_HEAD) bytes and
//! [`MAX_HEADERS`](super::head::MAX_HEADERS) headers per request head (`431`
//! past either, however many writes the head came in), the server's
//! request timeout (`--request-timeout-ms`) to send a request head and
//! body, `Content-Length` of digits only and never two different ones
//! (`400`), exactly one `Host` (`400`), and
//! [`WRITE_STALL_TIMEOUT`](super::response::WRITE_STALL_TIMEOUT) for a client
//! that stops reading altogether.

use std::convert::Infallible;
use std::future::Future;
use std::io;
use std::pin::Pin;
use std::time::{Duration, Instant};

use bytes::{Bytes, BytesMut};
use http::{Request, StatusCode, Version};
use http_body_util::Full;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio_util::sync::CancellationToken;
use warp::reply::Response;
use warp::Reply;

use super::head::{read_head, wants_keep_alive, Head};
use super::panics::answer_or_500;
use super::response::{write_response, After};
use crate::hub::delivery_first::CountWoken;
use crate::stats::Stats;
use crate::web::error::ApiError;

/// After answering and before closing, how long the server keeps reading
/// (and discarding) what the client still sends, and at most how much: a
/// close with unread bytes makes the kernel send a reset, and the client
/// could lose the response it has not read yet.
pub(crate) const LINGER_TIMEOUT: Duration = Duration::from_secs(1);
pub(crate) const LINGER_MAX_BYTES: usize = 64 * 1024;

/// What became of a connection served here.
#[derive(Debug)]
pub(crate) enum Outcome {
    /// Finished: the client or the server closed it.
    Closed,
    /// A request for hyper: the socket, and what was already read from it.
    HandOff(TcpStream, Bytes),
}

/// The routes, as a service answering `http::Request`s. The answer is
/// boxed: the routes' future is large and short-lived, and inline its size
/// would stay in the connection's task for as long as a stream runs.
pub(crate) trait Routes: Send + Sync + 'static {
    fn answer(&self, req: Request<Full<Bytes>>) -> Pin<Box<dyn Future<Output = Response> + Send>>;
}

impl<S> Routes for S
where
    S: tower_service::Service<Request<Full<Bytes>>, Response = Response, Error = Infallible>
        + Clone
        + Send
        + Sync
        + 'static,
    S::Future: Send + 'static,
{
    fn answer(&self, req: Request<Full<Bytes>>) -> Pin<Box<dyn Future<Output = Response> + Send>> {
        let mut service = self.clone();
        // `call` inside too: a service may do its work there.
        answer_after_deliveries(async move {
            match service.call(req).await {
                Ok(res) => res,
                Err(never) => match never {},
            }
        })
    }
}

/// `answer`, boxed, to be written once the subscribers a publish in it woke
/// have written ([`delivery_first`](crate::hub::delivery_first)).
pub(crate) fn answer_after_deliveries<F>(
    answer: F,
) -> Pin<Box<dyn Future<Output = Response> + Send>>
where
    F: Future<Output = Response> + Send + 'static,
{
    Box::pin(async move {
        let (res, gate) = CountWoken::new(answer).await;
        // In the box, not in the connection's future: held across this
        // wait, the response would enlarge every held connection.
        if let Some(delivery_first) = gate {
            delivery_first.await;
        }
        res
    })
}

/// Serves requests on `socket` until it closes, the server shuts down, or a
/// request arrives that hyper must serve. `request_timeout` bounds how long
/// a client may take to send a request head and body, and how long an idle
/// keep-alive connection waits for the next request.
pub(crate) async fn serve<R: Routes>(
    mut socket: TcpStream,
    routes: &R,
    stats: &Stats,
    shutdown: &CancellationToken,
    request_timeout: Duration,
) -> io::Result<Outcome> {
    let mut buf = BytesMut::new();
    loop {
        // Boxed: waiting for a head needs a timer and a shutdown watch, and
        // inline their size would stay in the task for the whole stream.
        let head = Box::pin(async {
            tokio::select! {
                head = tokio::time::timeout(request_timeout, read_head(&socket, &mut buf)) => match head {
                    Ok(head) => head,
                    Err(_) => Ok(Head::TimedOut),
                },
                () = shutdown.cancelled() => Ok(Head::Closed),
            }
        })
        .await?;
        let request = match head {
            Head::Request(request, body_len) => {
                let mut request = *request;
                *request.body_mut() = Full::new(buf.split_to(body_len).freeze());
                request
            }
            Head::ForHyper => return Ok(Outcome::HandOff(socket, buf.freeze())),
            Head::Closed => return Ok(Outcome::Closed),
            Head::TimedOut => {
                if !buf.is_empty() {
                    let err = ApiError::new(
                        StatusCode::REQUEST_TIMEOUT,
                        "request head not received in time",
                    );
                    write_response(
                        &socket,
                        err.into_response(),
                        Version::HTTP_11,
                        false,
                        &mut buf,
                    )
                    .await?;
                    close_gracefully(&mut socket).await;
                }
                return Ok(Outcome::Closed);
            }
            Head::Invalid(status, message) => {
                let res = ApiError::new(status, message).into_response();
                write_response(&socket, res, Version::HTTP_11, false, &mut buf).await?;
                close_gracefully(&mut socket).await;
                return Ok(Outcome::Closed);
            }
        };
        // Release the head buffer before a possibly endless response.
        if buf.is_empty() {
            buf = BytesMut::new();
        }
        let version = request.version();
        let keep_alive = wants_keep_alive(&request);
        let started = Instant::now();
        let res = answer_or_500(routes.answer(request), stats).await;
        stats.record_response(started.elapsed());
        match write_response(&socket, res, version, keep_alive, &mut buf).await? {
            After::KeepAlive => {}
            After::Close => {
                close_gracefully(&mut socket).await;
                return Ok(Outcome::Closed);
            }
            After::PeerGone => return Ok(Outcome::Closed),
        }
    }
}

/// Sends FIN after the response, then reads what the client still sends
/// (bounded by [`LINGER_TIMEOUT`] and [`LINGER_MAX_BYTES`]) so the close
/// does not turn into a reset that destroys the response in flight.
///
/// Boxed: its buffer and timer would otherwise enlarge every connection's
/// task for the rare moment it runs.
fn close_gracefully(socket: &mut TcpStream) -> Pin<Box<dyn Future<Output = ()> + Send + '_>> {
    Box::pin(async move {
        if socket.shutdown().await.is_err() {
            return;
        }
        let mut scratch = [0u8; 1024];
        let mut drained = 0;
        let _ = tokio::time::timeout(LINGER_TIMEOUT, async {
            while drained < LINGER_MAX_BYTES {
                match socket.read(&mut scratch).await {
                    Ok(0) | Err(_) => break,
                    Ok(n) => drained += n,
                }
            }
        })
        .await;
    })
}

#[cfg(test)]
mod size_tests {
    use super::*;

    /// Routes that are never called: only the future's size matters here.
    struct NoRoutes;

    impl Routes for NoRoutes {
        fn answer(
            &self,
            _req: Request<Full<Bytes>>,
        ) -> Pin<Box<dyn Future<Output = Response> + Send>> {
            Box::pin(async { Response::default() })
        }
    }

    /// Every held connection is one task whose size is fixed by this future;
    /// a large inline future (a timer, a buffer, the routes' future) would
    /// silently add to every subscriber's memory. Release builds measure
    /// about 1 KiB; unoptimised ones a few dozen bytes more.
    #[tokio::test]
    async fn a_connection_future_stays_near_one_kib() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let socket = TcpStream::connect(listener.local_addr().unwrap())
            .await
            .unwrap();
        let (stats, token) = (Stats::default(), CancellationToken::new());
        let fut = serve(socket, &NoRoutes, &stats, &token, Duration::from_secs(1));
        let size = std::mem::size_of_val(&fut);
        assert!(size <= 1152, "the connection future grew to {size} bytes");
    }
}

#[cfg(test)]
mod delivery_first_tests {
    //! The order of writes [`crate::hub::delivery_first`] promises, on one
    //! thread as on a worker, with real sockets. A subscriber here is a task
    //! that looks at the publisher's socket (without reading) when its
    //! event arrives: it sees whether the answer was already written.
    //!
    //! Each test runs in a process of its own ([`alone!`]): the gates are
    //! process-wide and the end of *any* connection task's poll opens them.
    //! In a server that only lets an answer out early, but a test starting
    //! servers on another thread of this binary would reorder what the
    //! order test asserts (it failed that way in CI) or release an answer
    //! the release tests expect their own subscriber to release.
    use super::*;
    use crate::hub::delivery_first::ConnectionTask;
    use crate::hub::{Hub, Subscription};
    use futures_util::StreamExt;

    /// `alone! { fn name() { body } }`: a test whose async body runs on a
    /// current-thread runtime in a child process running only that test.
    macro_rules! alone {
        ($(#[doc = $doc:literal])* fn $name:ident() $body:block) => {
            $(#[doc = $doc])*
            #[test]
            fn $name() {
                run_alone(stringify!($name), async move $body);
            }
        };
    }

    /// Runs `body` when this process was started for `test` alone, and
    /// otherwise starts this test binary again for it and checks that
    /// exactly that one test ran and passed.
    fn run_alone(test: &str, body: impl Future<Output = ()>) {
        const ALONE: &str = "PUSHWIRE_TEST_ALONE";
        let module = module_path!().split_once("::").map_or("", |(_, m)| m);
        let name = format!("{module}::{test}");
        if std::env::var(ALONE).is_ok_and(|v| v == name) {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            return runtime.block_on(body);
        }
        let run = std::process::Command::new(std::env::current_exe().unwrap())
            .args([name.as_str(), "--exact", "--test-threads=1"])
            .env(ALONE, &name)
            .output()
            .unwrap();
        let out = String::from_utf8_lossy(&run.stdout);
        assert!(
            run.status.success() && out.contains("test result: ok. 1 passed"),
            "{name}, run alone:\n{out}{}",
            String::from_utf8_lossy(&run.stderr)
        );
    }

    /// A service (the routes' shape) that publishes one event to topic `t`
    /// of its hub per request and answers 202; when given a task, it aborts
    /// that task right after the publish (before the task can run).
    #[derive(Clone)]
    struct Publishing {
        hub: Hub,
        abort_after: Option<tokio::task::AbortHandle>,
    }

    impl Publishing {
        fn to(hub: Hub) -> Self {
            Publishing {
                hub,
                abort_after: None,
            }
        }
    }

    impl tower_service::Service<Request<Full<Bytes>>> for Publishing {
        type Response = Response;
        type Error = Infallible;
        type Future = std::future::Ready<Result<Response, Infallible>>;

        fn poll_ready(
            &mut self,
            _cx: &mut std::task::Context<'_>,
        ) -> std::task::Poll<Result<(), Infallible>> {
            std::task::Poll::Ready(Ok(()))
        }

        fn call(&mut self, _req: Request<Full<Bytes>>) -> Self::Future {
            let mut res = Response::default();
            *res.status_mut() = match self.hub.publish("t", "note", &1) {
                Ok(_) => StatusCode::ACCEPTED,
                Err(_) => StatusCode::INTERNAL_SERVER_ERROR,
            };
            if let Some(task) = &self.abort_after {
                task.abort();
            }
            std::future::ready(Ok(res))
        }
    }

    /// The publisher's client, connected to a server-side socket.
    async fn publisher() -> (std::net::TcpStream, TcpStream) {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let client = std::net::TcpStream::connect(listener.local_addr().unwrap()).unwrap();
        client.set_nonblocking(true).unwrap();
        let (server_side, _) = listener.accept().await.unwrap();
        (client, server_side)
    }

    fn answer_written(client: &std::net::TcpStream) -> bool {
        match client.peek(&mut [0u8; 1]) {
            Ok(_) => true,
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => false,
            Err(e) => panic!("{e}"),
        }
    }

    /// Serves one publish on `server_side` until `watch` finishes.
    async fn publish_while<T>(
        routes: Publishing,
        client: &std::net::TcpStream,
        server_side: TcpStream,
        watch: impl Future<Output = T>,
    ) -> T {
        std::io::Write::write_all(
            &mut &*client,
            b"POST /topics/t HTTP/1.1\r\nHost: t\r\nContent-Length: 0\r\n\r\n",
        )
        .unwrap();
        let (stats, token) = (Stats::default(), CancellationToken::new());
        let serving = serve(server_side, &routes, &stats, &token, Duration::from_secs(5));
        tokio::select! {
            seen = watch => seen,
            end = serving => panic!("the connection ended first: {end:?}"),
        }
    }

    /// A subscription past its first, id-only frame.
    async fn subscribed(hub: &Hub) -> Subscription {
        let mut subscription = hub.subscribe(&["t"], None).unwrap();
        subscription.next().await.unwrap();
        subscription
    }

    /// The first 12 bytes the publisher's client reads, within 10 s.
    async fn answer_head(client: &std::net::TcpStream) -> [u8; 12] {
        let reader = client.try_clone().unwrap();
        let read = async {
            let mut reader = tokio::net::TcpStream::from_std(reader).unwrap();
            let mut head = [0u8; 12];
            reader.read_exact(&mut head).await.unwrap();
            head
        };
        tokio::time::timeout(Duration::from_secs(10), read)
            .await
            .expect("the answer never came")
    }

    alone! {
        /// A connection's subscriber writes its event before the publish's
        /// answer goes out (answering first, the answer is there every time).
        fn a_connection_woken_by_a_publish_runs_before_the_answer_is_written() {
            let hub = Hub::new();
            let (client, server_side) = publisher().await;
            let peek = client.try_clone().unwrap();
            let mut subscription = subscribed(&hub).await;
            let subscriber = tokio::spawn(ConnectionTask::new(async move {
                let event = subscription.next().await.unwrap();
                (event, answer_written(&peek))
            }));
            tokio::task::yield_now().await; // it now waits for its event
            let routes = Publishing::to(hub);
            let (event, answered) = publish_while(routes, &client, server_side, subscriber)
                .await
                .unwrap();
            assert!(
                String::from_utf8_lossy(&event).contains("data: 1\n"),
                "{event:?}"
            );
            assert!(!answered, "the answer was written before the subscriber ran");
        }
    }

    alone! {
        /// A publish to more than [`MAX_REACHED`] connections answers first:
        /// its subscribers all find the answer written.
        fn a_publish_to_many_connections_answers_first() {
            use crate::hub::delivery_first::MAX_REACHED;
            let hub = Hub::new();
            let (client, server_side) = publisher().await;
            let mut subscribers = Vec::new();
            for _ in 0..=MAX_REACHED {
                let peek = client.try_clone().unwrap();
                let mut subscription = subscribed(&hub).await;
                subscribers.push(tokio::spawn(ConnectionTask::new(async move {
                    subscription.next().await.unwrap();
                    answer_written(&peek)
                })));
            }
            tokio::task::yield_now().await;
            let all = async {
                let mut answered = Vec::new();
                for s in subscribers {
                    answered.push(s.await.unwrap());
                }
                answered
            };
            let routes = Publishing::to(hub);
            let answered = publish_while(routes, &client, server_side, tokio::spawn(all))
                .await
                .unwrap();
            assert_eq!(
                answered,
                vec![true; MAX_REACHED + 1],
                "some ran before the answer"
            );
        }
    }

    alone! {
        /// A publish to more than [`MAX_REACHED`] subscribers answers first
        /// even when it wakes only one connection (the others still busy
        /// with earlier events, as on a saturated server).
        fn a_publish_to_many_that_wakes_one_answers_first() {
            use crate::hub::delivery_first::MAX_REACHED;
            let hub = Hub::new();
            let (client, server_side) = publisher().await;
            // Subscribed, never polled: reached, not woken.
            let mut busy = Vec::new();
            for _ in 0..MAX_REACHED {
                busy.push(subscribed(&hub).await);
            }
            let peek = client.try_clone().unwrap();
            let mut subscription = subscribed(&hub).await;
            let subscriber = tokio::spawn(ConnectionTask::new(async move {
                subscription.next().await.unwrap();
                answer_written(&peek)
            }));
            tokio::task::yield_now().await; // it now waits for its event
            let routes = Publishing::to(hub);
            let answered = publish_while(routes, &client, server_side, subscriber)
                .await
                .unwrap();
            assert!(answered, "the answer waited for the one connection woken");
            drop(busy);
        }
    }

    alone! {
        /// A subscriber that is not one of the server's connections (a
        /// stream in a user's own app) does not hold the answer back.
        fn a_subscriber_outside_the_connections_does_not_hold_the_answer() {
            let hub = Hub::new();
            let (client, server_side) = publisher().await;
            let peek = client.try_clone().unwrap();
            let mut subscription = subscribed(&hub).await;
            let subscriber = tokio::spawn(async move {
                subscription.next().await.unwrap();
                answer_written(&peek)
            });
            tokio::task::yield_now().await;
            let routes = Publishing::to(hub);
            let answered = publish_while(routes, &client, server_side, subscriber)
                .await
                .unwrap();
            assert!(answered, "the answer waited for a task that is no connection");
        }
    }

    alone! {
        /// A woken connection that does not read its queue (its client is
        /// slow: it waits to write something else) releases the answer all
        /// the same.
        fn a_woken_connection_that_reads_nothing_releases_the_answer() {
            let hub = Hub::new();
            let (client, server_side) = publisher().await;
            let mut subscription = subscribed(&hub).await;
            let (_never, stuck) = tokio::sync::oneshot::channel::<()>();
            let stalled = tokio::spawn(ConnectionTask::new(async move {
                // Registers its waker with the queue, then waits elsewhere.
                let first = futures_util::poll!(subscription.next());
                assert!(first.is_pending(), "no event yet");
                let _ = stuck.await;
                drop(subscription);
            }));
            tokio::task::yield_now().await;
            let routes = Publishing::to(hub);
            let head = publish_while(routes, &client, server_side, answer_head(&client)).await;
            assert_eq!(&head, b"HTTP/1.1 202");
            stalled.abort();
        }
    }

    alone! {
        /// A woken connection whose task is dropped before it runs (aborted,
        /// or its runtime shutting down) releases the answer too.
        fn a_woken_connection_dropped_before_it_runs_releases_the_answer() {
            let hub = Hub::new();
            let (client, server_side) = publisher().await;
            let mut subscription = subscribed(&hub).await;
            let subscriber = tokio::spawn(ConnectionTask::new(async move {
                subscription.next().await.unwrap();
            }));
            tokio::task::yield_now().await; // it now waits for its event
            let routes = Publishing {
                hub,
                abort_after: Some(subscriber.abort_handle()),
            };
            let head = publish_while(routes, &client, server_side, answer_head(&client)).await;
            assert_eq!(&head, b"HTTP/1.1 202");
            let end = subscriber.await.expect_err("the subscriber was aborted");
            assert!(end.is_cancelled(), "{end}");
        }
    }
}
