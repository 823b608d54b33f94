//! The publish route without warp's filter tree, for the publishes the lean
//! path reads.
//!
//! Why: on its way to the publish route, a request passes every route
//! listed before it (the demo streams, the demo token, subscribe), and
//! each rejects it through warp's combinators; the route itself then
//! clones the request's headers for its credentials. Measured with
//! callgrind before this shortcut, about 28,000 of the 46,000 instructions
//! a publish and its one delivery cost were spent in warp's routing.
//! Measured with `pushwire-bench --scenarios single` (one subscriber,
//! 2,000 events/s), three alternating invocations of 3 rounds each: median
//! latency 112–122 µs with the shortcut against 125–139 µs without; the
//! server's user-space CPU per publish and delivery (`perf record`, one
//! 10,000-event round) 50.0 µs against 58.6.
//!
//! What it takes: `POST /api/topics/{topic}`, the topic one non-empty path
//! segment, with the `Origin`, `Idempotency-Key` and `Content-Length`
//! headers (each when sent) readable the way warp reads them. It answers
//! through the same [`publish_answer`] as the route, then adds what the
//! route's wrappers add: CORS for an allowed origin, and the node header.
//! Everything else (another method, a trailing slash, a header warp would
//! refuse) goes to the routes as before, so a request the shortcut does
//! not take is answered by warp, and one it takes is answered as warp
//! would: the tests below compare the two, header for header.
//! Connections hyper serves (TLS, HTTP/2, chunked bodies) never reach it.

use std::convert::Infallible;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::Bytes;
use http::{HeaderMap, HeaderValue, Method, Request};
use http_body_util::{BodyExt, Full};
use pushwire_protocol::names::IDEMPOTENCY_KEY_HEADER;
use tower_service::Service;
use warp::reply::Response;

use super::handoff::DeadlineBody;
use super::lean::{self, answer_after_deliveries};
use crate::web::routes::{credentials_of, node_name, publish_answer, with_node_name};
use crate::web::App;

/// The path prefix of the publish route.
const PUBLISH_PREFIX: &str = "/api/topics/";

/// `routes`, with publishes on the lean path served by the shortcut.
#[derive(Clone)]
pub(crate) struct PublishShortcut<R> {
    app: App,
    /// The node header's value, made once.
    node: HeaderValue,
    routes: R,
}

impl<R> PublishShortcut<R> {
    pub(crate) fn new(app: App, routes: R) -> Self {
        PublishShortcut {
            node: node_name(&app),
            app,
            routes,
        }
    }
}

/// What the shortcut reads from a publish it takes.
#[derive(Debug)]
struct Taken {
    topic: String,
    origin: Option<String>,
    idempotency_key: Option<String>,
    content_length: Option<u64>,
}

/// The parts of `req` when the shortcut takes it: a `POST` to
/// `/api/topics/{topic}` whose headers warp would read without a rejection.
fn take<B>(req: &Request<B>) -> Option<Taken> {
    if req.method() != Method::POST {
        return None;
    }
    let topic = req.uri().path().strip_prefix(PUBLISH_PREFIX)?;
    if topic.is_empty() || topic.contains('/') {
        return None;
    }
    let headers = req.headers();
    Some(Taken {
        topic: topic.to_owned(),
        origin: readable(headers, http::header::ORIGIN.as_str())?,
        idempotency_key: readable(headers, IDEMPOTENCY_KEY_HEADER)?,
        content_length: match readable(headers, http::header::CONTENT_LENGTH.as_str())? {
            Some(length) => Some(length.parse().ok()?),
            None => None,
        },
    })
}

/// Header `name` as `warp::header::optional::<String>` reads it: `Some(None)`
/// when absent, `None` when present but not visible ASCII (warp rejects it).
fn readable(headers: &HeaderMap, name: &str) -> Option<Option<String>> {
    match headers.get(name) {
        None => Some(None),
        Some(value) => value.to_str().ok().map(|v| Some(v.to_owned())),
    }
}

