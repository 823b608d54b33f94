//! Event ids of the hub: `<epoch>-<seq>`.
//!
//! The epoch is random per server start, so an id from an earlier run is
//! recognised as such instead of being mistaken for a position in this run;
//! `seq` counts every event published on this server, across all topics, so
//! one id orders events of every topic a subscription follows. Clients treat
//! ids as opaque strings.

use std::fmt;

use pushwire_protocol::ResetReason;

/// Random tag of one server run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Epoch(u32);

impl Epoch {
    /// A fresh random epoch.
    pub fn random() -> Self {
        Epoch(rand::random())
    }

    /// The epoch of a backend's stream, from its identity (its creation
    /// time in nanoseconds): the same on every node and across restarts,
    /// different once the stream is recreated.
    pub fn derived(identity: i128) -> Self {
        let x = identity as u128;
        let folded = (x ^ (x >> 32) ^ (x >> 64) ^ (x >> 96)) as u32;
        Epoch(folded)
    }

    #[cfg(test)]
    pub fn from_raw(raw: u32) -> Self {
        Epoch(raw)
    }
}

impl fmt::Display for Epoch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:08x}", self.0)
    }
}

/// A position in this server's event sequence.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EventId {
    pub epoch: Epoch,
    pub seq: u64,
}

impl fmt::Display for EventId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}-{}", self.epoch, self.seq)
    }
}

impl EventId {
    /// Reads an id a client sent back and checks it belongs to `epoch`.
    /// The error is the reason the resume cannot be honoured.
    pub fn parse_for(raw: &str, epoch: Epoch) -> Result<u64, ResetReason> {
        let (e, seq) = raw.split_once('-').ok_or(ResetReason::Malformed)?;
        let valid_epoch = e.len() == 8 && e.bytes().all(|b| b.is_ascii_hexdigit());
        let valid_seq =
            !seq.is_empty() && seq.len() <= 20 && seq.bytes().all(|b| b.is_ascii_digit());
        if !valid_epoch || !valid_seq {
            return Err(ResetReason::Malformed);
        }
        let e = u32::from_str_radix(e, 16).map_err(|_| ResetReason::Malformed)?;
        let seq: u64 = seq.parse().map_err(|_| ResetReason::Malformed)?;
        if Epoch(e) != epoch {
            return Err(ResetReason::UnknownEpoch);
        }
        Ok(seq)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_classifies() {
        let epoch = Epoch::from_raw(0xdead_beef);
        let id = EventId { epoch, seq: 42 }.to_string();
        assert_eq!(id, "deadbeef-42");
        assert_eq!(EventId::parse_for(&id, epoch), Ok(42));
        assert_eq!(
            EventId::parse_for("deadbeee-42", epoch),
            Err(ResetReason::UnknownEpoch)
        );
        for bad in [
            "",
            "42",
            "deadbeef-",
            "deadbeef-x",
            "xyz-1",
            "deadbeef-1-2",
            "deadbeef--1",
            "deadbeef-99999999999999999999999",
        ] {
            assert_eq!(
                EventId::parse_for(bad, epoch),
                Err(ResetReason::Malformed),
                "{bad}"
            );
        }
    }
}
