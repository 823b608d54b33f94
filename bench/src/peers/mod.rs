//! The peer servers, written as their own documentation recommends, serving
//! the same workload as pushwire: `GET /sse` follows one broadcast topic,
//! `POST /publish` broadcasts the request body as one event's data.

pub mod axum_peer;
pub mod hyperlane_peer;
pub mod warp_peer;

/// Broadcast capacity of the peers' channels: as deep as pushwire's
/// default subscriber queue, so neither side wins by buffering more.
pub const PEER_QUEUE: usize = 256;
