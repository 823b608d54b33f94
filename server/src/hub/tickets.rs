//! `TicketBook`: the in-memory hub's store of single-use tickets (see
//! `auth/tickets.rs`), bounded by count. Taking a ticket removes it, so it
//! is accepted once; an expired one is as good as unknown.

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use bytes::Bytes;

/// Tickets outstanding, oldest first.
#[derive(Debug)]
pub(crate) struct TicketBook {
    max: usize,
    state: Mutex<Book>,
}

#[derive(Debug, Default)]
struct Book {
    tickets: HashMap<String, (Instant, Bytes)>,
    /// Expiry order for purging; a taken ticket's entry is skipped later.
    by_expiry: VecDeque<(Instant, String)>,
}

impl TicketBook {
    pub(crate) fn new(max: usize) -> TicketBook {
        TicketBook {
            max,
            state: Mutex::new(Book::default()),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Book> {
        // Every mutation is a single insert or remove: a panic elsewhere
        // cannot leave the book inconsistent.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Keeps `value` under `ticket` for `ttl`; `false` when `max` tickets
    /// are outstanding already.
    pub(crate) fn store(&self, ticket: &str, value: Bytes, ttl: Duration) -> bool {
        let now = Instant::now();
        let mut book = self.lock();
        book.purge(now);
        if book.tickets.len() >= self.max {
            return false;
        }
        let expires = now + ttl;
        book.tickets.insert(ticket.to_owned(), (expires, value));
        book.by_expiry.push_back((expires, ticket.to_owned()));
        true
    }

    /// Removes `ticket` and gives its value, unless unknown or expired.
    pub(crate) fn take(&self, ticket: &str) -> Option<Bytes> {
        let now = Instant::now();
        let mut book = self.lock();
        book.purge(now);
        let (expires, value) = book.tickets.remove(ticket)?;
        (expires > now).then_some(value)
    }
}

impl Book {
    /// Drops every ticket expired at `now`. Tickets of one TTL expire in
    /// the order they were stored, so only the front needs looking at; a
    /// shorter-lived ticket (its token expires first) behind a longer one
    /// waits for it, counted against `max` meanwhile.
    fn purge(&mut self, now: Instant) {
        while let Some((expires, _)) = self.by_expiry.front() {
            if *expires > now {
                break;
            }
            if let Some((_, ticket)) = self.by_expiry.pop_front() {
                if self.tickets.get(&ticket).is_some_and(|(e, _)| *e <= now) {
                    self.tickets.remove(&ticket);
                }
            }
        }
    }
}

impl super::Hub {
    /// Keeps a ticket for `ttl` (see [`TicketBook::store`]).
    pub(crate) fn store_ticket(
        &self,
        ticket: &str,
        value: Bytes,
        ttl: Duration,
    ) -> Result<(), super::HubError> {
        if self.shared.tickets.store(ticket, value, ttl) {
            Ok(())
        } else {
            Err(super::HubError::Unavailable(
                "too many tickets outstanding (--max-tickets); retry later".into(),
            ))
        }
    }

    /// Uses up a ticket (see [`TicketBook::take`]).
    pub(crate) fn take_ticket(&self, ticket: &str) -> Option<Bytes> {
        self.shared.tickets.take(ticket)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_ticket_is_taken_once_and_the_book_is_bounded() {
        let book = TicketBook::new(2);
        let ttl = Duration::from_secs(30);
        assert!(book.store("a", Bytes::from_static(b"1"), ttl));
        assert!(book.store("b", Bytes::from_static(b"2"), ttl));
        assert!(!book.store("c", Bytes::from_static(b"3"), ttl), "full");
        assert_eq!(book.take("a"), Some(Bytes::from_static(b"1")));
        assert_eq!(book.take("a"), None, "used");
        assert!(book.store("c", Bytes::from_static(b"3"), ttl));
        assert_eq!(book.take("zzz"), None);
    }

    #[test]
    fn an_expired_ticket_is_unknown_and_frees_its_slot() {
        let book = TicketBook::new(1);
        assert!(book.store("a", Bytes::new(), Duration::ZERO));
        assert_eq!(book.take("a"), None);
        assert!(book.store("b", Bytes::new(), Duration::from_secs(30)));
    }
}
