//! The lean HTTP/1.1 path's request head parser
//! (`pushwire_server::fuzzing::request_head`), which checks its own
//! invariants (a served head fits the buffer and the size limit, its path
//! starts with `/`, refusals are 4xx).
//!
//! Also: the verdict never depends on where the bytes stopped arriving. Once
//! a prefix of the input is served or handed to hyper, the whole input (and
//! the head followed by anything else) gets that same verdict; once a prefix
//! is refused, more bytes never make it acceptable. Only prefixes that end
//! a line are tried: a head can complete nowhere else.
#![no_main]

use libfuzzer_sys::fuzz_target;
use pushwire_server::fuzzing::{request_head, HeadVerdict};

/// How many line ends to try as prefixes, to keep a run quick.
const MAX_PREFIXES: usize = 64;

fuzz_target!(|input: &[u8]| {
    let whole = request_head(input);
    if let HeadVerdict::Serve { head_len, .. } = whole {
        let head = &input[..head_len];
        assert_eq!(request_head(head), whole, "the head alone");
        let mut longer = head.to_vec();
        longer.extend_from_slice(b"GET / HTTP/1.1\r\n\r\n");
        assert_eq!(request_head(&longer), whole, "the head and more");
    }
    let line_ends = input
        .iter()
        .enumerate()
        .filter(|&(_, &b)| b == b'\n')
        .map(|(i, _)| i + 1)
        .filter(|&end| end < input.len())
        .take(MAX_PREFIXES);
    for end in line_ends {
        match request_head(&input[..end]) {
            HeadVerdict::Partial => {}
            verdict @ (HeadVerdict::Serve { .. } | HeadVerdict::HandOff) => {
                assert_eq!(whole, verdict, "prefix of {end} bytes");
            }
            HeadVerdict::Refuse(status) => assert!(
                matches!(whole, HeadVerdict::Refuse(_)),
                "a prefix of {end} bytes is refused ({status}), the whole input is {whole:?}"
            ),
        }
    }
});
