//! The server's one configuration struct, filled by clap from command-line
//! flags and `PUSHWIRE_*` environment variables. Every limit the server
//! enforces lives here with its documented default.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use clap::Parser;

pub use crate::auth::{DEFAULT_MAX_TICKETS, DEFAULT_TICKET_TTL_MS};
/// The hub's limits default to the same values in the binary and the library.
pub use crate::hub::{
    DEFAULT_IDEMPOTENCY_MAX_KEYS, DEFAULT_IDEMPOTENCY_WINDOW_MS, DEFAULT_MAX_EVENT_BYTES,
    DEFAULT_MAX_TOPICS, DEFAULT_MAX_TOPICS_PER_SUBSCRIPTION, DEFAULT_POLL_MAX_BYTES,
    DEFAULT_REPLAY_CAPACITY, DEFAULT_REPLAY_MAX_BYTES, DEFAULT_SUBSCRIBER_QUEUE,
    DEFAULT_SUBSCRIBER_QUEUE_BYTES,
};

/// Default listen address: loopback only, so an unconfigured server is never
/// reachable from the network.
pub const DEFAULT_ADDR: &str = "127.0.0.1:8080";
/// Interval of the heartbeat comment on idle SSE connections: an
/// [`Sse`](crate::Sse) response's default keep-alive.
pub const DEFAULT_HEARTBEAT_MS: u64 = crate::sse::DEFAULT_KEEP_ALIVE.as_millis() as u64;
/// Interval of the monitoring sampler.
pub const DEFAULT_MONITORING_MS: u64 = 500;
/// Open TCP connections accepted at once; more are answered 503.
pub const DEFAULT_MAX_CONNECTIONS: usize = 10_000;
/// Largest accepted publish body, in bytes (64 KiB).
pub const DEFAULT_MAX_BODY_BYTES: usize = 64 * 1024;
/// Time given to connections to finish after SIGINT/SIGTERM.
pub const DEFAULT_SHUTDOWN_GRACE_MS: u64 = 4_000;
/// Longest life of one SSE connection; 0 = unlimited.
pub const DEFAULT_STREAM_LIFETIME_MS: u64 = 0;
/// Longest a client may take to send a request head and its body, in
/// milliseconds; also how long an idle keep-alive connection is kept.
pub const DEFAULT_REQUEST_TIMEOUT_MS: u64 = 30_000;
/// HTTP/2 streams (requests) a client may have open on one connection.
pub const DEFAULT_MAX_STREAMS: u32 = 256;
/// Interval of HTTP/2 keep-alive pings on an idle connection.
pub const DEFAULT_H2_KEEPALIVE_MS: u64 = 30_000;
/// How long an HTTP/2 ping may go unanswered before the connection is dropped.
pub const DEFAULT_H2_KEEPALIVE_TIMEOUT_MS: u64 = 10_000;
/// HTTP/2 flow-control window a client gets per stream for what it sends
/// (request bodies: publishes), in bytes.
pub const DEFAULT_H2_STREAM_WINDOW_BYTES: u32 = 256 * 1024;
/// HTTP/2 flow-control window a client gets per connection, in bytes.
pub const DEFAULT_H2_CONNECTION_WINDOW_BYTES: u32 = 1024 * 1024;
/// Bytes of a response one HTTP/2 stream may have buffered for sending; a
/// stream whose reader stops is not read past it, while the others go on.
pub const DEFAULT_H2_SEND_BUFFER_BYTES: usize = 64 * 1024;
/// The JetStream stream's default name.
pub const DEFAULT_NATS_STREAM: &str = "PUSHWIRE";
/// How long the JetStream stream keeps events by default.
pub const DEFAULT_RETENTION: &str = "24h";

/// `Retry-After` sent with a 503 when the server is full, in seconds.
pub const RETRY_AFTER_SECS: u64 = 1;

/// pushwire: typed real-time server push over Server-Sent Events.
#[derive(Debug, Clone, Parser)]
#[command(name = "pushwire", version, about)]
pub struct Config {
    /// Address to listen on. Binding to a non-loopback address requires --publish-token.
    #[arg(long, env = "PUSHWIRE_ADDR", default_value = DEFAULT_ADDR)]
    pub addr: SocketAddr,

    /// Directory of static files served at `/` (the demo page).
    #[arg(long, env = "PUSHWIRE_WWW_DIR", default_value = "www")]
    pub www_dir: PathBuf,

