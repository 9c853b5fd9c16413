//! Shared by the behaviour tests: loading the RFC frames in `testdata/`.

#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)] // test code

use std::path::PathBuf;

use bytes::{Bytes, BytesMut};
use msrp::{Decoder, Frame, Limits};

pub(crate) fn path(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("testdata")
        .join(name)
}

/// The bytes of one fixture.
pub(crate) fn raw(name: &str) -> Bytes {
    Bytes::from(std::fs::read(path(name)).unwrap_or_else(|e| panic!("{name}: {e}")))
}

/// One fixture decoded: it must be exactly one frame.
pub(crate) fn frame(name: &str) -> Frame {
    let mut buf = BytesMut::from(&raw(name)[..]);
    let f = Decoder::new(Limits::default())
        .decode(&mut buf)
        .unwrap_or_else(|e| panic!("{name}: {e}"))
        .unwrap_or_else(|| panic!("{name}: incomplete"));
    assert!(buf.is_empty(), "{name}: bytes left over");
    f
}

/// Every fixture file name, sorted.
pub(crate) fn all() -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(path(""))
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .filter(|n| n.ends_with(".msrp"))
        .collect();
    v.sort();
    v
}

/// Fixtures that are not whole frames (RFC 4975 Figure 3 is a snippet
/// without To-Path and From-Path).
pub(crate) const SNIPPETS: &[&str] = &[
    "rfc4975-5.1-fig3-chunk1.msrp",
    "rfc4975-5.1-fig3-chunk2.msrp",
];
