//! An OPTIONS over UDP gets its 200 from the TU, back to the source port
//! (RFC 3581 rport), with the Via stamped and the Call-ID kept.

mod common;

use common::*;
use sip_net::NetStats;
use sip_proto::Transport;
use tokio::net::UdpSocket;

#[tokio::test]
async fn options_over_udp_gets_200() {
    let mut srv = start(&[Transport::Udp], |_| {}).await;
    let server = srv.addr(Transport::Udp);
    let client = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    let local = client.local_addr().unwrap();
    let req = options("UDP", local, "udp-1@test", "z9hG4bKudp1");
    client.send_to(req.as_bytes(), server).await.unwrap();

    let mut buf = vec![0u8; 65535];
    let (n, from) = tokio::time::timeout(
        std::time::Duration::from_secs(5),
        client.recv_from(&mut buf),
    )
    .await
    .unwrap()
    .unwrap();
    assert_eq!(from, server);
    let resp = sip_msg::SipMessage::parse(bytes::Bytes::copy_from_slice(&buf[..n])).unwrap();
    assert_answers(&resp, 200, "udp-1@test", "z9hG4bKudp1");
    // §18.2.1 / RFC 3581: received and rport stamped on the way in.
    assert_eq!(top_via_rport(&resp), Some(local.port()));
    assert_eq!(resp.via().unwrap().received(), Some("127.0.0.1"));

    let (_, msg, peer) = srv.next_request().await;
    assert_eq!(msg.call_id().unwrap(), "udp-1@test");
    assert_eq!(peer.transport, Transport::Udp);
    assert_eq!(peer.remote, local);
    assert_eq!(NetStats::get(&srv.stats.received), 1);
    assert_eq!(NetStats::get(&srv.stats.sent), 1);
    srv.stop().await;
}