    /// Events kept per topic for Last-Event-ID replay.
    #[arg(long, env = "PUSHWIRE_REPLAY_CAPACITY", default_value_t = DEFAULT_REPLAY_CAPACITY,
          value_parser = clap::builder::RangedU64ValueParser::<usize>::new().range(1..=1_000_000))]
    pub replay_capacity: usize,

    /// Bytes of encoded events kept for replay across all topics; past it
    /// the oldest events are evicted (publishing never fails for it), and a
    /// resume from before what is kept gets `pushwire.reset`.
    #[arg(long, env = "PUSHWIRE_REPLAY_MAX_BYTES", default_value_t = DEFAULT_REPLAY_MAX_BYTES)]
    pub replay_max_bytes: usize,

    /// Largest event, measured on its encoded SSE frame (a body of newlines
    /// grows about 6× into `data:` lines); larger ones answer 413.
    #[arg(long, env = "PUSHWIRE_MAX_EVENT_BYTES", default_value_t = DEFAULT_MAX_EVENT_BYTES,
          value_parser = clap::builder::RangedU64ValueParser::<usize>::new().range(64..))]
    pub max_event_bytes: usize,

    /// Bytes of frames queued per subscriber; a subscriber that falls further
    /// behind is cut off, its queue released at once, and resumes through replay.
    #[arg(long, env = "PUSHWIRE_SUBSCRIBER_QUEUE_BYTES", default_value_t = DEFAULT_SUBSCRIBER_QUEUE_BYTES)]
    pub subscriber_queue_bytes: usize,

    /// Bytes of event frames one poll response carries at most (always at
    /// least one event); the response says where to continue.
    #[arg(long, env = "PUSHWIRE_POLL_MAX_BYTES", default_value_t = DEFAULT_POLL_MAX_BYTES,
          value_parser = clap::builder::RangedU64ValueParser::<usize>::new().range(1..))]
    pub poll_max_bytes: usize,

    /// Milliseconds a publisher's `Idempotency-Key` is remembered: a retry
    /// with it is answered with the first publish's id, stored once.
    #[arg(long, env = "PUSHWIRE_IDEMPOTENCY_WINDOW_MS", default_value_t = DEFAULT_IDEMPOTENCY_WINDOW_MS)]
    pub idempotency_window_ms: u64,

    /// Idempotency keys remembered at most; past it the oldest is forgotten early.
    #[arg(long, env = "PUSHWIRE_IDEMPOTENCY_MAX_KEYS", default_value_t = DEFAULT_IDEMPOTENCY_MAX_KEYS)]
    pub idempotency_max_keys: usize,

    /// The name of this node, sent as `X-Pushwire-Node` on every response
    /// and in `/api/stats` (default: the host name).
    #[arg(long, env = "PUSHWIRE_NODE_NAME", default_value_t = default_node_name())]
    pub node_name: String,

    /// Frames queued per subscriber; a subscriber that falls further behind is
    /// disconnected and resumes through replay.
    #[arg(long, env = "PUSHWIRE_SUBSCRIBER_QUEUE", default_value_t = DEFAULT_SUBSCRIBER_QUEUE,
          value_parser = clap::builder::RangedU64ValueParser::<usize>::new().range(1..=1_000_000))]
    pub subscriber_queue: usize,

    /// Milliseconds between heartbeat comments on an idle SSE connection.
    #[arg(long, env = "PUSHWIRE_HEARTBEAT_MS", default_value_t = DEFAULT_HEARTBEAT_MS,
          value_parser = clap::value_parser!(u64).range(10..))]
    pub heartbeat_ms: u64,

    /// Milliseconds between samples published on the `monitoring` topic.
    #[arg(long, env = "PUSHWIRE_MONITORING_MS", default_value_t = DEFAULT_MONITORING_MS,
          value_parser = clap::value_parser!(u64).range(10..))]
    pub monitoring_ms: u64,

    /// Open connections accepted at once; more are answered 503 with Retry-After.
    #[arg(long, env = "PUSHWIRE_MAX_CONNECTIONS", default_value_t = DEFAULT_MAX_CONNECTIONS)]
    pub max_connections: usize,

    /// Topics that may hold events at once; publishing to another one beyond
    /// this answers 507. Topics that are only subscribed to take no slot.
    #[arg(long, env = "PUSHWIRE_MAX_TOPICS", default_value_t = DEFAULT_MAX_TOPICS)]
    pub max_topics: usize,

    /// Topics one `/sse/subscribe` connection may follow.
    #[arg(long, env = "PUSHWIRE_MAX_TOPICS_PER_SUBSCRIPTION", default_value_t = DEFAULT_MAX_TOPICS_PER_SUBSCRIPTION)]
    pub max_topics_per_subscription: usize,

    /// Largest accepted publish body in bytes.
    #[arg(long, env = "PUSHWIRE_MAX_BODY_BYTES", default_value_t = DEFAULT_MAX_BODY_BYTES)]
    pub max_body_bytes: usize,

    /// Bearer token required to publish. Required when listening on a non-loopback address.
    #[arg(long, env = "PUSHWIRE_PUBLISH_TOKEN", hide_env_values = true)]
    pub publish_token: Option<String>,

    /// HS256 secret that subscriber and publisher JWTs are signed with.
    /// With it (or --jwt-public-key), topics outside --public-topics need
    /// a token granting them.
    #[arg(
        long,
        env = "PUSHWIRE_JWT_SECRET",
        hide_env_values = true,
        conflicts_with = "jwt_public_key"
    )]
    pub jwt_secret: Option<String>,

    /// PEM public key that JWTs are signed for: RSA (RS256), P-256 (ES256),
    /// P-384 (ES384) or Ed25519 (EdDSA); the key's type fixes the algorithm.
    #[arg(long, env = "PUSHWIRE_JWT_PUBLIC_KEY")]
    pub jwt_public_key: Option<PathBuf>,

    /// When set, a JWT's `aud` must be this.
    #[arg(long, env = "PUSHWIRE_JWT_AUDIENCE")]
    pub jwt_audience: Option<String>,

    /// When set, a JWT's `iss` must be this.
    #[arg(long, env = "PUSHWIRE_JWT_ISSUER")]
    pub jwt_issuer: Option<String>,

    /// Topics anyone may subscribe to and poll without a token once a JWT
    /// key is set (comma-separated selectors: `news`, `public.*`, `*`).
    #[arg(long, env = "PUSHWIRE_PUBLIC_TOPICS", value_delimiter = ',')]
    pub public_topics: Vec<String>,

    /// Milliseconds a ticket from `POST /api/tickets` is accepted (once).
    #[arg(long, env = "PUSHWIRE_TICKET_TTL_MS", default_value_t = DEFAULT_TICKET_TTL_MS,
          value_parser = clap::value_parser!(u64).range(1..=30_000))]
    pub ticket_ttl_ms: u64,

    /// Tickets outstanding at once in the in-memory store; more answer 503
    /// (with --nats, tickets live in a JetStream key-value bucket instead).
    #[arg(long, env = "PUSHWIRE_MAX_TICKETS", default_value_t = DEFAULT_MAX_TICKETS)]
    pub max_tickets: usize,

    /// Mint tokens for a made-up demo user at `POST /demo/token`, valid
    /// this many milliseconds (0 = off). For the demo page's private panel
    /// only: anyone who can reach the server gets one. Needs --jwt-secret
    /// and a loopback --addr.
    #[arg(long, env = "PUSHWIRE_DEMO_TOKEN_TTL_MS", default_value_t = 0,
          value_parser = clap::value_parser!(u64).range(0..=3_600_000))]
    pub demo_token_ttl_ms: u64,

    /// Origins allowed to read responses cross-origin (comma-separated, or `*`).
    #[arg(long, env = "PUSHWIRE_CORS_ORIGINS", value_delimiter = ',')]
    pub cors_origins: Vec<String>,

    /// End every SSE stream cleanly after this many milliseconds (0 = never).
    /// Clients reconnect and resume by id; this rebalances long-lived
    /// connections across servers behind a load balancer.
    #[arg(long, env = "PUSHWIRE_STREAM_LIFETIME_MS", default_value_t = DEFAULT_STREAM_LIFETIME_MS)]
    pub stream_lifetime_ms: u64,

    /// Milliseconds a client may take to send a request head and body (408
    /// past it); also how long an idle keep-alive connection is kept.
    #[arg(long, env = "PUSHWIRE_REQUEST_TIMEOUT_MS", default_value_t = DEFAULT_REQUEST_TIMEOUT_MS,
          value_parser = clap::value_parser!(u64).range(1..))]
    pub request_timeout_ms: u64,

    /// PEM certificate chain to serve HTTPS with (with --tls-key): ALPN
    /// offers HTTP/2 and HTTP/1.1.
    #[arg(long, env = "PUSHWIRE_TLS_CERT", requires = "tls_key")]
    pub tls_cert: Option<PathBuf>,

    /// PEM private key of --tls-cert.
    #[arg(long, env = "PUSHWIRE_TLS_KEY", requires = "tls_cert")]
    pub tls_key: Option<PathBuf>,

    /// Serve HTTPS with a certificate generated at start for `localhost`
    /// and `127.0.0.1`. Development only: refused unless --addr is loopback.
    #[arg(long, env = "PUSHWIRE_TLS_SELF_SIGNED", conflicts_with = "tls_cert")]
    pub tls_self_signed: bool,

    /// HTTP/2: streams (requests, event streams) a client may have open at
    /// once on one connection.
    #[arg(long, env = "PUSHWIRE_MAX_STREAMS", default_value_t = DEFAULT_MAX_STREAMS,
          value_parser = clap::value_parser!(u32).range(1..))]
    pub max_streams: u32,

    /// HTTP/2: milliseconds between keep-alive pings (0 = none).
    #[arg(long, env = "PUSHWIRE_H2_KEEPALIVE_MS", default_value_t = DEFAULT_H2_KEEPALIVE_MS)]
    pub h2_keepalive_ms: u64,

    /// HTTP/2: milliseconds a ping may go unanswered before the connection
    /// is dropped as dead.
    #[arg(long, env = "PUSHWIRE_H2_KEEPALIVE_TIMEOUT_MS", default_value_t = DEFAULT_H2_KEEPALIVE_TIMEOUT_MS,
          value_parser = clap::value_parser!(u64).range(1..))]
    pub h2_keepalive_timeout_ms: u64,

    /// HTTP/2: flow-control window per stream for what a client sends, in bytes.
    #[arg(long, env = "PUSHWIRE_H2_STREAM_WINDOW_BYTES", default_value_t = DEFAULT_H2_STREAM_WINDOW_BYTES,
          value_parser = clap::value_parser!(u32).range(65_535..=2_147_483_647))]
    pub h2_stream_window_bytes: u32,

    /// HTTP/2: flow-control window per connection for what a client sends, in bytes.
    #[arg(long, env = "PUSHWIRE_H2_CONNECTION_WINDOW_BYTES", default_value_t = DEFAULT_H2_CONNECTION_WINDOW_BYTES,
          value_parser = clap::value_parser!(u32).range(65_535..=2_147_483_647))]
    pub h2_connection_window_bytes: u32,

    /// HTTP/2: bytes of a response buffered per stream for sending. A
    /// stream whose reader stops is not read past it (its subscriber is cut
    /// off by --subscriber-queue-bytes and resumes through replay); the
    /// connection's other streams go on.
    #[arg(long, env = "PUSHWIRE_H2_SEND_BUFFER_BYTES", default_value_t = DEFAULT_H2_SEND_BUFFER_BYTES,
          value_parser = clap::builder::RangedU64ValueParser::<usize>::new().range(1024..))]
    pub h2_send_buffer_bytes: usize,

    /// HTTP/2: largest header list a request may carry, in bytes (as
    /// HPACK counts it); larger is refused. The HTTP/1.1 paths' head limit
    /// is the default.
    #[arg(long, env = "PUSHWIRE_H2_MAX_HEADER_LIST_BYTES", default_value_t = crate::conn::MAX_REQUEST_HEAD as u32,
          value_parser = clap::value_parser!(u32).range(1024..))]
    pub h2_max_header_list_bytes: u32,

    /// NATS server URLs (comma-separated): switches the backend from the
    /// embedded in-memory hub to a NATS JetStream stream shared by every
    /// node. Without it nothing else changes and no NATS is needed.
    #[arg(long, env = "PUSHWIRE_NATS", value_delimiter = ',')]
    pub nats: Vec<String>,

    /// The JetStream stream holding every topic (created if missing).
    #[arg(long, env = "PUSHWIRE_NATS_STREAM", default_value = DEFAULT_NATS_STREAM)]
    pub nats_stream: String,

    /// Replicas of the stream: 1, or 3 on a 3-node NATS cluster.
    #[arg(long, env = "PUSHWIRE_NATS_REPLICAS", default_value_t = 1,
          value_parser = clap::builder::RangedU64ValueParser::<usize>::new().range(1..=5))]
    pub nats_replicas: usize,

    /// How long the stream keeps events (`90s`, `30m`, `24h`, `7d`; `0`:
    /// no age limit); `--replay-max-bytes` is its byte limit.
    #[arg(long, env = "PUSHWIRE_RETENTION", default_value = DEFAULT_RETENTION,
          value_parser = parse_duration)]
    pub retention: Duration,

    /// Milliseconds open connections get to finish after SIGINT/SIGTERM.
    #[arg(long, env = "PUSHWIRE_SHUTDOWN_GRACE_MS", default_value_t = DEFAULT_SHUTDOWN_GRACE_MS)]
    pub shutdown_grace_ms: u64,
}

