//! axum's `Sse` over a tokio `broadcast` channel, as axum's `sse` example and
//! tokio's docs recommend. A subscriber that lags loses the events it missed
//! (`RecvError::Lagged`); there is no replay.

use std::convert::Infallible;
use std::net::SocketAddr;

use axum::extract::State;
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::routing::{get, post};
use axum::Router;
use futures_util::Stream;
use tokio::sync::broadcast;
use tokio_stream::wrappers::BroadcastStream;
use tokio_stream::StreamExt;

async fn subscribe(
    State(tx): State<broadcast::Sender<String>>,
) -> Sse<impl Stream<Item = Result<Event, Infallible>>> {
    let stream = BroadcastStream::new(tx.subscribe())
        .filter_map(|msg| msg.ok().map(|data| Ok(Event::default().data(data))));
    Sse::new(stream).keep_alive(KeepAlive::default())
}

async fn publish(State(tx): State<broadcast::Sender<String>>, body: String) -> &'static str {
    let _ = tx.send(body);
    "ok"
}

/// Serves until the process is killed.
pub async fn serve(addr: SocketAddr) -> std::io::Result<()> {
    let (tx, _) = broadcast::channel::<String>(super::PEER_QUEUE);
    let app = Router::new()
        .route("/sse", get(subscribe))
        .route("/publish", post(publish))
        .with_state(tx);
    let listener = tokio::net::TcpListener::bind(addr).await?;
    axum::serve(listener, app).await
}
