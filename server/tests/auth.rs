//! Private topics: JWT grants for subscribers and publishers, public
//! topics, cookies, single-use tickets, tokens that expire mid-stream, and
//! every way a token is refused, with its status and JSON error. Tokens
//! are signed here with the `jsonwebtoken` crate and the keys in
//! `tests/keys/`.
#![allow(clippy::unwrap_used)]

mod common;

use std::time::Duration;

use common::process::{signal, spawn};
use common::tokens::{at, bearer, grants, hs, sign, SECRET};
use common::{client, datas, ids, SseReader, TestServer};
use jsonwebtoken::{Algorithm, EncodingKey};
use pushwire_protocol::names::{EXPIRED_EVENT, RESET_EVENT};
use serde_json::{json, Value};

const KEYS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/keys");

fn key_file(name: &str) -> Vec<u8> {
    std::fs::read(format!("{KEYS}/{name}")).unwrap()
}

fn b64url(bytes: &[u8]) -> String {
    const ABC: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let n = chunk.iter().fold(0u32, |n, b| n << 8 | u32::from(*b)) << (8 * (3 - chunk.len()));
        for i in 0..=chunk.len() {
            out.push(ABC[(n >> (18 - 6 * i) & 63) as usize] as char);
        }
    }
    out
}

/// A token assembled by hand: any header, any claims, any signature.
fn raw_token(header: &Value, claims: &Value, signature: &str) -> String {
    format!(
        "{}.{}.{signature}",
        b64url(header.to_string().as_bytes()),
        b64url(claims.to_string().as_bytes())
    )
}

/// A server with the HS256 secret; `news` and `public.*` are public.
async fn server() -> TestServer {
    TestServer::start_with(|c| {
        c.jwt_secret = Some(SECRET.into());
        c.public_topics = vec!["news".into(), "public.*".into()];
        c.publish_token = Some("operator".into());
    })
    .await
}

/// `GET path` with `headers`: status, headers, JSON body (`Null` if none).
async fn get(
    server: &TestServer,
    path: &str,
    headers: &[(&str, &str)],
) -> (u16, reqwest::header::HeaderMap, Value) {
    let mut req = client().get(server.url(path));
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    answer(req).await
}

async fn answer(req: reqwest::RequestBuilder) -> (u16, reqwest::header::HeaderMap, Value) {
    let res = req.send().await.unwrap();
    let status = res.status().as_u16();
    let headers = res.headers().clone();
    let is_json = headers
        .get("content-type")
        .is_some_and(|v| v.to_str().unwrap().starts_with("application/json"));
    let body = if is_json {
        res.json().await.unwrap()
    } else {
        Value::Null
    };
    (status, headers, body)
}

/// Asserts a 401 with `WWW-Authenticate: Bearer` and an error mentioning `needle`.
fn assert_401(answer: &(u16, reqwest::header::HeaderMap, Value), needle: &str) {
    let (status, headers, body) = answer;
    assert_eq!(*status, 401, "{body}");
    assert_eq!(headers["www-authenticate"], "Bearer");
    let error = body["error"].as_str().unwrap();
    assert!(
        error.contains(needle),
        "{error:?} should mention {needle:?}"
    );
}

/// The status of subscribing to `topics` with `headers`.
async fn subscribe_status(server: &TestServer, query: &str, headers: &[(&str, &str)]) -> u16 {
    get(server, &format!("/sse/subscribe?{query}"), headers)
        .await
        .0
}

#[tokio::test]
async fn public_topics_need_nothing_and_private_ones_need_a_token() {
    let server = server().await;
    assert_eq!(subscribe_status(&server, "topic=news", &[]).await, 200);
    assert_eq!(subscribe_status(&server, "topic=public.a", &[]).await, 200);
    // A stale cookie does not break public topics: credentials are not read.
    let junk = [("cookie", "pushwire_token=junk")];
    assert_eq!(subscribe_status(&server, "topic=news", &junk).await, 200);

    let none = get(&server, "/sse/subscribe?topic=private.a", &[]).await;
    assert_401(&none, "needs credentials");
    // `public.*` does not cover `public` itself, nor `publicity`.
    assert_eq!(subscribe_status(&server, "topic=public", &[]).await, 401);
    assert_eq!(subscribe_status(&server, "topic=publicity", &[]).await, 401);
    let poll = get(&server, "/api/topics/private.a/events", &[]).await;
    assert_401(&poll, "needs credentials");
    assert_eq!(get(&server, "/api/topics/news/events", &[]).await.0, 200);
}