impl Default for Config {
    fn default() -> Self {
        // Parsing no arguments yields exactly the documented defaults,
        // ignoring the environment so tests are not affected by it.
        Config {
            addr: DEFAULT_ADDR.parse().unwrap_or_else(|_| unreachable_addr()),
            www_dir: PathBuf::from("www"),
            replay_capacity: DEFAULT_REPLAY_CAPACITY,
            replay_max_bytes: DEFAULT_REPLAY_MAX_BYTES,
            max_event_bytes: DEFAULT_MAX_EVENT_BYTES,
            subscriber_queue_bytes: DEFAULT_SUBSCRIBER_QUEUE_BYTES,
            poll_max_bytes: DEFAULT_POLL_MAX_BYTES,
            idempotency_window_ms: DEFAULT_IDEMPOTENCY_WINDOW_MS,
            idempotency_max_keys: DEFAULT_IDEMPOTENCY_MAX_KEYS,
            node_name: default_node_name(),
            subscriber_queue: DEFAULT_SUBSCRIBER_QUEUE,
            heartbeat_ms: DEFAULT_HEARTBEAT_MS,
            monitoring_ms: DEFAULT_MONITORING_MS,
            max_connections: DEFAULT_MAX_CONNECTIONS,
            max_topics: DEFAULT_MAX_TOPICS,
            max_topics_per_subscription: DEFAULT_MAX_TOPICS_PER_SUBSCRIPTION,
            max_body_bytes: DEFAULT_MAX_BODY_BYTES,
            publish_token: None,
            jwt_secret: None,
            jwt_public_key: None,
            jwt_audience: None,
            jwt_issuer: None,
            public_topics: Vec::new(),
            ticket_ttl_ms: DEFAULT_TICKET_TTL_MS,
            max_tickets: DEFAULT_MAX_TICKETS,
            demo_token_ttl_ms: 0,
            cors_origins: Vec::new(),
            stream_lifetime_ms: DEFAULT_STREAM_LIFETIME_MS,
            shutdown_grace_ms: DEFAULT_SHUTDOWN_GRACE_MS,
            request_timeout_ms: DEFAULT_REQUEST_TIMEOUT_MS,
            tls_cert: None,
            tls_key: None,
            tls_self_signed: false,
            max_streams: DEFAULT_MAX_STREAMS,
            h2_keepalive_ms: DEFAULT_H2_KEEPALIVE_MS,
            h2_keepalive_timeout_ms: DEFAULT_H2_KEEPALIVE_TIMEOUT_MS,
            h2_stream_window_bytes: DEFAULT_H2_STREAM_WINDOW_BYTES,
            h2_connection_window_bytes: DEFAULT_H2_CONNECTION_WINDOW_BYTES,
            h2_send_buffer_bytes: DEFAULT_H2_SEND_BUFFER_BYTES,
            h2_max_header_list_bytes: crate::conn::MAX_REQUEST_HEAD as u32,
            nats: Vec::new(),
            nats_stream: DEFAULT_NATS_STREAM.to_owned(),
            nats_replicas: 1,
            retention: parse_duration(DEFAULT_RETENTION).unwrap_or_default(),
        }
    }
}

