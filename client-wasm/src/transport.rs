//! [`Transport`]: how the client reads the event stream.

/// How the client reads the event stream.
///
/// Both deliver the same events to the same handlers, reconnect on the same
/// policy, resume by id and report the same errors; they differ in what
/// they can send.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Transport {
    /// The browser's `EventSource`: cookies, and tokens turned into
    /// single-use tickets (it cannot send an `Authorization` header).
    #[default]
    EventSource,
    /// A streaming `fetch`, parsed by the protocol's spec-exact parser: it
    /// sends the token as `Authorization: Bearer`.
    Fetch,
}

impl Transport {
    /// The names of the variants, as in the JavaScript option `transport`.
    pub const NAMES: [&'static str; 2] = [Transport::EventSource.name(), Transport::Fetch.name()];

    /// The variant's name, as in the JavaScript option `transport`.
    pub const fn name(self) -> &'static str {
        match self {
            Transport::EventSource => "eventsource",
            Transport::Fetch => "fetch",
        }
    }

    /// The variant named `name`, if it is one.
    pub fn from_name(name: &str) -> Option<Transport> {
        [Transport::EventSource, Transport::Fetch]
            .into_iter()
            .find(|t| t.name() == name)
    }
}
