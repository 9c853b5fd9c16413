//! A UDP datagram the kernel refuses is a transport error for its own
//! transaction (RFC 3261 §18.4), also when it is sent in a batch with
//! others (`sendmmsg` stops short at the refused one; the rest still go).

// Helpers below unwrap like the tests they serve.
#![allow(clippy::unwrap_used)]

mod common;

use std::net::SocketAddr;
use std::time::Duration;

use bytes::Bytes;
use common::*;
use sip_msg::SipMessage;
use sip_net::{NO_FLOW, NetStats};
use sip_proto::{Peer, Transport};
use tokio::net::UdpSocket;

fn message(target: SocketAddr, branch: &str) -> SipMessage {
    let raw = format!(
        "MESSAGE sip:peer@{target} SIP/2.0\r\n\
Via: SIP/2.0/UDP 127.0.0.1;branch={branch}\r\n\
Max-Forwards: 70\r\n\
From: <sip:server@127.0.0.1>;tag=s1\r\n\
To: <sip:peer@127.0.0.1>\r\n\
Call-ID: out-{branch}@test\r\n\
CSeq: 1 MESSAGE\r\n\
Content-Length: 0\r\n\r\n"
    );
    SipMessage::parse(Bytes::from(raw)).unwrap()
}

#[tokio::test]
async fn refused_datagram_fails_its_transaction_only() {
    let mut srv = start(&[Transport::Udp], |_| {}).await;
    let good_peer = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    let good = good_peer.local_addr().unwrap();
    // An IPv6 destination on the server's only (IPv4) socket: the kernel
    // refuses it (EAFNOSUPPORT) and nothing reaches the wire.
    let bad: SocketAddr = "[::1]:5060".parse().unwrap();
    let h = srv.handle.clone();
    // Queued in one driver wake-up each; what matters is the key.
    let bad_key = h
        .send_request(
            message(bad, "z9hG4bKbad"),
            Peer::new(Transport::Udp, bad, NO_FLOW),
        )
        .await
        .unwrap();
    let good_key = h
        .send_request(
            message(good, "z9hG4bKgood"),
            Peer::new(Transport::Udp, good, NO_FLOW),
        )
        .await
        .unwrap();

    let mut buf = vec![0u8; 65535];
    let (n, from) = tokio::time::timeout(Duration::from_secs(5), good_peer.recv_from(&mut buf))
        .await
        .unwrap()
        .unwrap();
    let req = SipMessage::parse(Bytes::copy_from_slice(&buf[..n])).unwrap();
    assert_eq!(req.call_id().unwrap(), "out-z9hG4bKgood@test");
    good_peer.send_to(&answer(&req, 200), from).await.unwrap();

    let (mut failed, mut answered) = (None, None);
    while failed.is_none() || answered.is_none() {
        match srv.next_seen().await {
            Seen::TransportError(k) => failed = Some(k),
            Seen::Response { key, msg } => {
                assert_eq!(msg.status(), Some(200));
                answered = Some(key);
            }
            _ => {}
        }
    }
    assert_eq!(failed, Some(bad_key));
    assert_eq!(answered, Some(good_key));
    assert!(NetStats::get(&srv.stats.send_failures) >= 1);
    srv.stop().await;
}