/// A duration as `90s`, `30m`, `24h`, `7d` or plain seconds.
fn parse_duration(text: &str) -> Result<Duration, String> {
    let text = text.trim();
    let (number, unit) = text
        .find(|c: char| !c.is_ascii_digit())
        .map_or((text, ""), |i| text.split_at(i));
    let n: u64 = number
        .parse()
        .map_err(|_| format!("{text:?} is not a duration such as 90s, 30m, 24h or 7d"))?;
    let secs = match unit {
        "" | "s" => 1,
        "m" => 60,
        "h" => 3600,
        "d" => 86_400,
        _ => return Err(format!("unknown unit {unit:?}: use s, m, h or d")),
    };
    Ok(Duration::from_secs(n.saturating_mul(secs)))
}

/// The host name (from `/proc/sys/kernel/hostname` or `HOSTNAME`), else
/// `pushwire`.
pub fn default_node_name() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .ok()
        .or_else(|| std::env::var("HOSTNAME").ok())
        .map(|name| name.trim().to_owned())
        .filter(|name| is_valid_node_name(name))
        .unwrap_or_else(|| "pushwire".to_owned())
}

/// A node name fits in a header: 1 to 64 visible ASCII characters.
fn is_valid_node_name(name: &str) -> bool {
    (1..=64).contains(&name.len()) && name.bytes().all(|b| b.is_ascii_graphic())
}

