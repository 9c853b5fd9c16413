//! URI parsing and comparison on arbitrary text: no panics, and equivalence is
//! reflexive for whatever parses.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sip_msg::{NameAddr, Uri};

fuzz_target!(|data: &[u8]| {
    let Ok(s) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(u) = Uri::parse(s) {
        assert!(u.equivalent(&u), "not equivalent to itself: {s}");
        assert_eq!(u.as_str(), s);
    }
    let _ = NameAddr::parse(s);
});
