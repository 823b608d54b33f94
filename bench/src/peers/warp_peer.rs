//! The naive warp pattern of warp's `sse_chat` example: one unbounded mpsc
//! channel per user in a shared map; publishing walks the map and sends a
//! copy to each. No replay, and no bound on a slow user's queue.

use std::collections::HashMap;
use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use bytes::Bytes;
use futures_util::StreamExt;
use tokio::sync::mpsc;
use tokio_stream::wrappers::UnboundedReceiverStream;
use warp::sse::Event;
use warp::Filter;

type Users = Arc<Mutex<HashMap<usize, mpsc::UnboundedSender<String>>>>;

static NEXT_USER: AtomicUsize = AtomicUsize::new(1);

fn user_connected(
    users: Users,
) -> impl futures_util::Stream<Item = Result<Event, Infallible>> + Send + 'static {
    let id = NEXT_USER.fetch_add(1, Ordering::Relaxed);
    let (tx, rx) = mpsc::unbounded_channel();
    users
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .insert(id, tx);
    UnboundedReceiverStream::new(rx).map(|data| Ok(Event::default().data(data)))
}

fn broadcast(users: &Users, data: String) {
    // Dead users are dropped as their send fails, as in the example.
    users
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .retain(|_, tx| tx.send(data.clone()).is_ok());
}

/// Serves until the process is killed.
pub async fn serve(addr: SocketAddr) {
    let users = Users::default();
    let with_users = {
        let users = users.clone();
        warp::any().map(move || users.clone())
    };
    let sse = warp::path("sse")
        .and(warp::get())
        .and(with_users.clone())
        .map(|users: Users| {
            warp::sse::reply(warp::sse::keep_alive().stream(user_connected(users)))
        });
    let publish = warp::path("publish")
        .and(warp::post())
        .and(warp::body::bytes())
        .and(with_users)
        .map(|body: Bytes, users: Users| {
            broadcast(&users, String::from_utf8_lossy(&body).into_owned());
            "ok"
        });
    warp::serve(sse.or(publish)).run(addr).await;
}
