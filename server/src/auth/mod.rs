//! Authorisation: who may subscribe to, poll and publish on which topics.
//!
//! Without `--jwt-secret` or `--jwt-public-key` every topic is open (and
//! `--publish-token`, when set, guards publishing, as before). With one:
//!
//! - topics matching `--public-topics` may be subscribed to and polled by
//!   anyone, without credentials (any sent are not looked at);
//! - every other topic needs a JWT whose `pushwire.subscribe` grant covers
//!   it — every topic of a request, not some;
//! - publishing needs the operator's `--publish-token` or a JWT whose
//!   `pushwire.publish` grant covers the topic.
//!
//! Credentials come from `Authorization: Bearer`, a single-use `?ticket=`,
//! or the `pushwire_token` cookie, in that order ([`Credentials`]). The
//! cookie is taken for reading only (subscribe, poll): a request with side
//! effects authenticated by an ambient cookie could be forged by another
//! site. Failures are answered 401 (none, invalid, expired), 403 (valid but
//! not granted) or 431 (over 8 KiB), and counted in `/metrics` by reason.

mod credentials;
mod selector;
mod tickets;
mod token;

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use http::StatusCode;
use pushwire_protocol::Ticket;
use subtle::ConstantTimeEq;

pub use credentials::{Credentials, MAX_TOKEN_BYTES};
pub use selector::{Selector, Selectors};
pub use tickets::{DEFAULT_MAX_TICKETS, DEFAULT_TICKET_TTL_MS};
pub use token::{Grants, KeyError, TokenError, TokenVerifier, VerifiedToken};

use crate::backend::Backend;
use crate::config::Config;
use crate::hub::HubError;
use crate::stats::Stats;
use crate::web::error::ApiError;

/// Why a request was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AuthError {
    /// No credentials for a topic that needs them.
    Missing,
    /// A token in the URL, which is never accepted.
    TokenInUrl,
    /// A token over [`MAX_TOKEN_BYTES`].
    TooLarge,
    /// An `Authorization` header that is not text.
    Malformed,
    /// `Authorization: Bearer` with nothing after it.
    EmptyToken,
    /// The token does not verify.
    Token(TokenError),
    /// The ticket is unknown, used or expired.
    Ticket,
    /// Valid credentials without the grant.
    Forbidden {
        /// `subscribe to` or `publish on`.
        action: &'static str,
        /// The topic not granted.
        topic: String,
    },
    /// Not the operator's `--publish-token`, and no JWT key to try.
    WrongPublishToken,
    /// Publishing needs `Authorization: Bearer`.
    PublishNeedsBearer,
    /// Tickets need an `Authorization: Bearer` token.
    TicketNeedsBearer,
    /// Tickets exist only with a JWT key configured.
    TicketsDisabled,
    /// The JWT key configured could not be loaded (the server refuses
    /// rather than opens).
    Misconfigured(String),
    /// The ticket store cannot be reached.
    Unavailable(String),
}

impl AuthError {
    /// The reason as counted in `/metrics`.
    pub fn label(&self) -> &'static str {
        match self {
            AuthError::Missing => "missing",
            AuthError::TokenInUrl => "token_in_url",
            AuthError::TooLarge => "too_large",
            AuthError::Malformed | AuthError::EmptyToken => "malformed",
            AuthError::Token(e) => e.label(),
            AuthError::Ticket => "ticket",
            AuthError::Forbidden { .. } => "forbidden",
            AuthError::WrongPublishToken => "wrong_publish_token",
            AuthError::PublishNeedsBearer | AuthError::TicketNeedsBearer => "missing",
            AuthError::TicketsDisabled => "tickets_disabled",
            AuthError::Misconfigured(_) => "misconfigured",
            AuthError::Unavailable(_) => "unavailable",
        }
    }
}

/// Every label [`AuthError::label`] gives, for `/metrics`.
pub(crate) const FAILURE_LABELS: [&str; 16] = [
    "missing",
    "token_in_url",
    "too_large",
    "malformed",
    "expired",
    "missing_exp",
    "wrong_algorithm",
    "bad_signature",
    "wrong_audience",
    "wrong_issuer",
    "ticket",
    "forbidden",
    "wrong_publish_token",
    "tickets_disabled",
    "misconfigured",
    "unavailable",
];

