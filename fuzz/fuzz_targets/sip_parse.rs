//! Any bytes, as a datagram and as a stream: parsing, every typed accessor and
//! full validation must never panic, and the stream decoder must never consume
//! bytes when it asks for more.
#![no_main]

use bytes::{Bytes, BytesMut};
use libfuzzer_sys::fuzz_target;
use sip_msg::{Datagram, Frame, HeaderName, SipMessage, StreamDecoder, parse_datagram};

fn exercise(m: &SipMessage) {
    let _ = m.validate();
    let _ = m.via();
    for v in m.vias() {
        let _ = v.map(|v| (v.branch(), v.rport(), v.received(), v.ttl()));
    }
    let _ = m.from().map(|f| (f.tag(), f.addr.display_name()));
    let _ = m.to();
    let _ = m.call_id();
    let _ = m.cseq();
    for c in m.contacts() {
        let _ = c.map(|c| (c.expires(), c.q(), c.instance(), c.reg_id()));
    }
    let _ = m.event();
    let _ = m.subscription_state();
    let _ = m.content_type();
    for (_, _) in m.headers() {}
    let _ = m.header(HeaderName::Other);
}

fuzz_target!(|data: &[u8]| {
    if let Ok(Datagram::Message(m)) = parse_datagram(Bytes::copy_from_slice(data)) {
        exercise(&m);
    }
    let mut dec = StreamDecoder::new(64 * 1024);
    let mut buf = BytesMut::from(data);
    loop {
        let before = buf.len();
        match dec.decode(&mut buf) {
            Ok(Some(Frame::Message(m))) => exercise(&m),
            Ok(Some(_)) => {}
            Ok(None) => {
                assert_eq!(buf.len(), before, "consumed bytes while asking for more");
                break;
            }
            Err(_) => break,
        }
        assert!(buf.len() < before, "a frame consumed nothing");
    }
});
