//! [`Timer`]: the pending reconnect, a browser timeout cancelled when
//! dropped (gloo's `Timeout`, counted in the live counts).

use gloo_timers::callback::Timeout;

use crate::live::Live;

/// A pending timeout, cancelled when dropped.
#[derive(Debug)]
#[must_use = "the timer is cancelled when dropped"]
pub(crate) struct Timer {
    _timeout: Timeout,
    _live: Live,
}

impl Timer {
    /// Calls `callback` after `delay_ms` milliseconds, unless dropped first.
    pub(crate) fn new(delay_ms: u32, callback: impl FnOnce() + 'static) -> Self {
        Timer {
            _timeout: Timeout::new(delay_ms, callback),
            _live: Live::timer(),
        }
    }
}
