//! Query-string parsing with clear 400 errors: each parameter is checked
//! against its named range, and repeated keys (`topic=a&topic=b`) are kept.

use std::convert::Infallible;
use std::ops::RangeInclusive;

use warp::Filter;

use super::error::ApiError;

/// The decoded query string of a request, in order, repeated keys kept.
#[derive(Debug, Clone, Default)]
pub struct Query(Vec<(String, String)>);

/// Extracts the raw query string (empty when there is none).
pub fn raw() -> impl Filter<Extract = (String,), Error = Infallible> + Clone {
    warp::query::raw().or(warp::any().map(String::new)).unify()
}

impl Query {
    /// Decodes a raw query string.
    pub fn parse(raw: &str) -> Result<Self, ApiError> {
        serde_urlencoded::from_str(raw)
            .map(Query)
            .map_err(|e| ApiError::bad_request(format!("invalid query string: {e}")))
    }

    /// The first value of `key`.
    pub fn get(&self, key: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    /// Every value of `key`, in order.
    pub fn all(&self, key: &str) -> Vec<String> {
        self.0
            .iter()
            .filter(|(k, _)| k == key)
            .map(|(_, v)| v.clone())
            .collect()
    }

    /// `key` as an integer within `range`, or `default` when absent.
    pub fn u64_in(
        &self,
        key: &str,
        default: u64,
        range: RangeInclusive<u64>,
    ) -> Result<u64, ApiError> {
        let Some(raw) = self.get(key) else {
            return Ok(default);
        };
        match raw.parse::<u64>() {
            Ok(v) if range.contains(&v) => Ok(v),
            _ => Err(ApiError::bad_request(format!(
                "{key} must be an integer from {} to {}, got {raw:?}",
                range.start(),
                range.end()
            ))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_repeated_keys_and_ranges() {
        let q = Query::parse("topic=a&topic=b%20c&count=5").expect("valid");
        assert_eq!(q.all("topic"), ["a", "b c"]);
        assert_eq!(q.u64_in("count", 1, 1..=10).expect("in range"), 5);
        assert_eq!(q.u64_in("missing", 7, 1..=10).expect("default"), 7);
        let err = q.u64_in("count", 1, 6..=10).expect_err("out of range");
        assert_eq!(
            err.message(),
            "count must be an integer from 6 to 10, got \"5\""
        );
        assert!(Query::parse("count=-1")
            .expect("valid")
            .u64_in("count", 1, 0..=9)
            .is_err());
    }
}
