//! The web layer: the [`App`] state, every route in `routes.rs`, one
//! handler file per endpoint in `handlers/`, CORS, JSON errors and query
//! parsing. [`crate::filters`] is its public face.

pub(crate) mod app;
pub(crate) mod cors;
pub(crate) mod error;
pub(crate) mod handlers;
pub(crate) mod query;
pub(crate) mod routes;

pub use app::App;
