//! Single-use tickets in a JetStream key-value bucket, so that a ticket
//! issued by one node is taken once on any node.
//!
//! The bucket (`<stream>_TICKETS`) is opened, or created, on first use.
//! A ticket is stored as `t.<ticket>`; taking it reads that key, then
//! creates `used.<ticket>`: JetStream's create succeeds for one caller
//! only (an expected-last-sequence check on the server), so of any number
//! of nodes taking one ticket at once, exactly one gets its value.

use std::time::Duration;

use async_nats::jetstream::kv::{self, CreateErrorKind};
use bytes::Bytes;

use super::{unavailable_because, Inner};
use crate::hub::HubError;

/// How long the bucket keeps any entry: the longest ticket lifetime
/// (`--ticket-ttl-ms` is at most 30 s) with room to spare. A ticket's own
/// deadline is checked from its value, so this only bounds the bucket.
const BUCKET_MAX_AGE: Duration = Duration::from_secs(60);

impl Inner {
    /// The ticket bucket, opened or created once.
    async fn tickets(&self) -> Result<&kv::Store, HubError> {
        self.tickets
            .get_or_try_init(|| async {
                let bucket = format!("{}_TICKETS", self.stream);
                match self.js.get_key_value(&bucket).await {
                    Ok(store) => Ok(store),
                    Err(_) => self
                        .js
                        .create_key_value(kv::Config {
                            bucket,
                            history: 1,
                            max_age: BUCKET_MAX_AGE,
                            num_replicas: self.replicas,
                            ..Default::default()
                        })
                        .await
                        .map_err(|e| unavailable_because("the ticket bucket", &e)),
                }
            })
            .await
    }

    pub(super) async fn store_ticket(&self, ticket: &str, value: Bytes) -> Result<(), HubError> {
        let store = self.tickets().await?;
        store
            .put(format!("t.{ticket}"), value)
            .await
            .map_err(|e| unavailable_because("storing the ticket", &e))?;
        Ok(())
    }

    pub(super) async fn take_ticket(&self, ticket: &str) -> Result<Option<Bytes>, HubError> {
        let store = self.tickets().await?;
        let Some(value) = store
            .get(format!("t.{ticket}"))
            .await
            .map_err(|e| unavailable_because("reading the ticket", &e))?
        else {
            return Ok(None);
        };
        match store.create(format!("used.{ticket}"), Bytes::new()).await {
            Ok(_) => Ok(Some(value)),
            Err(e) if e.kind() == CreateErrorKind::AlreadyExists => Ok(None),
            Err(e) => Err(unavailable_because("using the ticket", &e)),
        }
    }
}