impl From<AuthError> for ApiError {
    fn from(err: AuthError) -> ApiError {
        use AuthError::*;
        let unauthorized = |m: &str| ApiError::new(StatusCode::UNAUTHORIZED, m);
        match err {
            Missing => unauthorized(
                "this topic needs credentials: send Authorization: Bearer <token>, \
                 the pushwire_token cookie, or a ticket from POST /api/tickets",
            ),
            TokenInUrl => unauthorized(
                "a token in the URL is never accepted (URLs end up in logs): send \
                 Authorization: Bearer <token>, the pushwire_token cookie, or a ticket",
            ),
            TooLarge => ApiError::new(
                StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE,
                format!("the token is longer than {MAX_TOKEN_BYTES} bytes"),
            ),
            Malformed => unauthorized("the Authorization header is not valid text"),
            EmptyToken => unauthorized("the bearer token is empty"),
            Token(e) => unauthorized(e.message()),
            Ticket => unauthorized("the ticket is unknown, expired or already used"),
            Forbidden { action, topic } => ApiError::new(
                StatusCode::FORBIDDEN,
                format!("the token does not grant {action} topic {topic:?}"),
            ),
            WrongPublishToken => unauthorized("wrong publish token"),
            PublishNeedsBearer => {
                unauthorized("publishing requires the header Authorization: Bearer <token>")
            }
            TicketNeedsBearer => {
                unauthorized("a ticket requires the header Authorization: Bearer <token>")
            }
            TicketsDisabled => ApiError::new(
                StatusCode::NOT_FOUND,
                "tickets need a JWT key (--jwt-secret or --jwt-public-key)",
            ),
            Misconfigured(m) => ApiError::new(StatusCode::SERVICE_UNAVAILABLE, m),
            Unavailable(m) => ApiError::new(StatusCode::SERVICE_UNAVAILABLE, m),
        }
    }
}

/// How tokens are checked.
#[derive(Debug)]
enum Keys {
    /// No JWT configured: topics are open.
    None,
    /// Boxed: held once per server, the enum stays small.
    Verifier(Box<TokenVerifier>),
    /// The key configured could not be loaded: every protected request is
    /// refused (503), never let through.
    Broken(String),
}

/// The server's authorisation rules. Cheap to clone.
#[derive(Debug, Clone)]
pub struct Auth {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    keys: Keys,
    public: Selectors,
    publish_token: Option<String>,
    ticket_ttl: Duration,
    stats: Arc<Stats>,
}

impl Auth {
    /// The rules `config` sets; a key that cannot be loaded is logged and
    /// makes every protected request answer 503 (see
    /// [`Config::validate`], which the binary runs first and which refuses
    /// to start with it).
    pub(crate) fn from_config(config: &Config, stats: Arc<Stats>) -> Auth {
        let keys = match config.token_verifier() {
            Ok(None) => Keys::None,
            Ok(Some(verifier)) => Keys::Verifier(Box::new(verifier)),
            Err(e) => {
                tracing::error!(error = %e, "JWT key not loaded: protected topics are refused");
                Keys::Broken(format!("authorisation is misconfigured: {e}"))
            }
        };
        let public =
            Selectors::parse(config.public_topics.iter().map(String::as_str)).unwrap_or_default();
        Auth {
            inner: Arc::new(Inner {
                keys,
                public,
                publish_token: config.publish_token.clone(),
                ticket_ttl: Duration::from_millis(config.ticket_ttl_ms),
                stats,
            }),
        }
    }

    /// Counts a refusal by reason, and passes it on.
    fn fail<T>(&self, err: AuthError) -> Result<T, AuthError> {
        self.inner.stats.count_auth_failure(err.label());
        Err(err)
    }

    /// The verifier, if JWTs are configured.
    fn verifier(&self) -> Result<Option<&TokenVerifier>, AuthError> {
        match &self.inner.keys {
            Keys::None => Ok(None),
            Keys::Verifier(v) => Ok(Some(v)),
            Keys::Broken(m) => Err(AuthError::Misconfigured(m.clone())),
        }
    }

