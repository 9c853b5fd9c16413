//! A UDP request sent twice is one transaction: the TU sees it once, and
//! the retransmission is answered with the same 200 (RFC 3261 §17.2.2).

// Helpers below unwrap like the tests they serve.
#![allow(clippy::unwrap_used)]

mod common;

use std::time::Duration;

use bytes::Bytes;
use common::*;
use sip_msg::SipMessage;
use sip_proto::Transport;
use tokio::net::UdpSocket;

async fn recv(sock: &UdpSocket) -> SipMessage {
    let mut buf = vec![0u8; 65535];
    let n = tokio::time::timeout(Duration::from_secs(5), sock.recv(&mut buf))
        .await
        .unwrap()
        .unwrap();
    SipMessage::parse(Bytes::copy_from_slice(&buf[..n])).unwrap()
}

#[tokio::test]
async fn udp_retransmission_reaches_the_tu_once() {
    let mut srv = start(&[Transport::Udp], |_| {}).await;
    let client = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    client.connect(srv.addr(Transport::Udp)).await.unwrap();
    let req = options(
        "UDP",
        client.local_addr().unwrap(),
        "rtx@test",
        "z9hG4bKrtx",
    );

    client.send(req.as_bytes()).await.unwrap();
    let first = recv(&client).await;
    client.send(req.as_bytes()).await.unwrap();
    let second = recv(&client).await;
    assert_answers(&first, 200, "rtx@test", "z9hG4bKrtx");
    assert_eq!(first.to_bytes(), second.to_bytes(), "same response re-sent");

    let _ = srv.next_request().await;
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert!(
        srv.seen.try_recv().is_err(),
        "the TU saw the retransmission"
    );
    srv.stop().await;
}
