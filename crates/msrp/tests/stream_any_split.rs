//! A connection's bytes arrive in arbitrary pieces. All the RFC frames back to
//! back (with the two Figure 3 snippets, which must be refused, among them)
//! decode to the same frames and errors whether fed whole, one byte at a time,
//! or split at random points; asking for more never consumes anything.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a failure report

mod common;

use bytes::{Bytes, BytesMut};
use msrp::{Decoder, Limits};
use proptest::prelude::*;

/// The stream, and what decoding it whole gives: encoded frames, or `Err(reason)`.
fn stream() -> (Bytes, Vec<Result<Bytes, String>>) {
    let mut s = BytesMut::new();
    for name in common::all() {
        s.extend_from_slice(&common::raw(&name));
    }
    let s = s.freeze();
    let out = feed(&s, &[s.len()]);
    assert_eq!(
        out.iter().filter(|r| r.is_err()).count(),
        common::SNIPPETS.len()
    );
    assert_eq!(out.len(), common::all().len());
    (s, out)
}

/// Feeds `s` in pieces of the given sizes (the rest in one piece at the end).
fn feed(s: &[u8], sizes: &[usize]) -> Vec<Result<Bytes, String>> {
    let mut d = Decoder::new(Limits::default());
    let mut buf = BytesMut::new();
    let mut out = Vec::new();
    let mut pos = 0;
    let mut pieces = sizes.iter().copied().chain(std::iter::once(usize::MAX));
    while pos < s.len() {
        let n = pieces.next().unwrap_or(usize::MAX).min(s.len() - pos);
        buf.extend_from_slice(&s[pos..pos + n]);
        pos += n;
        loop {
            let before = buf.len();
            let discarding = d.is_discarding();
            match d.decode(&mut buf) {
                Ok(Some(f)) => out.push(Ok(f.to_bytes())),
                Ok(None) => {
                    if !discarding && !d.is_discarding() {
                        assert_eq!(buf.len(), before, "consumed bytes while asking for more");
                    }
                    break;
                }
                Err(e) => {
                    assert!(!e.must_close(), "{e}");
                    out.push(Err(e.to_string()));
                }
            }
        }
    }
    assert!(buf.is_empty());
    assert!(!d.is_mid_frame());
    out
}

#[test]
fn one_byte_at_a_time() {
    let (s, whole) = stream();
    assert_eq!(feed(&s, &vec![1; s.len()]), whole);
}

#[test]
fn small_fixed_pieces() {
    let (s, whole) = stream();
    for n in [2, 3, 7, 13, 64, 100, 1000] {
        assert_eq!(feed(&s, &vec![n; s.len() / n + 1]), whole, "pieces of {n}");
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn random_split_points(sizes in proptest::collection::vec(1usize..400, 1..200)) {
        let (s, whole) = stream();
        prop_assert_eq!(feed(&s, &sizes), whole);
    }
}
