//! parse → serialize → parse: an untouched message re-serializes byte for byte,
//! and an edited one (canonical form) parses back to the same headers.
#![no_main]

use bytes::Bytes;
use libfuzzer_sys::fuzz_target;
use sip_msg::{HeaderName, SipMessage};

fn same(a: &SipMessage, b: &SipMessage) {
    assert_eq!(a.method_str(), b.method_str());
    assert_eq!(a.request_uri_str(), b.request_uri_str());
    assert_eq!(a.status(), b.status());
    assert_eq!(a.reason(), b.reason());
    let ha: Vec<_> = a.headers().collect();
    let hb: Vec<_> = b.headers().collect();
    assert_eq!(ha, hb);
    assert_eq!(a.body(), b.body());
    assert_eq!(a.validate().is_ok(), b.validate().is_ok());
}

fuzz_target!(|data: &[u8]| {
    let Ok(m) = SipMessage::parse(Bytes::copy_from_slice(data)) else {
        return;
    };
    let wire = m.to_bytes();
    let again = SipMessage::parse(wire.clone()).expect("re-serialized message must parse");
    assert_eq!(again.to_bytes(), wire, "byte-exact round trip");
    same(&m, &again);

    // An edit forces canonical serialization of every header.
    let mut edited = m.clone();
    edited.push_front(HeaderName::Via, "SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bKfuzz");
    let canon = edited.to_bytes();
    let back = SipMessage::parse(canon).expect("canonical message must parse");
    let top = edited.pop_first_value(HeaderName::Via);
    assert_eq!(top.as_deref(), Some("SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bKfuzz"));
    let mut back = back;
    back.pop_first_value(HeaderName::Via);
    same(&edited, &back);
});