impl<R: lean::Routes> lean::Routes for PublishShortcut<R> {
    fn answer(&self, req: Request<Full<Bytes>>) -> Pin<Box<dyn Future<Output = Response> + Send>> {
        let Some(taken) = take(&req) else {
            return self.routes.answer(req);
        };
        let creds = credentials_of(req.headers(), req.uri().query().unwrap_or(""));
        let (app, node) = (self.app.clone(), self.node.clone());
        let body = req.into_body().into_data_stream();
        answer_after_deliveries(async move {
            let res = publish_answer(
                &app,
                &taken.topic,
                &creds,
                taken.idempotency_key.as_deref(),
                taken.content_length,
                body,
            )
            .await;
            with_node_name(app.cors.apply(taken.origin.as_deref(), res), &node)
        })
    }
}

/// Requests hyper serves go to the routes unchanged. (Not for every body
/// type: a `Service` of the lean path's requests would make this a second
/// [`lean::Routes`].)
impl<R> Service<Request<DeadlineBody>> for PublishShortcut<R>
where
    R: Service<Request<DeadlineBody>, Response = Response, Error = Infallible>,
{
    type Response = Response;
    type Error = Infallible;
    type Future = R::Future;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        self.routes.poll_ready(cx)
    }

    fn call(&mut self, req: Request<DeadlineBody>) -> Self::Future {
        self.routes.call(req)
    }
}

#[cfg(test)]
mod tests {
    //! Every publish the shortcut takes is answered by warp's routes and by
    //! the shortcut, on one app, and the two answers must be the same:
    //! status, every header, and the body (a success's event id aside,
    //! which is the next one).
    use super::*;
    use crate::conn::lean::Routes;
    use crate::Config;

    const ALLOWED_ORIGIN: &str = "https://app.example";
    const TOKEN: &str = "s3cret";
    const MAX_BODY: usize = 64;

    fn app(publish_token: Option<&str>) -> App {
        App::new(Config {
            cors_origins: vec![ALLOWED_ORIGIN.to_owned()],
            publish_token: publish_token.map(str::to_owned),
            max_body_bytes: MAX_BODY,
            node_name: "node-a".to_owned(),
            ..Config::default()
        })
    }

    fn request(
        method: &str,
        uri: &str,
        headers: &[(&str, &[u8])],
        body: &str,
    ) -> Request<Full<Bytes>> {
        let mut req = Request::builder().method(method).uri(uri);
        for (name, value) in headers {
            req = req.header(*name, HeaderValue::from_bytes(value).unwrap());
        }
        req.body(Full::new(Bytes::from(body.to_owned()))).unwrap()
    }

    /// Status, headers and body of an answer.
    async fn parts(res: Response) -> (http::StatusCode, HeaderMap, String) {
        let (head, body) = res.into_parts();
        let body = body.collect().await.unwrap().to_bytes();
        (
            head.status,
            head.headers,
            String::from_utf8(body.to_vec()).unwrap(),
        )
    }

    /// The event id in a success's body, and the body with it blanked.
    fn id_of(body: &str) -> (Option<String>, String) {
        let Ok(serde_json::Value::Object(mut map)) = serde_json::from_str(body) else {
            return (None, body.to_owned());
        };
        let id = map.get("id").and_then(|id| id.as_str()).map(str::to_owned);
        if id.is_some() {
            map.insert("id".into(), "<id>".into());
        }
        (id, serde_json::Value::Object(map).to_string())
    }

    /// Answers the request both ways on `app` (warp first) and checks that
    /// the shortcut took it and answered as warp did. Gives the status and
    /// whether the two events ids were equal.
    async fn same_answer(
        app: &App,
        req: impl Fn() -> Request<Full<Bytes>>,
    ) -> (http::StatusCode, bool) {
        assert!(
            take(&req()).is_some(),
            "the shortcut does not take {:?}",
            req()
        );
        let routes = warp::service(crate::web::routes::routes(app.clone()));
        let shortcut = PublishShortcut::new(app.clone(), routes.clone());
        let (status, headers, body) = parts(routes.answer(req()).await).await;
        let (short_status, short_headers, short_body) = parts(shortcut.answer(req()).await).await;
        let (id, body) = id_of(&body);
        let (short_id, short_body) = id_of(&short_body);
        assert_eq!(
            (short_status, &short_headers, &short_body),
            (status, &headers, &body),
            "{:?}",
            req()
        );
        assert_eq!(id.is_some(), short_id.is_some());
        (status, id == short_id)
    }

    const JSON: (&str, &[u8]) = ("content-type", b"application/json");

