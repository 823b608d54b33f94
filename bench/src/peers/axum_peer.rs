//! axum's `Sse` over a tokio `broadcast` channel, as axum's `sse` example and
//! tokio's docs recommend. A subscriber that lags loses the events it missed
//! (`RecvError::Lagged`); there is no replay. With `--tls-cert` and
//! `--tls-key`, the same router over HTTPS ([`serve_tls`]).

use std::convert::Infallible;
use std::net::SocketAddr;
use std::path::Path;
use std::time::Duration;

use axum::extract::State;
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::routing::{get, post};
use axum::Router;
use futures_util::Stream;
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto;
use hyper_util::service::TowerToHyperService;
use tokio::sync::broadcast;
use tokio_stream::wrappers::BroadcastStream;
use tokio_stream::StreamExt;

use crate::tls::HANDSHAKE_TIMEOUT;

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

fn router() -> Router {
    let (tx, _) = broadcast::channel::<String>(super::PEER_QUEUE);
    Router::new()
        .route("/sse", get(subscribe))
        .route("/publish", post(publish))
        .with_state(tx)
}

/// Serves until the process is killed.
pub async fn serve(addr: SocketAddr) -> std::io::Result<()> {
    let listener = tokio::net::TcpListener::bind(addr).await?;
    axum::serve(listener, router()).await
}

/// The same router over HTTPS, until the process is killed: what
/// `axum::serve` does (hyper-util's auto builder, HTTP/1.1 and HTTP/2,
/// hyper's defaults) behind a rustls handshake, as pushwire serves TLS
/// (ring, ALPN `h2` then `http/1.1`, Nagle off, handshakes bounded).
pub async fn serve_tls(addr: SocketAddr, cert: &Path, key: &Path) -> Result<(), String> {
    let acceptor = crate::tls::acceptor(cert, key)?;
    let app = router();
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .map_err(|e| format!("{addr}: {e}"))?;
    loop {
        let socket = match listener.accept().await {
            Ok((socket, _)) => socket,
            Err(_) => {
                // Out of files, most likely: as axum::serve, wait and go on.
                tokio::time::sleep(Duration::from_secs(1)).await;
                continue;
            }
        };
        let _ = socket.set_nodelay(true);
        let (acceptor, app) = (acceptor.clone(), app.clone());
        tokio::spawn(async move {
            let handshake = tokio::time::timeout(HANDSHAKE_TIMEOUT, acceptor.accept(socket));
            let Ok(Ok(stream)) = handshake.await else {
                return;
            };
            let _ = auto::Builder::new(TokioExecutor::new())
                .serve_connection_with_upgrades(TokioIo::new(stream), TowerToHyperService::new(app))
                .await;
        });
    }
}
