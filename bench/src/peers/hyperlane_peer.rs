//! hyperlane's SSE, written as its own `SseRoute` test and README show it: the
//! route sends a `text/event-stream` head built by `Response::build` (which
//! leaves out `Content-Length` for that type, so the body runs until close)
//! and then writes each event to the connection's `Stream` itself. The
//! events come from a tokio `broadcast` channel, as for the axum peer, since
//! hyperlane has no fan-out of its own. A subscriber that lags loses what it
//! missed; there is no replay.
//!
//! Hooks are built by the framework from the request alone, so the channel
//! lives in a process-wide `OnceLock` (one peer per process).

use std::net::SocketAddr;
use std::sync::OnceLock;

use bytes::Bytes;
use hyperlane::{
    Context, HttpVersion, Server, ServerConfig, ServerControlHook, ServerHook, Status, Stream,
    CONTENT_TYPE, TEXT_EVENT_STREAM, TEXT_PLAIN,
};
use pushwire_protocol::Frame;
use tokio::sync::broadcast;

static CHANNEL: OnceLock<broadcast::Sender<Bytes>> = OnceLock::new();

fn channel() -> &'static broadcast::Sender<Bytes> {
    CHANNEL.get_or_init(|| broadcast::channel(super::PEER_QUEUE).0)
}

/// `GET /sse`: the head, then every broadcast event until the client goes.
struct SseRoute {
    events: broadcast::Receiver<Bytes>,
}

impl ServerHook for SseRoute {
    async fn new(_: &mut Stream, _: &mut Context) -> Self {
        SseRoute {
            events: channel().subscribe(),
        }
    }

    async fn handle(mut self, stream: &mut Stream, ctx: &mut Context) -> Status {
        let head: Vec<u8> = ctx
            .get_mut_response()
            .set_version(HttpVersion::Http1_1)
            .set_status_code(200)
            .set_header(CONTENT_TYPE, TEXT_EVENT_STREAM)
            .set_body(Vec::new())
            .build();
        if stream.try_send(head).await.is_ok() {
            loop {
                match self.events.recv().await {
                    Ok(frame) => {
                        if stream.try_send(&frame).await.is_err() {
                            break;
                        }
                    }
                    Err(broadcast::error::RecvError::Lagged(_)) => continue,
                    Err(broadcast::error::RecvError::Closed) => break,
                }
            }
        }
        stream.set_closed(true);
        Status::Reject
    }
}

/// `POST /publish`: the body becomes one event's data.
struct PublishRoute;

impl ServerHook for PublishRoute {
    async fn new(_: &mut Stream, _: &mut Context) -> Self {
        PublishRoute
    }

    async fn handle(self, stream: &mut Stream, ctx: &mut Context) -> Status {
        let data = String::from_utf8_lossy(ctx.get_request().get_body()).into_owned();
        if let Ok(frame) = Frame::new().data(&data).encode() {
            let _ = channel().send(frame);
        }
        let reply: Vec<u8> = ctx
            .get_mut_response()
            .set_version(HttpVersion::Http1_1)
            .set_status_code(200)
            .set_header(CONTENT_TYPE, TEXT_PLAIN)
            .set_body("ok")
            .build();
        if stream.try_send(reply).await.is_err() {
            stream.set_closed(true);
            return Status::Reject;
        }
        Status::Continue
    }
}

/// Serves until the process is killed.
pub async fn serve(addr: SocketAddr) -> Result<(), String> {
    let mut config = ServerConfig::default();
    config.set_address(addr.to_string()).set_nodelay(Some(true));
    let mut server = Server::default();
    server.server_config(config);
    server.route::<SseRoute>("/sse");
    server.route::<PublishRoute>("/publish");
    let control: ServerControlHook = server.run().await.map_err(|e| e.to_string())?;
    control.wait().await;
    Ok(())
}
