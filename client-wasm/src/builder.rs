//! [`SseClientBuilder`]: an [`SseClient`] configured option by option. The
//! per-option methods are generated from the options table in
//! [`crate::options`].

use crate::client::{ClientError, SseClient};
use crate::options::ClientOptions;

/// Builder of an [`SseClient`].
///
/// ```no_run
/// use std::time::Duration;
/// use pushwire_client::SseClient;
/// use pushwire_protocol::MonitoringData;
///
/// let client = SseClient::builder("/sse/monitoring")
///     .max_reconnect_attempts(10)
///     .reconnect_interval(Duration::from_secs(2))
///     .build()
///     .expect("valid URL");
/// client.on_typed::<MonitoringData>(|m| { let _ = m.cpu_usage; });
/// client.connect();
/// ```
#[derive(Debug, Clone)]
#[must_use = "a builder does nothing until `build`"]
pub struct SseClientBuilder {
    url: String,
    pub(crate) options: ClientOptions,
}

impl SseClientBuilder {
    /// A builder for `url` with the default options.
    pub fn new(url: &str) -> Self {
        SseClientBuilder {
            url: url.to_owned(),
            options: ClientOptions::default(),
        }
    }

    /// All options at once.
    pub fn options(mut self, options: ClientOptions) -> Self {
        self.options = options;
        self
    }

    /// Creates the client (not yet connected).
    pub fn build(self) -> Result<SseClient, ClientError> {
        SseClient::new(&self.url, self.options)
    }
}
