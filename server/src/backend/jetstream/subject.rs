//! Topics as NATS subjects, reversibly: one stream holds every topic, each
//! under `<stream>.t.<token>`. A topic may hold `.` (which splits NATS
//! tokens) and `:`; NATS 2.9 also stores `*`, `>` and NUL as literal
//! tokens. So a topic keeps `[A-Za-z0-9_-]` and writes every other byte as
//! `%XX`, which makes it exactly one token and never a wildcard.

/// The subject of `topic` in stream `stream`.
pub(crate) fn subject(stream: &str, topic: &str) -> String {
    let mut out = String::with_capacity(stream.len() + 3 + topic.len() * 3);
    out.push_str(stream);
    out.push_str(".t.");
    for b in topic.bytes() {
        if b.is_ascii_alphanumeric() || b == b'_' || b == b'-' {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// Every topic of stream `stream`: what its subjects match.
pub(crate) fn all_topics(stream: &str) -> String {
    format!("{stream}.t.>")
}

/// The topic of `subject`, if it is one of stream `stream`'s.
pub(crate) fn topic(stream: &str, subject: &str) -> Option<String> {
    let token = subject.strip_prefix(stream)?.strip_prefix(".t.")?;
    let bytes = token.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = std::str::from_utf8(bytes.get(i + 1..i + 3)?).ok()?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    let topic = String::from_utf8(out).ok()?;
    crate::hub::is_valid_topic(&topic).then_some(topic)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_topic_is_one_token_and_comes_back() {
        for t in ["chat", "a.b", "orders:eu-1", "x_y-z", "...", "a:b.c"] {
            let s = subject("PUSHWIRE", t);
            let token = s.strip_prefix("PUSHWIRE.t.").unwrap();
            assert!(!token.contains(['.', '*', '>', ' ']), "{s}");
            assert_eq!(topic("PUSHWIRE", &s).as_deref(), Some(t));
        }
        assert_eq!(subject("S", "a.b:c"), "S.t.a%2Eb%3Ac");
        assert_eq!(topic("S", "S.t.a%2"), None);
        assert_eq!(topic("S", "S.t.a%2Fb"), None, "not a valid topic");
        assert_eq!(topic("S", "T.t.a"), None);
    }
}
