//! `ReconnectPolicy`: how long to wait before each reconnect attempt, and
//! when to give up.
//!
//! Delays grow exponentially from `initial` by `multiplier` up to `max`.
//! With full jitter (the default) the actual delay is drawn uniformly from
//! zero to that ceiling, so a server restart does not bring every client
//! back in the same millisecond. Pure arithmetic, no browser needed.

use std::time::Duration;

/// How reconnect delays are randomised.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Jitter {
    /// Uniform in `[0, ceiling]` ("full jitter").
    #[default]
    Full,
    /// Exactly the ceiling.
    None,
}

impl Jitter {
    /// The names of the variants, as in the JavaScript option `jitter`.
    pub const NAMES: [&'static str; 2] = [Jitter::Full.name(), Jitter::None.name()];

    /// The variant's name, as in the JavaScript option `jitter`.
    pub const fn name(self) -> &'static str {
        match self {
            Jitter::Full => "full",
            Jitter::None => "none",
        }
    }

    /// The variant named `name`, if it is one.
    pub fn from_name(name: &str) -> Option<Jitter> {
        [Jitter::Full, Jitter::None]
            .into_iter()
            .find(|j| j.name() == name)
    }
}

/// Default first reconnect delay.
pub const DEFAULT_RECONNECT_INTERVAL: Duration = Duration::from_millis(3000);
/// Default largest reconnect delay.
pub const DEFAULT_MAX_RECONNECT_INTERVAL: Duration = Duration::from_millis(30_000);
/// Default growth factor between attempts.
pub const DEFAULT_BACKOFF_MULTIPLIER: f64 = 2.0;
/// Default number of consecutive failed attempts before giving up.
pub const DEFAULT_MAX_RECONNECT_ATTEMPTS: u32 = 5;

/// Capped exponential backoff with optional jitter.
///
/// ```
/// use std::time::Duration;
/// use pushwire_client::{Jitter, ReconnectPolicy};
/// let policy = ReconnectPolicy { jitter: Jitter::None, ..ReconnectPolicy::default() };
/// assert_eq!(policy.ceiling(1), Duration::from_millis(3000));
/// assert_eq!(policy.ceiling(2), Duration::from_millis(6000));
/// assert_eq!(policy.ceiling(9), Duration::from_millis(30_000));
/// assert_eq!(policy.delay(2, 0.5), Duration::from_millis(6000));
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct ReconnectPolicy {
    /// Delay ceiling of the first attempt.
    pub initial: Duration,
    /// Growth factor per attempt (at least 1).
    pub multiplier: f64,
    /// Largest delay ceiling.
    pub max: Duration,
    /// Randomisation.
    pub jitter: Jitter,
    /// Consecutive failed attempts before giving up.
    pub max_attempts: u32,
}

impl Default for ReconnectPolicy {
    fn default() -> Self {
        ReconnectPolicy {
            initial: DEFAULT_RECONNECT_INTERVAL,
            multiplier: DEFAULT_BACKOFF_MULTIPLIER,
            max: DEFAULT_MAX_RECONNECT_INTERVAL,
            jitter: Jitter::Full,
            max_attempts: DEFAULT_MAX_RECONNECT_ATTEMPTS,
        }
    }
}

impl ReconnectPolicy {
    /// The delay ceiling of attempt `attempt` (1-based):
    /// `min(max, initial × multiplier^(attempt-1))`.
    pub fn ceiling(&self, attempt: u32) -> Duration {
        let exponent = attempt.saturating_sub(1).min(1024) as i32;
        let factor = self.multiplier.max(1.0).powi(exponent);
        let ms =
            (self.initial.as_secs_f64() * 1000.0 * factor).min(self.max.as_secs_f64() * 1000.0);
        // Whole milliseconds (timers take no less): `from_secs_f64` costs
        // 0.5 KB of wasm.
        Duration::from_millis(ms.max(0.0) as u64)
    }

    /// The delay before attempt `attempt`, given a uniform random number
    /// `random` in `[0, 1)`.
    pub fn delay(&self, attempt: u32, random: f64) -> Duration {
        let ceiling = self.ceiling(attempt);
        match self.jitter {
            Jitter::None => ceiling,
            Jitter::Full => {
                let ms = ceiling.as_millis() as f64 * random.clamp(0.0, 1.0);
                Duration::from_millis(ms as u64)
            }
        }
    }

    /// Whether attempt `attempt` (1-based) may still be made.
    pub fn allows(&self, attempt: u32) -> bool {
        attempt <= self.max_attempts
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grows_exponentially_up_to_the_cap() {
        let p = ReconnectPolicy {
            initial: Duration::from_millis(100),
            multiplier: 3.0,
            max: Duration::from_millis(2000),
            jitter: Jitter::None,
            max_attempts: 10,
        };
        let ms: Vec<u128> = (1..=5).map(|a| p.delay(a, 0.7).as_millis()).collect();
        assert_eq!(ms, [100, 300, 900, 2000, 2000]);
        assert_eq!(p.ceiling(u32::MAX), Duration::from_millis(2000));
    }

    #[test]
    fn full_jitter_stays_within_zero_and_the_ceiling() {
        let p = ReconnectPolicy::default();
        assert_eq!(p.delay(1, 0.0), Duration::ZERO);
        assert_eq!(p.delay(1, 0.5), Duration::from_millis(1500));
        assert_eq!(p.delay(3, 0.999_999).as_millis(), 11_999);
        assert!(
            p.delay(30, 1.5) <= p.max,
            "random values above 1 are clamped"
        );
    }

    #[test]
    fn gives_up_after_max_attempts() {
        let p = ReconnectPolicy {
            max_attempts: 3,
            ..ReconnectPolicy::default()
        };
        assert!(p.allows(3));
        assert!(!p.allows(4));
    }

    #[test]
    fn a_multiplier_below_one_never_shrinks_delays() {
        let p = ReconnectPolicy {
            multiplier: 0.5,
            jitter: Jitter::None,
            ..ReconnectPolicy::default()
        };
        assert_eq!(p.delay(4, 0.0), p.initial);
    }
}
