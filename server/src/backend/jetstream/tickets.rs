//! Single-use tickets in a JetStream key-value bucket, so that a ticket
//! issued by one node is taken once on any node.
//!
//! The bucket (`<stream>_TICKETS`) is opened, or created, on first use.
//! It is created as the stream a key-value bucket is made of, not with
//! `create_key_value`: async-nats 0.51 first asks for the account's
//! details, and cannot read nats-server 2.9's answer (measured: "data did
//! not match any variant of untagged enum Response").
//! A ticket is stored as `t.<ticket>`; taking it reads that key, then
//! creates `used.<ticket>`: JetStream's create succeeds for one caller
//! only (an expected-last-sequence check on the server), so of any number
//! of nodes taking one ticket at once, exactly one gets its value.

use std::time::Duration;

use async_nats::jetstream::kv::{self, CreateErrorKind};
use async_nats::jetstream::stream;
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
                if let Ok(store) = self.js.get_key_value(&bucket).await {
                    return Ok(store);
                }
                // What `create_key_value` would create for this bucket.
                self.js
                    .get_or_create_stream(stream::Config {
                        name: format!("KV_{bucket}"),
                        subjects: vec![format!("$KV.{bucket}.>")],
                        max_messages_per_subject: 1,
                        max_age: BUCKET_MAX_AGE,
                        num_replicas: self.replicas,
                        allow_rollup: true,
                        deny_delete: true,
                        allow_direct: true,
                        discard: stream::DiscardPolicy::New,
                        storage: stream::StorageType::File,
                        ..Default::default()
                    })
                    .await
                    .map_err(|e| unavailable_because("the ticket bucket", &e))?;
                self.js
                    .get_key_value(&bucket)
                    .await
                    .map_err(|e| unavailable_because("the ticket bucket", &e))
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