fn unreachable_addr() -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], 8080))
}

/// A configuration the server refuses to start with.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// Publishing would be open to anyone who can reach the address.
    #[error(
        "refusing to listen on {0} without a publish token: anyone who can reach it could publish. \
         Set --publish-token (PUSHWIRE_PUBLISH_TOKEN) or a JWT key, or listen on a loopback address"
    )]
    PublicWithoutToken(SocketAddr),
    /// The JWT key cannot be used.
    #[error(transparent)]
    JwtKey(#[from] crate::auth::KeyError),
    /// A `--public-topics` entry is not a selector.
    #[error("--public-topics: {0}")]
    PublicTopics(String),
    /// A self-signed certificate is for development on this machine.
    #[error(
        "refusing --tls-self-signed on {0}: a generated certificate is for development on this \
         machine. Listen on a loopback address, or give --tls-cert and --tls-key"
    )]
    SelfSignedInPublic(SocketAddr),
    /// Demo tokens are HS256, signed with `--jwt-secret`.
    #[error("--demo-token-ttl-ms needs --jwt-secret: demo tokens are signed with it")]
    DemoTokensWithoutSecret,
    /// Demo tokens go to anyone who asks: loopback only.
    #[error(
        "refusing to mint demo tokens on {0}: anyone who can reach it would get one. \
         Listen on a loopback address, or leave --demo-token-ttl-ms at 0"
    )]
    DemoTokensInPublic(SocketAddr),
    /// An empty token would match an empty bearer credential.
    #[error("the publish token must not be empty")]
    EmptyToken,
    /// The node name must fit in an HTTP header.
    #[error("--node-name {0:?} must be 1 to 64 visible ASCII characters")]
    InvalidNodeName(String),
    /// The largest event would not fit in replay or in a subscriber's queue.
    #[error(
        "--max-event-bytes ({event}) must not exceed --replay-max-bytes ({replay}) \
         or --subscriber-queue-bytes ({queue}): the largest event must fit in both"
    )]
    EventLargerThanBudget {
        /// `--max-event-bytes`
        event: usize,
        /// `--replay-max-bytes`
        replay: usize,
        /// `--subscriber-queue-bytes`
        queue: usize,
    },
}

