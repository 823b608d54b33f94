//! The routes' query string parser (`pushwire_server::fuzzing::query`) on
//! any UTF-8: it checks what the routes read (topics, `after`, a bounded
//! `limit`) and must never panic.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|input: &[u8]| {
    if let Ok(raw) = std::str::from_utf8(input) {
        pushwire_server::fuzzing::query(raw);
    }
});