    /// May `creds` subscribe to (or poll) every one of `topics`? `Ok` with
    /// when its access ends: `None` for open or public topics, the token's
    /// `exp` otherwise. A ticket is used up by this call.
    pub async fn subscriber(
        &self,
        backend: &dyn Backend,
        creds: &Credentials,
        topics: &[String],
    ) -> Result<Option<SystemTime>, AuthError> {
        let result = async {
            let Some(verifier) = self.verifier()? else {
                return Ok(None);
            };
            if topics.iter().all(|t| self.inner.public.matches(t)) {
                return Ok(None);
            }
            if let Some(problem) = &creds.problem {
                return Err(problem.clone());
            }
            let token = if let Some(bearer) = &creds.bearer {
                verify(verifier, bearer)?
            } else if let Some(ticket) = &creds.ticket {
                take_ticket(backend, ticket).await?
            } else if let Some(cookie) = &creds.cookie {
                verify(verifier, cookie)?
            } else if creds.token_in_url {
                return Err(AuthError::TokenInUrl);
            } else {
                return Err(AuthError::Missing);
            };
            let denied = topics
                .iter()
                .find(|t| !self.inner.public.matches(t) && !token.grants.subscribe.matches(t));
            if let Some(topic) = denied {
                return Err(AuthError::Forbidden {
                    action: "subscribe to",
                    topic: topic.clone(),
                });
            }
            Ok(Some(token.expires_at))
        }
        .await;
        result.or_else(|e| self.fail(e))
    }

    /// May `creds` publish on `topic`? The operator's `--publish-token`
    /// (compared in constant time) or a JWT with a `publish` grant, sent
    /// as `Authorization: Bearer`.
    pub fn publisher(&self, creds: &Credentials, topic: &str) -> Result<(), AuthError> {
        let result = (|| {
            let verifier = self.verifier()?;
            let operator = self.inner.publish_token.as_deref();
            if verifier.is_none() && operator.is_none() {
                return Ok(());
            }
            let bearer = required_bearer(creds, AuthError::PublishNeedsBearer)?;
            if operator.is_some_and(|t| bool::from(bearer.as_bytes().ct_eq(t.as_bytes()))) {
                return Ok(());
            }
            let Some(verifier) = verifier else {
                return Err(AuthError::WrongPublishToken);
            };
            let token = verify(verifier, bearer)?;
            if token.grants.publish.matches(topic) {
                Ok(())
            } else {
                Err(AuthError::Forbidden {
                    action: "publish on",
                    topic: topic.to_owned(),
                })
            }
        })();
        result.or_else(|e| self.fail(e))
    }

    /// `POST /api/tickets`: a single-use ticket carrying the grants of the
    /// bearer token, kept by `backend` for `--ticket-ttl-ms` (never longer
    /// than the token lives).
    pub async fn issue_ticket(
        &self,
        backend: &dyn Backend,
        creds: &Credentials,
    ) -> Result<Ticket, AuthError> {
        let result = async {
            let Some(verifier) = self.verifier()? else {
                return Err(AuthError::TicketsDisabled);
            };
            let bearer = required_bearer(creds, AuthError::TicketNeedsBearer)?;
            let token = verify(verifier, bearer)?;
            let ttl = tickets::lifetime(&token, self.inner.ticket_ttl);
            let ticket = tickets::new_ticket();
            backend
                .store_ticket(&ticket, tickets::encode(&token, ttl), ttl)
                .await
                .map_err(|e| AuthError::Unavailable(e.to_string()))?;
            Ok(Ticket {
                ticket,
                expires_in_ms: ttl.as_millis() as u64,
            })
        }
        .await;
        result.or_else(|e| self.fail(e))
    }
}

/// The bearer token a request with side effects needs (`missing` when
/// there is none: a cookie does not count).
fn required_bearer(creds: &Credentials, missing: AuthError) -> Result<&str, AuthError> {
    if let Some(problem) = &creds.problem {
        return Err(problem.clone());
    }
    match creds.bearer.as_deref() {
        None => Err(missing),
        Some("") => Err(AuthError::EmptyToken),
        Some(bearer) => Ok(bearer),
    }
}

fn verify(verifier: &TokenVerifier, token: &str) -> Result<VerifiedToken, AuthError> {
    if token.is_empty() {
        return Err(AuthError::EmptyToken);
    }
    verifier.verify(token).map_err(AuthError::Token)
}

/// Uses up `ticket`; its token must still be valid.
async fn take_ticket(backend: &dyn Backend, ticket: &str) -> Result<VerifiedToken, AuthError> {
    if !tickets::is_well_formed(ticket) {
        return Err(AuthError::Ticket);
    }
    let stored = backend.take_ticket(ticket).await.map_err(|e| match e {
        HubError::Unavailable(m) => AuthError::Unavailable(m),
        other => AuthError::Unavailable(other.to_string()),
    })?;
    let token = stored
        .as_deref()
        .and_then(tickets::decode)
        .ok_or(AuthError::Ticket)?;
    if token.expires_at <= SystemTime::now() {
        return Err(AuthError::Token(TokenError::Expired));
    }
    Ok(token)
}
