//! Responses of a server transaction on UDP go where RFC 3261 §18.2.2 and RFC
//! 3581 §4 say: to `received` with the `rport` value when the client asked for
//! it, else with the sent-by port; over TCP back on the request's flow.

// Helpers below unwrap like the tests they serve.
#![allow(clippy::unwrap_used)]

mod common;

use std::net::SocketAddr;

use bytes::Bytes;
use common::*;
use sip_msg::SipMessage;
use sip_proto::{FlowId, Input, Output, Peer, Transport, stamp_received};

fn via_request(via: &str) -> SipMessage {
    let raw = format!(
        "OPTIONS sip:bob@example.test SIP/2.0\r\nVia: {via}\r\n\
From: <sip:alice@example.test>;tag=a\r\nTo: <sip:bob@example.test>\r\n\
Call-ID: r1\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n"
    );
    SipMessage::parse(Bytes::from(raw)).unwrap()
}

fn response_destination(transport: Transport, via: &str, source: &str) -> Peer {
    let mut net = Net::new(transport, Default::default());
    let source: SocketAddr = source.parse().unwrap();
    let mut msg = via_request(via);
    stamp_received(&mut msg, source).unwrap();
    let peer = Peer::new(transport, source, FlowId(7));
    let key = net
        .input(
            B,
            Input::Received {
                msg: msg.clone(),
                peer,
            },
        )
        .unwrap()
        .unwrap();
    net.respond(B, key, response(&msg, 200));
    net.node(B)
        .log
        .iter()
        .find_map(|e| match &e.output {
            Output::Transmit(t) => Some(t.to),
            _ => None,
        })
        .unwrap()
}

#[test]
fn udp_with_rport_goes_to_the_source_port() {
    let to = response_destination(
        Transport::Udp,
        "SIP/2.0/UDP 10.0.0.5:5060;rport;branch=z9hG4bKq1",
        "203.0.113.9:40001",
    );
    assert_eq!(to.remote, "203.0.113.9:40001".parse().unwrap());
    assert_eq!(to.flow, FlowId(7));
}

#[test]
fn udp_without_rport_goes_to_received_and_the_sent_by_port() {
    let to = response_destination(
        Transport::Udp,
        "SIP/2.0/UDP client.example:5070;branch=z9hG4bKq2",
        "203.0.113.9:40001",
    );
    assert_eq!(to.remote, "203.0.113.9:5070".parse().unwrap());
}

#[test]
fn tcp_goes_back_on_the_same_flow() {
    let to = response_destination(
        Transport::Tcp,
        "SIP/2.0/TCP client.example:5070;branch=z9hG4bKq3",
        "203.0.113.9:40001",
    );
    assert_eq!(
        to,
        Peer::new(
            Transport::Tcp,
            "203.0.113.9:40001".parse().unwrap(),
            FlowId(7)
        )
    );
}