    /// Header lines of a test request, raw.
    type Headers<'a> = &'a [(&'a str, &'a [u8])];

    const DATA: &str = r#"{"event":"e","data":{"n":1}}"#;
    const TOO_LONG: &str =
        r#"{"data":"more than sixty-four bytes of body, which the limit refuses"}"#;

    /// A publish (`POST`), the status both answers must have, and whether
    /// the two answers carry the same event id (none, or the key's).
    type Case = (&'static str, Headers<'static>, &'static str, u16, bool);

    #[rustfmt::skip]
    const OPEN: &[Case] = &[
        ("/api/topics/t1", &[JSON], DATA, 202, false),
        ("/api/topics/t1", &[], r#"{"text":"plain"}"#, 202, false),
        ("/api/topics/t1?x=1", &[JSON, ("origin", ALLOWED_ORIGIN.as_bytes())], DATA, 202, false),
        ("/api/topics/t1", &[JSON, ("origin", b"https://other.example")], DATA, 202, false),
        // Both publishes carry the key: the second gets the first's id.
        ("/api/topics/t1", &[JSON, ("idempotency-key", b"k-1")], DATA, 202, true),
        ("/api/topics/t1", &[JSON], "{not json", 400, true),
        ("/api/topics/t1", &[JSON], r#"{"data":1,"text":"both"}"#, 400, true),
        ("/api/topics/bad%20topic", &[JSON], DATA, 400, true),
        ("/api/topics/t1", &[JSON, ("content-length", b"65")], DATA, 413, true),
        ("/api/topics/t1", &[JSON], TOO_LONG, 413, true),
        // A token in the URL is refused only where one is needed.
        ("/api/topics/t1?access_token=x", &[JSON], DATA, 202, false),
    ];

    /// With `--publish-token` set to [`TOKEN`].
    #[rustfmt::skip]
    const GUARDED: &[Case] = &[
        ("/api/topics/t1", &[JSON], DATA, 401, true),
        ("/api/topics/t1", &[JSON, ("authorization", b"Bearer wrong")], DATA, 401, true),
        ("/api/topics/t1", &[JSON, ("authorization", b"Bearer s3cret")], DATA, 202, false),
        ("/api/topics/t1?access_token=s3cret", &[JSON], DATA, 401, true),
        ("/api/topics/t1", &[JSON, ("authorization", b"Bearer \xff")], DATA, 401, true),
    ];

    #[tokio::test]
    async fn the_shortcut_answers_every_publish_as_the_route_does() {
        for (app, cases) in [(app(None), OPEN), (app(Some(TOKEN)), GUARDED)] {
            for &(uri, headers, body, status, same_id) in cases {
                let answer = same_answer(&app, || request("POST", uri, headers, body)).await;
                assert_eq!(
                    answer,
                    (http::StatusCode::from_u16(status).unwrap(), same_id)
                );
            }
        }
    }

    #[test]
    fn requests_warp_would_route_or_refuse_otherwise_go_to_warp() {
        let not_taken: [(&str, &str, Headers); 10] = [
            ("GET", "/api/topics/t1", &[]),
            ("PUT", "/api/topics/t1", &[]),
            ("POST", "/api/topics/t1/", &[]),
            ("POST", "/api/topics/", &[]),
            ("POST", "/api/topics/a/b", &[]),
            ("POST", "/api/topics", &[]),
            ("POST", "/api/tickets", &[]),
            ("POST", "/api/topics/t1", &[("origin", b"https://\xffapp")]),
            ("POST", "/api/topics/t1", &[("idempotency-key", b"k\xff")]),
            ("POST", "/api/topics/t1", &[("content-length", b"12a")]),
        ];
        for (method, uri, headers) in not_taken {
            let req = request(method, uri, headers, "");
            assert!(take(&req).is_none(), "{method} {uri} {headers:?}");
        }
        let taken = take(&request(
            "POST",
            "/api/topics/t1?ticket=x",
            &[
                ("origin", b"https://a"),
                ("idempotency-key", b"k"),
                ("content-length", b"12"),
            ],
            "",
        ))
        .unwrap();
        assert_eq!(taken.topic, "t1");
        assert_eq!(taken.origin.as_deref(), Some("https://a"));
        assert_eq!(taken.idempotency_key.as_deref(), Some("k"));
        assert_eq!(taken.content_length, Some(12));
    }
}