impl Config {
    /// Checks the rules that clap cannot express.
    pub fn validate(&self) -> Result<(), ConfigError> {
        if self.publish_token.as_deref() == Some("") {
            return Err(ConfigError::EmptyToken);
        }
        if !is_valid_node_name(&self.node_name) {
            return Err(ConfigError::InvalidNodeName(self.node_name.clone()));
        }
        if self.max_event_bytes > self.replay_max_bytes
            || self.max_event_bytes > self.subscriber_queue_bytes
        {
            return Err(ConfigError::EventLargerThanBudget {
                event: self.max_event_bytes,
                replay: self.replay_max_bytes,
                queue: self.subscriber_queue_bytes,
            });
        }
        let verifier = self.token_verifier()?;
        crate::auth::Selectors::parse(self.public_topics.iter().map(String::as_str))
            .map_err(ConfigError::PublicTopics)?;
        if !self.addr.ip().is_loopback() && self.publish_token.is_none() && verifier.is_none() {
            return Err(ConfigError::PublicWithoutToken(self.addr));
        }
        if self.tls_self_signed && !self.addr.ip().is_loopback() {
            return Err(ConfigError::SelfSignedInPublic(self.addr));
        }
        if self.demo_token_ttl_ms > 0 {
            if self.jwt_secret.is_none() {
                return Err(ConfigError::DemoTokensWithoutSecret);
            }
            if !self.addr.ip().is_loopback() {
                return Err(ConfigError::DemoTokensInPublic(self.addr));
            }
        }
        Ok(())
    }

