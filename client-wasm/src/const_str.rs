//! Concatenation of `&'static str` constants at compile time, so text such
//! as the TypeScript declarations can be built from the crate's (and the
//! protocol's) constants instead of repeating them.

/// The total length of `parts`.
pub(crate) const fn total_len(parts: &[&str]) -> usize {
    let mut len = 0;
    let mut i = 0;
    while i < parts.len() {
        len += parts[i].len();
        i += 1;
    }
    len
}

/// The bytes of `parts`, one after the other; `N` must be their total length.
pub(crate) const fn concat<const N: usize>(parts: &[&str]) -> [u8; N] {
    let mut out = [0u8; N];
    let mut at = 0;
    let mut i = 0;
    while i < parts.len() {
        let bytes = parts[i].as_bytes();
        let mut j = 0;
        while j < bytes.len() {
            out[at] = bytes[j];
            at += 1;
            j += 1;
        }
        i += 1;
    }
    assert!(at == N, "N is not the total length");
    out
}

/// `items` quoted and separated by ` | ` (a TypeScript union of string
/// literals), as parts for [`const_concat!`]; `M` must be `4 × N - 1`.
pub(crate) const fn quoted_union<const N: usize, const M: usize>(
    items: [&'static str; N],
) -> [&'static str; M] {
    assert!(N > 0 && M == 4 * N - 1, "M is not 4 × N - 1");
    let mut out = [""; M];
    let mut i = 0;
    while i < N {
        if i > 0 {
            out[4 * i - 1] = " | ";
        }
        out[4 * i] = "\"";
        out[4 * i + 1] = items[i];
        out[4 * i + 2] = "\"";
        i += 1;
    }
    out
}

/// `const_concat!(a, b, …)`: the constant `&'static str` expressions
/// `a`, `b`, … as one `&'static str`, computed at compile time.
/// `const_concat!(parts = EXPR)` takes the parts as one `&[&str]`.
macro_rules! const_concat {
    (parts = $parts:expr) => {{
        const PARTS: &[&str] = $parts;
        const BYTES: &[u8] =
            &$crate::const_str::concat::<{ $crate::const_str::total_len(PARTS) }>(PARTS);
        match ::core::str::from_utf8(BYTES) {
            Ok(s) => s,
            Err(_) => panic!("not UTF-8"),
        }
    }};
    ($($part:expr),* $(,)?) => {
        $crate::const_str::const_concat!(parts = &[$($part),*])
    };
}
pub(crate) use const_concat;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn concatenates_constants() {
        const NAME: &str = "b";
        const S: &str = const_concat!("a", NAME, "", "c");
        assert_eq!(S, "abc");
        const U: &str = const_concat!(parts = &quoted_union::<2, 7>(["x", "y"]));
        assert_eq!(U, "\"x\" | \"y\"");
    }
}
