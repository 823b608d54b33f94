//! `Selector`: which topics a grant or `--public-topics` covers — an exact
//! name, `*` (every topic), or a prefix ending in `*` (`private.*` covers
//! `private.a`, not `privateroom`: the `*` stands for what follows the
//! prefix as written, dot included).

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// One topic selector.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Selector {
    /// `*`: every topic.
    Any,
    /// `prefix*`: every topic starting with `prefix` (and longer than it).
    Prefix(String),
    /// A topic name.
    Exact(String),
}

impl Selector {
    /// Reads a selector; `None` for an empty one or one with a `*` that is
    /// not its last character (a pattern nobody can mean safely).
    ///
    /// ```
    /// use pushwire_server::auth::Selector;
    /// let private = Selector::parse("private.*").unwrap();
    /// assert!(private.matches("private.a"));
    /// assert!(!private.matches("privateroom"));
    /// assert!(!private.matches("private."));
    /// assert!(Selector::parse("*").unwrap().matches("anything"));
    /// assert_eq!(Selector::parse("a*b"), None);
    /// ```
    pub fn parse(text: &str) -> Option<Selector> {
        let text = text.trim();
        match text.strip_suffix('*') {
            _ if text.is_empty() => None,
            Some("") => Some(Selector::Any),
            Some(prefix) if !prefix.contains('*') => Some(Selector::Prefix(prefix.to_owned())),
            Some(_) => None,
            None if text.contains('*') => None,
            None => Some(Selector::Exact(text.to_owned())),
        }
    }

    /// Whether `topic` is covered.
    pub fn matches(&self, topic: &str) -> bool {
        match self {
            Selector::Any => true,
            Selector::Prefix(prefix) => topic.len() > prefix.len() && topic.starts_with(prefix),
            Selector::Exact(name) => name == topic,
        }
    }
}

/// A list of selectors: covers a topic when one of them does.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Selectors(Vec<Selector>);

impl Selectors {
    /// Selectors from a list; the first that does not parse is the error.
    pub fn parse<'a>(items: impl IntoIterator<Item = &'a str>) -> Result<Selectors, String> {
        items
            .into_iter()
            .map(|item| {
                Selector::parse(item).ok_or_else(|| {
                    format!(
                        "{item:?} is not a topic selector: use a topic name, `*`, \
                         or a prefix ending in `*`"
                    )
                })
            })
            .collect::<Result<_, _>>()
            .map(Selectors)
    }

    /// Whether any selector covers `topic`.
    pub fn matches(&self, topic: &str) -> bool {
        self.0.iter().any(|s| s.matches(topic))
    }

    /// Whether there are none (nothing is covered).
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl std::fmt::Display for Selector {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Selector::Any => f.write_str("*"),
            Selector::Prefix(prefix) => write!(f, "{prefix}*"),
            Selector::Exact(name) => f.write_str(name),
        }
    }
}

/// As the list of strings it was read from (a ticket stores its grants so).
impl Serialize for Selectors {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(self.0.iter().map(ToString::to_string))
    }
}

/// In a token's claims: a list of strings. A selector that does not parse
/// covers nothing (it is dropped), so a typo never widens a grant.
impl<'de> Deserialize<'de> for Selectors {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let items = Vec::<String>::deserialize(d)?;
        Ok(Selectors(
            items.iter().filter_map(|s| Selector::parse(s)).collect(),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn selectors_cover_what_they_say_and_nothing_more() {
        let s = Selectors::parse(["news", "user.42.*"]).unwrap();
        assert!(s.matches("news"));
        assert!(!s.matches("news2"));
        assert!(!s.matches("new"));
        assert!(s.matches("user.42.inbox"));
        assert!(!s.matches("user.42"));
        assert!(!s.matches("user.420"));
        assert!(!s.matches("user.4"));
        assert!(Selectors::parse(["a*b"]).is_err());
        assert!(Selectors::parse([""]).is_err());
        assert!(Selectors::parse(["**"]).is_err());
        assert!(!Selectors::default().matches("news"));
    }

    #[test]
    fn a_malformed_selector_in_a_token_covers_nothing() {
        let s: Selectors = serde_json::from_str(r#"["a*b", "*x", "ok"]"#).unwrap();
        assert!(s.matches("ok"));
        assert!(!s.matches("axb"));
        assert!(!s.matches("x"));
        assert!(serde_json::from_str::<Selectors>(r#""*""#).is_err());
        assert_eq!(serde_json::to_string(&s).unwrap(), r#"["ok"]"#);
        let all = Selectors::parse(["*", "p.*", "x"]).unwrap();
        assert_eq!(serde_json::to_string(&all).unwrap(), r#"["*","p.*","x"]"#);
    }
}