    /// Heartbeat interval as a duration.
    pub fn heartbeat(&self) -> Duration {
        Duration::from_millis(self.heartbeat_ms)
    }

    /// Stream lifetime, if limited.
    pub fn stream_lifetime(&self) -> Option<Duration> {
        (self.stream_lifetime_ms > 0).then(|| Duration::from_millis(self.stream_lifetime_ms))
    }

    /// The JetStream backend this configuration asks for (`--nats`).
    #[cfg(feature = "jetstream")]
    pub fn jetstream(&self) -> Option<crate::backend::jetstream::JetStreamConfig> {
        if self.nats.is_empty() {
            return None;
        }
        let mut js = crate::backend::jetstream::JetStreamConfig::new(self.nats.clone());
        js.stream = self.nats_stream.clone();
        js.replicas = self.nats_replicas;
        js.max_age = self.retention;
        js.max_bytes = self.replay_max_bytes as u64;
        js.duplicate_window = Duration::from_millis(self.idempotency_window_ms);
        Some(js)
    }

    /// The JWT verifier `--jwt-secret` or `--jwt-public-key` asks for (with
    /// `--jwt-audience` and `--jwt-issuer`), if any.
    pub fn token_verifier(
        &self,
    ) -> Result<Option<crate::auth::TokenVerifier>, crate::auth::KeyError> {
        use crate::auth::TokenVerifier;
        let verifier = match (&self.jwt_secret, &self.jwt_public_key) {
            (Some(secret), _) => TokenVerifier::hs256(secret.as_bytes())?,
            (None, Some(path)) => TokenVerifier::public_key_file(path)?,
            (None, None) => return Ok(None),
        };
        let verifier = match &self.jwt_audience {
            Some(aud) => verifier.audience(aud),
            None => verifier,
        };
        Ok(Some(match &self.jwt_issuer {
            Some(iss) => verifier.issuer(iss),
            None => verifier,
        }))
    }

    /// A hub builder with this configuration's limits.
    pub fn hub_builder(&self) -> crate::HubBuilder {
        crate::Hub::builder()
            .replay_capacity(self.replay_capacity)
            .replay_max_bytes(self.replay_max_bytes)
            .max_event_bytes(self.max_event_bytes)
            .subscriber_queue(self.subscriber_queue)
            .subscriber_queue_bytes(self.subscriber_queue_bytes)
            .poll_max_bytes(self.poll_max_bytes)
            .idempotency_window(Duration::from_millis(self.idempotency_window_ms))
            .idempotency_max_keys(self.idempotency_max_keys)
            .max_topics(self.max_topics)
            .max_topics_per_subscription(self.max_topics_per_subscription)
            .max_tickets(self.max_tickets)
    }

    /// The request timeout as a duration.
    pub fn request_timeout(&self) -> Duration {
        Duration::from_millis(self.request_timeout_ms)
    }

    /// Monitoring sample interval as a duration.
    pub fn monitoring_interval(&self) -> Duration {
        Duration::from_millis(self.monitoring_ms)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_match_the_documented_constants() {
        let parsed = Config::try_parse_from(["pushwire"]).expect("no arguments parse");
        let default = Config::default();
        assert_eq!(parsed.addr, default.addr);
        assert_eq!(parsed.replay_capacity, DEFAULT_REPLAY_CAPACITY);
        assert_eq!(parsed.heartbeat_ms, DEFAULT_HEARTBEAT_MS);
    }

    #[test]
    fn refuses_public_address_without_token() {
        let mut config = Config {
            addr: "0.0.0.0:8080".parse().expect("valid"),
            ..Config::default()
        };
        assert!(matches!(
            config.validate(),
            Err(ConfigError::PublicWithoutToken(_))
        ));
        config.publish_token = Some("secret".into());
        assert!(config.validate().is_ok());
        config.publish_token = Some(String::new());
        assert!(matches!(config.validate(), Err(ConfigError::EmptyToken)));
    }

    #[test]
    fn cors_origins_split_on_commas() {
        let c = Config::try_parse_from(["pushwire", "--cors-origins", "http://a:1,http://b:2"])
            .expect("parses");
        assert_eq!(c.cors_origins, ["http://a:1", "http://b:2"]);
    }
}
