//! multipart/mixed and multipart/related bodies (RFC 2046 §5.1, RFC 2387):
//! input is `boundary \0 body`. Whatever parses must not panic in its
//! accessors, and rebuilding its parts with the builder must give a body
//! that parses back to the same parts (when the builder accepts them).
#![no_main]

use bytes::Bytes;
use libfuzzer_sys::fuzz_target;
use sip_msg::multipart::{Multipart, MultipartBuilder};

fuzz_target!(|data: &[u8]| {
    let (boundary, body) = match data.iter().position(|&b| b == 0) {
        Some(i) => (&data[..i], &data[i + 1..]),
        None => return,
    };
    let Ok(boundary) = std::str::from_utf8(boundary) else {
        return;
    };
    let body = Bytes::copy_from_slice(body);
    let Ok(m) = Multipart::parse(&body, boundary) else {
        return;
    };
    assert!(!m.parts.is_empty());
    let _ = m.root(None);
    let _ = m.root(Some("<x@y>"));
    let mut b = MultipartBuilder::mixed(boundary);
    for p in &m.parts {
        let _ = (p.content_type(), p.content_id(), p.content_transfer_encoding());
        let headers: Vec<(&str, &str)> = p.headers.iter().map(|(n, v)| (*n, v.as_ref())).collect();
        b = b.part(&headers, p.body.clone());
    }
    let Ok((_ct, rebuilt)) = b.build() else {
        return;
    };
    let again = Multipart::parse(&rebuilt, boundary).expect("own output parses");
    assert_eq!(again.parts.len(), m.parts.len());
    for (a, p) in again.parts.iter().zip(&m.parts) {
        assert_eq!(a.body, p.body, "part body changed");
        assert_eq!(a.headers.len(), p.headers.len());
    }
});