#[tokio::test]
async fn a_token_reads_exactly_the_topics_it_grants_every_one_of_a_request() {
    let server = server().await;
    let token = hs(&grants(&["private.a", "user.42.*"], &[]));
    let auth = bearer(&token);
    let h = [("authorization", auth.as_str())];
    assert_eq!(subscribe_status(&server, "topic=private.a", &h).await, 200);
    assert_eq!(
        subscribe_status(&server, "topic=user.42.inbox", &h).await,
        200
    );
    assert_eq!(
        subscribe_status(&server, "topic=private.a&topic=news", &h).await,
        200,
        "public topics mix with granted ones"
    );
    let (status, _, body) = get(
        &server,
        "/sse/subscribe?topic=private.a&topic=private.b",
        &h,
    )
    .await;
    assert_eq!(status, 403);
    assert_eq!(
        body["error"],
        "the token does not grant subscribe to topic \"private.b\""
    );
    assert_eq!(subscribe_status(&server, "topic=user.420", &h).await, 403);
    assert_eq!(subscribe_status(&server, "topic=user.42", &h).await, 403);
    assert_eq!(
        get(&server, "/api/topics/private.a/events", &h).await.0,
        200
    );
    let (status, _, body) = get(&server, "/api/topics/private.b/events", &h).await;
    assert_eq!(status, 403, "{body}");

    // The scheme is case-insensitive; the cookie works among others.
    let lower = format!("bearer {token}");
    let h = [("authorization", lower.as_str())];
    assert_eq!(subscribe_status(&server, "topic=private.a", &h).await, 200);
    let cookie = format!("theme=dark; pushwire_token={token}; lang=en");
    let h = [("cookie", cookie.as_str())];
    assert_eq!(subscribe_status(&server, "topic=private.a", &h).await, 200);
}

#[tokio::test]
async fn a_subscriber_receives_the_private_events_it_is_granted() {
    let server = server().await;
    let auth = bearer(&hs(&grants(&["private.*"], &["private.*"])));
    let mut reader = SseReader::open_request(
        client()
            .get(server.url("/sse/subscribe?topic=private.a"))
            .header("authorization", &auth),
    )
    .await;
    assert_eq!(reader.status, 200);
    let mut published = Vec::new();
    for n in 0..3 {
        let res = client()
            .post(server.url("/api/topics/private.a"))
            .header("authorization", &auth)
            .json(&json!({"event": "m", "data": n}))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 202);
        let body: Value = res.json().await.unwrap();
        published.push(body["id"].as_str().unwrap().to_owned());
    }
    let got = reader.events(3).await;
    assert_eq!(ids(&got), published);
    assert_eq!(datas(&got), ["0", "1", "2"]);
}

/// Publishes `{"event":"m","data":1}` on `topic` with `authorization`.
async fn publish_as(
    server: &TestServer,
    topic: &str,
    authorization: Option<&str>,
    cookie: Option<&str>,
) -> (u16, reqwest::header::HeaderMap, Value) {
    let mut req = client()
        .post(server.url(&format!("/api/topics/{topic}")))
        .json(&json!({"event": "m", "data": 1}));
    if let Some(a) = authorization {
        req = req.header("authorization", a);
    }
    if let Some(c) = cookie {
        req = req.header("cookie", c);
    }
    answer(req).await
}

