//! `POST /api/topics/fuzz` bodies (`pushwire_server::fuzzing::publish_body`),
//! published on one in-memory hub: every body is accepted (202) or refused
//! with a 4xx, never a panic or a 5xx.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|input: &[u8]| {
    let status = pushwire_server::fuzzing::publish_body(input);
    assert!(status == 202 || (400..500).contains(&status), "{status}");
});
