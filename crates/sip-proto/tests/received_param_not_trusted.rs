//! A `received` parameter the client put in its own Via must not steer our
//! responses (RFC 3261 §18.2.1: the server stamps `received` itself; a forged
//! one would reflect responses to a third party).

#![allow(clippy::unwrap_used)] // test code: a panic is a failure report

use std::net::SocketAddr;

use bytes::Bytes;
use sip_msg::SipMessage;
use sip_proto::{ResponseTarget, response_route, stamp_received};

fn request(via: &str) -> SipMessage {
    let raw = format!(
        "OPTIONS sip:example.test SIP/2.0\r\nVia: {via}\r\nFrom: <sip:a@example.test>;tag=1\r\n\
To: <sip:example.test>\r\nCall-ID: r1\r\nCSeq: 1 OPTIONS\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n"
    );
    SipMessage::parse(Bytes::from(raw)).unwrap()
}

#[test]
fn forged_received_is_removed_when_sent_by_is_the_source() {
    let source: SocketAddr = "127.0.0.1:5070".parse().unwrap();
    let mut m = request("SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bKf1;received=127.0.0.9");
    stamp_received(&mut m, source).unwrap();
    let via = m.via().unwrap();
    assert_eq!(via.received(), None);
    assert_eq!(
        response_route(&via).target,
        ResponseTarget::Addr("127.0.0.1:5070".parse().unwrap())
    );
}

#[test]
fn forged_received_is_replaced_by_the_source() {
    let source: SocketAddr = "127.0.0.1:5070".parse().unwrap();
    let mut m = request("SIP/2.0/UDP client.example.test:5070;branch=z9hG4bKf2;received=127.0.0.9");
    stamp_received(&mut m, source).unwrap();
    assert_eq!(m.via().unwrap().received(), Some("127.0.0.1"));
}