#[tokio::test]
async fn publishing_needs_a_publish_grant_or_the_operator_token() {
    let server = server().await;
    let publisher = bearer(&hs(&grants(&[], &["chat.*"])));
    assert_eq!(
        publish_as(&server, "chat.room", Some(&publisher), None)
            .await
            .0,
        202
    );
    let (status, _, body) = publish_as(&server, "other", Some(&publisher), None).await;
    assert_eq!(status, 403);
    assert_eq!(
        body["error"],
        "the token does not grant publish on topic \"other\""
    );

    // A subscribe-only token cannot publish, not even where it reads.
    let reader = bearer(&hs(&grants(&["chat.*"], &[])));
    assert_eq!(
        publish_as(&server, "chat.room", Some(&reader), None)
            .await
            .0,
        403
    );
    // The operator's static token publishes anywhere (public topics too).
    assert_eq!(
        publish_as(&server, "anything", Some("Bearer operator"), None)
            .await
            .0,
        202
    );
    // A cookie never publishes: another site could make the browser send it.
    let token = hs(&grants(&[], &["*"]));
    let cookie = format!("pushwire_token={token}");
    let answer = publish_as(&server, "chat.room", None, Some(&cookie)).await;
    assert_401(&answer, "Authorization: Bearer");
    assert_401(
        &publish_as(&server, "chat.room", Some("Bearer "), None).await,
        "empty",
    );
}

