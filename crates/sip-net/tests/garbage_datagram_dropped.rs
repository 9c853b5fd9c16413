//! A datagram that holds no request is dropped and counted; a bare CRLF
//! keep-alive is ignored. Neither gets an answer.

mod common;

use std::time::Duration;

use common::*;
use sip_net::NetStats;
use sip_proto::Transport;
use tokio::net::UdpSocket;

#[tokio::test]
async fn garbage_is_dropped_and_counted() {
    let srv = start(&[Transport::Udp], |_| {}).await;
    let client = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    client.connect(srv.addr(Transport::Udp)).await.unwrap();
    client
        .send(b"\x16\x03\x01\x00garbage, not SIP")
        .await
        .unwrap();
    client.send(b"\r\n\r\n").await.unwrap();
    // A malformed response is dropped too (never answered).
    client
        .send(b"SIP/2.0 200 OK\r\nVia: nonsense\r\n\r\n")
        .await
        .unwrap();

    let mut buf = [0u8; 2048];
    let got = tokio::time::timeout(Duration::from_millis(300), client.recv(&mut buf)).await;
    assert!(got.is_err(), "garbage was answered");
    assert_eq!(NetStats::get(&srv.stats.dropped_unparseable), 1);
    assert_eq!(NetStats::get(&srv.stats.keepalives), 1);
    assert_eq!(NetStats::get(&srv.stats.dropped_responses), 1);
    assert_eq!(NetStats::get(&srv.stats.received), 0);
    assert_eq!(NetStats::get(&srv.stats.sent), 0);
    srv.stop().await;
}
