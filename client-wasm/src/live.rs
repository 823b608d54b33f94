//! Live counts of the browser resources clients hold — listeners, timers
//! and clients — so tests (and curious users) can check that nothing leaks.
//! Each resource holds a [`Live`] guard that counts it while it exists.

use std::cell::Cell;
use std::thread::LocalKey;

thread_local! {
    static LISTENERS: Cell<usize> = const { Cell::new(0) };
    static TIMERS: Cell<usize> = const { Cell::new(0) };
    static CLIENTS: Cell<usize> = const { Cell::new(0) };
}

/// How many listeners, timers and clients are alive right now.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct LiveCounts {
    /// Event listeners registered with the browser.
    pub listeners: usize,
    /// Pending reconnect timers.
    pub timers: usize,
    /// Clients not yet dropped.
    pub clients: usize,
}

/// The current live counts.
pub fn live_counts() -> LiveCounts {
    LiveCounts {
        listeners: LISTENERS.with(Cell::get),
        timers: TIMERS.with(Cell::get),
        clients: CLIENTS.with(Cell::get),
    }
}

/// Counts one resource for as long as it exists.
#[derive(Debug)]
#[must_use = "the resource is counted only while the guard lives"]
pub(crate) struct Live(&'static LocalKey<Cell<usize>>);

impl Live {
    fn count(counter: &'static LocalKey<Cell<usize>>) -> Live {
        counter.with(|c| c.set(c.get() + 1));
        Live(counter)
    }

    /// Counts an event listener.
    pub(crate) fn listener() -> Live {
        Live::count(&LISTENERS)
    }

    /// Counts a timer.
    pub(crate) fn timer() -> Live {
        Live::count(&TIMERS)
    }

    /// Counts a client.
    pub(crate) fn client() -> Live {
        Live::count(&CLIENTS)
    }
}

impl Drop for Live {
    fn drop(&mut self) {
        self.0.with(|c| c.set(c.get().saturating_sub(1)));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn guards_count_while_they_live() {
        let before = live_counts();
        let guards = [Live::listener(), Live::listener(), Live::timer()];
        let client = Live::client();
        let during = live_counts();
        assert_eq!(during.listeners, before.listeners + 2);
        assert_eq!(during.timers, before.timers + 1);
        assert_eq!(during.clients, before.clients + 1);
        drop(guards);
        drop(client);
        assert_eq!(live_counts(), before);
    }
}