/// Every refused token: status 401 (431 for oversize) and its message.
#[tokio::test]
async fn every_bad_token_is_refused_with_its_reason() {
    let server = server().await;
    let good = grants(&["*"], &["*"]);
    let valid = hs(&good);
    let [header, payload, signature]: [&str; 3] =
        valid.split('.').collect::<Vec<_>>().try_into().unwrap();

    let rsa = EncodingKey::from_rsa_pem(&key_file("rsa.key")).unwrap();
    let mut missing_exp = good.clone();
    missing_exp.as_object_mut().unwrap().remove("exp");
    let forged_claims = json!({"exp": at(3600), "pushwire": {"subscribe": ["*", "admin"]}});
    let forged = format!(
        "{header}.{}.{signature}",
        b64url(forged_claims.to_string().as_bytes())
    );
    let cases: Vec<(&str, String, &str)> = vec![
        (
            "alg none",
            raw_token(&json!({"alg": "none", "typ": "JWT"}), &good, ""),
            "alg",
        ),
        (
            "RS256 token on an HS256 server",
            sign(Algorithm::RS256, &rsa, &good),
            "alg",
        ),
        (
            "HS256 token signed with another secret",
            sign(
                Algorithm::HS256,
                &EncodingKey::from_secret(b"another secret").unwrap(),
                &good,
            ),
            "signature",
        ),
        ("forged payload", forged, "signature"),
        (
            "expired",
            hs(&json!({"exp": at(-60), "pushwire": {"subscribe": ["*"]}})),
            "expired",
        ),
        ("missing exp", hs(&missing_exp), "exp"),
        ("not a JWT", "not-a-jwt".into(), "well-formed"),
        (
            // The signature is checked before the payload is read.
            "three parts, a garbage payload",
            format!("{header}.!!!.{signature}"),
            "signature",
        ),
        (
            "grants of the wrong type",
            hs(&json!({"exp": at(3600), "pushwire": {"subscribe": "*"}})),
            "well-formed",
        ),
    ];
    let _ = payload;
    for (what, token, needle) in &cases {
        let auth = bearer(token);
        let answer = get(
            &server,
            "/sse/subscribe?topic=private.a",
            &[("authorization", &auth)],
        )
        .await;
        assert_eq!(answer.0, 401, "{what}: {}", answer.2);
        assert_401(&answer, needle);
        let answer = publish_as(&server, "private.a", Some(&auth), None).await;
        assert_eq!(answer.0, 401, "{what} (publish): {}", answer.2);
    }

    // Oversize: 431 from a header or a cookie; just under the limit works.
    let pad = |n: usize| {
        hs(&json!({"exp": at(3600), "pad": "x".repeat(n), "pushwire": {"subscribe": ["*"]}}))
    };
    let big = pad(7000);
    assert!(big.len() > 8 * 1024, "{}", big.len());
    let auth = bearer(&big);
    let (status, _, body) = get(
        &server,
        "/sse/subscribe?topic=private.a",
        &[("authorization", &auth)],
    )
    .await;
    assert_eq!(status, 431, "{body}");
    assert_eq!(body["error"], "the token is longer than 8192 bytes");
    let cookie = format!("pushwire_token={big}");
    let (status, _, _) = get(
        &server,
        "/sse/subscribe?topic=private.a",
        &[("cookie", &cookie)],
    )
    .await;
    assert_eq!(status, 431);
    let fits = pad(5900);
    assert!(
        fits.len() <= 8 * 1024 && fits.len() > 7 * 1024,
        "{}",
        fits.len()
    );
    let auth = bearer(&fits);
    let status = subscribe_status(&server, "topic=private.a", &[("authorization", &auth)]).await;
    assert_eq!(status, 200);

    // Every refusal is counted by reason.
    let metrics = client()
        .get(server.url("/metrics"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    for (reason, n) in [
        ("wrong_algorithm", 4),
        ("bad_signature", 6),
        ("expired", 2),
        ("missing_exp", 2),
        ("malformed", 4),
        ("too_large", 2),
    ] {
        let line = format!("pushwire_auth_failures_total{{reason=\"{reason}\"}} {n}\n");
        assert!(metrics.contains(&line), "{line:?} not in:\n{metrics}");
    }
}

#[tokio::test]
async fn a_token_in_the_url_never_authenticates() {
    let server = server().await;
    let token = hs(&grants(&["*"], &["*"]));
    for param in ["access_token", "token"] {
        let answer = get(
            &server,
            &format!("/sse/subscribe?topic=private.a&{param}={token}"),
            &[],
        )
        .await;
        assert_401(&answer, "in the URL is never accepted");
        let answer = get(
            &server,
            &format!("/api/topics/private.a/events?{param}={token}"),
            &[],
        )
        .await;
        assert_401(&answer, "in the URL is never accepted");
    }
}

#[tokio::test]
async fn audience_and_issuer_are_checked_when_set() {
    let server = TestServer::start_with(|c| {
        c.jwt_secret = Some(SECRET.into());
        c.jwt_audience = Some("pushwire-tests".into());
        c.jwt_issuer = Some("https://issuer.example".into());
    })
    .await;
    let claims = |aud: Option<&str>, iss: Option<&str>| {
        let mut c = grants(&["*"], &[]);
        if let Some(aud) = aud {
            c["aud"] = json!(aud);
        }
        if let Some(iss) = iss {
            c["iss"] = json!(iss);
        }
        hs(&c)
    };
    let ok = Some("pushwire-tests");
    let iss = Some("https://issuer.example");
    for (token, expected, needle) in [
        (claims(ok, iss), 200, ""),
        (claims(Some("another-app"), iss), 401, "aud"),
        (claims(None, iss), 401, "aud"),
        (claims(ok, Some("https://evil.example")), 401, "iss"),
        (claims(ok, None), 401, "iss"),
    ] {
        let auth = bearer(&token);
        let answer = get(
            &server,
            "/sse/subscribe?topic=t",
            &[("authorization", &auth)],
        )
        .await;
        assert_eq!(answer.0, expected, "{}", answer.2);
        if expected == 401 {
            assert_401(&answer, needle);
        }
    }
}

/// A server checking tokens with the public key `file`.
async fn public_key_server(file: &str) -> TestServer {
    let path = format!("{KEYS}/{file}");
    TestServer::start_with(|c| c.jwt_public_key = Some(path.into())).await
}

#[tokio::test]
async fn a_public_key_fixes_the_algorithm_and_no_other_is_taken() {
    let claims = grants(&["*"], &[]);
    let rsa = EncodingKey::from_rsa_pem(&key_file("rsa.key")).unwrap();
    let rsa_other = EncodingKey::from_rsa_pem(&key_file("rsa-other.key")).unwrap();
    let ec = EncodingKey::from_ec_pem(&key_file("ec.key")).unwrap();
    let ed = EncodingKey::from_ed_pem(&key_file("ed.key")).unwrap();

    let status = |server: &TestServer, token: String| {
        let url = server.url("/sse/subscribe?topic=t");
        async move {
            client()
                .get(url)
                .header("authorization", bearer(&token))
                .send()
                .await
                .unwrap()
                .status()
                .as_u16()
        }
    };

    let server = public_key_server("rsa.pub").await;
    assert_eq!(
        status(&server, sign(Algorithm::RS256, &rsa, &claims)).await,
        200
    );
    assert_eq!(
        status(&server, sign(Algorithm::RS256, &rsa_other, &claims)).await,
        401,
        "signed with another key"
    );
    assert_eq!(
        status(&server, sign(Algorithm::RS512, &rsa, &claims)).await,
        401,
        "another RSA algorithm than the key's"
    );
    // Key confusion: the public key used as an HMAC secret.
    let confused = sign(
        Algorithm::HS256,
        &EncodingKey::from_secret(&key_file("rsa.pub")).unwrap(),
        &claims,
    );
    assert_eq!(status(&server, confused).await, 401);
    assert_eq!(
        status(&server, sign(Algorithm::ES256, &ec, &claims)).await,
        401
    );

    let server = public_key_server("ec.pub").await;
    assert_eq!(
        status(&server, sign(Algorithm::ES256, &ec, &claims)).await,
        200
    );
    assert_eq!(
        status(&server, sign(Algorithm::EdDSA, &ed, &claims)).await,
        401
    );

    let server = public_key_server("ed.pub").await;
    assert_eq!(
        status(&server, sign(Algorithm::EdDSA, &ed, &claims)).await,
        200
    );
    assert_eq!(
        status(&server, sign(Algorithm::RS256, &rsa, &claims)).await,
        401
    );
    assert_eq!(status(&server, hs(&claims)).await, 401);
}

/// `POST /api/tickets` with `authorization`.
async fn ticket(server: &TestServer, authorization: Option<&str>) -> (u16, Value) {
    let mut req = client().post(server.url(pushwire_protocol::names::TICKETS_PATH));
    if let Some(a) = authorization {
        req = req.header("authorization", a);
    }
    let (status, headers, body) = answer(req).await;
    if status == 200 {
        assert_eq!(headers["cache-control"], "no-store");
    }
    (status, body)
}

#[tokio::test]
async fn a_ticket_carries_its_tokens_grants_and_is_accepted_once() {
    let server = server().await;
    let auth = bearer(&hs(&grants(&["private.*"], &[])));
    let (status, body) = ticket(&server, Some(&auth)).await;
    assert_eq!(status, 200, "{body}");
    let expires_in = body["expires_in_ms"].as_u64().unwrap();
    assert!(expires_in > 0 && expires_in <= 30_000, "{expires_in}");
    let t = body["ticket"].as_str().unwrap().to_owned();

    let url = format!("/sse/subscribe?topic=private.a&ticket={t}");
    assert_eq!(get(&server, &url, &[]).await.0, 200);
    let replay = get(&server, &url, &[]).await;
    assert_401(&replay, "already used");

    // Its grants, no more.
    let (_, body) = ticket(&server, Some(&auth)).await;
    let t = body["ticket"].as_str().unwrap();
    let (status, _, _) = get(
        &server,
        &format!("/sse/subscribe?topic=secret&ticket={t}"),
        &[],
    )
    .await;
    assert_eq!(status, 403);

    // Polling takes tickets too, once.
    let (_, body) = ticket(&server, Some(&auth)).await;
    let t = body["ticket"].as_str().unwrap();
    let url = format!("/api/topics/private.a/events?ticket={t}");
    assert_eq!(get(&server, &url, &[]).await.0, 200);
    assert_401(&get(&server, &url, &[]).await, "already used");

    // Made-up tickets, and tickets without a bearer token.
    let made_up = get(
        &server,
        "/sse/subscribe?topic=private.a&ticket=00000000000000000000000000000000",
        &[],
    )
    .await;
    assert_401(&made_up, "ticket");
    let (status, body) = ticket(&server, None).await;
    assert_eq!(status, 401, "{body}");
    let token = hs(&grants(&["*"], &[]));
    let res = client()
        .post(server.url(pushwire_protocol::names::TICKETS_PATH))
        .header("cookie", format!("pushwire_token={token}"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 401, "a cookie does not buy a ticket");
    let (status, _) = ticket(&server, Some(&bearer(&hs(&grants(&[], &[]))))).await;
    assert_eq!(status, 200, "any valid token gets a ticket for its grants");
}

#[tokio::test]
async fn a_ticket_past_its_lifetime_is_refused() {
    let server = TestServer::start_with(|c| {
        c.jwt_secret = Some(SECRET.into());
        c.ticket_ttl_ms = 1;
    })
    .await;
    let (status, body) = ticket(&server, Some(&bearer(&hs(&grants(&["*"], &[]))))).await;
    assert_eq!(status, 200);
    assert_eq!(body["expires_in_ms"], 1);
    // The lifetime itself is what is tested: there is no event to wait for.
    tokio::time::sleep(Duration::from_millis(20)).await;
    let t = body["ticket"].as_str().unwrap();
    let answer = get(&server, &format!("/sse/subscribe?topic=t&ticket={t}"), &[]).await;
    assert_401(&answer, "ticket");
}

#[tokio::test]
async fn without_a_jwt_key_tickets_do_not_exist_and_topics_stay_open() {
    let server = TestServer::start().await;
    let (status, body) = ticket(&server, Some("Bearer x")).await;
    assert_eq!(status, 404, "{body}");
    assert_eq!(subscribe_status(&server, "topic=private.a", &[]).await, 200);
}

#[tokio::test]
async fn a_stream_ends_with_pushwire_expired_and_resumes_with_a_fresh_token_losing_nothing() {
    let server = server().await;
    // `exp` is in whole seconds: this token expires one to two seconds from now.
    let short = hs(&json!({"exp": at(2), "pushwire": {"subscribe": ["private.*"]}}));
    let mut reader = SseReader::open_request(
        client()
            .get(server.url("/sse/subscribe?topic=private.a"))
            .header("authorization", bearer(&short)),
    )
    .await;
    assert_eq!(reader.status, 200);
    let publish = |n: u64| {
        let server = &server;
        async move {
            let (status, _, body) =
                publish_as(server, "private.a", Some("Bearer operator"), None).await;
            assert_eq!(status, 202, "{n}: {body}");
            body["id"].as_str().unwrap().to_owned()
        }
    };
    let mut published = vec![publish(0).await, publish(1).await];
    let mut got = reader.events(2).await;
    let rest = reader.rest().await;
    assert!(reader.ended, "the server closed the stream");
    assert_eq!(rest.len(), 1, "{rest:?}");
    assert_eq!(rest[0].event, EXPIRED_EVENT);
    assert_eq!(rest[0].data, r#"{"reason":"token_expired"}"#);
    assert_eq!(
        rest[0].id, got[1].id,
        "the expiry carries no id of its own: the last event's stays"
    );

    // Published while the client was fetching a fresh token.
    published.push(publish(2).await);
    let fresh = hs(&grants(&["private.*"], &[]));
    let mut resumed = SseReader::open_request(
        client()
            .get(server.url("/sse/subscribe?topic=private.a"))
            .header("authorization", bearer(&fresh))
            .header("last-event-id", reader.last_event_id()),
    )
    .await;
    got.extend(resumed.events(1).await);
    assert!(got.iter().all(|e| e.event != RESET_EVENT));
    assert_eq!(ids(&got), published, "every event once, in order");
}

#[tokio::test]
async fn tokens_never_appear_in_the_logs() {
    let (child, base, mut logs) = spawn(&["--jwt-secret", SECRET]).await;
    let valid = hs(&grants(&["*"], &["*"]));
    let invalid = hs(&json!({"exp": at(-10)}));
    let url_token = hs(&grants(&["*"], &[]));
    let requests = [
        client()
            .get(format!("{base}/sse/subscribe?topic=a&lastEventId=x"))
            .header("authorization", bearer(&valid)),
        client()
            .get(format!("{base}/sse/subscribe?topic=a"))
            .header("authorization", bearer(&invalid)),
        client().get(format!(
            "{base}/sse/subscribe?topic=a&access_token={url_token}"
        )),
        client()
            .post(format!("{base}/api/topics/a"))
            .header("authorization", bearer(&valid))
            .json(&json!({"data": 1})),
        client()
            .post(format!("{base}/api/tickets"))
            .header("authorization", bearer(&valid)),
    ];
    for req in requests {
        let res = req.send().await.unwrap();
        drop(res);
    }
    signal(&child, "-TERM").await;
    let mut lines = Vec::new();
    while let Some(line) = logs.recv().await {
        lines.push(line);
    }
    assert!(
        lines.iter().any(|l| l.contains("connection open")),
        "debug logging was on: {lines:#?}"
    );
    for token in [&valid, &invalid, &url_token] {
        // A token's signature part is what must never leak.
        let signature = token.rsplit('.').next().unwrap();
        assert!(
            lines.iter().all(|l| !l.contains(signature)),
            "a token leaked into the log"
        );
    }
}

#[test]
fn a_key_that_cannot_be_used_stops_the_server_at_start_with_the_reason() {
    let run = |args: &[&str]| {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_pushwire"))
            .args(["--addr", "127.0.0.1:0"])
            .args(args)
            .output()
            .unwrap();
        (
            out.status.success(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    let missing = format!("{KEYS}/no-such.pub");
    let (ok, stderr) = run(&["--jwt-public-key", &missing]);
    assert!(!ok);
    assert!(
        stderr.contains("cannot read the JWT public key"),
        "{stderr}"
    );
    // A private key, or any other PEM, is not a public key.
    let private = format!("{KEYS}/rsa.key");
    let (ok, stderr) = run(&["--jwt-public-key", &private]);
    assert!(!ok);
    assert!(stderr.contains("holds no supported public key"), "{stderr}");
    let (ok, stderr) = run(&["--jwt-secret", ""]);
    assert!(!ok);
    assert!(
        stderr.contains("--jwt-secret must not be empty"),
        "{stderr}"
    );
    let (ok, stderr) = run(&["--jwt-secret", "s", "--public-topics", "a*b"]);
    assert!(!ok);
    assert!(stderr.contains("is not a topic selector"), "{stderr}");
    // Demo tokens are signed with the secret, and go to anyone: loopback only.
    let (ok, stderr) = run(&["--demo-token-ttl-ms", "5000"]);
    assert!(!ok);
    assert!(
        stderr.contains("--demo-token-ttl-ms needs --jwt-secret"),
        "{stderr}"
    );
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_pushwire"))
        .args(["--addr", "0.0.0.0:0", "--jwt-secret", "s"])
        .args(["--demo-token-ttl-ms", "5000"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("refusing to mint demo tokens on 0.0.0.0:0"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[tokio::test]
async fn the_demo_user_gets_short_lived_tokens_for_its_private_topics_only_when_asked() {
    let off = server().await;
    let res = client().post(off.url("/demo/token")).send().await.unwrap();
    assert_eq!(res.status(), 404);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["error"], "demo tokens are off (--demo-token-ttl-ms)");

    let server = TestServer::start_with(|c| {
        c.jwt_secret = Some(SECRET.into());
        c.demo_token_ttl_ms = 3000;
    })
    .await;
    let res = client()
        .post(server.url("/demo/token"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()["cache-control"], "no-store");
    let body: Value = res.json().await.unwrap();
    let expires_in_ms = body["expires_in_ms"].as_u64().unwrap();
    assert!((2000..=3000).contains(&expires_in_ms), "{expires_in_ms}");
    let auth = bearer(body["token"].as_str().unwrap());
    let h = [("authorization", auth.as_str())];
    assert_eq!(
        subscribe_status(&server, "topic=private.demo.inbox", &h).await,
        200
    );
    assert_eq!(
        subscribe_status(&server, "topic=private.other", &h).await,
        403
    );
    // It expires: the stream ends with pushwire.expired.
    let mut reader = SseReader::open_request(
        client()
            .get(server.url("/sse/subscribe?topic=private.demo.inbox"))
            .header("authorization", &auth),
    )
    .await;
    let events = reader.events(1).await;
    assert_eq!(events[0].event, EXPIRED_EVENT);
}
