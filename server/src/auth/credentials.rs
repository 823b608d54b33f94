//! `Credentials`: what a request brings to prove who it is — a bearer
//! token (`Authorization: Bearer`, scheme in any case), the
//! `pushwire_token` cookie, or a single-use `?ticket=` — gathered as one
//! value before anything is checked. A token in the URL (`access_token`,
//! `token`) is noticed only to be refused: URLs end up in logs.

use http::header::{AUTHORIZATION, COOKIE};
use http::HeaderMap;
use pushwire_protocol::names::{TICKET_PARAM, TOKEN_COOKIE};

use super::AuthError;
use crate::web::query::Query;

/// Longest token accepted, in bytes, from a header or the cookie; longer
/// ones answer 431 before any parsing.
pub const MAX_TOKEN_BYTES: usize = 8 * 1024;

/// Query parameters that would carry a token in a URL, and never do.
const URL_TOKEN_PARAMS: [&str; 2] = ["access_token", "token"];

/// A request's credentials, unchecked.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Credentials {
    /// From `Authorization: Bearer <token>` (wins over the cookie).
    pub bearer: Option<String>,
    /// From the `pushwire_token` cookie.
    pub cookie: Option<String>,
    /// From `?ticket=`.
    pub ticket: Option<String>,
    /// The URL carried `access_token` or `token`, which is refused.
    pub token_in_url: bool,
    /// What made the credentials unreadable (an oversize token, an
    /// `Authorization` that is not text): the answer wherever credentials
    /// are needed.
    pub problem: Option<AuthError>,
}

impl Credentials {
    /// Reads the credentials of a request; an `Authorization` that is not
    /// `Bearer` counts as none. Nothing is refused here: a problem is kept
    /// for when credentials are needed (a public topic never needs them).
    pub fn from_request(headers: &HeaderMap, query: &Query) -> Credentials {
        let mut problem = None;
        let bearer = match headers.get(AUTHORIZATION).map(|v| v.to_str()) {
            Some(Ok(value)) => bearer_token(value),
            Some(Err(_)) => {
                problem = Some(AuthError::Malformed);
                None
            }
            None => None,
        };
        let cookie = headers
            .get_all(COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .find_map(|v| cookie_value(v, TOKEN_COOKIE));
        let mut keep = |token: Option<&str>| match token {
            Some(t) if t.len() > MAX_TOKEN_BYTES => {
                problem = Some(AuthError::TooLarge);
                None
            }
            t => t.map(str::to_owned),
        };
        let (bearer, cookie) = (keep(bearer), keep(cookie));
        Credentials {
            bearer,
            cookie,
            ticket: query.get(TICKET_PARAM).map(str::to_owned),
            token_in_url: URL_TOKEN_PARAMS.iter().any(|p| query.get(p).is_some()),
            problem,
        }
    }

    /// The token to verify: the bearer token, else the cookie's.
    pub fn token(&self) -> Option<&str> {
        self.bearer.as_deref().or(self.cookie.as_deref())
    }

    /// Whether the request brought anything at all.
    pub fn is_empty(&self) -> bool {
        self.bearer.is_none() && self.cookie.is_none() && self.ticket.is_none()
    }
}

/// The token of an `Authorization: Bearer <token>` value, whatever the
/// scheme's case (RFC 9110 §11.1); surrounding spaces are not part of it.
pub(crate) fn bearer_token(authorization: &str) -> Option<&str> {
    let (scheme, token) = authorization
        .trim_start()
        .split_once(' ')
        .unwrap_or((authorization.trim(), ""));
    scheme
        .eq_ignore_ascii_case("bearer")
        .then(|| token.trim_matches(' '))
}

/// The value of cookie `name` in a `Cookie` header (`a=1; name=v; b=2`).
fn cookie_value<'a>(header: &'a str, name: &str) -> Option<&'a str> {
    header.split(';').find_map(|pair| {
        let (key, value) = pair.trim().split_once('=')?;
        (key == name).then(|| value.trim_matches('"'))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn creds(headers: &[(&str, &str)], query: &str) -> Credentials {
        let mut map = HeaderMap::new();
        for (k, v) in headers {
            map.append(
                http::HeaderName::from_bytes(k.as_bytes()).unwrap(),
                v.parse().unwrap(),
            );
        }
        Credentials::from_request(&map, &Query::parse(query).unwrap())
    }

    #[test]
    fn reads_bearer_cookie_and_ticket() {
        let c = creds(&[("authorization", "bEaReR abc")], "");
        assert_eq!(c.token(), Some("abc"));
        let c = creds(&[("cookie", "a=1; pushwire_token=xyz; b=2")], "ticket=t1");
        assert_eq!(c.token(), Some("xyz"));
        assert_eq!(c.ticket.as_deref(), Some("t1"));
        // Browsers over HTTP/2 may split cookies over several headers.
        let c = creds(&[("cookie", "a=1"), ("cookie", "pushwire_token=split")], "");
        assert_eq!(c.token(), Some("split"));
        let c = creds(&[("cookie", "my_pushwire_token=no")], "");
        assert_eq!(c.token(), None);
        let c = creds(&[("authorization", "Basic abc")], "");
        assert!(c.is_empty());
    }

    #[test]
    fn a_token_in_the_url_is_noticed_not_taken() {
        let c = creds(&[], "access_token=abc");
        assert!(c.token_in_url);
        assert_eq!(c.token(), None);
    }

    #[test]
    fn oversize_tokens_are_refused_from_either_place() {
        let big = "a".repeat(MAX_TOKEN_BYTES + 1);
        let header = format!("Bearer {big}");
        let c = creds(&[("authorization", &header)], "");
        assert_eq!((c.problem, c.bearer), (Some(AuthError::TooLarge), None));
        let cookie = format!("pushwire_token={big}");
        let c = creds(&[("cookie", &cookie)], "");
        assert_eq!((c.problem, c.cookie), (Some(AuthError::TooLarge), None));
        let fits = "a".repeat(MAX_TOKEN_BYTES);
        let header = format!("Bearer {fits}");
        let c = creds(&[("authorization", &header)], "");
        assert_eq!((c.problem, c.bearer), (None, Some(fits)));
    }
}
